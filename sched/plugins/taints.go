package plugins

import (
	"context"
	"fmt"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sched/framework"
)

// ToleratesTaint reports whether toleration tol tolerates taint, with
// Kubernetes' rules: an empty effect matches every effect, an empty key
// with operator Exists matches every taint, Exists ignores the value and
// Equal (the default) compares it.
func ToleratesTaint(tol *types.Toleration, taint *types.Taint) bool {
	if tol.Effect != "" && tol.Effect != taint.Effect {
		return false
	}
	if tol.Key != "" && tol.Key != taint.Key {
		return false
	}
	switch tol.Operator {
	case types.TolerationOpExists:
		return true
	case "", types.TolerationOpEqual:
		return tol.Value == taint.Value
	}
	return false
}

// TolerationsTolerateTaint reports whether any of tols tolerates taint.
func TolerationsTolerateTaint(tols []types.Toleration, taint *types.Taint) bool {
	for i := range tols {
		if ToleratesTaint(&tols[i], taint) {
			return true
		}
	}
	return false
}

// FindUntoleratedTaint returns the first of taints with one of effects
// that tols do not tolerate.
func FindUntoleratedTaint(taints []types.Taint, tols []types.Toleration, effects ...types.TaintEffect) (*types.Taint, bool) {
	for i := range taints {
		t := &taints[i]
		want := false
		for _, e := range effects {
			want = want || t.Effect == e
		}
		if want && !TolerationsTolerateTaint(tols, t) {
			return t, true
		}
	}
	return nil, false
}

// TaintToleration refuses nodes with a NoSchedule or NoExecute taint the
// Pod does not tolerate, and prefers nodes with fewer untolerated
// PreferNoSchedule taints.
type TaintToleration struct{}

var (
	_ framework.FilterPlugin         = TaintToleration{}
	_ framework.NormalizeScorePlugin = TaintToleration{}
)

// Name implements framework.Plugin.
func (TaintToleration) Name() string { return NameTaintToleration }

// Filter implements framework.FilterPlugin.
func (TaintToleration) Filter(_ context.Context, _ *framework.CycleState, pod *types.Pod, n *framework.NodeInfo) *framework.Status {
	if len(n.Taints) == 0 {
		return nil
	}
	t, ok := FindUntoleratedTaint(n.Taints, pod.Spec.Tolerations, types.TaintEffectNoSchedule, types.TaintEffectNoExecute)
	if !ok {
		return nil
	}
	return framework.NewStatus(framework.UnschedulableAndUnresolvable,
		fmt.Sprintf("node(s) had untolerated taint {%s: %s}", t.Key, t.Value))
}

// Score implements framework.ScorePlugin: the number of untolerated
// PreferNoSchedule taints (reversed by NormalizeScore).
func (TaintToleration) Score(_ context.Context, _ *framework.CycleState, pod *types.Pod, n *framework.NodeInfo) (int64, *framework.Status) {
	var c int64
	for i := range n.Taints {
		t := &n.Taints[i]
		if t.Effect == types.TaintEffectPreferNoSchedule && !TolerationsTolerateTaint(pod.Spec.Tolerations, t) {
			c++
		}
	}
	return c, nil
}

// NormalizeScore implements framework.NormalizeScorePlugin.
func (TaintToleration) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *types.Pod, scores []framework.NodeScore) *framework.Status {
	normalize(scores, true)
	return nil
}

// normalize rescales scores so the highest is MaxNodeScore (reversed: the
// lowest is), as Kubernetes' DefaultNormalizeScore.
func normalize(scores []framework.NodeScore, reverse bool) {
	var top int64
	for _, s := range scores {
		top = max(top, s.Score)
	}
	for i := range scores {
		if top == 0 {
			if reverse {
				scores[i].Score = framework.MaxNodeScore
			}
			continue
		}
		s := framework.MaxNodeScore * scores[i].Score / top
		if reverse {
			s = framework.MaxNodeScore - s
		}
		scores[i].Score = s
	}
}
