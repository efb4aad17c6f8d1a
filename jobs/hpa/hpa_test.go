package hpa_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/jobs/controller/controllertest"
	"github.com/wharfhq/wharf/jobs/hpa"
	"github.com/wharfhq/wharf/jobs/replicaset"
	"github.com/wharfhq/wharf/jobs/statefulset"
	"github.com/wharfhq/wharf/sdk"
)

const ns = "default"

func ptr[T any](v T) *T { return &v }

// start runs the autoscaler (every 20ms, on clk) and the ReplicaSet
// controller that makes the Pods it scales.
func start(env *controllertest.Env, clk *controllertest.Clock) {
	env.Start(controllertest.Builds(controllertest.Controller(replicaset.New), autoscaler(clk)))
}

// autoscaler builds the autoscaler, syncing every 20ms on clk.
func autoscaler(clk *controllertest.Clock) controllertest.Build {
	return controllertest.WithOptions(hpa.NewWithOptions, hpa.Options{SyncPeriod: 20 * time.Millisecond, Now: clk.Now})
}

func newRS(name string, n int32, requests types.ResourceList) *types.ReplicaSet {
	lbl := map[string]string{"app": name}
	return &types.ReplicaSet{
		ObjectMeta: types.ObjectMeta{Name: name, Namespace: ns},
		Spec: types.ReplicaSetSpec{
			Replicas: ptr(n),
			Selector: &types.LabelSelector{MatchLabels: lbl},
			Template: types.PodTemplateSpec{
				ObjectMeta: types.ObjectMeta{Labels: lbl},
				Spec: types.PodSpec{Containers: []types.Container{{Name: "c", Image: "web",
					Resources: types.ResourceRequirements{Requests: requests}}}},
			},
		},
	}
}

func newHPA(name, target string, minR *int32, maxR int32, metric types.MetricSpec) *types.HorizontalPodAutoscaler {
	return &types.HorizontalPodAutoscaler{
		ObjectMeta: types.ObjectMeta{Name: name, Namespace: ns},
		Spec: types.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: types.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: target},
			MinReplicas:    minR, MaxReplicas: maxR,
			Metrics: []types.MetricSpec{metric},
		},
	}
}

func cpuUtilization(pct int32) types.MetricSpec {
	return types.MetricSpec{Type: types.ResourceMetricSourceType, Resource: &types.ResourceMetricSource{
		Name: types.ResourceCPU, Target: types.MetricTarget{Type: types.UtilizationMetricType, AverageUtilization: ptr(pct)}}}
}

// setUsage writes the usage annotation on every live Pod of sel (as an
// agent would) and marks them ready; it returns how many Pods it set.
func setUsage(t *testing.T, env *controllertest.Env, sel, usage string) int {
	t.Helper()
	pods := sdk.Typed[*types.Pod](env.Client).Namespace(ns)
	n := 0
	for _, p := range env.Pods(ns, sel) {
		if p.DeletionTimestamp != nil {
			continue
		}
		_, err := controllertest.TryUpdate(context.Background(), pods, p.Name, func(cur *types.Pod) {
			if cur.Annotations == nil {
				cur.Annotations = map[string]string{}
			}
			cur.Annotations[hpa.UsageAnnotation] = usage
		})
		switch {
		case sdk.IsNotFound(err):
			continue // scaled down meanwhile
		case err != nil:
			t.Fatal(err)
		}
		n++
		if !controller.IsPodReady(&p) {
			env.MarkReady(ns, p.Name)
		}
	}
	return n
}

func getHPA(t *testing.T, env *controllertest.Env, name string) *types.HorizontalPodAutoscaler {
	t.Helper()
	h, err := sdk.Typed[*types.HorizontalPodAutoscaler](env.Client).Namespace(ns).Get(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func condition(h *types.HorizontalPodAutoscaler, ct types.HorizontalPodAutoscalerConditionType) types.HorizontalPodAutoscalerCondition {
	for _, c := range h.Status.Conditions {
		if c.Type == ct {
			return c
		}
	}
	return types.HorizontalPodAutoscalerCondition{}
}

// waitReplicas keeps the Pods' usage at usage until the ReplicaSet wants
// n replicas and the autoscaler's status satisfies ok.
func waitReplicas(t *testing.T, env *controllertest.Env, rs, hpaName, usage string, n int32, ok func(h *types.HorizontalPodAutoscaler) bool) *types.HorizontalPodAutoscaler {
	t.Helper()
	var h *types.HorizontalPodAutoscaler
	env.Eventually(fmt.Sprintf("%s at %d replicas", rs, n), func() (bool, error) {
		setUsage(t, env, "app="+rs, usage)
		r, err := sdk.Typed[*types.ReplicaSet](env.Client).Namespace(ns).Get(context.Background(), rs)
		if err != nil {
			return false, err
		}
		h = getHPA(t, env, hpaName)
		return *r.Spec.Replicas == n && ok(h), fmt.Errorf("replicas %d, hpa status %+v", *r.Spec.Replicas, h.Status)
	})
	return h
}

func TestScalesOnCPUUtilizationWithStabilization(t *testing.T) {
	env := controllertest.NewEnv(t)
	clk := controllertest.NewClock(time.Now())
	start(env, clk)
	ctx := context.Background()
	if _, err := sdk.Typed[*types.ReplicaSet](env.Client).Namespace(ns).Create(ctx,
		newRS("web", 2, types.ResourceList{types.ResourceCPU: types.MustParse("100m")})); err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.Typed[*types.HorizontalPodAutoscaler](env.Client).Namespace(ns).Create(ctx,
		newHPA("web", "web", ptr(int32(1)), 5, cpuUtilization(50))); err != nil {
		t.Fatal(err)
	}
	// 200m of 100m requested against a 50% target: 4× the replicas, 8,
	// capped at maxReplicas 5.
	h := waitReplicas(t, env, "web", "web", "cpu=200m,memory=10Mi", 5, func(h *types.HorizontalPodAutoscaler) bool {
		return h.Status.LastScaleTime != nil && condition(h, types.ScalingLimited).Status == types.ConditionTrue
	})
	if c := condition(h, types.ScalingLimited); c.Reason != "TooManyReplicas" {
		t.Errorf("ScalingLimited reason %q, want TooManyReplicas", c.Reason)
	}
	if c := condition(h, types.ScalingActive); c.Status != types.ConditionTrue || c.Reason != "ValidMetricFound" {
		t.Errorf("ScalingActive %+v", c)
	}
	if c := condition(h, types.AbleToScale); c.Status != types.ConditionTrue {
		t.Errorf("AbleToScale %+v", c)
	}

	// Load drops: the scale-down waits for the 300s stabilization window.
	h = waitReplicas(t, env, "web", "web", "cpu=10m,memory=10Mi", 5, func(h *types.HorizontalPodAutoscaler) bool {
		m := h.Status.CurrentMetrics
		return len(m) == 1 && m[0].Resource.Current.AverageUtilization != nil && *m[0].Resource.Current.AverageUtilization == 10 &&
			h.Status.CurrentReplicas == 5 // the ReplicaSet's status caught up
	})
	if h.Status.DesiredReplicas != 5 || h.Status.CurrentReplicas != 5 {
		t.Fatalf("inside the window: desired %d current %d, want 5 and 5", h.Status.DesiredReplicas, h.Status.CurrentReplicas)
	}
	if m := h.Status.CurrentMetrics[0].Resource.Current.AverageValue; m == nil || m.MilliValue() != 10 {
		t.Errorf("averageValue %v, want 10m", m)
	}
	clk.Add(301 * time.Second)
	// 10% against 50%: ceil(0.2×5) = 1.
	waitReplicas(t, env, "web", "web", "cpu=10m,memory=10Mi", 1, func(h *types.HorizontalPodAutoscaler) bool {
		return h.Status.DesiredReplicas == 1
	})
}

func TestScalesOnMemoryAverageValue(t *testing.T) {
	env := controllertest.NewEnv(t)
	clk := controllertest.NewClock(time.Now())
	start(env, clk)
	ctx := context.Background()
	if _, err := sdk.Typed[*types.ReplicaSet](env.Client).Namespace(ns).Create(ctx, newRS("mem", 1, nil)); err != nil {
		t.Fatal(err)
	}
	target := types.MustParse("100Mi")
	if _, err := sdk.Typed[*types.HorizontalPodAutoscaler](env.Client).Namespace(ns).Create(ctx, newHPA("mem", "mem", nil, 10,
		types.MetricSpec{Type: types.ResourceMetricSourceType, Resource: &types.ResourceMetricSource{
			Name: types.ResourceMemory, Target: types.MetricTarget{Type: types.AverageValueMetricType, AverageValue: &target}}})); err != nil {
		t.Fatal(err)
	}
	// One Pod at 300Mi against 100Mi a Pod: 3 Pods. The new Pods have no
	// metrics yet; counted as idle they keep the count at 3.
	env.Eventually("a pod", func() (bool, error) { return setUsage(t, env, "app=mem", "cpu=1m,memory=300Mi") == 1, nil })
	var h *types.HorizontalPodAutoscaler
	env.Eventually("3 replicas", func() (bool, error) {
		r, err := sdk.Typed[*types.ReplicaSet](env.Client).Namespace(ns).Get(context.Background(), "mem")
		if err != nil {
			return false, err
		}
		h = getHPA(t, env, "mem")
		return *r.Spec.Replicas == 3 && h.Status.DesiredReplicas == 3, fmt.Errorf("replicas %d, desired %d", *r.Spec.Replicas, h.Status.DesiredReplicas)
	})
	if c := condition(h, types.ScalingLimited); c.Status != types.ConditionFalse || c.Reason != "DesiredWithinRange" {
		t.Errorf("ScalingLimited %+v", c)
	}
}

func TestMissingRequestsDisableScaling(t *testing.T) {
	env := controllertest.NewEnv(t)
	start(env, controllertest.NewClock(time.Now()))
	ctx := context.Background()
	if _, err := sdk.Typed[*types.ReplicaSet](env.Client).Namespace(ns).Create(ctx, newRS("noreq", 2, nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.Typed[*types.HorizontalPodAutoscaler](env.Client).Namespace(ns).Create(ctx,
		newHPA("noreq", "noreq", nil, 5, cpuUtilization(50))); err != nil {
		t.Fatal(err)
	}
	h := waitReplicas(t, env, "noreq", "noreq", "cpu=500m", 2, func(h *types.HorizontalPodAutoscaler) bool {
		return condition(h, types.ScalingActive).Status == types.ConditionFalse
	})
	if c := condition(h, types.ScalingActive); c.Reason != "FailedGetResourceMetric" {
		t.Fatalf("ScalingActive %+v", c)
	}
	// A target of another kind cannot be scaled.
	bad := newHPA("bad", "x", nil, 5, cpuUtilization(50))
	bad.Spec.ScaleTargetRef = types.CrossVersionObjectReference{APIVersion: "v1", Kind: "Pod", Name: "x"}
	if _, err := sdk.Typed[*types.HorizontalPodAutoscaler](env.Client).Namespace(ns).Create(ctx, bad); err != nil {
		t.Fatal(err)
	}
	env.Eventually("AbleToScale False", func() (bool, error) {
		c := condition(getHPA(t, env, "bad"), types.AbleToScale)
		return c.Status == types.ConditionFalse && c.Reason == "FailedGetScale", fmt.Errorf("%+v", c)
	})
}

func TestScalesAStatefulSet(t *testing.T) {
	env := controllertest.NewEnv(t)
	clk := controllertest.NewClock(time.Now())
	env.Start(controllertest.Builds(controllertest.Controller(statefulset.New), autoscaler(clk)))
	ctx := context.Background()
	lbl := map[string]string{"app": "db"}
	if _, err := sdk.Typed[*types.StatefulSet](env.Client).Namespace(ns).Create(ctx, &types.StatefulSet{
		ObjectMeta: types.ObjectMeta{Name: "db", Namespace: ns},
		Spec: types.StatefulSetSpec{Replicas: ptr(int32(1)), Selector: &types.LabelSelector{MatchLabels: lbl},
			PodManagementPolicy: types.ParallelPodManagement,
			Template: types.PodTemplateSpec{ObjectMeta: types.ObjectMeta{Labels: lbl}, Spec: types.PodSpec{
				Containers: []types.Container{{Name: "c", Image: "db", Resources: types.ResourceRequirements{
					Requests: types.ResourceList{types.ResourceCPU: types.MustParse("200m")}}}}}}},
	}); err != nil {
		t.Fatal(err)
	}
	h := newHPA("db", "db", nil, 4, cpuUtilization(50))
	h.Spec.ScaleTargetRef.Kind = "StatefulSet"
	if _, err := sdk.Typed[*types.HorizontalPodAutoscaler](env.Client).Namespace(ns).Create(ctx, h); err != nil {
		t.Fatal(err)
	}
	// 300m of 200m against 50%: 3 replicas.
	env.Eventually("db-0 has usage", func() (bool, error) { return setUsage(t, env, "app=db", "cpu=300m") == 1, nil })
	env.Eventually("3 replicas", func() (bool, error) {
		s, err := sdk.Typed[*types.StatefulSet](env.Client).Namespace(ns).Get(ctx, "db")
		if err != nil {
			return false, err
		}
		return *s.Spec.Replicas == 3, fmt.Errorf("replicas %d", *s.Spec.Replicas)
	})
}

// waitEvaluated keeps the Pods' usage at cpu=<milli>m until the
// autoscaler has reported that utilization (so it evaluated at the
// clock's current time) and returns the target's replicas then.
func waitEvaluated(t *testing.T, env *controllertest.Env, rs string, milli int) int32 {
	t.Helper()
	var replicas int32
	env.Eventually(fmt.Sprintf("%s evaluated at %dm", rs, milli), func() (bool, error) {
		setUsage(t, env, "app="+rs, fmt.Sprintf("cpu=%dm", milli))
		h := getHPA(t, env, rs)
		r, err := sdk.Typed[*types.ReplicaSet](env.Client).Namespace(ns).Get(context.Background(), rs)
		if err != nil {
			return false, err
		}
		replicas = *r.Spec.Replicas
		m := h.Status.CurrentMetrics
		// usage of 100m requests: utilization in percent = milli.
		return len(m) == 1 && m[0].Resource.Current.AverageUtilization != nil && int(*m[0].Resource.Current.AverageUtilization) == milli,
			fmt.Errorf("hpa status %+v", h.Status)
	})
	return replicas
}

// A new autoscaler on an idle target of 10 keeps the 10 for its
// scale-down stabilization window (the history is seeded with the
// current count, as in Kubernetes), then drops to minReplicas; a restart
// of the controller seeds the window again.
func TestNewAutoscalerWaitsForTheScaleDownWindow(t *testing.T) {
	for _, restart := range []bool{false, true} {
		t.Run(fmt.Sprintf("restart=%v", restart), func(t *testing.T) {
			env := controllertest.NewEnv(t)
			clk := controllertest.NewClock(time.Now())
			running := env.Start(controllertest.Builds(controllertest.Controller(replicaset.New), autoscaler(clk)))
			ctx := context.Background()
			if _, err := sdk.Typed[*types.ReplicaSet](env.Client).Namespace(ns).Create(ctx,
				newRS("idle", 10, types.ResourceList{types.ResourceCPU: types.MustParse("100m")})); err != nil {
				t.Fatal(err)
			}
			// Every Pod is ready with its usage before the autoscaler sees
			// them: its first proposal is then the idle one, not one held
			// up by Pods without metrics.
			env.Eventually("10 idle pods", func() (bool, error) {
				n := setUsage(t, env, "app=idle", "cpu=1m")
				return n == 10, fmt.Errorf("%d pods", n)
			})
			if _, err := sdk.Typed[*types.HorizontalPodAutoscaler](env.Client).Namespace(ns).Create(ctx,
				newHPA("idle", "idle", ptr(int32(2)), 20, cpuUtilization(50))); err != nil {
				t.Fatal(err)
			}
			// 1% against 50%: the metrics alone ask for ceil(0.02×10) = 1.
			if n := waitEvaluated(t, env, "idle", 1); n != 10 {
				t.Fatalf("first sync of a new autoscaler: %d replicas, want 10", n)
			}
			if h := getHPA(t, env, "idle"); condition(h, types.AbleToScale).Reason != "ScaleDownStabilized" || h.Status.DesiredReplicas != 10 {
				t.Errorf("held by the window: desired %d, AbleToScale %+v; want 10 and ScaleDownStabilized", h.Status.DesiredReplicas, condition(h, types.AbleToScale))
			}
			if restart {
				clk.Add(200 * time.Second)
				running.Stop()
				env.Start(controllertest.Builds(controllertest.Controller(replicaset.New), autoscaler(clk)))
				if n := waitEvaluated(t, env, "idle", 2); n != 10 {
					t.Fatalf("first sync after a restart: %d replicas, want 10", n)
				}
			}
			// 299 s after it was (last) first seen: still inside the window.
			clk.Add(299 * time.Second)
			if n := waitEvaluated(t, env, "idle", 3); n != 10 {
				t.Fatalf("299s after first sight: %d replicas, want 10", n)
			}
			clk.Add(2 * time.Second)
			h := waitReplicas(t, env, "idle", "idle", "cpu=3m", 2, func(h *types.HorizontalPodAutoscaler) bool {
				return h.Status.DesiredReplicas == 2
			})
			if c := condition(h, types.ScalingLimited); c.Reason != "TooFewReplicas" {
				t.Errorf("ScalingLimited %+v, want reason TooFewReplicas", c)
			}
		})
	}
}

// A new autoscaler scales up at its first sync: the default scale-up
// window is 0, so the seeded history does not hold it back.
func TestNewAutoscalerScalesUpAtOnce(t *testing.T) {
	env := controllertest.NewEnv(t)
	clk := controllertest.NewClock(time.Now())
	start(env, clk)
	ctx := context.Background()
	if _, err := sdk.Typed[*types.ReplicaSet](env.Client).Namespace(ns).Create(ctx,
		newRS("busy", 2, types.ResourceList{types.ResourceCPU: types.MustParse("100m")})); err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.Typed[*types.HorizontalPodAutoscaler](env.Client).Namespace(ns).Create(ctx,
		newHPA("busy", "busy", nil, 20, cpuUtilization(50))); err != nil {
		t.Fatal(err)
	}
	// 100% against 50%: 4 replicas, with the clock never moved. Only the
	// first two Pods report usage: the new ones count as idle, so the
	// count stays at 4.
	env.Eventually("2 busy pods", func() (bool, error) { return setUsage(t, env, "app=busy", "cpu=100m") == 2, nil })
	env.Eventually("4 replicas", func() (bool, error) {
		r, err := sdk.Typed[*types.ReplicaSet](env.Client).Namespace(ns).Get(ctx, "busy")
		if err != nil {
			return false, err
		}
		h := getHPA(t, env, "busy")
		return *r.Spec.Replicas == 4 && h.Status.DesiredReplicas == 4, fmt.Errorf("replicas %d, desired %d", *r.Spec.Replicas, h.Status.DesiredReplicas)
	})
}
