package server_test

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/types"
)

const leasePath = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"

// TestLeaseCRUD: a coordination.k8s.io/v1 Lease is created, read back
// with its microsecond times unchanged, listed, printed as NAME HOLDER AGE,
// renewed, and checked as Kubernetes checks it.
func TestLeaseCRUD(t *testing.T) {
	e := newEnv(t)
	const renew = "2026-01-02T03:04:05.123456Z"
	body := `{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"node-a"},
		"spec":{"holderIdentity":"node-a","leaseDurationSeconds":40,"acquireTime":"2026-01-02T03:04:00.000001Z","renewTime":"` + renew + `"}}`
	e.post(t, leasePath, body).must(t, http.StatusCreated)

	var raw struct {
		Spec map[string]any `json:"spec"`
	}
	e.get(t, leasePath+"/node-a").must(t, http.StatusOK).into(t, &raw)
	if raw.Spec["renewTime"] != renew || raw.Spec["acquireTime"] != "2026-01-02T03:04:00.000001Z" {
		t.Errorf("times = %v, %v; want them as sent", raw.Spec["acquireTime"], raw.Spec["renewTime"])
	}
	var l types.Lease
	e.get(t, leasePath+"/node-a").must(t, http.StatusOK).into(t, &l)
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != "node-a" || l.Spec.LeaseDurationSeconds == nil || *l.Spec.LeaseDurationSeconds != 40 ||
		l.Spec.RenewTime == nil || l.Spec.RenewTime.Nanosecond() != 123456000 {
		t.Fatalf("lease spec = %+v", l.Spec)
	}

	// Renewal: renewTime moves.
	next := l.Spec.RenewTime.Add(10_000_000_000)
	l.Spec.RenewTime = &types.MicroTime{Time: next}
	var got types.Lease
	e.put(t, leasePath+"/node-a", l).must(t, http.StatusOK).into(t, &got)
	if !got.Spec.RenewTime.Equal(next) {
		t.Errorf("renewTime after update = %v, want %v", got.Spec.RenewTime, next)
	}

	if n := names(t, e.get(t, leasePath).must(t, http.StatusOK)); !slices.Equal(n, []string{"node-a"}) {
		t.Errorf("list = %v", n)
	}
	if n := names(t, e.get(t, "/apis/coordination.k8s.io/v1/leases").must(t, http.StatusOK)); !slices.Equal(n, []string{"node-a"}) {
		t.Errorf("list in all namespaces = %v", n)
	}

	tbl := e.send(t, req{method: http.MethodGet, path: leasePath, accept: "application/json;as=Table;v=v1;g=meta.k8s.io"}).must(t, http.StatusOK)
	var table struct {
		Columns []struct{ Name string } `json:"columnDefinitions"`
		Rows    []struct{ Cells []any } `json:"rows"`
	}
	tbl.into(t, &table)
	var cols []string
	for _, c := range table.Columns {
		cols = append(cols, c.Name)
	}
	if !slices.Equal(cols, []string{"Name", "Holder", "Age"}) || len(table.Rows) != 1 || table.Rows[0].Cells[1] != "node-a" {
		t.Errorf("table columns %v rows %+v", cols, table.Rows)
	}

	tests := []struct {
		name, spec string
		code       int
		reason     types.StatusReason
		field      string
	}{
		{"zero duration", `{"leaseDurationSeconds":0}`, 422, types.StatusReasonInvalid, "spec.leaseDurationSeconds"},
		{"negative transitions", `{"leaseTransitions":-1}`, 422, types.StatusReasonInvalid, "spec.leaseTransitions"},
		{"unknown strategy", `{"strategy":"Newest"}`, 422, types.StatusReasonInvalid, "spec.strategy"},
		{"preferred holder without strategy", `{"preferredHolder":"b"}`, 422, types.StatusReasonInvalid, "spec.preferredHolder"},
		{"unknown field", `{"holder":"b"}`, 400, types.StatusReasonBadRequest, "holder"},
		{"not a MicroTime", `{"renewTime":"yesterday"}`, 400, types.StatusReasonBadRequest, "yesterday"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.post(t, leasePath+"?fieldValidation=Strict", `{"metadata":{"name":"bad"},"spec":`+tt.spec+`}`)
			st := r.status(t, tt.code, tt.reason)
			if !strings.Contains(string(r.body), tt.field) {
				t.Errorf("status %q does not name %q", st.Message, tt.field)
			}
		})
	}
}

// TestLeaseDiscoveryAndNamespace: leases appear in discovery (kubectl
// api-resources), and kube-node-lease exists from the start and cannot be
// deleted.
func TestLeaseDiscoveryAndNamespace(t *testing.T) {
	e := newEnv(t)
	var list struct {
		Resources []struct {
			Name       string   `json:"name"`
			Kind       string   `json:"kind"`
			Namespaced bool     `json:"namespaced"`
			Verbs      []string `json:"verbs"`
		} `json:"resources"`
	}
	e.get(t, "/apis/coordination.k8s.io/v1").must(t, http.StatusOK).into(t, &list)
	found := false
	for _, r := range list.Resources {
		if r.Name == "leases" {
			found = r.Kind == "Lease" && r.Namespaced && slices.Contains(r.Verbs, "update")
		}
	}
	if !found {
		t.Errorf("discovery: no namespaced leases resource in %+v", list.Resources)
	}
	var groups struct {
		Groups []struct{ Name string } `json:"groups"`
	}
	e.get(t, "/apis").must(t, http.StatusOK).into(t, &groups)
	if !slices.ContainsFunc(groups.Groups, func(g struct{ Name string }) bool { return g.Name == "coordination.k8s.io" }) {
		t.Errorf("coordination.k8s.io missing from /apis: %+v", groups.Groups)
	}

	e.get(t, "/api/v1/namespaces/kube-node-lease").must(t, http.StatusOK)
	e.del(t, "/api/v1/namespaces/kube-node-lease", nil).status(t, http.StatusForbidden, types.StatusReasonForbidden)
}

// TestKubectlLeases: kubectl api-resources lists leases, and kubectl get
// prints a Lease with its holder.
func TestKubectlLeases(t *testing.T) {
	e := newEnv(t)
	e.post(t, leasePath, `{"metadata":{"name":"node-a"},"spec":{"holderIdentity":"node-a","leaseDurationSeconds":40}}`).must(t, http.StatusCreated)
	out, err := e.kubectl(t, "api-resources", "--api-group=coordination.k8s.io", "--no-headers")
	if err != nil {
		t.Fatal(err)
	}
	if f := strings.Fields(string(out)); !slices.Equal(f, []string{"leases", "coordination.k8s.io/v1", "true", "Lease"}) {
		t.Errorf("kubectl api-resources: %q", out)
	}
	out, err = e.kubectl(t, "get", "leases", "-n", "kube-node-lease")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2 || !slices.Equal(strings.Fields(lines[0]), []string{"NAME", "HOLDER", "AGE"}) || strings.Fields(lines[1])[1] != "node-a" {
		t.Errorf("kubectl get leases:\n%s", out)
	}

	manifest := filepath.Join(t.TempDir(), "lease.yaml")
	doc := "apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: lock\n  namespace: default\n" +
		"spec:\n  holderIdentity: leader-1\n  leaseDurationSeconds: 15\n  renewTime: \"2026-01-02T03:04:05.000007Z\"\n"
	if err := os.WriteFile(manifest, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := e.kubectl(t, "apply", "-f", manifest); err != nil {
		t.Fatalf("kubectl apply: %v: %s", err, out)
	}
	out, err = e.kubectl(t, "get", "lease", "lock", "-n", "default", "-o", "jsonpath={.spec.holderIdentity} {.spec.renewTime}")
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "leader-1 2026-01-02T03:04:05.000007Z" {
		t.Errorf("applied lease: %q", out)
	}
}
