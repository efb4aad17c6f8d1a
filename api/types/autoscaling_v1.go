package types

import (
	"encoding/json"
	"fmt"
)

// This file holds autoscaling/v1 HorizontalPodAutoscaler, which Wharf serves
// as Kubernetes does: from the same stored objects as autoscaling/v2 (the
// stored version), converted on the way in and out. What v2 has and v1 has
// not (metrics other than a cpu utilization target, behavior, current
// metrics, conditions) travels in v1 as JSON annotations with Kubernetes'
// names, so that a v1 read-modify-write of a v2 object loses nothing.

// Annotations holding the v2 fields an autoscaling/v1 HorizontalPodAutoscaler
// has no field for (Kubernetes' names). They appear only on v1 objects.
const (
	HPAMetricSpecsAnnotation    = "autoscaling.alpha.kubernetes.io/metrics"
	HPAMetricStatusesAnnotation = "autoscaling.alpha.kubernetes.io/current-metrics"
	HPAConditionsAnnotation     = "autoscaling.alpha.kubernetes.io/conditions"
	HPABehaviorSpecsAnnotation  = "autoscaling.alpha.kubernetes.io/behavior"
)

// HorizontalPodAutoscalerV1 is an autoscaling/v1 HorizontalPodAutoscaler.
type HorizontalPodAutoscalerV1 struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitempty"`
	Spec       HorizontalPodAutoscalerV1Spec   `json:"spec,omitempty"`
	Status     HorizontalPodAutoscalerV1Status `json:"status,omitempty"`
}

// HorizontalPodAutoscalerV1List is a list of autoscaling/v1
// HorizontalPodAutoscalers.
type HorizontalPodAutoscalerV1List struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata,omitempty"`
	Items    []HorizontalPodAutoscalerV1 `json:"items"`
}

// HorizontalPodAutoscalerV1Spec is the desired state of a v1 autoscaler.
type HorizontalPodAutoscalerV1Spec struct {
	ScaleTargetRef                 CrossVersionObjectReference `json:"scaleTargetRef"`
	MinReplicas                    *int32                      `json:"minReplicas,omitempty"`
	MaxReplicas                    int32                       `json:"maxReplicas"`
	TargetCPUUtilizationPercentage *int32                      `json:"targetCPUUtilizationPercentage,omitempty"`
}

// HorizontalPodAutoscalerV1Status is the observed state of a v1 autoscaler.
type HorizontalPodAutoscalerV1Status struct {
	ObservedGeneration              *int64 `json:"observedGeneration,omitempty"`
	LastScaleTime                   *Time  `json:"lastScaleTime,omitempty"`
	CurrentReplicas                 int32  `json:"currentReplicas"`
	DesiredReplicas                 int32  `json:"desiredReplicas"`
	CurrentCPUUtilizationPercentage *int32 `json:"currentCPUUtilizationPercentage,omitempty"`
}

// Compile-time guards.
var (
	_ Object     = (*HorizontalPodAutoscalerV1)(nil)
	_ ObjectList = (*HorizontalPodAutoscalerV1List)(nil)
)

// GetItems implements ObjectList.
func (l *HorizontalPodAutoscalerV1List) GetItems() []Object { return itemsOf(l.Items) }

// SetItems implements ObjectList.
func (l *HorizontalPodAutoscalerV1List) SetItems(objs []Object) error {
	return setItems(&l.Items, objs)
}

// The annotation forms of v2 metrics, as Kubernetes writes them (its
// autoscaling/v1 MetricSpec and MetricStatus, which keep the v2beta1
// field names). Only Resource metrics exist in Wharf.
type (
	hpaV1MetricSpec struct {
		Type     MetricSourceType        `json:"type"`
		Resource *hpaV1ResourceMetricSrc `json:"resource,omitempty"`
	}
	hpaV1ResourceMetricSrc struct {
		Name                     ResourceName `json:"name"`
		TargetAverageUtilization *int32       `json:"targetAverageUtilization,omitempty"`
		TargetAverageValue       *Quantity    `json:"targetAverageValue,omitempty"`
	}
	hpaV1MetricStatus struct {
		Type     MetricSourceType           `json:"type"`
		Resource *hpaV1ResourceMetricStatus `json:"resource,omitempty"`
	}
	hpaV1ResourceMetricStatus struct {
		Name                      ResourceName `json:"name"`
		CurrentAverageUtilization *int32       `json:"currentAverageUtilization,omitempty"`
		CurrentAverageValue       Quantity     `json:"currentAverageValue"`
	}
)

// isCPUUtilization reports whether m is the metric autoscaling/v1 has a
// field for: a cpu Resource metric with a utilization target.
func isCPUUtilization(m MetricSpec) bool {
	return m.Type == ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == ResourceCPU &&
		m.Resource.Target.AverageUtilization != nil
}

// dropHPARoundTripAnnotations returns annotations without the v1
// round-trip ones (nil when nothing is left).
func dropHPARoundTripAnnotations(in map[string]string) map[string]string {
	var out map[string]string
	for k, v := range in {
		switch k {
		case HPAMetricSpecsAnnotation, HPAMetricStatusesAnnotation, HPAConditionsAnnotation, HPABehaviorSpecsAnnotation:
			continue
		}
		if out == nil {
			out = make(map[string]string, len(in))
		}
		out[k] = v
	}
	return out
}

// copyMeta copies metadata through JSON so that the converted object
// shares no maps or slices with in.
func copyMeta(in ObjectMeta) (ObjectMeta, error) {
	var out ObjectMeta
	data, err := json.Marshal(in)
	if err == nil {
		err = json.Unmarshal(data, &out)
	}
	return out, err
}

// HPAToV1 converts a stored (autoscaling/v2) HorizontalPodAutoscaler to
// autoscaling/v1: the cpu utilization metric becomes
// targetCPUUtilizationPercentage, everything else goes into the round-trip
// annotations.
func HPAToV1(in *HorizontalPodAutoscaler) (*HorizontalPodAutoscalerV1, error) {
	meta, err := copyMeta(in.ObjectMeta)
	if err != nil {
		return nil, err
	}
	out := &HorizontalPodAutoscalerV1{
		TypeMeta:   TypeMeta{APIVersion: GroupAutoscaling + "/v1", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: meta,
		Spec: HorizontalPodAutoscalerV1Spec{ScaleTargetRef: in.Spec.ScaleTargetRef,
			MinReplicas: clonePtr(in.Spec.MinReplicas), MaxReplicas: in.Spec.MaxReplicas},
		Status: HorizontalPodAutoscalerV1Status{ObservedGeneration: clonePtr(in.Status.ObservedGeneration),
			CurrentReplicas: in.Status.CurrentReplicas, DesiredReplicas: in.Status.DesiredReplicas},
	}
	if in.Status.LastScaleTime != nil {
		t := *in.Status.LastScaleTime
		out.Status.LastScaleTime = &t
	}
	out.Annotations = dropHPARoundTripAnnotations(out.Annotations)
	ann := map[string]any{}
	var other []hpaV1MetricSpec
	for _, m := range in.Spec.Metrics {
		if isCPUUtilization(m) {
			out.Spec.TargetCPUUtilizationPercentage = clonePtr(m.Resource.Target.AverageUtilization)
			continue
		}
		v1 := hpaV1MetricSpec{Type: m.Type}
		if m.Resource != nil {
			v1.Resource = &hpaV1ResourceMetricSrc{Name: m.Resource.Name,
				TargetAverageUtilization: m.Resource.Target.AverageUtilization, TargetAverageValue: m.Resource.Target.AverageValue}
		}
		other = append(other, v1)
	}
	if len(other) > 0 {
		ann[HPAMetricSpecsAnnotation] = other
	}
	if len(in.Status.CurrentMetrics) > 0 {
		cur := make([]hpaV1MetricStatus, 0, len(in.Status.CurrentMetrics))
		for _, m := range in.Status.CurrentMetrics {
			v1 := hpaV1MetricStatus{Type: m.Type}
			if r := m.Resource; r != nil {
				v1.Resource = &hpaV1ResourceMetricStatus{Name: r.Name, CurrentAverageUtilization: r.Current.AverageUtilization}
				if r.Current.AverageValue != nil {
					v1.Resource.CurrentAverageValue = *r.Current.AverageValue
				}
				if r.Name == ResourceCPU && r.Current.AverageUtilization != nil {
					out.Status.CurrentCPUUtilizationPercentage = clonePtr(r.Current.AverageUtilization)
				}
			}
			cur = append(cur, v1)
		}
		ann[HPAMetricStatusesAnnotation] = cur
	}
	if in.Spec.Behavior != nil {
		ann[HPABehaviorSpecsAnnotation] = in.Spec.Behavior
	}
	if len(in.Status.Conditions) > 0 {
		ann[HPAConditionsAnnotation] = in.Status.Conditions
	}
	for k, v := range ann {
		data, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("horizontalpodautoscaler %q: annotation %s: %w", in.Name, k, err)
		}
		if out.Annotations == nil {
			out.Annotations = map[string]string{}
		}
		out.Annotations[k] = string(data)
	}
	return out, nil
}

// HPAFromV1 converts an autoscaling/v1 HorizontalPodAutoscaler to the
// stored version (autoscaling/v2), restoring what the round-trip
// annotations hold and dropping them. An annotation that does not parse
// is dropped as Kubernetes does; a spec without any metric is left so,
// for defaulting to add the cpu target.
func HPAFromV1(in *HorizontalPodAutoscalerV1) (*HorizontalPodAutoscaler, error) {
	meta, err := copyMeta(in.ObjectMeta)
	if err != nil {
		return nil, err
	}
	out := &HorizontalPodAutoscaler{
		TypeMeta:   TypeMeta{APIVersion: GroupAutoscaling + "/v2", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: meta,
		Spec: HorizontalPodAutoscalerSpec{ScaleTargetRef: in.Spec.ScaleTargetRef,
			MinReplicas: clonePtr(in.Spec.MinReplicas), MaxReplicas: in.Spec.MaxReplicas},
		Status: HorizontalPodAutoscalerStatus{ObservedGeneration: clonePtr(in.Status.ObservedGeneration),
			CurrentReplicas: in.Status.CurrentReplicas, DesiredReplicas: in.Status.DesiredReplicas},
	}
	if in.Status.LastScaleTime != nil {
		t := *in.Status.LastScaleTime
		out.Status.LastScaleTime = &t
	}
	ann := in.Annotations
	var other []hpaV1MetricSpec
	if s, ok := ann[HPAMetricSpecsAnnotation]; ok && json.Unmarshal([]byte(s), &other) == nil {
		for _, m := range other {
			v2 := MetricSpec{Type: m.Type}
			if r := m.Resource; r != nil {
				v2.Resource = &ResourceMetricSource{Name: r.Name, Target: MetricTarget{
					AverageUtilization: r.TargetAverageUtilization, AverageValue: r.TargetAverageValue}}
				if r.TargetAverageValue != nil {
					v2.Resource.Target.Type = AverageValueMetricType
				} else {
					v2.Resource.Target.Type = UtilizationMetricType
				}
			}
			out.Spec.Metrics = append(out.Spec.Metrics, v2)
		}
	}
	if p := in.Spec.TargetCPUUtilizationPercentage; p != nil {
		out.Spec.Metrics = append(out.Spec.Metrics, MetricSpec{Type: ResourceMetricSourceType,
			Resource: &ResourceMetricSource{Name: ResourceCPU,
				Target: MetricTarget{Type: UtilizationMetricType, AverageUtilization: clonePtr(p)}}})
	}
	var behavior HorizontalPodAutoscalerBehavior
	if s, ok := ann[HPABehaviorSpecsAnnotation]; ok && json.Unmarshal([]byte(s), &behavior) == nil &&
		(behavior.ScaleUp != nil || behavior.ScaleDown != nil) {
		out.Spec.Behavior = &behavior
	}
	var cur []hpaV1MetricStatus
	if s, ok := ann[HPAMetricStatusesAnnotation]; ok && json.Unmarshal([]byte(s), &cur) == nil {
		// The annotation holds every current metric, the cpu one too.
		for _, m := range cur {
			v2 := MetricStatus{Type: m.Type}
			if r := m.Resource; r != nil {
				v2.Resource = &ResourceMetricStatus{Name: r.Name,
					Current: MetricValueStatus{AverageUtilization: r.CurrentAverageUtilization}}
				if !r.CurrentAverageValue.IsZero() {
					q := r.CurrentAverageValue
					v2.Resource.Current.AverageValue = &q
				}
			}
			out.Status.CurrentMetrics = append(out.Status.CurrentMetrics, v2)
		}
	} else if p := in.Status.CurrentCPUUtilizationPercentage; p != nil {
		out.Status.CurrentMetrics = []MetricStatus{{Type: ResourceMetricSourceType,
			Resource: &ResourceMetricStatus{Name: ResourceCPU, Current: MetricValueStatus{AverageUtilization: clonePtr(p)}}}}
	}
	if s, ok := ann[HPAConditionsAnnotation]; ok {
		var conds []HorizontalPodAutoscalerCondition
		if json.Unmarshal([]byte(s), &conds) == nil {
			out.Status.Conditions = conds
		}
	}
	out.Annotations = dropHPARoundTripAnnotations(out.Annotations)
	return out, nil
}

// clonePtr returns a copy of *p, or nil.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func init() {
	RegisterConversion(GroupAutoscaling, "horizontalpodautoscalers", &Conversion{
		Version: "v1",
		New:     func() Object { return &HorizontalPodAutoscalerV1{} },
		NewList: func() ObjectList { return &HorizontalPodAutoscalerV1List{} },
		ToStored: func(obj Object) (Object, error) {
			v1, ok := obj.(*HorizontalPodAutoscalerV1)
			if !ok {
				return nil, fmt.Errorf("convert %T to autoscaling/v2: want *HorizontalPodAutoscalerV1", obj)
			}
			return HPAFromV1(v1)
		},
		FromStored: func(obj Object) (Object, error) {
			v2, ok := obj.(*HorizontalPodAutoscaler)
			if !ok {
				return nil, fmt.Errorf("convert %T to autoscaling/v1: want *HorizontalPodAutoscaler", obj)
			}
			return HPAToV1(v2)
		},
	})
}
