package container_test

import (
	"context"
	"path"
	"strconv"
	"testing"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/container"
	"github.com/wharfhq/wharf/runtimes/runtimetest"
)

func TestConformance(t *testing.T) {
	e := newEnv(t)
	spec := func(args ...string) *runtimes.Spec { return e.spec(args...) }
	runtimetest.Run(t, runtimetest.Harness{
		New: func(t *testing.T, root string) runtimes.Runtime {
			rt, err := container.New(root, e.images, container.WithCgroupParent("/"+cgroupParent))
			if err != nil {
				t.Fatal(err)
			}
			// The suite leaves containers behind; their mounts would keep
			// the TempDir from being removed. (Runs before the TempDir's
			// cleanup, which was registered first.) Errors are for the
			// stale view of a runtime whose root was reopened since.
			t.Cleanup(func() {
				ctx := context.Background()
				list, _ := rt.List(ctx)
				for _, in := range list {
					_ = rt.Stop(ctx, in.ID, 0)
					_ = rt.Remove(ctx, in.ID)
				}
			})
			return rt
		},
		Exit: func(code int) *runtimes.Spec { return spec("exit", strconv.Itoa(code)) },
		Echo: func(args []string, env []runtimes.EnvVar) *runtimes.Spec {
			s := spec(append([]string{"rtecho"}, args...)...)
			s.Env = env
			return s
		},
		Sleep: func() *runtimes.Spec { return spec("sleep", "1h") },
		WriteFile: func(hostDir, containerDir, name, content string) *runtimes.Spec {
			s := spec("write", path.Join(containerDir, name), content)
			s.Mounts = []runtimes.Mount{{HostPath: hostDir, ContainerPath: containerDir}}
			return s
		},
	})
}
