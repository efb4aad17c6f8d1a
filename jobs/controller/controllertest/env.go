// Package controllertest runs controllers in tests against a real API
// server (api/server over Badger in t.TempDir, behind httptest), with no
// agents: tests drive Pod statuses themselves.
package controllertest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/server/servertest"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/sdk"
)

// Env is an API server for one test.
type Env struct {
	T      testing.TB
	Client *sdk.Client
	URL    string
}

// NewEnv starts an API server that stops at the end of the test.
func NewEnv(t testing.TB) *Env {
	t.Helper()
	return NewEnvWith(t, nil)
}

// NewEnvWith is NewEnv with wrap in front of the API handler (to fail or
// observe requests); a nil wrap is NewEnv.
func NewEnvWith(t testing.TB, wrap func(http.Handler) http.Handler) *Env {
	t.Helper()
	srv := servertest.Start(t, servertest.Options{Wrap: wrap})
	return &Env{T: t, Client: srv.Client, URL: srv.URL}
}

// Ctx returns a context ended at the end of the test.
func (e *Env) Ctx() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	e.T.Cleanup(cancel)
	return ctx
}

// Build makes the controllers under test from a controller.Context.
type Build func(cc *controller.Context) ([]controller.Runner, error)

// Controller is the Build of the one controller newC makes, newC being a
// controller package's New: controllertest.Controller(replicaset.New).
func Controller[C controller.Runner](newC func(cc *controller.Context) (C, error)) Build {
	return func(cc *controller.Context) ([]controller.Runner, error) {
		c, err := newC(cc)
		if err != nil {
			return nil, err
		}
		return []controller.Runner{c}, nil
	}
}

// WithOptions is the Build of the one controller newC makes with opts,
// newC being a controller package's NewWithOptions.
func WithOptions[C controller.Runner, O any](newC func(cc *controller.Context, opts O) (C, error), opts O) Build {
	return Controller(func(cc *controller.Context) (C, error) { return newC(cc, opts) })
}

// Builds is the Build of the controllers of all of bs, in order.
func Builds(bs ...Build) Build {
	return func(cc *controller.Context) ([]controller.Runner, error) {
		var all []controller.Runner
		for _, b := range bs {
			rs, err := b(cc)
			if err != nil {
				return nil, err
			}
			all = append(all, rs...)
		}
		return all, nil
	}
}

// Running is a set of controllers started by Start.
type Running struct {
	// Factory is the controllers' informer factory: a test can wait for
	// their caches to hold the objects it made.
	Factory *sdk.InformerFactory
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	once    sync.Once
}

// Stop stops the controllers and their informers and waits for them.
func (r *Running) Stop() {
	r.once.Do(func() {
		r.cancel()
		r.wg.Wait()
	})
}

// Start builds controllers with a fresh informer factory, starts them and
// stops them at the end of the test (or at Stop: a test may start them
// again to check that a restart is harmless).
func (e *Env) Start(build Build) *Running {
	e.T.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := sdk.NewInformerFactory(e.Client)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cc := &controller.Context{Client: e.Client, Factory: f, Logger: logger, Workers: 4}
	runners, err := build(cc)
	if err != nil {
		cancel()
		e.T.Fatalf("build controllers: %v", err)
	}
	r := &Running{Factory: f, cancel: cancel}
	f.Start(ctx)
	for _, c := range runners {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			_ = c.Run(ctx) // returns when ctx ends
		}()
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		<-ctx.Done()
		f.Wait()
	}()
	e.T.Cleanup(r.Stop)
	return r
}

// Eventually polls cond until it is true, failing the test after 30s
// (a generous bound for a loaded 2-core machine, not a timing
// assertion). cond's error is reported when the bound passes.
func (e *Env) Eventually(what string, cond func() (bool, error)) {
	e.T.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var lastErr error
	for {
		ok, err := cond()
		if ok {
			return
		}
		lastErr = err
		if time.Now().After(deadline) {
			e.T.Fatalf("%s: not true after 30s (last error: %v)", what, lastErr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Pods lists the Pods of namespace matching the label selector string.
func (e *Env) Pods(ns, selector string) []types.Pod {
	e.T.Helper()
	l, err := sdk.Typed[*types.Pod](e.Client).Namespace(ns).List(context.Background(), sdk.ListOptions{LabelSelector: selector})
	if err != nil {
		e.T.Fatalf("list pods: %v", err)
	}
	out := make([]types.Pod, 0, len(l.Items))
	for _, p := range l.Items {
		out = append(out, *p)
	}
	return out
}

// LivePods lists the Pods of namespace matching the label selector string
// that are not being deleted.
func (e *Env) LivePods(ns, selector string) []types.Pod {
	e.T.Helper()
	var out []types.Pod
	for _, p := range e.Pods(ns, selector) {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

// MarkReady sets a Pod Running and Ready (as an agent would) through the
// status subresource, retrying on conflicts.
func (e *Env) MarkReady(ns, name string) {
	e.T.Helper()
	if err := e.markReady(ns, name); err != nil {
		e.T.Fatal(err)
	}
}

// MarkAllReady marks every non-ready Pod of ns matching selector ready and
// returns how many it marked.
func (e *Env) MarkAllReady(ns, selector string) int {
	e.T.Helper()
	n, err := e.TryMarkAllReady(ns, selector)
	if err != nil {
		e.T.Fatal(err)
	}
	return n
}

// TryMarkAllReady is MarkAllReady returning its error, for goroutines
// other than the test's.
func (e *Env) TryMarkAllReady(ns, selector string) (int, error) {
	l, err := sdk.Typed[*types.Pod](e.Client).Namespace(ns).List(context.Background(), sdk.ListOptions{LabelSelector: selector})
	if err != nil {
		return 0, fmt.Errorf("list pods: %w", err)
	}
	n := 0
	for _, p := range l.Items {
		if p.DeletionTimestamp == nil && !controller.IsPodReady(p) {
			if err := e.markReady(ns, p.Name); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

func (e *Env) markReady(ns, name string) error {
	pods := sdk.Typed[*types.Pod](e.Client).Namespace(ns)
	_, err := TryUpdateStatus(context.Background(), pods, name, func(p *types.Pod) {
		now := types.Now()
		SetReady(p, now)
		p.Status.StartTime = &now
	})
	if sdk.IsNotFound(err) {
		return nil // deleted meanwhile: nothing to mark
	}
	if err != nil {
		return fmt.Errorf("pod in namespace %q: %w", ns, err)
	}
	return nil
}

// SetReady sets p's phase Running and its Ready condition true since now,
// as an agent reports a started Pod.
func SetReady(p *types.Pod, now types.Time) {
	p.Status.Phase = types.PodRunning
	p.Status.Conditions = []types.PodCondition{{Type: types.PodReady, Status: types.ConditionTrue, LastTransitionTime: now}}
}
