// Package hpa is the HorizontalPodAutoscaler controller (autoscaling/v2):
// every SyncPeriod it reads the scale subresource of a Deployment,
// ReplicaSet or StatefulSet, the resource use of the Pods its selector
// matches (from a MetricsSource, by default the UsageAnnotation agents
// write), and sets the replicas that bring the average CPU or memory use
// to the target (Utilization of the Pods' requests, or AverageValue),
// within minReplicas and maxReplicas, a 10% tolerance, the stabilization
// windows and the scaling policies of spec.behavior. It reports the
// conditions AbleToScale, ScalingActive and ScalingLimited, and
// currentReplicas, desiredReplicas, currentMetrics and lastScaleTime.
package hpa

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/wharfhq/wharf/api/labels"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/sdk"
)

// Name is the controller's name in logs and in the manager.
const Name = "horizontalpodautoscaler"

// DefaultSyncPeriod is how often each autoscaler is evaluated, as
// Kubernetes' --horizontal-pod-autoscaler-sync-period.
const DefaultSyncPeriod = 15 * time.Second

// Errors behind the ScalingActive=False reasons.
var (
	ErrNoMetrics          = errors.New("no metrics returned")
	ErrMissingRequest     = errors.New("missing request")
	ErrUnsupportedMetric  = errors.New("unsupported metric")
	ErrUnsupportedTarget  = errors.New("unsupported scale target")
	ErrInvalidScaleTarget = errors.New("invalid scale target selector")
	// ErrConcurrentScale: the target was scaled by someone else between
	// the read and the write; the next evaluation starts from its count.
	ErrConcurrentScale = errors.New("target scaled concurrently")
)

// Options tune the controller.
type Options struct {
	// Metrics is where Pod usage comes from (AnnotationSource when nil).
	Metrics MetricsSource
	// SyncPeriod is how often each autoscaler is evaluated
	// (DefaultSyncPeriod when 0).
	SyncPeriod time.Duration
	// Now is the clock of the stabilization windows and scaling policies
	// (time.Now when nil).
	Now func() time.Time
}

// Controller is the HorizontalPodAutoscaler controller.
type Controller struct {
	*controller.Controller
	client    *sdk.Client
	hpaLister *sdk.TypedLister[*types.HorizontalPodAutoscaler]
	podLister *sdk.TypedLister[*types.Pod]
	metrics   MetricsSource
	period    time.Duration
	now       func() time.Time

	mu    sync.Mutex
	state map[string]*history // by HPA key
}

// history is what an autoscaler remembers between syncs (in memory, as
// in Kubernetes: a restart forgets it).
type history struct {
	uid    string
	recs   []recommendation
	events []scaleEvent
	// lastScale is the last rescale, kept until a status write records
	// it (the write after a rescale may fail on a conflict).
	lastScale *types.Time
}

var _ controller.Runner = (*Controller)(nil)

// New returns an HPA controller with the default options.
func New(cc *controller.Context) (*Controller, error) { return NewWithOptions(cc, Options{}) }

// NewWithOptions returns an HPA controller over cc's shared informers.
func NewWithOptions(cc *controller.Context, opts Options) (*Controller, error) {
	hpaRes, err := sdk.ResourceOf[*types.HorizontalPodAutoscaler]()
	if err != nil {
		return nil, err
	}
	podRes, err := sdk.ResourceOf[*types.Pod]()
	if err != nil {
		return nil, err
	}
	nsIdx := sdk.InformerOptions{Indexers: map[string]sdk.IndexFunc{sdk.IndexNamespace: sdk.NamespaceIndex}}
	hpaInf := cc.Factory.Informer(hpaRes, sdk.InformerOptions{})
	podInf := cc.Factory.Informer(podRes, nsIdx)
	c := &Controller{
		client:    cc.Client,
		hpaLister: sdk.ListerFor[*types.HorizontalPodAutoscaler](hpaInf),
		podLister: sdk.ListerFor[*types.Pod](podInf),
		metrics:   opts.Metrics,
		period:    opts.SyncPeriod,
		now:       opts.Now,
		state:     map[string]*history{},
	}
	if c.metrics == nil {
		c.metrics = AnnotationSource{}
	}
	if c.period <= 0 {
		c.period = DefaultSyncPeriod
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.Controller = controller.New(cc, Name, c.sync)
	c.Watch(hpaInf)
	c.WaitFor(podInf)
	return c, nil
}

// history returns the remembered state of key (reset when the HPA was
// re-created). A history begins with one recommendation, the target's
// current replicas at now, as in Kubernetes: an autoscaler seen for the
// first time (a new one, or any after a restart, since the history is in
// memory) does not scale down before its scale-down stabilization window
// has passed. The queue never syncs one key on two workers at once, so
// only the map needs the lock.
func (c *Controller) history(key, uid string, current int32, now time.Time) *history {
	c.mu.Lock()
	defer c.mu.Unlock()
	h, ok := c.state[key]
	if !ok || h.uid != uid {
		h = &history{uid: uid, recs: []recommendation{{at: now, replicas: current}}}
		c.state[key] = h
	}
	return h
}

// targetResource returns the scaled resource named by ref.
func targetResource(ref types.CrossVersionObjectReference) (*types.Resource, error) {
	apiVersion := ref.APIVersion
	if apiVersion == "" {
		apiVersion = "apps/v1"
	}
	res, ok := types.ResourceForKind(apiVersion, ref.Kind)
	if !ok || !res.HasSubresource("scale") {
		return nil, fmt.Errorf("%w: %s %s", ErrUnsupportedTarget, apiVersion, ref.Kind)
	}
	return res, nil
}

// sync evaluates one autoscaler, then schedules its next evaluation.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name := sdk.SplitKey(key)
	hpa, err := c.hpaLister.Get(ns, name)
	if sdk.IsNotFound(err) {
		c.mu.Lock()
		delete(c.state, key)
		c.mu.Unlock()
		return nil
	}
	if err != nil {
		return err
	}
	defer c.Queue().AddAfter(key, c.period)
	st, err := c.evaluate(ctx, key, hpa)
	return errors.Join(err, c.updateStatus(ctx, hpa, st))
}

// evaluate computes and applies the desired replicas, returning the new
// status; errors that only a change of the objects can fix are reported
// in conditions, not returned.
func (c *Controller) evaluate(ctx context.Context, key string, hpa *types.HorizontalPodAutoscaler) (types.HorizontalPodAutoscalerStatus, error) {
	now := c.now()
	st := types.Clone(hpa.Status)
	st.ObservedGeneration = ptr(hpa.Generation)
	set := func(t types.HorizontalPodAutoscalerConditionType, status types.ConditionStatus, reason, msg string) {
		st.Conditions = setCondition(st.Conditions, t, status, reason, msg, now)
	}
	ref := hpa.Spec.ScaleTargetRef
	res, err := targetResource(ref)
	if err != nil {
		set(types.AbleToScale, types.ConditionFalse, "FailedGetScale", err.Error())
		return st, nil
	}
	scales := c.client.Resource(res).Namespace(hpa.Namespace)
	scale, err := scales.GetScale(ctx, ref.Name)
	if err != nil {
		c.Recorder().Eventf(hpa, types.EventTypeWarning, "FailedGetScale", "%v", err)
		set(types.AbleToScale, types.ConditionFalse, "FailedGetScale", fmt.Sprintf("the HPA controller was unable to get the target's current scale: %v", err))
		if sdk.IsNotFound(err) {
			return st, nil
		}
		return st, err
	}
	current := scale.Spec.Replicas
	st.CurrentReplicas = scale.Status.Replicas
	minR := int32(1)
	if hpa.Spec.MinReplicas != nil {
		minR = *hpa.Spec.MinReplicas
	}
	maxR := hpa.Spec.MaxReplicas

	h := c.history(key, hpa.UID, current, now)
	if h.lastScale != nil && (st.LastScaleTime == nil || st.LastScaleTime.Before(h.lastScale.Time)) {
		st.LastScaleTime = h.lastScale
	}

	var desired int32
	var reason string
	switch {
	case current == 0 && minR != 0:
		set(types.ScalingActive, types.ConditionFalse, "ScalingDisabled", "scaling is disabled since the replica count of the target is zero")
		st.DesiredReplicas = 0
		set(types.AbleToScale, types.ConditionTrue, "SucceededGetScale", "the HPA controller was able to get the target's current scale")
		return st, nil
	case current > maxR:
		desired, reason = maxR, "Current number of replicas above Spec.MaxReplicas"
		set(types.ScalingLimited, types.ConditionTrue, "TooManyReplicas", "the desired replica count is more than the maximum replica count")
	case current < minR:
		desired, reason = minR, "Current number of replicas below Spec.MinReplicas"
		set(types.ScalingLimited, types.ConditionTrue, "TooFewReplicas", "the desired replica count is less than the minimum replica count")
	default:
		proposal, metrics, top, err := c.propose(ctx, hpa, scale, current)
		if err != nil {
			c.Recorder().Eventf(hpa, types.EventTypeWarning, "FailedGetResourceMetric", "%v", err)
			set(types.ScalingActive, types.ConditionFalse, "FailedGetResourceMetric", fmt.Sprintf("the HPA was unable to compute the replica count: %v", err))
			set(types.AbleToScale, types.ConditionTrue, "SucceededGetScale", "the HPA controller was able to get the target's current scale")
			st.DesiredReplicas = current
			return st, nil
		}
		st.CurrentMetrics = metrics
		set(types.ScalingActive, types.ConditionTrue, "ValidMetricFound", "the HPA was able to successfully calculate a replica count")
		desired = c.normalize(hpa, h, current, proposal, minR, maxR, now, set)
		reason = "All metrics below target"
		if desired > current {
			reason = top + " above target"
		}
	}
	st.DesiredReplicas = desired
	if desired == current {
		// Only a proposal from the metrics comes back to the current
		// count; normalize set AbleToScale (ReadyForNewScale or held by
		// a stabilization window).
		return st, nil
	}
	if err := updateScale(ctx, scales, ref.Name, scale, current, desired); err != nil {
		c.Recorder().Eventf(hpa, types.EventTypeWarning, "FailedRescale", "New size: %d; reason: %s; error: %v", desired, reason, err)
		set(types.AbleToScale, types.ConditionFalse, "FailedUpdateScale", fmt.Sprintf("the HPA controller was unable to update the target scale: %v", err))
		return st, fmt.Errorf("scale %s %s/%s to %d: %w", ref.Kind, hpa.Namespace, ref.Name, desired, err)
	}
	h.events = append(h.events, scaleEvent{at: now, delta: desired - current})
	t := types.NewTime(now.UTC().Truncate(time.Second))
	st.LastScaleTime, h.lastScale = &t, &t
	set(types.AbleToScale, types.ConditionTrue, "SucceededRescale", fmt.Sprintf("the HPA controller was able to update the target scale to %d", desired))
	c.Recorder().Eventf(hpa, types.EventTypeNormal, "SuccessfulRescale", "New size: %d; reason: %s", desired, reason)
	return st, nil
}

// updateScale sets the target's replicas from current to desired. The
// target's own status writes change its resourceVersion all the time, so
// a conflict is retried on a fresh read, as long as the replicas are
// still the ones the decision was made on.
func updateScale(ctx context.Context, scales *sdk.ResourceClient, name string, scale *types.Scale, current, desired int32) error {
	for attempt := 0; ; attempt++ {
		scale.Spec.Replicas = desired
		_, err := scales.UpdateScale(ctx, name, scale)
		if err == nil || !sdk.IsConflict(err) || attempt == 4 {
			return err
		}
		if scale, err = scales.GetScale(ctx, name); err != nil {
			return err
		}
		if scale.Spec.Replicas != current {
			return fmt.Errorf("replicas changed from %d to %d meanwhile: %w", current, scale.Spec.Replicas, ErrConcurrentScale)
		}
	}
}

// normalize applies the stabilization windows, the scaling policies and
// the replica bounds to a proposal, and records the proposal.
func (c *Controller) normalize(hpa *types.HorizontalPodAutoscaler, h *history, current, proposal, minR, maxR int32, now time.Time,
	set func(types.HorizontalPodAutoscalerConditionType, types.ConditionStatus, string, string)) int32 {
	up, down := rules(hpa, true), rules(hpa, false)
	upWindow := time.Duration(*up.StabilizationWindowSeconds) * time.Second
	downWindow := time.Duration(*down.StabilizationWindowSeconds) * time.Second
	desired := stabilize(current, proposal, h.recs, upWindow, downWindow, now)
	switch {
	case desired > proposal:
		set(types.AbleToScale, types.ConditionTrue, "ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation")
	case desired < proposal:
		set(types.AbleToScale, types.ConditionTrue, "ScaleUpStabilized", "recent recommendations were lower than current one, applying the lowest recent recommendation")
	default:
		set(types.AbleToScale, types.ConditionTrue, "ReadyForNewScale", "recommended size matches current size")
	}
	h.recs = append(h.recs, recommendation{at: now, replicas: proposal})
	keep := max(upWindow, downWindow, maxPeriod(up), maxPeriod(down))
	h.recs = pruneRecs(h.recs, now.Add(-keep))
	h.events = pruneEvents(h.events, now.Add(-keep))

	reason, msg := "DesiredWithinRange", "the desired count is within the acceptable range"
	limited := false
	if desired > current {
		if lim := scaleUpLimit(current, h.events, up, now); desired > lim {
			desired, limited, reason, msg = lim, true, "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate"
		}
	} else if desired < current {
		if lim := scaleDownLimit(current, h.events, down, now); desired < lim {
			desired, limited, reason, msg = lim, true, "ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate"
		}
	}
	if desired > maxR {
		desired, limited, reason, msg = maxR, true, "TooManyReplicas", "the desired replica count is more than the maximum replica count"
	}
	if desired < minR {
		desired, limited, reason, msg = minR, true, "TooFewReplicas", "the desired replica count is less than the minimum replica count"
	}
	status := types.ConditionFalse
	if limited {
		status = types.ConditionTrue
	}
	set(types.ScalingLimited, status, reason, msg)
	return desired
}

func maxPeriod(r types.HPAScalingRules) time.Duration {
	var d time.Duration
	for _, p := range r.Policies {
		d = max(d, time.Duration(p.PeriodSeconds)*time.Second)
	}
	return d
}

func pruneRecs(recs []recommendation, before time.Time) []recommendation {
	out := recs[:0]
	for _, r := range recs {
		if r.at.After(before) {
			out = append(out, r)
		}
	}
	return out
}

func pruneEvents(events []scaleEvent, before time.Time) []scaleEvent {
	out := events[:0]
	for _, e := range events {
		if e.at.After(before) {
			out = append(out, e)
		}
	}
	return out
}

// propose returns the highest replica count the metrics ask for, the
// metrics' current values, and which metric asked for it.
func (c *Controller) propose(ctx context.Context, hpa *types.HorizontalPodAutoscaler, scale *types.Scale, current int32) (int32, []types.MetricStatus, string, error) {
	sel, err := labels.Parse(scale.Status.Selector)
	if err != nil || sel.Empty() {
		return 0, nil, "", fmt.Errorf("%w %q: %v", ErrInvalidScaleTarget, scale.Status.Selector, err)
	}
	all, err := c.podLister.ByIndex(sdk.IndexNamespace, hpa.Namespace)
	if err != nil {
		return 0, nil, "", err
	}
	var pods []*types.Pod
	for _, p := range all {
		if sel.Matches(p.Labels) && p.DeletionTimestamp == nil && p.Status.Phase != types.PodFailed && p.Status.Phase != types.PodSucceeded {
			pods = append(pods, p)
		}
	}
	if len(pods) == 0 {
		return 0, nil, "", fmt.Errorf("%w: no pods match %q", ErrNoMetrics, scale.Status.Selector)
	}
	usage, usageErr := c.metrics.PodUsage(ctx, pods)
	if usageErr != nil && len(usage) == 0 {
		return 0, nil, "", usageErr
	}
	if len(hpa.Spec.Metrics) == 0 {
		// autoscaling/v2's default: 80% average CPU utilization.
		hpa = types.Clone(hpa)
		hpa.Spec.Metrics = []types.MetricSpec{{Type: types.ResourceMetricSourceType, Resource: &types.ResourceMetricSource{
			Name: types.ResourceCPU, Target: types.MetricTarget{Type: types.UtilizationMetricType, AverageUtilization: ptr(int32(80))},
		}}}
	}
	var best int32 = -1
	var top string
	var statuses []types.MetricStatus
	var errs []error
	for _, m := range hpa.Spec.Metrics {
		n, ms, err := resourceProposal(m, pods, usage, current)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		statuses = append(statuses, ms)
		if n > best {
			best, top = n, metricName(m)
		}
	}
	if best < 0 {
		return 0, nil, "", errors.Join(errs...)
	}
	return best, statuses, top, nil
}

// metricName describes a metric in events, as Kubernetes does.
func metricName(m types.MetricSpec) string {
	if m.Resource != nil && m.Resource.Target.Type == types.UtilizationMetricType {
		return fmt.Sprintf("%s resource utilization (percentage of request)", m.Resource.Name)
	}
	if m.Resource != nil {
		return fmt.Sprintf("%s resource", m.Resource.Name)
	}
	return string(m.Type)
}

// resourceProposal evaluates one Resource metric over pods.
func resourceProposal(m types.MetricSpec, pods []*types.Pod, usage map[string]types.ResourceList, current int32) (int32, types.MetricStatus, error) {
	if m.Type != types.ResourceMetricSourceType || m.Resource == nil {
		return 0, types.MetricStatus{}, fmt.Errorf("%w: type %q (only Resource is supported)", ErrUnsupportedMetric, m.Type)
	}
	r := m.Resource
	var perPod func(p *types.Pod) (float64, error)
	switch {
	case r.Target.Type == types.UtilizationMetricType && r.Target.AverageUtilization != nil:
		pct := float64(*r.Target.AverageUtilization) / 100
		perPod = func(p *types.Pod) (float64, error) {
			req, err := podRequest(p, r.Name)
			return float64(req) * pct, err
		}
	case r.Target.Type == types.AverageValueMetricType && r.Target.AverageValue != nil:
		v := float64(r.Target.AverageValue.MilliValue())
		perPod = func(*types.Pod) (float64, error) { return v, nil }
	default:
		return 0, types.MetricStatus{}, fmt.Errorf("%w: %s target %q of resource %s", ErrUnsupportedMetric, r.Name, r.Target.Type, r.Name)
	}
	var samples []sample
	var used, requested float64
	withMetrics := 0
	for _, p := range pods {
		target, err := perPod(p)
		if err != nil {
			return 0, types.MetricStatus{}, err
		}
		s := sample{target: target, ready: true}
		if r.Name == types.ResourceCPU {
			s.ready = p.Status.Phase == types.PodRunning && controller.IsPodReady(p)
		}
		if rl, ok := usage[p.Name]; ok {
			if q, ok := rl[r.Name]; ok {
				s.usage, s.hasUsage = float64(q.MilliValue()), true
				used += s.usage
				withMetrics++
				if req, err := podRequest(p, r.Name); err == nil {
					requested += float64(req)
				}
			}
		}
		samples = append(samples, s)
	}
	if withMetrics == 0 {
		return 0, types.MetricStatus{}, fmt.Errorf("%w for resource %s", ErrNoMetrics, r.Name)
	}
	proposal, _ := replicaProposal(current, samples)
	avg := types.NewMilliQuantity(int64(used/float64(withMetrics)), types.DecimalSI)
	cur := types.MetricValueStatus{AverageValue: &avg}
	if requested > 0 {
		cur.AverageUtilization = ptr(int32(used * 100 / requested))
	}
	return proposal, types.MetricStatus{Type: types.ResourceMetricSourceType,
		Resource: &types.ResourceMetricStatus{Name: r.Name, Current: cur}}, nil
}

// podRequest sums the containers' requests of resource, in milli-units;
// every container must request it (utilization is relative to requests).
func podRequest(p *types.Pod, resource types.ResourceName) (int64, error) {
	var sum int64
	for _, c := range p.Spec.Containers {
		q, ok := c.Resources.Requests[resource]
		if !ok {
			return 0, fmt.Errorf("%w for %s in container %s of pod %s/%s", ErrMissingRequest, resource, c.Name, p.Namespace, p.Name)
		}
		sum += q.MilliValue()
	}
	return sum, nil
}

// setCondition sets condition t, keeping its transition time when its
// status does not change.
func setCondition(conds []types.HorizontalPodAutoscalerCondition, t types.HorizontalPodAutoscalerConditionType,
	status types.ConditionStatus, reason, msg string, now time.Time) []types.HorizontalPodAutoscalerCondition {
	ts := types.NewTime(now.UTC().Truncate(time.Second))
	for i := range conds {
		if conds[i].Type == t {
			if conds[i].Status != status {
				conds[i].LastTransitionTime = ts
			}
			conds[i].Status, conds[i].Reason, conds[i].Message = status, reason, msg
			return conds
		}
	}
	return append(conds, types.HorizontalPodAutoscalerCondition{Type: t, Status: status, Reason: reason, Message: msg, LastTransitionTime: ts})
}

// updateStatus writes status when it changed.
func (c *Controller) updateStatus(ctx context.Context, hpa *types.HorizontalPodAutoscaler, status types.HorizontalPodAutoscalerStatus) error {
	// Quantities compare by value, not by their Go form: compare JSON.
	a, errA := json.Marshal(hpa.Status)
	b, errB := json.Marshal(status)
	if errA == nil && errB == nil && bytes.Equal(a, b) {
		return nil
	}
	upd := types.Clone(hpa)
	upd.Status = status
	_, err := sdk.Typed[*types.HorizontalPodAutoscaler](c.client).Namespace(hpa.Namespace).UpdateStatus(ctx, upd)
	if sdk.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("update status of horizontalpodautoscaler %s/%s: %w", hpa.Namespace, hpa.Name, err)
	}
	return nil
}
