package server

import (
	"reflect"
	"sync"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/storage"
)

// eventCache shares the work of turning store events into watch events
// between watches: every watch of a prefix receives the same store events,
// and without it each one decodes every event (and its previous value) and
// encodes what it sends itself, so that the cost of one write grows with
// the number of watches, selectors or not (a node agent watches Pods with
// its own spec.nodeName selector).
//
// What it returns is shared and must not be changed; watchEvent copies an
// object before setting its resourceVersion.
type eventCache struct {
	objs  ringCache[types.Object]
	lines ringCache[[]byte]
}

// eventCacheKey names the value of a key at a revision; typ, for an
// encoded line, is the watch event type (ADDED and MODIFIED carry the
// value at rev, DELETED the previous one, at rev).
type eventCacheKey struct {
	key string
	rev int64
	typ string
}

// eventCacheSize is how many decoded values and encoded lines are kept.
const eventCacheSize = 4096

func newEventCache() *eventCache {
	return &eventCache{objs: newRingCache[types.Object](eventCacheSize), lines: newRingCache[[]byte](eventCacheSize)}
}

// decode returns kv decoded as an object of r, shared.
func (c *eventCache) decode(r *types.Resource, kv storage.KV) (types.Object, error) {
	return c.objs.get(eventCacheKey{key: kv.Key, rev: kv.ModRevision}, func() (types.Object, error) {
		return decodeStored(r, kv)
	})
}

// line returns the encoded watch event line of (key, rev, typ), encoding
// it with enc the first time, shared.
func (c *eventCache) line(key string, rev int64, typ string, enc func() ([]byte, error)) ([]byte, error) {
	return c.lines.get(eventCacheKey{key: key, rev: rev, typ: typ}, enc)
}

// ringCache keeps the last size values it computed.
type ringCache[V any] struct {
	mu   sync.Mutex
	m    map[eventCacheKey]V
	ring []eventCacheKey // insertion order, for eviction
	next int
}

func newRingCache[V any](size int) ringCache[V] {
	return ringCache[V]{m: make(map[eventCacheKey]V, size), ring: make([]eventCacheKey, size)}
}

// get returns the value of k, computing it with compute when absent (outside
// the lock: two callers may both compute it; the first stored wins).
func (c *ringCache[V]) get(k eventCacheKey, compute func() (V, error)) (V, error) {
	c.mu.Lock()
	v, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := compute()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if have, ok := c.m[k]; ok {
		return have, nil
	}
	if old := c.ring[c.next]; old.key != "" {
		delete(c.m, old)
	}
	c.ring[c.next] = k
	c.next = (c.next + 1) % len(c.ring)
	c.m[k] = v
	return v, nil
}

// shallowCopy returns a copy of obj whose own fields (ObjectMeta's
// resourceVersion included) may be set without touching obj; maps and
// slices stay shared.
func shallowCopy(obj types.Object) types.Object {
	v := reflect.ValueOf(obj)
	c := reflect.New(v.Type().Elem())
	c.Elem().Set(v.Elem())
	return c.Interface().(types.Object)
}
