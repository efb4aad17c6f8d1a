package validation

import (
	"strings"

	"github.com/wharfhq/wharf/api/types"
)

// Default values Kubernetes fills in, used by Default.
const (
	DefaultSchedulerName                 = "default-scheduler"
	DefaultTerminationGracePeriodSeconds = 30
	DefaultTerminationMessagePath        = "/dev/termination-log"
	DefaultFileMode                      = int32(0o644) // 420
	DefaultClientIPTimeoutSeconds        = int32(10800)
)

func ptr[T any](v T) *T { return &v }

// defaultPodSpec fills the defaults of a PodSpec, in a Pod or a template.
func defaultPodSpec(s *types.PodSpec) {
	if s.RestartPolicy == "" {
		s.RestartPolicy = types.RestartPolicyAlways
	}
	if s.DNSPolicy == "" {
		s.DNSPolicy = types.DNSClusterFirst
	}
	if s.TerminationGracePeriodSeconds == nil {
		s.TerminationGracePeriodSeconds = ptr(int64(DefaultTerminationGracePeriodSeconds))
	}
	if s.SchedulerName == "" {
		s.SchedulerName = DefaultSchedulerName
	}
	if s.SecurityContext == nil {
		s.SecurityContext = &types.PodSecurityContext{}
	}
	if s.EnableServiceLinks == nil {
		s.EnableServiceLinks = ptr(true)
	}
	if s.PreemptionPolicy == nil {
		s.PreemptionPolicy = ptr(types.PreemptLowerPriority)
	}
	if s.ServiceAccountName == "" && s.DeprecatedServiceAccount != "" {
		s.ServiceAccountName = s.DeprecatedServiceAccount
	}
	for i := range s.Volumes {
		defaultVolume(&s.Volumes[i])
	}
	for i := range s.InitContainers {
		defaultContainer(&s.InitContainers[i], s.HostNetwork)
	}
	for i := range s.Containers {
		defaultContainer(&s.Containers[i], s.HostNetwork)
	}
}

// defaultPod fills the defaults of a Pod: those of its spec, requests
// equal to limits where only limits are given, and on a new Pod phase
// Pending and its QoS class.
func defaultPod(p *types.Pod) {
	defaultPodSpec(&p.Spec)
	for _, cs := range [][]types.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for i := range cs {
			r := &cs[i].Resources
			for name, lim := range r.Limits {
				if _, ok := r.Requests[name]; !ok {
					if r.Requests == nil {
						r.Requests = types.ResourceList{}
					}
					r.Requests[name] = lim
				}
			}
		}
	}
	if p.Status.Phase == "" {
		p.Status.Phase = types.PodPending
	}
	if p.Status.QOSClass == "" {
		p.Status.QOSClass = QOSClass(&p.Spec)
	}
}

func defaultContainer(c *types.Container, hostNetwork bool) {
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = defaultPullPolicy(c.Image)
	}
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = DefaultTerminationMessagePath
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = types.TerminationMessageReadFile
	}
	for i := range c.Ports {
		port := &c.Ports[i]
		if port.Protocol == "" {
			port.Protocol = types.ProtocolTCP
		}
		if hostNetwork && port.HostPort == 0 {
			port.HostPort = port.ContainerPort
		}
	}
	for _, pr := range []*types.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		defaultProbe(pr)
	}
	if c.Lifecycle != nil {
		for _, h := range []*types.LifecycleHandler{c.Lifecycle.PostStart, c.Lifecycle.PreStop} {
			if h != nil {
				defaultHTTPGet(h.HTTPGet)
			}
		}
	}
	for i := range c.Env {
		if vf := c.Env[i].ValueFrom; vf != nil && vf.FieldRef != nil && vf.FieldRef.APIVersion == "" {
			vf.FieldRef.APIVersion = "v1"
		}
	}
}

// defaultPullPolicy is Always for an image without a tag or tagged
// latest, IfNotPresent otherwise (a tag or a pinned digest: @sha256:... or,
// for Wasm module URLs, #sha256=...).
func defaultPullPolicy(image string) types.PullPolicy {
	if strings.Contains(image, "@") || strings.Contains(image, "#sha256=") {
		return types.PullIfNotPresent
	}
	last := image[strings.LastIndex(image, "/")+1:]
	i := strings.LastIndex(last, ":")
	if i < 0 || last[i+1:] == "latest" {
		return types.PullAlways
	}
	return types.PullIfNotPresent
}

func defaultProbe(pr *types.Probe) {
	if pr == nil {
		return
	}
	if pr.TimeoutSeconds == 0 {
		pr.TimeoutSeconds = 1
	}
	if pr.PeriodSeconds == 0 {
		pr.PeriodSeconds = 10
	}
	if pr.SuccessThreshold == 0 {
		pr.SuccessThreshold = 1
	}
	if pr.FailureThreshold == 0 {
		pr.FailureThreshold = 3
	}
	defaultHTTPGet(pr.HTTPGet)
}

func defaultHTTPGet(g *types.HTTPGetAction) {
	if g == nil {
		return
	}
	if g.Path == "" {
		g.Path = "/"
	}
	if g.Scheme == "" {
		g.Scheme = types.URISchemeHTTP
	}
}

func defaultVolume(v *types.Volume) {
	s := &v.VolumeSource
	if s.HostPath == nil && s.EmptyDir == nil && s.Secret == nil && s.ConfigMap == nil && s.DownwardAPI == nil && s.Projected == nil {
		s.EmptyDir = &types.EmptyDirVolumeSource{}
	}
	if s.HostPath != nil && s.HostPath.Type == nil {
		s.HostPath.Type = ptr(types.HostPathUnset)
	}
	if s.Secret != nil && s.Secret.DefaultMode == nil {
		s.Secret.DefaultMode = ptr(DefaultFileMode)
	}
	if s.ConfigMap != nil && s.ConfigMap.DefaultMode == nil {
		s.ConfigMap.DefaultMode = ptr(DefaultFileMode)
	}
	if s.DownwardAPI != nil {
		if s.DownwardAPI.DefaultMode == nil {
			s.DownwardAPI.DefaultMode = ptr(DefaultFileMode)
		}
		defaultDownwardAPIFiles(s.DownwardAPI.Items)
	}
	if s.Projected != nil {
		if s.Projected.DefaultMode == nil {
			s.Projected.DefaultMode = ptr(DefaultFileMode)
		}
		for _, src := range s.Projected.Sources {
			if src.DownwardAPI != nil {
				defaultDownwardAPIFiles(src.DownwardAPI.Items)
			}
		}
	}
}

func defaultDownwardAPIFiles(items []types.DownwardAPIVolumeFile) {
	for i := range items {
		if f := items[i].FieldRef; f != nil && f.APIVersion == "" {
			f.APIVersion = "v1"
		}
	}
}

// QOSClass computes a Pod's quality-of-service class as Kubernetes does:
// BestEffort when no container requests or limits cpu or memory,
// Guaranteed when every container limits both and requests equal limits,
// Burstable otherwise.
func QOSClass(spec *types.PodSpec) types.PodQOSClass {
	requests := types.ResourceList{}
	limits := types.ResourceList{}
	guaranteed := true
	for _, cs := range [][]types.Container{spec.InitContainers, spec.Containers} {
		for _, c := range cs {
			for _, name := range []types.ResourceName{types.ResourceCPU, types.ResourceMemory} {
				if q, ok := c.Resources.Requests[name]; ok && !q.IsZero() {
					sum := requests[name]
					sum.Add(q)
					requests[name] = sum
				}
				if q, ok := c.Resources.Limits[name]; ok && !q.IsZero() {
					sum := limits[name]
					sum.Add(q)
					limits[name] = sum
				} else {
					guaranteed = false
				}
			}
		}
	}
	if len(requests) == 0 && len(limits) == 0 {
		return types.PodQOSBestEffort
	}
	if guaranteed {
		for name, req := range requests {
			if lim, ok := limits[name]; !ok || lim.Cmp(req) != 0 {
				guaranteed = false
			}
		}
	}
	if guaranteed && len(requests) == len(limits) {
		return types.PodQOSGuaranteed
	}
	return types.PodQOSBurstable
}

func defaultService(s *types.Service) {
	sp := &s.Spec
	if sp.Type == "" {
		sp.Type = types.ServiceTypeClusterIP
	}
	if sp.SessionAffinity == "" {
		sp.SessionAffinity = types.ServiceAffinityNone
	}
	if sp.SessionAffinity == types.ServiceAffinityClientIP {
		if sp.SessionAffinityConfig == nil {
			sp.SessionAffinityConfig = &types.SessionAffinityConfig{}
		}
		if sp.SessionAffinityConfig.ClientIP == nil {
			sp.SessionAffinityConfig.ClientIP = &types.ClientIPConfig{}
		}
		if sp.SessionAffinityConfig.ClientIP.TimeoutSeconds == nil {
			sp.SessionAffinityConfig.ClientIP.TimeoutSeconds = ptr(DefaultClientIPTimeoutSeconds)
		}
	}
	if sp.Type != types.ServiceTypeExternalName && sp.InternalTrafficPolicy == nil {
		sp.InternalTrafficPolicy = ptr(types.ServiceTrafficPolicyCluster)
	}
	if (sp.Type == types.ServiceTypeNodePort || sp.Type == types.ServiceTypeLoadBalancer) && sp.ExternalTrafficPolicy == "" {
		sp.ExternalTrafficPolicy = types.ServiceTrafficPolicyCluster
	}
	for i := range sp.Ports {
		port := &sp.Ports[i]
		if port.Protocol == "" {
			port.Protocol = types.ProtocolTCP
		}
		if port.TargetPort.Type == types.Int && port.TargetPort.IntVal == 0 {
			port.TargetPort = types.FromInt32(port.Port)
		}
	}
}

// defaultSecret sets type Opaque and, as the Kubernetes API server does,
// moves stringData into data (stringData is write-only).
func defaultSecret(s *types.Secret) {
	if s.Type == "" {
		s.Type = types.SecretTypeOpaque
	}
	if len(s.StringData) > 0 {
		if s.Data == nil {
			s.Data = make(map[string][]byte, len(s.StringData))
		}
		for k, v := range s.StringData {
			s.Data[k] = []byte(v)
		}
	}
	s.StringData = nil
}

func defaultNamespace(n *types.Namespace) {
	if n.Status.Phase == "" {
		n.Status.Phase = types.NamespaceActive
	}
}
