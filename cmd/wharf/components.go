package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/wharfhq/wharf/sched"
	"github.com/wharfhq/wharf/sdk"
)

// Role says in which processes a component runs.
type Role int

const (
	// RoleServer components (scheduler, controllers) run in `wharf server`
	// and `wharf up`.
	RoleServer Role = iota + 1
	// RoleAgent components (the node agent) run in `wharf agent` and
	// `wharf up`.
	RoleAgent
)

// Env is what a component gets from the process that runs it.
type Env struct {
	// DataDir is the process's data directory; a component keeps its own
	// state in DataDir/<component name>.
	DataDir string
	// APIURL is the API server's URL ("http://127.0.0.1:6443").
	APIURL string
	// Client talks to the API server.
	Client *sdk.Client
	// Informers is shared by every component of the process: ask it for
	// informers rather than making your own, then call Informers.Start.
	Informers *sdk.InformerFactory
	// Logger is the process logger, already tagged with the component name.
	Logger *slog.Logger
	// NodeName names this machine's Node (agent components).
	NodeName string
	// Cluster is the process's serf membership and cluster flags (see
	// agent.go); nil when the process runs none.
	Cluster *Cluster
	// SchedulerConfig configures the scheduler (--scheduler-config); the
	// zero Config is the default plugin set.
	SchedulerConfig sched.Config
}

// Component is one long-running part of a process. Run blocks until ctx
// ends (then returns nil) or the component fails; a failure stops the
// whole process.
type Component struct {
	Name  string
	Roles []Role
	Run   func(ctx context.Context, env *Env) error
}

// components are the registered components, in registration order.
var components []Component

// registerComponent adds a component. Each component registers itself
// from an init function in a file of its own in this package, e.g.
// component_scheduler.go:
//
//	func init() {
//		registerComponent(Component{Name: "scheduler", Roles: []Role{RoleServer},
//			Run: func(ctx context.Context, env *Env) error {
//				s, err := sched.New(env.Client, sched.Config{})
//				if err != nil {
//					return err
//				}
//				return s.Run(ctx)
//			}})
//	}
func registerComponent(c Component) {
	components = append(components, c)
}

// runComponents runs every registered component having one of roles, each
// in its own goroutine, until ctx ends or one fails; a failure cancels the
// others and is returned once they have all returned.
func runComponents(ctx context.Context, env Env, roles ...Role) error {
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		if env.Informers != nil {
			env.Informers.Wait() // informers started by the components
		}
	}()
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for _, c := range components {
		if !slices.ContainsFunc(c.Roles, func(r Role) bool { return slices.Contains(roles, r) }) {
			continue
		}
		cenv := env
		cenv.Logger = env.Logger.With("component", c.Name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			cenv.Logger.Info("starting")
			if err := c.Run(ctx, &cenv); err != nil && ctx.Err() == nil {
				once.Do(func() { firstErr = fmt.Errorf("%s: %w", c.Name, err) })
				cancel()
			}
		}()
	}
	wg.Wait()
	return firstErr
}
