package sdk_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

func newConfigMap(ns, name string, labels map[string]string, data map[string]string) *types.ConfigMap {
	return &types.ConfigMap{
		TypeMeta:   types.TypeMeta{Kind: "ConfigMap", APIVersion: "v1"},
		ObjectMeta: types.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Data:       data,
	}
}

func newPod(ns, name, node string) *types.Pod {
	return &types.Pod{
		TypeMeta:   types.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: types.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"app": "web"}},
		Spec: types.PodSpec{
			NodeName:   node,
			Containers: []types.Container{{Name: "main", Image: "registry.example/web:1.0"}},
		},
	}
}

func TestTypedCRUD(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	cms := sdk.Typed[*types.ConfigMap](env.client).Namespace("default")

	created, err := cms.Create(ctx, newConfigMap("", "one", map[string]string{"tier": "a"}, map[string]string{"k": "v"}))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if created.UID == "" || created.ResourceVersion == "" || created.Namespace != "default" {
		t.Fatalf("Create returned %+v, want uid, resourceVersion and namespace set", created.ObjectMeta)
	}
	if _, err := cms.Create(ctx, newConfigMap("", "two", map[string]string{"tier": "b"}, nil)); err != nil {
		t.Fatalf("Create two: %v", err)
	}

	got, err := cms.Get(ctx, "one")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.Data["k"] != "v" || got.Kind != "ConfigMap" || got.APIVersion != "v1" {
		t.Fatalf("Get = %+v", got)
	}

	l, err := cms.List(ctx, sdk.ListOptions{LabelSelector: "tier=b"})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(l.Items) != 1 || l.Items[0].Name != "two" || l.ResourceVersion == "" {
		t.Fatalf("List tier=b = %d items (rv %q), want only two", len(l.Items), l.ResourceVersion)
	}
	if l.Items[0].Kind != "ConfigMap" {
		t.Fatalf("list item kind = %q, want ConfigMap filled in", l.Items[0].Kind)
	}

	got.Data["k"] = "v2"
	updated, err := cms.Update(ctx, got)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if updated.Data["k"] != "v2" || updated.ResourceVersion == got.ResourceVersion {
		t.Fatalf("Update = %+v, want new data and resourceVersion", updated)
	}
	// got still carries the old resourceVersion: a stale write.
	got.Data["k"] = "stale"
	if _, err := cms.Update(ctx, got); !sdk.IsConflict(err) {
		t.Fatalf("stale Update error = %v, want Conflict", err)
	}

	patched, err := cms.Patch(ctx, "one", sdk.MergePatch, []byte(`{"data":{"p":"x"}}`))
	if err != nil {
		t.Fatalf("Patch: %v", err)
	}
	if patched.Data["p"] != "x" || patched.Data["k"] != "v2" {
		t.Fatalf("Patch data = %v, want p=x merged with k=v2", patched.Data)
	}

	if err := cms.Delete(ctx, "one", types.DeleteOptions{}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := cms.Get(ctx, "one"); !sdk.IsNotFound(err) {
		t.Fatalf("Get after Delete error = %v, want NotFound", err)
	}
	if err := cms.DeleteCollection(ctx, types.DeleteOptions{}, sdk.ListOptions{LabelSelector: "tier=b"}); err != nil {
		t.Fatalf("DeleteCollection: %v", err)
	}
	if l, err := cms.List(ctx, sdk.ListOptions{}); err != nil || len(l.Items) != 0 {
		t.Fatalf("List after DeleteCollection = %v, %v; want empty", l, err)
	}
}

func TestErrors(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	pods := sdk.Typed[*types.Pod](env.client).Namespace("default")
	if _, err := pods.Create(ctx, newPod("", "web", "")); err != nil {
		t.Fatalf("Create: %v", err)
	}
	invalid := newPod("", "bad", "")
	invalid.Spec.Containers = nil

	tests := []struct {
		name  string
		call  func() error
		is    func(error) bool
		code  int32
		in    string
		notIs []func(error) bool
	}{
		{"not found", func() error { _, err := pods.Get(ctx, "nope"); return err }, sdk.IsNotFound, 404, `"nope"`, nil},
		{"already exists", func() error { _, err := pods.Create(ctx, newPod("", "web", "")); return err }, sdk.IsAlreadyExists, 409, `"web"`, []func(error) bool{sdk.IsConflict}},
		{"invalid", func() error { _, err := pods.Create(ctx, invalid); return err }, sdk.IsInvalid, 422, "containers", nil},
		{"delete missing", func() error { return pods.Delete(ctx, "nope", types.DeleteOptions{}) }, sdk.IsNotFound, 404, "nope", nil},
		{"missing namespace", func() error { return pods.Namespace("missing").Delete(ctx, "x", types.DeleteOptions{}) }, sdk.IsNotFound, 404, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !tt.is(err) {
				t.Fatalf("error = %v (reason %q), want the predicate to hold", err, sdk.ReasonForError(err))
			}
			for _, not := range tt.notIs {
				if not(err) {
					t.Fatalf("error %v matches a predicate it should not", err)
				}
			}
			var st *types.Status
			if !errors.As(err, &st) || st.Code != tt.code {
				t.Fatalf("error = %#v, want a *types.Status with code %d", err, tt.code)
			}
			if tt.in != "" && !strings.Contains(st.Message, tt.in) {
				t.Fatalf("message %q does not mention %s", st.Message, tt.in)
			}
		})
	}
}

func TestErrorsWithoutStatusBody(t *testing.T) {
	tests := []struct {
		code   int
		body   string
		reason types.StatusReason
	}{
		{http.StatusBadGateway, "upstream down", types.StatusReasonInternalError},
		{http.StatusServiceUnavailable, "", types.StatusReasonServiceUnavail},
		{http.StatusNotFound, "<html>no</html>", types.StatusReasonNotFound},
		{http.StatusGone, "", types.StatusReasonGone},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.code), func(t *testing.T) {
			hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.code)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer hs.Close()
			c, err := sdk.New(hs.URL)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ServerVersion(testCtx(t))
			var st *types.Status
			if !errors.As(err, &st) {
				t.Fatalf("error = %v, want a *types.Status", err)
			}
			if st.Code != int32(tt.code) || st.Reason != tt.reason || st.Message == "" {
				t.Fatalf("Status = %+v, want code %d reason %s and a message", st, tt.code, tt.reason)
			}
			if tt.code == http.StatusGone && !sdk.IsGone(err) {
				t.Fatal("IsGone = false for 410")
			}
		})
	}
}

func TestNewRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:6443", "ftp://x", "http://", "://x"} {
		if _, err := sdk.New(u); err == nil {
			t.Errorf("New(%q) succeeded, want an error", u)
		}
	}
}

func TestPagination(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	rc := env.client.Resource(mustResource(t, "configmaps")).Namespace("default")
	for i := range 5 {
		if _, err := rc.Create(ctx, newConfigMap("default", fmt.Sprintf("cm-%d", i), nil, nil)); err != nil {
			t.Fatal(err)
		}
	}
	page, err := rc.List(ctx, sdk.ListOptions{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 || page.Continue == "" {
		t.Fatalf("first page: %d items, continue %q; want 2 and a token", len(page.Items), page.Continue)
	}
	all, err := rc.ListAll(ctx, sdk.ListOptions{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range all.Items {
		names = append(names, o.GetObjectMeta().Name)
	}
	if fmt.Sprint(names) != "[cm-0 cm-1 cm-2 cm-3 cm-4]" {
		t.Fatalf("ListAll names = %v", names)
	}
}

func mustResource(t testing.TB, name string) *types.Resource {
	t.Helper()
	res, ok := types.LookupResource(name)
	if !ok {
		t.Fatalf("resource %q not registered", name)
	}
	return res
}

func TestTable(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	rc := env.client.Resource(mustResource(t, "configmaps")).Namespace("default")
	if _, err := rc.Create(ctx, newConfigMap("default", "cfg", nil, map[string]string{"a": "1", "b": "2"})); err != nil {
		t.Fatal(err)
	}
	tbl, err := rc.Table(ctx, "", sdk.ListOptions{})
	if err != nil {
		t.Fatalf("Table: %v", err)
	}
	var cols []string
	for _, c := range tbl.ColumnDefinitions {
		cols = append(cols, c.Name)
	}
	if fmt.Sprint(cols) != "[Name Data Age]" {
		t.Fatalf("columns = %v, want [Name Data Age]", cols)
	}
	if len(tbl.Rows) != 1 || tbl.Rows[0].Cells[0] != "cfg" {
		t.Fatalf("rows = %+v, want one row for cfg", tbl.Rows)
	}
	m, err := tbl.Rows[0].RowMeta()
	if err != nil || m.Namespace != "default" {
		t.Fatalf("RowMeta = %+v, %v; want namespace default", m, err)
	}
	one, err := rc.Table(ctx, "cfg", sdk.ListOptions{})
	if err != nil || len(one.Rows) != 1 {
		t.Fatalf("Table(cfg) = %+v, %v; want one row", one, err)
	}
	if _, err := rc.Table(ctx, "missing", sdk.ListOptions{}); !sdk.IsNotFound(err) {
		t.Fatalf("Table(missing) error = %v, want NotFound", err)
	}
}

func TestBindAndScale(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	pods := sdk.Typed[*types.Pod](env.client).Namespace("default")
	pod, err := pods.Create(ctx, newPod("", "web", ""))
	if err != nil {
		t.Fatal(err)
	}
	if err := env.client.Bind(ctx, pod, "node-1"); err != nil {
		t.Fatalf("Bind: %v", err)
	}
	got, err := pods.Get(ctx, "web")
	if err != nil || got.Spec.NodeName != "node-1" {
		t.Fatalf("after Bind: nodeName %q, %v; want node-1", got.Spec.NodeName, err)
	}
	if err := env.client.Bind(ctx, pod, "node-2"); !sdk.IsConflict(err) {
		t.Fatalf("second Bind error = %v, want Conflict", err)
	}

	replicas := int32(2)
	d := &types.Deployment{
		TypeMeta:   types.TypeMeta{Kind: "Deployment", APIVersion: "apps/v1"},
		ObjectMeta: types.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: types.DeploymentSpec{
			Replicas: &replicas,
			Selector: &types.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: types.PodTemplateSpec{
				ObjectMeta: types.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       types.PodSpec{Containers: []types.Container{{Name: "main", Image: "web:1"}}},
			},
		},
	}
	deploys := sdk.Typed[*types.Deployment](env.client).Namespace("default")
	if _, err := deploys.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	rc := deploys.Dynamic()
	s, err := rc.GetScale(ctx, "web")
	if err != nil || s.Spec.Replicas != 2 {
		t.Fatalf("GetScale = %+v, %v; want 2 replicas", s, err)
	}
	s.Spec.Replicas = 5
	if _, err := rc.UpdateScale(ctx, "web", s); err != nil {
		t.Fatalf("UpdateScale: %v", err)
	}
	got2, err := deploys.Get(ctx, "web")
	if err != nil || got2.Spec.Replicas == nil || *got2.Spec.Replicas != 5 {
		t.Fatalf("deployment after UpdateScale: %v, %v; want 5 replicas", got2.Spec.Replicas, err)
	}
}

// notRegistered is an Object type no resource is registered for.
type notRegistered struct {
	types.TypeMeta
	types.ObjectMeta
}

func TestUnregisteredType(t *testing.T) {
	c, err := sdk.New("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = sdk.Typed[*notRegistered](c).Get(testCtx(t), "x")
	if !errors.Is(err, sdk.ErrUnregisteredType) {
		t.Fatalf("error = %v, want ErrUnregisteredType", err)
	}
}
