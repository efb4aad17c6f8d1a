package plugins

import (
	"testing"

	"github.com/wharfhq/wharf/api/types"
	. "github.com/wharfhq/wharf/sched/internal/schedtest"
)

func TestNodeUnschedulableAndReady(t *testing.T) {
	ns := nodes(
		Node("ok").Obj(),
		Node("cordoned").Unschedulable().Obj(),
		Node("notready").NotReady().Obj(),
	)
	tests := []struct {
		name string
		pod  *types.Pod
		want map[string]string
	}{
		{"plain pod", Pod("p").Obj(), map[string]string{
			"ok": "", "cordoned": ReasonNodeUnschedulable, "notready": ReasonNodeNotReady}},
		{"tolerates unschedulable", Pod("p").Toleration(types.TaintNodeUnschedulable, types.TolerationOpExists, "", types.TaintEffectNoSchedule).Obj(), map[string]string{
			"ok": "", "cordoned": "", "notready": ReasonNodeNotReady}},
		{"tolerates not-ready NoExecute", Pod("p").Toleration(types.TaintNodeNotReady, types.TolerationOpExists, "", types.TaintEffectNoExecute).Obj(), map[string]string{
			"ok": "", "cordoned": ReasonNodeUnschedulable, "notready": ""}},
		{"tolerates everything", Pod("p").Toleration("", types.TolerationOpExists, "", "").Obj(), map[string]string{
			"ok": "", "cordoned": "", "notready": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := filterAll(t, NodeUnschedulable{}, tt.pod, ns)
			for n, msg := range filterAll(t, NodeReady{}, tt.pod, ns) {
				if msg != "" {
					got[n] = msg
				}
			}
			checkFilter(t, got, tt.want)
		})
	}
}

func TestNodeRuntime(t *testing.T) {
	ns := nodes(
		Node("both").Runtimes("wasm,container").Obj(),
		Node("dotted").Runtimes("container.wasm").Obj(),
		Node("wasm-only").Runtimes(" wasm ").Obj(),
		Node("container-only").Runtimes("container").Obj(),
		Node("unlabelled").Unlabel("wharf.dev/runtimes").Obj(),
		Node("empty").Runtimes("").Obj(),
	)
	const noWasm, noContainer = "node(s) didn't have the wasm runtime", "node(s) didn't have the container runtime"
	tests := []struct {
		name string
		pod  *types.Pod
		want map[string]string
	}{
		{"wasm pod", Pod("p").Wasm().Obj(), map[string]string{
			"both": "", "dotted": "", "wasm-only": "", "container-only": noWasm, "unlabelled": noWasm, "empty": noWasm}},
		{"container pod", Pod("p").Obj(), map[string]string{
			"both": "", "dotted": "", "wasm-only": noContainer, "container-only": "", "unlabelled": "", "empty": noContainer}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkFilter(t, filterAll(t, NodeRuntime{}, tt.pod, ns), tt.want)
		})
	}
}

func TestNodeArchitecture(t *testing.T) {
	ns := nodes(
		Node("amd").Arch("amd64").Obj(),
		Node("arm").Arch("arm64").Obj(),
		Node("windows-amd").Arch("amd64").Label("kubernetes.io/os", "windows").Obj(),
		Node("unknown").Unlabel("kubernetes.io/arch").Obj(),
	)
	tests := []struct {
		name string
		pod  *types.Pod
		want map[string]string
	}{
		{"no annotation runs anywhere", Pod("p").Obj(), map[string]string{
			"amd": "", "arm": "", "windows-amd": "", "unknown": ""}},
		{"amd64 image", Pod("p").Platforms("linux/amd64").Obj(), map[string]string{
			"amd": "", "arm": "node(s) didn't match the Pod's image platforms (linux/amd64)",
			"windows-amd": "node(s) didn't match the Pod's image platforms (linux/amd64)", "unknown": ""}},
		{"multi-arch image with variant", Pod("p").Platforms("linux/amd64, linux/arm64/v8").Obj(), map[string]string{
			"amd": "", "arm": "", "windows-amd": "node(s) didn't match the Pod's image platforms (linux/amd64,linux/arm64/v8)", "unknown": ""}},
		{"bare arch", Pod("p").Platforms("arm64").Obj(), map[string]string{
			"amd": "node(s) didn't match the Pod's image platforms (arm64)", "arm": "",
			"windows-amd": "node(s) didn't match the Pod's image platforms (arm64)", "unknown": ""}},
		{"wasm ignores platforms", Pod("p").Wasm().Platforms("linux/s390x").Obj(), map[string]string{
			"amd": "", "arm": "", "windows-amd": "", "unknown": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkFilter(t, filterAll(t, NodeArchitecture{}, tt.pod, ns), tt.want)
		})
	}
}

func TestTaintToleration(t *testing.T) {
	ns := nodes(
		Node("clean").Obj(),
		Node("gpu").Taint("gpu", "true", types.TaintEffectNoSchedule).Obj(),
		Node("evict").Taint("maint", "", types.TaintEffectNoExecute).Obj(),
		Node("prefer").Taint("slow", "yes", types.TaintEffectPreferNoSchedule).Obj(),
	)
	tests := []struct {
		name string
		pod  *types.Pod
		want map[string]string
	}{
		{"no tolerations", Pod("p").Obj(), map[string]string{
			"clean": "", "gpu": "node(s) had untolerated taint {gpu: true}", "evict": "node(s) had untolerated taint {maint: }", "prefer": ""}},
		{"equal toleration", Pod("p").Toleration("gpu", types.TolerationOpEqual, "true", types.TaintEffectNoSchedule).Obj(), map[string]string{
			"clean": "", "gpu": "", "evict": "node(s) had untolerated taint {maint: }", "prefer": ""}},
		{"wrong value", Pod("p").Toleration("gpu", "", "false", "").Obj(), map[string]string{
			"clean": "", "gpu": "node(s) had untolerated taint {gpu: true}", "evict": "node(s) had untolerated taint {maint: }", "prefer": ""}},
		{"wrong effect", Pod("p").Toleration("gpu", types.TolerationOpExists, "", types.TaintEffectNoExecute).Obj(), map[string]string{
			"clean": "", "gpu": "node(s) had untolerated taint {gpu: true}", "evict": "node(s) had untolerated taint {maint: }", "prefer": ""}},
		{"exists any effect", Pod("p").Toleration("maint", types.TolerationOpExists, "", "").Obj(), map[string]string{
			"clean": "", "gpu": "node(s) had untolerated taint {gpu: true}", "evict": "", "prefer": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkFilter(t, filterAll(t, TaintToleration{}, tt.pod, ns), tt.want)
		})
	}
	t.Run("PreferNoSchedule score", func(t *testing.T) {
		ns := nodes(Node("clean").Obj(), Node("one").Taint("a", "", types.TaintEffectPreferNoSchedule).Obj(),
			Node("two").Taint("a", "", types.TaintEffectPreferNoSchedule).Taint("b", "", types.TaintEffectPreferNoSchedule).Obj())
		got := scoreAll(t, TaintToleration{}, Pod("p").Obj(), ns)
		if got["clean"] != 100 || got["one"] != 50 || got["two"] != 0 {
			t.Errorf("scores %v, want clean 100, one 50, two 0", got)
		}
		got = scoreAll(t, TaintToleration{}, Pod("p").Toleration("", types.TolerationOpExists, "", types.TaintEffectPreferNoSchedule).Obj(), ns)
		if got["clean"] != 100 || got["one"] != 100 || got["two"] != 100 {
			t.Errorf("tolerating pod: scores %v, want all 100", got)
		}
	})
}

func TestToleratesTaint(t *testing.T) {
	taint := types.Taint{Key: "k", Value: "v", Effect: types.TaintEffectNoSchedule}
	tests := []struct {
		name string
		tol  types.Toleration
		want bool
	}{
		{"equal", types.Toleration{Key: "k", Operator: types.TolerationOpEqual, Value: "v", Effect: types.TaintEffectNoSchedule}, true},
		{"default operator is equal", types.Toleration{Key: "k", Value: "v"}, true},
		{"other value", types.Toleration{Key: "k", Value: "w"}, false},
		{"exists", types.Toleration{Key: "k", Operator: types.TolerationOpExists}, true},
		{"empty key exists", types.Toleration{Operator: types.TolerationOpExists}, true},
		{"other key", types.Toleration{Key: "x", Operator: types.TolerationOpExists}, false},
		{"other effect", types.Toleration{Key: "k", Operator: types.TolerationOpExists, Effect: types.TaintEffectNoExecute}, false},
		{"unknown operator", types.Toleration{Key: "k", Operator: "Like", Value: "v"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ToleratesTaint(&tt.tol, &taint); got != tt.want {
				t.Errorf("ToleratesTaint = %v, want %v", got, tt.want)
			}
		})
	}
}
