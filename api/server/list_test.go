package server_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"

	"github.com/wharfhq/wharf/api/types"
)

func TestListLabelSelectors(t *testing.T) {
	e := newEnv(t)
	objs := []struct {
		name   string
		labels map[string]string
	}{
		{"a", map[string]string{"app": "web", "tier": "front"}},
		{"b", map[string]string{"app": "web", "tier": "back"}},
		{"c", map[string]string{"app": "db"}},
		{"d", nil},
	}
	for _, o := range objs {
		e.post(t, cmPath, configMap(o.name, o.labels, nil)).must(t, http.StatusCreated)
	}
	tests := []struct {
		selector string
		want     []string
	}{
		{"", []string{"a", "b", "c", "d"}},
		{"app=web", []string{"a", "b"}},
		{"app==web", []string{"a", "b"}},
		{"app!=web", []string{"c", "d"}},
		{"app=web,tier=back", []string{"b"}},
		{"app in (db, web)", []string{"a", "b", "c"}},
		{"tier notin (front)", []string{"b", "c", "d"}},
		{"tier", []string{"a", "b"}},
		{"!tier", []string{"c", "d"}},
		{"app=nothing", []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.selector, func(t *testing.T) {
			got := names(t, e.get(t, cmPath+"?labelSelector="+url.QueryEscape(tc.selector)).must(t, 200))
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestListFieldSelectors(t *testing.T) {
	e := newEnv(t)
	e.post(t, "/api/v1/namespaces", map[string]any{"metadata": map[string]any{"name": "other"}}).must(t, http.StatusCreated)
	e.post(t, podPath, pod("unbound", nil)).must(t, http.StatusCreated)
	bound := pod("bound", nil)
	bound["spec"].(map[string]any)["nodeName"] = "node-1"
	e.post(t, podPath, bound).must(t, http.StatusCreated)
	e.post(t, "/api/v1/namespaces/other/pods", pod("elsewhere", nil)).must(t, http.StatusCreated)
	e.patch(t, podPath+"/bound/status", "application/merge-patch+json", `{"status":{"phase":"Running"}}`).must(t, 200)

	tests := []struct {
		path, selector string
		want           []string
	}{
		{"/api/v1/pods", "metadata.name=bound", []string{"bound"}},
		{"/api/v1/pods", "metadata.namespace=other", []string{"elsewhere"}},
		{"/api/v1/pods", "metadata.namespace!=other", []string{"bound", "unbound"}},
		{podPath, "spec.nodeName=node-1", []string{"bound"}},
		{podPath, "spec.nodeName=", []string{"unbound"}},
		{"/api/v1/pods", "status.phase=Pending", []string{"unbound", "elsewhere"}},
		{podPath, "status.phase=Running,spec.nodeName=node-1", []string{"bound"}},
		{podPath, "status.phase!=Running", []string{"unbound"}},
	}
	for _, tc := range tests {
		t.Run(tc.path+"?"+tc.selector, func(t *testing.T) {
			got := names(t, e.get(t, tc.path+"?fieldSelector="+url.QueryEscape(tc.selector)).must(t, 200))
			if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// listPage is the part of a list answer pagination reads.
type listPage struct {
	Metadata types.ListMeta `json:"metadata"`
	Items    []struct {
		Metadata types.ObjectMeta `json:"metadata"`
	} `json:"items"`
}

func TestListPagination(t *testing.T) {
	e := newEnv(t)
	for i := range 5 {
		e.post(t, cmPath, configMap("cm"+strconv.Itoa(i), map[string]string{"odd": strconv.FormatBool(i%2 == 1)}, nil)).must(t, http.StatusCreated)
	}
	var p1 listPage
	e.get(t, cmPath+"?limit=2").must(t, 200).into(t, &p1)
	if len(p1.Items) != 2 || p1.Metadata.Continue == "" {
		t.Fatalf("first page: %d items, continue %q", len(p1.Items), p1.Metadata.Continue)
	}
	// Writes after the first page are not seen by later pages: the list is
	// one consistent snapshot.
	e.post(t, cmPath, configMap("cm9", nil, nil)).must(t, http.StatusCreated)
	e.del(t, cmPath+"/cm4", nil).must(t, 200)

	var got []string
	for _, it := range p1.Items {
		got = append(got, it.Metadata.Name)
	}
	next := p1.Metadata.Continue
	for next != "" {
		var p listPage
		e.get(t, cmPath+"?limit=2&continue="+url.QueryEscape(next)).must(t, 200).into(t, &p)
		if p.Metadata.ResourceVersion != p1.Metadata.ResourceVersion {
			t.Fatalf("page at resourceVersion %s, first page at %s", p.Metadata.ResourceVersion, p1.Metadata.ResourceVersion)
		}
		for _, it := range p.Items {
			got = append(got, it.Metadata.Name)
		}
		next = p.Metadata.Continue
	}
	if want := []string{"cm0", "cm1", "cm2", "cm3", "cm4"}; !slices.Equal(got, want) {
		t.Fatalf("paged through %v, want %v", got, want)
	}

	// A selector counts matching items only: a page is full.
	var sp listPage
	e.get(t, cmPath+"?limit=1&labelSelector=odd%3Dtrue").must(t, 200).into(t, &sp)
	if len(sp.Items) != 1 || sp.Items[0].Metadata.Name != "cm1" || sp.Metadata.Continue == "" {
		t.Fatalf("selected page %+v", sp)
	}
	var sp2 listPage
	e.get(t, cmPath+"?limit=1&labelSelector=odd%3Dtrue&continue="+url.QueryEscape(sp.Metadata.Continue)).must(t, 200).into(t, &sp2)
	if len(sp2.Items) != 1 || sp2.Items[0].Metadata.Name != "cm3" {
		t.Fatalf("second selected page %+v", sp2)
	}

	// A continue token of another resource is refused.
	e.get(t, "/api/v1/namespaces/default/secrets?limit=1&continue="+url.QueryEscape(p1.Metadata.Continue)).status(t, 400, types.StatusReasonBadRequest)
	// So is continue together with a resourceVersion.
	e.get(t, cmPath+"?limit=1&resourceVersion=5&continue="+url.QueryEscape(p1.Metadata.Continue)).status(t, 400, types.StatusReasonBadRequest)
}

func TestListContinueCompacted(t *testing.T) {
	e := newEnv(t)
	for i := range 3 {
		e.post(t, cmPath, configMap("cm"+strconv.Itoa(i), nil, nil)).must(t, http.StatusCreated)
	}
	var p1 listPage
	e.get(t, cmPath+"?limit=1").must(t, 200).into(t, &p1)
	e.post(t, cmPath, configMap("later", nil, nil)).must(t, http.StatusCreated)
	if err := e.store.Compact(context.Background(), e.store.Revision()); err != nil {
		t.Fatalf("compact: %v", err)
	}
	st := e.get(t, cmPath+"?limit=1&continue="+url.QueryEscape(p1.Metadata.Continue)).status(t, http.StatusGone, types.StatusReasonExpired)
	if st.Message == "" {
		t.Fatal("410 without a message")
	}
	// A fresh list works.
	if got := names(t, e.get(t, cmPath).must(t, 200)); len(got) != 4 {
		t.Fatalf("fresh list %v", got)
	}
}

func TestListResourceVersion(t *testing.T) {
	e := newEnv(t)
	var a types.ConfigMap
	e.post(t, cmPath, configMap("a", nil, nil)).must(t, http.StatusCreated).into(t, &a)
	e.post(t, cmPath, configMap("b", nil, nil)).must(t, http.StatusCreated)
	// Exact reads the past.
	if got := names(t, e.get(t, cmPath+"?resourceVersionMatch=Exact&resourceVersion="+a.ResourceVersion).must(t, 200)); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("exact list at %s: %v", a.ResourceVersion, got)
	}
	// A resourceVersion from the future is a 504 Timeout, as Kubernetes.
	e.get(t, cmPath+"?resourceVersion=999999").status(t, http.StatusGatewayTimeout, types.StatusReasonTimeout)
	e.get(t, cmPath+"?resourceVersion=abc").status(t, 400, types.StatusReasonBadRequest)
	// Exact below the compacted history is 410.
	if err := e.store.Compact(context.Background(), e.store.Revision()); err != nil {
		t.Fatalf("compact: %v", err)
	}
	e.get(t, cmPath+"?resourceVersionMatch=Exact&resourceVersion="+a.ResourceVersion).status(t, http.StatusGone, types.StatusReasonExpired)
}

func TestListKindAndAllNamespaces(t *testing.T) {
	e := newEnv(t)
	e.post(t, "/api/v1/namespaces", map[string]any{"metadata": map[string]any{"name": "other"}}).must(t, http.StatusCreated)
	e.post(t, cmPath, configMap("a", nil, nil)).must(t, http.StatusCreated)
	e.post(t, "/api/v1/namespaces/other/configmaps", configMap("b", nil, nil)).must(t, http.StatusCreated)
	var l types.ConfigMapList
	e.get(t, "/api/v1/configmaps").must(t, 200).into(t, &l)
	if l.Kind != "ConfigMapList" || l.APIVersion != "v1" || len(l.Items) != 2 || l.ResourceVersion == "" {
		t.Fatalf("list %s/%s rv %q with %d items", l.APIVersion, l.Kind, l.ResourceVersion, len(l.Items))
	}
	if got := names(t, e.get(t, "/api/v1/namespaces/other/configmaps").must(t, 200)); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("namespace list %v", got)
	}
}
