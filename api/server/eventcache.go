package server

import (
	"reflect"
	"sync"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/storage"
)

// eventCache shares the decoding of store events between watches: every
// watch of a prefix receives the same events, and without it each one
// decodes every event (and its previous value) itself, so that the cost
// of one write grows with the number of watches, selectors or not (a
// node agent watches Pods with its own spec.nodeName selector).
//
// Objects it returns are shared and must not be changed; watchEvent copies
// one before setting its resourceVersion.
type eventCache struct {
	mu   sync.Mutex
	objs map[eventCacheKey]types.Object
	ring []eventCacheKey // insertion order, for eviction
	next int
}

type eventCacheKey struct {
	key string
	rev int64
}

// eventCacheSize is how many decoded values are kept (a few events per
// revision: value and previous value).
const eventCacheSize = 4096

func newEventCache() *eventCache {
	return &eventCache{objs: make(map[eventCacheKey]types.Object, eventCacheSize),
		ring: make([]eventCacheKey, eventCacheSize)}
}

// decode returns kv decoded as an object of r, shared.
func (c *eventCache) decode(r *types.Resource, kv storage.KV) (types.Object, error) {
	k := eventCacheKey{key: kv.Key, rev: kv.ModRevision}
	c.mu.Lock()
	obj, ok := c.objs[k]
	c.mu.Unlock()
	if ok {
		return obj, nil
	}
	obj, err := decodeStored(r, kv)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if have, ok := c.objs[k]; ok {
		return have, nil
	}
	if old := c.ring[c.next]; old.key != "" {
		delete(c.objs, old)
	}
	c.ring[c.next] = k
	c.next = (c.next + 1) % len(c.ring)
	c.objs[k] = obj
	return obj, nil
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
