package framework

import (
	"slices"
	"strings"

	"github.com/wharfhq/wharf/api/types"
)

// Snapshot is the state of the cluster one scheduling cycle sees: a
// NodeInfo per node (only nodes whose Node object is known), and indexes
// built from them. It does not change during a cycle; the Cache brings it up
// to date between cycles, copying only the nodes that changed.
type Snapshot struct {
	nodes map[string]*NodeInfo
	// list holds the nodes sorted by name; index maps a name to its place.
	list  []*NodeInfo
	index map[string]int

	withAffinity             []*NodeInfo
	withRequiredAntiAffinity []*NodeInfo
	// zoneOwners counts Pods per zone and controller UID, so that spreading
	// a workload over zones costs one lookup per node.
	zoneOwners map[string]map[string]int
	// ownerNodes counts Pods per controller UID and node name, so that
	// spreading a workload over nodes reads one small, hot map per Pod
	// rather than a map in every NodeInfo.
	ownerNodes map[string]map[string]int
	nsLabels   map[string]map[string]string

	generation int64
	nodeSetGen int64
	nsGen      int64
}

// NewEmptySnapshot returns a snapshot with no nodes, for Cache.UpdateSnapshot.
func NewEmptySnapshot() *Snapshot {
	return &Snapshot{
		nodes:      map[string]*NodeInfo{},
		index:      map[string]int{},
		zoneOwners: map[string]map[string]int{},
		ownerNodes: map[string]map[string]int{},
		nodeSetGen: -1,
		nsGen:      -1,
	}
}

// NewSnapshot returns a snapshot of the given nodes (which it keeps: do not
// modify them afterwards).
func NewSnapshot(nodes ...*NodeInfo) *Snapshot {
	s := NewEmptySnapshot()
	for _, n := range nodes {
		if n.Node == nil {
			continue
		}
		s.nodes[n.Name] = n
		s.zoneAdd(n)
	}
	s.rebuildList()
	s.rebuildAffinityLists()
	return s
}

// NewSnapshotFromObjects builds a snapshot from Node and Pod objects: each
// Pod with spec.nodeName is placed on that node (terminal Pods are left
// out). For tests and tools; the scheduler uses the Cache.
func NewSnapshotFromObjects(nodes []*types.Node, pods []*types.Pod) *Snapshot {
	infos := make(map[string]*NodeInfo, len(nodes))
	list := make([]*NodeInfo, 0, len(nodes))
	for _, n := range nodes {
		ni := NewNodeInfo(n)
		infos[n.Name] = ni
		list = append(list, ni)
	}
	for _, p := range pods {
		if ni := infos[p.Spec.NodeName]; ni != nil && !IsTerminal(p) {
			ni.AddPod(NewPodInfo(p))
		}
	}
	return NewSnapshot(list...)
}

// SetNamespaceLabels sets the namespace labels namespaceSelectors of
// affinity terms are matched against (for snapshots built without a Cache).
func (s *Snapshot) SetNamespaceLabels(ns map[string]map[string]string) { s.nsLabels = ns }

// IsTerminal reports whether pod has finished (Succeeded or Failed): it no
// longer holds resources on its node.
func IsTerminal(pod *types.Pod) bool {
	return pod.Status.Phase == types.PodSucceeded || pod.Status.Phase == types.PodFailed
}

// List returns every node, sorted by name (shared: do not modify).
func (s *Snapshot) List() []*NodeInfo { return s.list }

// NumNodes returns the number of nodes.
func (s *Snapshot) NumNodes() int { return len(s.list) }

// Get returns the named node, or nil.
func (s *Snapshot) Get(name string) *NodeInfo { return s.nodes[name] }

// HavePodsWithAffinity returns the nodes running a Pod with an inter-pod
// (anti-)affinity term.
func (s *Snapshot) HavePodsWithAffinity() []*NodeInfo { return s.withAffinity }

// HavePodsWithRequiredAntiAffinity returns the nodes running a Pod with a
// required anti-affinity term.
func (s *Snapshot) HavePodsWithRequiredAntiAffinity() []*NodeInfo {
	return s.withRequiredAntiAffinity
}

// ZoneOwnerCount returns how many Pods controlled by owner run in zone.
func (s *Snapshot) ZoneOwnerCount(zone, owner string) int { return s.zoneOwners[zone][owner] }

// OwnerNodeCounts returns how many Pods controlled by owner run on each
// node, by node name (shared: do not modify; nil when none).
func (s *Snapshot) OwnerNodeCounts(owner string) map[string]int { return s.ownerNodes[owner] }

// NumZones returns the number of distinct zones among the nodes.
func (s *Snapshot) NumZones() int { return len(s.zoneOwners) }

// NamespaceLabels returns the labels of namespace ns (nil if unknown).
func (s *Snapshot) NamespaceLabels(ns string) map[string]string { return s.nsLabels[ns] }

// zoneAdd adds n's Pods to the per-zone and per-node owner counts.
func (s *Snapshot) zoneAdd(n *NodeInfo) {
	for o, c := range n.OwnerCounts {
		m := s.ownerNodes[o]
		if m == nil {
			m = map[string]int{}
			s.ownerNodes[o] = m
		}
		m[n.Name] += c
	}
	if n.Zone == "" {
		return
	}
	m := s.zoneOwners[n.Zone]
	if m == nil {
		m = map[string]int{}
		s.zoneOwners[n.Zone] = m
	}
	for o, c := range n.OwnerCounts {
		m[o] += c
	}
}

// zoneSub takes n's Pods off the per-zone and per-node owner counts.
func (s *Snapshot) zoneSub(n *NodeInfo) {
	for o, c := range n.OwnerCounts {
		m := s.ownerNodes[o]
		if m[n.Name] -= c; m[n.Name] <= 0 {
			delete(m, n.Name)
			if len(m) == 0 {
				delete(s.ownerNodes, o)
			}
		}
	}
	if n.Zone == "" {
		return
	}
	m := s.zoneOwners[n.Zone]
	for o, c := range n.OwnerCounts {
		if m[o] -= c; m[o] <= 0 {
			delete(m, o)
		}
	}
	// A zone stays known while a node of it is (it may hold no owned Pods);
	// rebuildList drops zones no node is in.
}

func (s *Snapshot) rebuildList() {
	s.list = s.list[:0]
	for _, n := range s.nodes {
		s.list = append(s.list, n)
	}
	slices.SortFunc(s.list, func(a, b *NodeInfo) int { return strings.Compare(a.Name, b.Name) })
	clear(s.index)
	zones := map[string]bool{}
	for i, n := range s.list {
		s.index[n.Name] = i
		zones[n.Zone] = true
	}
	for z := range s.zoneOwners {
		if !zones[z] {
			delete(s.zoneOwners, z)
		}
	}
	for z := range zones {
		if _, ok := s.zoneOwners[z]; !ok && z != "" {
			s.zoneOwners[z] = map[string]int{}
		}
	}
}

func (s *Snapshot) rebuildAffinityLists() {
	s.withAffinity = s.withAffinity[:0]
	s.withRequiredAntiAffinity = s.withRequiredAntiAffinity[:0]
	for _, n := range s.list {
		if len(n.PodsWithAffinity) > 0 {
			s.withAffinity = append(s.withAffinity, n)
		}
		if len(n.PodsWithRequiredAntiAffinity) > 0 {
			s.withRequiredAntiAffinity = append(s.withRequiredAntiAffinity, n)
		}
	}
}
