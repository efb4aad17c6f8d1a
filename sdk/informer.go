package sdk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wharfhq/wharf/api/types"
)

// EventHandler is told about changes to an informer's cache. Calls for one
// handler are made in order from one goroutine of its own, so a slow handler
// delays only itself, never the watch loop or other handlers. Objects are
// shared with the cache: do not mutate them.
type EventHandler interface {
	OnAdd(obj types.Object)
	OnUpdate(oldObj, newObj types.Object)
	// OnDelete gets the last state the cache held (after a relist that
	// found an object gone, that may be older than its final state).
	OnDelete(obj types.Object)
}

// HandlerFuncs adapts functions to an EventHandler; nil funcs are skipped.
type HandlerFuncs struct {
	AddFunc    func(obj types.Object)
	UpdateFunc func(oldObj, newObj types.Object)
	DeleteFunc func(obj types.Object)
}

var _ EventHandler = HandlerFuncs{}

// OnAdd implements EventHandler.
func (h HandlerFuncs) OnAdd(obj types.Object) {
	if h.AddFunc != nil {
		h.AddFunc(obj)
	}
}

// OnUpdate implements EventHandler.
func (h HandlerFuncs) OnUpdate(oldObj, newObj types.Object) {
	if h.UpdateFunc != nil {
		h.UpdateFunc(oldObj, newObj)
	}
}

// OnDelete implements EventHandler.
func (h HandlerFuncs) OnDelete(obj types.Object) {
	if h.DeleteFunc != nil {
		h.DeleteFunc(obj)
	}
}

// EnqueueHandler returns a handler that adds the "ns/name" key of every
// changed object to q: the usual wiring of a level-triggered controller.
func EnqueueHandler(q *Queue) EventHandler {
	add := func(obj types.Object) { q.Add(KeyFunc(obj)) }
	return HandlerFuncs{
		AddFunc:    add,
		UpdateFunc: func(_, obj types.Object) { add(obj) },
		DeleteFunc: add,
	}
}

// KeyFunc returns an object's cache and queue key: "namespace/name", or
// "name" for a cluster-scoped object.
func KeyFunc(obj types.Object) string {
	m := obj.GetObjectMeta()
	if m.Namespace == "" {
		return m.Name
	}
	return m.Namespace + "/" + m.Name
}

// SplitKey splits a KeyFunc key into namespace ("" when cluster-scoped)
// and name.
func SplitKey(key string) (namespace, name string) {
	if ns, n, ok := strings.Cut(key, "/"); ok {
		return ns, n
	}
	return "", key
}

// InformerOptions select what an informer caches.
type InformerOptions struct {
	// Namespace limits the cache to one namespace; "" caches all.
	Namespace string
	// LabelSelector and FieldSelector filter on the server (string forms,
	// e.g. FieldSelector "spec.nodeName=node-1" for an agent).
	LabelSelector string
	FieldSelector string
	// Indexers are added before the informer starts (see AddIndexer).
	Indexers map[string]IndexFunc
	// PageSize is the list page size (default 500).
	PageSize int64
	// Logger receives watch and relist failures (default slog.Default()).
	Logger *slog.Logger
}

// Back-off between failed list-and-watch rounds.
const (
	relistBackoffBase = 100 * time.Millisecond
	relistBackoffMax  = 30 * time.Second
)

// Watch lifetime asked from the server, spread so many informers do not
// all re-watch at once: [watchTimeoutMin, 2*watchTimeoutMin).
const watchTimeoutMin = 5 * time.Minute

// errRelist asks the run loop to list again at once (the watch said 410).
var errRelist = errors.New("resource version too old, relisting")

// Informer keeps a local cache of one resource in step with the server:
// it lists, watches from the list's resourceVersion, resumes the watch when
// the server ends it, and relists when the watch is too old (410) or breaks
// (with back-off). It calls event handlers on changes and answers reads
// from memory through its Lister and indexes.
//
// Lock order: Informer.mu, then a handlerQueue's mu.
type Informer struct {
	rc     *ResourceClient
	opts   InformerOptions
	logger *slog.Logger

	mu       sync.RWMutex
	items    map[string]types.Object
	indexers map[string]IndexFunc
	indices  map[string]map[string]map[string]struct{} // index -> value -> keys
	handlers []*handlerQueue
	running  context.Context // nil until Run; handler goroutines use it
	wg       sync.WaitGroup  // handler goroutines
	rv       string

	syncedOnce sync.Once
	synced     chan struct{}
	lists      int // completed lists, for tests and metrics
}

// NewInformer returns an informer for res; start it with Run.
func NewInformer(c *Client, res *types.Resource, opts InformerOptions) *Informer {
	if opts.PageSize <= 0 {
		opts.PageSize = 500
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	inf := &Informer{
		rc:       c.Resource(res).Namespace(opts.Namespace),
		opts:     opts,
		logger:   logger.With("resource", res.Name),
		items:    map[string]types.Object{},
		indexers: map[string]IndexFunc{},
		indices:  map[string]map[string]map[string]struct{}{},
		synced:   make(chan struct{}),
	}
	for name, fn := range opts.Indexers {
		inf.indexers[name] = fn
		inf.indices[name] = map[string]map[string]struct{}{}
	}
	return inf
}

// Resource returns the resource the informer caches.
func (i *Informer) Resource() *types.Resource { return i.rc.res }

// AddEventHandler registers h. A handler added after the cache has items
// first gets an OnAdd for each of them.
func (i *Informer) AddEventHandler(h EventHandler) {
	i.mu.Lock()
	defer i.mu.Unlock()
	q := newHandlerQueue(h)
	for _, key := range sortedKeys(i.items) {
		q.push(notification{newObj: i.items[key]})
	}
	i.handlers = append(i.handlers, q)
	if i.running != nil {
		i.startHandler(q)
	}
}

// startHandler runs q's goroutine; i.mu is held.
func (i *Informer) startHandler(q *handlerQueue) {
	i.wg.Add(1)
	go func() {
		defer i.wg.Done()
		q.run(i.running)
	}()
}

// HasSynced reports whether the first list has been loaded into the cache.
func (i *Informer) HasSynced() bool {
	select {
	case <-i.synced:
		return true
	default:
		return false
	}
}

// WaitForSync blocks until the first list is in the cache, or ctx ends
// (then it returns ctx's error).
func (i *Informer) WaitForSync(ctx context.Context) error {
	select {
	case <-i.synced:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the %s cache to sync: %w", i.rc.res.Name, ctx.Err())
	}
}

// LastSyncResourceVersion returns the resourceVersion the cache is at.
func (i *Informer) LastSyncResourceVersion() string {
	i.mu.RLock()
	defer i.mu.RUnlock()
	return i.rv
}

// Run lists and watches until ctx ends, then stops the handler goroutines
// and returns nil. Run it once.
func (i *Informer) Run(ctx context.Context) error {
	i.mu.Lock()
	if i.running != nil {
		i.mu.Unlock()
		return fmt.Errorf("informer for %s: already running", i.rc.res.Name)
	}
	i.running = ctx
	for _, q := range i.handlers {
		i.startHandler(q)
	}
	i.mu.Unlock()
	defer i.wg.Wait()

	backoff := relistBackoffBase
	for ctx.Err() == nil {
		healthy, err := i.listAndWatch(ctx)
		if ctx.Err() != nil {
			break
		}
		if healthy {
			backoff = relistBackoffBase
		}
		if errors.Is(err, errRelist) {
			i.logger.Debug("relisting", "reason", err)
			continue
		}
		i.logger.Warn("list and watch failed; relisting after back-off", "err", err, "backoff", backoff)
		// Jitter spreads the relists of many informers after a server restart.
		wait := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		backoff = min(2*backoff, relistBackoffMax)
	}
	return nil
}

// listAndWatch lists, replaces the cache, then watches and resumes until
// an error. healthy says a watch delivered events or ended cleanly, so the
// back-off can start again from its base.
func (i *Informer) listAndWatch(ctx context.Context) (healthy bool, err error) {
	list, err := i.rc.ListAll(ctx, ListOptions{
		LabelSelector: i.opts.LabelSelector,
		FieldSelector: i.opts.FieldSelector,
		Limit:         i.opts.PageSize,
	})
	if err != nil {
		if IsGone(err) { // a continue token outlived the history
			return false, fmt.Errorf("%w: %w", errRelist, err)
		}
		return false, fmt.Errorf("list %s: %w", i.rc.res.Name, err)
	}
	i.replace(list.Items, list.ResourceVersion)
	i.syncedOnce.Do(func() { close(i.synced) })

	for {
		rv := i.LastSyncResourceVersion()
		timeout := watchTimeoutMin + rand.N(watchTimeoutMin)
		w, err := i.rc.Watch(ctx, ListOptions{
			LabelSelector:       i.opts.LabelSelector,
			FieldSelector:       i.opts.FieldSelector,
			ResourceVersion:     rv,
			AllowWatchBookmarks: true,
			TimeoutSeconds:      int64(timeout / time.Second),
		})
		if err != nil {
			if IsGone(err) {
				return healthy, fmt.Errorf("%w: %w", errRelist, err)
			}
			return healthy, fmt.Errorf("watch %s from %s: %w", i.rc.res.Name, rv, err)
		}
		for ev := range w.Events() {
			i.apply(ev)
			healthy = true
		}
		err = w.Err()
		w.Stop()
		if ctx.Err() != nil {
			return healthy, nil
		}
		if err == nil {
			healthy = true
		}
		if IsGone(err) {
			return healthy, fmt.Errorf("%w: %w", errRelist, err)
		}
		if err != nil {
			return healthy, fmt.Errorf("watch %s from %s: %w", i.rc.res.Name, rv, err)
		}
		// The server ended the watch cleanly: resume from where we are.
	}
}

// replace makes the cache hold exactly items, telling handlers the
// difference: adds, updates (resourceVersion changed) and deletes.
func (i *Informer) replace(items []types.Object, rv string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	fresh := make(map[string]types.Object, len(items))
	for _, obj := range items {
		fresh[KeyFunc(obj)] = obj
	}
	for _, key := range sortedKeys(i.items) {
		if _, ok := fresh[key]; !ok {
			old := i.items[key]
			i.store(key, nil)
			i.notify(notification{oldObj: old, deleted: true})
		}
	}
	for _, obj := range items {
		key := KeyFunc(obj)
		old, ok := i.items[key]
		if ok && old.GetObjectMeta().ResourceVersion == obj.GetObjectMeta().ResourceVersion {
			continue
		}
		i.store(key, obj)
		i.notify(notification{oldObj: old, newObj: obj})
	}
	i.rv = rv
	i.lists++
}

// apply folds one watch event into the cache.
func (i *Informer) apply(ev Event[types.Object]) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if rv := ev.Object.GetObjectMeta().ResourceVersion; rv != "" {
		i.rv = rv
	}
	key := KeyFunc(ev.Object)
	old := i.items[key]
	switch ev.Type {
	case types.Added, types.Modified:
		i.store(key, ev.Object)
		i.notify(notification{oldObj: old, newObj: ev.Object})
	case types.Deleted:
		if old == nil {
			return // never seen: nothing to forget
		}
		i.store(key, nil)
		i.notify(notification{oldObj: ev.Object, deleted: true})
	}
}

// notify queues n for every handler; i.mu is held.
func (i *Informer) notify(n notification) {
	for _, q := range i.handlers {
		q.push(n)
	}
}

// store puts obj under key (nil removes it) and updates the indexes; i.mu
// is held.
func (i *Informer) store(key string, obj types.Object) {
	if old, ok := i.items[key]; ok {
		for name, fn := range i.indexers {
			i.unindex(name, fn, key, old)
		}
	}
	if obj == nil {
		delete(i.items, key)
		return
	}
	i.items[key] = obj
	for name, fn := range i.indexers {
		i.index(name, fn, key, obj)
	}
}

func (i *Informer) index(name string, fn IndexFunc, key string, obj types.Object) {
	idx := i.indices[name]
	for _, v := range fn(obj) {
		set := idx[v]
		if set == nil {
			set = map[string]struct{}{}
			idx[v] = set
		}
		set[key] = struct{}{}
	}
}

func (i *Informer) unindex(name string, fn IndexFunc, key string, obj types.Object) {
	idx := i.indices[name]
	for _, v := range fn(obj) {
		delete(idx[v], key)
		if len(idx[v]) == 0 {
			delete(idx, v)
		}
	}
}

// AddIndexer adds a named index over the cache (also after Run: it is
// built from the current items). Adding a name twice is an error.
func (i *Informer) AddIndexer(name string, fn IndexFunc) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if _, ok := i.indexers[name]; ok {
		return fmt.Errorf("informer for %s: indexer %q already exists", i.rc.res.Name, name)
	}
	i.indexers[name] = fn
	i.indices[name] = map[string]map[string]struct{}{}
	for key, obj := range i.items {
		i.index(name, fn, key, obj)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// notification is one change for a handler: an add (oldObj nil), an
// update, or a delete (deleted, oldObj is the object).
type notification struct {
	oldObj, newObj types.Object
	deleted        bool
}

// handlerQueue buffers notifications for one handler without bound, so
// pushing never blocks the informer.
type handlerQueue struct {
	h    EventHandler
	mu   sync.Mutex
	buf  []notification
	wake chan struct{}
}

func newHandlerQueue(h EventHandler) *handlerQueue {
	return &handlerQueue{h: h, wake: make(chan struct{}, 1)}
}

func (q *handlerQueue) push(n notification) {
	q.mu.Lock()
	q.buf = append(q.buf, n)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// run calls the handler for each notification until ctx ends.
func (q *handlerQueue) run(ctx context.Context) {
	for {
		q.mu.Lock()
		if len(q.buf) == 0 {
			q.buf = nil // let a large drained buffer go
			q.mu.Unlock()
			select {
			case <-q.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		n := q.buf[0]
		q.buf[0] = notification{}
		q.buf = q.buf[1:]
		q.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		switch {
		case n.deleted:
			q.h.OnDelete(n.oldObj)
		case n.oldObj == nil:
			q.h.OnAdd(n.newObj)
		default:
			q.h.OnUpdate(n.oldObj, n.newObj)
		}
	}
}
