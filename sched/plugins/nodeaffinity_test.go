package plugins

import (
	"testing"

	"github.com/wharfhq/wharf/api/types"
	. "github.com/wharfhq/wharf/sched/internal/schedtest"
)

func req(key string, op types.NodeSelectorOperator, values ...string) types.NodeSelectorRequirement {
	return types.NodeSelectorRequirement{Key: key, Operator: op, Values: values}
}

func TestNodeAffinityFilter(t *testing.T) {
	ns := nodes(
		Node("a").Label("disk", "ssd").Label("cores", "8").Zone("z1").Obj(),
		Node("b").Label("disk", "hdd").Label("cores", "2").Zone("z2").Obj(),
		Node("c").Label("cores", "many").Obj(),
	)
	const no = ReasonNodeAffinity
	tests := []struct {
		name string
		pod  *types.Pod
		want map[string]string
	}{
		{"none", Pod("p").Obj(), map[string]string{"a": "", "b": "", "c": ""}},
		{"nodeSelector", Pod("p").NodeSelector("disk", "ssd").Obj(), map[string]string{"a": "", "b": no, "c": no}},
		{"In", Pod("p").RequiredNodeTerm([]types.NodeSelectorRequirement{req("disk", types.NodeSelectorOpIn, "ssd", "nvme")}, nil).Obj(),
			map[string]string{"a": "", "b": no, "c": no}},
		{"NotIn matches missing label", Pod("p").RequiredNodeTerm([]types.NodeSelectorRequirement{req("disk", types.NodeSelectorOpNotIn, "ssd")}, nil).Obj(),
			map[string]string{"a": no, "b": "", "c": ""}},
		{"Exists", Pod("p").RequiredNodeTerm([]types.NodeSelectorRequirement{req("disk", types.NodeSelectorOpExists)}, nil).Obj(),
			map[string]string{"a": "", "b": "", "c": no}},
		{"DoesNotExist", Pod("p").RequiredNodeTerm([]types.NodeSelectorRequirement{req("disk", types.NodeSelectorOpDoesNotExist)}, nil).Obj(),
			map[string]string{"a": no, "b": no, "c": ""}},
		{"Gt ignores non-numeric", Pod("p").RequiredNodeTerm([]types.NodeSelectorRequirement{req("cores", types.NodeSelectorOpGt, "4")}, nil).Obj(),
			map[string]string{"a": "", "b": no, "c": no}},
		{"Lt", Pod("p").RequiredNodeTerm([]types.NodeSelectorRequirement{req("cores", types.NodeSelectorOpLt, "4")}, nil).Obj(),
			map[string]string{"a": no, "b": "", "c": no}},
		{"Gt with bad value matches nothing", Pod("p").RequiredNodeTerm([]types.NodeSelectorRequirement{req("cores", types.NodeSelectorOpGt, "x")}, nil).Obj(),
			map[string]string{"a": no, "b": no, "c": no}},
		{"expressions in a term are ANDed", Pod("p").RequiredNodeTerm([]types.NodeSelectorRequirement{
			req("disk", types.NodeSelectorOpExists), req("cores", types.NodeSelectorOpLt, "4")}, nil).Obj(),
			map[string]string{"a": no, "b": "", "c": no}},
		{"terms are ORed", Pod("p").
			RequiredNodeTerm([]types.NodeSelectorRequirement{req("disk", types.NodeSelectorOpIn, "ssd")}, nil).
			RequiredNodeTerm([]types.NodeSelectorRequirement{req("disk", types.NodeSelectorOpDoesNotExist)}, nil).Obj(),
			map[string]string{"a": "", "b": no, "c": ""}},
		{"matchFields metadata.name", Pod("p").RequiredNodeTerm(nil, []types.NodeSelectorRequirement{req("metadata.name", types.NodeSelectorOpIn, "b", "c")}).Obj(),
			map[string]string{"a": no, "b": "", "c": ""}},
		{"matchFields NotIn", Pod("p").RequiredNodeTerm(nil, []types.NodeSelectorRequirement{req("metadata.name", types.NodeSelectorOpNotIn, "b")}).Obj(),
			map[string]string{"a": "", "b": no, "c": ""}},
		{"matchFields other field matches nothing", Pod("p").RequiredNodeTerm(nil, []types.NodeSelectorRequirement{req("metadata.uid", types.NodeSelectorOpIn, "a")}).Obj(),
			map[string]string{"a": no, "b": no, "c": no}},
		{"empty term matches nothing", Pod("p").RequiredNodeTerm(nil, nil).Obj(), map[string]string{"a": no, "b": no, "c": no}},
		{"selector and affinity both apply", Pod("p").NodeSelector("topology.kubernetes.io/zone", "z2").
			RequiredNodeTerm([]types.NodeSelectorRequirement{req("disk", types.NodeSelectorOpExists)}, nil).Obj(),
			map[string]string{"a": no, "b": "", "c": no}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkFilter(t, filterAll(t, NodeAffinity{}, tt.pod, ns), tt.want)
		})
	}
}

func TestNodeAffinityScore(t *testing.T) {
	ns := nodes(
		Node("a").Label("disk", "ssd").Zone("z1").Obj(),
		Node("b").Label("disk", "hdd").Zone("z1").Obj(),
		Node("c").Zone("z2").Obj(),
	)
	pod := Pod("p").
		PreferredNodeTerm(80, req("disk", types.NodeSelectorOpIn, "ssd")).
		PreferredNodeTerm(20, req("topology.kubernetes.io/zone", types.NodeSelectorOpIn, "z1")).
		PreferredNodeTerm(0, req("disk", types.NodeSelectorOpExists)).Obj()
	got := scoreAll(t, NodeAffinity{}, pod, ns)
	want := map[string]int64{"a": 100, "b": 20, "c": 0}
	for n, w := range want {
		if got[n] != w {
			t.Errorf("score %s = %d, want %d (all %v)", n, got[n], w, got)
		}
	}
	if got := scoreAll(t, NodeAffinity{}, Pod("q").Obj(), ns); got["a"] != 0 || got["c"] != 0 {
		t.Errorf("pod without preferences: %v, want zeros", got)
	}
}
