package lifecycle

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/nodes/membership"
	"github.com/wharfhq/wharf/nodes/nodeinfo"
	"github.com/wharfhq/wharf/nodes/nodeinfo/apitest"
	"github.com/wharfhq/wharf/sdk"
)

// clock is a settable time source shared by the controller and the
// registrars.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func member(t *testing.T, name string, tags map[string]string) *membership.Membership {
	t.Helper()
	m, err := membership.New(membership.Config{Name: name, BindAddr: "127.0.0.1:0", Tags: tags, Fast: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

// eventually polls cond until it holds or 20 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: never happened", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func pod(name, node string, phase types.PodPhase, tol ...types.Toleration) *types.Pod {
	return &types.Pod{
		ObjectMeta: types.ObjectMeta{Name: name, Namespace: "default"},
		Spec: types.PodSpec{
			NodeName:    node,
			Containers:  []types.Container{{Name: "c", Image: "busybox"}},
			Tolerations: tol,
		},
		Status: types.PodStatus{Phase: phase},
	}
}

func TestLostNodeIsTaintedAndItsPodsEvicted(t *testing.T) {
	env := apitest.Start(t, apitest.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	nodes := sdk.Typed[*types.Node](env.Client)
	pods := sdk.Typed[*types.Pod](env.Client).Namespace("default")

	registrar := func(name string) *nodeinfo.Registrar {
		r, err := nodeinfo.New(nodeinfo.Config{NodeName: name, Client: env.Client, Runtimes: map[string]string{"wasm": ""}, Now: clk.Now, Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Register(ctx); err != nil {
			t.Fatal(err)
		}
		return r
	}
	regA, regB := registrar("node-a"), registrar("node-b")

	forever := types.Toleration{Key: types.TaintNodeUnreachable, Operator: types.TolerationOpExists, Effect: types.TaintEffectNoExecute}
	for _, p := range []*types.Pod{
		pod("running", "node-a", types.PodRunning),
		pod("done", "node-a", types.PodSucceeded),
		pod("tolerant", "node-a", types.PodRunning, forever),
		pod("elsewhere", "node-b", types.PodRunning),
	} {
		st := p.Status
		created, err := pods.Create(ctx, p)
		if err != nil {
			t.Fatalf("create pod %s: %v", p.Name, err)
		}
		created.Status = st
		if _, err := pods.UpdateStatus(ctx, created); err != nil {
			t.Fatalf("pod %s status: %v", p.Name, err)
		}
	}

	srv := member(t, "server", map[string]string{membership.TagRole: membership.RoleServer})
	agentA := member(t, "node-a", map[string]string{membership.TagRole: membership.RoleAgent, membership.TagNode: "node-a"})
	if _, err := agentA.Join(ctx, []string{srv.Addr()}); err != nil {
		t.Fatal(err)
	}

	c, err := New(Config{Client: env.Client, Members: srv, GracePeriod: 30 * time.Second, HeartbeatTimeout: 40 * time.Second,
		Resync: 20 * time.Millisecond, Now: clk.Now, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := c.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	defer func() { cancel(); <-done }()

	getNode := func(name string) *types.Node {
		n, err := nodes.Get(ctx, name)
		if err != nil {
			t.Fatalf("get node %s: %v", name, err)
		}
		return n
	}
	isLost := func(name string) bool {
		n := getNode(name)
		r := readyCondition(n)
		return r != nil && r.Status == types.ConditionUnknown && r.Reason == ReasonNodeStatusUnknown &&
			unreachableTaint(n, types.TaintEffectNoSchedule) != nil
	}
	isBack := func(name string) bool {
		n := getNode(name)
		r := readyCondition(n)
		return r != nil && r.Status == types.ConditionTrue &&
			unreachableTaint(n, types.TaintEffectNoSchedule) == nil && unreachableTaint(n, types.TaintEffectNoExecute) == nil
	}
	exists := func(name string) bool {
		_, err := pods.Get(ctx, name)
		if err != nil && !sdk.IsNotFound(err) {
			t.Fatal(err)
		}
		return err == nil
	}

	// The agent's serf member crashes: node-a is lost within seconds, its
	// Pods stay until the grace period has passed.
	if err := agentA.Shutdown(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node-a Ready=Unknown and tainted", func() bool { return isLost("node-a") })
	c.Sync(ctx)
	if !exists("running") {
		t.Fatal("pod evicted before the grace period passed")
	}
	if unreachableTaint(getNode("node-a"), types.TaintEffectNoExecute) != nil {
		t.Fatal("unreachable:NoExecute before the grace period passed")
	}
	if isLost("node-b") {
		t.Fatal("node-b, whose heartbeat is fresh, was marked lost")
	}

	clk.Add(31 * time.Second)
	if err := regB.Heartbeat(ctx); err != nil { // node-b stays current
		t.Fatal(err)
	}
	eventually(t, "pod on the lost node deleted", func() bool { return !exists("running") })
	if unreachableTaint(getNode("node-a"), types.TaintEffectNoExecute) == nil {
		t.Error("no unreachable:NoExecute taint after the grace period")
	}
	c.Sync(ctx)
	for _, name := range []string{"done", "tolerant", "elsewhere"} {
		if !exists(name) {
			t.Errorf("pod %s was deleted; finished, tolerating and other nodes' pods must stay", name)
		}
	}

	// Heartbeat fallback: node-b has no serf member; its heartbeat ages.
	clk.Add(41 * time.Second)
	eventually(t, "node-b lost by heartbeat age", func() bool { return isLost("node-b") })
	if err := regB.Heartbeat(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node-b back after a heartbeat", func() bool { return isBack("node-b") })

	// node-a comes back: a new member under the same node, and a heartbeat.
	agentA2 := member(t, "node-a", map[string]string{membership.TagRole: membership.RoleAgent, membership.TagNode: "node-a"})
	if _, err := agentA2.Join(ctx, []string{srv.Addr()}); err != nil {
		t.Fatal(err)
	}
	if err := regA.Heartbeat(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "node-a Ready and untainted again", func() bool { return isBack("node-a") })

	// What happened is told in Events (the last one is written just after
	// the taint is lifted).
	want := []string{"Node/node-a/" + ReasonNodeNotReady, "Pod/running/" + ReasonNodeLost,
		"Node/node-a/" + ReasonNodeReady, "Node/node-b/" + ReasonNodeNotReady}
	eventually(t, fmt.Sprintf("events %v", want), func() bool {
		evs, err := sdk.Typed[*types.Event](env.Client).Namespace("default").List(ctx, sdk.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, e := range evs.Items {
			seen[e.InvolvedObject.Kind+"/"+e.InvolvedObject.Name+"/"+e.Reason] = true
		}
		for _, k := range want {
			if !seen[k] {
				return false
			}
		}
		return true
	})
}

func TestEvictAfter(t *testing.T) {
	c := &Controller{cfg: Config{GracePeriod: 30 * time.Second}}
	five := int64(5)
	tests := []struct {
		name   string
		tol    []types.Toleration
		want   time.Duration
		wantOK bool
	}{
		{"no toleration", nil, 30 * time.Second, true},
		{"tolerates for ever", []types.Toleration{{Key: types.TaintNodeUnreachable, Operator: types.TolerationOpExists}}, 0, false},
		{"tolerates everything", []types.Toleration{{Operator: types.TolerationOpExists}}, 0, false},
		{"tolerates 5s", []types.Toleration{{Key: types.TaintNodeUnreachable, Operator: types.TolerationOpExists, Effect: types.TaintEffectNoExecute, TolerationSeconds: &five}}, 5 * time.Second, true},
		{"other effect", []types.Toleration{{Key: types.TaintNodeUnreachable, Operator: types.TolerationOpExists, Effect: types.TaintEffectNoSchedule}}, 30 * time.Second, true},
		{"other key", []types.Toleration{{Key: "x", Operator: types.TolerationOpExists}}, 30 * time.Second, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := c.evictAfter(pod("p", "n", types.PodRunning, tt.tol...))
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("evictAfter = %v, %v; want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestPodsOfMissingNodesAreRemoved(t *testing.T) {
	env := apitest.Start(t, apitest.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	pods := sdk.Typed[*types.Pod](env.Client).Namespace("default")
	for _, p := range []*types.Pod{pod("orphan", "ghost", ""), pod("second-orphan", "ghost", ""), pod("unbound", "", "")} {
		if _, err := pods.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	c, err := New(Config{Client: env.Client, GracePeriod: 30 * time.Second, Now: clk.Now, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	c.inf.Start(ctx)
	defer c.inf.Wait()
	defer cancel()
	if err := c.inf.WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "pods in the cache", func() bool { return c.pods.Lister().Len() == 3 })
	exists := func(name string) bool {
		_, err := pods.Get(ctx, name)
		return err == nil
	}

	c.Sync(ctx) // first seen
	clk.Add(29 * time.Second)
	c.Sync(ctx)
	if !exists("orphan") {
		t.Fatal("orphan removed before the grace period")
	}
	clk.Add(2 * time.Second)
	c.Sync(ctx)
	for _, name := range []string{"orphan", "second-orphan"} {
		if exists(name) {
			t.Errorf("pod %s of a missing node still there", name)
		}
	}
	if !exists("unbound") {
		t.Error("an unbound pod was removed")
	}
}

// TestNewControllerCarriesOn checks the controller keeps no state a
// restart would lose: a controller started after another one tainted a
// lost node evicts its Pods when the grace period counted from the
// taint's timeAdded has passed.
func TestNewControllerCarriesOn(t *testing.T) {
	env := apitest.Start(t, apitest.Options{})
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	reg, err := nodeinfo.New(nodeinfo.Config{NodeName: "node-a", Client: env.Client, Runtimes: map[string]string{"wasm": ""}, Now: clk.Now, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Register(ctx); err != nil {
		t.Fatal(err)
	}
	pods := sdk.Typed[*types.Pod](env.Client).Namespace("default")
	if _, err := pods.Create(ctx, pod("p", "node-a", "")); err != nil {
		t.Fatal(err)
	}
	// syncOnce runs a fresh controller (as after a server restart) for one
	// pass over a synced cache.
	syncOnce := func() {
		cctx, cancel := context.WithCancel(ctx)
		c, err := New(Config{Client: env.Client, GracePeriod: 30 * time.Second, HeartbeatTimeout: 40 * time.Second, Now: clk.Now, Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		c.inf.Start(cctx)
		if err := c.inf.WaitForSync(cctx); err != nil {
			t.Fatal(err)
		}
		c.Sync(cctx)
		cancel()
		c.inf.Wait()
	}
	node := func() *types.Node {
		n, err := sdk.Typed[*types.Node](env.Client).Get(ctx, "node-a")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	clk.Add(41 * time.Second) // the heartbeat is stale: lost
	syncOnce()
	if n := node(); unreachableTaint(n, types.TaintEffectNoSchedule) == nil || unreachableTaint(n, types.TaintEffectNoExecute) != nil {
		t.Fatalf("first controller: taints %+v, want unreachable:NoSchedule only", n.Spec.Taints)
	}
	syncOnce() // a new controller, before the grace period: nothing more
	if _, err := pods.Get(ctx, "p"); err != nil {
		t.Fatalf("pod gone before the grace period: %v", err)
	}
	clk.Add(31 * time.Second)
	syncOnce() // another new controller, after it: NoExecute, and evicts
	if _, err := pods.Get(ctx, "p"); !sdk.IsNotFound(err) {
		t.Errorf("pod of the lost node after the grace period: err = %v, want NotFound", err)
	}
	if unreachableTaint(node(), types.TaintEffectNoExecute) == nil {
		t.Error("no unreachable:NoExecute taint after the grace period")
	}
}

// TestStartupGrace checks that a controller just started does not hold a
// stale heartbeat against a node (the server was down, not the agent)
// until HeartbeatTimeout has passed since its start.
func TestStartupGrace(t *testing.T) {
	env := apitest.Start(t, apitest.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	reg, err := nodeinfo.New(nodeinfo.Config{NodeName: "node-a", Client: env.Client, Runtimes: map[string]string{"wasm": ""}, Now: clk.Now, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Register(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Add(10 * time.Minute) // the server was down for long
	c, err := New(Config{Client: env.Client, HeartbeatTimeout: 40 * time.Second, Now: clk.Now, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	c.inf.Start(ctx)
	defer c.inf.Wait()
	defer cancel()
	if err := c.inf.WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}
	c.started = clk.Now() // as Run does
	tainted := func() bool {
		n, err := sdk.Typed[*types.Node](env.Client).Get(ctx, "node-a")
		if err != nil {
			t.Fatal(err)
		}
		return unreachableTaint(n, types.TaintEffectNoSchedule) != nil
	}
	c.Sync(ctx)
	if tainted() {
		t.Fatal("node tainted at the controller's start for a heartbeat older than the server's downtime")
	}
	clk.Add(41 * time.Second) // still no heartbeat once the grace is over: lost
	c.Sync(ctx)
	if !tainted() {
		t.Error("node without a heartbeat after the startup grace is not tainted")
	}
}
