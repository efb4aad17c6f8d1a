package job_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller/controllertest"
	"github.com/wharfhq/wharf/jobs/job"
	"github.com/wharfhq/wharf/sdk"
)

const ns = "default"

func ptr[T any](v T) *T { return &v }

func start(env *controllertest.Env, opts job.Options) *controllertest.Running {
	if opts.BackoffBase == 0 {
		opts.BackoffBase = time.Millisecond
	}
	return env.Start(controllertest.WithOptions(job.NewWithOptions, opts))
}

func newJob(name string, completions, parallelism *int32) *types.Job {
	return &types.Job{
		ObjectMeta: types.ObjectMeta{Name: name, Namespace: ns},
		Spec: types.JobSpec{
			Completions: completions,
			Parallelism: parallelism,
			Template: types.PodTemplateSpec{
				ObjectMeta: types.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: types.PodSpec{
					RestartPolicy: types.RestartPolicyNever,
					Containers:    []types.Container{{Name: "c", Image: "busybox"}},
				},
			},
		},
	}
}

func jobs(env *controllertest.Env) *sdk.TypedClient[*types.Job] {
	return sdk.Typed[*types.Job](env.Client).Namespace(ns)
}

func create(t *testing.T, env *controllertest.Env, j *types.Job) *types.Job {
	t.Helper()
	out, err := jobs(env).Create(context.Background(), j)
	if err != nil {
		t.Fatalf("create job: %v", err)
	}
	return out
}

// activePods lists the Job's Pods that are neither finished nor deleted.
func activePods(env *controllertest.Env, name string) []types.Pod {
	var out []types.Pod
	for _, p := range env.Pods(ns, job.LabelJobName+"="+name) {
		if p.DeletionTimestamp == nil && p.Status.Phase != types.PodSucceeded && p.Status.Phase != types.PodFailed {
			out = append(out, p)
		}
	}
	return out
}

func waitActive(env *controllertest.Env, name string, n int) []types.Pod {
	env.T.Helper()
	var pods []types.Pod
	env.Eventually(fmt.Sprintf("%d active pods of %s", n, name), func() (bool, error) {
		pods = activePods(env, name)
		return len(pods) == n, fmt.Errorf("have %d", len(pods))
	})
	return pods
}

func waitJob(env *controllertest.Env, name, what string, ok func(j *types.Job) bool) *types.Job {
	env.T.Helper()
	return controllertest.WaitFor(env, jobs(env), name, what, ok)
}

// finish sets a Pod Succeeded or Failed, as an agent would.
func finish(t *testing.T, env *controllertest.Env, name string, phase types.PodPhase) {
	t.Helper()
	controllertest.UpdateStatus(t, sdk.Typed[*types.Pod](env.Client).Namespace(ns), name, func(p *types.Pod) {
		code := int32(0)
		if phase == types.PodFailed {
			code = 1
		}
		now := types.Now()
		p.Status.Phase = phase
		p.Status.StartTime = &now
		p.Status.ContainerStatuses = []types.ContainerStatus{{Name: "c", State: types.ContainerState{
			Terminated: &types.ContainerStateTerminated{ExitCode: code, FinishedAt: now},
		}}}
	})
}

func condition(j *types.Job, ct types.JobConditionType) *types.JobCondition {
	for i := range j.Status.Conditions {
		if j.Status.Conditions[i].Type == ct && j.Status.Conditions[i].Status == types.ConditionTrue {
			return &j.Status.Conditions[i]
		}
	}
	return nil
}

func TestCompletionsAndParallelism(t *testing.T) {
	env := controllertest.NewEnv(t)
	start(env, job.Options{})
	j := create(t, env, newJob("pi", ptr(int32(3)), ptr(int32(2))))

	pods := waitActive(env, "pi", 2)
	for _, p := range pods {
		if p.Labels[job.LabelControllerUID] != j.UID || p.Labels[job.LabelJobName] != "pi" || p.Labels["app"] != "pi" {
			t.Errorf("pod %s labels %v", p.Name, p.Labels)
		}
		if ref := types.GetControllerOf(&p); ref == nil || ref.UID != j.UID || ref.Kind != "Job" {
			t.Errorf("pod %s controller ref %+v", p.Name, ref)
		}
		if !strings.HasPrefix(p.Name, "pi-") {
			t.Errorf("pod name %s", p.Name)
		}
	}
	waitJob(env, "pi", "active 2 and startTime", func(j *types.Job) bool {
		return j.Status.Active == 2 && j.Status.StartTime != nil
	})
	finish(t, env, pods[0].Name, types.PodSucceeded)
	finish(t, env, pods[1].Name, types.PodSucceeded)
	// Only one more completion is needed: one Pod, not two.
	last := waitActive(env, "pi", 1)
	waitJob(env, "pi", "succeeded 2", func(j *types.Job) bool { return j.Status.Succeeded == 2 && j.Status.Active == 1 })
	finish(t, env, last[0].Name, types.PodSucceeded)
	done := waitJob(env, "pi", "Complete", func(j *types.Job) bool { return condition(j, types.JobComplete) != nil })
	if done.Status.Succeeded != 3 || done.Status.Active != 0 || done.Status.Failed != 0 || done.Status.CompletionTime == nil {
		t.Fatalf("complete status %+v", done.Status)
	}
	if n := len(env.Pods(ns, job.LabelJobName+"=pi")); n != 3 {
		t.Fatalf("%d pods after completion, want the 3 finished ones kept", n)
	}
	waitEvents(env, "pi", "SuccessfulCreate", "Completed")
}

// waitEvents waits for events of the given reasons about the Job name.
func waitEvents(env *controllertest.Env, name string, reasons ...string) {
	env.T.Helper()
	env.Eventually(fmt.Sprintf("events %v about %s", reasons, name), func() (bool, error) {
		l, err := sdk.Typed[*types.Event](env.Client).Namespace(ns).List(context.Background(), sdk.ListOptions{})
		if err != nil {
			return false, err
		}
		seen := map[string]bool{}
		for _, e := range l.Items {
			if e.InvolvedObject.Name == name && e.InvolvedObject.Kind == "Job" {
				seen[e.Reason] = true
			}
		}
		for _, r := range reasons {
			if !seen[r] {
				return false, fmt.Errorf("saw %v", seen)
			}
		}
		return true, nil
	})
}

func TestBackoffLimitExceeded(t *testing.T) {
	env := controllertest.NewEnv(t)
	start(env, job.Options{})
	j := newJob("flaky", nil, nil)
	j.Spec.BackoffLimit = ptr(int32(1))
	create(t, env, j)

	first := waitActive(env, "flaky", 1)
	finish(t, env, first[0].Name, types.PodFailed)
	var second []types.Pod
	env.Eventually("a replacement pod", func() (bool, error) {
		second = activePods(env, "flaky")
		return len(second) == 1 && second[0].Name != first[0].Name, fmt.Errorf("active %d", len(second))
	})
	waitJob(env, "flaky", "failed 1", func(j *types.Job) bool { return j.Status.Failed == 1 })
	finish(t, env, second[0].Name, types.PodFailed)
	failed := waitJob(env, "flaky", "Failed", func(j *types.Job) bool { return condition(j, types.JobFailed) != nil })
	if c := condition(failed, types.JobFailed); c.Reason != types.JobReasonBackoffLimitExceeded {
		t.Fatalf("Failed reason %q, want %s", c.Reason, types.JobReasonBackoffLimitExceeded)
	}
	if failed.Status.Failed != 2 || failed.Status.Active != 0 {
		t.Fatalf("status %+v", failed.Status)
	}
	waitEvents(env, "flaky", types.JobReasonBackoffLimitExceeded)
	if n := len(activePods(env, "flaky")); n != 0 {
		t.Fatalf("%d active pods after failure", n)
	}
}

func TestBackoffDelaysRetries(t *testing.T) {
	env := controllertest.NewEnv(t)
	clk := controllertest.NewClock(time.Now())
	start(env, job.Options{BackoffBase: time.Hour, Now: clk.Now})
	create(t, env, newJob("slow", nil, nil))
	first := waitActive(env, "slow", 1)
	finish(t, env, first[0].Name, types.PodFailed)
	waitJob(env, "slow", "failed 1", func(j *types.Job) bool { return j.Status.Failed == 1 })
	if n := len(activePods(env, "slow")); n != 0 {
		t.Fatalf("%d pods created inside the back-off of an hour", n)
	}
	clk.Add(2 * time.Hour)
	controllertest.Touch(t, jobs(env), "slow")
	waitActive(env, "slow", 1)
}

func TestActiveDeadline(t *testing.T) {
	env := controllertest.NewEnv(t)
	clk := controllertest.NewClock(time.Now())
	start(env, job.Options{Now: clk.Now})
	j := newJob("deadline", ptr(int32(4)), ptr(int32(2)))
	j.Spec.ActiveDeadlineSeconds = ptr(int64(60))
	create(t, env, j)
	waitActive(env, "deadline", 2)
	// The deadline counts from status.startTime: move the clock only once
	// it is recorded.
	waitJob(env, "deadline", "startTime", func(j *types.Job) bool { return j.Status.StartTime != nil })
	clk.Add(61 * time.Second)
	controllertest.Touch(t, jobs(env), "deadline")
	failed := waitJob(env, "deadline", "Failed", func(j *types.Job) bool { return condition(j, types.JobFailed) != nil })
	if c := condition(failed, types.JobFailed); c.Reason != types.JobReasonDeadlineExceeded {
		t.Fatalf("reason %q", c.Reason)
	}
	if n := len(activePods(env, "deadline")); n != 0 {
		t.Fatalf("%d active pods left after the deadline", n)
	}
}

func TestIndexed(t *testing.T) {
	env := controllertest.NewEnv(t)
	start(env, job.Options{})
	j := newJob("idx", ptr(int32(3)), ptr(int32(3)))
	j.Spec.CompletionMode = ptr(types.IndexedCompletion)
	create(t, env, j)
	pods := waitActive(env, "idx", 3)
	byIndex := map[string]types.Pod{}
	for _, p := range pods {
		idx := p.Annotations[job.CompletionIndexAnnotation]
		byIndex[idx] = p
		if p.Spec.Hostname != "idx-"+idx {
			t.Errorf("pod %s hostname %q, want idx-%s", p.Name, p.Spec.Hostname, idx)
		}
		var env string
		for _, e := range p.Spec.Containers[0].Env {
			if e.Name == job.CompletionIndexEnv {
				env = e.Value
			}
		}
		if env != idx {
			t.Errorf("pod %s %s=%q, want %q", p.Name, job.CompletionIndexEnv, env, idx)
		}
	}
	if len(byIndex) != 3 || byIndex["0"].Name == "" || byIndex["1"].Name == "" || byIndex["2"].Name == "" {
		t.Fatalf("indexes %v, want 0, 1 and 2", byIndex)
	}
	finish(t, env, byIndex["0"].Name, types.PodSucceeded)
	finish(t, env, byIndex["2"].Name, types.PodSucceeded)
	waitJob(env, "idx", "completedIndexes 0,2", func(j *types.Job) bool { return j.Status.CompletedIndexes == "0,2" && j.Status.Succeeded == 2 })
	// A failed index is retried with the same index.
	finish(t, env, byIndex["1"].Name, types.PodFailed)
	var retry []types.Pod
	env.Eventually("index 1 retried", func() (bool, error) {
		retry = activePods(env, "idx")
		return len(retry) == 1 && retry[0].Annotations[job.CompletionIndexAnnotation] == "1", fmt.Errorf("active %d", len(retry))
	})
	finish(t, env, retry[0].Name, types.PodSucceeded)
	done := waitJob(env, "idx", "Complete", func(j *types.Job) bool { return condition(j, types.JobComplete) != nil })
	if done.Status.CompletedIndexes != "0-2" || done.Status.Succeeded != 3 || done.Status.Failed != 1 {
		t.Fatalf("status %+v", done.Status)
	}
}

func TestSuspendAndResume(t *testing.T) {
	env := controllertest.NewEnv(t)
	start(env, job.Options{})
	j := newJob("sus", ptr(int32(2)), ptr(int32(2)))
	j.Spec.Suspend = ptr(true)
	create(t, env, j)
	waitJob(env, "sus", "Suspended", func(j *types.Job) bool { return condition(j, types.JobSuspended) != nil })
	if n := len(activePods(env, "sus")); n != 0 {
		t.Fatalf("%d pods of a suspended job", n)
	}
	controllertest.Update(t, jobs(env), "sus", func(j *types.Job) { j.Spec.Suspend = ptr(false) })
	waitActive(env, "sus", 2)
	waitJob(env, "sus", "resumed", func(j *types.Job) bool {
		return condition(j, types.JobSuspended) == nil && j.Status.StartTime != nil && j.Status.Active == 2
	})
}

func TestTTLAfterFinishedDeletesJob(t *testing.T) {
	env := controllertest.NewEnv(t)
	start(env, job.Options{})
	j := newJob("ttl", nil, nil)
	j.Spec.TTLSecondsAfterFinished = ptr(int32(0))
	create(t, env, j)
	pods := waitActive(env, "ttl", 1)
	finish(t, env, pods[0].Name, types.PodSucceeded)
	env.Eventually("job deleted after its ttl", func() (bool, error) {
		_, err := jobs(env).Get(context.Background(), "ttl")
		return sdk.IsNotFound(err), err
	})
}

func TestRestartDoesNotDuplicatePods(t *testing.T) {
	env := controllertest.NewEnv(t)
	first := start(env, job.Options{})
	create(t, env, newJob("again", ptr(int32(5)), ptr(int32(3))))
	pods := waitActive(env, "again", 3)
	finish(t, env, pods[0].Name, types.PodSucceeded)
	waitActive(env, "again", 3)
	waitJob(env, "again", "succeeded 1", func(j *types.Job) bool { return j.Status.Succeeded == 1 })
	first.Stop()
	start(env, job.Options{})
	// The restarted controller works on from the cache it rebuilt: one
	// more success brings exactly one more Pod, no duplicates.
	finish(t, env, pods[1].Name, types.PodSucceeded)
	waitJob(env, "again", "succeeded 2 after restart", func(j *types.Job) bool {
		return j.Status.Succeeded == 2 && j.Status.Active == 3
	})
	if n := len(env.Pods(ns, job.LabelJobName+"=again")); n != 5 {
		t.Fatalf("%d pods after restart, want 5 (2 succeeded, 3 active)", n)
	}
}

func TestDeletedFinishedPodKeepsItsCount(t *testing.T) {
	env := controllertest.NewEnv(t)
	start(env, job.Options{})
	create(t, env, newJob("keep", ptr(int32(2)), ptr(int32(1))))
	first := waitActive(env, "keep", 1)
	finish(t, env, first[0].Name, types.PodSucceeded)
	waitJob(env, "keep", "succeeded 1", func(j *types.Job) bool { return j.Status.Succeeded == 1 })
	second := waitActive(env, "keep", 1)
	// Someone deletes the finished Pod: its success still counts, so one
	// more success completes the Job (no third Pod).
	if err := sdk.Typed[*types.Pod](env.Client).Namespace(ns).Delete(context.Background(), first[0].Name, types.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	finish(t, env, second[0].Name, types.PodSucceeded)
	done := waitJob(env, "keep", "Complete", func(j *types.Job) bool { return condition(j, types.JobComplete) != nil })
	if done.Status.Succeeded != 2 {
		t.Fatalf("succeeded %d, want 2", done.Status.Succeeded)
	}
	if n := len(env.Pods(ns, job.LabelJobName+"=keep")); n != 1 {
		t.Fatalf("%d pods left, want the second one only", n)
	}
}
