package plugins

import (
	"context"
	"fmt"
	"math"

	"github.com/wharfhq/wharf/api/labels"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sched/framework"
)

// Refusal reasons of PodTopologySpread.
const (
	ReasonSpreadNotMatch     = "node(s) didn't match pod topology spread constraints"
	ReasonSpreadMissingLabel = "node(s) didn't match pod topology spread constraints (missing required label)"
)

var (
	statusSpread             = framework.NewStatus(framework.Unschedulable, ReasonSpreadNotMatch)
	statusSpreadMissingLabel = framework.NewStatus(framework.UnschedulableAndUnresolvable, ReasonSpreadMissingLabel)
)

// Default spreading of a workload's replicas when its Pods set no
// constraint of their own: over nodes (max skew 3) and zones (max skew 5),
// as a preference, as Kubernetes' system defaults. A workload is the set
// of Pods with the same controller (ownerReference with controller: true).
const (
	defaultHostnameMaxSkew = 3
	defaultZoneMaxSkew     = 5
)

// PodTopologySpread spreads Pods across topology domains: it enforces the
// Pod's topologySpreadConstraints with whenUnsatisfiable DoNotSchedule as a
// filter (maxSkew, minDomains, nodeAffinityPolicy, nodeTaintsPolicy,
// matchLabelKeys), scores ScheduleAnyway ones, and without constraints
// spreads the replicas of a workload over nodes and zones.
type PodTopologySpread struct{}

var (
	_ framework.PreFilterPlugin      = PodTopologySpread{}
	_ framework.FilterPlugin         = PodTopologySpread{}
	_ framework.PreScorePlugin       = PodTopologySpread{}
	_ framework.NormalizeScorePlugin = PodTopologySpread{}
)

const (
	spreadFilterKey framework.StateKey = "PreFilter" + NamePodTopologySpread
	spreadScoreKey  framework.StateKey = "PreScore" + NamePodTopologySpread
)

type spreadConstraint struct {
	maxSkew    int32
	key        string
	selector   labels.Selector
	minDomains int32
	// owner, for the default constraints: count the Pods of this
	// controller instead of matching a selector.
	owner         string
	honorAffinity bool
	honorTaints   bool
}

// Name implements framework.Plugin.
func (PodTopologySpread) Name() string { return NamePodTopologySpread }

func compileConstraints(pod *types.Pod, action types.UnsatisfiableConstraintAction) ([]spreadConstraint, error) {
	var out []spreadConstraint
	for i := range pod.Spec.TopologySpreadConstraints {
		c := &pod.Spec.TopologySpreadConstraints[i]
		if c.WhenUnsatisfiable != action {
			continue
		}
		sel, err := labels.FromLabelSelector(c.LabelSelector)
		if err != nil {
			return nil, fmt.Errorf("topologySpreadConstraints[%d]: %w", i, err)
		}
		for _, k := range c.MatchLabelKeys {
			if v, ok := pod.Labels[k]; ok {
				r, err := labels.NewRequirement(k, labels.Equals, []string{v})
				if err != nil {
					return nil, fmt.Errorf("topologySpreadConstraints[%d] matchLabelKeys: %w", i, err)
				}
				sel = sel.Add(r)
			}
		}
		sc := spreadConstraint{maxSkew: c.MaxSkew, key: c.TopologyKey, selector: sel, minDomains: 1, honorAffinity: true}
		if c.MinDomains != nil {
			sc.minDomains = *c.MinDomains
		}
		if c.NodeAffinityPolicy != nil && *c.NodeAffinityPolicy == types.NodeInclusionPolicyIgnore {
			sc.honorAffinity = false
		}
		if c.NodeTaintsPolicy != nil && *c.NodeTaintsPolicy == types.NodeInclusionPolicyHonor {
			sc.honorTaints = true
		}
		out = append(out, sc)
	}
	return out, nil
}

// countOn counts the Pods on n that c counts for the incoming Pod pi.
func (c *spreadConstraint) countOn(n *framework.NodeInfo, pi *framework.PodInfo) int {
	if c.owner != "" {
		return n.OwnerCounts[c.owner]
	}
	k := 0
	for _, p := range n.Pods {
		if p.Pod.Namespace == pi.Pod.Namespace && p.Pod.DeletionTimestamp == nil && c.selector.Matches(p.Pod.Labels) {
			k++
		}
	}
	return k
}

// eligible reports whether n counts for c: it matches the Pod's node
// affinity (unless the policy ignores it) and, when the policy says so,
// has no taint the Pod does not tolerate.
func (c *spreadConstraint) eligible(n *framework.NodeInfo, pod *types.Pod, aff *requiredNodeAffinity) bool {
	if c.honorAffinity && !aff.matches(n) {
		return false
	}
	if c.honorTaints {
		if _, bad := FindUntoleratedTaint(n.Taints, pod.Spec.Tolerations, types.TaintEffectNoSchedule, types.TaintEffectNoExecute); bad {
			return false
		}
	}
	return true
}

func hasKeys(n *framework.NodeInfo, cs []spreadConstraint) bool {
	l := n.Labels()
	for i := range cs {
		if _, ok := l[cs[i].key]; !ok {
			return false
		}
	}
	return true
}

// domainCounts counts, per constraint, the Pods matching it per domain
// among the nodes eligible for it that carry every constraint's key.
func domainCounts(cs []spreadConstraint, pod *types.Pod, pi *framework.PodInfo, nodes []*framework.NodeInfo) []map[string]int {
	aff := newRequiredNodeAffinity(pod)
	counts := make([]map[string]int, len(cs))
	for i := range counts {
		counts[i] = map[string]int{}
	}
	for _, n := range nodes {
		if !hasKeys(n, cs) {
			continue
		}
		for i := range cs {
			if cs[i].eligible(n, pod, &aff) {
				counts[i][n.Labels()[cs[i].key]] += cs[i].countOn(n, pi)
			}
		}
	}
	return counts
}

type spreadFilterState struct {
	constraints []spreadConstraint
	counts      []map[string]int
	minMatch    []int
	selfMatch   []int
}

// PreFilter implements framework.PreFilterPlugin.
func (PodTopologySpread) PreFilter(_ context.Context, state *framework.CycleState, pod *types.Pod, snap *framework.Snapshot) *framework.Status {
	cs, err := compileConstraints(pod, types.DoNotSchedule)
	if err != nil {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, "invalid pod topology spread constraint: "+err.Error())
	}
	if len(cs) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	pi := state.PodInfo()
	s := &spreadFilterState{constraints: cs, counts: domainCounts(cs, pod, pi, snap.List())}
	for i := range cs {
		lo := math.MaxInt
		for _, c := range s.counts[i] {
			lo = min(lo, c)
		}
		if lo == math.MaxInt || int32(len(s.counts[i])) < cs[i].minDomains {
			lo = 0
		}
		self := 0
		if cs[i].selector.Matches(pod.Labels) {
			self = 1
		}
		s.minMatch = append(s.minMatch, lo)
		s.selfMatch = append(s.selfMatch, self)
	}
	state.Write(spreadFilterKey, s)
	return nil
}

// Filter implements framework.FilterPlugin.
func (PodTopologySpread) Filter(_ context.Context, state *framework.CycleState, _ *types.Pod, n *framework.NodeInfo) *framework.Status {
	v, ok := state.Read(spreadFilterKey)
	if !ok {
		return framework.AsStatus(errMissingState(NamePodTopologySpread))
	}
	s := v.(*spreadFilterState)
	l := n.Labels()
	for i := range s.constraints {
		c := &s.constraints[i]
		d, ok := l[c.key]
		if !ok {
			return statusSpreadMissingLabel
		}
		if skew := s.counts[i][d] + s.selfMatch[i] - s.minMatch[i]; skew > int(c.maxSkew) {
			return statusSpread
		}
	}
	return nil
}

type spreadScoreState struct {
	constraints []spreadConstraint
	// counts per constraint and domain; nil for constraints counted on the
	// node itself (hostname).
	counts  []map[string]int
	weights []float64
	ignored map[string]bool
	zoneIdx int // index of the default zone constraint, or -1
	// byNode counts the owner's Pods per node name, for the default
	// hostname constraint (index 0).
	byNode map[string]int
}

// PreScore implements framework.PreScorePlugin.
func (PodTopologySpread) PreScore(_ context.Context, state *framework.CycleState, pod *types.Pod, nodes []*framework.NodeInfo) *framework.Status {
	pi := state.PodInfo()
	snap := state.Snapshot()
	s := &spreadScoreState{zoneIdx: -1}
	if len(pod.Spec.TopologySpreadConstraints) > 0 {
		cs, err := compileConstraints(pod, types.ScheduleAnyway)
		if err != nil {
			return framework.AsStatus(err)
		}
		s.constraints = cs
	} else if pi.OwnerUID != "" {
		s.constraints = append(s.constraints, spreadConstraint{maxSkew: defaultHostnameMaxSkew, key: framework.LabelHostname, owner: pi.OwnerUID})
		if snap.NumZones() > 0 {
			s.zoneIdx = len(s.constraints)
			s.constraints = append(s.constraints, spreadConstraint{maxSkew: defaultZoneMaxSkew, key: framework.LabelZone, owner: pi.OwnerUID})
		}
	}
	if len(s.constraints) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	s.counts = make([]map[string]int, len(s.constraints))
	s.weights = make([]float64, len(s.constraints))
	if pi.OwnerUID != "" && len(pod.Spec.TopologySpreadConstraints) == 0 {
		s.weights[0] = math.Log(float64(len(nodes) + 2))
		s.byNode = snap.OwnerNodeCounts(pi.OwnerUID)
		if s.zoneIdx >= 0 {
			s.weights[s.zoneIdx] = math.Log(float64(snap.NumZones() + 2))
			// Per zone, once, rather than a two-level lookup per node.
			zc := make(map[string]int, snap.NumZones())
			for _, n := range nodes {
				if _, ok := zc[n.Zone]; !ok && n.Zone != "" {
					zc[n.Zone] = snap.ZoneOwnerCount(n.Zone, pi.OwnerUID)
				}
			}
			s.counts[s.zoneIdx] = zc
		}
		state.Write(spreadScoreKey, s)
		return nil
	}
	s.ignored = map[string]bool{}
	domains := make([]map[string]bool, len(s.constraints))
	for i := range domains {
		domains[i] = map[string]bool{}
	}
	for _, n := range nodes {
		if !hasKeys(n, s.constraints) {
			s.ignored[n.Name] = true
			continue
		}
		for i := range s.constraints {
			domains[i][n.Labels()[s.constraints[i].key]] = true
		}
	}
	var wide []spreadConstraint // constraints whose domains span nodes
	var wideIdx []int
	for i := range s.constraints {
		s.weights[i] = math.Log(float64(len(domains[i]) + 2))
		if s.constraints[i].key != framework.LabelHostname {
			wide = append(wide, s.constraints[i])
			wideIdx = append(wideIdx, i)
		}
	}
	if len(wide) > 0 {
		counts := domainCounts(wide, pod, pi, snap.List())
		for j, i := range wideIdx {
			s.counts[i] = counts[j]
		}
	}
	state.Write(spreadScoreKey, s)
	return nil
}

// Score implements framework.ScorePlugin: the weighted number of matching
// Pods in the node's domains (fewer is better; NormalizeScore reverses).
// Scores are kept in thousandths until normalized.
func (PodTopologySpread) Score(_ context.Context, state *framework.CycleState, _ *types.Pod, n *framework.NodeInfo) (int64, *framework.Status) {
	v, ok := state.Read(spreadScoreKey)
	if !ok {
		return 0, nil
	}
	s := v.(*spreadScoreState)
	if s.ignored[n.Name] {
		return 0, nil
	}
	pi := state.PodInfo()
	var score float64
	for i := range s.constraints {
		c := &s.constraints[i]
		var cnt int
		switch {
		case i == 0 && c.owner != "":
			cnt = s.byNode[n.Name]
		case i == s.zoneIdx:
			if n.Zone == "" {
				continue
			}
			cnt = s.counts[i][n.Zone]
		case s.counts[i] == nil:
			cnt = c.countOn(n, pi)
		default:
			cnt = s.counts[i][n.Labels()[c.key]]
		}
		score += float64(cnt)*s.weights[i] + float64(c.maxSkew-1)
	}
	return int64(math.Round(score * 1000)), nil
}

// NormalizeScore implements framework.NormalizeScorePlugin: the node with
// the fewest matching Pods gets MaxNodeScore; ignored nodes (lacking a
// constraint's key) get 0.
func (PodTopologySpread) NormalizeScore(_ context.Context, state *framework.CycleState, _ *types.Pod, scores []framework.NodeScore) *framework.Status {
	v, ok := state.Read(spreadScoreKey)
	if !ok {
		return nil
	}
	s := v.(*spreadScoreState)
	lo, hi := int64(math.MaxInt64), int64(0)
	for _, sc := range scores {
		if s.ignored[sc.Name] {
			continue
		}
		lo, hi = min(lo, sc.Score), max(hi, sc.Score)
	}
	for i := range scores {
		switch {
		case s.ignored[scores[i].Name]:
			scores[i].Score = 0
		case hi == 0:
			scores[i].Score = framework.MaxNodeScore
		default:
			scores[i].Score = framework.MaxNodeScore * (hi + lo - scores[i].Score) / hi
		}
	}
	return nil
}
