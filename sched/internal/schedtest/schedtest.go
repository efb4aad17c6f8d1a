// Package schedtest builds Node and Pod objects for the scheduler's tests
// in a few words.
package schedtest

import (
	"github.com/wharfhq/wharf/api/types"
)

// NodeBuilder builds a Node.
type NodeBuilder struct{ n types.Node }

// Node starts a Ready, schedulable Node with 4 cpus, 8Gi of memory, room
// for 110 Pods, and the labels an agent sets (hostname, amd64, linux,
// runtimes "container.wasm").
func Node(name string) *NodeBuilder {
	b := &NodeBuilder{}
	b.n.Name = name
	b.n.Labels = map[string]string{
		"kubernetes.io/hostname": name,
		"kubernetes.io/arch":     "amd64",
		"kubernetes.io/os":       "linux",
		"wharf.dev/runtimes":     "container.wasm",
	}
	b.n.Status.Conditions = []types.NodeCondition{{Type: types.NodeReady, Status: types.ConditionTrue}}
	return b.Capacity("4", "8Gi", "110")
}

// Capacity sets allocatable (and capacity) cpu, memory and pods ("" leaves
// one out).
func (b *NodeBuilder) Capacity(cpu, mem, pods string) *NodeBuilder {
	rl := types.ResourceList{}
	if cpu != "" {
		rl[types.ResourceCPU] = types.MustParse(cpu)
	}
	if mem != "" {
		rl[types.ResourceMemory] = types.MustParse(mem)
	}
	if pods != "" {
		rl[types.ResourcePods] = types.MustParse(pods)
	}
	b.n.Status.Allocatable = rl
	b.n.Status.Capacity = rl
	return b
}

// Resource sets one more allocatable resource.
func (b *NodeBuilder) Resource(name, q string) *NodeBuilder {
	rl := types.ResourceList{}
	for k, v := range b.n.Status.Allocatable {
		rl[k] = v
	}
	rl[types.ResourceName(name)] = types.MustParse(q)
	b.n.Status.Allocatable = rl
	return b
}

// Label sets a label ("" value deletes it when del is used instead).
func (b *NodeBuilder) Label(k, v string) *NodeBuilder { b.n.Labels[k] = v; return b }

// Unlabel removes a label.
func (b *NodeBuilder) Unlabel(k string) *NodeBuilder { delete(b.n.Labels, k); return b }

// Arch sets kubernetes.io/arch.
func (b *NodeBuilder) Arch(a string) *NodeBuilder { return b.Label("kubernetes.io/arch", a) }

// Zone sets topology.kubernetes.io/zone.
func (b *NodeBuilder) Zone(z string) *NodeBuilder { return b.Label("topology.kubernetes.io/zone", z) }

// Runtimes sets wharf.dev/runtimes.
func (b *NodeBuilder) Runtimes(r string) *NodeBuilder { return b.Label("wharf.dev/runtimes", r) }

// Taint adds a taint.
func (b *NodeBuilder) Taint(key, value string, effect types.TaintEffect) *NodeBuilder {
	b.n.Spec.Taints = append(b.n.Spec.Taints, types.Taint{Key: key, Value: value, Effect: effect})
	return b
}

// Unschedulable cordons the node.
func (b *NodeBuilder) Unschedulable() *NodeBuilder { b.n.Spec.Unschedulable = true; return b }

// NotReady sets the Ready condition to False.
func (b *NodeBuilder) NotReady() *NodeBuilder {
	b.n.Status.Conditions = []types.NodeCondition{{Type: types.NodeReady, Status: types.ConditionFalse}}
	return b
}

// Obj returns the Node.
func (b *NodeBuilder) Obj() *types.Node { n := b.n; return &n }

// PodBuilder builds a Pod.
type PodBuilder struct{ p types.Pod }

// Pod starts a Pod in namespace "default" with one container "c" of image
// "img".
func Pod(name string) *PodBuilder {
	b := &PodBuilder{}
	b.p.Name = name
	b.p.Namespace = "default"
	b.p.UID = "uid-" + name
	b.p.Spec.Containers = []types.Container{{Name: "c", Image: "img"}}
	return b
}

// Namespace sets the namespace.
func (b *PodBuilder) Namespace(ns string) *PodBuilder { b.p.Namespace = ns; return b }

// Req sets the first container's cpu and memory requests ("" leaves one out).
func (b *PodBuilder) Req(cpu, mem string) *PodBuilder {
	rl := types.ResourceList{}
	if cpu != "" {
		rl[types.ResourceCPU] = types.MustParse(cpu)
	}
	if mem != "" {
		rl[types.ResourceMemory] = types.MustParse(mem)
	}
	b.p.Spec.Containers[0].Resources.Requests = rl
	return b
}

// ReqResource sets one more request on the first container.
func (b *PodBuilder) ReqResource(name, q string) *PodBuilder {
	rl := types.ResourceList{}
	for k, v := range b.p.Spec.Containers[0].Resources.Requests {
		rl[k] = v
	}
	rl[types.ResourceName(name)] = types.MustParse(q)
	b.p.Spec.Containers[0].Resources.Requests = rl
	return b
}

// Init adds an init container with these requests.
func (b *PodBuilder) Init(cpu, mem string) *PodBuilder {
	c := types.Container{Name: "init", Image: "img", Resources: types.ResourceRequirements{Requests: types.ResourceList{}}}
	if cpu != "" {
		c.Resources.Requests[types.ResourceCPU] = types.MustParse(cpu)
	}
	if mem != "" {
		c.Resources.Requests[types.ResourceMemory] = types.MustParse(mem)
	}
	b.p.Spec.InitContainers = append(b.p.Spec.InitContainers, c)
	return b
}

// Label sets a label.
func (b *PodBuilder) Label(k, v string) *PodBuilder {
	if b.p.Labels == nil {
		b.p.Labels = map[string]string{}
	}
	b.p.Labels[k] = v
	return b
}

// Annotate sets an annotation.
func (b *PodBuilder) Annotate(k, v string) *PodBuilder {
	if b.p.Annotations == nil {
		b.p.Annotations = map[string]string{}
	}
	b.p.Annotations[k] = v
	return b
}

// Wasm sets runtimeClassName: wasm.
func (b *PodBuilder) Wasm() *PodBuilder { w := "wasm"; b.p.Spec.RuntimeClassName = &w; return b }

// Platforms sets the wharf.dev/image-platforms annotation.
func (b *PodBuilder) Platforms(p string) *PodBuilder {
	return b.Annotate("wharf.dev/image-platforms", p)
}

// NodeSelector sets one nodeSelector entry.
func (b *PodBuilder) NodeSelector(k, v string) *PodBuilder {
	if b.p.Spec.NodeSelector == nil {
		b.p.Spec.NodeSelector = map[string]string{}
	}
	b.p.Spec.NodeSelector[k] = v
	return b
}

func (b *PodBuilder) affinity() *types.Affinity {
	if b.p.Spec.Affinity == nil {
		b.p.Spec.Affinity = &types.Affinity{}
	}
	return b.p.Spec.Affinity
}

// RequiredNodeTerm adds a required node affinity term (ORed with others).
func (b *PodBuilder) RequiredNodeTerm(exprs []types.NodeSelectorRequirement, fields []types.NodeSelectorRequirement) *PodBuilder {
	a := b.affinity()
	if a.NodeAffinity == nil {
		a.NodeAffinity = &types.NodeAffinity{}
	}
	if a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = &types.NodeSelector{}
	}
	ns := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution
	ns.NodeSelectorTerms = append(ns.NodeSelectorTerms, types.NodeSelectorTerm{MatchExpressions: exprs, MatchFields: fields})
	return b
}

// PreferredNodeTerm adds a preferred node affinity term.
func (b *PodBuilder) PreferredNodeTerm(weight int32, exprs ...types.NodeSelectorRequirement) *PodBuilder {
	a := b.affinity()
	if a.NodeAffinity == nil {
		a.NodeAffinity = &types.NodeAffinity{}
	}
	a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution = append(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution,
		types.PreferredSchedulingTerm{Weight: weight, Preference: types.NodeSelectorTerm{MatchExpressions: exprs}})
	return b
}

// Term builds a PodAffinityTerm matching label k=v over topologyKey.
func Term(k, v, topologyKey string) types.PodAffinityTerm {
	return types.PodAffinityTerm{
		LabelSelector: &types.LabelSelector{MatchLabels: map[string]string{k: v}},
		TopologyKey:   topologyKey,
	}
}

// PodAffinity adds a required pod affinity term.
func (b *PodBuilder) PodAffinity(t types.PodAffinityTerm) *PodBuilder {
	a := b.affinity()
	if a.PodAffinity == nil {
		a.PodAffinity = &types.PodAffinity{}
	}
	a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution = append(a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution, t)
	return b
}

// PodAntiAffinity adds a required pod anti-affinity term.
func (b *PodBuilder) PodAntiAffinity(t types.PodAffinityTerm) *PodBuilder {
	a := b.affinity()
	if a.PodAntiAffinity == nil {
		a.PodAntiAffinity = &types.PodAntiAffinity{}
	}
	a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution = append(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution, t)
	return b
}

// PreferredPodAffinity adds a preferred pod affinity term.
func (b *PodBuilder) PreferredPodAffinity(w int32, t types.PodAffinityTerm) *PodBuilder {
	a := b.affinity()
	if a.PodAffinity == nil {
		a.PodAffinity = &types.PodAffinity{}
	}
	a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution = append(a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution,
		types.WeightedPodAffinityTerm{Weight: w, PodAffinityTerm: t})
	return b
}

// PreferredPodAntiAffinity adds a preferred pod anti-affinity term.
func (b *PodBuilder) PreferredPodAntiAffinity(w int32, t types.PodAffinityTerm) *PodBuilder {
	a := b.affinity()
	if a.PodAntiAffinity == nil {
		a.PodAntiAffinity = &types.PodAntiAffinity{}
	}
	a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution = append(a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution,
		types.WeightedPodAffinityTerm{Weight: w, PodAffinityTerm: t})
	return b
}

// Toleration adds a toleration.
func (b *PodBuilder) Toleration(key string, op types.TolerationOperator, value string, effect types.TaintEffect) *PodBuilder {
	b.p.Spec.Tolerations = append(b.p.Spec.Tolerations, types.Toleration{Key: key, Operator: op, Value: value, Effect: effect})
	return b
}

// TolerationSeconds adds a NoExecute toleration for a while.
func (b *PodBuilder) TolerationSeconds(key string, seconds int64) *PodBuilder {
	b.p.Spec.Tolerations = append(b.p.Spec.Tolerations, types.Toleration{Key: key, Operator: types.TolerationOpExists, Effect: types.TaintEffectNoExecute, TolerationSeconds: &seconds})
	return b
}

// HostPort adds a container port bound on the host.
func (b *PodBuilder) HostPort(port int32, proto types.Protocol, ip string) *PodBuilder {
	c := &b.p.Spec.Containers[0]
	c.Ports = append(c.Ports, types.ContainerPort{ContainerPort: port, HostPort: port, Protocol: proto, HostIP: ip})
	return b
}

// Spread adds a topology spread constraint selecting label k=v.
func (b *PodBuilder) Spread(maxSkew int32, key string, when types.UnsatisfiableConstraintAction, k, v string) *PodBuilder {
	b.p.Spec.TopologySpreadConstraints = append(b.p.Spec.TopologySpreadConstraints, types.TopologySpreadConstraint{
		MaxSkew: maxSkew, TopologyKey: key, WhenUnsatisfiable: when,
		LabelSelector: &types.LabelSelector{MatchLabels: map[string]string{k: v}},
	})
	return b
}

// Owner sets a controller owner reference with this UID.
func (b *PodBuilder) Owner(uid string) *PodBuilder {
	t := true
	b.p.OwnerReferences = []types.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs-" + uid, UID: uid, Controller: &t}}
	return b
}

// Priority sets spec.priority.
func (b *PodBuilder) Priority(p int32) *PodBuilder { b.p.Spec.Priority = &p; return b }

// SchedulerName sets spec.schedulerName.
func (b *PodBuilder) SchedulerName(n string) *PodBuilder { b.p.Spec.SchedulerName = n; return b }

// On binds the Pod to a node (spec.nodeName).
func (b *PodBuilder) On(node string) *PodBuilder { b.p.Spec.NodeName = node; return b }

// Phase sets status.phase.
func (b *PodBuilder) Phase(p types.PodPhase) *PodBuilder { b.p.Status.Phase = p; return b }

// Obj returns the Pod.
func (b *PodBuilder) Obj() *types.Pod { p := b.p; return &p }
