package validation

import (
	"encoding/json"
	"fmt"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/api/validation/names"
)

// MaxDataSize is the most bytes a ConfigMap's or Secret's data may hold,
// as in Kubernetes (objects must fit in one store value).
const MaxDataSize = 1 << 20

var (
	serviceTypes      = []types.ServiceType{types.ServiceTypeClusterIP, types.ServiceTypeNodePort, types.ServiceTypeLoadBalancer, types.ServiceTypeExternalName}
	serviceAffinities = []types.ServiceAffinity{types.ServiceAffinityClientIP, types.ServiceAffinityNone}
	trafficPolicies   = []types.ServiceTrafficPolicy{types.ServiceTrafficPolicyCluster, types.ServiceTrafficPolicyLocal}
	ipFamilies        = []types.IPFamily{types.IPv4Protocol, types.IPv6Protocol}
	ipFamilyPolicies  = []types.IPFamilyPolicy{types.IPFamilyPolicySingleStack, types.IPFamilyPolicyPreferDualStack, types.IPFamilyPolicyRequireDualStack}
	eventTypes        = []string{types.EventTypeNormal, types.EventTypeWarning}
)

func validateConfigMap(c *types.ConfigMap) ErrorList {
	var errs ErrorList
	size := 0
	for _, k := range sortedKeys(c.Data) {
		errs = append(errs, optionalName(k, names.IsConfigMapKey, NewPath("data").Key(k))...)
		size += len(k) + len(c.Data[k])
	}
	for _, k := range sortedKeys(c.BinaryData) {
		errs = append(errs, optionalName(k, names.IsConfigMapKey, NewPath("binaryData").Key(k))...)
		if _, dup := c.Data[k]; dup {
			errs = append(errs, Invalid(NewPath("binaryData").Key(k), k, "duplicate of key present in data"))
		}
		size += len(k) + len(c.BinaryData[k])
	}
	if size > MaxDataSize {
		errs = append(errs, TooLong(NewPath("data"), MaxDataSize))
	}
	return errs
}

func validateSecret(s *types.Secret) ErrorList {
	var errs ErrorList
	dp := NewPath("data")
	size := 0
	for _, k := range sortedKeys(s.Data) {
		errs = append(errs, optionalName(k, names.IsConfigMapKey, dp.Key(k))...)
		size += len(s.Data[k])
	}
	for _, k := range sortedKeys(s.StringData) {
		errs = append(errs, optionalName(k, names.IsConfigMapKey, NewPath("stringData").Key(k))...)
		size += len(s.StringData[k])
	}
	if size > MaxDataSize {
		errs = append(errs, TooLong(dp, MaxDataSize))
	}
	has := func(k string) bool {
		if _, ok := s.Data[k]; ok {
			return true
		}
		_, ok := s.StringData[k]
		return ok
	}
	require := func(keys ...string) {
		for _, k := range keys {
			if !has(k) {
				errs = append(errs, Required(dp.Key(k), ""))
			}
		}
	}
	switch s.Type {
	case "":
		errs = append(errs, Required(NewPath("type"), ""))
	case types.SecretTypeTLS:
		require("tls.crt", "tls.key")
	case types.SecretTypeDockerConfigJSON:
		require(".dockerconfigjson")
		if b, ok := s.Data[".dockerconfigjson"]; ok && !json.Valid(b) {
			errs = append(errs, Invalid(dp.Key(".dockerconfigjson"), "<secret contents redacted>", "must be valid JSON"))
		}
	case types.SecretTypeDockercfg:
		require(".dockercfg")
	case types.SecretTypeSSHAuth:
		require("ssh-privatekey")
	case types.SecretTypeBasicAuth:
		if !has("username") && !has("password") {
			errs = append(errs, Required(dp.Key("username"), "a basic-auth Secret needs username or password"))
		}
	case types.SecretTypeServiceAccountToken:
		if s.Annotations["kubernetes.io/service-account.name"] == "" {
			errs = append(errs, Required(metadataPath.Child("annotations").Key("kubernetes.io/service-account.name"), ""))
		}
	}
	return errs
}

// validateImmutableData is the update rule of ConfigMaps and Secrets with
// immutable: true: their data and the flag itself stay as they are.
func validateImmutableData(immutableNow, immutableOld *bool, dataEqual bool) ErrorList {
	if !boolValue(immutableOld) {
		return nil
	}
	var errs ErrorList
	if !boolValue(immutableNow) {
		errs = append(errs, Forbidden(NewPath("immutable"), "field is immutable when `immutable` is set"))
	}
	if !dataEqual {
		errs = append(errs, Forbidden(NewPath("data"), "field is immutable when `immutable` is set"))
	}
	return errs
}

func validateService(s *types.Service) ErrorList {
	sp := &s.Spec
	p := NewPath("spec")
	errs := validateEnum(sp.Type, serviceTypes, p.Child("type"))
	errs = append(errs, validateEnum(sp.SessionAffinity, serviceAffinities, p.Child("sessionAffinity"))...)
	headless := sp.ClusterIP == types.ClusterIPNone
	if sp.Type == types.ServiceTypeExternalName {
		if sp.ExternalName == "" {
			errs = append(errs, Required(p.Child("externalName"), ""))
		} else {
			errs = append(errs, optionalName(sp.ExternalName, names.IsDNS1123Subdomain, p.Child("externalName"))...)
		}
		if sp.ClusterIP != "" {
			errs = append(errs, Forbidden(p.Child("clusterIP"), "may not be set for ExternalName services"))
		}
	} else if len(sp.Ports) == 0 && !headless {
		errs = append(errs, Required(p.Child("ports"), ""))
	}
	if sp.ClusterIP != "" && !headless {
		errs = append(errs, optionalName(sp.ClusterIP, names.IsValidIP, p.Child("clusterIP"))...)
	}
	for i, ip := range sp.ClusterIPs {
		if i == 0 && sp.ClusterIP != "" && ip != sp.ClusterIP {
			errs = append(errs, Invalid(p.Child("clusterIPs").Index(0), ip, "must match `clusterIP` when both are set"))
		}
		if ip != types.ClusterIPNone {
			errs = append(errs, optionalName(ip, names.IsValidIP, p.Child("clusterIPs").Index(i))...)
		}
	}
	for i, ip := range sp.ExternalIPs {
		errs = append(errs, optionalName(ip, names.IsValidIP, p.Child("externalIPs").Index(i))...)
	}
	portNames := map[string]bool{}
	portKeys := map[string]bool{}
	nodePorts := sp.Type == types.ServiceTypeNodePort || sp.Type == types.ServiceTypeLoadBalancer
	for i, port := range sp.Ports {
		pp := p.Child("ports").Index(i)
		if len(sp.Ports) > 1 && port.Name == "" {
			errs = append(errs, Required(pp.Child("name"), "a name is required when a Service has several ports"))
		}
		if port.Name != "" {
			errs = append(errs, optionalName(port.Name, names.IsDNS1123Label, pp.Child("name"))...)
			if portNames[port.Name] {
				errs = append(errs, Duplicate(pp.Child("name"), port.Name))
			}
			portNames[port.Name] = true
		}
		for _, msg := range names.IsValidPortNum(int(port.Port)) {
			errs = append(errs, Invalid(pp.Child("port"), port.Port, msg))
		}
		errs = append(errs, validateEnum(port.Protocol, protocols, pp.Child("protocol"))...)
		key := fmt.Sprintf("%d/%s", port.Port, port.Protocol)
		if portKeys[key] {
			errs = append(errs, Duplicate(pp, key))
		}
		portKeys[key] = true
		if sp.Type != types.ServiceTypeExternalName {
			errs = append(errs, validatePortNumOrName(port.TargetPort, pp.Child("targetPort"))...)
		}
		if port.NodePort != 0 {
			if !nodePorts {
				errs = append(errs, Forbidden(pp.Child("nodePort"), fmt.Sprintf("may not be used when `type` is '%s'", sp.Type)))
			}
			for _, msg := range names.IsValidPortNum(int(port.NodePort)) {
				errs = append(errs, Invalid(pp.Child("nodePort"), port.NodePort, msg))
			}
		}
	}
	errs = append(errs, validateLabels(sp.Selector, p.Child("selector"))...)
	if sp.ExternalTrafficPolicy != "" {
		if !nodePorts {
			errs = append(errs, Invalid(p.Child("externalTrafficPolicy"), sp.ExternalTrafficPolicy, "may only be set when `type` is 'NodePort' or 'LoadBalancer'"))
		} else {
			errs = append(errs, validateEnum(sp.ExternalTrafficPolicy, trafficPolicies, p.Child("externalTrafficPolicy"))...)
		}
	}
	if sp.InternalTrafficPolicy != nil {
		errs = append(errs, validateEnum(*sp.InternalTrafficPolicy, trafficPolicies, p.Child("internalTrafficPolicy"))...)
	}
	for i, f := range sp.IPFamilies {
		errs = append(errs, validateEnum(f, ipFamilies, p.Child("ipFamilies").Index(i))...)
	}
	if sp.IPFamilyPolicy != nil {
		errs = append(errs, validateEnum(*sp.IPFamilyPolicy, ipFamilyPolicies, p.Child("ipFamilyPolicy"))...)
	}
	if c := sp.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
		cp := p.Child("sessionAffinityConfig", "clientIP", "timeoutSeconds")
		switch t := *c.ClientIP.TimeoutSeconds; {
		case sp.SessionAffinity != types.ServiceAffinityClientIP:
			errs = append(errs, Forbidden(cp, "must not be set when `sessionAffinity` is None"))
		case t <= 0 || t > 86400:
			errs = append(errs, Invalid(cp, t, "must be greater than 0 and less than 86400"))
		}
	}
	return errs
}

func validateServiceUpdate(s, old *types.Service) ErrorList {
	if old.Spec.ClusterIP == "" || s.Spec.Type == types.ServiceTypeExternalName || old.Spec.Type == types.ServiceTypeExternalName {
		return nil
	}
	if s.Spec.ClusterIP != old.Spec.ClusterIP {
		return ErrorList{immutable(NewPath("spec", "clusterIP"), s.Spec.ClusterIP)}
	}
	return nil
}

func validateNamespace(n *types.Namespace) ErrorList {
	var errs ErrorList
	for i, f := range n.Spec.Finalizers {
		errs = append(errs, optionalName(string(f), names.IsQualifiedName, NewPath("spec", "finalizers").Index(i))...)
	}
	return errs
}

func validateNode(n *types.Node) ErrorList {
	var errs ErrorList
	p := NewPath("spec", "taints")
	seen := map[string]bool{}
	for i, t := range n.Spec.Taints {
		tp := p.Index(i)
		if t.Key == "" {
			errs = append(errs, Required(tp.Child("key"), ""))
		} else {
			errs = append(errs, optionalName(t.Key, names.IsQualifiedName, tp.Child("key"))...)
		}
		errs = append(errs, optionalName(t.Value, names.IsValidLabelValue, tp.Child("value"))...)
		errs = append(errs, validateEnum(t.Effect, taintEffects, tp.Child("effect"))...)
		key := t.Key + "\x00" + string(t.Effect)
		if seen[key] {
			errs = append(errs, Duplicate(tp, fmt.Sprintf("%s:%s", t.Key, t.Effect)))
		}
		seen[key] = true
	}
	return append(errs, validateNodeStatus(&n.Status)...)
}

func validateNodeStatus(s *types.NodeStatus) ErrorList {
	errs := validateResourceListNonNegative(s.Capacity, NewPath("status", "capacity"))
	return append(errs, validateResourceListNonNegative(s.Allocatable, NewPath("status", "allocatable"))...)
}

// validateResourceListNonNegative checks quantities only: node capacity
// may name any resource (pods, hugepages, extended ones).
func validateResourceListNonNegative(rl types.ResourceList, p Path) ErrorList {
	var errs ErrorList
	for _, k := range sortedKeys(rl) {
		if q := rl[types.ResourceName(k)]; q.Sign() < 0 {
			errs = append(errs, Invalid(p.Key(k), q.String(), "must be greater than or equal to 0"))
		}
	}
	return errs
}

func validateEvent(e *types.Event) ErrorList {
	var errs ErrorList
	if e.InvolvedObject.Kind == "" && e.InvolvedObject.Name == "" {
		errs = append(errs, Required(NewPath("involvedObject"), "an Event must name the object it is about"))
	}
	if e.InvolvedObject.Namespace != "" && e.Namespace != e.InvolvedObject.Namespace {
		errs = append(errs, Invalid(NewPath("involvedObject", "namespace"), e.InvolvedObject.Namespace, "does not match event.namespace"))
	}
	if e.Type != "" {
		errs = append(errs, validateEnum(e.Type, eventTypes, NewPath("type"))...)
	}
	if e.Count < 0 {
		errs = append(errs, Invalid(NewPath("count"), e.Count, "must be greater than or equal to 0"))
	}
	return errs
}

func validateEndpoints(e *types.Endpoints) ErrorList {
	var errs ErrorList
	for i, s := range e.Subsets {
		sp := NewPath("subsets").Index(i)
		errs = append(errs, validateEndpointAddresses(s.Addresses, sp.Child("addresses"))...)
		errs = append(errs, validateEndpointAddresses(s.NotReadyAddresses, sp.Child("notReadyAddresses"))...)
		for j, port := range s.Ports {
			pp := sp.Child("ports").Index(j)
			for _, msg := range names.IsValidPortNum(int(port.Port)) {
				errs = append(errs, Invalid(pp.Child("port"), port.Port, msg))
			}
			if port.Protocol != "" {
				errs = append(errs, validateEnum(port.Protocol, protocols, pp.Child("protocol"))...)
			}
		}
	}
	return errs
}

func validateEndpointAddresses(as []types.EndpointAddress, p Path) ErrorList {
	var errs ErrorList
	for i, a := range as {
		if a.IP == "" {
			errs = append(errs, Required(p.Index(i).Child("ip"), ""))
		}
		errs = append(errs, optionalName(a.IP, names.IsValidIP, p.Index(i).Child("ip"))...)
	}
	return errs
}

func validateServiceAccount(sa *types.ServiceAccount) ErrorList {
	var errs ErrorList
	for i, s := range sa.ImagePullSecrets {
		if s.Name == "" {
			errs = append(errs, Required(NewPath("imagePullSecrets").Index(i).Child("name"), ""))
		}
	}
	return errs
}
