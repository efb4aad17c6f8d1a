package plugins

import (
	"testing"

	"github.com/wharfhq/wharf/api/types"
	. "github.com/wharfhq/wharf/sched/internal/schedtest"
)

func TestNodeResourcesFit(t *testing.T) {
	ns := nodes(
		Node("big").Capacity("4", "8Gi", "110").Obj(),
		Node("small").Capacity("1", "1Gi", "110").Obj(),
		Node("full").Capacity("4", "8Gi", "2").Obj(),
		Node("gpu").Capacity("4", "8Gi", "110").Resource("nvidia.com/gpu", "1").Obj(),
	)
	bound := []*types.Pod{
		Pod("a").Req("500m", "512Mi").On("small").Obj(),
		Pod("b").On("full").Obj(),
		Pod("c").On("full").Obj(),
		Pod("done").Req("4", "8Gi").On("big").Phase(types.PodSucceeded).Obj(), // terminal: not counted
	}
	tests := []struct {
		name string
		pod  *types.Pod
		want map[string]string
	}{
		{"fits where room", Pod("p").Req("500m", "256Mi").Obj(), map[string]string{
			"big": "", "small": "", "full": ReasonTooManyPods, "gpu": ""}},
		{"cpu too large for small", Pod("p").Req("600m", "").Obj(), map[string]string{
			"big": "", "small": ReasonInsufficientCPU, "full": ReasonTooManyPods, "gpu": ""}},
		{"memory too large for small", Pod("p").Req("", "600Mi").Obj(), map[string]string{
			"big": "", "small": ReasonInsufficientMemory, "full": ReasonTooManyPods, "gpu": ""}},
		{"everything too large", Pod("p").Req("5", "9Gi").Obj(), map[string]string{
			"big": "Insufficient cpu, Insufficient memory", "small": "Insufficient cpu, Insufficient memory",
			"full": "Too many pods, Insufficient cpu, Insufficient memory", "gpu": "Insufficient cpu, Insufficient memory"}},
		{"init container max counts", Pod("p").Req("100m", "").Init("3", "").Obj(), map[string]string{
			"big": "", "small": ReasonInsufficientCPU, "full": ReasonTooManyPods, "gpu": ""}},
		{"scalar resource", Pod("p").ReqResource("nvidia.com/gpu", "1").Obj(), map[string]string{
			"big": "Insufficient nvidia.com/gpu", "small": "Insufficient nvidia.com/gpu",
			"full": "Too many pods, Insufficient nvidia.com/gpu", "gpu": ""}},
		{"no requests", Pod("p").Obj(), map[string]string{
			"big": "", "small": "", "full": ReasonTooManyPods, "gpu": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkFilter(t, filterAll(t, NodeResourcesFit{}, tt.pod, ns, bound...), tt.want)
		})
	}
}

func TestLeastAllocatedAndBalanced(t *testing.T) {
	ns := nodes(
		Node("empty").Capacity("4", "4Gi", "").Obj(),
		Node("half").Capacity("4", "4Gi", "").Obj(),
		Node("cpuheavy").Capacity("4", "4Gi", "").Obj(),
	)
	bound := []*types.Pod{
		Pod("h").Req("2", "2Gi").On("half").Obj(),
		Pod("c").Req("3", "1Gi").On("cpuheavy").Obj(),
	}
	pod := Pod("p").Req("1", "1Gi").Obj()
	least := scoreAll(t, LeastAllocated{}, pod, ns, bound...)
	// empty: cpu 1/4, mem 1/4 -> 75; half: 3/4 both -> 25; cpuheavy: cpu 4/4, mem 2/4 -> 25.
	want := map[string]int64{"empty": 75, "half": 25, "cpuheavy": 25}
	for n, w := range want {
		if least[n] != w {
			t.Errorf("LeastAllocated %s = %d, want %d (all %v)", n, least[n], w, least)
		}
	}
	bal := scoreAll(t, BalancedAllocation{}, pod, ns, bound...)
	// empty and half are balanced (100); cpuheavy differs by 0.5 -> 75.
	want = map[string]int64{"empty": 100, "half": 100, "cpuheavy": 75}
	for n, w := range want {
		if bal[n] != w {
			t.Errorf("BalancedAllocation %s = %d, want %d (all %v)", n, bal[n], w, bal)
		}
	}
	t.Run("zero requests use defaults", func(t *testing.T) {
		got := scoreAll(t, LeastAllocated{}, Pod("z").Obj(), nodes(Node("n").Capacity("1", "1Gi", "").Obj()))
		// 100m of 1 cpu -> 90; 200Mi of 1Gi -> 80.47 -> average 85.
		if got["n"] != 85 {
			t.Errorf("score %d, want 85", got["n"])
		}
	})
	t.Run("node without allocatable", func(t *testing.T) {
		n := Node("n").Capacity("", "", "").Obj()
		if got := scoreAll(t, BalancedAllocation{}, Pod("z").Obj(), nodes(n)); got["n"] != 0 {
			t.Errorf("balanced score %d, want 0", got["n"])
		}
	})
}

func TestNodePorts(t *testing.T) {
	ns := nodes(Node("free").Obj(), Node("any").Obj(), Node("specific").Obj(), Node("udp").Obj())
	bound := []*types.Pod{
		Pod("a").HostPort(80, "", "").On("any").Obj(),
		Pod("b").HostPort(80, types.ProtocolTCP, "10.0.0.1").On("specific").Obj(),
		Pod("c").HostPort(80, types.ProtocolUDP, "").On("udp").Obj(),
	}
	tests := []struct {
		name string
		pod  *types.Pod
		want map[string]string
	}{
		{"no host ports", Pod("p").Obj(), map[string]string{"free": "", "any": "", "specific": "", "udp": ""}},
		{"tcp 80 any address", Pod("p").HostPort(80, "", "").Obj(), map[string]string{
			"free": "", "any": ReasonNodePorts, "specific": ReasonNodePorts, "udp": ""}},
		{"tcp 80 same specific address", Pod("p").HostPort(80, types.ProtocolTCP, "10.0.0.1").Obj(), map[string]string{
			"free": "", "any": ReasonNodePorts, "specific": ReasonNodePorts, "udp": ""}},
		{"tcp 80 other specific address", Pod("p").HostPort(80, types.ProtocolTCP, "10.0.0.2").Obj(), map[string]string{
			"free": "", "any": ReasonNodePorts, "specific": "", "udp": ""}},
		{"udp 80", Pod("p").HostPort(80, types.ProtocolUDP, "").Obj(), map[string]string{
			"free": "", "any": "", "specific": "", "udp": ReasonNodePorts}},
		{"other port", Pod("p").HostPort(8080, "", "").Obj(), map[string]string{"free": "", "any": "", "specific": "", "udp": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkFilter(t, filterAll(t, NodePorts{}, tt.pod, ns, bound...), tt.want)
		})
	}
}
