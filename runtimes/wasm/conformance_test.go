package wasm

import (
	"path"
	"strconv"
	"testing"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/runtimetest"
)

func TestConformance(t *testing.T) {
	app := "file://" + goApp
	runtimetest.Run(t, runtimetest.Harness{
		New: func(t *testing.T, root string) runtimes.Runtime {
			r, err := New(root, WithCompilationCache(sharedCache))
			if err != nil {
				t.Fatal(err)
			}
			return r
		},
		Exit: func(code int) *runtimes.Spec {
			return &runtimes.Spec{Image: app, Args: []string{"exit", strconv.Itoa(code)}}
		},
		Echo: func(args []string, env []runtimes.EnvVar) *runtimes.Spec {
			return &runtimes.Spec{Image: app, Args: append([]string{"echo"}, args...), Env: env}
		},
		Sleep: func() *runtimes.Spec { return &runtimes.Spec{Image: app, Args: []string{"sleep"}} },
		WriteFile: func(hostDir, containerDir, name, content string) *runtimes.Spec {
			return &runtimes.Spec{Image: app, Args: []string{"write", path.Join(containerDir, name), content},
				Mounts: []runtimes.Mount{{HostPath: hostDir, ContainerPath: containerDir}}}
		},
	})
}
