package main

import (
	"bytes"
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/server"
	"github.com/wharfhq/wharf/api/server/servertest"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

// topFixture is a server with Pods and Nodes carrying usage samples.
func topFixture(t *testing.T) *servertest.Server {
	t.Helper()
	// Samples taken now (wharf top, as kubectl top, ages a Pod without
	// metrics by the client's clock), and the server's clock fixed a
	// round after them: they are fresh.
	at := types.NewTime(time.Now().UTC().Truncate(time.Second))
	srv := servertest.Start(t, servertest.Options{Config: func(c *server.Config) {
		c.Now = func() time.Time { return at.Add(15 * time.Second) }
	}})
	ctx := context.Background()
	usage := func(cpu, mem string) types.ResourceList {
		return types.ResourceList{types.ResourceCPU: types.MustParse(cpu), types.ResourceMemory: types.MustParse(mem)}
	}
	if _, err := sdk.Typed[*types.Namespace](srv.Client).Create(ctx, &types.Namespace{ObjectMeta: types.ObjectMeta{Name: "other"}}); err != nil {
		t.Fatal(err)
	}
	// A sample its agent stopped rewriting ten minutes ago: stale
	// (types.UsageSampleMaxAge), not served.
	stale := types.NewTime(at.Add(-10 * time.Minute))
	for _, p := range []struct {
		ns, name, app string
		containers    []types.ContainerMetrics
		at            types.Time
	}{
		{"default", "web", "web", []types.ContainerMetrics{{Name: "app", Usage: usage("998m", "30Mi")}, {Name: "side", Usage: usage("2m", "2Mi")}}, at},
		{"default", "db", "db", []types.ContainerMetrics{{Name: "app", Usage: usage("1m", "100Mi")}}, at},
		{"other", "far", "web", []types.ContainerMetrics{{Name: "app", Usage: usage("5m", "1Mi")}}, at},
		{"other", "fresh", "web", nil, at},
		{"other", "gone", "web", []types.ContainerMetrics{{Name: "app", Usage: usage("7m", "7Mi")}}, stale},
	} {
		pod := &types.Pod{ObjectMeta: types.ObjectMeta{Name: p.name, Namespace: p.ns, Labels: map[string]string{"app": p.app}},
			Spec: types.PodSpec{Containers: []types.Container{{Name: "app", Image: "example.com/app:v1"}}}}
		if p.containers != nil {
			pod.Annotations = map[string]string{types.AnnotationUsageSample: (&types.UsageSample{Timestamp: p.at,
				Window: types.Duration{Duration: 15 * time.Second}, Containers: p.containers}).String()}
		}
		pods := sdk.Typed[*types.Pod](srv.Client).Namespace(p.ns)
		created, err := pods.Create(ctx, pod)
		if err != nil {
			t.Fatal(err)
		}
		created.Status.Phase = types.PodRunning
		if _, err := pods.UpdateStatus(ctx, created); err != nil {
			t.Fatal(err)
		}
	}
	nodes := sdk.Typed[*types.Node](srv.Client)
	for _, n := range []struct {
		name  string
		usage types.ResourceList
		at    types.Time
	}{{"n1", usage("500m", "1Gi"), at}, {"n2", usage("1500m", "512Mi"), at}, {"n3", nil, at}, {"n4", usage("900m", "2Gi"), stale}} {
		node := &types.Node{ObjectMeta: types.ObjectMeta{Name: n.name, Labels: map[string]string{"zone": n.name}}}
		if n.usage != nil {
			node.Annotations = map[string]string{types.AnnotationUsageSample: (&types.UsageSample{Timestamp: n.at,
				Window: types.Duration{Duration: 15 * time.Second}, Usage: n.usage}).String()}
		}
		created, err := nodes.Create(ctx, node)
		if err != nil {
			t.Fatal(err)
		}
		created.Status.Allocatable = usage("2", "4Gi")
		created.Status.Capacity = usage("4", "8Gi")
		if _, err := nodes.UpdateStatus(ctx, created); err != nil {
			t.Fatal(err)
		}
	}
	return srv
}

// TestTop checks wharf top's tables: the columns and figures of kubectl
// top on the same objects (api/server's TestKubectlTop).
func TestTop(t *testing.T) {
	srv := topFixture(t)
	tests := []struct {
		name    string
		args    []string
		want    string
		wantErr string
	}{
		{"pods", []string{"top", "pod"}, `
NAME   CPU(cores)   MEMORY(bytes)
db     1m           100Mi
web    1000m        32Mi`, ""},
		{"one pod", []string{"top", "pod", "web"}, `
NAME   CPU(cores)   MEMORY(bytes)
web    1000m        32Mi`, ""},
		{"containers", []string{"top", "pods", "--containers", "-l", "app=web"}, `
POD   NAME   CPU(cores)   MEMORY(bytes)
web   app    998m         30Mi
web   side   2m           2Mi`, ""},
		{"all namespaces", []string{"top", "pod", "-A", "-l", "app=web"}, `
NAMESPACE   NAME   CPU(cores)   MEMORY(bytes)
default     web    1000m        32Mi
other       far    5m           1Mi`, ""},
		{"namespace, sorted by memory", []string{"top", "pod", "-n", "default", "--sort-by", "memory"}, `
NAME   CPU(cores)   MEMORY(bytes)
db     1m           100Mi
web    1000m        32Mi`, ""},
		{"sorted by cpu, no headers", []string{"top", "pod", "--sort-by=cpu", "--no-headers"}, `
web   1000m   32Mi
db    1m      100Mi`, ""},
		{"nodes", []string{"top", "node"}, `
NAME   CPU(cores)   CPU(%)      MEMORY(bytes)   MEMORY(%)
n1     500m         25%         1024Mi          25%
n2     1500m        75%         512Mi           12%
n3     <unknown>    <unknown>   <unknown>       <unknown>
n4     <unknown>    <unknown>   <unknown>       <unknown>`, ""},
		{"nodes, share of capacity", []string{"top", "node", "--show-capacity", "--sort-by=cpu"}, `
NAME   CPU(cores)   CPU(%)      MEMORY(bytes)   MEMORY(%)
n2     1500m        37%         512Mi           6%
n1     500m         12%         1024Mi          12%
n3     <unknown>    <unknown>   <unknown>       <unknown>
n4     <unknown>    <unknown>   <unknown>       <unknown>`, ""},
		{"nodes without metrics", []string{"top", "node", "-l", "zone=n3"}, "", "metrics not available yet"},
		{"nodes with stale metrics", []string{"top", "node", "-l", "zone=n4"}, "", "metrics not available yet"},
		{"one node", []string{"top", "node", "n2"}, `
NAME   CPU(cores)   CPU(%)   MEMORY(bytes)   MEMORY(%)
n2     1500m        75%      512Mi           12%`, ""},
		{"nodes by label", []string{"top", "no", "-l", "zone=n1"}, `
NAME   CPU(cores)   CPU(%)   MEMORY(bytes)   MEMORY(%)
n1     500m         25%      1024Mi          25%`, ""},
		{"pod without metrics", []string{"top", "pod", "fresh", "-n", "other"}, "",
			`podmetrics.metrics.k8s.io "other/fresh" not found`},
		{"pods without metrics yet", []string{"top", "pod", "-n", "other", "-l", "app=web", "--field-selector", "metadata.name=fresh"}, "",
			"metrics not available yet"},
		{"node without metrics", []string{"top", "node", "n3"}, "", `nodemetrics.metrics.k8s.io "n3" not found`},
		{"node with stale metrics", []string{"top", "node", "n4"}, "", `nodemetrics.metrics.k8s.io "n4" not found`},
		{"pod with stale metrics", []string{"top", "pod", "gone", "-n", "other"}, "", `podmetrics.metrics.k8s.io "other/gone" not found`},
		{"bad sort", []string{"top", "pod", "--sort-by", "name"}, "", `--sort-by "name": want cpu or memory`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(t.Context(), append([]string{"--server", srv.URL}, tc.args...), strings.NewReader(""), &out, &errOut)
			if tc.wantErr != "" {
				if code == 0 || !strings.Contains(errOut.String(), tc.wantErr) {
					t.Fatalf("exit %d, stderr %q; want an error with %q", code, errOut.String(), tc.wantErr)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			if got, want := trimLineEnds(out.String()), strings.TrimSpace(tc.want); got != want {
				t.Errorf("wharf %s:\n%s\nwant:\n%s", strings.Join(tc.args, " "), got, want)
			}
		})
	}
	t.Run("no pods", func(t *testing.T) {
		var out, errOut bytes.Buffer
		code := run(t.Context(), []string{"--server", srv.URL, "top", "pod", "-n", "empty"}, strings.NewReader(""), &out, &errOut)
		if code != 0 || out.Len() != 0 || strings.TrimSpace(errOut.String()) != "No resources found in empty namespace." {
			t.Errorf("exit %d, out %q, err %q; want 0 and kubectl's note", code, out.String(), errOut.String())
		}
	})
}

// TestTopOldPodWithoutMetrics: a Pod older than two minutes without
// metrics is named, as kubectl top names it.
func TestTopOldPodWithoutMetrics(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{Config: func(c *server.Config) {
		c.Now = func() time.Time { return time.Now().Add(-time.Hour) }
	}})
	pod := &types.Pod{ObjectMeta: types.ObjectMeta{Name: "old", Namespace: "default"},
		Spec: types.PodSpec{Containers: []types.Container{{Name: "app", Image: "example.com/app:v1"}}}}
	if _, err := sdk.Typed[*types.Pod](srv.Client).Namespace("default").Create(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"--server", srv.URL, "top", "pod"}, strings.NewReader(""), &out, &errOut)
	if want := "Metrics not available for pod default/old, age: 60m"; code == 0 || !strings.Contains(errOut.String(), want) {
		t.Errorf("exit %d, stderr %q; want an error with %q", code, errOut.String(), want)
	}
}

// TestGetMetrics: the resources of the metrics API, served but not
// stored, resolve by every name kubectl knows them by, and get prints the
// server's table (kubectl get podmetrics: NAME CPU MEMORY WINDOW).
func TestGetMetrics(t *testing.T) {
	srv := topFixture(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"pods by group", []string{"get", "pods.metrics.k8s.io"}, `
NAME   CPU   MEMORY   WINDOW
db     1m    100Mi    15s
web    1     32Mi     15s`},
		{"podmetrics, one", []string{"get", "podmetrics", "web"}, `
NAME   CPU   MEMORY   WINDOW
web    1     32Mi     15s`},
		{"podmetrics, all namespaces", []string{"get", "PodMetrics", "-A", "-l", "app=web"}, `
NAMESPACE   NAME   CPU   MEMORY   WINDOW
default     web    1     32Mi     15s
other       far    5m    1Mi      15s`},
		{"nodes by group", []string{"get", "nodes.metrics.k8s.io"}, `
NAME   CPU     MEMORY   WINDOW
n1     500m    1Gi      15s
n2     1500m   512Mi    15s`},
		{"nodemetrics, slash form", []string{"get", "nodemetrics/n2"}, `
NAME   CPU     MEMORY   WINDOW
n2     1500m   512Mi    15s`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := wharfAt(t, srv.URL, tc.args...)
			if got, want := strings.TrimSpace(got), strings.TrimSpace(tc.want); got != want {
				t.Errorf("wharf %s:\n%s\nwant:\n%s", strings.Join(tc.args, " "), got, want)
			}
		})
	}
	t.Run("like kubectl", func(t *testing.T) {
		for _, args := range [][]string{{"get", "pods.metrics.k8s.io"}, {"get", "nodemetrics"}, {"get", "podmetrics", "-A"}, {"describe", "podmetrics", "web"}, {"describe", "nodemetrics"}, {"get", "podmetrics", "db", "-o", "yaml"},
			{"top", "node"}, {"top", "pod", "-A"}, {"top", "pod", "-n", "other", "--containers"}} {
			if got, want := unknownRowsSorted(wharfAt(t, srv.URL, args...)), unknownRowsSorted(kubectlAt(t, srv.URL, args...)); got != want {
				t.Errorf("wharf %s:\n%s\nkubectl:\n%s", strings.Join(args, " "), got, want)
			}
		}
	})
}

// trimLineEnds drops the padding the last column has at line ends (as
// kubectl top's has: the comparisons with kubectl check it), and the
// blank lines around.
func trimLineEnds(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// unknownRowsSorted sorts the rows of nodes without metrics, which kubectl
// top node prints last in the order of a Go map (so in no fixed order).
func unknownRowsSorted(s string) string {
	var known, unknown []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "<unknown>") {
			unknown = append(unknown, l)
		} else {
			known = append(known, l)
		}
	}
	sort.Strings(unknown)
	return strings.Join(append(known, unknown...), "\n")
}
