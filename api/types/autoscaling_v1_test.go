package types

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func i32(n int32) *int32 { return &n }

func cpuMetric(p int32) MetricSpec {
	return MetricSpec{Type: ResourceMetricSourceType, Resource: &ResourceMetricSource{Name: ResourceCPU,
		Target: MetricTarget{Type: UtilizationMetricType, AverageUtilization: i32(p)}}}
}

// TestHPAConversionRoundTrip: a v2 autoscaler converted to v1 and back is
// the same object, whatever v1 has no field for; the v1 form carries the
// cpu target and current cpu utilization in its own fields.
func TestHPAConversionRoundTrip(t *testing.T) {
	mem := MustParse("100Mi")
	scaled := NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	gen := int64(3)
	full := &HorizontalPodAutoscaler{
		TypeMeta:   TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: ObjectMeta{Name: "web", Namespace: "default", Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"keep": "me"}},
		Spec: HorizontalPodAutoscalerSpec{
			ScaleTargetRef: CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MinReplicas:    i32(2), MaxReplicas: 5,
			// The cpu metric last: v1 puts it back after the others.
			Metrics: []MetricSpec{{Type: ResourceMetricSourceType, Resource: &ResourceMetricSource{Name: ResourceMemory,
				Target: MetricTarget{Type: AverageValueMetricType, AverageValue: &mem}}}, cpuMetric(60)},
			Behavior: &HorizontalPodAutoscalerBehavior{ScaleDown: &HPAScalingRules{StabilizationWindowSeconds: i32(60),
				Policies: []HPAScalingPolicy{{Type: PodsScalingPolicy, Value: 1, PeriodSeconds: 15}}}},
		},
		Status: HorizontalPodAutoscalerStatus{ObservedGeneration: &gen, LastScaleTime: &scaled, CurrentReplicas: 3, DesiredReplicas: 4,
			CurrentMetrics: []MetricStatus{
				{Type: ResourceMetricSourceType, Resource: &ResourceMetricStatus{Name: ResourceCPU, Current: MetricValueStatus{AverageUtilization: i32(75), AverageValue: ptrQ(MustParse("150m"))}}},
				{Type: ResourceMetricSourceType, Resource: &ResourceMetricStatus{Name: ResourceMemory, Current: MetricValueStatus{AverageValue: ptrQ(MustParse("90Mi"))}}}},
			Conditions: []HorizontalPodAutoscalerCondition{{Type: AbleToScale, Status: ConditionTrue, Reason: "ReadyForNewScale", LastTransitionTime: scaled}},
		},
	}
	cpuOnly := &HorizontalPodAutoscaler{
		TypeMeta:   TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: ObjectMeta{Name: "api"},
		Spec: HorizontalPodAutoscalerSpec{ScaleTargetRef: CrossVersionObjectReference{Kind: "Deployment", Name: "api"},
			MaxReplicas: 3, Metrics: []MetricSpec{cpuMetric(50)}},
	}
	tests := []struct {
		name        string
		in          *HorizontalPodAutoscaler
		cpu, curCPU *int32
		annotations []string
	}{
		{"every v2 field", full, i32(60), i32(75),
			[]string{"keep", HPAMetricSpecsAnnotation, HPAMetricStatusesAnnotation, HPABehaviorSpecsAnnotation, HPAConditionsAnnotation}},
		{"cpu only", cpuOnly, i32(50), nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v1, err := HPAToV1(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(v1.Spec.TargetCPUUtilizationPercentage, tc.cpu) ||
				!reflect.DeepEqual(v1.Status.CurrentCPUUtilizationPercentage, tc.curCPU) || v1.APIVersion != "autoscaling/v1" {
				t.Fatalf("v1 %+v", v1)
			}
			var keys []string
			for k := range v1.Annotations {
				keys = append(keys, k)
			}
			if len(keys) != len(tc.annotations) {
				t.Fatalf("annotations %v, want %v", v1.Annotations, tc.annotations)
			}
			for _, k := range tc.annotations {
				if _, ok := v1.Annotations[k]; !ok {
					t.Fatalf("annotations %v lack %s", v1.Annotations, k)
				}
			}
			// Through JSON, as a client would send it back.
			data, err := json.Marshal(v1)
			if err != nil {
				t.Fatal(err)
			}
			var sent HorizontalPodAutoscalerV1
			if err := UnmarshalStrict(data, &sent); err != nil {
				t.Fatal(err)
			}
			back, err := HPAFromV1(&sent)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(tc.in)
			got, _ := json.Marshal(back)
			if string(got) != string(want) {
				t.Fatalf("round trip\n got %s\nwant %s", got, want)
			}
			if tc.in.Annotations != nil && v1.Annotations["keep"] != "me" {
				t.Fatal("the object's own annotation is lost")
			}
		})
	}
}

func ptrQ(q Quantity) *Quantity { return &q }

// TestHPAFromV1: v1 fields map to v2 ones; a v1 object with no target has
// no metric (defaulting adds cpu 80%); unparsable round-trip annotations
// are dropped, as in Kubernetes; the conversion shares nothing with its
// input.
func TestHPAFromV1(t *testing.T) {
	in := &HorizontalPodAutoscalerV1{
		ObjectMeta: ObjectMeta{Name: "web", Annotations: map[string]string{HPAMetricSpecsAnnotation: "not json", HPAConditionsAnnotation: "[", "a": "b"}},
		Spec:       HorizontalPodAutoscalerV1Spec{ScaleTargetRef: CrossVersionObjectReference{Kind: "Deployment", Name: "web"}, MinReplicas: i32(1), MaxReplicas: 4},
		Status:     HorizontalPodAutoscalerV1Status{CurrentReplicas: 2, DesiredReplicas: 3, CurrentCPUUtilizationPercentage: i32(40)},
	}
	out, err := HPAFromV1(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Spec.Metrics) != 0 || out.Status.Conditions != nil || !reflect.DeepEqual(out.Annotations, map[string]string{"a": "b"}) {
		t.Fatalf("out %+v", out)
	}
	if len(out.Status.CurrentMetrics) != 1 || *out.Status.CurrentMetrics[0].Resource.Current.AverageUtilization != 40 ||
		out.Status.DesiredReplicas != 3 || out.APIVersion != "autoscaling/v2" {
		t.Fatalf("status %+v", out.Status)
	}
	*in.Spec.MinReplicas = 9
	in.Annotations["a"] = "changed"
	if *out.Spec.MinReplicas != 1 || out.Annotations["a"] != "b" {
		t.Fatal("the conversion shares memory with its input")
	}

	in.Spec.TargetCPUUtilizationPercentage = i32(55)
	in.Annotations[HPAMetricSpecsAnnotation] = `[{"type":"Resource","resource":{"name":"memory","targetAverageValue":"1Gi"}}]`
	out, err = HPAFromV1(in)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(out.Spec.Metrics)
	want := `[{"type":"Resource","resource":{"name":"memory","target":{"type":"AverageValue","averageValue":"1Gi"}}},` +
		`{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":55}}}]`
	if string(got) != want {
		t.Fatalf("metrics %s\nwant    %s", got, want)
	}
}

// TestHPAConversionRegistered: autoscaling/v1 is served from the v2
// HorizontalPodAutoscaler resource, and nothing else is converted.
func TestHPAConversionRegistered(t *testing.T) {
	r, ok := ResourceFor(GroupAutoscaling, "horizontalpodautoscalers")
	if !ok || r.Version != "v2" {
		t.Fatalf("stored resource %+v", r)
	}
	c, ok := ConversionFor(r, "v1")
	if !ok || c.Version != "v1" {
		t.Fatal("no v1 conversion")
	}
	if _, ok := ConversionFor(r, "v2"); ok {
		t.Fatal("a conversion to the stored version")
	}
	if _, ok := c.New().(*HorizontalPodAutoscalerV1); !ok {
		t.Fatalf("New() is %T", c.New())
	}
	if _, err := c.FromStored(&Deployment{}); err == nil {
		t.Fatal("FromStored accepted a Deployment")
	}
	for _, other := range Resources() {
		if other != r && len(ConversionsOf(other)) > 0 {
			t.Errorf("%s/%s has conversions", other.Group, other.Name)
		}
	}
}
