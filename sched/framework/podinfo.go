package framework

import (
	"fmt"
	"strings"

	"github.com/wharfhq/wharf/api/labels"
	"github.com/wharfhq/wharf/api/types"
)

// Well-known labels and annotations the scheduler reads.
const (
	// LabelRuntimes on a Node lists the runtimes its agent offers,
	// separated by dots ("container.wasm"): a label value cannot hold a
	// comma, so "." is the separator ("," and "_" are accepted too, for
	// objects that never went through validation). A node without it is
	// taken to offer "container" only, as any Kubernetes-shaped node does.
	LabelRuntimes = "wharf.dev/runtimes"
	// AnnotationImagePlatforms on a Pod lists the platforms every image of
	// the Pod is built for, comma-separated ("linux/amd64,linux/arm64").
	// The scheduler cannot pull images, so whoever can (the CLI, the API's
	// admission, a controller) writes it; without it the Pod is not
	// restricted by architecture.
	AnnotationImagePlatforms = "wharf.dev/image-platforms"
	// LabelArch and LabelOS are the node's architecture and operating
	// system, as GOARCH and GOOS.
	LabelArch = "kubernetes.io/arch"
	LabelOS   = "kubernetes.io/os"
	// LabelHostname is the node's hostname label.
	LabelHostname = "kubernetes.io/hostname"
	// LabelZone is the node's zone.
	LabelZone = "topology.kubernetes.io/zone"
)

// Runtime names.
const (
	RuntimeWasm      = "wasm"
	RuntimeContainer = "container"
)

// Default requests counted for scoring when a container requests nothing,
// as Kubernetes does, so that many "free" Pods still spread.
const (
	DefaultMilliCPURequest = 100               // 0.1 core
	DefaultMemoryRequest   = 200 * 1024 * 1024 // 200 MiB
)

// Resource is an amount of cpu (millicores), memory (bytes), Pods, and any
// other ("scalar") resources such as ephemeral-storage or nvidia.com/gpu,
// in base units.
type Resource struct {
	MilliCPU int64
	Memory   int64
	Pods     int64
	Scalar   map[types.ResourceName]int64
}

// Add adds r2 to r.
func (r *Resource) Add(r2 *Resource) {
	r.MilliCPU += r2.MilliCPU
	r.Memory += r2.Memory
	r.Pods += r2.Pods
	for k, v := range r2.Scalar {
		if r.Scalar == nil {
			r.Scalar = map[types.ResourceName]int64{}
		}
		r.Scalar[k] += v
	}
}

// Sub subtracts r2 from r.
func (r *Resource) Sub(r2 *Resource) {
	r.MilliCPU -= r2.MilliCPU
	r.Memory -= r2.Memory
	r.Pods -= r2.Pods
	for k, v := range r2.Scalar {
		if r.Scalar == nil {
			r.Scalar = map[types.ResourceName]int64{}
		}
		r.Scalar[k] -= v
	}
}

// Clone returns a deep copy of r.
func (r Resource) Clone() Resource {
	if r.Scalar != nil {
		s := make(map[types.ResourceName]int64, len(r.Scalar))
		for k, v := range r.Scalar {
			s[k] = v
		}
		r.Scalar = s
	}
	return r
}

// setMax raises each amount of r to at least r2's.
func (r *Resource) setMax(r2 *Resource) {
	r.MilliCPU = max(r.MilliCPU, r2.MilliCPU)
	r.Memory = max(r.Memory, r2.Memory)
	for k, v := range r2.Scalar {
		if r.Scalar == nil {
			r.Scalar = map[types.ResourceName]int64{}
		}
		r.Scalar[k] = max(r.Scalar[k], v)
	}
}

// ResourceFromList converts a ResourceList to a Resource.
func ResourceFromList(rl types.ResourceList) Resource {
	var r Resource
	for name, q := range rl {
		switch name {
		case types.ResourceCPU:
			r.MilliCPU += q.MilliValue()
		case types.ResourceMemory:
			r.Memory += q.Value()
		case types.ResourcePods:
			r.Pods += q.Value()
		default:
			if r.Scalar == nil {
				r.Scalar = map[types.ResourceName]int64{}
			}
			r.Scalar[name] += q.Value()
		}
	}
	return r
}

// HostPort is one port a Pod binds on its node.
type HostPort struct {
	IP       string // "0.0.0.0" for every address
	Protocol types.Protocol
	Port     int32
}

// AffinityTerm is a parsed PodAffinityTerm.
type AffinityTerm struct {
	// Namespaces the matched Pods must be in (besides NamespaceSelector).
	Namespaces map[string]struct{}
	// NamespaceSelector selects more namespaces by their labels; Nothing()
	// when the term has none.
	NamespaceSelector labels.Selector
	Selector          labels.Selector
	TopologyKey       string
}

// Matches reports whether pod (whose namespace has labels nsLabels)
// matches the term.
func (t *AffinityTerm) Matches(pod *PodInfo, nsLabels func(ns string) map[string]string) bool {
	ns := pod.Pod.Namespace
	if _, ok := t.Namespaces[ns]; !ok {
		if t.NamespaceSelector.MatchesNothing() {
			return false
		}
		if !t.NamespaceSelector.Empty() && (nsLabels == nil || !t.NamespaceSelector.Matches(nsLabels(ns))) {
			return false
		}
	}
	return t.Selector.Matches(pod.Pod.Labels)
}

// WeightedAffinityTerm is a parsed WeightedPodAffinityTerm.
type WeightedAffinityTerm struct {
	AffinityTerm
	Weight int64
}

// PodInfo is a Pod with what the scheduler computes from it once: its
// effective requests, host ports, runtime, image platforms and parsed
// affinity terms. It is immutable once built.
type PodInfo struct {
	Pod *types.Pod
	// Key is "namespace/name".
	Key string
	// Requests is what the Pod reserves on a node: the larger of the sum
	// over its containers and the largest init container, plus overhead.
	// Requests.Pods is 1.
	Requests Resource
	// NonZeroRequests is Requests with cpu and memory defaulted when zero,
	// used by scores only.
	NonZeroRequests Resource
	HostPorts       []HostPort
	// Runtime is RuntimeWasm or RuntimeContainer.
	Runtime string
	// Platforms are the image platforms from AnnotationImagePlatforms
	// ("linux/amd64"); nil when unknown.
	Platforms []string
	// OwnerUID is the UID of the Pod's controller ("" if none): Pods of one
	// workload are spread by it.
	OwnerUID string

	RequiredAffinity      []AffinityTerm
	RequiredAntiAffinity  []AffinityTerm
	PreferredAffinity     []WeightedAffinityTerm
	PreferredAntiAffinity []WeightedAffinityTerm
	// ParseError is set when a selector of the Pod's affinity is invalid:
	// the Pod cannot be placed until it is fixed.
	ParseError error
}

// NewPodInfo computes the PodInfo of pod. pod is kept, not copied: do not
// modify it afterwards.
func NewPodInfo(pod *types.Pod) *PodInfo {
	pi := &PodInfo{Pod: pod, Key: pod.Namespace + "/" + pod.Name}
	pi.Requests, pi.NonZeroRequests = podRequests(&pod.Spec)
	for i := range pod.Spec.Containers {
		for _, p := range pod.Spec.Containers[i].Ports {
			if p.HostPort <= 0 {
				continue
			}
			hp := HostPort{IP: p.HostIP, Protocol: p.Protocol, Port: p.HostPort}
			if hp.IP == "" {
				hp.IP = "0.0.0.0"
			}
			if hp.Protocol == "" {
				hp.Protocol = types.ProtocolTCP
			}
			pi.HostPorts = append(pi.HostPorts, hp)
		}
	}
	pi.Runtime = RuntimeContainer
	if rc := pod.Spec.RuntimeClassName; rc != nil && *rc == RuntimeWasm {
		pi.Runtime = RuntimeWasm
	}
	if a := pod.Annotations[AnnotationImagePlatforms]; a != "" {
		for _, p := range strings.Split(a, ",") {
			if p = strings.TrimSpace(p); p != "" {
				pi.Platforms = append(pi.Platforms, p)
			}
		}
	}
	if ref := types.GetControllerOf(pod); ref != nil {
		pi.OwnerUID = ref.UID
	}
	if aff := pod.Spec.Affinity; aff != nil {
		var err error
		if pa := aff.PodAffinity; pa != nil {
			pi.RequiredAffinity, err = parseTerms(pod, pa.RequiredDuringSchedulingIgnoredDuringExecution, err)
			pi.PreferredAffinity, err = parseWeightedTerms(pod, pa.PreferredDuringSchedulingIgnoredDuringExecution, err)
		}
		if pa := aff.PodAntiAffinity; pa != nil {
			pi.RequiredAntiAffinity, err = parseTerms(pod, pa.RequiredDuringSchedulingIgnoredDuringExecution, err)
			pi.PreferredAntiAffinity, err = parseWeightedTerms(pod, pa.PreferredDuringSchedulingIgnoredDuringExecution, err)
		}
		pi.ParseError = err
	}
	return pi
}

// HasAffinity reports whether the Pod has any inter-pod (anti-)affinity term.
func (pi *PodInfo) HasAffinity() bool {
	return len(pi.RequiredAffinity)+len(pi.RequiredAntiAffinity)+len(pi.PreferredAffinity)+len(pi.PreferredAntiAffinity) > 0
}

// podRequests returns the effective requests of spec and the same with
// zero cpu and memory defaulted.
func podRequests(spec *types.PodSpec) (req, nonZero Resource) {
	for i := range spec.Containers {
		c := ResourceFromList(spec.Containers[i].Resources.Requests)
		req.Add(&c)
		nz := Resource{MilliCPU: c.MilliCPU, Memory: c.Memory}
		if nz.MilliCPU == 0 {
			nz.MilliCPU = DefaultMilliCPURequest
		}
		if nz.Memory == 0 {
			nz.Memory = DefaultMemoryRequest
		}
		nonZero.Add(&nz)
	}
	for i := range spec.InitContainers {
		c := ResourceFromList(spec.InitContainers[i].Resources.Requests)
		req.setMax(&c)
		nonZero.setMax(&Resource{MilliCPU: c.MilliCPU, Memory: c.Memory})
	}
	if len(spec.Overhead) > 0 {
		o := ResourceFromList(spec.Overhead)
		req.Add(&o)
		nonZero.Add(&Resource{MilliCPU: o.MilliCPU, Memory: o.Memory})
	}
	req.Pods, nonZero.Pods = 1, 1
	return req, nonZero
}

func parseTerms(pod *types.Pod, terms []types.PodAffinityTerm, err error) ([]AffinityTerm, error) {
	if len(terms) == 0 {
		return nil, err
	}
	out := make([]AffinityTerm, 0, len(terms))
	for i := range terms {
		t, e := parseTerm(pod, &terms[i])
		if e != nil {
			if err == nil {
				err = e
			}
			continue
		}
		out = append(out, t)
	}
	return out, err
}

func parseWeightedTerms(pod *types.Pod, terms []types.WeightedPodAffinityTerm, err error) ([]WeightedAffinityTerm, error) {
	if len(terms) == 0 {
		return nil, err
	}
	out := make([]WeightedAffinityTerm, 0, len(terms))
	for i := range terms {
		t, e := parseTerm(pod, &terms[i].PodAffinityTerm)
		if e != nil {
			if err == nil {
				err = e
			}
			continue
		}
		out = append(out, WeightedAffinityTerm{AffinityTerm: t, Weight: int64(terms[i].Weight)})
	}
	return out, err
}

// parseTerm parses one term. As in Kubernetes, a term with neither
// namespaces nor a namespaceSelector applies to the Pod's own namespace,
// and an empty namespaceSelector to every namespace.
func parseTerm(pod *types.Pod, t *types.PodAffinityTerm) (AffinityTerm, error) {
	sel, err := labels.FromLabelSelector(t.LabelSelector)
	if err != nil {
		return AffinityTerm{}, fmt.Errorf("pod affinity term (topologyKey %q): %w", t.TopologyKey, err)
	}
	nsSel := labels.Nothing()
	if t.NamespaceSelector != nil {
		if nsSel, err = labels.FromLabelSelector(t.NamespaceSelector); err != nil {
			return AffinityTerm{}, fmt.Errorf("pod affinity term (topologyKey %q) namespaceSelector: %w", t.TopologyKey, err)
		}
	}
	ns := make(map[string]struct{}, max(1, len(t.Namespaces)))
	for _, n := range t.Namespaces {
		ns[n] = struct{}{}
	}
	if len(t.Namespaces) == 0 && t.NamespaceSelector == nil {
		ns[pod.Namespace] = struct{}{}
	}
	return AffinityTerm{Namespaces: ns, NamespaceSelector: nsSel, Selector: sel, TopologyKey: t.TopologyKey}, nil
}
