package server_test

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/server"
	"github.com/wharfhq/wharf/api/types"
)

const svcPath = "/api/v1/namespaces/default/services"

func service(name, typ string, ports ...map[string]any) map[string]any {
	if len(ports) == 0 {
		ports = []map[string]any{{"port": 80}}
	}
	return map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": name},
		"spec": map[string]any{"type": typ, "selector": map[string]any{"app": name}, "ports": ports}}
}

func TestServiceClusterIPAllocation(t *testing.T) {
	e := newEnv(t)
	seen := map[string]bool{}
	for _, name := range []string{"a", "b", "c"} {
		var svc types.Service
		e.post(t, svcPath, service(name, "ClusterIP")).must(t, http.StatusCreated).into(t, &svc)
		ip, err := netip.ParseAddr(svc.Spec.ClusterIP)
		if err != nil || !server.DefaultServiceCIDR.Contains(ip) || ip == netip.MustParseAddr("10.96.0.0") || ip == netip.MustParseAddr("10.96.0.1") {
			t.Fatalf("clusterIP %q", svc.Spec.ClusterIP)
		}
		if seen[svc.Spec.ClusterIP] {
			t.Fatalf("clusterIP %s handed out twice", svc.Spec.ClusterIP)
		}
		seen[svc.Spec.ClusterIP] = true
		if len(svc.Spec.ClusterIPs) != 1 || svc.Spec.ClusterIPs[0] != svc.Spec.ClusterIP ||
			len(svc.Spec.IPFamilies) != 1 || svc.Spec.IPFamilies[0] != types.IPv4Protocol ||
			svc.Spec.IPFamilyPolicy == nil || *svc.Spec.IPFamilyPolicy != types.IPFamilyPolicySingleStack {
			t.Fatalf("spec %+v", svc.Spec)
		}
	}

	// An address asked for must be free and in range.
	explicit := service("d", "ClusterIP")
	explicit["spec"].(map[string]any)["clusterIP"] = "10.96.7.7"
	e.post(t, svcPath, explicit).must(t, http.StatusCreated)
	taken := service("e", "ClusterIP")
	taken["spec"].(map[string]any)["clusterIP"] = "10.96.7.7"
	st := e.post(t, svcPath, taken).status(t, 422, types.StatusReasonInvalid)
	if !strings.Contains(st.Message, "provided IP is already allocated") {
		t.Fatalf("message %q", st.Message)
	}
	taken["spec"].(map[string]any)["clusterIP"] = "192.168.0.9"
	st = e.post(t, svcPath, taken).status(t, 422, types.StatusReasonInvalid)
	if !strings.Contains(st.Message, "not in the valid range") {
		t.Fatalf("message %q", st.Message)
	}

	// Headless and ExternalName Services get no address.
	headless := service("h", "ClusterIP")
	headless["spec"].(map[string]any)["clusterIP"] = "None"
	var svc types.Service
	e.post(t, svcPath, headless).must(t, http.StatusCreated).into(t, &svc)
	if svc.Spec.ClusterIP != "None" {
		t.Fatalf("headless clusterIP %q", svc.Spec.ClusterIP)
	}
	ext := map[string]any{"metadata": map[string]any{"name": "x"}, "spec": map[string]any{"type": "ExternalName", "externalName": "example.com"}}
	var extSvc types.Service
	e.post(t, svcPath, ext).must(t, http.StatusCreated).into(t, &extSvc)
	if extSvc.Spec.ClusterIP != "" || len(extSvc.Spec.ClusterIPs) != 0 {
		t.Fatalf("ExternalName clusterIP %q %v", extSvc.Spec.ClusterIP, extSvc.Spec.ClusterIPs)
	}

	// A PUT without the addresses keeps them (kubectl replace of a file).
	var a types.Service
	e.get(t, svcPath+"/a").must(t, 200).into(t, &a)
	var replaced types.Service
	e.put(t, svcPath+"/a", service("a", "ClusterIP", map[string]any{"port": 81})).must(t, 200).into(t, &replaced)
	if replaced.Spec.ClusterIP != a.Spec.ClusterIP || replaced.Spec.Ports[0].Port != 81 {
		t.Fatalf("after PUT clusterIP %q (was %q), ports %+v", replaced.Spec.ClusterIP, a.Spec.ClusterIP, replaced.Spec.Ports)
	}
	// The address cannot change once allocated.
	moved := service("a", "ClusterIP")
	moved["spec"].(map[string]any)["clusterIP"] = "10.96.9.9"
	st = e.put(t, svcPath+"/a", moved).status(t, 422, types.StatusReasonInvalid)
	if !strings.Contains(st.Message, "spec.clusterIP") || !strings.Contains(st.Message, "field is immutable") {
		t.Fatalf("message %q", st.Message)
	}
	// Deleting a Service frees its address for explicit reuse.
	e.del(t, svcPath+"/d", nil).must(t, 200)
	e.post(t, svcPath, taken).status(t, 422, types.StatusReasonInvalid) // still out of range
	taken["spec"].(map[string]any)["clusterIP"] = "10.96.7.7"
	e.post(t, svcPath, taken).must(t, http.StatusCreated)
}

func TestServiceNodePortAllocation(t *testing.T) {
	e := newEnv(t)
	var np types.Service
	e.post(t, svcPath, service("np", "NodePort", map[string]any{"name": "http", "port": 80}, map[string]any{"name": "https", "port": 443, "nodePort": 30443})).
		must(t, http.StatusCreated).into(t, &np)
	p0, p1 := np.Spec.Ports[0].NodePort, np.Spec.Ports[1].NodePort
	if p0 < 30000 || p0 > 32767 || p0 == 30443 || p1 != 30443 {
		t.Fatalf("node ports %d %d", p0, p1)
	}
	st := e.post(t, svcPath, service("np2", "NodePort", map[string]any{"port": 80, "nodePort": 30443})).status(t, 422, types.StatusReasonInvalid)
	if !strings.Contains(st.Message, "spec.ports[0].nodePort") || !strings.Contains(st.Message, "already allocated") {
		t.Fatalf("message %q", st.Message)
	}
	// Switching a ClusterIP Service to NodePort allocates its node ports
	// and keeps its address.
	var ci, after types.Service
	e.post(t, svcPath, service("ci", "ClusterIP")).must(t, http.StatusCreated).into(t, &ci)
	e.patch(t, svcPath+"/ci", "application/merge-patch+json", `{"spec":{"type":"NodePort"}}`).must(t, 200).into(t, &after)
	if after.Spec.ClusterIP != ci.Spec.ClusterIP || after.Spec.Ports[0].NodePort < 30000 {
		t.Fatalf("after switching to NodePort: clusterIP %q (was %q) nodePort %d", after.Spec.ClusterIP, ci.Spec.ClusterIP, after.Spec.Ports[0].NodePort)
	}
	// A PUT without node ports keeps them.
	var put types.Service
	e.put(t, svcPath+"/np", service("np", "NodePort", map[string]any{"name": "http", "port": 80}, map[string]any{"name": "https", "port": 443})).
		must(t, 200).into(t, &put)
	if put.Spec.Ports[0].NodePort != p0 || put.Spec.Ports[1].NodePort != p1 || put.Spec.ClusterIP != np.Spec.ClusterIP {
		t.Fatalf("after PUT: %+v", put.Spec)
	}
}

func TestServiceRangeFull(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.ServiceCIDR = netip.MustParsePrefix("10.0.0.0/30") })
	var svc types.Service
	e.post(t, svcPath, service("only", "ClusterIP")).must(t, http.StatusCreated).into(t, &svc)
	if svc.Spec.ClusterIP != "10.0.0.2" {
		t.Fatalf("clusterIP %q, want the one usable address 10.0.0.2", svc.Spec.ClusterIP)
	}
	st := e.post(t, svcPath, service("more", "ClusterIP")).status(t, 422, types.StatusReasonInvalid)
	if !strings.Contains(st.Message, "range is full") {
		t.Fatalf("message %q", st.Message)
	}
}
