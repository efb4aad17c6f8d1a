package main

import (
	"context"

	"github.com/wharfhq/wharf/jobs"
)

// The workload controllers and the garbage collector run in `wharf server`
// and `wharf up`, on the process's shared informers.
func init() {
	registerComponent(Component{Name: "controllers", Roles: []Role{RoleServer},
		Run: func(ctx context.Context, env *Env) error {
			return jobs.Run(ctx, env.Client, jobs.Options{Factory: env.Informers, Logger: env.Logger})
		}})
}
