package types

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func mustDecodeFile(tb testing.TB, name string) Object {
	tb.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	obj, err := Decode(data)
	if err != nil {
		tb.Fatal(err)
	}
	return obj
}

func TestCloneIsDeep(t *testing.T) {
	pod := mustDecodeFile(t, "pod-full.yaml").(*Pod)
	pod.Status.StartTime = &Time{time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)}
	before, _ := json.Marshal(pod)

	c := Clone(pod)
	if c == pod {
		t.Fatal("Clone returned the same pointer")
	}
	if !reflect.DeepEqual(c, pod) {
		t.Fatal("clone differs from the original")
	}
	// Change everything reachable in the clone.
	c.Labels["app"] = "changed"
	c.Spec.Containers[0].Env[0].Value = "changed"
	c.Spec.Containers[0].Env[1].ValueFrom.FieldRef.FieldPath = "changed"
	c.Spec.Containers[0].Command = append(c.Spec.Containers[0].Command[:0], "changed")
	c.Spec.Containers[0].Resources.Limits[ResourceCPU] = MustParse("9")
	*c.Spec.Volumes[0].EmptyDir.SizeLimit = MustParse("1Gi")
	*c.Spec.SecurityContext.RunAsUser = 0
	c.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Values[0] = "changed"
	c.Status.StartTime.Time = time.Time{}
	*c.Spec.Priority = 1

	after, _ := json.Marshal(pod)
	if string(before) != string(after) {
		t.Errorf("changing the clone changed the original:\n%s\n%s", before, after)
	}
}

func TestCloneValues(t *testing.T) {
	tests := []struct {
		name string
		in   any
	}{
		{"nil pod", (*Pod)(nil)},
		{"spec value", PodSpec{NodeSelector: map[string]string{"a": "b"}}},
		{"raw data", &ControllerRevision{Data: json.RawMessage(`{"a":1}`), Revision: 3}},
		{"empty list", &PodList{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Clone(tt.in)
			if !reflect.DeepEqual(got, tt.in) {
				t.Errorf("Clone(%#v) = %#v", tt.in, got)
			}
		})
	}
	cr := &ControllerRevision{Data: json.RawMessage(`{"a":1}`)}
	c := Clone(cr)
	c.Data[2] = 'b'
	if string(cr.Data) != `{"a":1}` {
		t.Errorf("raw data shared: %s", cr.Data)
	}
}

func TestControllerRefs(t *testing.T) {
	rs := &ReplicaSet{ObjectMeta: ObjectMeta{Name: "web-1", UID: "rs-uid"}}
	other := &ReplicaSet{ObjectMeta: ObjectMeta{Name: "web-2", UID: "other-uid"}}
	gvk, err := GVKForObject(rs)
	if err != nil {
		t.Fatal(err)
	}
	if gvk != (GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"}) {
		t.Fatalf("GVKForObject = %v", gvk)
	}
	ref := NewControllerRef(rs, gvk)
	if ref.APIVersion != "apps/v1" || ref.Kind != "ReplicaSet" || ref.Name != "web-1" || ref.UID != "rs-uid" ||
		ref.Controller == nil || !*ref.Controller || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
		t.Fatalf("NewControllerRef = %+v", ref)
	}
	f := false
	pod := &Pod{ObjectMeta: ObjectMeta{OwnerReferences: []OwnerReference{
		{APIVersion: "v1", Kind: "Node", Name: "n", UID: "node-uid", Controller: &f},
		*ref,
	}}}
	if got := GetControllerOf(pod); got == nil || got.UID != "rs-uid" {
		t.Errorf("GetControllerOf = %+v", got)
	}
	if !IsControlledBy(pod, rs) {
		t.Error("IsControlledBy(pod, rs) = false")
	}
	if IsControlledBy(pod, other) {
		t.Error("IsControlledBy(pod, other) = true")
	}
	if GetControllerOf(&Pod{}) != nil {
		t.Error("GetControllerOf(no refs) != nil")
	}
	if _, err := GVKForObject(&Scale{}); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("GVKForObject(Scale without TypeMeta) err = %v", err)
	}
}

func TestIntOrString(t *testing.T) {
	tests := []struct {
		json    string
		want    IntOrString
		total   int
		up, dn  int
		wantErr bool
	}{
		{`5`, FromInt(5), 10, 5, 5, false},
		{`"25%"`, FromString("25%"), 10, 3, 2, false},
		{`"100%"`, FromString("100%"), 7, 7, 7, false},
		{`"0%"`, FromString("0%"), 7, 0, 0, false},
		{`"33%"`, FromString("33%"), 3, 1, 0, false},
		{`"http"`, FromString("http"), 3, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			var v IntOrString
			if err := json.Unmarshal([]byte(tt.json), &v); err != nil {
				t.Fatal(err)
			}
			if v != tt.want {
				t.Fatalf("decoded %+v, want %+v", v, tt.want)
			}
			out, _ := json.Marshal(v)
			if string(out) != tt.json {
				t.Errorf("encoded %s, want %s", out, tt.json)
			}
			up, err := GetScaledValueFromIntOrPercent(&v, tt.total, true)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				if !errors.Is(err, ErrNotPercent) {
					t.Errorf("err = %v, want ErrNotPercent", err)
				}
				return
			}
			dn, _ := v.ScaledValue(tt.total, false)
			if up != tt.up || dn != tt.dn {
				t.Errorf("rounded up %d down %d, want %d and %d", up, dn, tt.up, tt.dn)
			}
		})
	}
	var v IntOrString
	if err := json.Unmarshal([]byte(`1.5`), &v); err == nil {
		t.Error("1.5 accepted as int or string")
	}
	if ParseIntOrString("8080") != FromInt32(8080) || ParseIntOrString("web") != FromString("web") {
		t.Error("ParseIntOrString")
	}
}

func TestRegistry(t *testing.T) {
	stored := map[string]bool{
		"v1/Namespace": true, "v1/Node": true, "v1/Pod": true, "v1/Event": true, "v1/ConfigMap": true,
		"v1/Secret": true, "v1/Service": true, "v1/ServiceAccount": true, "v1/Endpoints": true,
		"apps/v1/Deployment": true, "apps/v1/ReplicaSet": true, "apps/v1/DaemonSet": true,
		"apps/v1/StatefulSet": true, "apps/v1/ControllerRevision": true, "batch/v1/Job": true,
		"batch/v1/CronJob": true, "autoscaling/v2/HorizontalPodAutoscaler": true,
		"networking.k8s.io/v1/Ingress": true, "node.k8s.io/v1/RuntimeClass": true, "coordination.k8s.io/v1/Lease": true,
	}
	for _, r := range Resources() {
		key := r.APIVersion() + "/" + r.Kind
		t.Run(key, func(t *testing.T) {
			if !stored[key] {
				t.Fatalf("unexpected resource %s", key)
			}
			delete(stored, key)
			if got, ok := ResourceForKind(r.APIVersion(), r.Kind); !ok || got != r {
				t.Error("ResourceForKind does not find it")
			}
			if got, ok := ResourceFor(r.Group, r.Name); !ok || got != r {
				t.Error("ResourceFor does not find it")
			}
			obj := r.New()
			if got, ok := ResourceForObject(obj); !ok || got != r {
				t.Error("ResourceForObject does not find it")
			}
			if want := reflect.TypeOf(obj).Elem().Name(); want != r.Kind {
				t.Errorf("New makes %s", want)
			}
			list := r.NewList()
			if want := reflect.TypeOf(list).Elem().Name(); want != r.Kind+"List" {
				t.Errorf("NewList makes %s", want)
			}
			a, b := r.New(), r.New()
			a.GetObjectMeta().Name, b.GetObjectMeta().Name = "a", "b"
			if err := list.SetItems([]Object{a, b}); err != nil {
				t.Fatal(err)
			}
			items := list.GetItems()
			if len(items) != 2 || items[0].GetObjectMeta().Name != "a" || items[1].GetObjectMeta().Name != "b" {
				t.Fatalf("GetItems after SetItems = %v", items)
			}
			// Items point into the list.
			items[0].GetObjectMeta().Name = "changed"
			if list.GetItems()[0].GetObjectMeta().Name != "changed" {
				t.Error("GetItems returned copies")
			}
			// The list's JSON has items even when empty.
			if err := list.SetItems(nil); err != nil {
				t.Fatal(err)
			}
			if out, _ := json.Marshal(list); !strings.Contains(string(out), `"items":[]`) {
				t.Errorf("empty list encodes as %s", out)
			}
			if err := list.SetItems([]Object{&Binding{}}); !errors.Is(err, ErrWrongItemType) {
				t.Errorf("SetItems(wrong type) err = %v", err)
			}
		})
	}
	for k := range stored {
		t.Errorf("%s not registered", k)
	}

	lookups := map[string]string{
		"po": "pods", "no": "nodes", "ns": "namespaces", "svc": "services", "cm": "configmaps",
		"ev": "events", "sa": "serviceaccounts", "deploy": "deployments", "rs": "replicasets",
		"ds": "daemonsets", "sts": "statefulsets", "cj": "cronjobs", "hpa": "horizontalpodautoscalers",
		"ing": "ingresses", "ep": "endpoints", "job": "jobs", "Pod": "pods", "deployments.apps": "deployments",
		"runtimeclass": "runtimeclasses",
	}
	for in, want := range lookups {
		if r, ok := LookupResource(in); !ok || r.Name != want {
			t.Errorf("LookupResource(%q) = %v, want %s", in, r, want)
		}
	}
	pods, _ := ResourceFor("", "pods")
	for _, sub := range []string{"status", "binding", "log", "exec", "eviction"} {
		if !pods.HasSubresource(sub) {
			t.Errorf("pods lacks subresource %s", sub)
		}
	}
	deploy, _ := ResourceFor("apps", "deployments")
	if !deploy.HasSubresource("scale") || !deploy.Namespaced || deploy.Categories[0] != "all" {
		t.Errorf("deployments = %+v", deploy)
	}
}

// BenchmarkClone compares Clone (reflection) with the floor it replaces, a
// JSON round trip, on a full Pod.
func BenchmarkClone(b *testing.B) {
	pod := mustDecodeFile(b, "pod-full.yaml").(*Pod)
	b.Run("reflect", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = Clone(pod)
		}
	})
	b.Run("json-roundtrip", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			data, err := json.Marshal(pod)
			if err != nil {
				b.Fatal(err)
			}
			var p Pod
			if err := json.Unmarshal(data, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDecode compares strict Decode with the floor, a plain
// json.Unmarshal (not strict, no duplicate check), on a full Pod in JSON.
func BenchmarkDecode(b *testing.B) {
	pod := mustDecodeFile(b, "pod-full.yaml")
	data, err := json.Marshal(pod)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("strict", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Decode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json-unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var p Pod
			if err := json.Unmarshal(data, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
