package framework

import (
	"slices"
	"strings"

	"github.com/wharfhq/wharf/api/types"
)

// DefaultMaxPods is the Pod capacity of a node whose allocatable has no
// "pods" entry (the kubelet's default).
const DefaultMaxPods = 110

type protoPort struct {
	proto types.Protocol
	port  int32
}

// NodeInfo is one node and what is placed on it: the Pods bound or assumed
// there, their summed requests and host ports. A NodeInfo inside a
// Snapshot is immutable; the Cache owns the mutable ones.
type NodeInfo struct {
	// Node is nil for a node the Cache knows only from Pods bound to it;
	// such nodes are never in a Snapshot.
	Node *types.Node
	Name string

	Allocatable Resource
	// Requested is what the node's Pods request; NonZeroRequested the
	// same with defaults for zero cpu and memory (for scores).
	Requested        Resource
	NonZeroRequested Resource

	Pods []*PodInfo
	// PodsWithAffinity have any inter-pod (anti-)affinity term;
	// PodsWithRequiredAntiAffinity a required anti-affinity term.
	PodsWithAffinity             []*PodInfo
	PodsWithRequiredAntiAffinity []*PodInfo

	// OwnerCounts counts the node's Pods per controller UID.
	OwnerCounts map[string]int

	// Facts derived from the Node when it is set, kept here so that the
	// filters read the (hot) NodeInfo rather than the Node.
	Ready         bool
	Unschedulable bool
	// Taints is the Node's spec.taints (shared: do not modify).
	Taints   []types.Taint
	Runtimes []string
	Arch, OS string
	Zone     string
	// hasWasm, hasContainer: the two runtimes Wharf knows, for HasRuntime.
	hasWasm, hasContainer bool

	usedPorts  map[HostPort]int
	usedAnyIP  map[protoPort]int
	generation int64
}

// NewNodeInfo returns the NodeInfo of node with pods placed on it.
func NewNodeInfo(node *types.Node, pods ...*PodInfo) *NodeInfo {
	n := &NodeInfo{}
	n.SetNode(node)
	for _, p := range pods {
		n.AddPod(p)
	}
	return n
}

// SetNode sets (or replaces) the Node and recomputes what derives from it.
func (n *NodeInfo) SetNode(node *types.Node) {
	n.Node = node
	n.Name = node.Name
	n.Allocatable = ResourceFromList(node.Status.Allocatable)
	if _, ok := node.Status.Allocatable[types.ResourcePods]; !ok {
		n.Allocatable.Pods = DefaultMaxPods
	}
	n.Ready = false
	n.Unschedulable = node.Spec.Unschedulable
	n.Taints = node.Spec.Taints
	for _, c := range node.Status.Conditions {
		if c.Type == types.NodeReady {
			n.Ready = c.Status == types.ConditionTrue
		}
	}
	n.Runtimes = n.Runtimes[:0]
	if v, ok := node.Labels[LabelRuntimes]; ok {
		for _, r := range strings.FieldsFunc(v, isRuntimeSeparator) {
			if r = strings.TrimSpace(r); r != "" {
				n.Runtimes = append(n.Runtimes, r)
			}
		}
	} else {
		n.Runtimes = append(n.Runtimes, RuntimeContainer)
	}
	n.hasWasm, n.hasContainer = slices.Contains(n.Runtimes, RuntimeWasm), slices.Contains(n.Runtimes, RuntimeContainer)
	n.Arch = node.Labels[LabelArch]
	if n.Arch == "" {
		n.Arch = node.Status.NodeInfo.Architecture
	}
	n.OS = node.Labels[LabelOS]
	if n.OS == "" {
		n.OS = node.Status.NodeInfo.OperatingSystem
	}
	n.Zone = node.Labels[LabelZone]
}

// isRuntimeSeparator splits the runtimes label: "." is the separator a
// label value allows ("container.wasm"); "," and "_" are accepted too.
func isRuntimeSeparator(r rune) bool { return r == '.' || r == ',' || r == '_' }

// HasRuntime reports whether the node offers runtime.
func (n *NodeInfo) HasRuntime(runtime string) bool {
	switch runtime {
	case RuntimeWasm:
		return n.hasWasm
	case RuntimeContainer:
		return n.hasContainer
	}
	return slices.Contains(n.Runtimes, runtime)
}

// Labels returns the node's labels (nil when Node is nil).
func (n *NodeInfo) Labels() map[string]string {
	if n.Node == nil {
		return nil
	}
	return n.Node.Labels
}

// Generation increases with every change of the node in the Cache.
func (n *NodeInfo) Generation() int64 { return n.generation }

// AddPod places pod on the node.
func (n *NodeInfo) AddPod(pod *PodInfo) {
	n.Pods = append(n.Pods, pod)
	if pod.HasAffinity() {
		n.PodsWithAffinity = append(n.PodsWithAffinity, pod)
	}
	if len(pod.RequiredAntiAffinity) > 0 {
		n.PodsWithRequiredAntiAffinity = append(n.PodsWithRequiredAntiAffinity, pod)
	}
	n.Requested.Add(&pod.Requests)
	n.NonZeroRequested.Add(&pod.NonZeroRequests)
	if pod.OwnerUID != "" {
		if n.OwnerCounts == nil {
			n.OwnerCounts = map[string]int{}
		}
		n.OwnerCounts[pod.OwnerUID]++
	}
	for _, hp := range pod.HostPorts {
		if n.usedPorts == nil {
			n.usedPorts = map[HostPort]int{}
			n.usedAnyIP = map[protoPort]int{}
		}
		n.usedPorts[hp]++
		n.usedAnyIP[protoPort{hp.Protocol, hp.Port}]++
	}
}

// RemovePod takes the Pod with key off the node and reports whether it
// was there.
func (n *NodeInfo) RemovePod(key string) bool {
	i := slices.IndexFunc(n.Pods, func(p *PodInfo) bool { return p.Key == key })
	if i < 0 {
		return false
	}
	pod := n.Pods[i]
	n.Pods = slices.Delete(n.Pods, i, i+1)
	n.PodsWithAffinity = removeKey(n.PodsWithAffinity, key)
	n.PodsWithRequiredAntiAffinity = removeKey(n.PodsWithRequiredAntiAffinity, key)
	n.Requested.Sub(&pod.Requests)
	n.NonZeroRequested.Sub(&pod.NonZeroRequests)
	if pod.OwnerUID != "" {
		if n.OwnerCounts[pod.OwnerUID]--; n.OwnerCounts[pod.OwnerUID] <= 0 {
			delete(n.OwnerCounts, pod.OwnerUID)
		}
	}
	for _, hp := range pod.HostPorts {
		if n.usedPorts[hp]--; n.usedPorts[hp] <= 0 {
			delete(n.usedPorts, hp)
		}
		pp := protoPort{hp.Protocol, hp.Port}
		if n.usedAnyIP[pp]--; n.usedAnyIP[pp] <= 0 {
			delete(n.usedAnyIP, pp)
		}
	}
	return true
}

func removeKey(pods []*PodInfo, key string) []*PodInfo {
	if i := slices.IndexFunc(pods, func(p *PodInfo) bool { return p.Key == key }); i >= 0 {
		return slices.Delete(pods, i, i+1)
	}
	return pods
}

// PortConflict reports whether hp clashes with a host port in use: the
// same protocol and port on the same address, or on any address when
// either side binds 0.0.0.0.
func (n *NodeInfo) PortConflict(hp HostPort) bool {
	if len(n.usedPorts) == 0 {
		return false
	}
	if hp.IP == "0.0.0.0" {
		return n.usedAnyIP[protoPort{hp.Protocol, hp.Port}] > 0
	}
	return n.usedPorts[hp] > 0 || n.usedPorts[HostPort{IP: "0.0.0.0", Protocol: hp.Protocol, Port: hp.Port}] > 0
}

// Clone returns a copy of n that shares nothing mutable with it (the Node
// and PodInfos, which are immutable, are shared).
func (n *NodeInfo) Clone() *NodeInfo {
	c := *n
	c.Allocatable = n.Allocatable.Clone()
	c.Requested = n.Requested.Clone()
	c.NonZeroRequested = n.NonZeroRequested.Clone()
	c.Pods = slices.Clone(n.Pods)
	c.PodsWithAffinity = slices.Clone(n.PodsWithAffinity)
	c.PodsWithRequiredAntiAffinity = slices.Clone(n.PodsWithRequiredAntiAffinity)
	c.Runtimes = slices.Clone(n.Runtimes)
	if n.OwnerCounts != nil {
		c.OwnerCounts = make(map[string]int, len(n.OwnerCounts))
		for k, v := range n.OwnerCounts {
			c.OwnerCounts[k] = v
		}
	}
	if n.usedPorts != nil {
		c.usedPorts = make(map[HostPort]int, len(n.usedPorts))
		for k, v := range n.usedPorts {
			c.usedPorts[k] = v
		}
		c.usedAnyIP = make(map[protoPort]int, len(n.usedAnyIP))
		for k, v := range n.usedAnyIP {
			c.usedAnyIP[k] = v
		}
	}
	return &c
}
