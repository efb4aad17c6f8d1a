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
// are not among the platforms of the Pod's images. The platforms come from
// the wharf.dev/image-platforms annotation when the Pod has it (it wins),
// otherwise from Resolver, asked once per image in PreFilter (never per
// node): every container and init container image must offer the node's
// platform. An image whose platforms are unknown (Resolver is nil, the
// registry cannot be reached, the image is not there, e.g. one loaded
// with `wharf image load`) does not restrict the Pod: the filter fails
// open and the node agent reports a wrong-architecture image itself. Wasm
// Pods, and images with a wasm platform (which a node's image store falls
// back to), run anywhere; nodes that do not say their architecture are
// not refused.
type NodeArchitecture struct {
	// Resolver finds an image's platforms; nil means the annotation only.
	Resolver PlatformResolver
}

var (
	_ framework.PreFilterPlugin = NodeArchitecture{}
	_ framework.FilterPlugin    = NodeArchitecture{}
)

const archStateKey framework.StateKey = "PreFilter" + NameNodeArchitecture

// ReasonImagePlatforms starts the refusal of a node that no platform of an
// image of the Pod matches.
const ReasonImagePlatforms = "node(s) didn't match the image's platforms"

// archState is what a node must satisfy: each constraint (one per image,
// or one for the annotation) needs one of its platforms to match.
type archState []archConstraint

type archConstraint struct {
	platforms []platform
	refusal   *framework.Status
}

type platform struct{ os, arch string }

func newArchConstraint(platforms []string, refusal string) archConstraint {
	c := archConstraint{refusal: framework.NewStatus(framework.UnschedulableAndUnresolvable, refusal)}
	for _, p := range platforms {
		parts := strings.Split(p, "/")
		switch len(parts) {
		case 1:
			c.platforms = append(c.platforms, platform{arch: parts[0]})
		default: // os/arch or os/arch/variant: the variant is not checked
			c.platforms = append(c.platforms, platform{os: parts[0], arch: parts[1]})
		}
	}
	return c
}

// Name implements framework.Plugin.
func (NodeArchitecture) Name() string { return NameNodeArchitecture }

// PreFilter implements framework.PreFilterPlugin.
func (a NodeArchitecture) PreFilter(ctx context.Context, state *framework.CycleState, pod *types.Pod, _ *framework.Snapshot) *framework.Status {
	pi := state.PodInfo()
	if pi.Runtime == framework.RuntimeWasm {
		return framework.NewStatus(framework.Skip)
	}
	if len(pi.Platforms) > 0 {
		state.Write(archStateKey, archState{newArchConstraint(pi.Platforms,
			"node(s) didn't match the Pod's image platforms ("+strings.Join(pi.Platforms, ",")+")")})
		return nil
	}
	if a.Resolver == nil {
		return framework.NewStatus(framework.Skip)
	}
	images := PodImages(pod)
	if p, ok := a.Resolver.(PlatformPrefetcher); ok && len(images) > 1 {
		for _, img := range images { // look them up at once, not one after another
			p.Prefetch(img)
		}
	}
	var s archState
	for _, img := range images {
		platforms, err := a.Resolver.ImagePlatforms(ctx, img)
		if err != nil || len(platforms) == 0 {
			continue // unknown: fail open
		}
		s = append(s, newArchConstraint(platforms,
			ReasonImagePlatforms+" ("+img+": "+strings.Join(platforms, ",")+")"))
	}
	if len(s) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(archStateKey, s)
	return nil
}

// PodImages returns the distinct images of pod's init containers and
// containers.
func PodImages(pod *types.Pod) []string {
	var out []string
	seen := map[string]bool{}
	for _, cs := range [][]types.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range cs {
			if img := cs[i].Image; img != "" && !seen[img] {
				seen[img] = true
				out = append(out, img)
			}
		}
	}
	return out
}

// Filter implements framework.FilterPlugin.
func (NodeArchitecture) Filter(_ context.Context, state *framework.CycleState, _ *types.Pod, n *framework.NodeInfo) *framework.Status {
	v, ok := state.Read(archStateKey)
	if !ok || n.Arch == "" {
		return nil
	}
	for _, c := range v.(archState) {
		if !c.matches(n) {
			return c.refusal
		}
	}
	return nil
}

func (c *archConstraint) matches(n *framework.NodeInfo) bool {
	for _, p := range c.platforms {
		if p.arch == "wasm" || p.arch == n.Arch && (p.os == "" || n.OS == "" || p.os == n.OS) {
			return true
		}
	}
	return false
}
