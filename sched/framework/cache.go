package framework

import (
	"errors"
	"fmt"
	"maps"
	"sync"

	"github.com/wharfhq/wharf/api/types"
)

// Errors from the Cache.
var (
	// ErrPodAlreadyInCache: AssumePod of a Pod that is already assumed or bound.
	ErrPodAlreadyInCache = errors.New("pod is already assumed or bound in the cache")
	// ErrPodNotAssumed: ForgetPod of a Pod that is not assumed.
	ErrPodNotAssumed = errors.New("pod is not assumed")
)

// Cache holds the scheduler's view of the cluster: the nodes and every Pod
// bound to one, fed by informers, plus the Pods the scheduler has assumed
// onto a node while their binding is in flight, so that several Pods in
// flight never overcommit a node. Snapshots are taken from it between
// cycles. It is safe for concurrent use.
type Cache struct {
	mu    sync.Mutex
	nodes map[string]*cacheNode
	// head is the most recently changed node; the list runs to older ones,
	// so UpdateSnapshot visits only what changed since its last call.
	head *cacheNode
	pods map[string]*cachePod

	generation int64
	nodeSetGen int64 // bumped when a Node object is added or removed
	nsLabels   map[string]map[string]string
	nsGen      int64
}

type cacheNode struct {
	info       *NodeInfo
	prev, next *cacheNode
}

type cachePod struct {
	info    *PodInfo
	node    string
	assumed bool
	// bindingFinished: the bind call succeeded; the informer has yet to
	// show the Pod bound.
	bindingFinished bool
}

// NewCache returns an empty cache.
func NewCache() *Cache {
	return &Cache{nodes: map[string]*cacheNode{}, pods: map[string]*cachePod{}, nsLabels: map[string]map[string]string{}}
}

// touch marks e changed: a new generation, moved to the head of the list.
// c.mu is held.
func (c *Cache) touch(e *cacheNode) {
	c.generation++
	e.info.generation = c.generation
	if c.head == e {
		return
	}
	if e.prev != nil {
		e.prev.next = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	}
	e.prev, e.next = nil, c.head
	if c.head != nil {
		c.head.prev = e
	}
	c.head = e
}

func (c *Cache) unlink(e *cacheNode) {
	if e.prev != nil {
		e.prev.next = e.next
	} else if c.head == e {
		c.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	}
	e.prev, e.next = nil, nil
}

// node returns the entry for name, creating an empty one (a node known
// only from its Pods) if needed. c.mu is held.
func (c *Cache) node(name string) *cacheNode {
	e := c.nodes[name]
	if e == nil {
		e = &cacheNode{info: &NodeInfo{Name: name}}
		c.nodes[name] = e
	}
	return e
}

// AddNode adds or updates a node.
func (c *Cache) AddNode(node *types.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.node(node.Name)
	if e.info.Node == nil {
		c.nodeSetGen++
	}
	e.info.SetNode(node)
	c.touch(e)
}

// UpdateNode is AddNode.
func (c *Cache) UpdateNode(node *types.Node) { c.AddNode(node) }

// RemoveNode removes a node. Pods still bound to it stay counted until
// they are removed.
func (c *Cache) RemoveNode(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.nodes[name]
	if e == nil || e.info.Node == nil {
		return
	}
	c.nodeSetGen++
	e.info.Node = nil
	if len(e.info.Pods) == 0 {
		c.unlink(e)
		delete(c.nodes, name)
		return
	}
	c.touch(e)
}

// AddPod records a Pod bound to a node (spec.nodeName set), confirming it
// if the scheduler had assumed it. Adding a Pod already present updates it.
func (c *Cache) AddPod(pod *types.Pod) {
	if pod.Spec.NodeName == "" {
		return
	}
	key := pod.Namespace + "/" + pod.Name
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.pods[key]; p != nil {
		if !p.assumed && p.node == pod.Spec.NodeName && p.info.Pod.UID == pod.UID && maps.Equal(p.info.Pod.Labels, pod.Labels) {
			return // nothing the scheduler looks at changed
		}
		c.removeLocked(key, p)
	}
	c.addLocked(key, NewPodInfo(pod), pod.Spec.NodeName, false)
}

// UpdatePod is AddPod(newPod); a Pod that has left its node (it cannot,
// but a relist may say so) is removed first.
func (c *Cache) UpdatePod(oldPod, newPod *types.Pod) {
	if newPod.Spec.NodeName == "" {
		c.RemovePod(oldPod)
		return
	}
	c.AddPod(newPod)
}

// RemovePod forgets a Pod (deleted, or finished), assumed or bound.
func (c *Cache) RemovePod(pod *types.Pod) {
	key := pod.Namespace + "/" + pod.Name
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.pods[key]; p != nil {
		c.removeLocked(key, p)
	}
}

func (c *Cache) addLocked(key string, pi *PodInfo, node string, assumed bool) {
	e := c.node(node)
	e.info.AddPod(pi)
	c.touch(e)
	c.pods[key] = &cachePod{info: pi, node: node, assumed: assumed}
}

func (c *Cache) removeLocked(key string, p *cachePod) {
	delete(c.pods, key)
	e := c.nodes[p.node]
	if e == nil {
		return
	}
	e.info.RemovePod(key)
	if e.info.Node == nil && len(e.info.Pods) == 0 {
		c.unlink(e)
		delete(c.nodes, p.node)
		return
	}
	c.touch(e)
}

// AssumePod places pi on node before the binding is confirmed, so that
// the next cycles see the node's resources taken.
func (c *Cache) AssumePod(pi *PodInfo, node string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pods[pi.Key]; ok {
		return fmt.Errorf("assume pod %q on node %q: %w", pi.Key, node, ErrPodAlreadyInCache)
	}
	c.addLocked(pi.Key, pi, node, true)
	return nil
}

// FinishBinding records that the binding of an assumed Pod succeeded; the
// Pod stays assumed until the informer shows it bound (AddPod).
func (c *Cache) FinishBinding(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.pods[key]; p != nil && p.assumed {
		p.bindingFinished = true
	}
}

// ForgetPod undoes AssumePod (the binding failed).
func (c *Cache) ForgetPod(key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pods[key]
	if p == nil || !p.assumed {
		return fmt.Errorf("forget pod %q: %w", key, ErrPodNotAssumed)
	}
	c.removeLocked(key, p)
	return nil
}

// IsAssumed reports whether the Pod with key is assumed and not yet
// confirmed.
func (c *Cache) IsAssumed(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pods[key]
	return p != nil && p.assumed
}

// PodNode returns the node the Pod with key is assumed or bound on.
func (c *Cache) PodNode(key string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.pods[key]; p != nil {
		return p.node, true
	}
	return "", false
}

// Counts returns the number of nodes (with a Node object), Pods, and
// assumed Pods.
func (c *Cache) Counts() (nodes, pods, assumed int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.nodes {
		if e.info.Node != nil {
			nodes++
		}
	}
	for _, p := range c.pods {
		if p.assumed {
			assumed++
		}
	}
	return nodes, len(c.pods), assumed
}

// SetNamespace records a namespace's labels (for namespaceSelectors).
func (c *Cache) SetNamespace(ns *types.Namespace) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if maps.Equal(c.nsLabels[ns.Name], ns.Labels) && c.nsLabels[ns.Name] != nil {
		return
	}
	m := maps.Clone(c.nsLabels) // snapshots share the old map: copy on write
	m[ns.Name] = maps.Clone(ns.Labels)
	if m[ns.Name] == nil {
		m[ns.Name] = map[string]string{}
	}
	c.nsLabels = m
	c.nsGen++
}

// RemoveNamespace forgets a namespace's labels.
func (c *Cache) RemoveNamespace(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.nsLabels[name]; !ok {
		return
	}
	m := maps.Clone(c.nsLabels)
	delete(m, name)
	c.nsLabels = m
	c.nsGen++
}

// UpdateSnapshot brings s up to date, copying only the nodes that changed
// since its previous update. s must come from NewEmptySnapshot and be
// updated by one cache only.
func (c *Cache) UpdateSnapshot(s *Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.nsGen != c.nsGen {
		s.nsLabels = c.nsLabels
		s.nsGen = c.nsGen
	}
	rebuild := s.nodeSetGen != c.nodeSetGen
	affinity := false
	for e := c.head; e != nil && e.info.generation > s.generation; e = e.next {
		if e.info.Node == nil {
			continue
		}
		clone := e.info.Clone()
		old, ok := s.nodes[clone.Name]
		if ok {
			s.zoneSub(old)
			affinity = affinity || len(old.PodsWithAffinity) > 0
			if i, ok := s.index[clone.Name]; ok {
				s.list[i] = clone
			}
			if old.Zone != clone.Zone {
				rebuild = true
			}
		} else {
			rebuild = true
		}
		affinity = affinity || len(clone.PodsWithAffinity) > 0
		s.nodes[clone.Name] = clone
		s.zoneAdd(clone)
	}
	if s.nodeSetGen != c.nodeSetGen {
		for name, n := range s.nodes {
			if e := c.nodes[name]; e == nil || e.info.Node == nil {
				s.zoneSub(n)
				delete(s.nodes, name)
			}
		}
		s.nodeSetGen = c.nodeSetGen
	}
	if rebuild {
		s.rebuildList()
		affinity = true
	}
	if affinity {
		s.rebuildAffinityLists()
	}
	s.generation = c.generation
}
