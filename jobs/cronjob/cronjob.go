// Package cronjob is the CronJob controller (batch/v1): it creates a Job
// from spec.jobTemplate at every start time of spec.schedule (in
// spec.timeZone), honouring concurrencyPolicy, startingDeadlineSeconds and
// suspend, keeps status.active (the Jobs it started, not those made by
// hand with kubectl create job --from), lastScheduleTime and
// lastSuccessfulTime, and deletes finished Jobs beyond the history limits.
//
// After a restart (or any pause) it behaves as Kubernetes does: of the
// start times missed since status.lastScheduleTime (within
// startingDeadlineSeconds when set) it runs only the most recent one, and
// it warns when more than 100 were missed. Time comes from an injectable
// clock.
package cronjob

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/jobs/job"
	"github.com/wharfhq/wharf/sdk"
)

// Name is the controller's name in logs and in the manager.
const Name = "cronjob"

// ScheduledTimestampAnnotation records, on each Job, the start time it
// was created for (RFC 3339).
const ScheduledTimestampAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp"

// InstantiateAnnotation, with the value InstantiateManual, marks a Job
// made by hand from a CronJob (kubectl create job --from=cronjob/NAME):
// the CronJob owns it, so it counts in the history limits, but it is not
// one of the CronJob's runs, so it is not in status.active, does not hold
// back a Forbid schedule and is not deleted by Replace.
const (
	InstantiateAnnotation = "cronjob.kubernetes.io/instantiate"
	InstantiateManual     = "manual"
)

// History limits Kubernetes defaults to.
const (
	DefaultSuccessfulJobsHistoryLimit = 3
	DefaultFailedJobsHistoryLimit     = 1
)

// GVK is the kind this controller manages.
var GVK = types.GroupVersionKind{Group: "batch", Version: "v1", Kind: "CronJob"}

// Options tune the controller.
type Options struct {
	// Now is the clock (time.Now when nil). Tests set a fake clock and
	// re-trigger syncs themselves: the controller's own re-checks at the
	// next start time run on real time.
	Now func() time.Time
	// Synced, when set, is called after every sync of a CronJob with its
	// key and the time the sync read from the clock (tests wait on it).
	Synced func(key string, now time.Time)
}

// Controller is the CronJob controller.
type Controller struct {
	*controller.Controller
	client    *sdk.Client
	cjLister  *sdk.TypedLister[*types.CronJob]
	jobLister *sdk.TypedLister[*types.Job]
	now       func() time.Time
	synced    func(key string, now time.Time)
}

var _ controller.Runner = (*Controller)(nil)

// New returns a CronJob controller on the real clock.
func New(cc *controller.Context) (*Controller, error) { return NewWithOptions(cc, Options{}) }

// NewWithOptions returns a CronJob controller over cc's shared informers.
func NewWithOptions(cc *controller.Context, opts Options) (*Controller, error) {
	cjRes, err := sdk.ResourceOf[*types.CronJob]()
	if err != nil {
		return nil, err
	}
	jobRes, err := sdk.ResourceOf[*types.Job]()
	if err != nil {
		return nil, err
	}
	cjInf := cc.Factory.Informer(cjRes, sdk.InformerOptions{})
	jobInf := cc.Factory.Informer(jobRes, sdk.InformerOptions{Indexers: map[string]sdk.IndexFunc{
		sdk.IndexNamespace: sdk.NamespaceIndex, sdk.IndexControllerUID: sdk.ControllerUIDIndex,
	}})
	c := &Controller{
		client:    cc.Client,
		cjLister:  sdk.ListerFor[*types.CronJob](cjInf),
		jobLister: sdk.ListerFor[*types.Job](jobInf),
		now:       opts.Now,
		synced:    opts.Synced,
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.Controller = controller.New(cc, Name, c.sync)
	c.Watch(cjInf)
	c.WaitFor(jobInf)
	enqueueOwner := func(obj types.Object) {
		if cj, ok := controller.ResolveControllerRef(c.cjLister, obj.GetObjectMeta().Namespace, types.GetControllerOf(obj), GVK.Kind); ok {
			c.Enqueue(cj)
		}
	}
	jobInf.AddEventHandler(sdk.HandlerFuncs{
		AddFunc:    enqueueOwner,
		UpdateFunc: func(_, obj types.Object) { enqueueOwner(obj) },
		DeleteFunc: enqueueOwner,
	})
	return c, nil
}

// JobName returns the name of the Job a CronJob runs at scheduled: the
// CronJob's name and the start time in minutes since the epoch, so that
// one start time makes at most one Job.
func JobName(cronJobName string, scheduled time.Time) string {
	return fmt.Sprintf("%s-%d", cronJobName, scheduled.Unix()/60)
}

// NewJob returns the Job cj's template makes under name, owned by cj.
func NewJob(cj *types.CronJob, name string) *types.Job {
	t := types.Clone(cj.Spec.JobTemplate)
	return &types.Job{
		TypeMeta: types.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: types.ObjectMeta{
			Name:            name,
			Namespace:       cj.Namespace,
			Labels:          t.Labels,
			Annotations:     t.Annotations,
			OwnerReferences: []types.OwnerReference{*types.NewControllerRef(cj, GVK)},
		},
		Spec: t.Spec,
	}
}

// ownedJobs returns the Jobs cj controls, from the cache.
func (c *Controller) ownedJobs(cj *types.CronJob) ([]*types.Job, error) {
	return c.jobLister.ByIndex(sdk.IndexControllerUID, cj.UID)
}

// sync reconciles one CronJob.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name := sdk.SplitKey(key)
	cj, err := c.cjLister.Get(ns, name)
	if sdk.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	owned, err := c.ownedJobs(cj)
	if err != nil {
		return err
	}
	now := c.now()
	if c.synced != nil {
		defer c.synced(key, now)
	}
	st := types.Clone(cj.Status)
	st.Active = activeRefs(owned)
	c.warnUnexpected(cj, owned)
	for _, j := range owned {
		if ct, done := job.IsFinished(j); done && ct == types.JobComplete && j.Status.CompletionTime != nil &&
			(st.LastSuccessfulTime == nil || j.Status.CompletionTime.After(st.LastSuccessfulTime.Time)) {
			t := *j.Status.CompletionTime
			st.LastSuccessfulTime = &t
		}
	}
	var errs []error
	if err := c.cleanupHistory(ctx, cj, owned); err != nil {
		errs = append(errs, err)
	}
	if cj.DeletionTimestamp == nil {
		requeue, err := c.schedule(ctx, cj, owned, &st, now)
		if err != nil {
			errs = append(errs, err)
		}
		if requeue > 0 {
			c.Queue().AddAfter(key, requeue)
		}
	}
	if err := c.updateStatus(ctx, cj, st); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// activeRefs returns references to the unfinished Jobs the controller
// started for a start time, oldest first. As in Kubernetes, other Jobs
// the CronJob owns (made by hand with kubectl create job --from) are not
// active runs.
func activeRefs(owned []*types.Job) []types.ObjectReference {
	var out []types.ObjectReference
	sorted := append([]*types.Job(nil), owned...)
	sort.SliceStable(sorted, func(a, b int) bool { return jobTime(sorted[a]).Before(jobTime(sorted[b])) })
	for _, j := range sorted {
		if !running(j) || !scheduledRun(j) {
			continue
		}
		out = append(out, types.ObjectReference{
			Kind: "Job", APIVersion: "batch/v1", Namespace: j.Namespace, Name: j.Name, UID: j.UID,
		})
	}
	return out
}

// running reports whether j is neither finished nor being deleted.
func running(j *types.Job) bool {
	_, done := job.IsFinished(j)
	return !done && j.DeletionTimestamp == nil
}

// scheduledRun reports whether the controller started j for a start time
// (it records the time on every Job it creates), rather than someone
// making it by hand from the CronJob.
func scheduledRun(j *types.Job) bool {
	if j.Annotations[InstantiateAnnotation] == InstantiateManual {
		return false
	}
	_, ok := j.Annotations[ScheduledTimestampAnnotation]
	return ok
}

// warnUnexpected records, as Kubernetes does, a Warning UnexpectedJob for
// each running Job cj owns that the controller did not start; Jobs made
// by hand from the CronJob (kubectl create job --from) are expected and
// pass without one.
func (c *Controller) warnUnexpected(cj *types.CronJob, owned []*types.Job) {
	for _, j := range owned {
		if running(j) && !scheduledRun(j) && j.Annotations[InstantiateAnnotation] != InstantiateManual {
			c.Recorder().Eventf(cj, types.EventTypeWarning, "UnexpectedJob", "Saw a job that the controller did not create or forgot: %s", j.Name)
		}
	}
}

// jobTime is the start time a Job was created for (its annotation), or
// its creation time.
func jobTime(j *types.Job) time.Time {
	if v, ok := j.Annotations[ScheduledTimestampAnnotation]; ok {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t
		}
	}
	return j.CreationTimestamp.Time
}

// schedule starts the Job of the most recent missed start time, if any,
// and returns when to look again.
func (c *Controller) schedule(ctx context.Context, cj *types.CronJob, owned []*types.Job, st *types.CronJobStatus, now time.Time) (time.Duration, error) {
	sched, err := ParseSchedule(cj.Spec.Schedule, cj.Spec.TimeZone)
	if err != nil {
		// Not retried: the object has to change first.
		c.Recorder().Eventf(cj, types.EventTypeWarning, "UnparseableSchedule", "unparseable schedule: %v", err)
		return 0, nil
	}
	next := func() time.Duration {
		n := sched.Next(now)
		if n.IsZero() {
			return 0
		}
		return n.Sub(now) + 100*time.Millisecond
	}
	if cj.Spec.Suspend != nil && *cj.Spec.Suspend {
		return 0, nil
	}
	earliest := cj.CreationTimestamp.Time
	if st.LastScheduleTime != nil {
		earliest = st.LastScheduleTime.Time
	}
	scheduled, missed := mostRecentScheduleTime(sched, earliest, now, cj.Spec.StartingDeadlineSeconds)
	if missed > maxMissedReported {
		c.Recorder().Eventf(cj, types.EventTypeWarning, "TooManyMissedTimes",
			"too many missed start times: %d. Set or decrease .spec.startingDeadlineSeconds or check clock skew", missed)
	}
	if scheduled == nil {
		return next(), nil
	}
	if sds := cj.Spec.StartingDeadlineSeconds; sds != nil && scheduled.Add(time.Duration(*sds)*time.Second).Before(now) {
		c.Recorder().Eventf(cj, types.EventTypeWarning, "MissSchedule", "Missed scheduled time to start a job: %s", scheduled.UTC().Format(time.RFC1123Z))
		return next(), nil
	}
	name := JobName(cj.Name, *scheduled)
	for _, j := range owned {
		if j.Name == name {
			// Already started (the status write was lost or is on its
			// way): record it and wait for the next start time.
			setScheduled(st, *scheduled)
			return next(), nil
		}
	}
	switch cj.Spec.ConcurrencyPolicy {
	case types.ForbidConcurrent:
		if len(st.Active) > 0 {
			// Kept for when the running Job finishes, if still within the
			// starting deadline.
			c.Recorder().Eventf(cj, types.EventTypeNormal, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid")
			return next(), nil
		}
	case types.ReplaceConcurrent:
		for _, ref := range st.Active {
			if err := c.deleteJob(ctx, cj.Namespace, ref.Name, ref.UID); err != nil {
				return 0, err
			}
			c.Recorder().Eventf(cj, types.EventTypeNormal, "SuccessfulDelete", "Deleted job %s", ref.Name)
		}
		st.Active = nil
	}
	j := NewJob(cj, name)
	if j.Annotations == nil {
		j.Annotations = map[string]string{}
	}
	j.Annotations[ScheduledTimestampAnnotation] = scheduled.UTC().Format(time.RFC3339)
	created, err := sdk.Typed[*types.Job](c.client).Namespace(cj.Namespace).Create(ctx, j)
	switch {
	case sdk.IsAlreadyExists(err):
		// Made by an earlier sync the cache does not show yet.
	case err != nil:
		c.Recorder().Eventf(cj, types.EventTypeWarning, "FailedCreate", "Error creating job: %v", err)
		return 0, fmt.Errorf("create job %s/%s for cronjob %s: %w", cj.Namespace, name, cj.Name, err)
	default:
		c.Recorder().Eventf(cj, types.EventTypeNormal, "SuccessfulCreate", "Created job %s", created.Name)
		st.Active = append(st.Active, types.ObjectReference{
			Kind: "Job", APIVersion: "batch/v1", Namespace: created.Namespace, Name: created.Name, UID: created.UID,
		})
	}
	setScheduled(st, *scheduled)
	return next(), nil
}

func setScheduled(st *types.CronJobStatus, t time.Time) {
	ts := types.NewTime(t.UTC())
	if st.LastScheduleTime == nil || ts.After(st.LastScheduleTime.Time) {
		st.LastScheduleTime = &ts
	}
}

// cleanupHistory deletes the oldest finished Jobs beyond the successful
// and failed history limits.
func (c *Controller) cleanupHistory(ctx context.Context, cj *types.CronJob, owned []*types.Job) error {
	succLimit, failLimit := int32(DefaultSuccessfulJobsHistoryLimit), int32(DefaultFailedJobsHistoryLimit)
	if cj.Spec.SuccessfulJobsHistoryLimit != nil {
		succLimit = *cj.Spec.SuccessfulJobsHistoryLimit
	}
	if cj.Spec.FailedJobsHistoryLimit != nil {
		failLimit = *cj.Spec.FailedJobsHistoryLimit
	}
	var succeeded, failed []*types.Job
	for _, j := range owned {
		if j.DeletionTimestamp != nil {
			continue
		}
		switch ct, _ := job.IsFinished(j); ct {
		case types.JobComplete:
			succeeded = append(succeeded, j)
		case types.JobFailed:
			failed = append(failed, j)
		}
	}
	var errs []error
	for _, set := range []struct {
		jobs  []*types.Job
		limit int32
	}{{succeeded, succLimit}, {failed, failLimit}} {
		extra := len(set.jobs) - int(max(set.limit, 0))
		if extra <= 0 {
			continue
		}
		sort.SliceStable(set.jobs, func(a, b int) bool { return jobTime(set.jobs[a]).Before(jobTime(set.jobs[b])) })
		for _, j := range set.jobs[:extra] {
			if err := c.deleteJob(ctx, j.Namespace, j.Name, j.UID); err != nil {
				errs = append(errs, err)
				continue
			}
			c.Recorder().Eventf(cj, types.EventTypeNormal, "SuccessfulDelete", "Deleted job %s", j.Name)
		}
	}
	return errors.Join(errs...)
}

// deleteJob deletes a Job and, in the background, its Pods.
func (c *Controller) deleteJob(ctx context.Context, ns, name, uid string) error {
	bg := types.DeletePropagationBackground
	opts := types.DeleteOptions{PropagationPolicy: &bg}
	if uid != "" {
		opts.Preconditions = &types.Preconditions{UID: &uid}
	}
	err := sdk.Typed[*types.Job](c.client).Namespace(ns).Delete(ctx, name, opts)
	if err != nil && !sdk.IsNotFound(err) && !sdk.IsConflict(err) {
		return fmt.Errorf("delete job %s/%s: %w", ns, name, err)
	}
	return nil
}

// updateStatus writes status when it changed.
func (c *Controller) updateStatus(ctx context.Context, cj *types.CronJob, status types.CronJobStatus) error {
	if reflect.DeepEqual(cj.Status, status) {
		return nil
	}
	upd := types.Clone(cj)
	upd.Status = status
	_, err := sdk.Typed[*types.CronJob](c.client).Namespace(cj.Namespace).UpdateStatus(ctx, upd)
	if sdk.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("update status of cronjob %s/%s: %w", cj.Namespace, cj.Name, err)
	}
	return nil
}
