package agent_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/internal/testutil"
	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/container"
	"github.com/wharfhq/wharf/runtimes/image"
	"github.com/wharfhq/wharf/runtimes/image/imagetest"
)

// appBinary builds testdata/app (a static Go program) once per test binary.
var appBinary = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "wharf-agent-app-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "app")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "./testdata/app")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build fixture: %v\n%s", err, b)
	}
	return os.ReadFile(out)
})

// ctrEnv is a real container runtime with the fixture image pushed to an
// in-process registry.
type ctrEnv struct {
	rt    *container.Runtime
	ref   string
	root  string
	store *image.Store
}

// newCtrEnv needs root (namespaces, cgroups, mounts).
func newCtrEnv(t testing.TB) *ctrEnv {
	t.Helper()
	testutil.RequireRoot(t)
	bin, err := appBinary()
	if err != nil {
		t.Fatal(err)
	}
	host := imagetest.Registry(t)
	ref := host + "/agent-app:v1"
	cfg := v1.ConfigFile{OS: "linux", Architecture: runtime.GOARCH, Config: v1.Config{Entrypoint: []string{"/app"}}}
	imagetest.Push(t, ref, imagetest.Image(t, cfg, imagetest.Layer(t,
		imagetest.File("app", string(bin), 0o755), imagetest.Dir("tmp"), imagetest.Dir("etc"),
		imagetest.File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0o644),
	)))
	store, err := image.NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	rt := newContainerRuntime(t, root, store)
	return &ctrEnv{rt: rt, ref: ref, root: root, store: store}
}

// newContainerRuntime opens (or reopens, adopting) a runtime on root.
func newContainerRuntime(t testing.TB, root string, store *image.Store) *container.Runtime {
	t.Helper()
	rt, err := container.New(root, store, container.WithCgroupParent("/wharf-agent-test"))
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// cleanupContainers stops and removes whatever the test left behind.
func cleanupContainers(t testing.TB, rt runtimes.Runtime) {
	t.Cleanup(func() {
		ctx := context.Background()
		infos, _ := rt.List(ctx)
		for _, i := range infos {
			_ = rt.Stop(ctx, i.ID, 0)
			_ = rt.Remove(ctx, i.ID)
		}
	})
}

// ctrPod is a Pod of the fixture image, one container per args list.
func (c *ctrEnv) pod(name string, policy types.RestartPolicy, containers ...[]string) *types.Pod {
	p := pod(name, policy, containers...)
	for i := range p.Spec.Containers {
		p.Spec.Containers[i].Image = c.ref
	}
	return p
}

func TestContainerRunToCompletion(t *testing.T) {
	c := newCtrEnv(t)
	e := newEnv(t)
	cleanupContainers(t, c.rt)
	e.startAgent(t, dataDir(t), map[string]runtimes.Runtime{"container": c.rt}, nil)

	e.create(t, c.pod("ok", types.RestartPolicyNever, []string{"exit", "0"}))
	e.create(t, c.pod("bad", types.RestartPolicyNever, []string{"exit", "7"}))
	p := e.waitPod(t, "ok", "Succeeded", phase(types.PodSucceeded))
	cs := p.Status.ContainerStatuses[0]
	if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0 || cs.State.Terminated.Reason != "Completed" ||
		!strings.HasPrefix(cs.ContainerID, "container://") || cs.ImageID == "" {
		t.Errorf("ok: %+v", cs)
	}
	p = e.waitPod(t, "bad", "Failed", phase(types.PodFailed))
	cs = p.Status.ContainerStatuses[0]
	if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 7 || cs.State.Terminated.Reason != "Error" {
		t.Errorf("bad: %+v", cs)
	}
}
