package container_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/wharfhq/wharf/internal/testutil"
	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/container"
	"github.com/wharfhq/wharf/runtimes/image"
	"github.com/wharfhq/wharf/runtimes/image/imagetest"
)

func TestMain(m *testing.M) {
	container.Init() // the re-executed container init and log relay never return
	if os.Getenv(agentEnv) != "" {
		os.Exit(shortLivedAgent())
	}
	code := m.Run()
	// The per-run parent cgroups are empty once every test has removed its
	// containers.
	parents, _ := filepath.Glob("/sys/fs/cgroup/*/" + cgroupParent)
	for _, p := range append(parents, "/sys/fs/cgroup/"+cgroupParent) {
		_ = os.Remove(p)
	}
	os.Exit(testutil.CheckLeaks(code, "wharf/runtimes/container."))
}

// agentEnv, when set in the environment of this test binary, makes it a
// short-lived agent that starts one container and exits: a real agent
// restart for TestAdoptAfterAgentExit. Its value is root, images root,
// image ref, container id and cgroup parent, separated by newlines.
const agentEnv = "WHARF_CONTAINER_TEST_AGENT"

func shortLivedAgent() int {
	f := strings.Split(os.Getenv(agentEnv), "\n")
	if len(f) != 5 {
		fmt.Fprintln(os.Stderr, "bad", agentEnv)
		return 2
	}
	ctx := context.Background()
	images, err := image.NewStore(f[1])
	if err == nil {
		var rt *container.Runtime
		rt, err = container.New(f[0], images, container.WithCgroupParent("/"+f[4]))
		if err == nil {
			err = rt.Create(ctx, f[3], &runtimes.Spec{Image: f[2], Args: []string{"trap"}})
		}
		if err == nil {
			err = rt.Start(ctx, f[3])
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "agent:", err)
		return 1
	}
	return 0
}

// appBinary builds testdata/app (a static Go program) once per test binary.
var appBinary = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "wharf-app-")
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

// appConfig is the fixture image's config: entrypoint /app, an env
// variable and a working dir.
func appConfig() v1.ConfigFile {
	return v1.ConfigFile{OS: "linux", Architecture: runtime.GOARCH, Config: v1.Config{
		Entrypoint: []string{"/app"},
		Cmd:        []string{"exit", "0"},
		Env:        []string{"FROM_IMAGE=yes", "OVERRIDE=image"},
		WorkingDir: "/work",
	}}
}

// appImage is the fixture image: /app plus the dirs it needs, then any
// further layers.
func appImage(t testing.TB, cfg v1.ConfigFile, more ...v1.Layer) v1.Image {
	t.Helper()
	bin, err := appBinary()
	if err != nil {
		t.Fatal(err)
	}
	base := imagetest.Layer(t,
		imagetest.File("app", string(bin), 0o755),
		imagetest.Dir("work"), imagetest.Dir("etc"), imagetest.Dir("tmp"),
		imagetest.File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n", 0o644),
		imagetest.File("etc/group", "root:x:0:\nnogroup:x:65534:\n", 0o644),
	)
	return imagetest.Image(t, cfg, append([]v1.Layer{base}, more...)...)
}

// env is one test's runtime, image store and pushed fixture image.
type env struct {
	rt     *container.Runtime
	images *image.Store
	root   string
	ref    string // the fixture image in the in-process registry
	host   string // the registry
}

func newEnv(t *testing.T) *env { return newEnvTB(t) }

func newEnvTB(t testing.TB) *env {
	t.Helper()
	testutil.RequireRoot(t)
	host := imagetest.Registry(t)
	ref := host + "/app:v1"
	imagetest.Push(t, ref, appImage(t, appConfig()))
	images, err := image.NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	e := &env{images: images, root: root, ref: ref, host: host}
	e.rt = e.newRuntime(t)
	return e
}

// cgroupParent holds this test process's containers' cgroups (relative to
// each hierarchy's root), so that concurrent or crashed runs do not meet.
var cgroupParent = fmt.Sprintf("wharf-test-%d", os.Getpid())

// newRuntime opens a Runtime on e's root, as a (restarted) agent would.
func (e *env) newRuntime(t testing.TB, opts ...container.Option) *container.Runtime {
	t.Helper()
	rt, err := container.New(e.root, e.images, append(opts, container.WithCgroupParent("/"+cgroupParent))...)
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// spec is a spec for the fixture image running app with args.
func (e *env) spec(args ...string) *runtimes.Spec {
	return &runtimes.Spec{Image: e.ref, Args: args}
}

// create pulls and creates id, removing it when the test ends.
func (e *env) create(t *testing.T, id string, s *runtimes.Spec) {
	t.Helper()
	ctx := context.Background()
	if err := e.rt.Pull(ctx, s, nil); err != nil {
		t.Fatalf("Pull: %v", err)
	}
	if err := e.rt.Create(ctx, id, s); err != nil {
		t.Fatalf("Create %q: %v", id, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := e.rt.Inspect(ctx, id); err != nil {
			return // removed by the test
		}
		_ = e.rt.Stop(ctx, id, 0)
		if err := e.rt.Remove(ctx, id); err != nil {
			t.Errorf("cleanup Remove %q: %v", id, err)
		}
	})
}

// run creates, starts and waits for id.
func (e *env) run(t *testing.T, id string, s *runtimes.Spec) runtimes.ExitStatus {
	t.Helper()
	e.create(t, id, s)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.rt.Start(ctx, id); err != nil {
		t.Fatalf("Start %q: %v", id, err)
	}
	st, err := e.rt.Wait(ctx, id)
	if err != nil {
		t.Fatalf("Wait %q: %v", id, err)
	}
	return st
}

// logs reads id's whole log (following until the container has exited).
func (e *env) logs(t *testing.T, id string, opts runtimes.LogOptions) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	opts.Follow = true
	rc, err := e.rt.Logs(ctx, id, opts)
	if err != nil {
		t.Fatalf("Logs %q: %v", id, err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, rc); err != nil {
		t.Fatalf("Logs %q: read: %v", id, err)
	}
	return buf.String()
}

// waitLog follows id's log until a line contains want.
func (e *env) waitLog(t *testing.T, id, want string) {
	t.Helper()
	e.waitLogFrom(t, e.rt, id, want)
}

// waitLogFrom is waitLog through rt.
func (e *env) waitLogFrom(t *testing.T, rt *container.Runtime, id, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rc, err := rt.Logs(ctx, id, runtimes.LogOptions{Follow: true})
	if err != nil {
		t.Fatalf("Logs %q: %v", id, err)
	}
	defer rc.Close()
	var seen strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := rc.Read(buf)
		seen.Write(buf[:n])
		if strings.Contains(seen.String(), want) {
			return
		}
		if err != nil {
			t.Fatalf("log of %q ended (%v) without %q; got %q", id, err, want, seen.String())
		}
	}
}
