// Package jobs runs the workload controllers: every kind that owns Pods
// (ReplicaSet, Deployment, Job, CronJob, DaemonSet, StatefulSet, the
// autoscaler) and the garbage collector. Each controller lives in its own
// package on the scaffolding of jobs/controller; this file only lists them
// and runs them together.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/jobs/cronjob"
	"github.com/wharfhq/wharf/jobs/daemonset"
	"github.com/wharfhq/wharf/jobs/deployment"
	"github.com/wharfhq/wharf/jobs/gc"
	"github.com/wharfhq/wharf/jobs/hpa"
	"github.com/wharfhq/wharf/jobs/job"
	"github.com/wharfhq/wharf/jobs/replicaset"
	"github.com/wharfhq/wharf/jobs/statefulset"
	"github.com/wharfhq/wharf/sdk"
)

// ErrUnknownController is returned for a name in Options.Disabled that no
// controller has.
var ErrUnknownController = errors.New("unknown controller")

// Options configure Run.
type Options struct {
	// Factory shares informers with the other components of the process
	// (`wharf up`); a new factory over the client is used when nil.
	Factory *sdk.InformerFactory
	// Logger receives the controllers' messages (slog.Default() when nil).
	Logger *slog.Logger
	// Workers is the number of keys each controller reconciles at once
	// (default 5).
	Workers int
	// Disabled names controllers not to run (see Names).
	Disabled []string
}

// newFunc builds one controller.
type newFunc func(cc *controller.Context) (controller.Runner, error)

// adapt turns a package's New into a newFunc.
func adapt[T controller.Runner](f func(cc *controller.Context) (T, error)) newFunc {
	return func(cc *controller.Context) (controller.Runner, error) { return f(cc) }
}

// controllers is the registry of every controller Run starts: one line
// each, in the order they are built.
var controllers = []struct {
	name string
	new  newFunc
}{
	{replicaset.Name, adapt(replicaset.New)},
	{deployment.Name, adapt(deployment.New)},
	{gc.Name, adapt(gc.New)},
	{job.Name, adapt(job.New)},
	{cronjob.Name, adapt(cronjob.New)},
	{statefulset.Name, adapt(statefulset.New)},
	{daemonset.Name, adapt(daemonset.New)},
	{hpa.Name, adapt(hpa.New)},
}

// Names returns the names of all controllers, in the order Run builds them.
func Names() []string {
	out := make([]string, len(controllers))
	for i, c := range controllers {
		out[i] = c.name
	}
	return out
}

// Run builds every controller not disabled, starts the informers they
// asked for, and runs them until ctx ends. It returns an error only when a
// controller cannot be built.
func Run(ctx context.Context, client *sdk.Client, opts Options) error {
	for _, d := range opts.Disabled {
		if !slices.Contains(Names(), d) {
			return fmt.Errorf("disabled controller %q: %w (have %v)", d, ErrUnknownController, Names())
		}
	}
	f := opts.Factory
	own := f == nil
	if own {
		f = sdk.NewInformerFactory(client)
	}
	cc := &controller.Context{Client: client, Factory: f, Logger: opts.Logger, Workers: opts.Workers}
	var runners []controller.Runner
	for _, c := range controllers {
		if slices.Contains(opts.Disabled, c.name) {
			continue
		}
		r, err := c.new(cc)
		if err != nil {
			return fmt.Errorf("controller %s: %w", c.name, err)
		}
		runners = append(runners, r)
	}
	f.Start(ctx)
	var wg sync.WaitGroup
	for _, r := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = r.Run(ctx) // fails only when ctx ends before the caches sync
		}()
	}
	wg.Wait()
	if own {
		f.Wait()
	}
	return nil
}
