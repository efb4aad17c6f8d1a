package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
)

func TestFinalizersAndDeletionTimestamp(t *testing.T) {
	e := newEnv(t)
	cm := configMap("held", nil, nil)
	cm["metadata"].(map[string]any)["finalizers"] = []string{"example.com/a", "example.com/b"}
	e.post(t, cmPath, cm).must(t, http.StatusCreated)

	// Delete only marks the object.
	var marked types.ConfigMap
	e.del(t, cmPath+"/held", nil).must(t, 200).into(t, &marked)
	if marked.DeletionTimestamp == nil || !marked.DeletionTimestamp.Time.Equal(fixedStart) {
		t.Fatalf("deletionTimestamp %v, want %v", marked.DeletionTimestamp, fixedStart)
	}
	var got types.ConfigMap
	e.get(t, cmPath+"/held").must(t, 200).into(t, &got)
	if got.DeletionTimestamp == nil {
		t.Fatal("stored object has no deletionTimestamp")
	}
	// A second delete changes nothing.
	rev := e.store.Revision()
	e.del(t, cmPath+"/held", nil).must(t, 200)
	if e.store.Revision() != rev {
		t.Fatal("a repeated delete wrote")
	}
	// No new finalizers once deletion started.
	st := e.patch(t, cmPath+"/held", "application/merge-patch+json",
		`{"metadata":{"finalizers":["example.com/a","example.com/b","example.com/c"]}}`).status(t, 422, types.StatusReasonInvalid)
	if !strings.Contains(st.Message, "no new finalizers") {
		t.Fatalf("message %q", st.Message)
	}
	// deletionTimestamp cannot be cleared by an update.
	var kept types.ConfigMap
	e.put(t, cmPath+"/held", `{"metadata":{"name":"held","finalizers":["example.com/a","example.com/b"]}}`).must(t, 200).into(t, &kept)
	if kept.DeletionTimestamp == nil {
		t.Fatal("an update cleared deletionTimestamp")
	}
	// Removing one finalizer keeps it, removing the last deletes it.
	e.send(t, req{method: http.MethodPatch, path: cmPath + "/held", ctype: "application/json-patch+json",
		body: `[{"op":"remove","path":"/metadata/finalizers/0"}]`}).must(t, 200)
	e.get(t, cmPath+"/held").must(t, 200)
	w := e.watch(t, cmPath+"?watch=true&resourceVersion="+itoa(e.store.Revision()), "")
	e.patch(t, cmPath+"/held", "application/merge-patch+json", `{"metadata":{"finalizers":null}}`).must(t, 200)
	e.get(t, cmPath+"/held").status(t, 404, types.StatusReasonNotFound)
	w.expect(types.Deleted, "held")
}

func TestPropagationPolicyFinalizers(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, query, body, finalizer string
	}{
		{"foreground", "?propagationPolicy=Foreground", "", "foregroundDeletion"},
		{"orphan", "", `{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Orphan"}`, "orphan"},
		{"orphan-dependents", "?orphanDependents=true", "", "orphan"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.post(t, depPath, deployment(tc.name, 1)).must(t, http.StatusCreated)
			var body any
			if tc.body != "" {
				body = tc.body
			}
			var d types.Deployment
			e.del(t, depPath+"/"+tc.name+tc.query, body).must(t, 200).into(t, &d)
			if d.DeletionTimestamp == nil || !slices.Equal(d.Finalizers, []string{tc.finalizer}) {
				t.Fatalf("deletionTimestamp %v finalizers %v, want %s", d.DeletionTimestamp, d.Finalizers, tc.finalizer)
			}
		})
	}
	// Background deletes at once.
	e.post(t, depPath, deployment("bg", 1)).must(t, http.StatusCreated)
	e.del(t, depPath+"/bg?propagationPolicy=Background", nil).must(t, 200)
	e.get(t, depPath+"/bg").status(t, 404, types.StatusReasonNotFound)
}

func TestGracefulPodDeletion(t *testing.T) {
	e := newEnv(t)
	// An unbound Pod goes at once.
	e.post(t, podPath, pod("unbound", nil)).must(t, http.StatusCreated)
	e.del(t, podPath+"/unbound", nil).must(t, 200)
	e.get(t, podPath+"/unbound").status(t, 404, types.StatusReasonNotFound)

	// A bound, running Pod gets deletionTimestamp = now + grace period.
	p := pod("running", nil)
	spec := p["spec"].(map[string]any)
	spec["nodeName"] = "node-1"
	spec["terminationGracePeriodSeconds"] = 45
	e.post(t, podPath, p).must(t, http.StatusCreated)
	var marked types.Pod
	e.del(t, podPath+"/running", nil).must(t, 200).into(t, &marked)
	if marked.DeletionGracePeriodSeconds == nil || *marked.DeletionGracePeriodSeconds != 45 ||
		marked.DeletionTimestamp == nil || !marked.DeletionTimestamp.Time.Equal(fixedStart.Add(45*time.Second)) {
		t.Fatalf("grace %v deletionTimestamp %v, want 45s", marked.DeletionGracePeriodSeconds, marked.DeletionTimestamp)
	}
	// A shorter grace period from a second delete wins.
	e.del(t, podPath+"/running?gracePeriodSeconds=10", nil).must(t, 200).into(t, &marked)
	if *marked.DeletionGracePeriodSeconds != 10 {
		t.Fatalf("grace %d after shortening, want 10", *marked.DeletionGracePeriodSeconds)
	}
	e.get(t, podPath+"/running").must(t, 200)
	// The agent's final delete with gracePeriodSeconds=0 removes it.
	e.del(t, podPath+"/running", `{"gracePeriodSeconds":0}`).must(t, 200)
	e.get(t, podPath+"/running").status(t, 404, types.StatusReasonNotFound)

	// A finished Pod goes at once even if bound.
	p = pod("done", nil)
	p["spec"].(map[string]any)["nodeName"] = "node-1"
	e.post(t, podPath, p).must(t, http.StatusCreated)
	e.patch(t, podPath+"/done/status", "application/merge-patch+json", `{"status":{"phase":"Succeeded"}}`).must(t, 200)
	e.del(t, podPath+"/done", nil).must(t, 200)
	e.get(t, podPath+"/done").status(t, 404, types.StatusReasonNotFound)
}

func TestNamespaceDeletionCascades(t *testing.T) {
	e := newEnv(t)
	nsPath := "/api/v1/namespaces"
	var ns types.Namespace
	e.post(t, nsPath, map[string]any{"metadata": map[string]any{"name": "team"}}).must(t, http.StatusCreated).into(t, &ns)
	if ns.Status.Phase != types.NamespaceActive || !slices.Equal(ns.Spec.Finalizers, []types.FinalizerName{types.FinalizerKubernetes}) {
		t.Fatalf("new namespace phase %q finalizers %v", ns.Status.Phase, ns.Spec.Finalizers)
	}
	e.post(t, nsPath+"/team/configmaps", configMap("a", nil, nil)).must(t, http.StatusCreated)
	e.post(t, nsPath+"/team/pods", pod("p", nil)).must(t, http.StatusCreated)
	held := configMap("held", nil, nil)
	held["metadata"].(map[string]any)["finalizers"] = []string{"example.com/hold"}
	e.post(t, nsPath+"/team/configmaps", held).must(t, http.StatusCreated)
	e.post(t, "/apis/apps/v1/namespaces/team/deployments", deployment("d", 1)).must(t, http.StatusCreated)

	from := itoa(e.store.Revision())
	w := e.watch(t, nsPath+"?watch=true&fieldSelector=metadata.name%3Dteam&resourceVersion="+from, "")
	cw := e.watch(t, nsPath+"/team/configmaps?watch=true&resourceVersion="+from, "")
	e.del(t, nsPath+"/team", nil).must(t, 200).into(t, &ns)
	if ns.Status.Phase != types.NamespaceTerminating || ns.DeletionTimestamp == nil {
		t.Fatalf("deleted namespace phase %q deletionTimestamp %v", ns.Status.Phase, ns.DeletionTimestamp)
	}
	// Creating in a terminating namespace is forbidden, with Kubernetes'
	// message.
	st := e.post(t, nsPath+"/team/configmaps", configMap("late", nil, nil)).status(t, http.StatusForbidden, types.StatusReasonForbidden)
	if !strings.Contains(st.Message, "unable to create new content in namespace team because it is being terminated") {
		t.Fatalf("message %q", st.Message)
	}
	w.expect(types.Modified, "team")

	// The loop empties the namespace but for the object held by a
	// finalizer; the namespace stays until that goes.
	seen := map[string]bool{}
	for !seen["a"] || !seen["held-marked"] {
		ev, ok := cw.next()
		if !ok {
			t.Fatal("watch ended")
		}
		var cm types.ConfigMap
		if err := jsonUnmarshal(ev.Object, &cm); err != nil {
			t.Fatal(err)
		}
		switch {
		case ev.Type == types.Deleted && cm.Name == "a":
			seen["a"] = true
		case cm.Name == "held" && cm.DeletionTimestamp != nil:
			seen["held-marked"] = true
		}
	}
	e.get(t, nsPath+"/team").must(t, 200)
	e.patch(t, nsPath+"/team/configmaps/held", "application/merge-patch+json", `{"metadata":{"finalizers":null}}`).must(t, 200)
	// Then the namespace goes, with everything in it.
	for {
		ev, ok := w.next()
		if !ok {
			t.Fatal("namespace watch ended")
		}
		if ev.Type == types.Deleted {
			break
		}
	}
	e.get(t, nsPath+"/team").status(t, 404, types.StatusReasonNotFound)
	for _, p := range []string{nsPath + "/team/pods", nsPath + "/team/configmaps", "/apis/apps/v1/namespaces/team/deployments"} {
		if got := names(t, e.get(t, p).must(t, 200)); len(got) != 0 {
			t.Fatalf("%s still holds %v", p, got)
		}
	}
}

func TestStatusSubresourceSeparation(t *testing.T) {
	e := newEnv(t)
	e.post(t, depPath, deployment("web", 2)).must(t, http.StatusCreated)
	// A status in the create body is dropped.
	var d types.Deployment
	e.get(t, depPath+"/web").must(t, 200).into(t, &d)
	if d.Status.Replicas != 0 {
		t.Fatalf("status %+v after create", d.Status)
	}
	// PUT on the object ignores status changes.
	d.Status.Replicas = 7
	d.Spec.Replicas = ptr32(3)
	var afterPut types.Deployment
	e.put(t, depPath+"/web", d).must(t, 200).into(t, &afterPut)
	if afterPut.Status.Replicas != 0 || *afterPut.Spec.Replicas != 3 {
		t.Fatalf("after PUT: spec.replicas %d status.replicas %d, want 3 and 0", *afterPut.Spec.Replicas, afterPut.Status.Replicas)
	}
	// PUT on /status changes only the status.
	afterPut.Status.Replicas = 5
	afterPut.Spec.Replicas = ptr32(9)
	var afterStatus types.Deployment
	e.put(t, depPath+"/web/status", afterPut).must(t, 200).into(t, &afterStatus)
	if afterStatus.Status.Replicas != 5 || *afterStatus.Spec.Replicas != 3 || afterStatus.Generation != afterPut.Generation {
		t.Fatalf("after status PUT: spec.replicas %d status.replicas %d generation %d", *afterStatus.Spec.Replicas, afterStatus.Status.Replicas, afterStatus.Generation)
	}
	// PATCH on /status likewise.
	var afterPatch types.Deployment
	e.patch(t, depPath+"/web/status", "application/merge-patch+json", `{"spec":{"replicas":1},"status":{"readyReplicas":4}}`).must(t, 200).into(t, &afterPatch)
	if afterPatch.Status.ReadyReplicas != 4 || *afterPatch.Spec.Replicas != 3 {
		t.Fatalf("after status PATCH: %+v %+v", afterPatch.Spec.Replicas, afterPatch.Status)
	}
	// GET /status answers the object.
	var viaStatus types.Deployment
	e.get(t, depPath+"/web/status").must(t, 200).into(t, &viaStatus)
	if viaStatus.Status.ReadyReplicas != 4 {
		t.Fatalf("GET status: %+v", viaStatus.Status)
	}
	// Stale resourceVersion on /status is a conflict.
	afterPut.ResourceVersion = "1"
	e.put(t, depPath+"/web/status", afterPut).status(t, 409, types.StatusReasonConflict)
	e.del(t, depPath+"/web/status", nil).status(t, 405, types.StatusReasonMethodNotAllowed)
}

func TestPatchTypes(t *testing.T) {
	e := newEnv(t)
	e.post(t, podPath, pod("p", map[string]string{"a": "1"})).must(t, http.StatusCreated)
	tests := []struct {
		name, ctype, body string
		check             func(p *types.Pod) bool
	}{
		{"merge", "application/merge-patch+json", `{"metadata":{"labels":{"b":"2","a":null}}}`,
			func(p *types.Pod) bool { return p.Labels["b"] == "2" && p.Labels["a"] == "" }},
		{"json", "application/json-patch+json", `[{"op":"add","path":"/metadata/annotations","value":{"x":"y"}},{"op":"test","path":"/metadata/labels/b","value":"2"}]`,
			func(p *types.Pod) bool { return p.Annotations["x"] == "y" }},
		{"strategic merges containers by name", "application/strategic-merge-patch+json",
			`{"spec":{"containers":[{"name":"app","image":"nginx:1.28"}]}}`,
			func(p *types.Pod) bool {
				return len(p.Spec.Containers) == 1 && p.Spec.Containers[0].Image == "nginx:1.28"
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p types.Pod
			e.patch(t, podPath+"/p", tc.ctype, tc.body).must(t, 200).into(t, &p)
			if !tc.check(&p) {
				t.Fatalf("patched pod %+v", p)
			}
		})
	}
	// A failing JSON patch test op writes nothing.
	rev := e.store.Revision()
	e.patch(t, podPath+"/p", "application/json-patch+json", `[{"op":"test","path":"/metadata/labels/b","value":"nope"}]`).status(t, 422, types.StatusReasonInvalid)
	// A patch that makes the object invalid is 422.
	e.patch(t, podPath+"/p", "application/merge-patch+json", `{"metadata":{"labels":{"bad key!":"x"}}}`).status(t, 422, types.StatusReasonInvalid)
	// A patch producing unknown fields is 400.
	e.patch(t, podPath+"/p", "application/merge-patch+json", `{"bogus":1}`).status(t, 400, types.StatusReasonBadRequest)
	// A patch with a stale resourceVersion conflicts.
	e.patch(t, podPath+"/p", "application/merge-patch+json", `{"metadata":{"resourceVersion":"1"}}`).status(t, 409, types.StatusReasonConflict)
	if e.store.Revision() != rev {
		t.Fatal("a failed patch wrote")
	}
}

func TestBinding(t *testing.T) {
	e := newEnv(t)
	e.post(t, podPath, pod("p", nil)).must(t, http.StatusCreated)
	e.post(t, podPath, pod("q", nil)).must(t, http.StatusCreated)
	binding := func(name, node string) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "Binding", "metadata": map[string]any{"name": name},
			"target": map[string]any{"apiVersion": "v1", "kind": "Node", "name": node}}
	}
	e.post(t, podPath+"/p/binding", binding("p", "node-1")).must(t, http.StatusCreated)
	var p types.Pod
	e.get(t, podPath+"/p").must(t, 200).into(t, &p)
	if p.Spec.NodeName != "node-1" {
		t.Fatalf("nodeName %q", p.Spec.NodeName)
	}
	if len(p.Status.Conditions) != 1 || p.Status.Conditions[0].Type != types.PodScheduled || p.Status.Conditions[0].Status != types.ConditionTrue {
		t.Fatalf("conditions after binding %+v, want PodScheduled=True", p.Status.Conditions)
	}
	st := e.post(t, podPath+"/p/binding", binding("p", "node-2")).status(t, 409, types.StatusReasonConflict)
	if !strings.Contains(st.Message, "already") {
		t.Fatalf("message %q", st.Message)
	}
	// A Binding carrying another Pod's UID (the Pod was recreated since
	// the binder saw it) is refused and binds nothing.
	stale := binding("q", "node-2")
	stale["metadata"].(map[string]any)["uid"] = "6c1d2b7e-0000-4000-8000-000000000000"
	st = e.post(t, podPath+"/q/binding", stale).status(t, 409, types.StatusReasonConflict)
	if !strings.Contains(st.Message, "Precondition failed: UID") {
		t.Fatalf("stale UID binding: message %q", st.Message)
	}
	// The legacy collection.
	e.post(t, "/api/v1/namespaces/default/bindings", binding("q", "node-2")).must(t, http.StatusCreated)
	e.get(t, podPath+"/q").must(t, 200).into(t, &p)
	if p.Spec.NodeName != "node-2" {
		t.Fatalf("legacy binding: nodeName %q", p.Spec.NodeName)
	}
	e.post(t, podPath+"/missing/binding", binding("missing", "node-1")).status(t, 404, types.StatusReasonNotFound)
	// A Pod being deleted cannot be bound.
	held := pod("held", nil)
	held["metadata"].(map[string]any)["finalizers"] = []string{"example.com/hold"}
	e.post(t, podPath, held).must(t, http.StatusCreated)
	e.del(t, podPath+"/held", nil).must(t, 200)
	st = e.post(t, podPath+"/held/binding", binding("held", "node-1")).status(t, 409, types.StatusReasonConflict)
	if !strings.Contains(st.Message, "being deleted") {
		t.Fatalf("message %q", st.Message)
	}
	e.post(t, podPath+"/p/binding", map[string]any{"metadata": map[string]any{"name": "p"}, "target": map[string]any{"kind": "Pod", "name": "x"}}).
		status(t, 422, types.StatusReasonInvalid)
	// A client may not change spec.nodeName by update.
	e.patch(t, podPath+"/p", "application/merge-patch+json", `{"spec":{"nodeName":"node-3"}}`).status(t, 422, types.StatusReasonInvalid)
}

func TestScale(t *testing.T) {
	e := newEnv(t)
	e.post(t, depPath, deployment("web", 2)).must(t, http.StatusCreated)
	var sc types.Scale
	e.get(t, depPath+"/web/scale").must(t, 200).into(t, &sc)
	if sc.Kind != "Scale" || sc.APIVersion != "autoscaling/v1" || sc.Spec.Replicas != 2 || sc.Name != "web" {
		t.Fatalf("scale %+v", sc)
	}
	sc.Spec.Replicas = 5
	e.put(t, depPath+"/web/scale", sc).must(t, 200).into(t, &sc)
	if sc.Spec.Replicas != 5 {
		t.Fatalf("scale after PUT %+v", sc.Spec)
	}
	e.patch(t, depPath+"/web/scale", "application/merge-patch+json", `{"spec":{"replicas":1}}`).must(t, 200)
	var d types.Deployment
	e.get(t, depPath+"/web").must(t, 200).into(t, &d)
	if *d.Spec.Replicas != 1 || d.Generation != 3 {
		t.Fatalf("deployment replicas %d generation %d, want 1 and 3", *d.Spec.Replicas, d.Generation)
	}
	sc.ResourceVersion = "1"
	e.put(t, depPath+"/web/scale", sc).status(t, 409, types.StatusReasonConflict)
	e.patch(t, depPath+"/web/scale", "application/merge-patch+json", `{"spec":{"replicas":-1}}`).status(t, 422, types.StatusReasonInvalid)
	e.get(t, "/api/v1/namespaces/default/configmaps/x/scale").status(t, 404, types.StatusReasonNotFound)
}

func TestNodeProxyUnavailable(t *testing.T) {
	e := newEnv(t)
	p := pod("p", nil)
	p["spec"].(map[string]any)["nodeName"] = "node-1"
	e.post(t, podPath, p).must(t, http.StatusCreated)
	st := e.get(t, podPath+"/p/log").status(t, http.StatusServiceUnavailable, types.StatusReasonServiceUnavail)
	if !strings.Contains(st.Message, "node proxy") {
		t.Fatalf("message %q", st.Message)
	}
}

func TestDryRunUpdatesAndDeletes(t *testing.T) {
	e := newEnv(t)
	e.post(t, cmPath, configMap("a", nil, map[string]string{"k": "v"})).must(t, http.StatusCreated)
	rev := e.store.Revision()
	var cm types.ConfigMap
	e.patch(t, cmPath+"/a?dryRun=All", "application/merge-patch+json", `{"data":{"k":"dry"}}`).must(t, 200).into(t, &cm)
	if cm.Data["k"] != "dry" {
		t.Fatalf("dry-run patch answered %v", cm.Data)
	}
	e.put(t, cmPath+"/a?dryRun=All", `{"metadata":{"name":"a"},"data":{"k":"dry"}}`).must(t, 200)
	e.del(t, cmPath+"/a?dryRun=All", nil).must(t, 200)
	e.del(t, cmPath+"?dryRun=All", nil).must(t, 200)
	if e.store.Revision() != rev {
		t.Fatal("a dry-run write changed the store")
	}
	e.get(t, cmPath+"/a").must(t, 200).into(t, &cm)
	if cm.Data["k"] != "v" {
		t.Fatalf("data %v after dry runs", cm.Data)
	}
}

func TestScaleWorkloads(t *testing.T) {
	e := newEnv(t)
	sts := map[string]any{"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": map[string]any{"name": "db"},
		"spec": map[string]any{"replicas": 1, "serviceName": "db", "selector": map[string]any{"matchLabels": map[string]any{"app": "db"}},
			"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": "db"}},
				"spec": map[string]any{"containers": []any{map[string]any{"name": "db", "image": "postgres:16"}}}}}}
	rs := map[string]any{"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": map[string]any{"name": "web"},
		"spec": map[string]any{"replicas": 1, "selector": map[string]any{"matchLabels": map[string]any{"app": "web"}},
			"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": "web"}},
				"spec": map[string]any{"containers": []any{map[string]any{"name": "web", "image": "nginx:1.27"}}}}}}
	for _, tc := range []struct {
		path string
		body map[string]any
	}{
		{"/apis/apps/v1/namespaces/default/statefulsets", sts},
		{"/apis/apps/v1/namespaces/default/replicasets", rs},
	} {
		name := tc.body["metadata"].(map[string]any)["name"].(string)
		t.Run(name, func(t *testing.T) {
			e.post(t, tc.path, tc.body).must(t, http.StatusCreated)
			var sc types.Scale
			e.patch(t, tc.path+"/"+name+"/scale", "application/merge-patch+json", `{"spec":{"replicas":4}}`).must(t, 200).into(t, &sc)
			if sc.Spec.Replicas != 4 || sc.Status.Selector != "app="+name {
				t.Fatalf("scale %+v", sc)
			}
			var obj struct {
				Spec struct {
					Replicas int32 `json:"replicas"`
				} `json:"spec"`
			}
			e.get(t, tc.path+"/"+name).must(t, 200).into(t, &obj)
			if obj.Spec.Replicas != 4 {
				t.Fatalf("replicas %d after scaling", obj.Spec.Replicas)
			}
		})
	}
}
