package sched_test

import (
	"context"
	"fmt"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sched/framework"
	. "github.com/wharfhq/wharf/sched/internal/schedtest"
	"github.com/wharfhq/wharf/sched/plugins"
)

// OnlyEvenNodes is a custom filter: a Node fits when its name ends with
// an even digit.
type OnlyEvenNodes struct{}

func (OnlyEvenNodes) Name() string { return "OnlyEvenNodes" }

func (OnlyEvenNodes) Filter(_ context.Context, _ *framework.CycleState, _ *types.Pod, n *framework.NodeInfo) *framework.Status {
	if d := n.Name[len(n.Name)-1]; (d-'0')%2 == 0 {
		return nil
	}
	return framework.NewStatus(framework.UnschedulableAndUnresolvable, "node(s) had an odd name")
}

// A custom plugin is a type with Name and Filter (or Score), registered
// under its name and enabled in the config. A scheduler takes it with
// sched.New(client, cfg, sched.WithPlugins(reg)); here the Profile runs
// on a Snapshot directly.
func Example_customPlugin() {
	reg := plugins.NewRegistry()
	_ = reg.Register("OnlyEvenNodes", framework.PluginFactory(func() framework.Plugin { return OnlyEvenNodes{} }))
	// Filters run in the order given: the custom one first.
	enabled := append([]framework.PluginSpec{{Name: "OnlyEvenNodes"}}, plugins.DefaultPlugins()...)
	profile, err := framework.NewProfile(reg, enabled, framework.ProfileOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	snap := framework.NewSnapshotFromObjects([]*types.Node{
		Node("node1").Obj(), Node("node2").Obj(), Node("node3").Obj(),
	}, nil)

	res, _ := profile.Schedule(context.Background(), snap, framework.NewPodInfo(Pod("web").Obj()))
	fmt.Println("web ->", res.Node)

	_, err = profile.Schedule(context.Background(), snap, framework.NewPodInfo(Pod("big").Req("8", "").Obj()))
	fmt.Println(err)
	// Output:
	// web -> node2
	// 0/3 nodes are available: 2 node(s) had an odd name, 1 Insufficient cpu.
}
