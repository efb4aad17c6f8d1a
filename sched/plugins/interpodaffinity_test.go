package plugins

import (
	"testing"

	"github.com/wharfhq/wharf/api/types"
	. "github.com/wharfhq/wharf/sched/internal/schedtest"
)

const (
	zoneKey = "topology.kubernetes.io/zone"
	hostKey = "kubernetes.io/hostname"
)

func TestInterPodAffinityFilter(t *testing.T) {
	ns := nodes(
		Node("a").Zone("z1").Obj(),
		Node("b").Zone("z1").Obj(),
		Node("c").Zone("z2").Obj(),
		Node("d").Obj(), // no zone
	)
	db := Pod("db").Label("app", "db").On("a").Obj()
	otherNS := Pod("db2").Namespace("other").Label("app", "cache").On("c").Obj()
	lonely := Pod("lonely").Label("app", "lonely").PodAntiAffinity(Term("app", "web", hostKey)).On("c").Obj()
	bound := []*types.Pod{db, otherNS, lonely}

	const (
		aff      = ReasonAffinityRulesNotMatch
		anti     = ReasonAntiAffinityRulesNotMatch
		existing = ReasonExistingAntiAffinityNotMatch
	)
	badTerm := types.PodAffinityTerm{
		LabelSelector: &types.LabelSelector{MatchExpressions: []types.LabelSelectorRequirement{{Key: "app", Operator: "Bogus"}}},
		TopologyKey:   zoneKey,
	}
	nsTerm := Term("app", "cache", zoneKey)
	nsTerm.Namespaces = []string{"other"}
	tests := []struct {
		name string
		pod  *types.Pod
		want map[string]string
	}{
		{"no terms", Pod("p").Obj(), map[string]string{"a": "", "b": "", "c": "", "d": ""}},
		{"affinity to db by zone", Pod("p").PodAffinity(Term("app", "db", zoneKey)).Obj(),
			map[string]string{"a": "", "b": "", "c": aff, "d": aff}},
		{"affinity to db by host", Pod("p").PodAffinity(Term("app", "db", hostKey)).Obj(),
			map[string]string{"a": "", "b": aff, "c": aff, "d": aff}},
		{"affinity to a pod of another namespace is not matched by default", Pod("p").PodAffinity(Term("app", "cache", zoneKey)).Obj(),
			map[string]string{"a": aff, "b": aff, "c": aff, "d": aff}},
		{"affinity naming the other namespace", Pod("p").PodAffinity(nsTerm).Obj(),
			map[string]string{"a": aff, "b": aff, "c": "", "d": aff}},
		{"first of its group goes where the key exists", Pod("p").Label("app", "web").PodAffinity(Term("app", "web", zoneKey)).Obj(),
			map[string]string{"a": "", "b": "", "c": existing, "d": aff}},
		{"anti-affinity to db by zone", Pod("p").PodAntiAffinity(Term("app", "db", zoneKey)).Obj(),
			map[string]string{"a": anti, "b": anti, "c": "", "d": ""}},
		{"anti-affinity to db by host", Pod("p").PodAntiAffinity(Term("app", "db", hostKey)).Obj(),
			map[string]string{"a": anti, "b": "", "c": "", "d": ""}},
		{"existing pod's anti-affinity", Pod("p").Label("app", "web").Obj(),
			map[string]string{"a": "", "b": "", "c": existing, "d": ""}},
		{"existing anti-affinity is per namespace", Pod("p").Namespace("other").Label("app", "web").Obj(),
			map[string]string{"a": "", "b": "", "c": "", "d": ""}},
		{"invalid selector refuses everywhere", Pod("p").PodAffinity(badTerm).Obj(),
			map[string]string{"a": "prefilter", "b": "prefilter", "c": "prefilter", "d": "prefilter"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := filterAll(t, InterPodAffinity{}, tt.pod, ns, bound...)
			for n, m := range got {
				if len(m) > 9 && m[:9] == "prefilter" {
					got[n] = "prefilter"
				}
			}
			checkFilter(t, got, tt.want)
		})
	}
}

func TestInterPodAffinityScore(t *testing.T) {
	ns := nodes(
		Node("a").Zone("z1").Obj(),
		Node("b").Zone("z1").Obj(),
		Node("c").Zone("z2").Obj(),
	)
	bound := []*types.Pod{
		Pod("db").Label("app", "db").On("a").Obj(),
		Pod("fan").Label("app", "fan").PreferredPodAffinity(50, Term("app", "web", hostKey)).On("c").Obj(),
	}
	tests := []struct {
		name string
		pod  *types.Pod
		want map[string]int64
	}{
		{"no preferences, no matching existing terms", Pod("p").Obj(), map[string]int64{"a": 0, "b": 0, "c": 0}},
		{"prefers db's zone", Pod("p").PreferredPodAffinity(10, Term("app", "db", zoneKey)).Obj(),
			map[string]int64{"a": 100, "b": 100, "c": 0}},
		{"avoids db's host", Pod("p").PreferredPodAntiAffinity(10, Term("app", "db", hostKey)).Obj(),
			map[string]int64{"a": 0, "b": 100, "c": 100}},
		{"an existing pod's preference draws the pod", Pod("p").Label("app", "web").Obj(),
			map[string]int64{"a": 0, "b": 0, "c": 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scoreAll(t, InterPodAffinity{}, tt.pod, ns, bound...)
			for n, w := range tt.want {
				if got[n] != w {
					t.Errorf("score %s = %d, want %d (all %v)", n, got[n], w, got)
				}
			}
		})
	}
}
