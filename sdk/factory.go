package sdk

import (
	"context"
	"sync"

	"github.com/wharfhq/wharf/api/types"
)

// InformerFactory shares informers between the components of one process
// (`wharf up` runs the scheduler, the controllers and the agent together):
// asking twice for the same resource, namespace and selectors returns the
// same informer, so each is listed and watched once.
type InformerFactory struct {
	c *Client

	mu        sync.Mutex
	informers map[informerKey]*Informer
	started   map[informerKey]bool
	wg        sync.WaitGroup
}

type informerKey struct {
	group, name, namespace, labels, fields string
}

// NewInformerFactory returns a factory of informers over c.
func NewInformerFactory(c *Client) *InformerFactory {
	return &InformerFactory{c: c, informers: map[informerKey]*Informer{}, started: map[informerKey]bool{}}
}

// Informer returns the shared informer for res and the options' namespace
// and selectors, creating it if needed. opts.Indexers are added to it
// (an indexer name already present is kept as it is). Informers created
// after Start run at the next Start.
func (f *InformerFactory) Informer(res *types.Resource, opts InformerOptions) *Informer {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := informerKey{res.Group, res.Name, opts.Namespace, opts.LabelSelector, opts.FieldSelector}
	if inf, ok := f.informers[k]; ok {
		for name, fn := range opts.Indexers {
			_ = inf.AddIndexer(name, fn) // an existing name is kept
		}
		return inf
	}
	inf := NewInformer(f.c, res, opts)
	f.informers[k] = inf
	return inf
}

// Start runs every informer not yet started until ctx ends.
func (f *InformerFactory) Start(ctx context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, inf := range f.informers {
		if f.started[k] {
			continue
		}
		f.started[k] = true
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			_ = inf.Run(ctx) // Run fails only when already running
		}()
	}
}

// WaitForSync waits until every started informer has synced, or ctx ends.
func (f *InformerFactory) WaitForSync(ctx context.Context) error {
	f.mu.Lock()
	var infs []*Informer
	for k, inf := range f.informers {
		if f.started[k] {
			infs = append(infs, inf)
		}
	}
	f.mu.Unlock()
	for _, inf := range infs {
		if err := inf.WaitForSync(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Wait blocks until every started informer has returned (after the
// context given to Start has ended).
func (f *InformerFactory) Wait() { f.wg.Wait() }
