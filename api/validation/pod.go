package validation

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/wharfhq/wharf/api/labels"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/api/validation/names"
)

// WasmRuntimeClassName is the runtimeClassName that makes a Pod run as
// WebAssembly modules rather than containers.
const WasmRuntimeClassName = "wasm"

var (
	restartPolicies          = []types.RestartPolicy{types.RestartPolicyAlways, types.RestartPolicyOnFailure, types.RestartPolicyNever}
	dnsPolicies              = []types.DNSPolicy{types.DNSClusterFirst, types.DNSClusterFirstWithHostNet, types.DNSDefault}
	pullPolicies             = []types.PullPolicy{types.PullAlways, types.PullIfNotPresent, types.PullNever}
	terminationMsgPolicies   = []types.TerminationMessagePolicy{types.TerminationMessageReadFile, types.TerminationMessageFallbackToLogsOnError}
	protocols                = []types.Protocol{types.ProtocolTCP, types.ProtocolUDP, types.ProtocolSCTP}
	uriSchemes               = []types.URIScheme{types.URISchemeHTTP, types.URISchemeHTTPS}
	hostPathTypes            = []types.HostPathType{types.HostPathUnset, types.HostPathDirectoryOrCreate, types.HostPathDirectory, types.HostPathFileOrCreate, types.HostPathFile, types.HostPathSocket, types.HostPathCharDev, types.HostPathBlockDev}
	storageMedia             = []types.StorageMedium{types.StorageMediumDefault, types.StorageMediumMemory}
	taintEffects             = []types.TaintEffect{types.TaintEffectNoSchedule, types.TaintEffectPreferNoSchedule, types.TaintEffectNoExecute}
	tolerationOperators      = []types.TolerationOperator{types.TolerationOpExists, types.TolerationOpEqual}
	nodeSelectorOperators    = []types.NodeSelectorOperator{types.NodeSelectorOpIn, types.NodeSelectorOpNotIn, types.NodeSelectorOpExists, types.NodeSelectorOpDoesNotExist, types.NodeSelectorOpGt, types.NodeSelectorOpLt}
	unsatisfiableActions     = []types.UnsatisfiableConstraintAction{types.DoNotSchedule, types.ScheduleAnyway}
	nodeInclusionPolicies    = []types.NodeInclusionPolicy{types.NodeInclusionPolicyHonor, types.NodeInclusionPolicyIgnore}
	preemptionPolicies       = []types.PreemptionPolicy{types.PreemptLowerPriority, types.PreemptNever}
	envFieldPaths            = []string{"metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", "metadata.annotations", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"}
	downwardVolumeFieldPaths = []string{"metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", "metadata.annotations"}
	resourceFieldResources   = []string{"limits.cpu", "limits.memory", "limits.ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage"}
	// subscriptedFieldPath matches metadata.labels['key'] and
	// metadata.annotations['key'].
	subscriptedFieldPath = regexp.MustCompile(`^metadata\.(labels|annotations)\['(.*)'\]$`)
	// httpHeaderName is an HTTP header field name (RFC 7230 token).
	httpHeaderName = regexp.MustCompile("^[-!#$%&'*+.^_`|~0-9A-Za-z]+$")
)

func validatePod(pod *types.Pod) ErrorList {
	return validatePodSpec(&pod.Spec, NewPath("spec"))
}

// validatePodTemplate checks a workload's pod template: its labels and
// annotations, and its spec.
func validatePodTemplate(t *types.PodTemplateSpec, p Path) ErrorList {
	errs := validateLabels(t.Labels, p.Child("metadata", "labels"))
	errs = append(errs, validateAnnotations(t.Annotations, p.Child("metadata", "annotations"))...)
	return append(errs, validatePodSpec(&t.Spec, p.Child("spec"))...)
}

// validatePodSpec checks a Pod's spec (or a template's). It expects a
// defaulted spec: fields Default fills are required here.
func validatePodSpec(spec *types.PodSpec, p Path) ErrorList {
	volumes, errs := validateVolumes(spec.Volumes, p.Child("volumes"))
	if len(spec.Containers) == 0 {
		errs = append(errs, Required(p.Child("containers"), "a Pod needs at least one container"))
	}
	containerNames := map[string]bool{}
	errs = append(errs, validateContainers(spec.InitContainers, true, spec, volumes, containerNames, p.Child("initContainers"))...)
	errs = append(errs, validateContainers(spec.Containers, false, spec, volumes, containerNames, p.Child("containers"))...)
	errs = append(errs, validateEnum(spec.RestartPolicy, restartPolicies, p.Child("restartPolicy"))...)
	if spec.DNSPolicy == types.DNSNone {
		errs = append(errs, Invalid(p.Child("dnsPolicy"), spec.DNSPolicy, "needs dnsConfig, which Wharf does not support; use ClusterFirst or Default"))
	} else {
		errs = append(errs, validateEnum(spec.DNSPolicy, dnsPolicies, p.Child("dnsPolicy"))...)
	}
	if v := spec.TerminationGracePeriodSeconds; v != nil && *v < 0 {
		errs = append(errs, Invalid(p.Child("terminationGracePeriodSeconds"), *v, "must be greater than or equal to 0"))
	}
	if v := spec.ActiveDeadlineSeconds; v != nil && (*v < 1 || *v > 2147483647) {
		errs = append(errs, Invalid(p.Child("activeDeadlineSeconds"), *v, "must be between 1 and 2147483647, inclusive"))
	}
	errs = append(errs, validateLabels(spec.NodeSelector, p.Child("nodeSelector"))...)
	errs = append(errs, optionalName(spec.ServiceAccountName, names.IsDNS1123Subdomain, p.Child("serviceAccountName"))...)
	errs = append(errs, optionalName(spec.NodeName, names.IsDNS1123Subdomain, p.Child("nodeName"))...)
	errs = append(errs, optionalName(spec.Hostname, names.IsDNS1123Label, p.Child("hostname"))...)
	errs = append(errs, optionalName(spec.Subdomain, names.IsDNS1123Label, p.Child("subdomain"))...)
	errs = append(errs, optionalName(spec.SchedulerName, names.IsDNS1123Subdomain, p.Child("schedulerName"))...)
	errs = append(errs, optionalName(spec.PriorityClassName, names.IsDNS1123Subdomain, p.Child("priorityClassName"))...)
	if spec.RuntimeClassName != nil {
		errs = append(errs, optionalName(*spec.RuntimeClassName, names.IsDNS1123Subdomain, p.Child("runtimeClassName"))...)
		if *spec.RuntimeClassName == "" {
			errs = append(errs, Invalid(p.Child("runtimeClassName"), "", "must not be empty when set"))
		}
	}
	if spec.PreemptionPolicy != nil {
		errs = append(errs, validateEnum(*spec.PreemptionPolicy, preemptionPolicies, p.Child("preemptionPolicy"))...)
	}
	for i, s := range spec.ImagePullSecrets {
		if s.Name == "" {
			errs = append(errs, Required(p.Child("imagePullSecrets").Index(i).Child("name"), ""))
		}
	}
	for i, g := range spec.ReadinessGates {
		for _, msg := range names.IsQualifiedName(string(g.ConditionType)) {
			errs = append(errs, Invalid(p.Child("readinessGates").Index(i).Child("conditionType"), g.ConditionType, msg))
		}
	}
	if sc := spec.SecurityContext; sc != nil {
		sp := p.Child("securityContext")
		errs = append(errs, validateID(sc.RunAsUser, sp.Child("runAsUser"))...)
		errs = append(errs, validateID(sc.RunAsGroup, sp.Child("runAsGroup"))...)
		errs = append(errs, validateID(sc.FSGroup, sp.Child("fsGroup"))...)
	}
	errs = append(errs, validateResourceList(spec.Overhead, p.Child("overhead"))...)
	errs = append(errs, validateTolerations(spec.Tolerations, p.Child("tolerations"))...)
	errs = append(errs, validateAffinity(spec.Affinity, p.Child("affinity"))...)
	errs = append(errs, validateTopologySpread(spec.TopologySpreadConstraints, p.Child("topologySpreadConstraints"))...)
	if spec.RuntimeClassName != nil && *spec.RuntimeClassName == WasmRuntimeClassName {
		errs = append(errs, validateWasmPodSpec(spec, p)...)
	}
	return errs
}

// validateEnum checks that v is one of allowed; empty is Required (Default
// fills these fields).
func validateEnum[T ~string](v T, allowed []T, p Path) ErrorList {
	if v == "" {
		return ErrorList{Required(p, "")}
	}
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return ErrorList{NotSupported(p, v, allowed)}
}

// optionalName checks v with rule when it is set.
func optionalName(v string, rule func(string) []string, p Path) ErrorList {
	if v == "" {
		return nil
	}
	var errs ErrorList
	for _, msg := range rule(v) {
		errs = append(errs, Invalid(p, v, msg))
	}
	return errs
}

func validateID(id *int64, p Path) ErrorList {
	if id != nil && (*id < 0 || *id > 2147483647) {
		return ErrorList{Invalid(p, *id, "must be between 0 and 2147483647, inclusive")}
	}
	return nil
}

func nonNegative(v int64, p Path) ErrorList {
	if v < 0 {
		return ErrorList{Invalid(p, v, "must be greater than or equal to 0")}
	}
	return nil
}

func validateContainers(cs []types.Container, init bool, spec *types.PodSpec, volumes map[string]bool, seen map[string]bool, p Path) ErrorList {
	var errs ErrorList
	for i := range cs {
		c := &cs[i]
		cp := p.Index(i)
		if c.Name == "" {
			errs = append(errs, Required(cp.Child("name"), ""))
		} else {
			errs = append(errs, optionalName(c.Name, names.IsDNS1123Label, cp.Child("name"))...)
			if seen[c.Name] {
				errs = append(errs, Duplicate(cp.Child("name"), c.Name))
			}
			seen[c.Name] = true
		}
		errs = append(errs, validateContainer(c, init, spec, volumes, cp)...)
	}
	return errs
}

func validateContainer(c *types.Container, init bool, spec *types.PodSpec, volumes map[string]bool, p Path) ErrorList {
	var errs ErrorList
	switch {
	case c.Image == "":
		errs = append(errs, Required(p.Child("image"), ""))
	case strings.TrimSpace(c.Image) != c.Image:
		errs = append(errs, Invalid(p.Child("image"), c.Image, "must not have leading or trailing whitespace"))
	}
	errs = append(errs, validateEnum(c.ImagePullPolicy, pullPolicies, p.Child("imagePullPolicy"))...)
	errs = append(errs, validateEnum(c.TerminationMessagePolicy, terminationMsgPolicies, p.Child("terminationMessagePolicy"))...)
	errs = append(errs, validateContainerPorts(c.Ports, spec.HostNetwork, p.Child("ports"))...)
	errs = append(errs, validateEnv(c.Env, p.Child("env"))...)
	errs = append(errs, validateEnvFrom(c.EnvFrom, p.Child("envFrom"))...)
	errs = append(errs, validateResources(&c.Resources, p.Child("resources"))...)
	errs = append(errs, validateVolumeMounts(c.VolumeMounts, volumes, p.Child("volumeMounts"))...)
	probes := []struct {
		name  string
		probe *types.Probe
	}{{"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}, {"startupProbe", c.StartupProbe}}
	for _, pr := range probes {
		if pr.probe == nil {
			continue
		}
		if init {
			errs = append(errs, Forbidden(p.Child(pr.name), "may not be set for init containers"))
			continue
		}
		errs = append(errs, validateProbe(pr.probe, pr.name, p.Child(pr.name))...)
	}
	if c.Lifecycle != nil {
		if init {
			errs = append(errs, Forbidden(p.Child("lifecycle"), "may not be set for init containers"))
		} else {
			errs = append(errs, validateLifecycleHandler(c.Lifecycle.PostStart, p.Child("lifecycle", "postStart"))...)
			errs = append(errs, validateLifecycleHandler(c.Lifecycle.PreStop, p.Child("lifecycle", "preStop"))...)
		}
	}
	if sc := c.SecurityContext; sc != nil {
		sp := p.Child("securityContext")
		errs = append(errs, validateID(sc.RunAsUser, sp.Child("runAsUser"))...)
		errs = append(errs, validateID(sc.RunAsGroup, sp.Child("runAsGroup"))...)
		if boolValue(sc.Privileged) && sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
			errs = append(errs, Invalid(sp, "", "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
		}
		if sc.Capabilities != nil {
			for i, c := range sc.Capabilities.Add {
				if c == "" {
					errs = append(errs, Required(sp.Child("capabilities", "add").Index(i), ""))
				}
			}
		}
	}
	if c.StdinOnce && !c.Stdin {
		errs = append(errs, Invalid(p.Child("stdinOnce"), true, "requires `stdin` to be true"))
	}
	return errs
}

func validateContainerPorts(ports []types.ContainerPort, hostNetwork bool, p Path) ErrorList {
	var errs ErrorList
	seen := map[string]bool{}
	for i, port := range ports {
		pp := p.Index(i)
		if port.Name != "" {
			errs = append(errs, optionalName(port.Name, names.IsValidPortName, pp.Child("name"))...)
			if seen[port.Name] {
				errs = append(errs, Duplicate(pp.Child("name"), port.Name))
			}
			seen[port.Name] = true
		}
		if port.ContainerPort == 0 {
			errs = append(errs, Required(pp.Child("containerPort"), ""))
		} else {
			for _, msg := range names.IsValidPortNum(int(port.ContainerPort)) {
				errs = append(errs, Invalid(pp.Child("containerPort"), port.ContainerPort, msg))
			}
		}
		if port.HostPort != 0 {
			for _, msg := range names.IsValidPortNum(int(port.HostPort)) {
				errs = append(errs, Invalid(pp.Child("hostPort"), port.HostPort, msg))
			}
		}
		if hostNetwork && port.HostPort != port.ContainerPort {
			errs = append(errs, Invalid(pp.Child("hostPort"), port.HostPort, "must match `containerPort` when `hostNetwork` is true"))
		}
		errs = append(errs, validateEnum(port.Protocol, protocols, pp.Child("protocol"))...)
		if port.HostIP != "" {
			errs = append(errs, optionalName(port.HostIP, names.IsValidIP, pp.Child("hostIP"))...)
		}
	}
	return errs
}

func validateEnv(env []types.EnvVar, p Path) ErrorList {
	var errs ErrorList
	for i, e := range env {
		ep := p.Index(i)
		if e.Name == "" {
			errs = append(errs, Required(ep.Child("name"), ""))
		} else {
			errs = append(errs, optionalName(e.Name, names.IsEnvVarName, ep.Child("name"))...)
		}
		if e.ValueFrom != nil {
			errs = append(errs, validateEnvVarSource(e.ValueFrom, e.Value, ep.Child("valueFrom"))...)
		}
	}
	return errs
}

func validateEnvVarSource(s *types.EnvVarSource, value string, p Path) ErrorList {
	var errs ErrorList
	n := 0
	if s.FieldRef != nil {
		n++
		errs = append(errs, validateFieldRef(s.FieldRef, envFieldPaths, p.Child("fieldRef"))...)
	}
	if s.ResourceFieldRef != nil {
		n++
		errs = append(errs, validateResourceFieldRef(s.ResourceFieldRef, false, p.Child("resourceFieldRef"))...)
	}
	if s.ConfigMapKeyRef != nil {
		n++
		errs = append(errs, validateKeyRef(s.ConfigMapKeyRef.Name, s.ConfigMapKeyRef.Key, p.Child("configMapKeyRef"))...)
	}
	if s.SecretKeyRef != nil {
		n++
		errs = append(errs, validateKeyRef(s.SecretKeyRef.Name, s.SecretKeyRef.Key, p.Child("secretKeyRef"))...)
	}
	switch {
	case n == 0:
		errs = append(errs, Invalid(p, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
	case n > 1:
		errs = append(errs, Invalid(p, "", "may not have more than one field specified at a time"))
	}
	if value != "" {
		errs = append(errs, Invalid(p, "", "may not be specified when `value` is not empty"))
	}
	return errs
}

func validateFieldRef(f *types.ObjectFieldSelector, supported []string, p Path) ErrorList {
	var errs ErrorList
	if f.APIVersion == "" {
		errs = append(errs, Required(p.Child("apiVersion"), ""))
	} else if f.APIVersion != "v1" {
		errs = append(errs, NotSupported(p.Child("apiVersion"), f.APIVersion, []string{"v1"}))
	}
	if f.FieldPath == "" {
		return append(errs, Required(p.Child("fieldPath"), ""))
	}
	if m := subscriptedFieldPath.FindStringSubmatch(f.FieldPath); m != nil {
		for _, msg := range names.IsQualifiedName(strings.ToLower(m[2])) {
			errs = append(errs, Invalid(p.Child("fieldPath"), f.FieldPath, msg))
		}
		return errs
	}
	for _, s := range supported {
		if f.FieldPath == s {
			return errs
		}
	}
	return append(errs, NotSupported(p.Child("fieldPath"), f.FieldPath, supported))
}

func validateResourceFieldRef(r *types.ResourceFieldSelector, needContainer bool, p Path) ErrorList {
	var errs ErrorList
	if needContainer && r.ContainerName == "" {
		errs = append(errs, Required(p.Child("containerName"), ""))
	}
	if r.Resource == "" {
		errs = append(errs, Required(p.Child("resource"), ""))
	} else {
		supported := false
		for _, s := range resourceFieldResources {
			supported = supported || s == r.Resource
		}
		if !supported {
			errs = append(errs, NotSupported(p.Child("resource"), r.Resource, resourceFieldResources))
		}
	}
	if r.Divisor != nil && r.Divisor.Sign() <= 0 {
		errs = append(errs, Invalid(p.Child("divisor"), r.Divisor.String(), "must be greater than 0"))
	}
	return errs
}

func validateKeyRef(name, key string, p Path) ErrorList {
	var errs ErrorList
	if name == "" {
		errs = append(errs, Required(p.Child("name"), ""))
	}
	if key == "" {
		errs = append(errs, Required(p.Child("key"), ""))
	} else {
		errs = append(errs, optionalName(key, names.IsConfigMapKey, p.Child("key"))...)
	}
	return errs
}

func validateEnvFrom(envFrom []types.EnvFromSource, p Path) ErrorList {
	var errs ErrorList
	for i, e := range envFrom {
		ep := p.Index(i)
		if e.Prefix != "" {
			errs = append(errs, optionalName(e.Prefix, names.IsEnvVarName, ep.Child("prefix"))...)
		}
		n := 0
		if e.ConfigMapRef != nil {
			n++
			if e.ConfigMapRef.Name == "" {
				errs = append(errs, Required(ep.Child("configMapRef", "name"), ""))
			}
		}
		if e.SecretRef != nil {
			n++
			if e.SecretRef.Name == "" {
				errs = append(errs, Required(ep.Child("secretRef", "name"), ""))
			}
		}
		switch {
		case n == 0:
			errs = append(errs, Invalid(ep, "", "must specify one of: `configMapRef` or `secretRef`"))
		case n > 1:
			errs = append(errs, Invalid(ep, "", "may not have more than one field specified at a time"))
		}
	}
	return errs
}

// validateResourceName checks a container resource name: cpu, memory,
// ephemeral-storage, hugepages-<size>, or a domain-qualified extended
// resource such as example.com/gpu.
func validateResourceName(name types.ResourceName, p Path) ErrorList {
	n := string(name)
	if strings.Contains(n, "/") {
		return optionalName(n, names.IsQualifiedName, p)
	}
	switch {
	case n == "cpu", n == "memory", n == "ephemeral-storage", strings.HasPrefix(n, "hugepages-"):
		return nil
	}
	return ErrorList{Invalid(p, n, "must be a standard resource for containers (cpu, memory, ephemeral-storage, hugepages-<size>) or a domain-qualified extended resource (example.com/name)")}
}

func validateResourceList(rl types.ResourceList, p Path) ErrorList {
	var errs ErrorList
	for _, k := range sortedKeys(rl) {
		q := rl[types.ResourceName(k)]
		kp := p.Key(k)
		errs = append(errs, validateResourceName(types.ResourceName(k), kp)...)
		if q.Sign() < 0 {
			errs = append(errs, Invalid(kp, q.String(), "must be greater than or equal to 0"))
		}
	}
	return errs
}

func validateResources(r *types.ResourceRequirements, p Path) ErrorList {
	errs := validateResourceList(r.Limits, p.Child("limits"))
	errs = append(errs, validateResourceList(r.Requests, p.Child("requests"))...)
	for _, k := range sortedKeys(r.Requests) {
		req := r.Requests[types.ResourceName(k)]
		lim, ok := r.Limits[types.ResourceName(k)]
		if ok && req.Cmp(lim) > 0 {
			errs = append(errs, Invalid(p.Child("requests").Key(k), req.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", k, lim.String())))
		}
	}
	return errs
}

func validateVolumeMounts(mounts []types.VolumeMount, volumes map[string]bool, p Path) ErrorList {
	var errs ErrorList
	paths := map[string]bool{}
	for i, m := range mounts {
		mp := p.Index(i)
		switch {
		case m.Name == "":
			errs = append(errs, Required(mp.Child("name"), ""))
		case !volumes[m.Name]:
			errs = append(errs, NotFound(mp.Child("name"), m.Name))
		}
		if m.MountPath == "" {
			errs = append(errs, Required(mp.Child("mountPath"), ""))
		} else {
			if paths[m.MountPath] {
				errs = append(errs, Invalid(mp.Child("mountPath"), m.MountPath, "must be unique"))
			}
			paths[m.MountPath] = true
		}
		if m.SubPath != "" {
			errs = append(errs, validateRelativePath(m.SubPath, mp.Child("subPath"))...)
		}
	}
	return errs
}

// validateRelativePath checks a path that must stay below its base: not
// absolute and without a ".." element.
func validateRelativePath(s string, p Path) ErrorList {
	var errs ErrorList
	if path.IsAbs(s) {
		errs = append(errs, Invalid(p, s, "must be a relative path"))
	}
	for _, part := range strings.Split(s, "/") {
		if part == ".." {
			errs = append(errs, Invalid(p, s, "must not contain '..'"))
			break
		}
	}
	return errs
}

func validateProbe(pr *types.Probe, kind string, p Path) ErrorList {
	errs := validateHandler(pr.Exec, pr.HTTPGet, pr.TCPSocket, p)
	errs = append(errs, nonNegative(int64(pr.InitialDelaySeconds), p.Child("initialDelaySeconds"))...)
	errs = append(errs, nonNegative(int64(pr.TimeoutSeconds), p.Child("timeoutSeconds"))...)
	errs = append(errs, nonNegative(int64(pr.PeriodSeconds), p.Child("periodSeconds"))...)
	errs = append(errs, nonNegative(int64(pr.SuccessThreshold), p.Child("successThreshold"))...)
	errs = append(errs, nonNegative(int64(pr.FailureThreshold), p.Child("failureThreshold"))...)
	if kind != "readinessProbe" && pr.SuccessThreshold != 1 {
		errs = append(errs, Invalid(p.Child("successThreshold"), pr.SuccessThreshold, "must be 1"))
	}
	if pr.TerminationGracePeriodSeconds != nil {
		switch {
		case kind == "readinessProbe":
			errs = append(errs, Invalid(p.Child("terminationGracePeriodSeconds"), *pr.TerminationGracePeriodSeconds, "must not be set for readinessProbes"))
		case *pr.TerminationGracePeriodSeconds <= 0:
			errs = append(errs, Invalid(p.Child("terminationGracePeriodSeconds"), *pr.TerminationGracePeriodSeconds, "must be greater than 0"))
		}
	}
	return errs
}

func validateLifecycleHandler(h *types.LifecycleHandler, p Path) ErrorList {
	if h == nil {
		return nil
	}
	return validateHandler(h.Exec, h.HTTPGet, nil, p)
}

// validateHandler checks that exactly one action is set, and that action.
func validateHandler(exec *types.ExecAction, get *types.HTTPGetAction, tcp *types.TCPSocketAction, p Path) ErrorList {
	var errs ErrorList
	n := 0
	if exec != nil {
		n++
		if len(exec.Command) == 0 {
			errs = append(errs, Required(p.Child("exec", "command"), ""))
		}
	}
	if get != nil {
		n++
		if n > 1 {
			errs = append(errs, Forbidden(p.Child("httpGet"), "may not specify more than 1 handler type"))
		}
		gp := p.Child("httpGet")
		errs = append(errs, validatePortNumOrName(get.Port, gp.Child("port"))...)
		errs = append(errs, validateEnum(get.Scheme, uriSchemes, gp.Child("scheme"))...)
		for i, h := range get.HTTPHeaders {
			if !httpHeaderName.MatchString(h.Name) {
				errs = append(errs, Invalid(gp.Child("httpHeaders").Index(i).Child("name"), h.Name, "a valid HTTP header must consist of alphanumeric characters, '-', '_' or '.'"))
			}
		}
	}
	if tcp != nil {
		n++
		if n > 1 {
			errs = append(errs, Forbidden(p.Child("tcpSocket"), "may not specify more than 1 handler type"))
		}
		errs = append(errs, validatePortNumOrName(tcp.Port, p.Child("tcpSocket", "port"))...)
	}
	if n == 0 {
		errs = append(errs, Required(p, "must specify a handler type"))
	}
	return errs
}

func validatePortNumOrName(port types.IntOrString, p Path) ErrorList {
	var errs ErrorList
	if port.Type == types.Int {
		for _, msg := range names.IsValidPortNum(int(port.IntVal)) {
			errs = append(errs, Invalid(p, port.IntVal, msg))
		}
		return errs
	}
	if port.StrVal == "" {
		return ErrorList{Required(p, "")}
	}
	return optionalName(port.StrVal, names.IsValidPortName, p)
}

func validateFileMode(mode *int32, p Path) ErrorList {
	if mode != nil && (*mode < 0 || *mode > 0o777) {
		return ErrorList{Invalid(p, *mode, "must be a number between 0 and 0777 (octal), both inclusive")}
	}
	return nil
}

func validateKeyToPaths(items []types.KeyToPath, p Path) ErrorList {
	var errs ErrorList
	for i, it := range items {
		ip := p.Index(i)
		if it.Key == "" {
			errs = append(errs, Required(ip.Child("key"), ""))
		}
		if it.Path == "" {
			errs = append(errs, Required(ip.Child("path"), ""))
		} else {
			errs = append(errs, validateRelativePath(it.Path, ip.Child("path"))...)
		}
		errs = append(errs, validateFileMode(it.Mode, ip.Child("mode"))...)
	}
	return errs
}

func validateDownwardAPIFiles(items []types.DownwardAPIVolumeFile, p Path) ErrorList {
	var errs ErrorList
	for i, it := range items {
		ip := p.Index(i)
		if it.Path == "" {
			errs = append(errs, Required(ip.Child("path"), ""))
		} else {
			errs = append(errs, validateRelativePath(it.Path, ip.Child("path"))...)
		}
		errs = append(errs, validateFileMode(it.Mode, ip.Child("mode"))...)
		switch {
		case it.FieldRef != nil && it.ResourceFieldRef != nil:
			errs = append(errs, Invalid(ip, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"))
		case it.FieldRef != nil:
			errs = append(errs, validateFieldRef(it.FieldRef, downwardVolumeFieldPaths, ip.Child("fieldRef"))...)
		case it.ResourceFieldRef != nil:
			errs = append(errs, validateResourceFieldRef(it.ResourceFieldRef, true, ip.Child("resourceFieldRef"))...)
		default:
			errs = append(errs, Required(ip, "one of fieldRef and resourceFieldRef is required"))
		}
	}
	return errs
}

// validateVolumes checks the volumes and returns the set of their names.
func validateVolumes(volumes []types.Volume, p Path) (map[string]bool, ErrorList) {
	var errs ErrorList
	declared := map[string]bool{}
	for i := range volumes {
		v := &volumes[i]
		vp := p.Index(i)
		if v.Name == "" {
			errs = append(errs, Required(vp.Child("name"), ""))
		} else {
			errs = append(errs, optionalName(v.Name, names.IsDNS1123Label, vp.Child("name"))...)
			if declared[v.Name] {
				errs = append(errs, Duplicate(vp.Child("name"), v.Name))
			}
			declared[v.Name] = true
		}
		errs = append(errs, validateVolumeSource(&v.VolumeSource, vp)...)
	}
	return declared, errs
}

func validateVolumeSource(s *types.VolumeSource, p Path) ErrorList {
	var errs ErrorList
	n := 0
	more := func(name string) {
		n++
		if n > 1 {
			errs = append(errs, Forbidden(p.Child(name), "may not specify more than 1 volume type"))
		}
	}
	if s.HostPath != nil {
		more("hostPath")
		hp := p.Child("hostPath")
		if s.HostPath.Path == "" {
			errs = append(errs, Required(hp.Child("path"), ""))
		} else if !path.IsAbs(s.HostPath.Path) {
			errs = append(errs, Invalid(hp.Child("path"), s.HostPath.Path, "must be an absolute path"))
		}
		if s.HostPath.Type != nil && *s.HostPath.Type != types.HostPathUnset {
			errs = append(errs, validateEnum(*s.HostPath.Type, hostPathTypes, hp.Child("type"))...)
		}
	}
	if s.EmptyDir != nil {
		more("emptyDir")
		ep := p.Child("emptyDir")
		if s.EmptyDir.Medium != types.StorageMediumDefault {
			errs = append(errs, validateEnum(s.EmptyDir.Medium, storageMedia, ep.Child("medium"))...)
		}
		if q := s.EmptyDir.SizeLimit; q != nil && q.Sign() < 0 {
			errs = append(errs, Invalid(ep.Child("sizeLimit"), q.String(), "must be greater than or equal to 0"))
		}
	}
	if s.Secret != nil {
		more("secret")
		sp := p.Child("secret")
		if s.Secret.SecretName == "" {
			errs = append(errs, Required(sp.Child("secretName"), ""))
		}
		errs = append(errs, validateKeyToPaths(s.Secret.Items, sp.Child("items"))...)
		errs = append(errs, validateFileMode(s.Secret.DefaultMode, sp.Child("defaultMode"))...)
	}
	if s.ConfigMap != nil {
		more("configMap")
		cp := p.Child("configMap")
		if s.ConfigMap.Name == "" {
			errs = append(errs, Required(cp.Child("name"), ""))
		}
		errs = append(errs, validateKeyToPaths(s.ConfigMap.Items, cp.Child("items"))...)
		errs = append(errs, validateFileMode(s.ConfigMap.DefaultMode, cp.Child("defaultMode"))...)
	}
	if s.DownwardAPI != nil {
		more("downwardAPI")
		dp := p.Child("downwardAPI")
		errs = append(errs, validateDownwardAPIFiles(s.DownwardAPI.Items, dp.Child("items"))...)
		errs = append(errs, validateFileMode(s.DownwardAPI.DefaultMode, dp.Child("defaultMode"))...)
	}
	if s.Projected != nil {
		more("projected")
		errs = append(errs, validateProjected(s.Projected, p.Child("projected"))...)
	}
	if n == 0 {
		errs = append(errs, Required(p, "must specify a volume type (Wharf supports emptyDir, hostPath, configMap, secret, downwardAPI and projected)"))
	}
	return errs
}

func validateProjected(pv *types.ProjectedVolumeSource, p Path) ErrorList {
	errs := validateFileMode(pv.DefaultMode, p.Child("defaultMode"))
	for i, src := range pv.Sources {
		sp := p.Child("sources").Index(i)
		n := 0
		if src.Secret != nil {
			n++
			if src.Secret.Name == "" {
				errs = append(errs, Required(sp.Child("secret", "name"), ""))
			}
			errs = append(errs, validateKeyToPaths(src.Secret.Items, sp.Child("secret", "items"))...)
		}
		if src.ConfigMap != nil {
			n++
			if src.ConfigMap.Name == "" {
				errs = append(errs, Required(sp.Child("configMap", "name"), ""))
			}
			errs = append(errs, validateKeyToPaths(src.ConfigMap.Items, sp.Child("configMap", "items"))...)
		}
		if src.DownwardAPI != nil {
			n++
			errs = append(errs, validateDownwardAPIFiles(src.DownwardAPI.Items, sp.Child("downwardAPI", "items"))...)
		}
		switch {
		case n == 0:
			errs = append(errs, Required(sp, "must specify one of: secret, configMap or downwardAPI"))
		case n > 1:
			errs = append(errs, Forbidden(sp, "may not specify more than 1 projection type"))
		}
	}
	return errs
}

func validateTolerations(ts []types.Toleration, p Path) ErrorList {
	var errs ErrorList
	for i, t := range ts {
		tp := p.Index(i)
		if t.Key != "" {
			errs = append(errs, optionalName(t.Key, names.IsQualifiedName, tp.Child("key"))...)
		} else if t.Operator != types.TolerationOpExists {
			errs = append(errs, Invalid(tp.Child("operator"), t.Operator, "operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
		}
		switch t.Operator {
		case types.TolerationOpEqual, "":
			errs = append(errs, optionalName(t.Value, names.IsValidLabelValue, tp.Child("value"))...)
		case types.TolerationOpExists:
			if t.Value != "" {
				errs = append(errs, Invalid(tp.Child("operator"), t.Value, "value must be empty when `operator` is 'Exists'"))
			}
		default:
			errs = append(errs, NotSupported(tp.Child("operator"), t.Operator, tolerationOperators))
		}
		if t.Effect != "" {
			errs = append(errs, validateEnum(t.Effect, taintEffects, tp.Child("effect"))...)
		}
		if t.TolerationSeconds != nil && t.Effect != types.TaintEffectNoExecute {
			errs = append(errs, Invalid(tp.Child("effect"), t.Effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
		}
	}
	return errs
}

func validateAffinity(a *types.Affinity, p Path) ErrorList {
	if a == nil {
		return nil
	}
	var errs ErrorList
	if na := a.NodeAffinity; na != nil {
		np := p.Child("nodeAffinity")
		if req := na.RequiredDuringSchedulingIgnoredDuringExecution; req != nil {
			rp := np.Child("requiredDuringSchedulingIgnoredDuringExecution")
			if len(req.NodeSelectorTerms) == 0 {
				errs = append(errs, Required(rp.Child("nodeSelectorTerms"), "must have at least one node selector term"))
			}
			for i, term := range req.NodeSelectorTerms {
				errs = append(errs, validateNodeSelectorTerm(term, rp.Child("nodeSelectorTerms").Index(i))...)
			}
		}
		for i, pref := range na.PreferredDuringSchedulingIgnoredDuringExecution {
			pp := np.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i)
			errs = append(errs, validateWeight(pref.Weight, pp.Child("weight"))...)
			errs = append(errs, validateNodeSelectorTerm(pref.Preference, pp.Child("preference"))...)
		}
	}
	if pa := a.PodAffinity; pa != nil {
		errs = append(errs, validatePodAffinityTerms(pa.RequiredDuringSchedulingIgnoredDuringExecution, pa.PreferredDuringSchedulingIgnoredDuringExecution, p.Child("podAffinity"))...)
	}
	if pa := a.PodAntiAffinity; pa != nil {
		errs = append(errs, validatePodAffinityTerms(pa.RequiredDuringSchedulingIgnoredDuringExecution, pa.PreferredDuringSchedulingIgnoredDuringExecution, p.Child("podAntiAffinity"))...)
	}
	return errs
}

func validateWeight(w int32, p Path) ErrorList {
	if w < 1 || w > 100 {
		return ErrorList{Invalid(p, w, "must be in the range 1-100")}
	}
	return nil
}

func validateNodeSelectorTerm(term types.NodeSelectorTerm, p Path) ErrorList {
	var errs ErrorList
	for i, r := range term.MatchExpressions {
		rp := p.Child("matchExpressions").Index(i)
		errs = append(errs, optionalName(r.Key, names.IsQualifiedName, rp.Child("key"))...)
		if r.Key == "" {
			errs = append(errs, Required(rp.Child("key"), ""))
		}
		errs = append(errs, validateNodeSelectorOperator(r, rp)...)
	}
	for i, r := range term.MatchFields {
		rp := p.Child("matchFields").Index(i)
		if r.Key != "metadata.name" {
			errs = append(errs, NotSupported(rp.Child("key"), r.Key, []string{"metadata.name"}))
		}
		if r.Operator != types.NodeSelectorOpIn && r.Operator != types.NodeSelectorOpNotIn {
			errs = append(errs, NotSupported(rp.Child("operator"), r.Operator, []types.NodeSelectorOperator{types.NodeSelectorOpIn, types.NodeSelectorOpNotIn}))
		} else if len(r.Values) != 1 {
			errs = append(errs, Required(rp.Child("values"), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"))
		}
	}
	return errs
}

func validateNodeSelectorOperator(r types.NodeSelectorRequirement, p Path) ErrorList {
	var errs ErrorList
	switch r.Operator {
	case types.NodeSelectorOpIn, types.NodeSelectorOpNotIn:
		if len(r.Values) == 0 {
			errs = append(errs, Required(p.Child("values"), "must be specified when `operator` is 'In' or 'NotIn'"))
		}
		for j, v := range r.Values {
			errs = append(errs, optionalName(v, names.IsValidLabelValue, p.Child("values").Index(j))...)
		}
	case types.NodeSelectorOpExists, types.NodeSelectorOpDoesNotExist:
		if len(r.Values) > 0 {
			errs = append(errs, Forbidden(p.Child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
		}
	case types.NodeSelectorOpGt, types.NodeSelectorOpLt:
		if len(r.Values) != 1 {
			errs = append(errs, Required(p.Child("values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"))
		} else if _, err := strconv.ParseInt(r.Values[0], 10, 64); err != nil {
			errs = append(errs, Invalid(p.Child("values").Index(0), r.Values[0], "must be an integer when `operator` is 'Lt' or 'Gt'"))
		}
	default:
		errs = append(errs, NotSupported(p.Child("operator"), r.Operator, nodeSelectorOperators))
	}
	return errs
}

func validatePodAffinityTerms(required []types.PodAffinityTerm, preferred []types.WeightedPodAffinityTerm, p Path) ErrorList {
	var errs ErrorList
	for i, t := range required {
		errs = append(errs, validatePodAffinityTerm(t, p.Child("requiredDuringSchedulingIgnoredDuringExecution").Index(i))...)
	}
	for i, w := range preferred {
		wp := p.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i)
		errs = append(errs, validateWeight(w.Weight, wp.Child("weight"))...)
		errs = append(errs, validatePodAffinityTerm(w.PodAffinityTerm, wp.Child("podAffinityTerm"))...)
	}
	return errs
}

func validatePodAffinityTerm(t types.PodAffinityTerm, p Path) ErrorList {
	var errs ErrorList
	if t.TopologyKey == "" {
		errs = append(errs, Required(p.Child("topologyKey"), "can not be empty"))
	} else {
		errs = append(errs, optionalName(t.TopologyKey, names.IsQualifiedName, p.Child("topologyKey"))...)
	}
	errs = append(errs, validateLabelSelector(t.LabelSelector, p.Child("labelSelector"))...)
	errs = append(errs, validateLabelSelector(t.NamespaceSelector, p.Child("namespaceSelector"))...)
	for i, ns := range t.Namespaces {
		errs = append(errs, optionalName(ns, names.IsDNS1123Label, p.Child("namespaces").Index(i))...)
	}
	return errs
}

// validateLabelSelector checks a structured selector (nil is allowed; the
// caller requires it where it must be set).
func validateLabelSelector(ls *types.LabelSelector, p Path) ErrorList {
	if ls == nil {
		return nil
	}
	errs := validateLabels(ls.MatchLabels, p.Child("matchLabels"))
	for i, e := range ls.MatchExpressions {
		ep := p.Child("matchExpressions").Index(i)
		if e.Key == "" {
			errs = append(errs, Required(ep.Child("key"), ""))
		} else {
			errs = append(errs, optionalName(e.Key, names.IsQualifiedName, ep.Child("key"))...)
		}
		switch e.Operator {
		case types.LabelSelectorOpIn, types.LabelSelectorOpNotIn:
			if len(e.Values) == 0 {
				errs = append(errs, Required(ep.Child("values"), "must be specified when `operator` is 'In' or 'NotIn'"))
			}
		case types.LabelSelectorOpExists, types.LabelSelectorOpDoesNotExist:
			if len(e.Values) > 0 {
				errs = append(errs, Forbidden(ep.Child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
			}
		default:
			errs = append(errs, NotSupported(ep.Child("operator"), e.Operator, []types.LabelSelectorOperator{types.LabelSelectorOpIn, types.LabelSelectorOpNotIn, types.LabelSelectorOpExists, types.LabelSelectorOpDoesNotExist}))
		}
		for j, v := range e.Values {
			errs = append(errs, optionalName(v, names.IsValidLabelValue, ep.Child("values").Index(j))...)
		}
	}
	return errs
}

func validateTopologySpread(cs []types.TopologySpreadConstraint, p Path) ErrorList {
	var errs ErrorList
	seen := map[string]bool{}
	for i, c := range cs {
		cp := p.Index(i)
		if c.MaxSkew <= 0 {
			errs = append(errs, Invalid(cp.Child("maxSkew"), c.MaxSkew, "must be greater than zero"))
		}
		if c.TopologyKey == "" {
			errs = append(errs, Required(cp.Child("topologyKey"), "can not be empty"))
		} else {
			errs = append(errs, optionalName(c.TopologyKey, names.IsQualifiedName, cp.Child("topologyKey"))...)
		}
		errs = append(errs, validateEnum(c.WhenUnsatisfiable, unsatisfiableActions, cp.Child("whenUnsatisfiable"))...)
		key := c.TopologyKey + "\x00" + string(c.WhenUnsatisfiable)
		if seen[key] {
			errs = append(errs, Duplicate(cp, fmt.Sprintf("{%v, %v}", c.TopologyKey, c.WhenUnsatisfiable)))
		}
		seen[key] = true
		if c.MinDomains != nil {
			if *c.MinDomains <= 0 {
				errs = append(errs, Invalid(cp.Child("minDomains"), *c.MinDomains, "must be greater than 0"))
			}
			if c.WhenUnsatisfiable != types.DoNotSchedule {
				errs = append(errs, Invalid(cp.Child("minDomains"), *c.MinDomains, "can only use minDomains if whenUnsatisfiable=DoNotSchedule"))
			}
		}
		if c.NodeAffinityPolicy != nil {
			errs = append(errs, validateEnum(*c.NodeAffinityPolicy, nodeInclusionPolicies, cp.Child("nodeAffinityPolicy"))...)
		}
		if c.NodeTaintsPolicy != nil {
			errs = append(errs, validateEnum(*c.NodeTaintsPolicy, nodeInclusionPolicies, cp.Child("nodeTaintsPolicy"))...)
		}
		errs = append(errs, validateLabelSelector(c.LabelSelector, cp.Child("labelSelector"))...)
		for j, k := range c.MatchLabelKeys {
			errs = append(errs, optionalName(k, names.IsQualifiedName, cp.Child("matchLabelKeys").Index(j))...)
		}
	}
	return errs
}

// validateWasmPodSpec rejects what a WebAssembly module cannot honour. A
// module is not a process tree in a namespace: it has no shell or second
// process to exec into, listens on no socket of its own (HTTP functions are
// reached through the agent's gateway), has no Linux privileges or
// capabilities to grant, no host network namespace to join, and no stdin.
// So exec probes and exec lifecycle hooks, tcpSocket probes, hostPort,
// hostNetwork, privileged, capabilities.add, stdin and tty are refused.
// Allowed and meaningful: httpGet probes (answered by the module's HTTP
// handler), containerPort (the port a Service targets at the gateway),
// env, args, resources, volumes (WASI preopened directories).
// capabilities.drop and runAs* are accepted and have no effect: there is
// nothing to drop or switch. Pods using a RuntimeClass object named other
// than "wasm" whose handler is wasm are not checked here (that needs the
// store); the agent reports the same problems when it runs them.
func validateWasmPodSpec(spec *types.PodSpec, p Path) ErrorList {
	const why = "not supported for runtimeClassName wasm: "
	var errs ErrorList
	if spec.HostNetwork {
		errs = append(errs, Forbidden(p.Child("hostNetwork"), why+"a Wasm module has no network namespace to share with the host"))
	}
	check := func(cs []types.Container, cp Path) {
		for i := range cs {
			c := &cs[i]
			ip := cp.Index(i)
			for _, pr := range []struct {
				name  string
				probe *types.Probe
			}{{"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}, {"startupProbe", c.StartupProbe}} {
				if pr.probe == nil {
					continue
				}
				if pr.probe.Exec != nil {
					errs = append(errs, Forbidden(ip.Child(pr.name, "exec"), why+"a Wasm module has no commands to exec; use an httpGet probe"))
				}
				if pr.probe.TCPSocket != nil {
					errs = append(errs, Forbidden(ip.Child(pr.name, "tcpSocket"), why+"a Wasm module listens on no socket; use an httpGet probe"))
				}
			}
			if lc := c.Lifecycle; lc != nil {
				if lc.PostStart != nil && lc.PostStart.Exec != nil {
					errs = append(errs, Forbidden(ip.Child("lifecycle", "postStart", "exec"), why+"a Wasm module has no commands to exec"))
				}
				if lc.PreStop != nil && lc.PreStop.Exec != nil {
					errs = append(errs, Forbidden(ip.Child("lifecycle", "preStop", "exec"), why+"a Wasm module has no commands to exec"))
				}
			}
			for j, port := range c.Ports {
				if port.HostPort != 0 {
					errs = append(errs, Forbidden(ip.Child("ports").Index(j).Child("hostPort"), why+"a Wasm module binds no host port; expose it with a Service"))
				}
			}
			if sc := c.SecurityContext; sc != nil {
				if boolValue(sc.Privileged) {
					errs = append(errs, Forbidden(ip.Child("securityContext", "privileged"), why+"a Wasm module has no Linux privileges to grant"))
				}
				if sc.Capabilities != nil && len(sc.Capabilities.Add) > 0 {
					errs = append(errs, Forbidden(ip.Child("securityContext", "capabilities", "add"), why+"a Wasm module has no Linux capabilities to grant"))
				}
			}
			if c.Stdin {
				errs = append(errs, Forbidden(ip.Child("stdin"), why+"a Wasm module gets no stdin"))
			}
			if c.TTY {
				errs = append(errs, Forbidden(ip.Child("tty"), why+"a Wasm module gets no terminal"))
			}
		}
	}
	check(spec.InitContainers, p.Child("initContainers"))
	check(spec.Containers, p.Child("containers"))
	return errs
}

// selectorFor converts a workload's selector for matching; invalid ones
// were reported by validateLabelSelector, so errors here are ignored.
func selectorFor(ls *types.LabelSelector) (labels.Selector, bool) {
	sel, err := labels.FromLabelSelector(ls)
	return sel, err == nil
}
