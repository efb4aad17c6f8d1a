package main

import (
	"context"

	"github.com/wharfhq/wharf/sched"
)

// The scheduler runs in `wharf server` and `wharf up`, on the process's
// shared informers, configured by --scheduler-config (default plugins
// when absent).
func init() {
	registerComponent(Component{Name: "scheduler", Roles: []Role{RoleServer},
		Run: func(ctx context.Context, env *Env) error {
			s, err := sched.New(env.Client, env.SchedulerConfig,
				sched.WithLogger(env.Logger), sched.WithInformerFactory(env.Informers))
			if err != nil {
				return err
			}
			return s.Run(ctx)
		}})
}
