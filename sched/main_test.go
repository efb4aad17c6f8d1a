package sched_test

import (
	"context"
	"github.com/wharfhq/wharf/internal/testutil"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/nodes/nodeinfo/apitest"
	"github.com/wharfhq/wharf/sched"
	"github.com/wharfhq/wharf/sdk"
)

// TestMain fails the run when goroutines of the scheduler outlive the
// tests: Run must stop everything it started.
func TestMain(m *testing.M) {
	os.Exit(testutil.CheckLeaks(m.Run(), "wharf/sched."))
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// env is a real API server (api/server over Badger in a temp dir, from
// nodes/nodeinfo/apitest) and a client.
type env struct {
	client *sdk.Client
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return &env{client: apitest.Start(t, apitest.Options{}).Client}
}

// start runs a scheduler until the test ends.
func (e *env) start(t testing.TB, cfg sched.Config, opts ...sched.Option) *sched.Scheduler {
	t.Helper()
	// No image lookups unless a test asks: the fixtures' image "img" would
	// send the resolver to Docker Hub.
	s, err := sched.New(e.client, cfg, append([]sched.Option{sched.WithLogger(quiet), sched.WithImageResolver(nil)}, opts...)...)
	if err != nil {
		t.Fatalf("sched.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return s
}

func (e *env) createNode(t testing.TB, n *types.Node) {
	t.Helper()
	ctx := context.Background()
	nodes := sdk.Typed[*types.Node](e.client)
	created, err := nodes.Create(ctx, n)
	if err != nil {
		t.Fatalf("create node %s: %v", n.Name, err)
	}
	if !sameStatus(created, n) { // a create may drop the status, as for Pods
		created.Status = n.Status
		if _, err := nodes.UpdateStatus(ctx, created); err != nil {
			t.Fatalf("node %s status: %v", n.Name, err)
		}
	}
}

func sameStatus(a, b *types.Node) bool {
	return len(a.Status.Allocatable) == len(b.Status.Allocatable) && len(a.Status.Conditions) == len(b.Status.Conditions)
}

func (e *env) createPod(t testing.TB, p *types.Pod) *types.Pod {
	t.Helper()
	p = types.Clone(p)
	p.UID = ""
	created, err := sdk.Typed[*types.Pod](e.client).Namespace(p.Namespace).Create(context.Background(), p)
	if err != nil {
		t.Fatalf("create pod %s: %v", p.Name, err)
	}
	return created
}

// waitPod polls the Pod until cond holds, failing the test after a
// generous deadline (a hang, not a measure).
func (e *env) waitPod(t testing.TB, ns, name, what string, cond func(*types.Pod) bool) *types.Pod {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last *types.Pod
	for time.Now().Before(deadline) {
		p, err := sdk.Typed[*types.Pod](e.client).Namespace(ns).Get(context.Background(), name)
		if err == nil {
			last = p
			if cond(p) {
				return p
			}
		} else if sdk.IsNotFound(err) && cond(nil) {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("pod %s/%s: never %s; last seen %+v", ns, name, what, last)
	return nil
}

func (e *env) waitBound(t testing.TB, ns, name string) string {
	t.Helper()
	p := e.waitPod(t, ns, name, "bound", func(p *types.Pod) bool { return p != nil && p.Spec.NodeName != "" })
	return p.Spec.NodeName
}

func scheduledCondition(p *types.Pod) *types.PodCondition {
	if p == nil {
		return nil
	}
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == types.PodScheduled {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// events lists the events about the named Pod with reason.
func (e *env) events(t testing.TB, ns, pod, reason string) []types.Event {
	t.Helper()
	l, err := sdk.Typed[*types.Event](e.client).Namespace(ns).List(context.Background(), sdk.ListOptions{})
	if err != nil {
		t.Fatalf("list events: %v", err)
	}
	var out []types.Event
	for _, ev := range l.Items {
		if ev.InvolvedObject.Name == pod && ev.Reason == reason {
			out = append(out, *ev)
		}
	}
	return out
}
