package agent_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller/controllertest"
	"github.com/wharfhq/wharf/jobs/job"
	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/sdk"
)

// A container whose command is not in the image ends as containerd
// reports it to the kubelet: terminated, StartError, exit code 128, the
// runtime's error as message; the restart policy then applies (Never: the
// Pod fails; Always: CrashLoopBackOff), instead of a Waiting
// CreateContainerError retried for ever.
func TestContainerStartError(t *testing.T) {
	c := newCtrEnv(t)
	e := newEnv(t)
	cleanupContainers(t, c.rt)
	e.startAgent(t, dataDir(t), map[string]runtimes.Runtime{"container": c.rt}, nil)

	noShell := func(name string, policy types.RestartPolicy) *types.Pod {
		p := c.pod(name, policy, nil)
		p.Spec.Containers[0].Command = []string{"/bin/sh", "-c", "exit 1"}
		return p
	}
	e.create(t, noShell("never", types.RestartPolicyNever))
	e.create(t, noShell("always", types.RestartPolicyAlways))
	notPresent := c.pod("notpresent", types.RestartPolicyNever, []string{"exit", "0"})
	notPresent.Spec.Containers[0].Image = strings.Replace(c.ref, "/agent-app:", "/absent:", 1) // in no store
	notPresent.Spec.Containers[0].ImagePullPolicy = types.PullNever
	e.create(t, notPresent)

	t.Run("Never", func(t *testing.T) {
		p := e.waitPod(t, "never", "Failed", phase(types.PodFailed))
		cs := p.Status.ContainerStatuses[0]
		term := cs.State.Terminated
		if term == nil || term.ExitCode != 128 || term.Reason != runtimes.ReasonStartError || !strings.Contains(term.Message, "/bin/sh") {
			t.Errorf("state = %+v, want terminated 128 %s naming /bin/sh", cs.State, runtimes.ReasonStartError)
		}
		if cs.RestartCount != 0 {
			t.Errorf("restartCount = %d, want 0", cs.RestartCount)
		}
		if got := term.StartedAt.Format(time.RFC1123Z); got != "Thu, 01 Jan 1970 00:00:00 +0000" {
			t.Errorf("startedAt = %q, want the Unix epoch (as Kubernetes shows a StartError)", got)
		}
		// The kubelet's events: Created, then Failed naming the container
		// (not Wharf's instance ID).
		e.waitEvent(t, "never", "Normal Created: Created container c0")
		e.waitEvent(t, "never", `Warning Failed: Error: failed to start container "c0": `)
		noIDs(t, e, p)
	})
	t.Run("image not present with pull policy Never", func(t *testing.T) {
		p := e.waitPod(t, "notpresent", "ErrImageNeverPull", func(p *types.Pod) bool {
			cs := p.Status.ContainerStatuses
			return len(cs) == 1 && cs[0].State.Waiting != nil && cs[0].State.Waiting.Reason == "ErrImageNeverPull"
		})
		if w := p.Status.ContainerStatuses[0].State.Waiting; !strings.Contains(w.Message, "is not present with pull policy of Never") {
			t.Errorf("message = %q", w.Message)
		}
	})
	t.Run("Always", func(t *testing.T) {
		p := e.waitPod(t, "always", "CrashLoopBackOff after a restart", func(p *types.Pod) bool {
			cs := p.Status.ContainerStatuses
			return len(cs) == 1 && cs[0].RestartCount >= 1 && cs[0].State.Waiting != nil &&
				cs[0].State.Waiting.Reason == "CrashLoopBackOff"
		})
		cs := p.Status.ContainerStatuses[0]
		if last := cs.LastTerminationState.Terminated; last == nil || last.ExitCode != 128 || last.Reason != runtimes.ReasonStartError {
			t.Errorf("lastState = %+v, want terminated 128 %s", cs.LastTerminationState, runtimes.ReasonStartError)
		}
		if p.Status.Phase != types.PodRunning && p.Status.Phase != types.PodPending {
			t.Errorf("phase = %s", p.Status.Phase)
		}
	})
}

// A Job (backoffLimit 1) whose command cannot be started counts a failure
// per Pod and ends with BackoffLimitExceeded, instead of running for ever.
func TestContainerStartErrorFailsJob(t *testing.T) {
	c := newCtrEnv(t)
	e := newEnv(t)
	cleanupContainers(t, c.rt)
	e.startAgent(t, dataDir(t), map[string]runtimes.Runtime{"container": c.rt}, nil)
	ce := &controllertest.Env{T: t, Client: e.client}
	ce.Start(controllertest.WithOptions(job.NewWithOptions, job.Options{BackoffBase: 50 * time.Millisecond}))

	tmpl := c.pod("", types.RestartPolicyNever, nil)
	tmpl.Spec.Containers[0].Command = []string{"/bin/sh", "-c", "exit 1"}
	limit := int32(1)
	jobs := sdk.Typed[*types.Job](e.client).Namespace("default")
	j := &types.Job{
		ObjectMeta: types.ObjectMeta{Name: "noshell", Namespace: "default"},
		Spec: types.JobSpec{BackoffLimit: &limit, Template: types.PodTemplateSpec{
			ObjectMeta: types.ObjectMeta{Labels: map[string]string{"app": "noshell"}},
			Spec:       tmpl.Spec,
		}},
	}
	if _, err := jobs.Create(context.Background(), j); err != nil {
		t.Fatalf("create job: %v", err)
	}
	var last *types.Job
	ce.Eventually("the Job fails with BackoffLimitExceeded", func() (bool, error) {
		got, err := jobs.Get(context.Background(), "noshell")
		if err != nil {
			return false, err
		}
		last = got
		for _, cond := range got.Status.Conditions {
			if cond.Type == types.JobFailed && cond.Status == types.ConditionTrue && cond.Reason == types.JobReasonBackoffLimitExceeded {
				return true, nil
			}
		}
		return false, nil
	})
	if last.Status.Failed != 2 {
		t.Errorf("failed = %d, want 2 (backoffLimit 1)", last.Status.Failed)
	}
}
