package sched_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sched"
	"github.com/wharfhq/wharf/sched/framework"
	. "github.com/wharfhq/wharf/sched/internal/schedtest"
	"github.com/wharfhq/wharf/sdk"
)

func TestSchedulerEndToEnd(t *testing.T) {
	e := newEnv(t)
	for _, n := range []*types.Node{
		Node("amd").Label("disk", "ssd").Obj(),
		Node("arm").Arch("arm64").Runtimes("container").Obj(),
		Node("wasm-arm").Arch("arm64").Runtimes("wasm").Obj(),
		Node("small").Capacity("1", "1Gi", "").Label("size", "small").Runtimes("container").Obj(),
		Node("gpu").Label("accel", "gpu").Taint("gpu", "true", types.TaintEffectNoSchedule).Obj(),
	} {
		e.createNode(t, n)
	}
	other := e.createPod(t, Pod("other").SchedulerName("someone-else").Obj())
	s := e.start(t, sched.DefaultConfig())

	tests := []struct {
		name, pod string
		build     *types.Pod
		want      string
	}{
		{"arm64-only image goes to the arm node with containers", "arm-image", Pod("arm-image").Platforms("linux/arm64").Obj(), "arm"},
		{"wasm pod on arm64 goes to the wasm node", "wasm-arm", Pod("wasm-arm").Wasm().NodeSelector("kubernetes.io/arch", "arm64").Obj(), "wasm-arm"},
		{"tolerating pod reaches the tainted node", "gpu-job", Pod("gpu-job").NodeSelector("accel", "gpu").
			Toleration("gpu", types.TolerationOpEqual, "true", types.TaintEffectNoSchedule).Obj(), "gpu"},
		{"node affinity matchFields", "by-name", Pod("by-name").RequiredNodeTerm(nil, []types.NodeSelectorRequirement{
			{Key: "metadata.name", Operator: types.NodeSelectorOpIn, Values: []string{"amd"}}}).Obj(), "amd"},
	}
	for _, tt := range tests {
		e.createPod(t, tt.build)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := e.waitBound(t, "default", tt.pod); got != tt.want {
				t.Errorf("bound to %q, want %q", got, tt.want)
			}
			if evs := e.events(t, "default", tt.pod, sched.ReasonScheduled); len(evs) == 0 {
				// events are written asynchronously; wait for one
				e.waitPod(t, "default", tt.pod, "given a Scheduled event", func(*types.Pod) bool {
					return len(e.events(t, "default", tt.pod, sched.ReasonScheduled)) > 0
				})
			}
		})
	}

	t.Run("unschedulable pod gets a condition and an event, then fits on a new node", func(t *testing.T) {
		e.createPod(t, Pod("big").Req("2", "").NodeSelector("size", "small").Obj())
		// wasm-arm is refused for its runtime before its labels are looked at.
		const want = "0/5 nodes are available: 3 node(s) didn't match Pod's node affinity/selector, 1 Insufficient cpu, 1 node(s) didn't have the container runtime."
		p := e.waitPod(t, "default", "big", "marked unschedulable", func(p *types.Pod) bool {
			c := scheduledCondition(p)
			return c != nil && c.Status == types.ConditionFalse
		})
		c := scheduledCondition(p)
		if c.Reason != sched.ConditionReasonUnschedulable || c.Message != want {
			t.Errorf("condition %+v\nwant reason Unschedulable, message %q", c, want)
		}
		e.waitPod(t, "default", "big", "given a FailedScheduling event", func(*types.Pod) bool {
			return len(e.events(t, "default", "big", sched.ReasonFailedScheduling)) > 0
		})
		evs := e.events(t, "default", "big", sched.ReasonFailedScheduling)
		if len(evs) != 1 || evs[0].Message != want || evs[0].Type != types.EventTypeWarning {
			t.Errorf("events %+v, want one Warning with %q", evs, want)
		}
		e.createNode(t, Node("small2").Capacity("4", "4Gi", "").Label("size", "small").Obj())
		if got := e.waitBound(t, "default", "big"); got != "small2" {
			t.Errorf("bound to %q, want small2", got)
		}
		e.waitPod(t, "default", "big", "marked scheduled", func(p *types.Pod) bool {
			c := scheduledCondition(p)
			return c != nil && c.Status == types.ConditionTrue
		})
		// The message never changed, so there is still one event.
		if evs := e.events(t, "default", "big", sched.ReasonFailedScheduling); len(evs) != 1 {
			t.Errorf("%d FailedScheduling events, want 1", len(evs))
		}
	})

	t.Run("a pod of another scheduler is left alone", func(t *testing.T) {
		p, err := sdk.Typed[*types.Pod](e.client).Namespace("default").Get(context.Background(), "other")
		if err != nil {
			t.Fatal(err)
		}
		if p.Spec.NodeName != "" || scheduledCondition(p) != nil || p.UID != other.UID {
			t.Errorf("pod of another scheduler touched: node %q conditions %+v", p.Spec.NodeName, p.Status.Conditions)
		}
		if l := s.Queue().Lengths(); l != (sched.QueueLengths{}) {
			t.Errorf("queue not empty: %+v", l)
		}
	})

	t.Run("resources of bound pods are counted", func(t *testing.T) {
		// small (1 cpu) is empty, small2 (4 cpu) holds big (2 cpu): three
		// 1-cpu pods for size=small go one to small and two to small2.
		for _, n := range []string{"s1", "s2", "s3"} {
			e.createPod(t, Pod(n).Req("1", "").NodeSelector("size", "small").Obj())
		}
		count := map[string]int{}
		for _, n := range []string{"s1", "s2", "s3"} {
			count[e.waitBound(t, "default", n)]++
		}
		if count["small"] != 1 || count["small2"] != 2 {
			t.Errorf("placement %v, want small 1, small2 2", count)
		}
		e.createPod(t, Pod("s4").Req("1", "").NodeSelector("size", "small").Obj())
		p := e.waitPod(t, "default", "s4", "marked unschedulable", func(p *types.Pod) bool { return scheduledCondition(p) != nil })
		if c := scheduledCondition(p); c.Message != "0/6 nodes are available: 3 node(s) didn't match Pod's node affinity/selector, 2 Insufficient cpu, 1 node(s) didn't have the container runtime." {
			t.Errorf("message %q", c.Message)
		}
		// Deleting a pod frees its cpu (at once: there is no agent to end
		// a graceful deletion): s4 takes its place.
		now := int64(0)
		if err := sdk.Typed[*types.Pod](e.client).Namespace("default").Delete(context.Background(), "s1", types.DeleteOptions{GracePeriodSeconds: &now}); err != nil {
			t.Fatal(err)
		}
		e.waitBound(t, "default", "s4")
	})
}

func TestSchedulerTaintEviction(t *testing.T) {
	e := newEnv(t)
	e.createNode(t, Node("n1").Obj())
	e.start(t, sched.DefaultConfig())
	e.createPod(t, Pod("plain").Obj())
	e.createPod(t, Pod("tolerant").Toleration("maint", types.TolerationOpExists, "", types.TaintEffectNoExecute).Obj())
	e.createPod(t, Pod("expired").TolerationSeconds("maint", 60).Obj())
	e.waitBound(t, "default", "plain")
	e.waitBound(t, "default", "tolerant")
	e.waitBound(t, "default", "expired")

	nodes := sdk.Typed[*types.Node](e.client)
	n, err := nodes.Get(context.Background(), "n1")
	if err != nil {
		t.Fatal(err)
	}
	// Added two minutes ago: the 60s toleration of "expired" is over.
	added := types.NewTime(time.Now().Add(-2 * time.Minute).Truncate(time.Second))
	n.Spec.Taints = append(n.Spec.Taints, types.Taint{Key: "maint", Effect: types.TaintEffectNoExecute, TimeAdded: &added})
	if _, err := nodes.Update(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"plain", "expired"} {
		e.waitPod(t, "default", name, "evicted", func(p *types.Pod) bool { return p == nil || p.DeletionTimestamp != nil })
	}
	e.waitPod(t, "default", "plain", "given an eviction event", func(*types.Pod) bool {
		return len(e.events(t, "default", "plain", sched.ReasonEvicted)) > 0
	})
	p, err := sdk.Typed[*types.Pod](e.client).Namespace("default").Get(context.Background(), "tolerant")
	if err != nil || p.DeletionTimestamp != nil {
		t.Errorf("tolerant pod evicted: %v %v", err, p)
	}
}

func TestSchedulerRestartRecomputes(t *testing.T) {
	e := newEnv(t)
	e.createNode(t, Node("n1").Capacity("1", "1Gi", "").Obj())
	e.createPod(t, Pod("big").Req("2", "").Obj())
	func() {
		// A first scheduler marks big unschedulable, then stops.
		first, err := sched.New(e.client, sched.DefaultConfig(), sched.WithLogger(quiet))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- first.Run(ctx) }()
		e.waitPod(t, "default", "big", "marked unschedulable", func(p *types.Pod) bool { return scheduledCondition(p) != nil })
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}()
	// Pods created while no scheduler runs are placed by the next one,
	// which also sees big again and keeps it pending.
	e.createPod(t, Pod("small").Req("500m", "").Obj())
	s := e.start(t, sched.DefaultConfig())
	if got := e.waitBound(t, "default", "small"); got != "n1" {
		t.Errorf("small bound to %q", got)
	}
	e.waitPod(t, "default", "big", "retried by the new scheduler", func(*types.Pod) bool { return s.Queue().Lengths().Unschedulable == 1 })
	p, err := sdk.Typed[*types.Pod](e.client).Namespace("default").Get(context.Background(), "big")
	if err != nil {
		t.Fatal(err)
	}
	if p.Spec.NodeName != "" {
		t.Errorf("big bound to %q", p.Spec.NodeName)
	}
	if _, pods, assumed := s.Cache().Counts(); pods != 1 || assumed != 0 {
		t.Errorf("cache holds %d pods (%d assumed), want 1 bound", pods, assumed)
	}
}

func TestSchedulerAffinityAndSpreadInFlight(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"n1", "n2", "n3"} {
		e.createNode(t, Node(n).Zone("z-"+n).Obj())
	}
	e.start(t, sched.DefaultConfig())
	// Created at once, so several are in flight (assumed, not yet bound)
	// while the next are placed: the assumed ones must count.
	for i := range 4 {
		e.createPod(t, Pod(fmt.Sprintf("web-%d", i)).Label("app", "web").
			PodAntiAffinity(Term("app", "web", "kubernetes.io/hostname")).Obj())
	}
	for i := range 6 {
		e.createPod(t, Pod(fmt.Sprintf("rep-%d", i)).Owner("rs-1").Obj())
	}
	used := map[string]bool{}
	var unplaced []string
	for i := range 4 {
		name := fmt.Sprintf("web-%d", i)
		p := e.waitPod(t, "default", name, "bound or refused", func(p *types.Pod) bool {
			return p.Spec.NodeName != "" || scheduledCondition(p) != nil
		})
		if p.Spec.NodeName == "" {
			unplaced = append(unplaced, name)
			const want = "0/3 nodes are available: 3 node(s) didn't satisfy existing pods anti-affinity rules."
			if c := scheduledCondition(p); c.Message != want {
				t.Errorf("%s: message %q, want %q", name, c.Message, want)
			}
			continue
		}
		if used[p.Spec.NodeName] {
			t.Errorf("two anti-affine pods on %s", p.Spec.NodeName)
		}
		used[p.Spec.NodeName] = true
	}
	if len(unplaced) != 1 {
		t.Errorf("unplaced %v, want exactly one", unplaced)
	}
	count := map[string]int{}
	for i := range 6 {
		count[e.waitBound(t, "default", fmt.Sprintf("rep-%d", i))]++
	}
	for _, n := range []string{"n1", "n2", "n3"} {
		if count[n] != 2 {
			t.Errorf("replicas per node %v, want 2 on each", count)
			break
		}
	}
}

func TestSchedulerSharedInformers(t *testing.T) {
	e := newEnv(t)
	e.createNode(t, Node("n1").Obj())
	f := sdk.NewInformerFactory(e.client)
	t.Cleanup(f.Wait) // cleanups run last first: after the scheduler has stopped
	e.start(t, sched.DefaultConfig(), sched.WithInformerFactory(f))
	e.createPod(t, Pod("p").Obj())
	if got := e.waitBound(t, "default", "p"); got != "n1" {
		t.Errorf("bound to %q", got)
	}
}

func TestSchedulerConfigAndCustomPlugin(t *testing.T) {
	e := newEnv(t)
	e.createNode(t, Node("node1").Obj())
	e.createNode(t, Node("node2").Obj())
	cfg, err := sched.ParseConfig([]byte(`
plugins:
  - name: OnlyEvenNodes
  - name: NodeResourcesFit
  - name: NodeResourcesLeastAllocated
`))
	if err != nil {
		t.Fatal(err)
	}
	reg := framework.Registry{}
	if err := reg.Register("OnlyEvenNodes", framework.PluginFactory(func() framework.Plugin { return OnlyEvenNodes{} })); err != nil {
		t.Fatal(err)
	}
	if _, err := sched.New(e.client, cfg); err == nil {
		t.Fatalf("New accepted a config naming an unregistered plugin")
	}
	e.start(t, cfg, sched.WithPlugins(reg))
	for _, n := range []string{"a", "b", "c"} {
		e.createPod(t, Pod(n).Obj())
	}
	for _, n := range []string{"a", "b", "c"} {
		if got := e.waitBound(t, "default", n); got != "node2" {
			t.Errorf("%s bound to %q, want node2", n, got)
		}
	}
	e.createPod(t, Pod("huge").Req("100", "").Obj())
	p := e.waitPod(t, "default", "huge", "refused", func(p *types.Pod) bool { return scheduledCondition(p) != nil })
	if c := scheduledCondition(p); c.Message != "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had an odd name." {
		t.Errorf("message %q", c.Message)
	}
}

// TestSchedulerRetriesWhenCapacityFrees: a Pod refused for "Too many pods"
// is bound as soon as a Pod on the node is deleted, although its back-off
// (100 s here) has far to run: the scheduler has nothing else to do.
func TestSchedulerRetriesWhenCapacityFrees(t *testing.T) {
	e := newEnv(t)
	e.createNode(t, Node("n1").Capacity("4", "4Gi", "1").Obj())
	e.createPod(t, Pod("old").On("n1").Obj())
	cfg := sched.DefaultConfig()
	cfg.PodInitialBackoffSeconds, cfg.PodMaxBackoffSeconds = 100, 100
	s := e.start(t, cfg)
	e.createPod(t, Pod("new").Obj())
	p := e.waitPod(t, "default", "new", "marked unschedulable", func(p *types.Pod) bool { return scheduledCondition(p) != nil })
	if c := scheduledCondition(p); c.Message != "0/1 nodes are available: 1 Too many pods." {
		t.Fatalf("condition %+v", c)
	}
	e.waitPod(t, "default", "new", "parked as unschedulable", func(*types.Pod) bool { return s.Queue().Lengths().Unschedulable == 1 })
	now := int64(0)
	if err := sdk.Typed[*types.Pod](e.client).Namespace("default").Delete(context.Background(), "old", types.DeleteOptions{GracePeriodSeconds: &now}); err != nil {
		t.Fatal(err)
	}
	if got := e.waitBound(t, "default", "new"); got != "n1" {
		t.Errorf("bound to %q, want n1", got)
	}
}
