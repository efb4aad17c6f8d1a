package agent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/wharfhq/wharf/internal/testutil"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/nodes/agent"
	"github.com/wharfhq/wharf/nodes/nodeinfo/apitest"
	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/container"
	"github.com/wharfhq/wharf/sdk"
)

func TestMain(m *testing.M) {
	container.Init() // the re-executed container init and log relay never return
	os.Exit(testutil.CheckLeaks(m.Run(), "nodes/agent."))
}

const nodeName = "node-1"

// env is a real API server (api/server on Badger in a temp dir) over
// HTTP, and a client for it.
type env struct {
	client *sdk.Client
	pods   *sdk.TypedClient[*types.Pod]
	url    string // the API server's, for kubectl
}

func newEnv(t testing.TB) *env {
	t.Helper()
	api := apitest.Start(t, apitest.Options{})
	return &env{client: api.Client, pods: sdk.Typed[*types.Pod](api.Client).Namespace("default"), url: api.URL}
}

// running is one started agent.
type running struct {
	a      *agent.Agent
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// stop ends the agent and waits for Run to return.
func (r *running) stop(t testing.TB) {
	t.Helper()
	r.once.Do(func() { r.stopOnce(t) })
}

func (r *running) stopOnce(t testing.TB) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		buf := make([]byte, 1<<20)
		t.Fatalf("agent did not stop:\n%s", buf[:runtime.Stack(buf, true)])
	}
}

// startAgent runs an agent over rts until the test ends (or stop).
func (e *env) startAgent(t testing.TB, dataDir string, rts map[string]runtimes.Runtime, mod func(*agent.Config)) *running {
	t.Helper()
	cfg := agent.Config{
		NodeName:    nodeName,
		Client:      e.client,
		Runtimes:    rts,
		DataDir:     dataDir,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		HostIP:      "10.0.0.1",
		BackoffBase: 50 * time.Millisecond,
		BackoffMax:  400 * time.Millisecond,
		Resync:      time.Second,
	}
	cfg.NetNSDir = filepath.Join(dataDir, "netns") // unmounted by dataDir's cleanup
	for _, rt := range rts {
		if _, fake := rt.(*fakeRuntime); fake {
			cfg.DisablePodNetNS = true // nothing runs in it
		}
	}
	if mod != nil {
		mod(&cfg)
	}
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatalf("agent.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{a: a, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- a.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// dataDir is an agent data dir whose Pod network namespaces are
// unmounted when the test ends, before the directory is removed.
func dataDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	t.Cleanup(func() {
		ents, _ := os.ReadDir(filepath.Join(dir, "netns"))
		for _, e := range ents {
			_ = unix.Unmount(filepath.Join(dir, "netns", e.Name()), unix.MNT_DETACH)
		}
	})
	return dir
}

// pod is a Pod bound to the test node with one container per args list.
func pod(name string, policy types.RestartPolicy, containers ...[]string) *types.Pod {
	p := &types.Pod{
		ObjectMeta: types.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": name}},
		Spec:       types.PodSpec{NodeName: nodeName, RestartPolicy: policy},
	}
	for i, args := range containers {
		p.Spec.Containers = append(p.Spec.Containers, types.Container{
			Name: fmt.Sprintf("c%d", i), Image: "example.com/app:v1", Args: args,
		})
	}
	return p
}

// create creates p.
func (e *env) create(t testing.TB, p *types.Pod) *types.Pod {
	t.Helper()
	out, err := e.pods.Create(context.Background(), p)
	if err != nil {
		t.Fatalf("create pod %q: %v", p.Name, err)
	}
	return out
}

// waitPod polls the Pod until cond holds, failing with its last status
// after 30s.
func (e *env) waitPod(t testing.TB, name, what string, cond func(p *types.Pod) bool) *types.Pod {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last *types.Pod
	for time.Now().Before(deadline) {
		p, err := e.pods.Get(context.Background(), name)
		if err == nil {
			last = p
			if cond(p) {
				return p
			}
		} else if sdk.IsNotFound(err) {
			last = nil
			if cond(nil) {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	b, _ := json.MarshalIndent(last, "", "  ")
	t.Fatalf("pod %q: timed out waiting for %s; last:\n%s", name, what, b)
	return nil
}

// phase is a waitPod condition on the phase.
func phase(ph types.PodPhase) func(*types.Pod) bool {
	return func(p *types.Pod) bool { return p != nil && p.Status.Phase == ph }
}

// cond returns the named condition's status ("" when absent).
func cond(p *types.Pod, typ types.PodConditionType) types.ConditionStatus {
	for _, c := range p.Status.Conditions {
		if c.Type == typ {
			return c.Status
		}
	}
	return ""
}

// events lists the events about a Pod as "Type Reason: message" lines.
func (e *env) events(t testing.TB, podName string) []string {
	t.Helper()
	list, err := sdk.Typed[*types.Event](e.client).Namespace("default").List(context.Background(), sdk.ListOptions{})
	if err != nil {
		t.Fatalf("list events: %v", err)
	}
	var out []string
	for _, ev := range list.Items {
		if ev.InvolvedObject.Name == podName {
			out = append(out, fmt.Sprintf("%s %s: %s (x%d)", ev.Type, ev.Reason, ev.Message, ev.Count))
		}
	}
	return out
}

// waitEvent waits for an event about podName whose line contains want.
func (e *env) waitEvent(t testing.TB, podName, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var evs []string
	for time.Now().Before(deadline) {
		evs = e.events(t, podName)
		for _, ev := range evs {
			if strings.Contains(ev, want) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no event %q for pod %q; events:\n%s", want, podName, strings.Join(evs, "\n"))
}
