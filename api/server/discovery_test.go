package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/types"
)

type discoveryResource struct {
	Name         string   `json:"name"`
	SingularName string   `json:"singularName"`
	Namespaced   bool     `json:"namespaced"`
	Group        string   `json:"group"`
	Version      string   `json:"version"`
	Kind         string   `json:"kind"`
	Verbs        []string `json:"verbs"`
	ShortNames   []string `json:"shortNames"`
	Categories   []string `json:"categories"`
}

type discoveryList struct {
	Kind         string              `json:"kind"`
	GroupVersion string              `json:"groupVersion"`
	Resources    []discoveryResource `json:"resources"`
}

func (l discoveryList) find(name string) (discoveryResource, bool) {
	for _, r := range l.Resources {
		if r.Name == name {
			return r, true
		}
	}
	return discoveryResource{}, false
}

func TestDiscovery(t *testing.T) {
	e := newEnv(t)
	var versions struct {
		Kind     string   `json:"kind"`
		Versions []string `json:"versions"`
	}
	e.get(t, "/api").must(t, 200).into(t, &versions)
	if versions.Kind != "APIVersions" || !slices.Equal(versions.Versions, []string{"v1"}) {
		t.Fatalf("/api: %+v", versions)
	}

	var groups struct {
		Kind   string `json:"kind"`
		Groups []struct {
			Name             string `json:"name"`
			PreferredVersion struct {
				GroupVersion string `json:"groupVersion"`
			} `json:"preferredVersion"`
		} `json:"groups"`
	}
	e.get(t, "/apis").must(t, 200).into(t, &groups)
	got := map[string]string{}
	for _, g := range groups.Groups {
		got[g.Name] = g.PreferredVersion.GroupVersion
	}
	for g, gv := range map[string]string{"apps": "apps/v1", "batch": "batch/v1", "autoscaling": "autoscaling/v2",
		"networking.k8s.io": "networking.k8s.io/v1", "node.k8s.io": "node.k8s.io/v1"} {
		if got[g] != gv {
			t.Errorf("/apis: group %s preferred %q, want %q", g, got[g], gv)
		}
	}
	var group struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	}
	e.get(t, "/apis/apps").must(t, 200).into(t, &group)
	if group.Kind != "APIGroup" || group.Name != "apps" {
		t.Fatalf("/apis/apps: %+v", group)
	}
	e.get(t, "/apis/nothing.example.com").status(t, 404, types.StatusReasonNotFound)

	var core discoveryList
	e.get(t, "/api/v1").must(t, 200).into(t, &core)
	if core.Kind != "APIResourceList" || core.GroupVersion != "v1" {
		t.Fatalf("/api/v1: kind %q groupVersion %q", core.Kind, core.GroupVersion)
	}
	pods, ok := core.find("pods")
	if !ok || pods.Kind != "Pod" || !pods.Namespaced || pods.SingularName != "pod" || !slices.Contains(pods.ShortNames, "po") ||
		!slices.Contains(pods.Categories, "all") {
		t.Fatalf("pods: %+v", pods)
	}
	for _, v := range []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"} {
		if !slices.Contains(pods.Verbs, v) {
			t.Errorf("pods verbs %v lack %s", pods.Verbs, v)
		}
	}
	for _, sub := range []string{"pods/status", "pods/binding", "pods/log", "bindings"} {
		if _, ok := core.find(sub); !ok {
			t.Errorf("/api/v1 lacks %s", sub)
		}
	}
	if ns, _ := core.find("namespaces"); ns.Namespaced {
		t.Error("namespaces listed as namespaced")
	}

	var apps discoveryList
	e.get(t, "/apis/apps/v1").must(t, 200).into(t, &apps)
	scale, ok := apps.find("deployments/scale")
	if !ok || scale.Group != "autoscaling" || scale.Version != "v1" || scale.Kind != "Scale" {
		t.Fatalf("deployments/scale: %+v", scale)
	}
	if d, _ := apps.find("deployments"); !slices.Contains(d.ShortNames, "deploy") {
		t.Fatalf("deployments short names %v", d.ShortNames)
	}
	e.get(t, "/apis/apps/v9").status(t, 404, types.StatusReasonNotFound)
	e.send(t, req{method: http.MethodPost, path: "/api/v1", body: "{}"}).status(t, 405, types.StatusReasonMethodNotAllowed)
}

func TestVersionHealthOpenAPI(t *testing.T) {
	e := newEnv(t)
	var v struct {
		Major, Minor, GitVersion, Platform string
	}
	e.get(t, "/version").must(t, 200).into(t, &v)
	if v.Major != "1" || v.Minor != "32" || !strings.HasPrefix(v.GitVersion, "v1.32.0+wharf.") || v.Platform == "" {
		t.Fatalf("/version: %+v", v)
	}
	for _, p := range []string{"/healthz", "/livez", "/readyz"} {
		if r := e.get(t, p).must(t, 200); string(r.body) != "ok" {
			t.Errorf("%s: %q", p, r.body)
		}
	}
	var root struct {
		Paths map[string]struct {
			ServerRelativeURL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	e.get(t, "/openapi/v3").must(t, 200).into(t, &root)
	apps, ok := root.Paths["apis/apps/v1"]
	if !ok {
		t.Fatalf("/openapi/v3 paths %v lack apis/apps/v1", root.Paths)
	}
	doc := e.get(t, apps.ServerRelativeURL).must(t, 200)
	if !strings.Contains(string(doc.body), "fieldValidation") || !strings.Contains(string(doc.body), "x-kubernetes-group-version-kind") {
		t.Fatalf("apps/v1 OpenAPI document lacks what kubectl looks for: %.300s", doc.body)
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	e.post(t, cmPath, configMap("a", nil, nil)).must(t, http.StatusCreated)
	e.get(t, cmPath+"/a").must(t, 200)
	e.get(t, cmPath+"/missing").must(t, 404)
	e.watch(t, podPath+"?watch=true", "")
	body := string(e.get(t, "/metrics").must(t, 200).body)
	for _, want := range []string{
		`wharf_apiserver_requests_total{code="201",resource="configmaps",verb="create"} 1`,
		`wharf_apiserver_requests_total{code="200",resource="configmaps",verb="get"} 1`,
		`wharf_apiserver_requests_total{code="404",resource="configmaps",verb="get"} 1`,
		`wharf_apiserver_request_duration_seconds_bucket{resource="configmaps",verb="create",le="+Inf"} 1`,
		`wharf_apiserver_open_watches{resource="pods"} 1`,
		"wharf_storage_revision " + itoa(e.store.Revision()),
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestServerTables(t *testing.T) {
	e := newEnv(t)
	e.post(t, podPath, pod("web", nil)).must(t, http.StatusCreated)
	const asTable = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
	var tbl tableJSON
	e.send(t, req{method: http.MethodGet, path: podPath, accept: asTable}).must(t, 200).into(t, &tbl)
	var cols []string
	for _, c := range tbl.ColumnDefinitions {
		cols = append(cols, c.Name)
	}
	if tbl.Kind != "Table" || tbl.APIVersion != "meta.k8s.io/v1" ||
		!slices.Equal(cols[:5], []string{"Name", "Ready", "Status", "Restarts", "Age"}) || len(tbl.Rows) != 1 {
		t.Fatalf("pod table: %s/%s columns %v rows %d", tbl.APIVersion, tbl.Kind, cols, len(tbl.Rows))
	}
	if c := tbl.Rows[0].Cells; c[0] != "web" || c[1] != "0/1" || c[2] != "Pending" {
		t.Fatalf("row %v", c)
	}
	// The row object is PartialObjectMetadata by default, the object with
	// includeObject=Object.
	var partial struct{ Kind string }
	if err := jsonUnmarshal(tbl.Rows[0].Object, &partial); err != nil || partial.Kind != "PartialObjectMetadata" {
		t.Fatalf("row object %s", tbl.Rows[0].Object)
	}
	tbl = tableJSON{}
	e.send(t, req{method: http.MethodGet, path: podPath + "/web?includeObject=Object", accept: asTable}).must(t, 200).into(t, &tbl)
	var full types.Pod
	if err := jsonUnmarshal(tbl.Rows[0].Object, &full); err != nil || full.Kind != "Pod" || len(full.Spec.Containers) != 1 {
		t.Fatalf("row object %s", tbl.Rows[0].Object)
	}
	// Other kinds have their own columns, unknown ones Name and Age.
	tbl = tableJSON{}
	e.send(t, req{method: http.MethodGet, path: "/api/v1/namespaces", accept: asTable}).must(t, 200).into(t, &tbl)
	if len(tbl.ColumnDefinitions) != 3 || tbl.ColumnDefinitions[1].Name != "Status" || len(tbl.Rows) != 3 { // default, kube-node-lease, wharf-system
		t.Fatalf("namespace table %+v", tbl)
	}
}

func TestTablePagesAndIncludeNone(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"a", "b", "c"} {
		e.post(t, cmPath, configMap(n, nil, nil)).must(t, http.StatusCreated)
	}
	const asTable = "application/json;as=Table;v=v1;g=meta.k8s.io"
	var page struct {
		tableJSON
		Metadata types.ListMeta `json:"metadata"`
	}
	e.send(t, req{method: http.MethodGet, path: cmPath + "?limit=2&includeObject=None", accept: asTable}).must(t, 200).into(t, &page)
	if len(page.Rows) != 2 || page.Metadata.Continue == "" || page.Metadata.ResourceVersion == "" {
		t.Fatalf("table page: %d rows, metadata %+v", len(page.Rows), page.Metadata)
	}
	if page.Rows[0].Object != nil {
		t.Fatalf("includeObject=None row carries %s", page.Rows[0].Object)
	}
	e.send(t, req{method: http.MethodGet, path: cmPath + "?includeObject=Everything", accept: asTable}).status(t, 400, types.StatusReasonBadRequest)
}

func TestSelfSubjectAccessReview(t *testing.T) {
	e := newEnv(t)
	var review struct {
		Kind   string `json:"kind"`
		Status struct {
			Allowed bool `json:"allowed"`
		} `json:"status"`
	}
	e.post(t, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
		`{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"get","resource":"pods"}}}`).
		must(t, http.StatusCreated).into(t, &review)
	if review.Kind != "SelfSubjectAccessReview" || !review.Status.Allowed {
		t.Fatalf("review %+v", review)
	}
	out, err := e.kubectl(t, "auth", "can-i", "delete", "pods")
	if err != nil || strings.TrimSpace(string(out)) != "yes" {
		t.Fatalf("kubectl auth can-i: %q %v", out, err)
	}
}
