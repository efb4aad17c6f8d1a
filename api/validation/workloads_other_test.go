package validation

import (
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/types"
)

func newHPA() *types.HorizontalPodAutoscaler {
	return &types.HorizontalPodAutoscaler{
		TypeMeta:   types.TypeMeta{Kind: "HorizontalPodAutoscaler", APIVersion: "autoscaling/v2"},
		ObjectMeta: types.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: types.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: types.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MaxReplicas:    10,
		},
	}
}

func validHPA() *types.HorizontalPodAutoscaler {
	h := newHPA()
	Default(h)
	return h
}

func TestDefaultHPA(t *testing.T) {
	h := newHPA()
	Default(h)
	s := h.Spec
	if len(s.Metrics) != 1 {
		t.Fatalf("metrics = %s, want the default CPU metric", jsonString(s.Metrics))
	}
	m := s.Metrics[0]
	checkFields(t, []fieldCheck{
		{"minReplicas", *s.MinReplicas, int32(1)},
		{"metric type", m.Type, types.ResourceMetricSourceType},
		{"metric resource", m.Resource.Name, types.ResourceCPU},
		{"metric target type", m.Resource.Target.Type, types.UtilizationMetricType},
		{"metric averageUtilization", *m.Resource.Target.AverageUtilization, int32(80)},
		// As in Kubernetes, no behavior means the controller's defaults;
		// the API fills one only when some of it is given.
		{"behavior left unset", s.Behavior == nil, true},
	})

	tests := []struct {
		name     string
		behavior *types.HorizontalPodAutoscalerBehavior
		want     string
	}{
		{"empty behavior", &types.HorizontalPodAutoscalerBehavior{},
			`{"scaleUp":{"stabilizationWindowSeconds":0,"selectPolicy":"Max","policies":[{"type":"Pods","value":4,"periodSeconds":15},{"type":"Percent","value":100,"periodSeconds":15}]},` +
				`"scaleDown":{"selectPolicy":"Max","policies":[{"type":"Percent","value":100,"periodSeconds":15}]}}`},
		{"scale down window only", &types.HorizontalPodAutoscalerBehavior{ScaleDown: &types.HPAScalingRules{StabilizationWindowSeconds: ptr(int32(60))}},
			`{"scaleUp":{"stabilizationWindowSeconds":0,"selectPolicy":"Max","policies":[{"type":"Pods","value":4,"periodSeconds":15},{"type":"Percent","value":100,"periodSeconds":15}]},` +
				`"scaleDown":{"stabilizationWindowSeconds":60,"selectPolicy":"Max","policies":[{"type":"Percent","value":100,"periodSeconds":15}]}}`},
		{"set rules kept", &types.HorizontalPodAutoscalerBehavior{
			ScaleUp: &types.HPAScalingRules{SelectPolicy: ptr(types.DisabledPolicySelect)},
			ScaleDown: &types.HPAScalingRules{StabilizationWindowSeconds: ptr(int32(0)), SelectPolicy: ptr(types.MinChangePolicySelect),
				Policies: []types.HPAScalingPolicy{{Type: types.PodsScalingPolicy, Value: 1, PeriodSeconds: 60}}},
		},
			`{"scaleUp":{"stabilizationWindowSeconds":0,"selectPolicy":"Disabled","policies":[{"type":"Pods","value":4,"periodSeconds":15},{"type":"Percent","value":100,"periodSeconds":15}]},` +
				`"scaleDown":{"stabilizationWindowSeconds":0,"selectPolicy":"Min","policies":[{"type":"Pods","value":1,"periodSeconds":60}]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHPA()
			h.Spec.Behavior = tt.behavior
			Default(h)
			if got := jsonString(h.Spec.Behavior); got != tt.want {
				t.Errorf("behavior = %s\nwant %s", got, tt.want)
			}
			if errs := Validate(h); len(errs) != 0 {
				t.Errorf("defaulted behavior does not validate: %v", errs)
			}
		})
	}

	t.Run("set values kept", func(t *testing.T) {
		h := newHPA()
		h.Spec.MinReplicas = ptr(int32(3))
		h.Spec.Metrics = []types.MetricSpec{{Type: types.ResourceMetricSourceType, Resource: &types.ResourceMetricSource{
			Name: types.ResourceMemory, Target: types.MetricTarget{Type: types.AverageValueMetricType, AverageValue: ptr(types.MustParse("256Mi"))},
		}}}
		Default(h)
		if *h.Spec.MinReplicas != 3 || len(h.Spec.Metrics) != 1 || h.Spec.Metrics[0].Resource.Name != types.ResourceMemory {
			t.Errorf("overrode set values: %s", jsonString(h.Spec))
		}
	})
}

func TestValidateHPA(t *testing.T) {
	target := func(mt types.MetricTarget) func(h *types.HorizontalPodAutoscaler) {
		return func(h *types.HorizontalPodAutoscaler) { h.Spec.Metrics[0].Resource.Target = mt }
	}
	scaleUp := func(r types.HPAScalingRules) func(h *types.HorizontalPodAutoscaler) {
		return func(h *types.HorizontalPodAutoscaler) {
			h.Spec.Behavior = &types.HorizontalPodAutoscalerBehavior{ScaleUp: &r}
			Default(h)
		}
	}
	policy := func(typ types.HPAScalingPolicyType, value, period int32) types.HPAScalingRules {
		return types.HPAScalingRules{Policies: []types.HPAScalingPolicy{{Type: typ, Value: value, PeriodSeconds: period}}}
	}
	tests := []struct {
		name   string
		modify func(h *types.HorizontalPodAutoscaler)
		want   []string
	}{
		{"valid", func(h *types.HorizontalPodAutoscaler) {}, nil},
		{"min greater than max", func(h *types.HorizontalPodAutoscaler) { h.Spec.MinReplicas = ptr(int32(11)) },
			[]string{"spec.maxReplicas:Invalid"}},
		{"min 0", func(h *types.HorizontalPodAutoscaler) { h.Spec.MinReplicas = ptr(int32(0)) }, []string{"spec.minReplicas:Invalid"}},
		{"max 0", func(h *types.HorizontalPodAutoscaler) { h.Spec.MaxReplicas = 0 }, []string{"spec.maxReplicas:Invalid"}},
		{"min equals max", func(h *types.HorizontalPodAutoscaler) { h.Spec.MinReplicas = ptr(int32(10)) }, nil},
		{"no scaleTargetRef", func(h *types.HorizontalPodAutoscaler) { h.Spec.ScaleTargetRef = types.CrossVersionObjectReference{} },
			[]string{"spec.scaleTargetRef.kind:Required", "spec.scaleTargetRef.name:Required"}},
		{"scaleTargetRef name with a slash", func(h *types.HorizontalPodAutoscaler) { h.Spec.ScaleTargetRef.Name = "web/scale" },
			[]string{"spec.scaleTargetRef.name:Invalid"}},
		// As in Kubernetes, metrics are not checked while the reference
		// is wrong.
		{"bad reference hides metric errors", func(h *types.HorizontalPodAutoscaler) {
			h.Spec.ScaleTargetRef.Kind = ".."
			h.Spec.Metrics[0].Type = ""
		}, []string{"spec.scaleTargetRef.kind:Invalid"}},
		{"metric type missing", func(h *types.HorizontalPodAutoscaler) { h.Spec.Metrics[0].Type = "" }, []string{"spec.metrics[0].type:Required"}},
		// Wharf has resource metrics only (no metrics adapters for
		// Pods, Object or External metrics).
		{"Pods metric", func(h *types.HorizontalPodAutoscaler) { h.Spec.Metrics[0].Type = "Pods" }, []string{"spec.metrics[0].type:NotSupported"}},
		{"resource missing", func(h *types.HorizontalPodAutoscaler) { h.Spec.Metrics[0].Resource = nil },
			[]string{"spec.metrics[0].resource:Required"}},
		{"resource name missing", func(h *types.HorizontalPodAutoscaler) { h.Spec.Metrics[0].Resource.Name = "" },
			[]string{"spec.metrics[0].resource.name:Required"}},
		{"target type missing", target(types.MetricTarget{AverageUtilization: ptr(int32(50))}),
			[]string{"spec.metrics[0].resource.target.type:Required"}},
		{"target type unknown", target(types.MetricTarget{Type: "Percent", AverageUtilization: ptr(int32(50))}),
			[]string{"spec.metrics[0].resource.target.type:Invalid"}},
		{"averageUtilization 0", target(types.MetricTarget{Type: types.UtilizationMetricType, AverageUtilization: ptr(int32(0))}),
			[]string{"spec.metrics[0].resource.target.averageUtilization:Invalid"}},
		{"averageUtilization over 100 is allowed", target(types.MetricTarget{Type: types.UtilizationMetricType, AverageUtilization: ptr(int32(150))}), nil},
		{"no target value", target(types.MetricTarget{Type: types.UtilizationMetricType}),
			[]string{"spec.metrics[0].resource.target.averageUtilization:Required"}},
		{"both utilization and value", target(types.MetricTarget{Type: types.UtilizationMetricType, AverageUtilization: ptr(int32(50)), AverageValue: ptr(types.MustParse("100m"))}),
			[]string{"spec.metrics[0].resource.target.averageValue:Forbidden"}},
		{"negative averageValue", target(types.MetricTarget{Type: types.AverageValueMetricType, AverageValue: ptr(types.MustParse("-1"))}),
			[]string{"spec.metrics[0].resource.target.averageValue:Invalid"}},
		{"scale up policy value 0", scaleUp(policy(types.PodsScalingPolicy, 0, 15)), []string{"spec.behavior.scaleUp.policies[0].value:Invalid"}},
		{"scale up period 0", scaleUp(policy(types.PercentScalingPolicy, 10, 0)), []string{"spec.behavior.scaleUp.policies[0].periodSeconds:Invalid"}},
		{"scale up period over 1800", scaleUp(policy(types.PercentScalingPolicy, 10, 1801)), []string{"spec.behavior.scaleUp.policies[0].periodSeconds:Invalid"}},
		{"unknown policy type", scaleUp(policy("Nodes", 1, 15)), []string{"spec.behavior.scaleUp.policies[0].type:NotSupported"}},
		{"stabilization window over an hour", scaleUp(types.HPAScalingRules{StabilizationWindowSeconds: ptr(int32(3601))}),
			[]string{"spec.behavior.scaleUp.stabilizationWindowSeconds:Invalid"}},
		{"negative stabilization window", scaleUp(types.HPAScalingRules{StabilizationWindowSeconds: ptr(int32(-1))}),
			[]string{"spec.behavior.scaleUp.stabilizationWindowSeconds:Invalid"}},
		{"unknown selectPolicy", scaleUp(types.HPAScalingRules{SelectPolicy: ptr(types.ScalingPolicySelect("Avg"))}),
			[]string{"spec.behavior.scaleUp.selectPolicy:NotSupported"}},
		{"replica errors do not hide behavior errors", func(h *types.HorizontalPodAutoscaler) {
			h.Spec.MinReplicas = ptr(int32(0))
			scaleUp(policy(types.PodsScalingPolicy, 0, 15))(h)
		}, []string{"spec.minReplicas:Invalid", "spec.behavior.scaleUp.policies[0].value:Invalid"}},
		// `policies: []` is kept by defaulting (only a missing list is
		// filled), and a rule needs at least one.
		{"empty policies", scaleUp(types.HPAScalingRules{Policies: []types.HPAScalingPolicy{}}),
			[]string{"spec.behavior.scaleUp.policies:Required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := validHPA()
			tt.modify(h)
			expectErrors(t, Validate(h), tt.want...)
		})
	}
}

func TestValidateHPAStatusUpdate(t *testing.T) {
	tests := []struct {
		name   string
		status types.HorizontalPodAutoscalerStatus
		want   []string
	}{
		{"controller's status", types.HorizontalPodAutoscalerStatus{ObservedGeneration: ptr(int64(1)), LastScaleTime: &types.Time{}, CurrentReplicas: 2, DesiredReplicas: 4,
			CurrentMetrics: []types.MetricStatus{{Type: types.ResourceMetricSourceType, Resource: &types.ResourceMetricStatus{Name: types.ResourceCPU,
				Current: types.MetricValueStatus{AverageUtilization: ptr(int32(160)), AverageValue: ptr(types.MustParse("160m"))}}}},
			Conditions: []types.HorizontalPodAutoscalerCondition{{Type: types.AbleToScale, Status: types.ConditionTrue, Reason: "SucceededRescale"},
				{Type: types.ScalingActive, Status: types.ConditionTrue}, {Type: types.ScalingLimited, Status: types.ConditionFalse}}}, nil},
		{"negative currentReplicas", types.HorizontalPodAutoscalerStatus{CurrentReplicas: -1}, []string{"status.currentReplicas:Invalid"}},
		{"negative desiredReplicas", types.HorizontalPodAutoscalerStatus{DesiredReplicas: -1}, []string{"status.desiredReplicas:Invalid"}},
		{"condition with bad status", types.HorizontalPodAutoscalerStatus{Conditions: []types.HorizontalPodAutoscalerCondition{{Type: types.AbleToScale, Status: "yes"}}},
			[]string{"status.conditions[0].status:NotSupported"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := validHPA()
			h := types.Clone(*old)
			h.Status = tt.status
			expectErrors(t, ValidateStatusUpdate(&h, old), tt.want...)
		})
	}
}

func validIngress() *types.Ingress {
	prefix := types.PathTypePrefix
	ing := &types.Ingress{
		TypeMeta:   types.TypeMeta{Kind: "Ingress", APIVersion: "networking.k8s.io/v1"},
		ObjectMeta: types.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: types.IngressSpec{
			IngressClassName: ptr("wharf"),
			TLS:              []types.IngressTLS{{Hosts: []string{"example.com"}, SecretName: "web-tls"}},
			Rules: []types.IngressRule{{Host: "example.com", IngressRuleValue: types.IngressRuleValue{HTTP: &types.HTTPIngressRuleValue{
				Paths: []types.HTTPIngressPath{{Path: "/api", PathType: &prefix, Backend: types.IngressBackend{
					Service: &types.IngressServiceBackend{Name: "api", Port: types.ServiceBackendPort{Number: 8080}},
				}}},
			}}}},
		},
	}
	Default(ing)
	return ing
}

func TestValidateIngress(t *testing.T) {
	path := func(modify func(p *types.HTTPIngressPath)) func(ing *types.Ingress) {
		return func(ing *types.Ingress) { modify(&ing.Spec.Rules[0].HTTP.Paths[0]) }
	}
	pathType := func(pt types.PathType, p string) func(ing *types.Ingress) {
		return path(func(hp *types.HTTPIngressPath) { hp.PathType, hp.Path = &pt, p })
	}
	tests := []struct {
		name   string
		modify func(ing *types.Ingress)
		want   []string
	}{
		{"valid", func(ing *types.Ingress) {}, nil},
		{"no rules and no default backend", func(ing *types.Ingress) { ing.Spec.Rules = nil }, []string{"spec:Invalid"}},
		{"default backend only", func(ing *types.Ingress) {
			b := types.Clone(ing.Spec.Rules[0].HTTP.Paths[0].Backend)
			ing.Spec.DefaultBackend = &b
			ing.Spec.Rules = nil
		}, nil},
		{"pathType missing", path(func(p *types.HTTPIngressPath) { p.PathType = nil }), []string{"spec.rules[0].http.paths[0].pathType:Required"}},
		{"pathType unknown", pathType("Regex", "/api"), []string{"spec.rules[0].http.paths[0].pathType:NotSupported"}},
		{"Prefix relative path", pathType(types.PathTypePrefix, "api"), []string{"spec.rules[0].http.paths[0].path:Invalid"}},
		{"Exact empty path", pathType(types.PathTypeExact, ""), []string{"spec.rules[0].http.paths[0].path:Invalid"}},
		{"Exact double slash", pathType(types.PathTypeExact, "/a//b"), []string{"spec.rules[0].http.paths[0].path:Invalid"}},
		{"Prefix dot dot", pathType(types.PathTypePrefix, "/a/.."), []string{"spec.rules[0].http.paths[0].path:Invalid"}},
		{"Prefix encoded slash", pathType(types.PathTypePrefix, "/a%2Fb"), []string{"spec.rules[0].http.paths[0].path:Invalid"}},
		{"ImplementationSpecific without path", pathType(types.PathTypeImplementationSpecific, ""), nil},
		{"ImplementationSpecific regex-like path", pathType(types.PathTypeImplementationSpecific, "/api/(.*)"), nil},
		{"ImplementationSpecific relative path", pathType(types.PathTypeImplementationSpecific, "api"), []string{"spec.rules[0].http.paths[0].path:Invalid"}},
		{"no paths", func(ing *types.Ingress) { ing.Spec.Rules[0].HTTP.Paths = nil }, []string{"spec.rules[0].http.paths:Required"}},
		{"rule without http", func(ing *types.Ingress) { ing.Spec.Rules[0].HTTP = nil }, nil},
		{"IP host", func(ing *types.Ingress) { ing.Spec.Rules[0].Host = "10.0.0.1" }, []string{"spec.rules[0].host:Invalid"}},
		{"upper case host", func(ing *types.Ingress) { ing.Spec.Rules[0].Host = "Example.com" }, []string{"spec.rules[0].host:Invalid"}},
		{"wildcard host", func(ing *types.Ingress) { ing.Spec.Rules[0].Host = "*.example.com" }, nil},
		{"wildcard inside host", func(ing *types.Ingress) { ing.Spec.Rules[0].Host = "api.*.com" }, []string{"spec.rules[0].host:Invalid"}},
		{"backend without service", path(func(p *types.HTTPIngressPath) { p.Backend.Service = nil }),
			[]string{"spec.rules[0].http.paths[0].backend:Invalid"}},
		{"service name not a DNS-1035 label", path(func(p *types.HTTPIngressPath) { p.Backend.Service.Name = "1api" }),
			[]string{"spec.rules[0].http.paths[0].backend.service.name:Invalid"}},
		{"service name missing", path(func(p *types.HTTPIngressPath) { p.Backend.Service.Name = "" }),
			[]string{"spec.rules[0].http.paths[0].backend.service.name:Required"}},
		{"port name and number", path(func(p *types.HTTPIngressPath) { p.Backend.Service.Port.Name = "http" }),
			[]string{"spec.rules[0].http.paths[0].backend:Invalid"}},
		{"no port", path(func(p *types.HTTPIngressPath) { p.Backend.Service.Port.Number = 0 }),
			[]string{"spec.rules[0].http.paths[0].backend:Required"}},
		{"port out of range", path(func(p *types.HTTPIngressPath) { p.Backend.Service.Port.Number = 70000 }),
			[]string{"spec.rules[0].http.paths[0].backend.service.port.number:Invalid"}},
		{"bad port name", path(func(p *types.HTTPIngressPath) { p.Backend.Service.Port = types.ServiceBackendPort{Name: "http_port"} }),
			[]string{"spec.rules[0].http.paths[0].backend.service.port.name:Invalid"}},
		{"bad tls host", func(ing *types.Ingress) { ing.Spec.TLS[0].Hosts[0] = "bad host" }, []string{"spec.tls[0].hosts[0]:Invalid"}},
		{"wildcard tls host", func(ing *types.Ingress) { ing.Spec.TLS[0].Hosts[0] = "*.example.com" }, nil},
		{"bad tls secret name", func(ing *types.Ingress) { ing.Spec.TLS[0].SecretName = "Web_TLS" }, []string{"spec.tls[0].secretName:Invalid"}},
		{"tls without secret", func(ing *types.Ingress) { ing.Spec.TLS[0].SecretName = "" }, nil},
		{"empty ingressClassName", func(ing *types.Ingress) { ing.Spec.IngressClassName = ptr("") }, nil},
		{"bad ingressClassName", func(ing *types.Ingress) { ing.Spec.IngressClassName = ptr("Wharf Class") }, []string{"spec.ingressClassName:Invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ing := validIngress()
			tt.modify(ing)
			expectErrors(t, Validate(ing), tt.want...)
		})
	}

	t.Run("update may change anything in the spec", func(t *testing.T) {
		old := validIngress()
		ing := types.Clone(*old)
		ing.Spec.Rules[0].Host = "www.example.com"
		ing.Spec.IngressClassName = nil
		expectErrors(t, ValidateUpdate(&ing, old))
	})
}

func validRuntimeClass() *types.RuntimeClass {
	rc := &types.RuntimeClass{
		TypeMeta:   types.TypeMeta{Kind: "RuntimeClass", APIVersion: "node.k8s.io/v1"},
		ObjectMeta: types.ObjectMeta{Name: "wasm"},
		Handler:    "wasm",
		Overhead:   &types.Overhead{PodFixed: types.ResourceList{types.ResourceCPU: types.MustParse("10m")}},
		Scheduling: &types.Scheduling{NodeSelector: map[string]string{"wharf.dev/runtime": "wasm"}},
	}
	Default(rc)
	return rc
}

func TestValidateRuntimeClass(t *testing.T) {
	tests := []struct {
		name   string
		modify func(rc *types.RuntimeClass)
		want   []string
	}{
		{"valid", func(rc *types.RuntimeClass) {}, nil},
		{"runc", func(rc *types.RuntimeClass) {
			rc.Name, rc.Handler, rc.Overhead, rc.Scheduling = "runc", "runc", nil, nil
		}, nil},
		{"no handler", func(rc *types.RuntimeClass) { rc.Handler = "" }, []string{"handler:Required"}},
		{"upper case handler", func(rc *types.RuntimeClass) { rc.Handler = "Wasm" }, []string{"handler:Invalid"}},
		// The handler is a DNS-1123 label, not a subdomain.
		{"handler with a dot", func(rc *types.RuntimeClass) { rc.Handler = "wasm.v2" }, []string{"handler:Invalid"}},
		{"negative overhead", func(rc *types.RuntimeClass) {
			rc.Overhead.PodFixed[types.ResourceMemory] = types.MustParse("-1Mi")
		}, []string{"overhead.podFixed[memory]:Invalid"}},
		{"bad node selector", func(rc *types.RuntimeClass) { rc.Scheduling.NodeSelector = map[string]string{"bad key!": "x"} },
			[]string{"scheduling.nodeSelector:Invalid"}},
		{"bad toleration", func(rc *types.RuntimeClass) {
			rc.Scheduling.Tolerations = []types.Toleration{{Key: "k", Operator: types.TolerationOpExists, Value: "v"}}
		}, []string{"scheduling.tolerations[0].operator:Invalid"}},
		{"namespaced", func(rc *types.RuntimeClass) { rc.Namespace = "default" }, []string{"metadata.namespace:Forbidden"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := validRuntimeClass()
			tt.modify(rc)
			expectErrors(t, Validate(rc), tt.want...)
		})
	}

	t.Run("handler immutable", func(t *testing.T) {
		old := validRuntimeClass()
		rc := types.Clone(*old)
		rc.Handler = "runc"
		errs := ValidateUpdate(&rc, old)
		expectErrors(t, errs, "handler:Invalid")
		if len(errs) == 1 && !strings.Contains(errs[0].Detail, "immutable") {
			t.Errorf("detail = %q, want it to say the field is immutable", errs[0].Detail)
		}
	})
	t.Run("overhead and scheduling may change", func(t *testing.T) {
		old := validRuntimeClass()
		rc := types.Clone(*old)
		rc.Overhead = nil
		rc.Scheduling.Tolerations = []types.Toleration{{Key: "wasm", Operator: types.TolerationOpExists, Effect: types.TaintEffectNoSchedule}}
		expectErrors(t, ValidateUpdate(&rc, old))
	})
}
