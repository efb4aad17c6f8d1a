// Package job is the Job controller (batch/v1): it runs Pods until
// spec.completions of them succeed, at most spec.parallelism at a time,
// retries failed Pods with an exponential back-off up to
// spec.backoffLimit, fails the Job past spec.activeDeadlineSeconds,
// supports suspend and completionMode Indexed, and deletes finished Jobs
// after spec.ttlSecondsAfterFinished.
//
// Counting: status.succeeded and status.failed are the record, not a
// recount of the Pods, so a finished Pod deleted afterwards keeps its
// count. As Kubernetes does with status.uncountedTerminatedPods, a
// finished Pod is counted in two steps that survive a restart at any
// point: its UID is first written to the Job's uncountedTerminatedPods,
// then the Pod is marked with the CountedAnnotation, then (on the next
// sync) the UID moves from that list to the counts. Kubernetes holds each
// Pod with a finalizer until then; Wharf does not, so a Pod that finishes
// and is deleted before the controller ever sees it finished is not
// counted. Succeeded Pods of Indexed Jobs are recorded in
// status.completedIndexes (a set, so recording twice is harmless) and
// status.succeeded is its size. Finished Pods are kept until the Job is
// deleted.
package job

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/wharfhq/wharf/api/labels"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/sdk"
)

// Name is the controller's name in logs and in the manager.
const Name = "job"

// Labels and annotations the controller puts on a Job's Pods.
const (
	// LabelControllerUID carries the Job's UID; the default selector.
	LabelControllerUID = "batch.kubernetes.io/controller-uid"
	// LabelJobName carries the Job's name.
	LabelJobName = "batch.kubernetes.io/job-name"
	// LegacyLabelControllerUID and LegacyLabelJobName are the older
	// names Kubernetes still sets.
	LegacyLabelControllerUID = "controller-uid"
	LegacyLabelJobName       = "job-name"
	// CompletionIndexAnnotation carries an Indexed Job Pod's index (also
	// set as a label).
	CompletionIndexAnnotation = "batch.kubernetes.io/job-completion-index"
	// CompletionIndexEnv is the environment variable with the index,
	// injected into every container of an Indexed Job's Pods.
	CompletionIndexEnv = "JOB_COMPLETION_INDEX"
	// CountedAnnotation marks a finished Pod whose end is recorded in
	// its Job's status (uncountedTerminatedPods, then the counts).
	CountedAnnotation = "batch.wharf.dev/counted"
)

// Defaults as Kubernetes applies them.
const (
	DefaultBackoffLimit = 6
	// DefaultBackoffBase is the first delay before re-creating a Pod
	// after a failure; it doubles with every failure up to MaxBackoff.
	DefaultBackoffBase = 10 * time.Second
	// MaxBackoff caps the retry delay.
	MaxBackoff = 6 * time.Minute
)

// GVK is the kind this controller manages.
var GVK = types.GroupVersionKind{Group: "batch", Version: "v1", Kind: "Job"}

// Options tune the controller (tests shorten the back-off and inject a
// clock).
type Options struct {
	// BackoffBase is the first retry delay (DefaultBackoffBase when 0).
	BackoffBase time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Controller is the Job controller.
type Controller struct {
	*controller.Controller
	client       *sdk.Client
	jobLister    *sdk.TypedLister[*types.Job]
	podLister    *sdk.TypedLister[*types.Pod]
	expectations *controller.Expectations
	backoffBase  time.Duration
	now          func() time.Time
}

var _ controller.Runner = (*Controller)(nil)

// New returns a Job controller with the default options.
func New(cc *controller.Context) (*Controller, error) { return NewWithOptions(cc, Options{}) }

// NewWithOptions returns a Job controller over cc's shared informers.
func NewWithOptions(cc *controller.Context, opts Options) (*Controller, error) {
	jobRes, err := sdk.ResourceOf[*types.Job]()
	if err != nil {
		return nil, err
	}
	podRes, err := sdk.ResourceOf[*types.Pod]()
	if err != nil {
		return nil, err
	}
	nsIdx := sdk.InformerOptions{Indexers: map[string]sdk.IndexFunc{sdk.IndexNamespace: sdk.NamespaceIndex}}
	jobInf := cc.Factory.Informer(jobRes, nsIdx)
	podInf := cc.Factory.Informer(podRes, nsIdx)
	c := &Controller{
		client:       cc.Client,
		jobLister:    sdk.ListerFor[*types.Job](jobInf),
		podLister:    sdk.ListerFor[*types.Pod](podInf),
		expectations: controller.NewExpectations(),
		backoffBase:  opts.BackoffBase,
		now:          opts.Now,
	}
	if c.backoffBase <= 0 {
		c.backoffBase = DefaultBackoffBase
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.Controller = controller.New(cc, Name, c.sync)
	c.Watch(jobInf)
	c.WaitFor(podInf)
	podInf.AddEventHandler(sdk.HandlerFuncs{AddFunc: c.addPod, UpdateFunc: c.updatePod, DeleteFunc: c.deletePod})
	return c, nil
}

func (c *Controller) ownerOf(pod types.Object) (*types.Job, bool) {
	return controller.ResolveControllerRef(c.jobLister, pod.GetObjectMeta().Namespace, types.GetControllerOf(pod), GVK.Kind)
}

// enqueueMatching enqueues the Jobs whose selector matches an orphan.
func (c *Controller) enqueueMatching(pod *types.Pod) {
	objs, _ := c.jobLister.ByIndex(sdk.IndexNamespace, pod.Namespace)
	for _, j := range objs {
		if sel, err := selector(j); err == nil && sel.Matches(pod.Labels) {
			c.Enqueue(j)
		}
	}
}

func (c *Controller) addPod(obj types.Object) {
	pod := obj.(*types.Pod)
	if pod.DeletionTimestamp != nil {
		c.deletePod(pod)
		return
	}
	if j, ok := c.ownerOf(pod); ok {
		c.expectations.CreationObserved(sdk.KeyFunc(j))
		c.Enqueue(j)
		return
	}
	if types.GetControllerOf(pod) == nil {
		c.enqueueMatching(pod)
	}
}

func (c *Controller) updatePod(oldObj, newObj types.Object) {
	old, cur := oldObj.(*types.Pod), newObj.(*types.Pod)
	if cur.DeletionTimestamp != nil {
		c.deletePod(cur)
		return
	}
	if oldRef := types.GetControllerOf(old); oldRef != nil {
		if j, ok := controller.ResolveControllerRef(c.jobLister, old.Namespace, oldRef, GVK.Kind); ok {
			c.Enqueue(j)
		}
	}
	if j, ok := c.ownerOf(cur); ok {
		c.Enqueue(j)
		return
	}
	if types.GetControllerOf(cur) == nil {
		c.enqueueMatching(cur)
	}
}

func (c *Controller) deletePod(obj types.Object) {
	pod := obj.(*types.Pod)
	if j, ok := c.ownerOf(pod); ok {
		c.expectations.DeletionObserved(sdk.KeyFunc(j), pod.UID)
		c.Enqueue(j)
	}
}

// selector returns the Job's selector, or the default one over its UID
// label when the Job has none (Kubernetes' API server generates it; the
// controller does here).
func selector(j *types.Job) (labels.Selector, error) {
	if j.Spec.Selector == nil {
		return labels.SelectorFromSet(map[string]string{LabelControllerUID: j.UID}), nil
	}
	sel, err := labels.FromLabelSelector(j.Spec.Selector)
	if err != nil {
		return labels.Selector{}, err
	}
	if sel.Empty() {
		return labels.Selector{}, fmt.Errorf("job %s/%s: empty selector", j.Namespace, j.Name)
	}
	return sel, nil
}

// IsFinished reports whether the Job has a Complete or Failed condition
// that is True, and which.
func IsFinished(j *types.Job) (types.JobConditionType, bool) {
	for _, cond := range j.Status.Conditions {
		if (cond.Type == types.JobComplete || cond.Type == types.JobFailed) && cond.Status == types.ConditionTrue {
			return cond.Type, true
		}
	}
	return "", false
}

// finishedAt returns when the Job finished (its completionTime, or its
// finished condition's transition time).
func finishedAt(j *types.Job) time.Time {
	if j.Status.CompletionTime != nil {
		return j.Status.CompletionTime.Time
	}
	for _, cond := range j.Status.Conditions {
		if (cond.Type == types.JobComplete || cond.Type == types.JobFailed) && cond.Status == types.ConditionTrue {
			return cond.LastTransitionTime.Time
		}
	}
	return time.Time{}
}

// sync reconciles one Job.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name := sdk.SplitKey(key)
	j, err := c.jobLister.Get(ns, name)
	if sdk.IsNotFound(err) {
		c.expectations.Delete(key)
		return nil
	}
	if err != nil {
		return err
	}
	if _, done := IsFinished(j); done {
		return c.handleTTL(ctx, key, j)
	}
	if j.DeletionTimestamp != nil {
		return nil
	}
	sel, err := selector(j)
	if err != nil {
		c.Logger().Warn("invalid selector", "job", key, "err", err)
		return nil
	}
	needsSync := c.expectations.Satisfied(key)
	all, err := c.podLister.ByIndex(sdk.IndexNamespace, ns)
	if err != nil {
		return err
	}
	rm := &controller.RefManager{Client: c.client, Owner: j, OwnerGVK: GVK, Selector: sel, Fresh: controller.RecheckOwner(c.client, j)}
	pods, claimErr := controller.Claim(ctx, rm, all)
	if claimErr != nil {
		return claimErr
	}
	if !needsSync {
		return nil
	}
	st, toMark, manageErr := c.reconcile(ctx, key, j, pods)
	if err := c.updateStatus(ctx, j, st); err != nil {
		return errors.Join(manageErr, err)
	}
	// Only once their UIDs are in the status may the Pods be marked.
	return errors.Join(manageErr, c.markCounted(ctx, toMark))
}

// markCounted sets the CountedAnnotation on pods (a merge patch of the
// annotation alone, so it cannot conflict with the agents' writes), a few
// at a time.
func (c *Controller) markCounted(ctx context.Context, pods []*types.Pod) error {
	patch := []byte(`{"metadata":{"annotations":{"` + CountedAnnotation + `":"true"}}}`)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	sem := make(chan struct{}, markConcurrency)
	for _, p := range pods {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			_, err := sdk.Typed[*types.Pod](c.client).Namespace(p.Namespace).Patch(ctx, p.Name, sdk.MergePatch, patch)
			if err != nil && !sdk.IsNotFound(err) {
				mu.Lock()
				errs = append(errs, fmt.Errorf("mark pod %s/%s counted: %w", p.Namespace, p.Name, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// markConcurrency bounds the Pods markCounted patches at once.
const markConcurrency = 8

// handleTTL deletes a finished Job whose ttlSecondsAfterFinished passed,
// or re-checks it when it will.
func (c *Controller) handleTTL(ctx context.Context, key string, j *types.Job) error {
	if j.Spec.TTLSecondsAfterFinished == nil || j.DeletionTimestamp != nil {
		return nil
	}
	at := finishedAt(j)
	if at.IsZero() {
		return nil
	}
	expire := at.Add(time.Duration(*j.Spec.TTLSecondsAfterFinished) * time.Second)
	if d := expire.Sub(c.now()); d > 0 {
		c.Queue().AddAfter(key, d)
		return nil
	}
	bg := types.DeletePropagationBackground
	err := sdk.Typed[*types.Job](c.client).Namespace(j.Namespace).Delete(ctx, j.Name,
		types.DeleteOptions{PropagationPolicy: &bg, Preconditions: &types.Preconditions{UID: &j.UID}})
	if err != nil && !sdk.IsNotFound(err) && !sdk.IsConflict(err) {
		return fmt.Errorf("delete finished job %s after its ttl: %w", key, err)
	}
	return nil
}

// counts are what a Job's status and Pods say.
type counts struct {
	active      []*types.Pod // running or pending, not being deleted
	succeeded   int32        // recorded and uncounted
	failed      int32        // recorded and uncounted
	restarts    int32        // container restarts of active Pods (OnFailure)
	ready       int32
	completed   indexSet // Indexed: indexes with a succeeded Pod
	lastFailure time.Time
	toMark      []*types.Pod // finished Pods in uncountedTerminatedPods, not yet marked counted
}

func counted(p *types.Pod) bool { return p.Annotations[CountedAnnotation] == "true" }

// track updates st's record of finished Pods (see the package comment)
// and returns the counts the Job's decisions use.
func track(j *types.Job, st *types.JobStatus, pods []*types.Pod) counts {
	var k counts
	byUID := make(map[string]*types.Pod, len(pods))
	for _, p := range pods {
		byUID[p.UID] = p
	}
	un := &types.UncountedTerminatedPods{}
	if st.UncountedTerminatedPods != nil {
		un = types.Clone(st.UncountedTerminatedPods)
	}
	// Pods marked counted (or gone) move from the list to the counts.
	settle := func(uids []string, count *int32) []string {
		var keep []string
		for _, uid := range uids {
			if p, ok := byUID[uid]; ok && !counted(p) {
				keep = append(keep, uid)
			} else {
				*count++
			}
		}
		return keep
	}
	un.Succeeded = settle(un.Succeeded, &st.Succeeded)
	un.Failed = settle(un.Failed, &st.Failed)
	listed := map[string]bool{}
	for _, uid := range append(append([]string(nil), un.Succeeded...), un.Failed...) {
		listed[uid] = true
	}
	k.completed = parseIndexes(st.CompletedIndexes, completions(j))
	for _, p := range pods {
		switch p.Status.Phase {
		case types.PodSucceeded:
			if isIndexed(j) {
				if idx, ok := podIndex(p); ok && idx < completions(j) {
					k.completed.add(idx)
				}
			} else if !counted(p) && !listed[p.UID] {
				un.Succeeded = append(un.Succeeded, p.UID)
				listed[p.UID] = true
			}
		case types.PodFailed:
			if t := podFinishedAt(p); t.After(k.lastFailure) {
				k.lastFailure = t
			}
			if !counted(p) && !listed[p.UID] {
				un.Failed = append(un.Failed, p.UID)
				listed[p.UID] = true
			}
		default:
			if p.DeletionTimestamp != nil {
				continue
			}
			k.active = append(k.active, p)
			if controller.IsPodReady(p) {
				k.ready++
			}
			for _, cs := range p.Status.ContainerStatuses {
				k.restarts += cs.RestartCount
			}
		}
	}
	for _, p := range pods {
		if listed[p.UID] && !counted(p) {
			k.toMark = append(k.toMark, p)
		}
	}
	if isIndexed(j) {
		st.CompletedIndexes = k.completed.String()
		st.Succeeded = int32(k.completed.len())
	}
	st.UncountedTerminatedPods = nil
	if len(un.Succeeded)+len(un.Failed) > 0 {
		st.UncountedTerminatedPods = un
	}
	k.succeeded = st.Succeeded + int32(len(un.Succeeded))
	k.failed = st.Failed + int32(len(un.Failed))
	return k
}

// settleAll moves every uncounted Pod into the counts (when the Job
// finishes: a finished Job is not counted again).
func settleAll(st *types.JobStatus) {
	if un := st.UncountedTerminatedPods; un != nil {
		st.Succeeded += int32(len(un.Succeeded))
		st.Failed += int32(len(un.Failed))
		st.UncountedTerminatedPods = nil
	}
}

// podFinishedAt is the latest container finish time of a finished Pod,
// or its start or creation time when its containers say nothing.
func podFinishedAt(p *types.Pod) time.Time {
	var t time.Time
	for _, cs := range p.Status.ContainerStatuses {
		if term := cs.State.Terminated; term != nil && term.FinishedAt.After(t) {
			t = term.FinishedAt.Time
		}
	}
	if t.IsZero() && p.Status.StartTime != nil {
		t = p.Status.StartTime.Time
	}
	if t.IsZero() {
		t = p.CreationTimestamp.Time
	}
	return t
}

func isIndexed(j *types.Job) bool {
	return j.Spec.CompletionMode != nil && *j.Spec.CompletionMode == types.IndexedCompletion
}

func parallelism(j *types.Job) int32 {
	if j.Spec.Parallelism == nil {
		return 1
	}
	return *j.Spec.Parallelism
}

// completions returns spec.completions, or -1 when unset (the Job is done
// when any Pod succeeds).
func completions(j *types.Job) int {
	if j.Spec.Completions == nil {
		if j.Spec.Parallelism == nil {
			return 1 // both unset: Kubernetes defaults both to 1
		}
		return -1
	}
	return int(*j.Spec.Completions)
}

func backoffLimit(j *types.Job) int32 {
	if j.Spec.BackoffLimit == nil {
		return DefaultBackoffLimit
	}
	return *j.Spec.BackoffLimit
}

func suspended(j *types.Job) bool { return j.Spec.Suspend != nil && *j.Spec.Suspend }

// reconcile works out the Job's status and creates or deletes Pods.
func (c *Controller) reconcile(ctx context.Context, key string, j *types.Job, pods []*types.Pod) (types.JobStatus, []*types.Pod, error) {
	now := c.now()
	st := types.Clone(j.Status)
	k := track(j, &st, pods)

	if suspended(j) {
		err := c.deletePods(ctx, key, j, k.active)
		st.Active, st.Ready = 0, ptr(int32(0))
		st.Conditions = setCondition(st.Conditions, types.JobSuspended, types.ConditionTrue, "JobSuspended", "Job suspended", now)
		return st, k.toMark, err
	}
	if cond := findCondition(st.Conditions, types.JobSuspended); cond != nil && cond.Status == types.ConditionTrue {
		st.Conditions = setCondition(st.Conditions, types.JobSuspended, types.ConditionFalse, "JobResumed", "Job resumed", now)
		st.StartTime = nil // the deadline counts from the resume
	}
	if st.StartTime == nil {
		t := types.NewTime(now.UTC().Truncate(time.Second))
		st.StartTime = &t
	}

	// Failure: too many failures, or past the deadline.
	failReason, failMsg := "", ""
	if k.failed+k.restarts > backoffLimit(j) {
		failReason, failMsg = types.JobReasonBackoffLimitExceeded, "Job has reached the specified backoff limit"
	} else if ads := j.Spec.ActiveDeadlineSeconds; ads != nil {
		deadline := st.StartTime.Add(time.Duration(*ads) * time.Second)
		if !now.Before(deadline) {
			failReason, failMsg = types.JobReasonDeadlineExceeded, "Job was active longer than specified deadline"
		} else {
			c.Queue().AddAfter(key, deadline.Sub(now))
		}
	}
	if failReason != "" {
		err := c.deletePods(ctx, key, j, k.active)
		if err != nil {
			// Report the failure only once the active Pods are gone.
			st.Active = int32(len(k.active))
			return st, k.toMark, err
		}
		st.Active, st.Ready = 0, ptr(int32(0))
		settleAll(&st)
		st.Conditions = setCondition(st.Conditions, types.JobFailed, types.ConditionTrue, failReason, failMsg, now)
		c.Recorder().Eventf(j, types.EventTypeWarning, failReason, "%s", failMsg)
		return st, nil, nil
	}

	// Completion.
	if c.complete(j, k) {
		err := c.deletePods(ctx, key, j, k.active)
		if err != nil {
			st.Active = int32(len(k.active))
			return st, k.toMark, err
		}
		st.Active, st.Ready = 0, ptr(int32(0))
		settleAll(&st)
		t := types.NewTime(now.UTC().Truncate(time.Second))
		st.CompletionTime = &t
		st.Conditions = setCondition(st.Conditions, types.JobComplete, types.ConditionTrue, "", "", now)
		c.Recorder().Eventf(j, types.EventTypeNormal, "Completed", "Job completed")
		return st, nil, nil
	}

	err := c.manage(ctx, key, j, k, now)
	st.Active, st.Ready = int32(len(k.active)), ptr(k.ready)
	return st, k.toMark, err
}

// complete reports whether the Job has reached its completions.
func (c *Controller) complete(j *types.Job, k counts) bool {
	n := completions(j)
	switch {
	case isIndexed(j):
		return n >= 0 && k.completed.len() >= n
	case n < 0:
		return k.succeeded > 0 && len(k.active) == 0
	default:
		return int(k.succeeded) >= n
	}
}

// manage creates Pods up to the wanted parallelism (after the failure
// back-off) or deletes the extra ones.
func (c *Controller) manage(ctx context.Context, key string, j *types.Job, k counts, now time.Time) error {
	par := int(parallelism(j))
	want := par
	if n := completions(j); n >= 0 {
		want = min(par, max(n-int(k.succeeded), 0))
	} else if k.succeeded > 0 {
		want = 0 // a Pod succeeded: let the others finish, start no more
	}
	active := k.active
	if len(active) > want {
		if completions(j) < 0 && k.succeeded > 0 {
			return nil
		}
		sorted := slices.Clone(active)
		sort.SliceStable(sorted, func(a, b int) bool { return controller.DeletionLess(sorted[a], sorted[b]) })
		return c.deletePods(ctx, key, j, sorted[:len(active)-want])
	}
	diff := want - len(active)
	if diff <= 0 {
		return nil
	}
	if k.failed > 0 {
		delay := c.backoff(k.failed)
		if wait := k.lastFailure.Add(delay).Sub(now); wait > 0 {
			c.Queue().AddAfter(key, wait)
			return nil
		}
	}
	var indexes []int
	if isIndexed(j) {
		indexes = pendingIndexes(k, completions(j), diff)
		diff = len(indexes)
	}
	if diff == 0 {
		return nil
	}
	c.expectations.ExpectCreations(key, diff)
	var mu sync.Mutex
	next := 0
	created, err := controller.SlowStartBatch(ctx, diff, controller.SlowStartInitialBatchSize, func(ctx context.Context) error {
		idx := -1
		if indexes != nil {
			mu.Lock()
			idx = indexes[next]
			next++
			mu.Unlock()
		}
		out, err := sdk.Typed[*types.Pod](c.client).Namespace(j.Namespace).Create(ctx, NewPod(j, idx))
		if err != nil {
			c.Recorder().Eventf(j, types.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
			return fmt.Errorf("create pod for job %s: %w", key, err)
		}
		c.Recorder().Eventf(j, types.EventTypeNormal, "SuccessfulCreate", "Created pod: %s", out.Name)
		return nil
	})
	for range diff - created {
		c.expectations.CreationObserved(key)
	}
	return err
}

// backoff returns the delay before a new Pod after failed failures:
// base, doubling, capped at MaxBackoff.
func (c *Controller) backoff(failed int32) time.Duration {
	d := c.backoffBase
	for i := int32(1); i < failed && d < MaxBackoff; i++ {
		d *= 2
	}
	return min(d, MaxBackoff)
}

// pendingIndexes returns up to n of the lowest indexes below completions
// that neither succeeded nor have an active Pod.
func pendingIndexes(k counts, completions, n int) []int {
	busy := map[int]bool{}
	for _, p := range k.active {
		if idx, ok := podIndex(p); ok {
			busy[idx] = true
		}
	}
	var out []int
	for i := 0; i < completions && len(out) < n; i++ {
		if !busy[i] && !k.completed.has(i) {
			out = append(out, i)
		}
	}
	return out
}

// podIndex returns the completion index of an Indexed Job's Pod.
func podIndex(p *types.Pod) (int, bool) {
	v, ok := p.Annotations[CompletionIndexAnnotation]
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < 0 {
		return 0, false
	}
	return i, true
}

// NewPod returns the Pod the Job runs for completion index idx (-1 for a
// non-indexed Job): the template with the Job's labels, a controller
// reference, and for Indexed Jobs the index annotation and label,
// JOB_COMPLETION_INDEX in every container and hostname NAME-INDEX.
func NewPod(j *types.Job, idx int) *types.Pod {
	prefix := j.Name
	if idx >= 0 {
		prefix = fmt.Sprintf("%s-%d", j.Name, idx)
	}
	pod := controller.PodFromTemplate(&j.Spec.Template, j, GVK, prefix)
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[LabelControllerUID] = j.UID
	pod.Labels[LegacyLabelControllerUID] = j.UID
	pod.Labels[LabelJobName] = j.Name
	pod.Labels[LegacyLabelJobName] = j.Name
	if pod.Spec.RestartPolicy == "" || pod.Spec.RestartPolicy == types.RestartPolicyAlways {
		pod.Spec.RestartPolicy = types.RestartPolicyNever // Always is invalid for Jobs
	}
	if idx < 0 {
		return pod
	}
	s := strconv.Itoa(idx)
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[CompletionIndexAnnotation] = s
	pod.Labels[CompletionIndexAnnotation] = s
	if pod.Spec.Hostname == "" {
		pod.Spec.Hostname = prefix
	}
	env := types.EnvVar{Name: CompletionIndexEnv, Value: s}
	for i := range pod.Spec.Containers {
		pod.Spec.Containers[i].Env = append(pod.Spec.Containers[i].Env, env)
	}
	for i := range pod.Spec.InitContainers {
		pod.Spec.InitContainers[i].Env = append(pod.Spec.InitContainers[i].Env, env)
	}
	return pod
}

// deletePods deletes pods (in parallel) under deletion expectations.
func (c *Controller) deletePods(ctx context.Context, key string, j *types.Job, pods []*types.Pod) error {
	if len(pods) == 0 {
		return nil
	}
	uids := make([]string, len(pods))
	for i, p := range pods {
		uids[i] = p.UID
	}
	c.expectations.ExpectDeletions(key, uids)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, p := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := sdk.Typed[*types.Pod](c.client).Namespace(p.Namespace).Delete(ctx, p.Name,
				types.DeleteOptions{Preconditions: &types.Preconditions{UID: &p.UID}})
			if err == nil {
				c.Recorder().Eventf(j, types.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %s", p.Name)
			}
			if err != nil {
				c.expectations.DeletionObserved(key, p.UID)
				if !sdk.IsNotFound(err) && !sdk.IsConflict(err) {
					mu.Lock()
					errs = append(errs, fmt.Errorf("delete pod %s/%s of job %s: %w", p.Namespace, p.Name, key, err))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func findCondition(conds []types.JobCondition, t types.JobConditionType) *types.JobCondition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}

// setCondition sets condition t, keeping its transition time when the
// status does not change.
func setCondition(conds []types.JobCondition, t types.JobConditionType, status types.ConditionStatus, reason, msg string, now time.Time) []types.JobCondition {
	ts := types.NewTime(now.UTC().Truncate(time.Second))
	if cur := findCondition(conds, t); cur != nil {
		if cur.Status != status {
			cur.LastTransitionTime = ts
		}
		cur.Status, cur.Reason, cur.Message, cur.LastProbeTime = status, reason, msg, ts
		return conds
	}
	return append(conds, types.JobCondition{Type: t, Status: status, Reason: reason, Message: msg, LastProbeTime: ts, LastTransitionTime: ts})
}

func ptr[T any](v T) *T { return &v }

// updateStatus writes status when it changed.
func (c *Controller) updateStatus(ctx context.Context, j *types.Job, status types.JobStatus) error {
	if reflect.DeepEqual(j.Status, status) {
		return nil
	}
	// A probe time alone is not worth a write.
	if equalIgnoringProbeTimes(j.Status, status) {
		return nil
	}
	upd := types.Clone(j)
	upd.Status = status
	_, err := sdk.Typed[*types.Job](c.client).Namespace(j.Namespace).UpdateStatus(ctx, upd)
	if sdk.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("update status of job %s/%s: %w", j.Namespace, j.Name, err)
	}
	return nil
}

func equalIgnoringProbeTimes(a, b types.JobStatus) bool {
	a, b = types.Clone(a), types.Clone(b)
	for i := range a.Conditions {
		a.Conditions[i].LastProbeTime = types.Time{}
	}
	for i := range b.Conditions {
		b.Conditions[i].LastProbeTime = types.Time{}
	}
	return reflect.DeepEqual(a, b)
}
