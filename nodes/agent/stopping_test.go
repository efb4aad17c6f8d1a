package agent_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/nodes/agent"
	"github.com/wharfhq/wharf/runtimes"
)

// slowStops starts an agent over a fake runtime whose Stop calls wait
// until gate is closed; exec answers its probes (nil: all pass).
func slowStops(t *testing.T, exec func(id string, cmd []string) int, mod func(*agent.Config)) (e *env, rt *fakeRuntime, gate chan struct{}) {
	t.Helper()
	e, rt, gate = newEnv(t), newFake("container"), make(chan struct{})
	rt.stopGate, rt.execFunc = gate, exec
	e.startAgent(t, t.TempDir(), map[string]runtimes.Runtime{"container": rt}, mod)
	return e, rt, gate
}

// getPod reads Pod name.
func getPod(t *testing.T, e *env, name string) *types.Pod {
	t.Helper()
	p, err := e.pods.Get(t.Context(), name)
	if err != nil {
		t.Fatalf("get pod %q: %v", name, err)
	}
	return p
}

// startFresh creates n Pods named prefix-0..n-1 that run at once and waits
// until each is reported Running.
func startFresh(t *testing.T, e *env, prefix string, n int) {
	t.Helper()
	for i := range n {
		e.create(t, pod(fmt.Sprintf("%s-%d", prefix, i), types.RestartPolicyAlways, []string{"serve"}))
	}
	for i := range n {
		e.waitPod(t, fmt.Sprintf("%s-%d", prefix, i), "Running while other Pods' containers are stopping", phase(types.PodRunning))
	}
}

// checkOneInstance fails unless Pod name has exactly one container
// instance, running: its stop is still under way and nothing replaced it.
func checkOneInstance(t *testing.T, rt *fakeRuntime, name string) {
	t.Helper()
	if all, running := rt.podInstances(name); all != 1 || running != 1 {
		t.Errorf("pod %s: %d instances, %d running while its container is stopping; want 1 and 1", name, all, running)
	}
}

// checkNoOverlap fails if an instance was started beside the running
// instance it replaces.
func checkNoOverlap(t *testing.T, rt *fakeRuntime) {
	t.Helper()
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if len(rt.overlaps) > 0 {
		t.Errorf("started beside a still running instance of the same container: %v", rt.overlaps)
	}
}

func TestSlowProbeKillsDoNotHoldWorkers(t *testing.T) {
	var healthy atomic.Bool
	e, rt, gate := slowStops(t, func(id string, cmd []string) int {
		if healthy.Load() {
			return 0
		}
		return 1
	}, nil)
	// As many unhealthy Pods as sync workers: stopped on the workers, their
	// blocked stops would hold every one of them.
	const n = agent.DefaultWorkers
	for i := range n {
		p := pod(fmt.Sprintf("sick-%d", i), types.RestartPolicyAlways, []string{"serve"})
		p.Spec.Containers[0].LivenessProbe = &types.Probe{ProbeHandler: types.ProbeHandler{Exec: &types.ExecAction{Command: []string{"live"}}},
			PeriodSeconds: 1, FailureThreshold: 1}
		e.create(t, p)
	}
	waitFor(t, "every unhealthy container asked to stop", func() bool { return rt.stopCalls() >= n })
	healthy.Store(true) // the replacements pass

	startFresh(t, e, "fresh", agent.DefaultWorkers+1)
	for i := range n {
		checkOneInstance(t, rt, fmt.Sprintf("sick-%d", i))
	}
	if got := rt.stopCalls(); got != n {
		t.Errorf("%d Stop calls while the %d stops are under way, want %d (no second stop)", got, n, n)
	}

	close(gate)
	for i := range n {
		name := fmt.Sprintf("sick-%d", i)
		got := e.waitPod(t, name, "restarted after the liveness kill", func(p *types.Pod) bool {
			return p != nil && len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].RestartCount == 1 &&
				p.Status.ContainerStatuses[0].State.Running != nil
		})
		if last := got.Status.ContainerStatuses[0].LastTerminationState.Terminated; last == nil {
			t.Errorf("%s: lastState after the liveness restart = %+v", name, got.Status.ContainerStatuses[0].LastTerminationState)
		}
		e.waitEvent(t, name, "Normal Killing: Container c0 failed liveness probe, will be restarted")
	}
	checkNoOverlap(t, rt)
}

func TestSlowImageChangeStopsDoNotHoldWorkers(t *testing.T) {
	e, rt, gate := slowStops(t, nil, nil)
	const n = agent.DefaultWorkers
	startFresh(t, e, "img", n)
	for i := range n {
		p := getPod(t, e, fmt.Sprintf("img-%d", i))
		p.Spec.Containers[0].Image = "example.com/app:v2"
		if _, err := e.pods.Update(t.Context(), p); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "every changed container asked to stop", func() bool { return rt.stopCalls() >= n })

	startFresh(t, e, "fresh", agent.DefaultWorkers+1)
	for i := range n {
		checkOneInstance(t, rt, fmt.Sprintf("img-%d", i))
	}

	close(gate)
	for i := range n {
		name := fmt.Sprintf("img-%d", i)
		got := e.waitPod(t, name, "running v2", func(p *types.Pod) bool {
			cs := p.Status.ContainerStatuses[0]
			return cs.State.Running != nil && cs.ImageID == "example.com/app:v2"
		})
		if cs := got.Status.ContainerStatuses[0]; cs.RestartCount != 1 || cs.Image != "example.com/app:v2" {
			t.Errorf("%s: status = %+v", name, cs)
		}
		if _, running := rt.podInstances(name); running != 1 {
			t.Errorf("%s: %d instances running, want 1", name, running)
		}
		e.waitEvent(t, name, "Normal Killing: Container c0 definition changed, will be restarted")
	}
	checkNoOverlap(t, rt)
}

// syncBuffer is a log sink safe for the agent's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestDeleteWhileProbeKillStopping(t *testing.T) {
	var logs syncBuffer
	e, rt, gate := slowStops(t, func(id string, cmd []string) int { return 1 }, func(c *agent.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	})
	p := pod("doomed", types.RestartPolicyAlways, []string{"serve"})
	p.Spec.Containers[0].LivenessProbe = &types.Probe{ProbeHandler: types.ProbeHandler{Exec: &types.ExecAction{Command: []string{"live"}}},
		PeriodSeconds: 1, FailureThreshold: 1}
	e.create(t, p)
	waitFor(t, "the unhealthy container asked to stop", func() bool { return rt.stopCalls() >= 1 })
	if err := e.pods.Delete(t.Context(), "doomed", types.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// terminate stops the container too (its Stop waits at the same gate).
	waitFor(t, "the deletion's stop", func() bool { return rt.stopCalls() >= 2 })
	close(gate)
	e.waitPod(t, "doomed", "gone", func(p *types.Pod) bool { return p == nil })
	waitFor(t, "the container removed", func() bool { all, _ := rt.podInstances("doomed"); return all == 0 })
	if n := rt.created("c0"); n != 1 {
		t.Errorf("c0 created %d times: a Pod being deleted must not be restarted", n)
	}
	if l := logs.String(); strings.Contains(l, "level=WARN") {
		t.Errorf("warnings while terminating a Pod whose container was stopping:\n%s", l)
	}
}

func TestSlowStopsOfFailedPodsDoNotHoldWorkers(t *testing.T) {
	e, rt, gate := slowStops(t, nil, nil)
	const n = agent.DefaultWorkers
	startFresh(t, e, "lost", n)
	for i := range n {
		p := getPod(t, e, fmt.Sprintf("lost-%d", i))
		// As the node lifecycle controller does for a lost node's Pods.
		p.Status.Phase, p.Status.Reason = types.PodFailed, "NodeLost"
		if _, err := e.pods.UpdateStatus(t.Context(), p); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "every failed Pod's container asked to stop", func() bool { return rt.stopCalls() >= n })

	startFresh(t, e, "fresh", agent.DefaultWorkers+1)
	if got := rt.stopCalls(); got != n {
		t.Errorf("%d Stop calls while the %d stops are under way, want %d (no second stop)", got, n, n)
	}
	close(gate)
	for i := range n {
		name := fmt.Sprintf("lost-%d", i)
		waitFor(t, name+"'s container stopped", func() bool { _, running := rt.podInstances(name); return running == 0 })
		e.waitEvent(t, name, "Normal Killing: Stopping container c0")
	}
	if got, want := rt.created("c0"), n+agent.DefaultWorkers+1; got != want {
		t.Errorf("c0 created %d times, want %d: a finished Pod must not be restarted", got, want)
	}
}

func TestSlowPostStartKillsDoNotHoldWorkers(t *testing.T) {
	var hookPasses atomic.Bool
	e, rt, gate := slowStops(t, func(id string, cmd []string) int {
		if cmd[0] == "hook" && !hookPasses.Load() {
			return 1
		}
		return 0
	}, nil)
	// As many Pods whose postStart hook fails as sync workers: killed on
	// the workers, their blocked stops would hold every one of them.
	const n = agent.DefaultWorkers
	for i := range n {
		p := pod(fmt.Sprintf("hook-%d", i), types.RestartPolicyAlways, []string{"serve"})
		p.Spec.Containers[0].Lifecycle = &types.Lifecycle{PostStart: &types.LifecycleHandler{Exec: &types.ExecAction{Command: []string{"hook"}}}}
		e.create(t, p)
	}
	waitFor(t, "every container whose hook failed asked to stop", func() bool { return rt.stopCalls() >= n })
	hookPasses.Store(true) // the replacements' hooks pass

	startFresh(t, e, "fresh", agent.DefaultWorkers+1)
	for i := range n {
		checkOneInstance(t, rt, fmt.Sprintf("hook-%d", i))
	}
	if got := rt.stopCalls(); got != n {
		t.Errorf("%d Stop calls while the %d stops are under way, want %d (no second stop)", got, n, n)
	}

	close(gate)
	for i := range n {
		name := fmt.Sprintf("hook-%d", i)
		e.waitPod(t, name, "restarted after the failed hook", func(p *types.Pod) bool {
			return p != nil && len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].RestartCount == 1 &&
				p.Status.ContainerStatuses[0].State.Running != nil
		})
		e.waitEvent(t, name, "Normal Killing: FailedPostStartHook: container c0 will be killed")
	}
	checkNoOverlap(t, rt)
}
