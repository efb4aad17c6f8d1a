package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/server/servertest"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

// kubectlAt runs kubectl against url with a throwaway home and kubeconfig,
// so that no user configuration is read.
func kubectlAt(t *testing.T, url string, args ...string) string {
	t.Helper()
	r := kubectlResult(t, url, args...)
	if !r.ok {
		t.Fatalf("kubectl %v: %s", args, r.errOut)
	}
	return r.out
}

// wharfAt runs the wharf CLI against url and returns its output.
func wharfAt(t *testing.T, url string, args ...string) string {
	t.Helper()
	r := wharfResult(t, url, args...)
	if !r.ok {
		t.Fatalf("wharf %v: %s", args, r.errOut)
	}
	return r.out
}

// eventAbout records an event about obj that happened an hour and more
// ago (ages in whole minutes, the same for both CLIs whenever they run).
func eventAbout(t *testing.T, c *sdk.Client, kind string, o types.Object) {
	t.Helper()
	m := o.GetObjectMeta()
	now := time.Now()
	ev := &types.Event{ObjectMeta: types.ObjectMeta{Name: m.Name + ".1", Namespace: m.Namespace},
		InvolvedObject: types.ObjectReference{Kind: kind, Name: m.Name, Namespace: m.Namespace, UID: m.UID},
		Reason:         "SuccessfulRescale", Message: "New size: 2; reason: cpu resource utilization (percentage of request) above target",
		Source: types.EventSource{Component: "horizontal-pod-autoscaler"}, Type: types.EventTypeNormal, Count: 3,
		FirstTimestamp: types.NewTime(now.Add(-5 * time.Hour)), LastTimestamp: types.NewTime(now.Add(-2 * time.Hour))}
	if _, err := sdk.Typed[*types.Event](c).Namespace(m.Namespace).Create(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
}

// TestDescribeLikeKubectl: wharf describe prints what kubectl 1.32's
// describe prints for the same objects, byte for byte.
func TestDescribeLikeKubectl(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	ctx := context.Background()
	i32 := func(v int32) *int32 { return &v }
	q := func(s string) *types.Quantity { v := types.MustParse(s); return &v }
	sel := types.MinChangePolicySelect

	hpas := sdk.Typed[*types.HorizontalPodAutoscaler](srv.Client).Namespace("default")
	full := &types.HorizontalPodAutoscaler{
		ObjectMeta: types.ObjectMeta{Name: "web", Labels: map[string]string{"app": "web", "tier": "front"},
			Annotations: map[string]string{"note": "kept"}},
		Spec: types.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: types.CrossVersionObjectReference{Kind: "Deployment", Name: "web", APIVersion: "apps/v1"},
			MinReplicas:    i32(1), MaxReplicas: 5,
			Metrics: []types.MetricSpec{
				{Type: types.ResourceMetricSourceType, Resource: &types.ResourceMetricSource{Name: types.ResourceCPU,
					Target: types.MetricTarget{Type: types.UtilizationMetricType, AverageUtilization: i32(50)}}},
				{Type: types.ResourceMetricSourceType, Resource: &types.ResourceMetricSource{Name: types.ResourceMemory,
					Target: types.MetricTarget{Type: types.AverageValueMetricType, AverageValue: q("100Mi")}}},
			},
			Behavior: &types.HorizontalPodAutoscalerBehavior{
				ScaleUp: &types.HPAScalingRules{StabilizationWindowSeconds: i32(0), Policies: []types.HPAScalingPolicy{
					{Type: types.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}, {Type: types.PodsScalingPolicy, Value: 4, PeriodSeconds: 15}}},
				ScaleDown: &types.HPAScalingRules{StabilizationWindowSeconds: i32(300), SelectPolicy: &sel,
					Policies: []types.HPAScalingPolicy{{Type: types.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}}},
			},
		},
	}
	created, err := hpas.Create(ctx, full)
	if err != nil {
		t.Fatal(err)
	}
	created.Status = types.HorizontalPodAutoscalerStatus{CurrentReplicas: 2, DesiredReplicas: 2,
		CurrentMetrics: []types.MetricStatus{
			{Type: types.ResourceMetricSourceType, Resource: &types.ResourceMetricStatus{Name: types.ResourceCPU,
				Current: types.MetricValueStatus{AverageUtilization: i32(12), AverageValue: q("3m")}}},
			{Type: types.ResourceMetricSourceType, Resource: &types.ResourceMetricStatus{Name: types.ResourceMemory,
				Current: types.MetricValueStatus{AverageValue: q("30Mi")}}},
		},
		Conditions: []types.HorizontalPodAutoscalerCondition{
			{Type: types.AbleToScale, Status: types.ConditionTrue, Reason: "ReadyForNewScale", Message: "recommended size matches current size"},
			{Type: types.ScalingActive, Status: types.ConditionTrue, Reason: "ValidMetricFound", Message: "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)"},
			{Type: types.ScalingLimited, Status: types.ConditionFalse, Reason: "DesiredWithinRange", Message: "the desired count is within the acceptable range"},
		}}
	if created, err = hpas.UpdateStatus(ctx, created); err != nil {
		t.Fatal(err)
	}
	eventAbout(t, srv.Client, "HorizontalPodAutoscaler", created)
	// A bare one: no minimum, no status, a metric without current values.
	if _, err := hpas.Create(ctx, &types.HorizontalPodAutoscaler{ObjectMeta: types.ObjectMeta{Name: "bare"},
		Spec: types.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: types.CrossVersionObjectReference{Kind: "StatefulSet", Name: "db", APIVersion: "apps/v1"}, MaxReplicas: 3,
			Metrics: []types.MetricSpec{{Type: types.ResourceMetricSourceType, Resource: &types.ResourceMetricSource{Name: types.ResourceCPU,
				Target: types.MetricTarget{Type: types.UtilizationMetricType, AverageUtilization: i32(80)}}}}}}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		args []string
	}{
		{"hpa with status, behavior and events", []string{"describe", "hpa", "web"}},
		{"bare hpa", []string{"describe", "horizontalpodautoscaler", "bare"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := kubectlAt(t, srv.URL, tc.args...)
			got := wharfAt(t, srv.URL, tc.args...)
			if got != want {
				t.Errorf("wharf %s:\n%s\nkubectl:\n%s", strings.Join(tc.args, " "), got, want)
			}
		})
	}
}

// TestDescribeRuntimeClassLikeKubectl: describe runtimeclass shows the
// handler, overhead and scheduling as kubectl does.
func TestDescribeRuntimeClassLikeKubectl(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	ctx := context.Background()
	rcs := sdk.Typed[*types.RuntimeClass](srv.Client)
	// The server makes the wasm class itself.
	for _, rc := range []*types.RuntimeClass{
		{ObjectMeta: types.ObjectMeta{Name: "gvisor", Labels: map[string]string{"sandbox": "yes"}}, Handler: "runsc",
			Overhead: &types.Overhead{PodFixed: types.ResourceList{types.ResourceCPU: types.MustParse("250m"), types.ResourceMemory: types.MustParse("120Mi")}},
			Scheduling: &types.Scheduling{NodeSelector: map[string]string{"sandbox": "gvisor", "arch": "amd64"},
				Tolerations: []types.Toleration{{Key: "sandbox", Operator: "Equal", Value: "gvisor", Effect: "NoSchedule"}}}},
	} {
		if _, err := rcs.Create(ctx, rc); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"wasm", "gvisor"} {
		t.Run(name, func(t *testing.T) {
			args := []string{"describe", "runtimeclass", name}
			want := kubectlAt(t, srv.URL, args...)
			got := wharfAt(t, srv.URL, args...)
			if got != want {
				t.Errorf("wharf %s:\n%s\nkubectl:\n%s", strings.Join(args, " "), got, want)
			}
		})
	}
}
