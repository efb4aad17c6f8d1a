package validation

import (
	"fmt"
	"strings"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/api/validation/names"
)

// This file holds the rules of autoscaling/v2 HorizontalPodAutoscaler,
// networking.k8s.io/v1 Ingress and node.k8s.io/v1 RuntimeClass
// (Kubernetes' pkg/apis/autoscaling/v2/defaults.go and the autoscaling,
// networking and node validation packages).

// DefaultCPUUtilization is the target an autoscaler without metrics gets:
// 80% of the Pods' CPU requests.
const DefaultCPUUtilization = 80

// Bounds of an autoscaler's behavior, as in Kubernetes.
const (
	maxPeriodSeconds              = 1800
	maxStabilizationWindowSeconds = 3600
)

var (
	metricSourceTypes  = []types.MetricSourceType{types.ResourceMetricSourceType}
	metricTargetTypes  = []types.MetricTargetType{types.UtilizationMetricType, types.ValueMetricType, types.AverageValueMetricType}
	selectPolicies     = []types.ScalingPolicySelect{types.MaxChangePolicySelect, types.MinChangePolicySelect, types.DisabledPolicySelect}
	scalingPolicyTypes = []types.HPAScalingPolicyType{types.PodsScalingPolicy, types.PercentScalingPolicy}
	pathTypes          = []types.PathType{types.PathTypeExact, types.PathTypePrefix, types.PathTypeImplementationSpecific}
	// Sequences an Exact or Prefix Ingress path may not hold.
	invalidPathSequences = []string{"//", "/./", "/../", "%2f", "%2F"}
	invalidPathSuffixes  = []string{"/..", "/."}
)

// defaultHPA fills minReplicas 1, one metric (average CPU utilization of
// DefaultCPUUtilization percent) when there is none, and, when a behavior
// is given, the scaling rules it leaves out (Kubernetes' defaults: scale up
// by the larger of 4 Pods or 100% per 15s without stabilization, scale
// down by up to 100% per 15s).
func defaultHPA(h *types.HorizontalPodAutoscaler) {
	s := &h.Spec
	if s.MinReplicas == nil {
		s.MinReplicas = ptr(int32(1))
	}
	if len(s.Metrics) == 0 {
		s.Metrics = []types.MetricSpec{{Type: types.ResourceMetricSourceType, Resource: &types.ResourceMetricSource{
			Name:   types.ResourceCPU,
			Target: types.MetricTarget{Type: types.UtilizationMetricType, AverageUtilization: ptr(int32(DefaultCPUUtilization))},
		}}}
	}
	if b := s.Behavior; b != nil {
		b.ScaleUp = defaultScalingRules(b.ScaleUp, types.HPAScalingRules{
			StabilizationWindowSeconds: ptr(int32(0)),
			SelectPolicy:               ptr(types.MaxChangePolicySelect),
			Policies: []types.HPAScalingPolicy{
				{Type: types.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
				{Type: types.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
			},
		})
		// The scale-down window stays unset: the controller's own default
		// (300s) applies.
		b.ScaleDown = defaultScalingRules(b.ScaleDown, types.HPAScalingRules{
			SelectPolicy: ptr(types.MaxChangePolicySelect),
			Policies:     []types.HPAScalingPolicy{{Type: types.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}},
		})
	}
}

// defaultScalingRules returns def with the fields set in r.
func defaultScalingRules(r *types.HPAScalingRules, def types.HPAScalingRules) *types.HPAScalingRules {
	if r == nil {
		return &def
	}
	if r.SelectPolicy != nil {
		def.SelectPolicy = r.SelectPolicy
	}
	if r.StabilizationWindowSeconds != nil {
		def.StabilizationWindowSeconds = r.StabilizationWindowSeconds
	}
	if r.Policies != nil {
		def.Policies = r.Policies
	}
	return &def
}

func validateHPASpec(s *types.HorizontalPodAutoscalerSpec, p Path) ErrorList {
	var errs ErrorList
	if s.MinReplicas != nil && *s.MinReplicas < 1 {
		errs = append(errs, Invalid(p.Child("minReplicas"), *s.MinReplicas, "must be greater than or equal to 1"))
	}
	if s.MaxReplicas < 1 {
		errs = append(errs, Invalid(p.Child("maxReplicas"), s.MaxReplicas, "must be greater than 0"))
	}
	if s.MinReplicas != nil && s.MaxReplicas < *s.MinReplicas {
		errs = append(errs, Invalid(p.Child("maxReplicas"), s.MaxReplicas, "must be greater than or equal to `minReplicas`"))
	}
	// As in Kubernetes, metrics are checked only for a valid reference, and
	// the behavior only for valid metrics.
	if refErrs := validateScaleTargetRef(s.ScaleTargetRef, p.Child("scaleTargetRef")); len(refErrs) > 0 {
		return append(errs, refErrs...)
	}
	var metricErrs ErrorList
	for i := range s.Metrics {
		metricErrs = append(metricErrs, validateMetricSpec(&s.Metrics[i], p.Child("metrics").Index(i))...)
	}
	if errs = append(errs, metricErrs...); len(metricErrs) > 0 || s.Behavior == nil {
		return errs
	}
	bp := p.Child("behavior")
	errs = append(errs, validateScalingRules(s.Behavior.ScaleUp, bp.Child("scaleUp"))...)
	return append(errs, validateScalingRules(s.Behavior.ScaleDown, bp.Child("scaleDown"))...)
}

// validateScaleTargetRef checks the kind and name of the scaled object;
// both become segments of the scale subresource's path.
func validateScaleTargetRef(ref types.CrossVersionObjectReference, p Path) ErrorList {
	var errs ErrorList
	for _, f := range []struct{ name, v string }{{"kind", ref.Kind}, {"name", ref.Name}} {
		if f.v == "" {
			errs = append(errs, Required(p.Child(f.name), ""))
			continue
		}
		for _, msg := range pathSegmentName(f.v) {
			errs = append(errs, Invalid(p.Child(f.name), f.v, msg))
		}
	}
	return errs
}

// pathSegmentName is Kubernetes' IsValidPathSegmentName.
func pathSegmentName(v string) []string {
	if v == "." || v == ".." {
		return []string{fmt.Sprintf("may not be '%s'", v)}
	}
	var msgs []string
	for _, bad := range []string{"/", "%"} {
		if strings.Contains(v, bad) {
			msgs = append(msgs, fmt.Sprintf("may not contain '%s'", bad))
		}
	}
	return msgs
}

func validateMetricSpec(m *types.MetricSpec, p Path) ErrorList {
	if m.Type == "" {
		return ErrorList{Required(p.Child("type"), "must specify a metric source type")}
	}
	if m.Type != types.ResourceMetricSourceType {
		return ErrorList{NotSupported(p.Child("type"), m.Type, metricSourceTypes)}
	}
	if m.Resource == nil {
		return ErrorList{Required(p.Child("resource"), "must populate information for the given metric source")}
	}
	r, rp := m.Resource, p.Child("resource")
	var errs ErrorList
	if r.Name == "" {
		errs = append(errs, Required(rp.Child("name"), "must specify a resource name"))
	} else {
		errs = append(errs, validateResourceName(r.Name, rp.Child("name"))...)
	}
	t, tp := &r.Target, rp.Child("target")
	if t.Type == "" {
		errs = append(errs, Required(tp.Child("type"), "must specify a metric target type"))
	} else if validateEnum(t.Type, metricTargetTypes, tp.Child("type")) != nil {
		errs = append(errs, Invalid(tp.Child("type"), t.Type, "must be either Utilization, Value, or AverageValue"))
	}
	if t.Value != nil && t.Value.Sign() != 1 {
		errs = append(errs, Invalid(tp.Child("value"), t.Value.String(), "must be positive"))
	}
	if t.AverageValue != nil && t.AverageValue.Sign() != 1 {
		errs = append(errs, Invalid(tp.Child("averageValue"), t.AverageValue.String(), "must be positive"))
	}
	if t.AverageUtilization != nil && *t.AverageUtilization < 1 {
		errs = append(errs, Invalid(tp.Child("averageUtilization"), *t.AverageUtilization, "must be greater than 0"))
	}
	switch {
	case t.AverageUtilization == nil && t.AverageValue == nil:
		errs = append(errs, Required(tp.Child("averageUtilization"), "must set either a target raw value or a target utilization"))
	case t.AverageUtilization != nil && t.AverageValue != nil:
		errs = append(errs, Forbidden(tp.Child("averageValue"), "may not set both a target raw value and a target utilization"))
	}
	return errs
}

func validateScalingRules(r *types.HPAScalingRules, p Path) ErrorList {
	if r == nil {
		return nil
	}
	var errs ErrorList
	if w := r.StabilizationWindowSeconds; w != nil {
		switch {
		case *w < 0:
			errs = append(errs, Invalid(p.Child("stabilizationWindowSeconds"), *w, "must be greater than or equal to zero"))
		case *w > maxStabilizationWindowSeconds:
			errs = append(errs, Invalid(p.Child("stabilizationWindowSeconds"), *w, fmt.Sprintf("must be less than or equal to %d", maxStabilizationWindowSeconds)))
		}
	}
	if r.SelectPolicy != nil {
		errs = append(errs, validateEnum(*r.SelectPolicy, selectPolicies, p.Child("selectPolicy"))...)
	}
	if len(r.Policies) == 0 {
		errs = append(errs, Required(p.Child("policies"), "must specify at least one Policy"))
	}
	for i, pol := range r.Policies {
		pp := p.Child("policies").Index(i)
		errs = append(errs, validateEnum(pol.Type, scalingPolicyTypes, pp.Child("type"))...)
		if pol.Value <= 0 {
			errs = append(errs, Invalid(pp.Child("value"), pol.Value, "must be greater than zero"))
		}
		switch {
		case pol.PeriodSeconds <= 0:
			errs = append(errs, Invalid(pp.Child("periodSeconds"), pol.PeriodSeconds, "must be greater than zero"))
		case pol.PeriodSeconds > maxPeriodSeconds:
			errs = append(errs, Invalid(pp.Child("periodSeconds"), pol.PeriodSeconds, fmt.Sprintf("must be less than or equal to %d", maxPeriodSeconds)))
		}
	}
	return errs
}

func validateIngressSpec(s *types.IngressSpec, p Path) ErrorList {
	var errs ErrorList
	if len(s.Rules) == 0 && s.DefaultBackend == nil {
		errs = append(errs, Invalid(p, s.Rules, "either `defaultBackend` or `rules` must be specified"))
	}
	if s.DefaultBackend != nil {
		errs = append(errs, validateIngressBackend(s.DefaultBackend, p.Child("defaultBackend"))...)
	}
	for i, r := range s.Rules {
		rp := p.Child("rules").Index(i)
		if r.Host != "" {
			errs = append(errs, validateIngressHost(r.Host, rp.Child("host"))...)
		}
		if r.HTTP == nil {
			continue
		}
		hp := rp.Child("http", "paths")
		if len(r.HTTP.Paths) == 0 {
			errs = append(errs, Required(hp, ""))
		}
		for j := range r.HTTP.Paths {
			errs = append(errs, validateIngressPath(&r.HTTP.Paths[j], hp.Index(j))...)
		}
	}
	for i, tls := range s.TLS {
		tp := p.Child("tls").Index(i)
		for j, h := range tls.Hosts {
			errs = append(errs, validateHostName(h, tp.Child("hosts").Index(j))...)
		}
		errs = append(errs, optionalName(tls.SecretName, names.IsDNS1123Subdomain, tp.Child("secretName"))...)
	}
	// An empty class name (a chart's `ingressClassName: ""`) means none,
	// as in Kubernetes.
	if s.IngressClassName != nil {
		errs = append(errs, optionalName(*s.IngressClassName, names.IsDNS1123Subdomain, p.Child("ingressClassName"))...)
	}
	return errs
}

// validateIngressHost checks a rule's host: a DNS name, possibly with a
// leading "*." wildcard, not an IP address.
func validateIngressHost(h string, p Path) ErrorList {
	var errs ErrorList
	if len(names.IsValidIP(h)) == 0 {
		errs = append(errs, Invalid(p, h, "must be a DNS name, not an IP address"))
	}
	return append(errs, validateHostName(h, p)...)
}

// validateHostName checks a DNS-1123 subdomain or a wildcard one
// ("*.example.com"), as Kubernetes' IsWildcardDNS1123Subdomain.
func validateHostName(h string, p Path) ErrorList {
	if !strings.Contains(h, "*") {
		return optionalName(h, names.IsDNS1123Subdomain, p)
	}
	rest, ok := strings.CutPrefix(h, "*.")
	if !ok || strings.Contains(rest, "*") || len(names.IsDNS1123Subdomain(rest)) > 0 {
		return ErrorList{Invalid(p, h, "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")}
	}
	return nil
}

func validateIngressPath(hp *types.HTTPIngressPath, p Path) ErrorList {
	if hp.PathType == nil {
		return ErrorList{Required(p.Child("pathType"), "pathType must be specified")}
	}
	var errs ErrorList
	pp := p.Child("path")
	switch *hp.PathType {
	case types.PathTypeExact, types.PathTypePrefix:
		if !strings.HasPrefix(hp.Path, "/") {
			errs = append(errs, Invalid(pp, hp.Path, "must be an absolute path"))
		}
		for _, seq := range invalidPathSequences {
			if strings.Contains(hp.Path, seq) {
				errs = append(errs, Invalid(pp, hp.Path, fmt.Sprintf("must not contain '%s'", seq)))
			}
		}
		for _, suffix := range invalidPathSuffixes {
			if strings.HasSuffix(hp.Path, suffix) {
				errs = append(errs, Invalid(pp, hp.Path, fmt.Sprintf("cannot end with '%s'", suffix)))
			}
		}
	case types.PathTypeImplementationSpecific:
		if hp.Path != "" && !strings.HasPrefix(hp.Path, "/") {
			errs = append(errs, Invalid(pp, hp.Path, "must be an absolute path"))
		}
	default:
		errs = append(errs, NotSupported(p.Child("pathType"), *hp.PathType, pathTypes))
	}
	return append(errs, validateIngressBackend(&hp.Backend, p.Child("backend"))...)
}

func validateIngressBackend(b *types.IngressBackend, p Path) ErrorList {
	if b.Service == nil {
		return ErrorList{Invalid(p, "", "resource or service backend is required")}
	}
	var errs ErrorList
	sp := p.Child("service")
	if b.Service.Name == "" {
		errs = append(errs, Required(sp.Child("name"), ""))
	} else {
		errs = append(errs, optionalName(b.Service.Name, names.IsDNS1035Label, sp.Child("name"))...)
	}
	port := b.Service.Port
	switch {
	case port.Name != "" && port.Number != 0:
		errs = append(errs, Invalid(p, "", "cannot set both port name & port number"))
	case port.Name != "":
		errs = append(errs, optionalName(port.Name, names.IsValidPortName, sp.Child("port", "name"))...)
	case port.Number != 0:
		for _, msg := range names.IsValidPortNum(int(port.Number)) {
			errs = append(errs, Invalid(sp.Child("port", "number"), port.Number, msg))
		}
	default:
		errs = append(errs, Required(p, "port name or number is required"))
	}
	return errs
}

// validateRuntimeClass checks the handler (a DNS-1123 label: it names a
// runtime on the nodes, "wasm" or "runc"), the overhead and scheduling.
func validateRuntimeClass(rc *types.RuntimeClass) ErrorList {
	hp := NewPath("handler")
	var errs ErrorList
	if rc.Handler == "" {
		errs = append(errs, Required(hp, "names the runtime on the nodes, e.g. wasm or runc"))
	} else {
		errs = append(errs, optionalName(rc.Handler, names.IsDNS1123Label, hp)...)
	}
	if rc.Overhead != nil {
		errs = append(errs, validateResourceList(rc.Overhead.PodFixed, NewPath("overhead", "podFixed"))...)
	}
	if s := rc.Scheduling; s != nil {
		sp := NewPath("scheduling")
		errs = append(errs, validateLabels(s.NodeSelector, sp.Child("nodeSelector"))...)
		errs = append(errs, validateTolerations(s.Tolerations, sp.Child("tolerations"))...)
	}
	return errs
}
