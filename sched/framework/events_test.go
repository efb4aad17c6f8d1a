package framework_test

import (
	"context"
	"errors"
	"testing"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sched/framework"
	. "github.com/wharfhq/wharf/sched/internal/schedtest"
)

// rejectAll is a filter that refuses every node and registers no events.
type rejectAll struct{}

func (rejectAll) Name() string { return "RejectAll" }
func (rejectAll) Filter(context.Context, *framework.CycleState, *types.Pod, *framework.NodeInfo) *framework.Status {
	return framework.NewStatus(framework.Unschedulable, "rejected")
}

func TestRetryEvents(t *testing.T) {
	const capacity = framework.NodeEvents | framework.AssignedPodDelete
	full := Node("full").Capacity("4", "4Gi", "1").Label("disk", "ssd").Obj()
	hdd := Node("hdd").Label("disk", "hdd").Obj()
	ssd := Node("ssd").Label("disk", "ssd").Obj()
	running := []*types.Pod{Pod("running").On("full").Obj()}
	tests := []struct {
		name  string
		nodes []*types.Node
		pod   *types.Pod
		want  framework.ClusterEvent
	}{
		{"too many pods: a Pod leaving or a node", []*types.Node{full}, Pod("p").Obj(), capacity},
		{"insufficient cpu: a Pod leaving or a node", []*types.Node{ssd}, Pod("p").Req("100", "").Obj(), capacity},
		{"node selector: a node only", []*types.Node{ssd, hdd}, Pod("p").NodeSelector("disk", "nvme").Obj(), framework.NodeEvents},
		{"one node full, one not selected: the union", []*types.Node{full, hdd}, Pod("p").NodeSelector("disk", "ssd").Obj(), capacity},
		{"pod affinity: any Pod or node event", []*types.Node{ssd}, Pod("p").PodAffinity(Term("app", "db", "kubernetes.io/hostname")).Obj(), framework.AllEvents},
	}
	p := defaultProfile(t, framework.ProfileOptions{Parallelism: 1})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Schedule(context.Background(), framework.NewSnapshotFromObjects(tt.nodes, running), framework.NewPodInfo(tt.pod))
			var fe *framework.FitError
			if !errors.As(err, &fe) {
				t.Fatalf("Schedule: %v, want a FitError", err)
			}
			if got := p.RetryEvents(err); got != tt.want {
				t.Errorf("RetryEvents(%q) = %v, want %v", err, got, tt.want)
			}
		})
	}

	t.Run("a plugin without EventsToRegister: any event", func(t *testing.T) {
		p, err := framework.NewProfileFromPlugins([]framework.Plugin{rejectAll{}}, nil, framework.ProfileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Schedule(context.Background(), framework.NewSnapshotFromObjects([]*types.Node{ssd}, nil), framework.NewPodInfo(Pod("p").Obj()))
		if got := p.RetryEvents(err); got != framework.AllEvents {
			t.Errorf("RetryEvents(%v) = %v, want AllEvents", err, got)
		}
	})
	for _, tt := range []struct {
		name string
		err  error
		want framework.ClusterEvent
	}{
		{"no nodes: a node added", framework.ErrNoNodesAvailable, framework.NodeAdd},
		{"another error: anything", errors.New("boom"), framework.AllEvents},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.RetryEvents(tt.err); got != tt.want {
				t.Errorf("RetryEvents(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestClusterEventString(t *testing.T) {
	for ev, want := range map[framework.ClusterEvent]string{
		0:                           "None",
		framework.NodeEvents:        "NodeAdd|NodeUpdate",
		framework.AssignedPodDelete: "AssignedPodDelete",
		framework.AllEvents &^ framework.NodeEvents: "AssignedPodAdd|AssignedPodUpdate|AssignedPodDelete",
	} {
		if got := ev.String(); got != want {
			t.Errorf("%d: %q, want %q", uint32(ev), got, want)
		}
	}
}
