package plugins

import (
	"testing"

	"github.com/wharfhq/wharf/api/types"
	. "github.com/wharfhq/wharf/sched/internal/schedtest"
)

func TestPodTopologySpreadFilter(t *testing.T) {
	ns := nodes(
		Node("a").Zone("z1").Obj(),
		Node("b").Zone("z1").Obj(),
		Node("c").Zone("z2").Obj(),
		Node("d").Obj(), // no zone
		Node("e").Zone("z3").Label("pool", "spare").Obj(),
	)
	bound := []*types.Pod{
		Pod("w1").Label("app", "web").On("a").Obj(),
		Pod("w2").Label("app", "web").On("b").Obj(),
		Pod("w3").Label("app", "web").On("c").Obj(),
		Pod("x").Label("app", "web").Namespace("other").On("c").Obj(), // other namespace: not counted
		Pod("y").Label("app", "api").On("c").Obj(),
	}
	const (
		skew    = ReasonSpreadNotMatch
		missing = ReasonSpreadMissingLabel
	)
	tests := []struct {
		name string
		pod  *types.Pod
		want map[string]string
	}{
		{"no constraints", Pod("p").Obj(), map[string]string{"a": "", "b": "", "c": "", "d": "", "e": ""}},
		// zones: z1 2, z2 1, z3 0; min 0, maxSkew 1: only z3 takes the Pod.
		{"zone maxSkew 1", Pod("p").Label("app", "web").Spread(1, zoneKey, types.DoNotSchedule, "app", "web").Obj(),
			map[string]string{"a": skew, "b": skew, "c": skew, "d": missing, "e": ""}},
		// maxSkew 2: z2 (1+1-0=2) fits too.
		{"zone maxSkew 2", Pod("p").Label("app", "web").Spread(2, zoneKey, types.DoNotSchedule, "app", "web").Obj(),
			map[string]string{"a": skew, "b": skew, "c": "", "d": missing, "e": ""}},
		// a Pod that does not match its own selector adds nothing.
		{"pod outside its selector", Pod("p").Label("app", "other").Spread(2, zoneKey, types.DoNotSchedule, "app", "web").Obj(),
			map[string]string{"a": "", "b": "", "c": "", "d": missing, "e": ""}},
		// hostnames: a 1, b 1, c 1, d 0, e 0.
		{"hostname maxSkew 1", Pod("p").Label("app", "web").Spread(1, hostKey, types.DoNotSchedule, "app", "web").Obj(),
			map[string]string{"a": skew, "b": skew, "c": skew, "d": "", "e": ""}},
		{"ScheduleAnyway is not a filter", Pod("p").Label("app", "web").Spread(1, zoneKey, types.ScheduleAnyway, "app", "web").Obj(),
			map[string]string{"a": "", "b": "", "c": "", "d": "", "e": ""}},
		// with a nodeSelector excluding e (z3), the minimum is taken over z1 and z2 only.
		{"node affinity policy honoured", Pod("p").Label("app", "web").RequiredNodeTerm([]types.NodeSelectorRequirement{req("pool", types.NodeSelectorOpDoesNotExist)}, nil).
			Spread(1, zoneKey, types.DoNotSchedule, "app", "web").Obj(),
			map[string]string{"a": skew, "b": skew, "c": "", "d": missing, "e": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkFilter(t, filterAll(t, PodTopologySpread{}, tt.pod, ns, bound...), tt.want)
		})
	}
	t.Run("minDomains counts missing domains as zero", func(t *testing.T) {
		pod := Pod("p").Label("app", "web").Spread(1, zoneKey, types.DoNotSchedule, "app", "web").Obj()
		md := int32(5)
		pod.Spec.TopologySpreadConstraints[0].MinDomains = &md
		two := nodes(Node("a").Zone("z1").Obj(), Node("c").Zone("z2").Obj())
		got := filterAll(t, PodTopologySpread{}, pod, two, Pod("w1").Label("app", "web").On("a").Obj())
		// Without minDomains the global minimum would be 0 (z2) anyway;
		// with it, z1 (1+1-0=2) is refused and z2 is taken.
		checkFilter(t, got, map[string]string{"a": skew, "c": ""})
	})
}

func TestPodTopologySpreadScore(t *testing.T) {
	t.Run("ScheduleAnyway prefers the emptier zone", func(t *testing.T) {
		ns := nodes(Node("a").Zone("z1").Obj(), Node("b").Zone("z1").Obj(), Node("c").Zone("z2").Obj())
		bound := []*types.Pod{
			Pod("w1").Label("app", "web").On("a").Obj(),
			Pod("w2").Label("app", "web").On("b").Obj(),
		}
		got := scoreAll(t, PodTopologySpread{}, Pod("p").Label("app", "web").Spread(1, zoneKey, types.ScheduleAnyway, "app", "web").Obj(), ns, bound...)
		if got["c"] != 100 || got["a"] >= got["c"] || got["a"] != got["b"] {
			t.Errorf("scores %v: want c 100 and a = b < c", got)
		}
	})
	t.Run("hostname ScheduleAnyway", func(t *testing.T) {
		ns := nodes(Node("a").Obj(), Node("b").Obj())
		bound := []*types.Pod{
			Pod("w1").Label("app", "web").On("a").Obj(),
			Pod("w2").Label("app", "web").On("a").Obj(),
		}
		got := scoreAll(t, PodTopologySpread{}, Pod("p").Label("app", "web").Spread(1, hostKey, types.ScheduleAnyway, "app", "web").Obj(), ns, bound...)
		if got["b"] != 100 || got["a"] >= got["b"] {
			t.Errorf("scores %v: want b 100 > a", got)
		}
	})
	t.Run("replicas of a workload spread over nodes and zones by default", func(t *testing.T) {
		ns := nodes(Node("a").Zone("z1").Obj(), Node("b").Zone("z1").Obj(), Node("c").Zone("z2").Obj(), Node("d").Zone("z2").Obj())
		bound := []*types.Pod{
			Pod("r1").Owner("rs1").On("a").Obj(),
			Pod("r2").Owner("rs1").On("a").Obj(),
			Pod("r3").Owner("rs1").On("c").Obj(),
			Pod("x").Owner("rs2").On("d").Obj(), // another workload: ignored
		}
		got := scoreAll(t, PodTopologySpread{}, Pod("p").Owner("rs1").Obj(), ns, bound...)
		// b (0 on node, zone z1 has 2) vs d (0 on node, zone z2 has 1): d best.
		if !(got["d"] > got["b"] && got["b"] > got["c"] && got["c"] > got["a"]) {
			t.Errorf("scores %v: want d > b > c > a", got)
		}
	})
	t.Run("pod without owner or constraints is not scored", func(t *testing.T) {
		got := scoreAll(t, PodTopologySpread{}, Pod("p").Obj(), nodes(Node("a").Obj(), Node("b").Obj()))
		if got["a"] != 0 || got["b"] != 0 {
			t.Errorf("scores %v, want zeros (skipped)", got)
		}
	})
	t.Run("nodes missing the key score 0", func(t *testing.T) {
		ns := nodes(Node("a").Zone("z1").Obj(), Node("nz").Obj())
		got := scoreAll(t, PodTopologySpread{}, Pod("p").Label("app", "web").Spread(1, zoneKey, types.ScheduleAnyway, "app", "web").Obj(), ns)
		if got["a"] != 100 || got["nz"] != 0 {
			t.Errorf("scores %v, want a 100, nz 0", got)
		}
	})
}
