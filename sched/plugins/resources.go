package plugins

import (
	"context"
	"sort"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sched/framework"
)

// Refusal reasons of NodeResourcesFit.
const (
	ReasonTooManyPods        = "Too many pods"
	ReasonInsufficientCPU    = "Insufficient cpu"
	ReasonInsufficientMemory = "Insufficient memory"
)

var (
	statusTooManyPods = framework.NewStatus(framework.Unschedulable, ReasonTooManyPods)
	statusNoCPU       = framework.NewStatus(framework.Unschedulable, ReasonInsufficientCPU)
	statusNoMemory    = framework.NewStatus(framework.Unschedulable, ReasonInsufficientMemory)
)

// NodeResourcesFit refuses nodes whose allocatable resources, minus what
// their Pods request, cannot hold the Pod's requests (cpu, memory, the Pod
// count, and any other resource the Pod requests, such as nvidia.com/gpu).
type NodeResourcesFit struct{}

var _ framework.FilterPlugin = NodeResourcesFit{}

// Name implements framework.Plugin.
func (NodeResourcesFit) Name() string { return NameNodeResourcesFit }

// Filter implements framework.FilterPlugin.
func (NodeResourcesFit) Filter(_ context.Context, state *framework.CycleState, _ *types.Pod, n *framework.NodeInfo) *framework.Status {
	req := &state.PodInfo().Requests
	var reasons []string
	if int64(len(n.Pods))+1 > n.Allocatable.Pods {
		reasons = append(reasons, ReasonTooManyPods)
	}
	if req.MilliCPU > 0 && req.MilliCPU > n.Allocatable.MilliCPU-n.Requested.MilliCPU {
		reasons = append(reasons, ReasonInsufficientCPU)
	}
	if req.Memory > 0 && req.Memory > n.Allocatable.Memory-n.Requested.Memory {
		reasons = append(reasons, ReasonInsufficientMemory)
	}
	if len(req.Scalar) > 0 {
		var scalar []string
		for name, v := range req.Scalar {
			if v > 0 && v > n.Allocatable.Scalar[name]-n.Requested.Scalar[name] {
				scalar = append(scalar, "Insufficient "+string(name))
			}
		}
		sort.Strings(scalar)
		reasons = append(reasons, scalar...)
	}
	switch {
	case len(reasons) == 0:
		return nil
	case len(reasons) > 1:
		return framework.NewStatus(framework.Unschedulable, reasons...)
	}
	switch reasons[0] {
	case ReasonTooManyPods:
		return statusTooManyPods
	case ReasonInsufficientCPU:
		return statusNoCPU
	case ReasonInsufficientMemory:
		return statusNoMemory
	}
	return framework.NewStatus(framework.Unschedulable, reasons...)
}

// fractions returns the share of cpu and memory the node would have
// requested with the Pod on it (by non-zero requests), and whether the
// node has any of each.
func fractions(pi *framework.PodInfo, n *framework.NodeInfo) (cpu, mem float64, okCPU, okMem bool) {
	if a := n.Allocatable.MilliCPU; a > 0 {
		cpu, okCPU = float64(n.NonZeroRequested.MilliCPU+pi.NonZeroRequests.MilliCPU)/float64(a), true
	}
	if a := n.Allocatable.Memory; a > 0 {
		mem, okMem = float64(n.NonZeroRequested.Memory+pi.NonZeroRequests.Memory)/float64(a), true
	}
	return min(cpu, 1), min(mem, 1), okCPU, okMem
}

// LeastAllocated prefers nodes with the most cpu and memory left once the
// Pod is placed, spreading load (Kubernetes' LeastAllocated strategy).
type LeastAllocated struct{}

var _ framework.ScorePlugin = LeastAllocated{}

// Name implements framework.Plugin.
func (LeastAllocated) Name() string { return NameLeastAllocated }

// Score implements framework.ScorePlugin.
func (LeastAllocated) Score(_ context.Context, state *framework.CycleState, _ *types.Pod, n *framework.NodeInfo) (int64, *framework.Status) {
	cpu, mem, okCPU, okMem := fractions(state.PodInfo(), n)
	var s float64
	if okCPU {
		s += (1 - cpu) * float64(framework.MaxNodeScore)
	}
	if okMem {
		s += (1 - mem) * float64(framework.MaxNodeScore)
	}
	return int64(s / 2), nil
}

// BalancedAllocation prefers nodes where cpu and memory would be used in
// equal shares once the Pod is placed, so that neither runs out while the
// other is idle.
type BalancedAllocation struct{}

var _ framework.ScorePlugin = BalancedAllocation{}

// Name implements framework.Plugin.
func (BalancedAllocation) Name() string { return NameBalancedAllocation }

// Score implements framework.ScorePlugin: (1 - standard deviation of the
// two shares) * 100.
func (BalancedAllocation) Score(_ context.Context, state *framework.CycleState, _ *types.Pod, n *framework.NodeInfo) (int64, *framework.Status) {
	cpu, mem, okCPU, okMem := fractions(state.PodInfo(), n)
	if !okCPU || !okMem {
		return 0, nil
	}
	d := cpu - mem
	if d < 0 {
		d = -d
	}
	return int64((1 - d/2) * float64(framework.MaxNodeScore)), nil
}

// NodePorts refuses nodes where a host port the Pod asks for is taken.
type NodePorts struct{}

var (
	_ framework.PreFilterPlugin = NodePorts{}
	_ framework.FilterPlugin    = NodePorts{}
)

// ReasonNodePorts is NodePorts' refusal.
const ReasonNodePorts = "node(s) didn't have free ports for the requested pod ports"

var statusNodePorts = framework.NewStatus(framework.Unschedulable, ReasonNodePorts)

// Name implements framework.Plugin.
func (NodePorts) Name() string { return NameNodePorts }

// PreFilter implements framework.PreFilterPlugin: Pods without host ports
// skip the filter.
func (NodePorts) PreFilter(_ context.Context, state *framework.CycleState, _ *types.Pod, _ *framework.Snapshot) *framework.Status {
	if len(state.PodInfo().HostPorts) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	return nil
}

// Filter implements framework.FilterPlugin.
func (NodePorts) Filter(_ context.Context, state *framework.CycleState, _ *types.Pod, n *framework.NodeInfo) *framework.Status {
	for _, hp := range state.PodInfo().HostPorts {
		if n.PortConflict(hp) {
			return statusNodePorts
		}
	}
	return nil
}
