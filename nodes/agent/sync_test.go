package agent_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/nodes/agent"
	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/sdk"
)

func TestRunToCompletion(t *testing.T) {
	e := newEnv(t)
	rt := newFake("container")
	e.startAgent(t, t.TempDir(), map[string]runtimes.Runtime{"container": rt}, nil)
	tests := []struct {
		name   string
		policy types.RestartPolicy
		args   []string
		phase  types.PodPhase
		code   int32
		reason string
	}{
		{"success", types.RestartPolicyNever, []string{"exit", "0"}, types.PodSucceeded, 0, "Completed"},
		{"failure", types.RestartPolicyNever, []string{"exit", "3"}, types.PodFailed, 3, "Error"},
		{"onfailure success", types.RestartPolicyOnFailure, []string{"exit", "0"}, types.PodSucceeded, 0, "Completed"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := []string{"ok", "fail", "onf"}[i]
			e.create(t, pod(name, tt.policy, tt.args))
			p := e.waitPod(t, name, string(tt.phase), phase(tt.phase))
			if len(p.Status.ContainerStatuses) != 1 {
				t.Fatalf("containerStatuses = %+v", p.Status.ContainerStatuses)
			}
			cs := p.Status.ContainerStatuses[0]
			term := cs.State.Terminated
			if term == nil || term.ExitCode != tt.code || term.Reason != tt.reason {
				t.Fatalf("state = %+v, want terminated %d %s", cs.State, tt.code, tt.reason)
			}
			if term.StartedAt.IsZero() || term.FinishedAt.IsZero() {
				t.Errorf("terminated times unset: %+v", term)
			}
			if cs.ContainerID == "" || cs.ContainerID[:len("container://")] != "container://" || cs.RestartCount != 0 || cs.Ready {
				t.Errorf("status = %+v", cs)
			}
			if p.Status.StartTime == nil || p.Status.HostIP != "10.0.0.1" || p.Status.PodIP == "" {
				t.Errorf("startTime/hostIP/podIP = %v %q %q", p.Status.StartTime, p.Status.HostIP, p.Status.PodIP)
			}
			if cond(p, types.PodReady) != types.ConditionFalse || cond(p, types.PodInitialized) != types.ConditionTrue ||
				cond(p, types.PodScheduled) != types.ConditionTrue {
				t.Errorf("conditions = %+v", p.Status.Conditions)
			}
		})
	}
	e.waitEvent(t, "ok", "Normal Started: Started container c0")
	e.waitEvent(t, "ok", "Normal Created: Created container c0")
	e.waitEvent(t, "ok", `Normal Pulling: Pulling image "example.com/app:v1"`)
}

func TestRunningAndReady(t *testing.T) {
	e := newEnv(t)
	rt := newFake("container")
	e.startAgent(t, t.TempDir(), map[string]runtimes.Runtime{"container": rt}, nil)
	e.create(t, pod("web", types.RestartPolicyAlways, []string{"serve"}, []string{"serve"}))
	p := e.waitPod(t, "web", "ready", func(p *types.Pod) bool {
		return p != nil && p.Status.Phase == types.PodRunning && cond(p, types.PodReady) == types.ConditionTrue
	})
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Running == nil || !cs.Ready || cs.Started == nil || !*cs.Started {
			t.Errorf("container %s: %+v", cs.Name, cs)
		}
	}
	if cond(p, types.ContainersReady) != types.ConditionTrue {
		t.Errorf("ContainersReady = %q", cond(p, types.ContainersReady))
	}
	if running, _ := rt.count(); running != 2 {
		t.Errorf("running containers = %d, want 2", running)
	}
}

func TestRestartPolicies(t *testing.T) {
	e := newEnv(t)
	rt := newFake("container")
	e.startAgent(t, t.TempDir(), map[string]runtimes.Runtime{"container": rt}, nil)

	t.Run("Always restarts a crashing container with back-off", func(t *testing.T) {
		e.create(t, pod("crash", types.RestartPolicyAlways, []string{"exit", "1"}))
		p := e.waitPod(t, "crash", "CrashLoopBackOff after 3 restarts", func(p *types.Pod) bool {
			if p == nil || len(p.Status.ContainerStatuses) == 0 {
				return false
			}
			cs := p.Status.ContainerStatuses[0]
			return cs.RestartCount >= 3 && cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff"
		})
		cs := p.Status.ContainerStatuses[0]
		if last := cs.LastTerminationState.Terminated; last == nil || last.ExitCode != 1 || last.Reason != "Error" {
			t.Errorf("lastState = %+v", cs.LastTerminationState)
		}
		if !strings.Contains(cs.State.Waiting.Message, "back-off") {
			t.Errorf("waiting message = %q", cs.State.Waiting.Message)
		}
		if p.Status.Phase != types.PodRunning {
			t.Errorf("phase = %s, want Running (restartPolicy Always)", p.Status.Phase)
		}
		e.waitEvent(t, "crash", "Warning BackOff: Back-off restarting failed container c0")
	})
	t.Run("OnFailure restarts until success", func(t *testing.T) {
		// The first instance fails; the fake's exit code comes from args,
		// so the Pod keeps failing: restarts must grow and the phase stay
		// Running.
		e.create(t, pod("onfail", types.RestartPolicyOnFailure, []string{"exit", "2"}))
		e.waitPod(t, "onfail", "2 restarts", func(p *types.Pod) bool {
			return p != nil && len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].RestartCount >= 2 &&
				p.Status.Phase == types.PodRunning
		})
	})
	t.Run("Always restarts a container that exited 0", func(t *testing.T) {
		e.create(t, pod("done", types.RestartPolicyAlways, []string{"exit", "0"}))
		e.waitPod(t, "done", "restarted", func(p *types.Pod) bool {
			return p != nil && len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].RestartCount >= 1
		})
	})
	t.Run("old instances are pruned", func(t *testing.T) {
		e.waitPod(t, "crash", "5 restarts", func(p *types.Pod) bool {
			return p != nil && p.Status.ContainerStatuses[0].RestartCount >= 5
		})
		infos, _ := rt.List(t.Context())
		n := 0
		for _, i := range infos {
			if i.Labels[agent.LabelPodName] == "crash" {
				n++
			}
		}
		if n > 2 {
			t.Errorf("%d instances of crash kept, want at most 2 (current and previous)", n)
		}
	})
}

func TestInitContainers(t *testing.T) {
	e := newEnv(t)
	rt := newFake("container")
	e.startAgent(t, t.TempDir(), map[string]runtimes.Runtime{"container": rt}, nil)

	t.Run("in order then app", func(t *testing.T) {
		p := pod("init", types.RestartPolicyNever, []string{"exit", "0"})
		p.Spec.InitContainers = []types.Container{
			{Name: "i0", Image: "example.com/init:v1", Args: []string{"exit", "0"}},
			{Name: "i1", Image: "example.com/init:v1", Args: []string{"sleep", "50ms"}},
		}
		e.create(t, p)
		got := e.waitPod(t, "init", "Succeeded", phase(types.PodSucceeded))
		if len(got.Status.InitContainerStatuses) != 2 {
			t.Fatalf("initContainerStatuses = %+v", got.Status.InitContainerStatuses)
		}
		for _, cs := range got.Status.InitContainerStatuses {
			if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0 || !cs.Ready {
				t.Errorf("init %s: %+v", cs.Name, cs)
			}
		}
		i1, _ := rt.Inspect(t.Context(), got.UID+"-i1-0")
		c0, _ := rt.Inspect(t.Context(), got.UID+"-c0-0")
		if i1.Exit == nil || c0.StartedAt.Before(i1.Exit.FinishedAt) {
			t.Errorf("app started %v before init i1 finished (%+v)", c0.StartedAt, i1.Exit)
		}
	})
	t.Run("failing init with Never fails the pod", func(t *testing.T) {
		p := pod("initfail", types.RestartPolicyNever, []string{"exit", "0"})
		p.Spec.InitContainers = []types.Container{{Name: "i0", Image: "example.com/init:v1", Args: []string{"exit", "4"}}}
		e.create(t, p)
		got := e.waitPod(t, "initfail", "Failed", phase(types.PodFailed))
		if cs := got.Status.ContainerStatuses[0]; cs.State.Waiting == nil || cs.State.Waiting.Reason != "PodInitializing" {
			t.Errorf("app container = %+v, want waiting PodInitializing", cs.State)
		}
		if rt.created("c0") != 1 { // only the "init" pod's c0
			t.Errorf("app container created %d times", rt.created("c0"))
		}
	})
	t.Run("failing init with Always is retried", func(t *testing.T) {
		p := pod("initretry", types.RestartPolicyAlways, []string{"serve"})
		p.Spec.InitContainers = []types.Container{{Name: "ir", Image: "example.com/init:v1", Args: []string{"exit", "1"}}}
		e.create(t, p)
		got := e.waitPod(t, "initretry", "init restarted", func(p *types.Pod) bool {
			return p != nil && len(p.Status.InitContainerStatuses) == 1 && p.Status.InitContainerStatuses[0].RestartCount >= 2
		})
		if got.Status.Phase != types.PodPending || cond(got, types.PodInitialized) != types.ConditionFalse {
			t.Errorf("phase %s, Initialized %s", got.Status.Phase, cond(got, types.PodInitialized))
		}
	})
}

func TestFailuresShownInStatus(t *testing.T) {
	e := newEnv(t)
	rt := newFake("container")
	wasm := newFake("wasm")
	e.startAgent(t, t.TempDir(), map[string]runtimes.Runtime{"container": rt, "wasm": wasm}, nil)

	t.Run("image pull", func(t *testing.T) {
		p := pod("nopull", types.RestartPolicyAlways, []string{"serve"})
		p.Spec.Containers[0].Image = "example.com/missing:v1"
		e.create(t, p)
		e.waitPod(t, "nopull", "ImagePullBackOff", func(p *types.Pod) bool {
			if p == nil || len(p.Status.ContainerStatuses) == 0 {
				return false
			}
			w := p.Status.ContainerStatuses[0].State.Waiting
			return w != nil && w.Reason == "ImagePullBackOff" && strings.Contains(w.Message, "manifest unknown")
		})
		e.waitEvent(t, "nopull", `Warning Failed: Failed to pull image "example.com/missing:v1"`)
		// Repeats are one Event with a count.
		// Repeats are one Event with a count.
		count := func() (int, string) {
			for _, ev := range e.events(t, "nopull") {
				var n int
				if i := strings.LastIndex(ev, "(x"); strings.Contains(ev, "Failed to pull image") && i >= 0 {
					if _, err := fmt.Sscanf(ev[i:], "(x%d)", &n); err == nil {
						return n, ev
					}
				}
			}
			return 0, ""
		}
		waitFor(t, "a pull failure event counted twice", func() bool { n, _ := count(); return n >= 2 })
	})
	t.Run("image not present with pull policy Never", func(t *testing.T) {
		p := pod("neverpull", types.RestartPolicyAlways, []string{"serve"})
		p.Spec.Containers[0].Image = "example.com/missing:v1"
		p.Spec.Containers[0].ImagePullPolicy = types.PullNever
		e.create(t, p)
		want := `Container image "example.com/missing:v1" is not present with pull policy of Never`
		waitFor(t, "ErrImageNeverPull events, retried with the reason kept", func() bool {
			for _, ev := range e.events(t, "neverpull") {
				var n int
				if rest, ok := strings.CutPrefix(ev, "Warning ErrImageNeverPull: "+want+" (x"); ok {
					if _, err := fmt.Sscanf(rest, "%d)", &n); err == nil && n >= 2 {
						return true
					}
				}
			}
			return false
		})
		got := e.waitPod(t, "neverpull", "ErrImageNeverPull", func(p *types.Pod) bool {
			return p != nil && len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Waiting != nil
		})
		if w := got.Status.ContainerStatuses[0].State.Waiting; w.Reason != "ErrImageNeverPull" || w.Message != want {
			t.Errorf("waiting = %+v, want ErrImageNeverPull %q", w, want)
		}
		for _, ev := range e.events(t, "neverpull") {
			if strings.Contains(ev, "Pulling") || strings.Contains(ev, "BackOff") {
				t.Errorf("event %q for an image never pulled", ev)
			}
		}
	})
	t.Run("wasm trap", func(t *testing.T) {
		p := pod("trap", types.RestartPolicyNever, []string{"trap", "wasm error: unreachable"})
		w := "wasm"
		p.Spec.RuntimeClassName = &w
		e.create(t, p)
		got := e.waitPod(t, "trap", "Failed", phase(types.PodFailed))
		term := got.Status.ContainerStatuses[0].State.Terminated
		if term == nil || term.Reason != "Error" || term.Message != "wasm error: unreachable" ||
			!strings.HasPrefix(got.Status.ContainerStatuses[0].ContainerID, "wasm://") {
			t.Errorf("status = %+v", got.Status.ContainerStatuses[0])
		}
	})
	t.Run("runtime not on node", func(t *testing.T) {
		p := pod("nort", types.RestartPolicyNever, []string{"exit", "0"})
		h := "gvisor"
		p.Spec.RuntimeClassName = &h
		if _, err := sdk.Typed[*types.RuntimeClass](e.client).Create(t.Context(),
			&types.RuntimeClass{ObjectMeta: types.ObjectMeta{Name: "gvisor"}, Handler: "runsc"}); err != nil {
			t.Fatal(err)
		}
		e.create(t, p)
		got := e.waitPod(t, "nort", "Failed", phase(types.PodFailed))
		if got.Status.Reason != "RuntimeUnavailable" || !strings.Contains(got.Status.Message, `"runsc" runtime`) {
			t.Errorf("reason %q message %q", got.Status.Reason, got.Status.Message)
		}
	})
	t.Run("active deadline", func(t *testing.T) {
		p := pod("deadline", types.RestartPolicyNever, []string{"serve"})
		d := int64(1)
		p.Spec.ActiveDeadlineSeconds = &d
		e.create(t, p)
		got := e.waitPod(t, "deadline", "Failed", phase(types.PodFailed))
		if got.Status.Reason != "DeadlineExceeded" {
			t.Errorf("reason %q message %q", got.Status.Reason, got.Status.Message)
		}
		if running, _ := rt.count(); running != 0 {
			// nopull never started; the deadline pod must be stopped
			t.Errorf("%d containers still running", running)
		}
	})
}

func TestRuntimeClassHandler(t *testing.T) {
	e := newEnv(t)
	rt := newFake("container")
	wasm := newFake("wasm")
	if _, err := sdk.Typed[*types.RuntimeClass](e.client).Create(t.Context(),
		&types.RuntimeClass{ObjectMeta: types.ObjectMeta{Name: "spin"}, Handler: "wasm"}); err != nil {
		t.Fatal(err)
	}
	e.startAgent(t, t.TempDir(), map[string]runtimes.Runtime{"container": rt, "wasm": wasm}, nil)
	p := pod("spin", types.RestartPolicyNever, []string{"exit", "0"})
	h := "spin"
	p.Spec.RuntimeClassName = &h
	e.create(t, p)
	e.waitPod(t, "spin", "Succeeded", phase(types.PodSucceeded))
	if wasm.created("c0") != 1 || rt.created("c0") != 0 {
		t.Errorf("creates: wasm %d container %d", wasm.created("c0"), rt.created("c0"))
	}
}

func TestNewChecksConfig(t *testing.T) {
	c, err := sdk.New("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	rts := map[string]runtimes.Runtime{"container": newFake("container")}
	dir := t.TempDir()
	tests := []struct {
		name string
		cfg  agent.Config
		want string
	}{
		{"no node name", agent.Config{Client: c, Runtimes: rts, DataDir: dir}, "NodeName"},
		{"no client", agent.Config{NodeName: "n", Runtimes: rts, DataDir: dir}, "Client"},
		{"no runtime", agent.Config{NodeName: "n", Client: c, DataDir: dir}, "runtime"},
		{"nil runtime", agent.Config{NodeName: "n", Client: c, DataDir: dir, Runtimes: map[string]runtimes.Runtime{"wasm": nil}}, `"wasm" is nil`},
		{"no data dir", agent.Config{NodeName: "n", Client: c, Runtimes: rts}, "DataDir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := agent.New(tt.cfg)
			if !errors.Is(err, agent.ErrConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrConfig naming %q", err, tt.want)
			}
		})
	}
	if _, err := agent.New(agent.Config{NodeName: "n", Client: c, Runtimes: rts, DataDir: dir}); err != nil {
		t.Errorf("valid config: %v", err)
	}
}
