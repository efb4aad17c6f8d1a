package hpa

import (
	"math"
	"time"

	"github.com/wharfhq/wharf/api/types"
)

// Tolerance is the relative distance from the target within which the
// autoscaler does not scale (Kubernetes' default 0.1).
const Tolerance = 0.1

// sample is one Pod's use of a resource against its share of the target:
// for a Utilization target the Pod's request times the target percentage,
// for an AverageValue target the target value.
type sample struct {
	usage    float64 // milli-units
	target   float64 // milli-units
	ready    bool    // counted only for CPU: unready Pods are not trusted on scale-up
	hasUsage bool
}

// replicaProposal computes the replicas that bring the average use to the
// target, as Kubernetes' replica calculator: within Tolerance nothing
// changes; Pods without metrics count as at the target on a scale-down and
// as idle on a scale-up; unready Pods count as idle on a scale-up; and a
// change that these assumptions reverse or dampen to nothing is dropped.
// It returns the proposal and the usage ratio of the Pods with metrics.
func replicaProposal(current int32, samples []sample) (int32, float64) {
	var usage, target float64
	var ready, missing, unready []sample
	for _, s := range samples {
		switch {
		case !s.hasUsage:
			missing = append(missing, s)
		case !s.ready:
			unready = append(unready, s)
		default:
			ready = append(ready, s)
			usage += s.usage
			target += s.target
		}
	}
	if target == 0 {
		return current, 0
	}
	ratio := usage / target
	scaleUpWithUnready := len(unready) > 0 && ratio > 1
	if !scaleUpWithUnready && len(missing) == 0 {
		if math.Abs(1-ratio) <= Tolerance {
			return current, ratio
		}
		return int32(math.Ceil(ratio * float64(len(ready)))), ratio
	}
	n := len(ready)
	for _, s := range missing {
		if ratio < 1 {
			usage += s.target // assume at the target: do not scale down on missing data
		}
		target += s.target
		n++
	}
	if scaleUpWithUnready {
		for _, s := range unready {
			target += s.target // assume idle
			n++
		}
	}
	newRatio := usage / target
	if math.Abs(1-newRatio) <= Tolerance || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1) {
		return current, ratio
	}
	proposal := int32(math.Ceil(newRatio * float64(n)))
	if (newRatio < 1 && proposal > current) || (newRatio > 1 && proposal < current) {
		return current, ratio
	}
	return proposal, ratio
}

// Default scaling rules of autoscaling/v2.
var (
	defaultScaleUp = types.HPAScalingRules{
		StabilizationWindowSeconds: ptr(int32(0)),
		SelectPolicy:               ptr(types.MaxChangePolicySelect),
		Policies: []types.HPAScalingPolicy{
			{Type: types.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
			{Type: types.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		},
	}
	defaultScaleDown = types.HPAScalingRules{
		StabilizationWindowSeconds: ptr(int32(300)),
		SelectPolicy:               ptr(types.MaxChangePolicySelect),
		Policies:                   []types.HPAScalingPolicy{{Type: types.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}},
	}
)

func ptr[T any](v T) *T { return &v }

// rules returns the HPA's rules for one direction, with the defaults for
// what it leaves unset.
func rules(hpa *types.HorizontalPodAutoscaler, up bool) types.HPAScalingRules {
	r := defaultScaleDown
	var set *types.HPAScalingRules
	if up {
		r = defaultScaleUp
	}
	if b := hpa.Spec.Behavior; b != nil {
		if up {
			set = b.ScaleUp
		} else {
			set = b.ScaleDown
		}
	}
	if set == nil {
		return r
	}
	if set.StabilizationWindowSeconds != nil {
		r.StabilizationWindowSeconds = set.StabilizationWindowSeconds
	}
	if set.SelectPolicy != nil {
		r.SelectPolicy = set.SelectPolicy
	}
	if len(set.Policies) > 0 {
		r.Policies = set.Policies
	}
	return r
}

// recommendation is one past proposal of an autoscaler.
type recommendation struct {
	at       time.Time
	replicas int32
}

// scaleEvent is one past change of the target's replicas.
type scaleEvent struct {
	at    time.Time
	delta int32 // positive up, negative down
}

// stabilize returns the replicas the stabilization windows allow: no
// higher than the lowest proposal of the scale-up window, no lower than
// the highest of the scale-down window (proposal included in both).
func stabilize(current, proposal int32, recs []recommendation, upWindow, downWindow time.Duration, now time.Time) int32 {
	up, down := proposal, proposal
	for _, r := range recs {
		if r.at.After(now.Add(-upWindow)) {
			up = min(up, r.replicas)
		}
		if r.at.After(now.Add(-downWindow)) {
			down = max(down, r.replicas)
		}
	}
	out := current
	if out < up {
		out = up
	}
	if out > down {
		out = down
	}
	return out
}

// periodStart is the replicas at the start of period before now: current
// less the changes of events in the period. As in Kubernetes, changes in
// both directions count, so a rate limit is one on the net change.
func periodStart(current int32, events []scaleEvent, period time.Duration, now time.Time) int32 {
	start := current
	for _, e := range events {
		if e.at.After(now.Add(-period)) {
			start -= e.delta
		}
	}
	return start
}

// scaleUpLimit is the most replicas the scale-up policies allow now.
func scaleUpLimit(current int32, events []scaleEvent, r types.HPAScalingRules, now time.Time) int32 {
	if r.SelectPolicy != nil && *r.SelectPolicy == types.DisabledPolicySelect {
		return current
	}
	pickMin := r.SelectPolicy != nil && *r.SelectPolicy == types.MinChangePolicySelect
	var limit int32 = math.MinInt32
	if pickMin {
		limit = math.MaxInt32
	}
	for _, p := range r.Policies {
		start := periodStart(current, events, time.Duration(p.PeriodSeconds)*time.Second, now)
		var proposed int32
		if p.Type == types.PodsScalingPolicy {
			proposed = start + p.Value
		} else {
			proposed = int32(math.Ceil(float64(start) * (1 + float64(p.Value)/100)))
		}
		if pickMin {
			limit = min(limit, proposed)
		} else {
			limit = max(limit, proposed)
		}
	}
	return max(limit, current)
}

// scaleDownLimit is the fewest replicas the scale-down policies allow now.
func scaleDownLimit(current int32, events []scaleEvent, r types.HPAScalingRules, now time.Time) int32 {
	if r.SelectPolicy != nil && *r.SelectPolicy == types.DisabledPolicySelect {
		return current
	}
	pickMin := r.SelectPolicy != nil && *r.SelectPolicy == types.MinChangePolicySelect
	var limit int32 = math.MaxInt32
	if pickMin {
		limit = math.MinInt32
	}
	for _, p := range r.Policies {
		start := periodStart(current, events, time.Duration(p.PeriodSeconds)*time.Second, now)
		var proposed int32
		if p.Type == types.PodsScalingPolicy {
			proposed = start - p.Value
		} else {
			proposed = int32(float64(start) * (1 - float64(p.Value)/100))
		}
		if pickMin {
			limit = max(limit, proposed)
		} else {
			limit = min(limit, proposed)
		}
	}
	return min(limit, current)
}
