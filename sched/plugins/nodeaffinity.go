package plugins

import (
	"context"
	"slices"
	"strconv"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sched/framework"
)

// ReasonNodeAffinity is NodeAffinity's refusal (for nodeSelector too).
const ReasonNodeAffinity = "node(s) didn't match Pod's node affinity/selector"

var statusNodeAffinity = framework.NewStatus(framework.UnschedulableAndUnresolvable, ReasonNodeAffinity)

// nodeRequirement is a compiled NodeSelectorRequirement.
type nodeRequirement struct {
	key    string
	op     types.NodeSelectorOperator
	values []string // sorted
	num    int64    // Gt, Lt
	valid  bool
}

func compileRequirement(r *types.NodeSelectorRequirement, field bool) nodeRequirement {
	c := nodeRequirement{key: r.Key, op: r.Operator, values: slices.Clone(r.Values), valid: true}
	slices.Sort(c.values)
	switch r.Operator {
	case types.NodeSelectorOpIn, types.NodeSelectorOpNotIn:
		c.valid = len(r.Values) > 0
	case types.NodeSelectorOpExists, types.NodeSelectorOpDoesNotExist:
		c.valid = len(r.Values) == 0 && !field
	case types.NodeSelectorOpGt, types.NodeSelectorOpLt:
		var err error
		c.valid = len(r.Values) == 1 && !field
		if c.valid {
			c.num, err = strconv.ParseInt(r.Values[0], 10, 64)
			c.valid = err == nil
		}
	default:
		c.valid = false
	}
	if field && r.Key != "metadata.name" {
		c.valid = false
	}
	return c
}

func (r *nodeRequirement) matches(v string, has bool) bool {
	if !r.valid {
		return false
	}
	switch r.op {
	case types.NodeSelectorOpIn:
		_, found := slices.BinarySearch(r.values, v)
		return has && found
	case types.NodeSelectorOpNotIn:
		_, found := slices.BinarySearch(r.values, v)
		return !has || !found
	case types.NodeSelectorOpExists:
		return has
	case types.NodeSelectorOpDoesNotExist:
		return !has
	case types.NodeSelectorOpGt, types.NodeSelectorOpLt:
		if !has {
			return false
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return false
		}
		if r.op == types.NodeSelectorOpGt {
			return n > r.num
		}
		return n < r.num
	}
	return false
}

// nodeTerm is a compiled NodeSelectorTerm: all requirements must hold.
type nodeTerm struct {
	exprs, fields []nodeRequirement
}

func compileTerm(t *types.NodeSelectorTerm) nodeTerm {
	var c nodeTerm
	for i := range t.MatchExpressions {
		c.exprs = append(c.exprs, compileRequirement(&t.MatchExpressions[i], false))
	}
	for i := range t.MatchFields {
		c.fields = append(c.fields, compileRequirement(&t.MatchFields[i], true))
	}
	return c
}

// matches reports whether node satisfies the term; an empty term matches
// nothing, as in Kubernetes.
func (t *nodeTerm) matches(n *framework.NodeInfo) bool {
	if len(t.exprs) == 0 && len(t.fields) == 0 {
		return false
	}
	labels := n.Labels()
	for i := range t.exprs {
		v, has := labels[t.exprs[i].key]
		if !t.exprs[i].matches(v, has) {
			return false
		}
	}
	for i := range t.fields {
		if !t.fields[i].matches(n.Name, true) {
			return false
		}
	}
	return true
}

// requiredNodeAffinity is a Pod's nodeSelector and required node affinity.
type requiredNodeAffinity struct {
	selector map[string]string
	terms    []nodeTerm // OR; nil when the Pod has no required affinity
	hasTerms bool
}

func newRequiredNodeAffinity(pod *types.Pod) requiredNodeAffinity {
	r := requiredNodeAffinity{selector: pod.Spec.NodeSelector}
	if a := pod.Spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		r.hasTerms = true
		for i := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
			r.terms = append(r.terms, compileTerm(&a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[i]))
		}
	}
	return r
}

func (r *requiredNodeAffinity) empty() bool { return len(r.selector) == 0 && !r.hasTerms }

func (r *requiredNodeAffinity) matches(n *framework.NodeInfo) bool {
	labels := n.Labels()
	for k, v := range r.selector {
		if lv, ok := labels[k]; !ok || lv != v {
			return false
		}
	}
	if !r.hasTerms {
		return true
	}
	for i := range r.terms {
		if r.terms[i].matches(n) {
			return true
		}
	}
	return false
}

// NodeAffinity refuses nodes that do not match the Pod's nodeSelector and
// required node affinity (In, NotIn, Exists, DoesNotExist, Gt, Lt on
// labels; In and NotIn on the field metadata.name), and prefers nodes that
// match its weighted preferred terms.
type NodeAffinity struct{}

var (
	_ framework.PreFilterPlugin      = NodeAffinity{}
	_ framework.FilterPlugin         = NodeAffinity{}
	_ framework.PreScorePlugin       = NodeAffinity{}
	_ framework.NormalizeScorePlugin = NodeAffinity{}
)

const (
	nodeAffinityFilterKey framework.StateKey = "PreFilter" + NameNodeAffinity
	nodeAffinityScoreKey  framework.StateKey = "PreScore" + NameNodeAffinity
)

type weightedTerm struct {
	term   nodeTerm
	weight int64
}

// Name implements framework.Plugin.
func (NodeAffinity) Name() string { return NameNodeAffinity }

// PreFilter implements framework.PreFilterPlugin.
func (NodeAffinity) PreFilter(_ context.Context, state *framework.CycleState, pod *types.Pod, _ *framework.Snapshot) *framework.Status {
	r := newRequiredNodeAffinity(pod)
	if r.empty() {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(nodeAffinityFilterKey, &r)
	return nil
}

// Filter implements framework.FilterPlugin.
func (NodeAffinity) Filter(_ context.Context, state *framework.CycleState, pod *types.Pod, n *framework.NodeInfo) *framework.Status {
	var r *requiredNodeAffinity
	if v, ok := state.Read(nodeAffinityFilterKey); ok {
		r = v.(*requiredNodeAffinity)
	} else {
		nr := newRequiredNodeAffinity(pod)
		r = &nr
	}
	if r.matches(n) {
		return nil
	}
	return statusNodeAffinity
}

// PreScore implements framework.PreScorePlugin.
func (NodeAffinity) PreScore(_ context.Context, state *framework.CycleState, pod *types.Pod, _ []*framework.NodeInfo) *framework.Status {
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || len(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	var terms []weightedTerm
	for i := range a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
		p := &a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution[i]
		if p.Weight == 0 {
			continue
		}
		terms = append(terms, weightedTerm{term: compileTerm(&p.Preference), weight: int64(p.Weight)})
	}
	state.Write(nodeAffinityScoreKey, terms)
	return nil
}

// Score implements framework.ScorePlugin: the sum of the weights of the
// preferred terms the node matches.
func (NodeAffinity) Score(_ context.Context, state *framework.CycleState, _ *types.Pod, n *framework.NodeInfo) (int64, *framework.Status) {
	v, ok := state.Read(nodeAffinityScoreKey)
	if !ok {
		return 0, nil
	}
	var s int64
	for _, t := range v.([]weightedTerm) {
		if t.term.matches(n) {
			s += t.weight
		}
	}
	return s, nil
}

// NormalizeScore implements framework.NormalizeScorePlugin.
func (NodeAffinity) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *types.Pod, scores []framework.NodeScore) *framework.Status {
	normalize(scores, false)
	return nil
}
