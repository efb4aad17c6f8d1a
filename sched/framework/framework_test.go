package framework_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sched/framework"
	. "github.com/wharfhq/wharf/sched/internal/schedtest"
	"github.com/wharfhq/wharf/sched/plugins"
)

func defaultProfile(t testing.TB, opts framework.ProfileOptions) *framework.Profile {
	t.Helper()
	p, err := framework.NewProfile(plugins.NewRegistry(), plugins.DefaultPlugins(), opts)
	if err != nil {
		t.Fatalf("NewProfile: %v", err)
	}
	return p
}

func TestStatus(t *testing.T) {
	var nilStatus *framework.Status
	if !nilStatus.IsSuccess() || nilStatus.Code() != framework.Success || nilStatus.Message() != "" || nilStatus.AsError() != nil {
		t.Errorf("nil status is not a plain success")
	}
	st := framework.NewStatus(framework.Unschedulable, "a", "b")
	if !st.IsRejected() || st.Message() != "a, b" || st.AsError() == nil || st.AsError().Error() != "a, b" {
		t.Errorf("unschedulable status: %v %q %v", st.Code(), st.Message(), st.AsError())
	}
	if w := st.WithPlugin("P"); w.Plugin() != "P" || st.Plugin() != "" || w.Message() != st.Message() {
		t.Errorf("WithPlugin changed the original or lost data")
	}
	base := errors.New("boom")
	es := framework.AsStatus(base)
	if es.Code() != framework.Error || !errors.Is(es.AsError(), base) {
		t.Errorf("AsStatus: %v", es.AsError())
	}
	if framework.AsStatus(nil) != nil {
		t.Errorf("AsStatus(nil) is not nil")
	}
	if framework.NewStatus(framework.Skip).AsError() != nil || !framework.NewStatus(framework.Skip).IsSkip() {
		t.Errorf("skip status")
	}
	if framework.Code(42).String() != "Unknown" || framework.UnschedulableAndUnresolvable.String() != "UnschedulableAndUnresolvable" {
		t.Errorf("Code.String")
	}
}

func TestSummarizeReasons(t *testing.T) {
	mem := framework.NewStatus(framework.Unschedulable, "Insufficient memory")
	aff := framework.NewStatus(framework.UnschedulableAndUnresolvable, "node(s) didn't match Pod's node affinity/selector")
	taint := framework.NewStatus(framework.UnschedulableAndUnresolvable, "node(s) had untolerated taint {gpu: true}")
	both := framework.NewStatus(framework.Unschedulable, "Insufficient cpu", "Insufficient memory")
	tests := []struct {
		name     string
		statuses map[string]*framework.Status
		want     string
	}{
		{"empty", nil, ""},
		{"brief example", map[string]*framework.Status{"n1": mem, "n2": mem, "n3": aff, "n4": aff, "n5": taint},
			"2 Insufficient memory, 2 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {gpu: true}"},
		{"a node with two reasons counts under each", map[string]*framework.Status{"n1": both, "n2": mem},
			"2 Insufficient memory, 1 Insufficient cpu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := framework.SummarizeReasons(tt.statuses); got != tt.want {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestPodInfoRequests(t *testing.T) {
	tests := []struct {
		name          string
		pod           *types.Pod
		cpu, mem      int64
		nzCPU, nzMem  int64
		wantHostPorts int
	}{
		{"nothing", Pod("p").Obj(), 0, 0, framework.DefaultMilliCPURequest, framework.DefaultMemoryRequest, 0},
		{"container", Pod("p").Req("250m", "64Mi").Obj(), 250, 64 << 20, 250, 64 << 20, 0},
		{"init larger", Pod("p").Req("250m", "64Mi").Init("1", "32Mi").Obj(), 1000, 64 << 20, 1000, 64 << 20, 0},
		{"host port", Pod("p").HostPort(80, "", "").Obj(), 0, 0, framework.DefaultMilliCPURequest, framework.DefaultMemoryRequest, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pi := framework.NewPodInfo(tt.pod)
			if pi.Requests.MilliCPU != tt.cpu || pi.Requests.Memory != tt.mem || pi.Requests.Pods != 1 {
				t.Errorf("requests %+v, want cpu %d mem %d pods 1", pi.Requests, tt.cpu, tt.mem)
			}
			if pi.NonZeroRequests.MilliCPU != tt.nzCPU || pi.NonZeroRequests.Memory != tt.nzMem {
				t.Errorf("non-zero requests %+v, want cpu %d mem %d", pi.NonZeroRequests, tt.nzCPU, tt.nzMem)
			}
			if len(pi.HostPorts) != tt.wantHostPorts {
				t.Errorf("host ports %v", pi.HostPorts)
			}
			if pi.Key != "default/p" || pi.Runtime != framework.RuntimeContainer {
				t.Errorf("key %q runtime %q", pi.Key, pi.Runtime)
			}
		})
	}
	pi := framework.NewPodInfo(Pod("w").Wasm().Owner("rs1").Platforms("linux/amd64, linux/arm64").Obj())
	if pi.Runtime != framework.RuntimeWasm || pi.OwnerUID != "rs1" || len(pi.Platforms) != 2 || pi.Platforms[1] != "linux/arm64" {
		t.Errorf("wasm pod info: runtime %q owner %q platforms %q", pi.Runtime, pi.OwnerUID, pi.Platforms)
	}
}

func TestNodeInfoAddRemove(t *testing.T) {
	ni := framework.NewNodeInfo(Node("n").Zone("z").Obj())
	if !ni.Ready || ni.Arch != "amd64" || ni.Zone != "z" || !ni.HasRuntime("wasm") || ni.Allocatable.MilliCPU != 4000 || ni.Allocatable.Pods != 110 {
		t.Fatalf("derived facts: %+v", ni)
	}
	a := framework.NewPodInfo(Pod("a").Req("1", "1Gi").HostPort(80, "", "").Owner("o").Obj())
	b := framework.NewPodInfo(Pod("b").Req("500m", "").PodAntiAffinity(Term("x", "y", "kubernetes.io/hostname")).Obj())
	ni.AddPod(a)
	ni.AddPod(b)
	clone := ni.Clone()
	if ni.Requested.MilliCPU != 1500 || ni.Requested.Memory != 1<<30 || ni.Requested.Pods != 2 || ni.OwnerCounts["o"] != 1 {
		t.Errorf("requested %+v owners %v", ni.Requested, ni.OwnerCounts)
	}
	if len(ni.PodsWithAffinity) != 1 || len(ni.PodsWithRequiredAntiAffinity) != 1 {
		t.Errorf("affinity lists %d %d", len(ni.PodsWithAffinity), len(ni.PodsWithRequiredAntiAffinity))
	}
	if !ni.PortConflict(framework.HostPort{IP: "10.0.0.1", Protocol: types.ProtocolTCP, Port: 80}) {
		t.Errorf("no conflict with a port bound on every address")
	}
	if !ni.RemovePod("default/a") || ni.RemovePod("default/a") {
		t.Errorf("RemovePod result wrong")
	}
	if ni.Requested.MilliCPU != 500 || ni.Requested.Pods != 1 || len(ni.OwnerCounts) != 0 {
		t.Errorf("after remove: requested %+v owners %v", ni.Requested, ni.OwnerCounts)
	}
	if ni.PortConflict(framework.HostPort{IP: "0.0.0.0", Protocol: types.ProtocolTCP, Port: 80}) {
		t.Errorf("port still in use after remove")
	}
	if clone.Requested.MilliCPU != 1500 || len(clone.Pods) != 2 || clone.OwnerCounts["o"] != 1 ||
		!clone.PortConflict(framework.HostPort{IP: "0.0.0.0", Protocol: types.ProtocolTCP, Port: 80}) {
		t.Errorf("clone changed with the original: %+v", clone.Requested)
	}
}

func TestCacheAssumeForgetConfirm(t *testing.T) {
	c := framework.NewCache()
	c.AddNode(Node("n1").Capacity("2", "2Gi", "").Obj())
	c.AddNode(Node("n2").Capacity("2", "2Gi", "").Obj())
	snap := framework.NewEmptySnapshot()
	c.UpdateSnapshot(snap)
	if snap.NumNodes() != 2 {
		t.Fatalf("snapshot has %d nodes", snap.NumNodes())
	}
	pod := Pod("p").Req("1", "").Obj()
	pi := framework.NewPodInfo(pod)
	if err := c.AssumePod(pi, "n1"); err != nil {
		t.Fatal(err)
	}
	if err := c.AssumePod(pi, "n2"); !errors.Is(err, framework.ErrPodAlreadyInCache) {
		t.Errorf("second assume: %v, want ErrPodAlreadyInCache", err)
	}
	old := snap.Get("n1")
	c.UpdateSnapshot(snap)
	if got := snap.Get("n1").Requested.MilliCPU; got != 1000 {
		t.Errorf("assumed pod not in snapshot: requested %d", got)
	}
	if old.Requested.MilliCPU != 0 {
		t.Errorf("snapshot node changed in place: %d", old.Requested.MilliCPU)
	}
	if !c.IsAssumed("default/p") {
		t.Errorf("not assumed")
	}
	if err := c.ForgetPod("default/p"); err != nil {
		t.Fatal(err)
	}
	if err := c.ForgetPod("default/p"); !errors.Is(err, framework.ErrPodNotAssumed) {
		t.Errorf("second forget: %v", err)
	}
	c.UpdateSnapshot(snap)
	if got := snap.Get("n1").Requested.MilliCPU; got != 0 {
		t.Errorf("forgotten pod still counted: %d", got)
	}

	// Assume, then the informer shows it bound: confirmed, no longer assumed.
	if err := c.AssumePod(pi, "n2"); err != nil {
		t.Fatal(err)
	}
	c.FinishBinding("default/p")
	bound := Pod("p").Req("1", "").On("n2").Obj()
	c.AddPod(bound)
	if c.IsAssumed("default/p") {
		t.Errorf("still assumed after the informer showed it bound")
	}
	if n, ok := c.PodNode("default/p"); !ok || n != "n2" {
		t.Errorf("PodNode = %q %v", n, ok)
	}
	nodes, pods, assumed := c.Counts()
	if nodes != 2 || pods != 1 || assumed != 0 {
		t.Errorf("counts %d %d %d", nodes, pods, assumed)
	}
	c.UpdateSnapshot(snap)
	if got := snap.Get("n2").Requested.MilliCPU; got != 1000 {
		t.Errorf("bound pod not counted: %d", got)
	}
	c.RemovePod(bound)
	c.RemoveNode("n1")
	c.UpdateSnapshot(snap)
	if snap.NumNodes() != 1 || snap.Get("n1") != nil || snap.Get("n2").Requested.MilliCPU != 0 {
		t.Errorf("after removals: %d nodes, n2 requested %d", snap.NumNodes(), snap.Get("n2").Requested.MilliCPU)
	}
}

func TestCacheSnapshotZonesAndPodsBeforeNodes(t *testing.T) {
	c := framework.NewCache()
	// A Pod seen before its node: counted once the node arrives.
	c.AddPod(Pod("early").Owner("rs").On("n1").Obj())
	snap := framework.NewEmptySnapshot()
	c.UpdateSnapshot(snap)
	if snap.NumNodes() != 0 {
		t.Fatalf("node without a Node object in snapshot")
	}
	c.AddNode(Node("n1").Zone("z1").Obj())
	c.AddNode(Node("n2").Zone("z2").Obj())
	c.UpdateSnapshot(snap)
	if snap.NumNodes() != 2 || len(snap.Get("n1").Pods) != 1 {
		t.Fatalf("snapshot: %d nodes, n1 pods %d", snap.NumNodes(), len(snap.Get("n1").Pods))
	}
	if snap.NumZones() != 2 || snap.ZoneOwnerCount("z1", "rs") != 1 || snap.ZoneOwnerCount("z2", "rs") != 0 {
		t.Errorf("zones %d, z1/rs %d", snap.NumZones(), snap.ZoneOwnerCount("z1", "rs"))
	}
	if got := snap.OwnerNodeCounts("rs"); len(got) != 1 || got["n1"] != 1 {
		t.Errorf("owner counts by node %v, want n1: 1", got)
	}
	c.AddNode(Node("n1").Zone("z3").Obj()) // relabelled
	c.UpdateSnapshot(snap)
	if snap.NumZones() != 2 || snap.ZoneOwnerCount("z3", "rs") != 1 || snap.ZoneOwnerCount("z1", "rs") != 0 {
		t.Errorf("after relabel: zones %d, z3/rs %d z1/rs %d", snap.NumZones(), snap.ZoneOwnerCount("z3", "rs"), snap.ZoneOwnerCount("z1", "rs"))
	}
	if got := snap.OwnerNodeCounts("rs"); got["n1"] != 1 {
		t.Errorf("after relabel: owner counts by node %v", got)
	}
	c.RemovePod(Pod("early").On("n1").Obj())
	c.UpdateSnapshot(snap)
	if got := snap.OwnerNodeCounts("rs"); got != nil || snap.ZoneOwnerCount("z3", "rs") != 0 {
		t.Errorf("after the pod left: by node %v, zone %d", got, snap.ZoneOwnerCount("z3", "rs"))
	}
	c.SetNamespace(&types.Namespace{ObjectMeta: types.ObjectMeta{Name: "team", Labels: map[string]string{"t": "a"}}})
	c.UpdateSnapshot(snap)
	if snap.NamespaceLabels("team")["t"] != "a" {
		t.Errorf("namespace labels not in snapshot")
	}
	c.RemoveNamespace("team")
	c.UpdateSnapshot(snap)
	if snap.NamespaceLabels("team") != nil {
		t.Errorf("namespace labels kept after removal")
	}
}

func TestScheduleFitError(t *testing.T) {
	nodes := []*types.Node{
		Node("m1").Capacity("4", "1Gi", "").Obj(),
		Node("m2").Capacity("4", "1Gi", "").Obj(),
		Node("s1").Label("disk", "hdd").Obj(),
		Node("s2").Label("disk", "hdd").Obj(),
		Node("g").Label("disk", "ssd").Taint("gpu", "true", types.TaintEffectNoSchedule).Obj(),
	}
	pod := Pod("p").Req("1", "2Gi").RequiredNodeTerm([]types.NodeSelectorRequirement{
		{Key: "disk", Operator: types.NodeSelectorOpNotIn, Values: []string{"hdd"}}}, nil).Obj()
	p := defaultProfile(t, framework.ProfileOptions{Parallelism: 1})
	_, err := p.Schedule(context.Background(), framework.NewSnapshotFromObjects(nodes, nil), framework.NewPodInfo(pod))
	var fe *framework.FitError
	if !errors.As(err, &fe) {
		t.Fatalf("Schedule error %v, want a FitError", err)
	}
	want := "0/5 nodes are available: 2 Insufficient memory, 2 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {gpu: true}."
	if err.Error() != want {
		t.Errorf("got  %q\nwant %q", err.Error(), want)
	}
	if _, err := p.Schedule(context.Background(), framework.NewSnapshot(), framework.NewPodInfo(pod)); !errors.Is(err, framework.ErrNoNodesAvailable) {
		t.Errorf("empty cluster: %v", err)
	}
}

func TestSchedulePicksAndSpreads(t *testing.T) {
	var nodes []*types.Node
	for i := range 300 {
		nodes = append(nodes, Node(fmt.Sprintf("n%03d", i)).Zone(fmt.Sprintf("z%d", i%3)).Obj())
	}
	nodes = append(nodes, Node("arm").Arch("arm64").Obj())
	for _, par := range []int{1, 4} {
		t.Run(fmt.Sprintf("parallelism=%d", par), func(t *testing.T) {
			p := defaultProfile(t, framework.ProfileOptions{Parallelism: par})
			c := framework.NewCache()
			for _, n := range nodes {
				c.AddNode(n)
			}
			snap := framework.NewEmptySnapshot()
			perNode := map[string]int{}
			for i := range 600 {
				c.UpdateSnapshot(snap)
				pod := Pod(fmt.Sprintf("p%d", i)).Req("100m", "100Mi").Owner("rs").Platforms("linux/arm64").Obj()
				if i%2 == 0 {
					pod = Pod(fmt.Sprintf("p%d", i)).Req("100m", "100Mi").Owner("rs").Obj()
				}
				pi := framework.NewPodInfo(pod)
				res, err := p.Schedule(context.Background(), snap, pi)
				if i%2 == 1 {
					// arm64-only image: the one arm node, until it is full.
					if res.Node != "" && res.Node != "arm" {
						t.Fatalf("arm64 pod %d placed on %s", i, res.Node)
					}
					if err != nil {
						continue
					}
				} else if err != nil {
					t.Fatalf("pod %d: %v", i, err)
				}
				if err := c.AssumePod(pi, res.Node); err != nil {
					t.Fatal(err)
				}
				perNode[res.Node]++
			}
			for name, k := range perNode {
				if name != "arm" && k > 2 {
					t.Errorf("node %s got %d of 300 spread pods, want at most 2", name, k)
				}
			}
			if perNode["arm"] == 0 || perNode["arm"] > 40 { // 4 cpu / 100m
				t.Errorf("arm node got %d pods", perNode["arm"])
			}
		})
	}
}

func TestNewProfileErrors(t *testing.T) {
	reg := plugins.NewRegistry()
	tests := []struct {
		name  string
		specs []framework.PluginSpec
		opts  framework.ProfileOptions
	}{
		{"unknown plugin", []framework.PluginSpec{{Name: "Nope"}}, framework.ProfileOptions{}},
		{"twice", []framework.PluginSpec{{Name: plugins.NameNodeReady}, {Name: plugins.NameNodeReady}}, framework.ProfileOptions{}},
		{"negative weight", []framework.PluginSpec{{Name: plugins.NameLeastAllocated, Weight: -1}}, framework.ProfileOptions{}},
		{"arguments to a plugin that takes none", []framework.PluginSpec{{Name: plugins.NameNodeReady, Args: []byte(`{"x":1}`)}}, framework.ProfileOptions{}},
		{"bad percentage", []framework.PluginSpec{{Name: plugins.NameNodeReady}}, framework.ProfileOptions{PercentageOfNodesToScore: 101}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := framework.NewProfile(reg, tt.specs, tt.opts); err == nil {
				t.Errorf("no error")
			}
		})
	}
	if err := reg.Register(plugins.NameNodeReady, nil); err == nil {
		t.Errorf("registering a name twice worked")
	}
	for _, s := range plugins.DefaultPlugins() {
		if _, ok := reg[s.Name]; !ok {
			t.Errorf("default plugin %q not registered", s.Name)
		}
	}
}

func TestSamplingStopsEarly(t *testing.T) {
	var nodes []*types.Node
	for i := range 1000 {
		nodes = append(nodes, Node(fmt.Sprintf("n%04d", i)).Obj())
	}
	snap := framework.NewSnapshotFromObjects(nodes, nil)
	tests := []struct {
		pct  int32
		want int
	}{
		{0, 420}, // 50 - 1000/125 = 42%
		{10, 100},
		{1, 100}, // at least MinFeasibleNodesToFind
		{100, 1000},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("pct=%d", tt.pct), func(t *testing.T) {
			p := defaultProfile(t, framework.ProfileOptions{Parallelism: 1, PercentageOfNodesToScore: tt.pct})
			res, err := p.Schedule(context.Background(), snap, framework.NewPodInfo(Pod("p").Obj()))
			if err != nil {
				t.Fatal(err)
			}
			if res.Feasible != tt.want || res.Evaluated != tt.want {
				t.Errorf("feasible %d evaluated %d, want %d", res.Feasible, res.Evaluated, tt.want)
			}
		})
	}
}
