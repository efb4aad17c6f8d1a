package plugins

import "github.com/wharfhq/wharf/sched/framework"

// What can cure each filter's rejections (framework.EnqueueExtensions):
// a Node that changes or joins can cure any of them; the Pods on a node
// matter only to resources, ports, inter-Pod affinity and spreading.
var (
	_ framework.EnqueueExtensions = NodeUnschedulable{}
	_ framework.EnqueueExtensions = NodeReady{}
	_ framework.EnqueueExtensions = NodeRuntime{}
	_ framework.EnqueueExtensions = NodeArchitecture{}
	_ framework.EnqueueExtensions = NodeAffinity{}
	_ framework.EnqueueExtensions = TaintToleration{}
	_ framework.EnqueueExtensions = NodeResourcesFit{}
	_ framework.EnqueueExtensions = NodePorts{}
	_ framework.EnqueueExtensions = InterPodAffinity{}
	_ framework.EnqueueExtensions = PodTopologySpread{}
)

// EventsToRegister implements framework.EnqueueExtensions: only a Node
// change can uncordon it.
func (NodeUnschedulable) EventsToRegister() framework.ClusterEvent { return framework.NodeEvents }

// EventsToRegister implements framework.EnqueueExtensions: only a Node
// change can make it Ready.
func (NodeReady) EventsToRegister() framework.ClusterEvent { return framework.NodeEvents }

// EventsToRegister implements framework.EnqueueExtensions: the runtimes
// are a Node label.
func (NodeRuntime) EventsToRegister() framework.ClusterEvent { return framework.NodeEvents }

// EventsToRegister implements framework.EnqueueExtensions: the platform
// is the Node's.
func (NodeArchitecture) EventsToRegister() framework.ClusterEvent { return framework.NodeEvents }

// EventsToRegister implements framework.EnqueueExtensions: labels and
// fields of Nodes.
func (NodeAffinity) EventsToRegister() framework.ClusterEvent { return framework.NodeEvents }

// EventsToRegister implements framework.EnqueueExtensions: taints are
// the Node's.
func (TaintToleration) EventsToRegister() framework.ClusterEvent { return framework.NodeEvents }

// EventsToRegister implements framework.EnqueueExtensions: a Pod that
// leaves frees its requests and its Pod slot; a Pod that arrives frees
// nothing.
func (NodeResourcesFit) EventsToRegister() framework.ClusterEvent {
	return framework.NodeEvents | framework.AssignedPodDelete
}

// EventsToRegister implements framework.EnqueueExtensions: a Pod that
// leaves frees its host ports.
func (NodePorts) EventsToRegister() framework.ClusterEvent {
	return framework.NodeEvents | framework.AssignedPodDelete
}

// EventsToRegister implements framework.EnqueueExtensions: a Pod that
// arrives can satisfy an affinity term, one that leaves or is relabelled
// can lift an anti-affinity term, and topology labels are the Node's.
func (InterPodAffinity) EventsToRegister() framework.ClusterEvent { return framework.AllEvents }

// EventsToRegister implements framework.EnqueueExtensions: every Pod
// that arrives, leaves or is relabelled changes the counts per domain.
func (PodTopologySpread) EventsToRegister() framework.ClusterEvent { return framework.AllEvents }
