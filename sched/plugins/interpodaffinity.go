package plugins

import (
	"context"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sched/framework"
)

// Refusal reasons of InterPodAffinity.
const (
	ReasonAffinityRulesNotMatch              = "node(s) didn't match pod affinity rules"
	ReasonAntiAffinityRulesNotMatch          = "node(s) didn't match pod anti-affinity rules"
	ReasonExistingAntiAffinityNotMatch       = "node(s) didn't satisfy existing pods anti-affinity rules"
	hardPodAffinityWeight              int64 = 1
)

var (
	statusAffinity         = framework.NewStatus(framework.UnschedulableAndUnresolvable, ReasonAffinityRulesNotMatch)
	statusAntiAffinity     = framework.NewStatus(framework.Unschedulable, ReasonAntiAffinityRulesNotMatch)
	statusExistingAntiAffi = framework.NewStatus(framework.Unschedulable, ReasonExistingAntiAffinityNotMatch)
)

// topologyPair is one topology domain: a node label key and value.
type topologyPair struct{ key, value string }

// InterPodAffinity enforces required pod affinity and anti-affinity with
// their topologyKey, including existing Pods' anti-affinity against the
// incoming Pod, and scores preferred terms (both the incoming Pod's and
// existing Pods' terms that mention it).
type InterPodAffinity struct{}

var (
	_ framework.PreFilterPlugin      = InterPodAffinity{}
	_ framework.FilterPlugin         = InterPodAffinity{}
	_ framework.PreScorePlugin       = InterPodAffinity{}
	_ framework.NormalizeScorePlugin = InterPodAffinity{}
)

const (
	interPodFilterKey framework.StateKey = "PreFilter" + NameInterPodAffinity
	interPodScoreKey  framework.StateKey = "PreScore" + NameInterPodAffinity
)

type interPodFilterState struct {
	// existingAnti counts existing Pods whose required anti-affinity
	// matches the incoming Pod, per domain of that term.
	existingAnti map[topologyPair]int
	// affinity and anti count existing Pods matching the incoming Pod's
	// required terms, per domain.
	affinity, anti map[topologyPair]int
	// selfMatch: the incoming Pod matches all its own affinity terms, so
	// the first Pod of a group may go anywhere with the topology keys.
	selfMatch bool
}

// Name implements framework.Plugin.
func (InterPodAffinity) Name() string { return NameInterPodAffinity }

// PreFilter implements framework.PreFilterPlugin.
func (InterPodAffinity) PreFilter(_ context.Context, state *framework.CycleState, _ *types.Pod, snap *framework.Snapshot) *framework.Status {
	pi := state.PodInfo()
	if pi.ParseError != nil {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, "invalid pod affinity: "+pi.ParseError.Error())
	}
	ns := snap.NamespaceLabels
	s := &interPodFilterState{existingAnti: map[topologyPair]int{}}
	for _, n := range snap.HavePodsWithRequiredAntiAffinity() {
		labels := n.Labels()
		for _, ep := range n.PodsWithRequiredAntiAffinity {
			for i := range ep.RequiredAntiAffinity {
				t := &ep.RequiredAntiAffinity[i]
				if v, ok := labels[t.TopologyKey]; ok && t.Matches(pi, ns) {
					s.existingAnti[topologyPair{t.TopologyKey, v}]++
				}
			}
		}
	}
	if len(pi.RequiredAffinity) == 0 && len(pi.RequiredAntiAffinity) == 0 && len(s.existingAnti) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	if len(pi.RequiredAffinity) > 0 || len(pi.RequiredAntiAffinity) > 0 {
		s.affinity, s.anti = map[topologyPair]int{}, map[topologyPair]int{}
		for _, n := range snap.List() {
			labels := n.Labels()
			for _, ep := range n.Pods {
				if len(pi.RequiredAffinity) > 0 && matchesAll(pi.RequiredAffinity, ep, ns) {
					for i := range pi.RequiredAffinity {
						if v, ok := labels[pi.RequiredAffinity[i].TopologyKey]; ok {
							s.affinity[topologyPair{pi.RequiredAffinity[i].TopologyKey, v}]++
						}
					}
				}
				for i := range pi.RequiredAntiAffinity {
					t := &pi.RequiredAntiAffinity[i]
					if v, ok := labels[t.TopologyKey]; ok && t.Matches(ep, ns) {
						s.anti[topologyPair{t.TopologyKey, v}]++
					}
				}
			}
		}
		s.selfMatch = matchesAll(pi.RequiredAffinity, pi, ns)
	}
	state.Write(interPodFilterKey, s)
	return nil
}

func matchesAll(terms []framework.AffinityTerm, pod *framework.PodInfo, ns func(string) map[string]string) bool {
	for i := range terms {
		if !terms[i].Matches(pod, ns) {
			return false
		}
	}
	return true
}

// Filter implements framework.FilterPlugin.
func (InterPodAffinity) Filter(_ context.Context, state *framework.CycleState, _ *types.Pod, n *framework.NodeInfo) *framework.Status {
	v, ok := state.Read(interPodFilterKey)
	if !ok {
		return framework.AsStatus(errMissingState(NameInterPodAffinity))
	}
	s := v.(*interPodFilterState)
	pi := state.PodInfo()
	labels := n.Labels()
	if len(s.existingAnti) > 0 {
		for k, v := range labels {
			if s.existingAnti[topologyPair{k, v}] > 0 {
				return statusExistingAntiAffi
			}
		}
	}
	for i := range pi.RequiredAntiAffinity {
		k := pi.RequiredAntiAffinity[i].TopologyKey
		if v, ok := labels[k]; ok && s.anti[topologyPair{k, v}] > 0 {
			return statusAntiAffinity
		}
	}
	if len(pi.RequiredAffinity) == 0 {
		return nil
	}
	all, keys := true, true
	for i := range pi.RequiredAffinity {
		k := pi.RequiredAffinity[i].TopologyKey
		v, ok := labels[k]
		keys = keys && ok
		if !ok || s.affinity[topologyPair{k, v}] <= 0 {
			all = false
		}
	}
	if all || (len(s.affinity) == 0 && s.selfMatch && keys) {
		return nil
	}
	return statusAffinity
}

// PreScore implements framework.PreScorePlugin.
func (InterPodAffinity) PreScore(_ context.Context, state *framework.CycleState, _ *types.Pod, _ []*framework.NodeInfo) *framework.Status {
	pi := state.PodInfo()
	snap := state.Snapshot()
	ns := snap.NamespaceLabels
	preferred := len(pi.PreferredAffinity)+len(pi.PreferredAntiAffinity) > 0
	nodes := snap.HavePodsWithAffinity()
	if preferred {
		nodes = snap.List()
	}
	if len(nodes) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	scores := map[topologyPair]int64{}
	add := func(labels map[string]string, key string, w int64) {
		if v, ok := labels[key]; ok {
			scores[topologyPair{key, v}] += w
		}
	}
	for _, n := range nodes {
		labels := n.Labels()
		pods := n.PodsWithAffinity
		if preferred {
			pods = n.Pods
		}
		for _, ep := range pods {
			for i := range pi.PreferredAffinity {
				if t := &pi.PreferredAffinity[i]; t.Matches(ep, ns) {
					add(labels, t.TopologyKey, t.Weight)
				}
			}
			for i := range pi.PreferredAntiAffinity {
				if t := &pi.PreferredAntiAffinity[i]; t.Matches(ep, ns) {
					add(labels, t.TopologyKey, -t.Weight)
				}
			}
			for i := range ep.PreferredAffinity {
				if t := &ep.PreferredAffinity[i]; t.Matches(pi, ns) {
					add(labels, t.TopologyKey, t.Weight)
				}
			}
			for i := range ep.PreferredAntiAffinity {
				if t := &ep.PreferredAntiAffinity[i]; t.Matches(pi, ns) {
					add(labels, t.TopologyKey, -t.Weight)
				}
			}
			for i := range ep.RequiredAffinity {
				if t := &ep.RequiredAffinity[i]; t.Matches(pi, ns) {
					add(labels, t.TopologyKey, hardPodAffinityWeight)
				}
			}
		}
	}
	for k, v := range scores {
		if v == 0 {
			delete(scores, k)
		}
	}
	if len(scores) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(interPodScoreKey, scores)
	return nil
}

// Score implements framework.ScorePlugin: the summed weight of the
// domains the node is in.
func (InterPodAffinity) Score(_ context.Context, state *framework.CycleState, _ *types.Pod, n *framework.NodeInfo) (int64, *framework.Status) {
	v, ok := state.Read(interPodScoreKey)
	if !ok {
		return 0, nil
	}
	labels := n.Labels()
	var s int64
	for p, w := range v.(map[topologyPair]int64) {
		if labels[p.key] == p.value {
			if _, has := labels[p.key]; has {
				s += w
			}
		}
	}
	return s, nil
}

// NormalizeScore implements framework.NormalizeScorePlugin: min-max
// scaling to [0, 100] (scores can be negative).
func (InterPodAffinity) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *types.Pod, scores []framework.NodeScore) *framework.Status {
	minMaxNormalize(scores)
	return nil
}

func minMaxNormalize(scores []framework.NodeScore) {
	if len(scores) == 0 {
		return
	}
	lo, hi := scores[0].Score, scores[0].Score
	for _, s := range scores {
		lo, hi = min(lo, s.Score), max(hi, s.Score)
	}
	for i := range scores {
		if hi == lo {
			scores[i].Score = 0
			continue
		}
		scores[i].Score = framework.MaxNodeScore * (scores[i].Score - lo) / (hi - lo)
	}
}
