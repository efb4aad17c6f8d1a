package plugins

import (
	"context"
	"strings"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sched/framework"
)

// Refusal reasons of the node plugins.
const (
	ReasonNodeUnschedulable = "node(s) were unschedulable"
	ReasonNodeNotReady      = "node(s) were not ready"
)

var (
	statusUnschedulable = framework.NewStatus(framework.UnschedulableAndUnresolvable, ReasonNodeUnschedulable)
	statusNotReady      = framework.NewStatus(framework.Unschedulable, ReasonNodeNotReady)
	statusNoWasm        = framework.NewStatus(framework.UnschedulableAndUnresolvable, "node(s) didn't have the wasm runtime")
	statusNoContainer   = framework.NewStatus(framework.UnschedulableAndUnresolvable, "node(s) didn't have the container runtime")
)

// NodeUnschedulable refuses nodes marked spec.unschedulable (cordoned),
// unless the Pod tolerates the node.kubernetes.io/unschedulable taint.
type NodeUnschedulable struct{}

var _ framework.FilterPlugin = NodeUnschedulable{}

// Name implements framework.Plugin.
func (NodeUnschedulable) Name() string { return NameNodeUnschedulable }

// Filter implements framework.FilterPlugin.
func (NodeUnschedulable) Filter(_ context.Context, _ *framework.CycleState, pod *types.Pod, n *framework.NodeInfo) *framework.Status {
	if !n.Unschedulable {
		return nil
	}
	t := types.Taint{Key: types.TaintNodeUnschedulable, Effect: types.TaintEffectNoSchedule}
	if TolerationsTolerateTaint(pod.Spec.Tolerations, &t) {
		return nil
	}
	return statusUnschedulable
}

// NodeReady refuses nodes whose Ready condition is not True, unless the
// Pod tolerates the node.kubernetes.io/not-ready taint (as DaemonSet Pods
// do).
type NodeReady struct{}

var _ framework.FilterPlugin = NodeReady{}

// Name implements framework.Plugin.
func (NodeReady) Name() string { return NameNodeReady }

// Filter implements framework.FilterPlugin.
func (NodeReady) Filter(_ context.Context, _ *framework.CycleState, pod *types.Pod, n *framework.NodeInfo) *framework.Status {
	if n.Ready {
		return nil
	}
	for _, eff := range []types.TaintEffect{types.TaintEffectNoSchedule, types.TaintEffectNoExecute} {
		t := types.Taint{Key: types.TaintNodeNotReady, Effect: eff}
		if TolerationsTolerateTaint(pod.Spec.Tolerations, &t) {
			return nil
		}
	}
	return statusNotReady
}

// NodeRuntime refuses nodes that do not offer the Pod's runtime: a Pod
// with runtimeClassName "wasm" needs "wasm" in the node's
// wharf.dev/runtimes label, any other Pod "container".
type NodeRuntime struct{}

var _ framework.FilterPlugin = NodeRuntime{}

// Name implements framework.Plugin.
func (NodeRuntime) Name() string { return NameNodeRuntime }

// Filter implements framework.FilterPlugin.
func (NodeRuntime) Filter(_ context.Context, state *framework.CycleState, _ *types.Pod, n *framework.NodeInfo) *framework.Status {
	rt := state.PodInfo().Runtime
	if n.HasRuntime(rt) {
		return nil
	}
	if rt == framework.RuntimeWasm {
		return statusNoWasm
	}
	return statusNoContainer
}

// NodeArchitecture refuses nodes whose operating system and architecture
// are not among the Pod's image platforms (the wharf.dev/image-platforms
// annotation). Wasm Pods and Pods without the annotation run anywhere;
// nodes that do not say their architecture are not refused.
type NodeArchitecture struct{}

var (
	_ framework.PreFilterPlugin = NodeArchitecture{}
	_ framework.FilterPlugin    = NodeArchitecture{}
)

const archStateKey framework.StateKey = "PreFilter" + NameNodeArchitecture

type archState struct {
	platforms []platform
	refusal   *framework.Status
}

type platform struct{ os, arch string }

// Name implements framework.Plugin.
func (NodeArchitecture) Name() string { return NameNodeArchitecture }

// PreFilter implements framework.PreFilterPlugin.
func (NodeArchitecture) PreFilter(_ context.Context, state *framework.CycleState, _ *types.Pod, _ *framework.Snapshot) *framework.Status {
	pi := state.PodInfo()
	if pi.Runtime == framework.RuntimeWasm || len(pi.Platforms) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	s := &archState{}
	for _, p := range pi.Platforms {
		parts := strings.Split(p, "/")
		switch len(parts) {
		case 1:
			s.platforms = append(s.platforms, platform{arch: parts[0]})
		default: // os/arch or os/arch/variant: the variant is not checked
			s.platforms = append(s.platforms, platform{os: parts[0], arch: parts[1]})
		}
	}
	s.refusal = framework.NewStatus(framework.UnschedulableAndUnresolvable,
		"node(s) didn't match the Pod's image platforms ("+strings.Join(pi.Platforms, ",")+")")
	state.Write(archStateKey, s)
	return nil
}

// Filter implements framework.FilterPlugin.
func (NodeArchitecture) Filter(_ context.Context, state *framework.CycleState, _ *types.Pod, n *framework.NodeInfo) *framework.Status {
	v, ok := state.Read(archStateKey)
	if !ok || n.Arch == "" {
		return nil
	}
	s := v.(*archState)
	for _, p := range s.platforms {
		if p.arch == n.Arch && (p.os == "" || n.OS == "" || p.os == n.OS) {
			return nil
		}
	}
	return s.refusal
}
