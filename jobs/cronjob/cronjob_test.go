package cronjob_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller/controllertest"
	"github.com/wharfhq/wharf/jobs/cronjob"
	"github.com/wharfhq/wharf/jobs/job"
	"github.com/wharfhq/wharf/sdk"
)

const ns = "default"

func ptr[T any](v T) *T { return &v }

type fixture struct {
	t   *testing.T
	env *controllertest.Env
	clk *controllertest.Clock
	// running is the controller newFixture started.
	running *controllertest.Running

	mu     sync.Mutex
	synced map[string][]time.Time // clock readings of finished syncs, by name
}

func newFixture(t *testing.T) *fixture {
	env := controllertest.NewEnv(t)
	f := &fixture{t: t, env: env, clk: controllertest.NewClock(time.Now()), synced: map[string][]time.Time{}}
	f.running = f.start()
	return f
}

func (f *fixture) start() *controllertest.Running {
	return f.env.Start(f.build())
}

// build makes the controller under test, on the fixture's clock.
func (f *fixture) build() controllertest.Build {
	return controllertest.WithOptions(cronjob.NewWithOptions, cronjob.Options{Now: f.clk.Now, Synced: f.onSync})
}

func (f *fixture) cronJobs() *sdk.TypedClient[*types.CronJob] {
	return sdk.Typed[*types.CronJob](f.env.Client).Namespace(ns)
}

func (f *fixture) jobs() *sdk.TypedClient[*types.Job] {
	return sdk.Typed[*types.Job](f.env.Client).Namespace(ns)
}

func newCronJob(name, schedule string) *types.CronJob {
	return &types.CronJob{
		ObjectMeta: types.ObjectMeta{Name: name, Namespace: ns},
		Spec: types.CronJobSpec{
			Schedule: schedule,
			TimeZone: ptr("UTC"),
			JobTemplate: types.JobTemplateSpec{
				ObjectMeta: types.ObjectMeta{Labels: map[string]string{"cron": name}},
				Spec: types.JobSpec{Template: types.PodTemplateSpec{Spec: types.PodSpec{
					RestartPolicy: types.RestartPolicyNever,
					Containers:    []types.Container{{Name: "c", Image: "busybox"}},
				}}},
			},
		},
	}
}

func (f *fixture) create(cj *types.CronJob) *types.CronJob {
	f.t.Helper()
	out, err := f.cronJobs().Create(context.Background(), cj)
	if err != nil {
		f.t.Fatalf("create cronjob: %v", err)
	}
	return out
}

func (f *fixture) onSync(key string, now time.Time) {
	_, name := sdk.SplitKey(key)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.synced[name] = append(f.synced[name], now)
}

// sync makes the controller sync the CronJob at the clock's time and
// waits until it has.
func (f *fixture) sync(name string) {
	f.t.Helper()
	now := f.clk.Now()
	controllertest.Touch(f.t, f.cronJobs(), name)
	f.env.Eventually("sync of "+name+" at "+now.String(), func() (bool, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, t := range f.synced[name] {
			if t.Equal(now) {
				return true, nil
			}
		}
		return false, nil
	})
}

// at moves the clock to the minute boundary m minutes after the
// CronJob's creation minute, plus 5s, and syncs it.
func (f *fixture) at(cj *types.CronJob, m int) time.Time {
	boundary := cj.CreationTimestamp.Truncate(time.Minute).Add(time.Duration(m) * time.Minute)
	f.clk.Set(boundary.Add(5 * time.Second))
	f.sync(cj.Name)
	return boundary
}

// jobNames lists the CronJob's Jobs not being deleted, sorted.
func (f *fixture) jobNames(cron string) []string {
	l, err := f.jobs().List(context.Background(), sdk.ListOptions{LabelSelector: "cron=" + cron})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, j := range l.Items {
		if j.DeletionTimestamp == nil {
			out = append(out, j.Name)
		}
	}
	sort.Strings(out)
	return out
}

func (f *fixture) waitJobs(cron string, want ...string) {
	f.t.Helper()
	sort.Strings(want)
	f.env.Eventually(fmt.Sprintf("jobs %v", want), func() (bool, error) {
		got := f.jobNames(cron)
		return fmt.Sprint(got) == fmt.Sprint(want), fmt.Errorf("have %v", got)
	})
}

func (f *fixture) waitStatus(name, what string, ok func(s types.CronJobStatus) bool) {
	f.t.Helper()
	controllertest.WaitFor(f.env, f.cronJobs(), name, what, func(cj *types.CronJob) bool { return ok(cj.Status) })
}

// finishJob marks a Job Complete or Failed, as the Job controller would.
func (f *fixture) finishJob(name string, ct types.JobConditionType) {
	f.t.Helper()
	controllertest.UpdateStatus(f.t, f.jobs(), name, func(j *types.Job) {
		now := types.NewTime(f.clk.Now().UTC().Truncate(time.Second))
		j.Status.Conditions = append(j.Status.Conditions, types.JobCondition{Type: ct, Status: types.ConditionTrue, LastTransitionTime: now})
		if ct == types.JobComplete {
			j.Status.CompletionTime = &now
		}
	})
}

func TestFiresOncePerStartTime(t *testing.T) {
	f := newFixture(t)
	cj := f.create(newCronJob("tick", "* * * * *"))
	f.clk.Set(cj.CreationTimestamp.Time)
	f.sync("tick")
	if names := f.jobNames("tick"); len(names) != 0 {
		t.Fatalf("jobs %v before the first start time", names)
	}

	t1 := f.at(cj, 1)
	first := cronjob.JobName("tick", t1)
	f.waitJobs("tick", first)
	f.waitStatus("tick", "active and lastScheduleTime", func(s types.CronJobStatus) bool {
		return len(s.Active) == 1 && s.Active[0].Name == first && s.LastScheduleTime != nil && s.LastScheduleTime.Equal(t1)
	})
	j, err := f.jobs().Get(context.Background(), first)
	if err != nil {
		t.Fatal(err)
	}
	if got := j.Annotations[cronjob.ScheduledTimestampAnnotation]; got != t1.UTC().Format(time.RFC3339) {
		t.Errorf("scheduled timestamp annotation %q, want %s", got, t1.UTC().Format(time.RFC3339))
	}
	if ref := types.GetControllerOf(j); ref == nil || ref.UID != cj.UID || ref.Kind != "CronJob" {
		t.Errorf("job controller ref %+v", ref)
	}
	if first != fmt.Sprintf("tick-%d", t1.Unix()/60) {
		t.Errorf("job name %s", first)
	}

	// Syncing again within the same minute starts nothing more.
	f.sync("tick")
	if names := f.jobNames("tick"); len(names) != 1 {
		t.Fatalf("jobs %v after a second sync in the same minute", names)
	}
	f.finishJob(first, types.JobComplete)
	f.waitStatus("tick", "lastSuccessfulTime", func(s types.CronJobStatus) bool {
		return len(s.Active) == 0 && s.LastSuccessfulTime != nil
	})
	t2 := f.at(cj, 2)
	f.waitJobs("tick", first, cronjob.JobName("tick", t2))
}

func TestForbidWaitsThenCatchesUp(t *testing.T) {
	f := newFixture(t)
	spec := newCronJob("forbid", "* * * * *")
	spec.Spec.ConcurrencyPolicy = types.ForbidConcurrent
	cj := f.create(spec)
	t1 := f.at(cj, 1)
	first := cronjob.JobName("forbid", t1)
	f.waitJobs("forbid", first)
	f.waitStatus("forbid", "one active", func(s types.CronJobStatus) bool { return len(s.Active) == 1 })
	f.at(cj, 2)
	if names := f.jobNames("forbid"); len(names) != 1 {
		t.Fatalf("jobs %v while the first runs under Forbid", names)
	}
	// The first finishes during minute 3: the missed start time of
	// minute 3 (the most recent) runs, not minute 2's.
	t3 := f.at(cj, 3)
	f.finishJob(first, types.JobComplete)
	f.waitJobs("forbid", first, cronjob.JobName("forbid", t3))
}

func TestReplaceDeletesRunningJob(t *testing.T) {
	f := newFixture(t)
	spec := newCronJob("replace", "* * * * *")
	spec.Spec.ConcurrencyPolicy = types.ReplaceConcurrent
	cj := f.create(spec)
	first := cronjob.JobName("replace", f.at(cj, 1))
	f.waitJobs("replace", first)
	second := cronjob.JobName("replace", f.at(cj, 2))
	f.waitJobs("replace", second)
	f.waitStatus("replace", "only the new job active", func(s types.CronJobStatus) bool {
		return len(s.Active) == 1 && s.Active[0].Name == second
	})
}

func TestHistoryLimits(t *testing.T) {
	f := newFixture(t)
	spec := newCronJob("hist", "* * * * *")
	spec.Spec.SuccessfulJobsHistoryLimit = ptr(int32(1))
	spec.Spec.FailedJobsHistoryLimit = ptr(int32(0))
	cj := f.create(spec)
	var names []string
	for m := 1; m <= 3; m++ {
		name := cronjob.JobName("hist", f.at(cj, m))
		f.waitJobs("hist", append(names[max(len(names)-1, 0):], name)...)
		f.finishJob(name, types.JobComplete)
		names = append(names, name)
	}
	f.waitJobs("hist", names[2])
	failing := cronjob.JobName("hist", f.at(cj, 4))
	f.waitJobs("hist", names[2], failing)
	f.finishJob(failing, types.JobFailed)
	f.waitJobs("hist", names[2])
}

func TestSuspendAndMissedRunsAfterRestart(t *testing.T) {
	f := newFixture(t)
	spec := newCronJob("late", "* * * * *")
	spec.Spec.Suspend = ptr(true)
	spec.Spec.StartingDeadlineSeconds = ptr(int64(300))
	cj := f.create(spec)
	f.at(cj, 1)
	if names := f.jobNames("late"); len(names) != 0 {
		t.Fatalf("jobs %v of a suspended cronjob", names)
	}
	// Resumed ten minutes later (as after a long outage): one catch-up
	// run, for the most recent start time.
	controllertest.Update(t, f.cronJobs(), "late", func(cur *types.CronJob) {
		cur.Spec.Suspend = ptr(false)
		f.clk.Set(cj.CreationTimestamp.Truncate(time.Minute).Add(10*time.Minute + 5*time.Second))
	})
	t10 := cj.CreationTimestamp.Truncate(time.Minute).Add(10 * time.Minute)
	f.waitJobs("late", cronjob.JobName("late", t10))
	f.waitStatus("late", "lastScheduleTime minute 10", func(s types.CronJobStatus) bool {
		return s.LastScheduleTime != nil && s.LastScheduleTime.Equal(t10)
	})
	// Past the starting deadline a missed start time is skipped.
	spec2 := newCronJob("deadline", "0 0 1 1 *") // once a year
	spec2.Spec.StartingDeadlineSeconds = ptr(int64(60))
	cj2 := f.create(spec2)
	next := time.Date(cj2.CreationTimestamp.Year()+1, 1, 1, 0, 0, 0, 0, time.UTC)
	f.clk.Set(next.Add(2 * time.Minute))
	f.sync("deadline")
	if names := f.jobNames("deadline"); len(names) != 0 {
		t.Fatalf("jobs %v started past the starting deadline", names)
	}
}

func TestRestartDoesNotDuplicateJobs(t *testing.T) {
	f := newFixture(t)
	first := f.running
	cj := f.create(newCronJob("again", "* * * * *"))
	t1 := f.at(cj, 1)
	name := cronjob.JobName("again", t1)
	f.waitJobs("again", name)
	// A second controller over the same API at the same instant (as
	// after a restart) finds the Job and starts nothing.
	first.Stop()
	f.start()
	f.clk.Set(f.clk.Now().Add(time.Second))
	f.sync("again")
	if names := f.jobNames("again"); len(names) != 1 {
		t.Fatalf("jobs %v after a restart within the same minute", names)
	}
	t2 := f.at(cj, 2)
	f.waitJobs("again", name, cronjob.JobName("again", t2))
}

// TestWithJobController runs the CronJob and Job controllers together: a
// start time makes a Job, the Job makes a Pod, the Pod succeeds, the Job
// completes and the CronJob records its success.
func TestWithJobController(t *testing.T) {
	env := controllertest.NewEnv(t)
	f := &fixture{t: t, env: env, clk: controllertest.NewClock(time.Now()), synced: map[string][]time.Time{}}
	env.Start(controllertest.Builds(f.build(), controllertest.Controller(job.New)))
	cj := f.create(newCronJob("both", "* * * * *"))
	name := cronjob.JobName("both", f.at(cj, 1))
	f.waitJobs("both", name)
	var pod types.Pod
	env.Eventually("the job's pod", func() (bool, error) {
		pods := env.Pods(ns, job.LabelJobName+"="+name)
		if len(pods) != 1 {
			return false, fmt.Errorf("%d pods", len(pods))
		}
		pod = pods[0]
		return true, nil
	})
	pod.Status.Phase = types.PodSucceeded
	if _, err := sdk.Typed[*types.Pod](env.Client).Namespace(ns).UpdateStatus(context.Background(), &pod); err != nil {
		t.Fatal(err)
	}
	f.waitStatus("both", "lastSuccessfulTime", func(s types.CronJobStatus) bool {
		return s.LastSuccessfulTime != nil && len(s.Active) == 0
	})
}

// TestManualJobIsNotARun checks that a Job made by hand from the CronJob
// (as kubectl create job --from=cronjob/NAME makes it) is no run of the
// schedule: it is not in status.active, a Forbid schedule starts its Job
// beside it and Replace does not delete it. A Job the CronJob owns that
// was made neither by hand nor by the controller gets the Warning
// UnexpectedJob Kubernetes records; the manual one gets none.
func TestManualJobIsNotARun(t *testing.T) {
	for _, policy := range []types.ConcurrencyPolicy{types.ForbidConcurrent, types.ReplaceConcurrent} {
		t.Run(string(policy), func(t *testing.T) {
			f := newFixture(t)
			name := strings.ToLower(string(policy))
			spec := newCronJob(name, "* * * * *")
			spec.Spec.ConcurrencyPolicy = policy
			cj := f.create(spec)

			manual := cronjob.NewJob(cj, name+"-by-hand")
			manual.Annotations = map[string]string{cronjob.InstantiateAnnotation: cronjob.InstantiateManual}
			stray := cronjob.NewJob(cj, name+"-stray")
			for _, j := range []*types.Job{manual, stray} { // in this order: see below
				if _, err := f.jobs().Create(context.Background(), j); err != nil {
					t.Fatalf("create job %s: %v", j.Name, err)
				}
			}
			// The warning about the stray Job shows that the controller's
			// cache holds it, and so the manual Job created before it.
			f.waitEvent("UnexpectedJob", stray.Name)

			first := cronjob.JobName(name, f.at(cj, 1))
			f.waitJobs(name, manual.Name, stray.Name, first)
			f.waitStatus(name, "only the scheduled job active", func(s types.CronJobStatus) bool {
				return len(s.Active) == 1 && s.Active[0].Name == first
			})
			// Events are written in order: once the creation's is there,
			// any warning about the manual Job from earlier syncs is too.
			f.waitEvent("SuccessfulCreate", first)
			if f.hasEvent("UnexpectedJob", manual.Name) {
				t.Errorf("UnexpectedJob warning about the manual job %s", manual.Name)
			}

			t2 := f.at(cj, 2)
			switch policy {
			case types.ForbidConcurrent:
				if got, want := f.jobNames(name), []string{first, manual.Name, stray.Name}; fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("jobs %v while %s runs under Forbid, want %v", got, first, want)
				}
			case types.ReplaceConcurrent:
				second := cronjob.JobName(name, t2)
				f.waitJobs(name, manual.Name, stray.Name, second)
				f.waitStatus(name, "only the new job active", func(s types.CronJobStatus) bool {
					return len(s.Active) == 1 && s.Active[0].Name == second
				})
			}
		})
	}
}

// hasEvent reports whether an event of reason names the object whose
// name is in its message.
func (f *fixture) hasEvent(reason, name string) bool {
	f.t.Helper()
	l, err := sdk.Typed[*types.Event](f.env.Client).Namespace(ns).List(context.Background(), sdk.ListOptions{})
	if err != nil {
		f.t.Fatalf("list events: %v", err)
	}
	for _, ev := range l.Items {
		if ev.Reason == reason && strings.HasSuffix(ev.Message, " "+name) {
			return true
		}
	}
	return false
}

// waitEvent waits for an event of reason naming name.
func (f *fixture) waitEvent(reason, name string) {
	f.t.Helper()
	f.env.Eventually(reason+" event about "+name, func() (bool, error) { return f.hasEvent(reason, name), nil })
}

// TestManualJobCountsInHistory checks that, as in Kubernetes, a finished
// Job made by hand from the CronJob counts in its history limits.
func TestManualJobCountsInHistory(t *testing.T) {
	f := newFixture(t)
	spec := newCronJob("kept", "* * * * *")
	spec.Spec.SuccessfulJobsHistoryLimit = ptr(int32(1))
	cj := f.create(spec)
	manual := cronjob.NewJob(cj, "kept-by-hand")
	manual.Annotations = map[string]string{cronjob.InstantiateAnnotation: cronjob.InstantiateManual}
	if _, err := f.jobs().Create(context.Background(), manual); err != nil {
		t.Fatal(err)
	}
	f.finishJob(manual.Name, types.JobComplete)
	f.waitStatus("kept", "the manual job's success", func(s types.CronJobStatus) bool { return s.LastSuccessfulTime != nil })
	// Minute 2's start time is later than the manual Job's creation even
	// when the test crosses a minute boundary.
	run := cronjob.JobName("kept", f.at(cj, 2))
	f.waitJobs("kept", manual.Name, run)
	f.finishJob(run, types.JobComplete)
	f.waitJobs("kept", run)
}
