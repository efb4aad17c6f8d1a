package agent_test

import (
	"testing"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/runtimes"
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
