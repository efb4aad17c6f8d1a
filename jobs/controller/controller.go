// Package controller is the scaffolding every workload controller in jobs/
// is built on: a level-triggered reconcile loop over "namespace/name" keys
// fed by shared informers, with per-key retry back-off and N workers
// (Controller); expectations so that a controller does not act again on a
// cache that does not yet show its own creates and deletes (Expectations);
// adoption and release of dependents by controllerRef (Claim); Pod
// readiness and availability; and the pod-template-hash (ComputeHash).
//
// A Pod-owning controller is wired like jobs/replicaset:
//
//	inf := cc.Factory.Informer(ownerRes, sdk.InformerOptions{Indexers: controller.ClaimIndexers()})
//	pods := cc.Factory.Informer(podRes, sdk.InformerOptions{Indexers: controller.ClaimIndexers()})
//	c.Controller = controller.New(cc, Name, c.sync) // sync(ctx, "ns/name") error
//	c.Watch(inf)                                    // owner events enqueue their key
//	c.WaitFor(pods)
//	pods.AddEventHandler(&controller.DependentHandler[*types.X]{Controller: c.Controller, ...})
//
// and its sync reads the owner from the cache, claims Candidates with a
// RefManager, acts when Expectations are satisfied, and writes status.
package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

// ErrNotSynced is returned by Run when ctx ends before the informers have
// loaded their first list.
var ErrNotSynced = errors.New("informer caches not synced")

// Context is what a controller is built from: the API client, the shared
// informer factory (so that every controller of a process watches each
// resource once), and options.
type Context struct {
	// Client talks to the API server.
	Client *sdk.Client
	// Factory hands out the shared informers; the manager starts it after
	// every controller has asked for its informers.
	Factory *sdk.InformerFactory
	// Logger receives the controllers' messages (slog.Default() when nil).
	Logger *slog.Logger
	// Workers is the number of keys each controller reconciles at once
	// (default 5).
	Workers int
}

// Log returns the context's logger, named for one controller.
func (c *Context) Log(name string) *slog.Logger {
	l := c.Logger
	if l == nil {
		l = slog.Default()
	}
	return l.With("controller", name)
}

// WorkerCount returns Workers, or its default.
func (c *Context) WorkerCount() int {
	if c.Workers <= 0 {
		return 5
	}
	return c.Workers
}

// Runner is a started controller: Run blocks until ctx ends.
type Runner interface {
	Run(ctx context.Context) error
}

// ReconcileFunc brings the object named by key ("namespace/name") to its
// desired state. It reads from informer caches, is called again after an
// error (with back-off), and must be safe for concurrent calls on
// different keys.
type ReconcileFunc func(ctx context.Context, key string) error

// Controller runs a ReconcileFunc over a work queue fed by informers.
type Controller struct {
	name      string
	queue     *sdk.Queue
	reconcile ReconcileFunc
	workers   int
	logger    *slog.Logger
	informers []*sdk.Informer
	recorder  *Recorder
}

var _ Runner = (*Controller)(nil)

// New returns a controller named name that runs reconcile with cc's
// worker count. Feed it with Watch, Enqueue or Queue.
func New(cc *Context, name string, reconcile ReconcileFunc) *Controller {
	logger := cc.Log(name)
	return &Controller{
		name:      name,
		queue:     sdk.NewQueue(),
		reconcile: reconcile,
		workers:   cc.WorkerCount(),
		logger:    logger,
		recorder:  newRecorder(cc.Client, name+"-controller", logger),
	}
}

// Recorder returns the controller's event recorder; its events are
// written while Run runs.
func (c *Controller) Recorder() *Recorder { return c.recorder }

// Name returns the controller's name.
func (c *Controller) Name() string { return c.name }

// Queue returns the controller's work queue (for AddAfter and tests).
func (c *Controller) Queue() *sdk.Queue { return c.queue }

// Logger returns the controller's logger.
func (c *Controller) Logger() *slog.Logger { return c.logger }

// Enqueue adds obj's key.
func (c *Controller) Enqueue(obj types.Object) { c.queue.Add(sdk.KeyFunc(obj)) }

// EnqueueAfter adds obj's key after d.
func (c *Controller) EnqueueAfter(obj types.Object, d time.Duration) {
	c.queue.AddAfter(sdk.KeyFunc(obj), d)
}

// WaitFor makes Run wait for inf's first list before reconciling.
func (c *Controller) WaitFor(inf *sdk.Informer) {
	c.informers = append(c.informers, inf)
}

// Watch enqueues the key of every object of inf that is added, changed or
// deleted (the controller's primary resource), and waits for inf to sync.
func (c *Controller) Watch(inf *sdk.Informer) {
	c.WaitFor(inf)
	inf.AddEventHandler(sdk.EnqueueHandler(c.queue))
}

// Run waits for the informers, then reconciles until ctx ends.
func (c *Controller) Run(ctx context.Context) error {
	for _, inf := range c.informers {
		if err := inf.WaitForSync(ctx); err != nil {
			return fmt.Errorf("controller %s: %w: %w", c.name, ErrNotSynced, err)
		}
	}
	c.logger.Debug("controller started", "workers", c.workers)
	evCtx, stopEvents := context.WithCancel(ctx)
	evDone := make(chan struct{})
	go func() {
		defer close(evDone)
		c.recorder.run(evCtx)
	}()
	defer func() {
		stopEvents()
		<-evDone
	}()
	c.queue.Run(ctx, c.workers, func(ctx context.Context, key string) error {
		err := c.reconcile(ctx, key)
		switch {
		case err == nil || ctx.Err() != nil:
		case sdk.IsConflict(err):
			// A write raced the cache (often our own previous write):
			// usual, retried at once from the newer state.
			c.logger.Debug("reconcile conflict, will retry", "key", key, "err", err)
		default:
			c.logger.Warn("reconcile failed, will retry", "key", key, "retries", c.queue.NumRequeues(key), "err", err)
		}
		return err
	})
	return nil
}
