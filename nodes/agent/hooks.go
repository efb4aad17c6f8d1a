package agent

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/nodes/probe"
	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/sdk"
)

// maxExecOutput bounds what an exec probe or hook keeps of its output.
const maxExecOutput = 4 << 10

// limitedBuffer keeps the first n bytes written to it.
type limitedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	n   int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.n - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(b.buf.String())
}

// target is how probes and hooks reach one container instance.
func (a *Agent) target(pod *types.Pod, c *types.Container, inst *instance) probe.Target {
	t := probe.Target{Host: "127.0.0.1", Ports: map[string]int32{}}
	for _, p := range c.Ports {
		if p.Name != "" {
			t.Ports[p.Name] = p.ContainerPort
		}
	}
	if ex, ok := inst.rt.(runtimes.Execer); ok && inst.rt.Name() != RuntimeWasm {
		id := inst.info.ID
		t.Exec = func(ctx context.Context, cmd []string) (int, error) {
			out := &limitedBuffer{n: maxExecOutput}
			code, err := ex.Exec(ctx, id, runtimes.ExecOptions{Command: cmd, Stdout: out, Stderr: out})
			if err == nil && code != 0 && out.String() != "" {
				return code, fmt.Errorf("exit code %d: %s", code, out.String())
			}
			return code, err
		}
	}
	if inst.rt.Name() == RuntimeContainer && !pod.Spec.HostNetwork && a.podNetNS() {
		t.Dial = dialIn(a.netnsPath(pod.UID))
	}
	return t
}

// ensureProbes starts the probe workers of a running container.
func (a *Agent) ensureProbes(pod *types.Pod, c *types.Container, inst *instance) {
	key := sdk.KeyFunc(pod)
	for _, kp := range []struct {
		kind probe.Kind
		p    *types.Probe
	}{{probe.Startup, c.StartupProbe}, {probe.Liveness, c.LivenessProbe}, {probe.Readiness, c.ReadinessProbe}} {
		if kp.p != nil {
			a.probes.Ensure(key, inst.info.ID, c.Name, kp.kind, kp.p, a.target(pod, c, inst))
		}
	}
}

// started reports whether a running container has passed its startup
// probe (or has none).
func (a *Agent) started(c *types.Container, inst *instance) bool {
	if c.StartupProbe == nil {
		return true
	}
	r, _ := a.probes.Result(inst.info.ID, probe.Startup)
	return r == probe.Success
}

// probeReady reports whether a running container is ready: started, and
// passing its readiness probe if it has one.
func (a *Agent) probeReady(pod *types.Pod, c *types.Container, inst *instance) bool {
	if !a.started(c, inst) {
		return false
	}
	if c.ReadinessProbe == nil {
		return true
	}
	r, _ := a.probes.Result(inst.info.ID, probe.Readiness)
	return r == probe.Success
}

// unhealthy reports whether a running container failed its liveness or
// startup probe, and which.
func (a *Agent) unhealthy(c *types.Container, inst *instance) (probe.Kind, bool) {
	if c.StartupProbe != nil {
		if r, _ := a.probes.Result(inst.info.ID, probe.Startup); r == probe.Failure && a.probeFailedOut(inst.info.ID, probe.Startup) {
			return probe.Startup, true
		}
	}
	if c.LivenessProbe != nil {
		if r, _ := a.probes.Result(inst.info.ID, probe.Liveness); r == probe.Failure {
			return probe.Liveness, true
		}
	}
	return "", false
}

// probeFailedOut tells a startup probe that crossed its failure threshold
// from one that simply has not succeeded yet.
func (a *Agent) probeFailedOut(id string, kind probe.Kind) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.failedOut[id+"/"+string(kind)]
}

// probeChanged is told when a probe result crosses its threshold.
func (a *Agent) probeChanged(ch probe.Change) {
	if ch.Result == probe.Failure && ch.Kind == probe.Startup {
		a.mu.Lock()
		a.failedOut[ch.ContainerID+"/"+string(ch.Kind)] = true
		a.mu.Unlock()
	}
	a.queue.Add(ch.Key)
}

// probeFailed records an Unhealthy event for each failed run.
func (a *Agent) probeFailed(ch probe.Change) {
	ns, name := sdk.SplitKey(ch.Key)
	pod, err := sdk.ListerFor[*types.Pod](a.pods).Get(ns, name)
	if err != nil {
		return
	}
	a.events.warn(pod, ch.Container, "Unhealthy", fmt.Sprintf("%s probe failed: %s", ch.Kind, ch.Output))
}

// stopProbes ends a container's probe workers.
func (a *Agent) stopProbes(id string) {
	a.probes.Stop(id)
	a.mu.Lock()
	for _, k := range []probe.Kind{probe.Startup, probe.Liveness} {
		delete(a.failedOut, id+"/"+string(k))
	}
	a.mu.Unlock()
}

// grace is the termination grace period for stopping a container (c may
// be nil for the whole Pod): a probe kill's own
// terminationGracePeriodSeconds, else the Pod's (30s by default).
func (a *Agent) grace(pod *types.Pod, c *types.Container, kind probe.Kind) time.Duration {
	var p *types.Probe
	switch {
	case c == nil:
	case kind == probe.Liveness:
		p = c.LivenessProbe
	case kind == probe.Startup:
		p = c.StartupProbe
	}
	if p != nil && p.TerminationGracePeriodSeconds != nil {
		return time.Duration(*p.TerminationGracePeriodSeconds) * time.Second
	}
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		return time.Duration(*g) * time.Second
	}
	return 30 * time.Second
}

// runPreStop runs the preStop hooks of the Pod's running containers, in
// parallel, each bounded by what is left of the grace period.
func (a *Agent) runPreStop(ctx context.Context, pod *types.Pod, mine map[string][]*instance, left time.Duration) {
	if left <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, left)
	defer cancel()
	var wg sync.WaitGroup
	for _, list := range [][]types.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			c := &list[i]
			insts := mine[c.Name]
			if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || len(insts) == 0 || insts[0].info.State != runtimes.StateRunning {
				continue
			}
			inst := insts[0]
			wg.Add(1)
			go func() {
				defer wg.Done()
				p, ok := hookProbe(c.Lifecycle.PreStop, left)
				if !ok {
					return
				}
				if res, out := probe.Run(ctx, p, a.target(pod, c, inst)); res != probe.Success {
					a.events.warn(pod, c.Name, "FailedPreStopHook", "PreStopHook failed: "+out)
				}
			}()
		}
	}
	wg.Wait()
}

// runPostStart runs a container's postStart hook right after it started;
// a hook that fails kills the container (which is then restarted per the
// restart policy), as in Kubernetes. The caller holds st.mu.
func (a *Agent) runPostStart(ctx context.Context, pod *types.Pod, c *types.Container, inst *instance, st *podState) {
	if c.Lifecycle == nil || c.Lifecycle.PostStart == nil {
		return
	}
	grace := a.grace(pod, c, "")
	p, ok := hookProbe(c.Lifecycle.PostStart, grace)
	if !ok {
		return
	}
	res, out := probe.Run(ctx, p, a.target(pod, c, inst))
	if res == probe.Success {
		return
	}
	a.events.warn(pod, c.Name, "FailedPostStartHook", "PostStartHook failed: "+out)
	a.events.normal(pod, c.Name, "Killing", fmt.Sprintf("FailedPostStartHook: container %s will be killed", c.Name))
	st.probeKilled[inst.info.ID] = true
	// Off the sync worker, as a probe kill: the stop may take the whole
	// grace period.
	a.stopAsync(sdk.KeyFunc(pod), inst, st, grace, "stop container after a failed postStart hook")
}

// hookProbe runs a lifecycle hook as a one-off probe bounded by timeout;
// false when the hook has no handler.
func hookProbe(h *types.LifecycleHandler, timeout time.Duration) (*types.Probe, bool) {
	p := &types.Probe{TimeoutSeconds: int32(max(timeout/time.Second, 1))}
	switch {
	case h.Exec != nil:
		p.Exec = h.Exec
	case h.HTTPGet != nil:
		p.HTTPGet = h.HTTPGet
	default:
		return nil, false
	}
	return p, true
}
