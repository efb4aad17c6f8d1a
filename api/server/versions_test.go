package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/types"
)

const (
	hpaV1Path = "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers"
	hpaV2Path = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers"
)

// hpaV2WithMemory is a v2 autoscaler with a cpu utilization target (which
// v1 has a field for), a memory target and a behavior (which it has not).
const hpaV2WithMemory = `{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"web","labels":{"app":"web"}},
"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},"minReplicas":2,"maxReplicas":5,
"metrics":[{"type":"Resource","resource":{"name":"memory","target":{"type":"AverageValue","averageValue":"100Mi"}}},
 {"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":60}}}],
"behavior":{"scaleDown":{"stabilizationWindowSeconds":60}}}}`

func getHPAv2(t *testing.T, e *env, name string) types.HorizontalPodAutoscaler {
	t.Helper()
	var h types.HorizontalPodAutoscaler
	e.get(t, hpaV2Path+"/"+name).must(t, http.StatusOK).into(t, &h)
	return h
}

func getHPAv1(t *testing.T, e *env, name string) types.HorizontalPodAutoscalerV1 {
	t.Helper()
	var h types.HorizontalPodAutoscalerV1
	e.get(t, hpaV1Path+"/"+name).must(t, http.StatusOK).into(t, &h)
	return h
}

// cpuTarget returns the cpu utilization target of a v2 autoscaler (0 if
// none) and the names of its metrics, in order.
func cpuTarget(h types.HorizontalPodAutoscaler) (int32, []string) {
	var cpu int32
	var names []string
	for _, m := range h.Spec.Metrics {
		names = append(names, string(m.Resource.Name))
		if m.Resource.Name == types.ResourceCPU && m.Resource.Target.AverageUtilization != nil {
			cpu = *m.Resource.Target.AverageUtilization
		}
	}
	return cpu, names
}

// TestHPAv1CreateStoresV2: an autoscaling/v1 autoscaler is stored as v2,
// its targetCPUUtilizationPercentage a cpu Utilization metric; read back
// in v1 it is what was sent, without round-trip annotations.
func TestHPAv1CreateStoresV2(t *testing.T) {
	e := newEnv(t)
	created := e.post(t, hpaV1Path, `{"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler","metadata":{"name":"web"},
		"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},"minReplicas":2,"maxReplicas":5,
		"targetCPUUtilizationPercentage":50}}`).must(t, http.StatusCreated)
	var v1 types.HorizontalPodAutoscalerV1
	created.into(t, &v1)
	if v1.APIVersion != "autoscaling/v1" || *v1.Spec.TargetCPUUtilizationPercentage != 50 || v1.Annotations != nil || v1.ResourceVersion == "" {
		t.Fatalf("create answered %s", created.body)
	}
	v2 := getHPAv2(t, e, "web")
	if cpu, names := cpuTarget(v2); cpu != 50 || !slices.Equal(names, []string{"cpu"}) || v2.Spec.Metrics[0].Resource.Target.Type != types.UtilizationMetricType {
		t.Fatalf("stored metrics %+v, want one cpu Utilization 50", v2.Spec.Metrics)
	}
	if v2.Annotations != nil || v2.Spec.MaxReplicas != 5 || *v2.Spec.MinReplicas != 2 || v2.ResourceVersion != v1.ResourceVersion {
		t.Fatalf("stored %+v", v2)
	}
	if got := getHPAv1(t, e, "web"); !reflect.DeepEqual(got.Spec, v1.Spec) || got.Annotations != nil {
		t.Fatalf("v1 read %+v, want %+v", got, v1)
	}

	// A Table of v1 autoscalers prints from the stored object; whole
	// objects in rows are in v1.
	for _, path := range []string{hpaV1Path + "?includeObject=Object", hpaV1Path + "/web?includeObject=Object"} {
		var table struct {
			Rows []struct {
				Cells  []any           `json:"cells"`
				Object json.RawMessage `json:"object"`
			} `json:"rows"`
		}
		e.send(t, req{method: http.MethodGet, path: path, accept: "application/json;as=Table;v=v1;g=meta.k8s.io"}).
			must(t, http.StatusOK).into(t, &table)
		var row types.HorizontalPodAutoscalerV1
		if len(table.Rows) != 1 || types.UnmarshalStrict(table.Rows[0].Object, &row) != nil || row.APIVersion != "autoscaling/v1" ||
			!strings.Contains(fmt.Sprint(table.Rows[0].Cells), "Deployment/web") {
			t.Fatalf("%s: table %+v", path, table)
		}
	}

	// A v1 autoscaler without a target gets Kubernetes' default (80%).
	e.post(t, hpaV1Path, `{"metadata":{"name":"dflt"},"spec":{"scaleTargetRef":{"kind":"Deployment","name":"web"},"maxReplicas":3}}`).
		must(t, http.StatusCreated)
	if cpu, _ := cpuTarget(getHPAv2(t, e, "dflt")); cpu != 80 {
		t.Fatalf("default cpu target %d, want 80", cpu)
	}
	// Strict decoding names a field of v2 sent to v1.
	st := e.post(t, hpaV1Path, `{"metadata":{"name":"bad"},"spec":{"scaleTargetRef":{"kind":"Deployment","name":"web"},"maxReplicas":3,"metrics":[]}}`).
		status(t, http.StatusBadRequest, types.StatusReasonBadRequest)
	if !strings.Contains(st.Message, `HorizontalPodAutoscaler in version "v1" cannot be handled as a HorizontalPodAutoscaler: strict decoding error: unknown field "spec.metrics"`) {
		t.Fatalf("message %q does not name spec.metrics", st.Message)
	}
	// The kind of another version is refused.
	e.post(t, hpaV1Path, strings.Replace(hpaV2WithMemory, `"name":"web"`, `"name":"other"`, 1)).
		status(t, http.StatusBadRequest, types.StatusReasonBadRequest)
}

// TestHPAv1UpdateKeepsV2Fields: a v1 read-modify-write (PUT) and a v1
// patch of a v2 autoscaler with a memory metric and a behavior keep them
// (through the round-trip annotations, which are never stored).
func TestHPAv1UpdateKeepsV2Fields(t *testing.T) {
	e := newEnv(t)
	e.post(t, hpaV2Path, hpaV2WithMemory).must(t, http.StatusCreated)
	want := getHPAv2(t, e, "web")

	v1 := getHPAv1(t, e, "web")
	if *v1.Spec.TargetCPUUtilizationPercentage != 60 || v1.Annotations[types.HPAMetricSpecsAnnotation] == "" ||
		v1.Annotations[types.HPABehaviorSpecsAnnotation] == "" || v1.Labels["app"] != "web" {
		t.Fatalf("v1 view %+v", v1)
	}
	v1.Spec.MaxReplicas = 7
	e.put(t, hpaV1Path+"/web", v1).must(t, http.StatusOK)
	got := getHPAv2(t, e, "web")
	if got.Spec.MaxReplicas != 7 || !reflect.DeepEqual(got.Spec.Metrics, want.Spec.Metrics) ||
		!reflect.DeepEqual(got.Spec.Behavior, want.Spec.Behavior) || !reflect.DeepEqual(got.Labels, want.Labels) {
		t.Fatalf("after a v1 PUT: %+v\nwant the metrics and behavior of %+v", got.Spec, want.Spec)
	}
	if got.Annotations != nil {
		t.Fatalf("round-trip annotations stored: %v", got.Annotations)
	}
	if got.Generation != want.Generation+1 {
		t.Errorf("generation %d after a spec change, want %d", got.Generation, want.Generation+1)
	}

	for _, ct := range []string{"application/merge-patch+json", "application/strategic-merge-patch+json"} {
		e.patch(t, hpaV1Path+"/web", ct, `{"spec":{"targetCPUUtilizationPercentage":70}}`).must(t, http.StatusOK)
		got = getHPAv2(t, e, "web")
		if cpu, names := cpuTarget(got); cpu != 70 || !slices.Equal(names, []string{"memory", "cpu"}) || got.Spec.Behavior == nil {
			t.Fatalf("%s: after a v1 patch: %+v", ct, got.Spec)
		}
		e.patch(t, hpaV1Path+"/web", ct, `{"spec":{"targetCPUUtilizationPercentage":60}}`).must(t, http.StatusOK)
	}
	e.patch(t, hpaV1Path+"/web", "application/json-patch+json", `[{"op":"replace","path":"/spec/maxReplicas","value":9}]`).must(t, http.StatusOK)
	if got = getHPAv2(t, e, "web"); got.Spec.MaxReplicas != 9 || len(got.Spec.Metrics) != 2 {
		t.Fatalf("after a v1 JSON patch: %+v", got.Spec)
	}
}

// TestHPAv1StatusListWatchDelete: status written in v2 reads in v1
// (currentCPUUtilizationPercentage), a v1 status write lands in v2, and
// list, watch and delete answer v1 objects.
func TestHPAv1StatusListWatchDelete(t *testing.T) {
	e := newEnv(t)
	w := e.watch(t, hpaV1Path+"?watch=1", "")
	e.post(t, hpaV2Path, hpaV2WithMemory).must(t, http.StatusCreated)
	cur := getHPAv2(t, e, "web")
	cur.Status = types.HorizontalPodAutoscalerStatus{CurrentReplicas: 3, DesiredReplicas: 4,
		CurrentMetrics: []types.MetricStatus{{Type: types.ResourceMetricSourceType, Resource: &types.ResourceMetricStatus{
			Name: types.ResourceCPU, Current: types.MetricValueStatus{AverageUtilization: ptr32(75)}}}},
		Conditions: []types.HorizontalPodAutoscalerCondition{{Type: types.AbleToScale, Status: types.ConditionTrue, Reason: "ReadyForNewScale"}}}
	e.put(t, hpaV2Path+"/web/status", cur).must(t, http.StatusOK)

	v1 := getHPAv1(t, e, "web")
	if p := v1.Status.CurrentCPUUtilizationPercentage; p == nil || *p != 75 || v1.Status.DesiredReplicas != 4 ||
		!strings.Contains(v1.Annotations[types.HPAConditionsAnnotation], "ReadyForNewScale") {
		t.Fatalf("v1 status %+v, annotations %v", v1.Status, v1.Annotations)
	}
	v1.Status.DesiredReplicas = 5
	e.put(t, hpaV1Path+"/web/status", v1).must(t, http.StatusOK)
	if got := getHPAv2(t, e, "web"); got.Status.DesiredReplicas != 5 || len(got.Status.Conditions) != 1 || len(got.Status.CurrentMetrics) != 1 {
		t.Fatalf("after a v1 status write: %+v", got.Status)
	}

	var list struct {
		types.TypeMeta
		Items []types.HorizontalPodAutoscalerV1 `json:"items"`
	}
	e.get(t, hpaV1Path).must(t, http.StatusOK).into(t, &list)
	if list.APIVersion != "autoscaling/v1" || list.Kind != "HorizontalPodAutoscalerList" || len(list.Items) != 1 ||
		*list.Items[0].Spec.TargetCPUUtilizationPercentage != 60 || list.Items[0].APIVersion != "autoscaling/v1" {
		t.Fatalf("v1 list %+v", list)
	}

	var deleted types.HorizontalPodAutoscalerV1
	e.del(t, hpaV1Path+"/web", nil).must(t, http.StatusOK).into(t, &deleted)
	if deleted.APIVersion != "autoscaling/v1" || deleted.Spec.TargetCPUUtilizationPercentage == nil {
		t.Fatalf("delete answered %+v", deleted)
	}

	for _, want := range []string{types.Added, types.Modified, types.Modified, types.Deleted} {
		ev, ok := w.next()
		if !ok {
			t.Fatal("the watch ended")
		}
		var h types.HorizontalPodAutoscalerV1
		if err := types.UnmarshalStrict(ev.Object, &h); err != nil {
			t.Fatalf("%s event is no strict v1 object: %v: %s", ev.Type, err, ev.Object)
		}
		if ev.Type != want || h.APIVersion != "autoscaling/v1" || h.Spec.TargetCPUUtilizationPercentage == nil || *h.Spec.TargetCPUUtilizationPercentage != 60 {
			t.Fatalf("event %s %s, want %s of a v1 object", ev.Type, ev.Object, want)
		}
	}
}

// TestHPAv1Discovery: autoscaling serves v1 and v2, v2 preferred, and
// both list horizontalpodautoscalers with the status subresource.
func TestHPAv1Discovery(t *testing.T) {
	e := newEnv(t)
	var g struct {
		Versions []struct {
			GroupVersion string `json:"groupVersion"`
		} `json:"versions"`
		PreferredVersion struct {
			GroupVersion string `json:"groupVersion"`
		} `json:"preferredVersion"`
	}
	e.get(t, "/apis/autoscaling").must(t, http.StatusOK).into(t, &g)
	if len(g.Versions) != 2 || g.Versions[0].GroupVersion != "autoscaling/v2" || g.Versions[1].GroupVersion != "autoscaling/v1" ||
		g.PreferredVersion.GroupVersion != "autoscaling/v2" {
		t.Fatalf("autoscaling group %+v", g)
	}
	for _, v := range []string{"v1", "v2"} {
		var l struct {
			Resources []struct {
				Name       string   `json:"name"`
				Kind       string   `json:"kind"`
				ShortNames []string `json:"shortNames"`
			} `json:"resources"`
		}
		e.get(t, "/apis/autoscaling/"+v).must(t, http.StatusOK).into(t, &l)
		var got []string
		for _, r := range l.Resources {
			got = append(got, r.Name+"/"+r.Kind)
		}
		if !slices.Equal(got, []string{"horizontalpodautoscalers/HorizontalPodAutoscaler", "horizontalpodautoscalers/status/HorizontalPodAutoscaler"}) {
			t.Errorf("autoscaling/%s resources %v", v, got)
		}
	}
	var doc map[string]any
	e.get(t, "/openapi/v3/apis/autoscaling/v1").must(t, http.StatusOK).into(t, &doc)
	raw, _ := json.Marshal(doc)
	if !strings.Contains(string(raw), `"version":"v1"`) {
		t.Errorf("openapi of autoscaling/v1 has no v1 kind: %s", raw)
	}
	e.get(t, "/apis/autoscaling/v3/namespaces/default/horizontalpodautoscalers").must(t, http.StatusNotFound)
}

// TestKubectlAutoscale: `kubectl autoscale` posts an autoscaling/v1
// autoscaler (as protobuf); `kubectl get hpa` reads it in v2, the
// preferred version, with the cpu target; `kubectl get
// horizontalpodautoscalers.v1.autoscaling` reads it in v1.
func TestKubectlAutoscale(t *testing.T) {
	e := newEnv(t)
	e.post(t, depPath, deployment("web", 1)).must(t, http.StatusCreated)
	proxy := newRecordingProxy(t, e.url)
	if _, err := (&env{url: proxy.url}).kubectl(t, "autoscale", "deployment", "web", "--min=2", "--max=5", "--cpu-percent=50"); err != nil {
		t.Fatal(err)
	}
	if posts := proxy.recorded(); len(posts) != 1 || posts[0].path != hpaV1Path || posts[0].ctype != "application/vnd.kubernetes.protobuf" {
		t.Fatalf("kubectl autoscale posted %+v, want one autoscaling/v1 protobuf body", posts)
	}
	out, err := e.kubectl(t, "get", "hpa", "web", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var v2 types.HorizontalPodAutoscaler
	if err := json.Unmarshal(out, &v2); err != nil {
		t.Fatal(err)
	}
	if cpu, names := cpuTarget(v2); v2.APIVersion != "autoscaling/v2" || cpu != 50 || !slices.Equal(names, []string{"cpu"}) ||
		*v2.Spec.MinReplicas != 2 || v2.Spec.MaxReplicas != 5 || v2.Spec.ScaleTargetRef.Name != "web" || v2.Spec.ScaleTargetRef.Kind != "Deployment" {
		t.Fatalf("kubectl get hpa -o json: %s", out)
	}
	table, err := e.kubectl(t, "get", "hpa")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(table), "Deployment/web") {
		t.Fatalf("kubectl get hpa:\n%s", table)
	}
	out, err = e.kubectl(t, "get", "horizontalpodautoscalers.v1.autoscaling", "web", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var v1 types.HorizontalPodAutoscalerV1
	if err := types.UnmarshalStrict(out, &v1); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if v1.APIVersion != "autoscaling/v1" || v1.Spec.TargetCPUUtilizationPercentage == nil || *v1.Spec.TargetCPUUtilizationPercentage != 50 {
		t.Fatalf("kubectl get horizontalpodautoscalers.v1.autoscaling -o json: %s", out)
	}
}
