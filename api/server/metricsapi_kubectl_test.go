package server_test

import (
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
)

// TestKubectlTop runs kubectl top pod and top node (real kubectl 1.32)
// against usage samples set on Pods and Nodes, and checks its tables.
func TestKubectlTop(t *testing.T) {
	e := newEnv(t)
	e.post(t, "/api/v1/namespaces", map[string]any{"metadata": map[string]any{"name": "other"}}).must(t, http.StatusCreated)
	e.metricsPod(t, "default", "web", map[string]string{"app": "web"}, "Running",
		sampleOf(15*time.Second, types.ContainerMetrics{Name: "app", Usage: usage("998m", "30Mi")},
			types.ContainerMetrics{Name: "side", Usage: usage("2m", "2Mi")}))
	e.metricsPod(t, "default", "db", map[string]string{"app": "db"}, "Running",
		sampleOf(15*time.Second, types.ContainerMetrics{Name: "app", Usage: usage("1m", "100Mi")}))
	e.metricsPod(t, "other", "far", nil, "Running",
		sampleOf(15*time.Second, types.ContainerMetrics{Name: "app", Usage: usage("5m", "1Mi")}))
	e.metricsPod(t, "other", "fresh", nil, "Running", "")
	// A sample in nanocores, as metrics-server answers: kubectl rounds it up.
	e.metricsPod(t, "other", "tiny", nil, "Running",
		sampleOf(15*time.Second, types.ContainerMetrics{Name: "app", Usage: usage("1234567n", "1Mi")}))
	// Samples their agent stopped rewriting ten minutes ago: stale.
	stale := &types.UsageSample{Timestamp: types.NewTime(fixedStart.Add(-10 * time.Minute)), Window: types.Duration{Duration: 15 * time.Second},
		Containers: []types.ContainerMetrics{{Name: "app", Usage: usage("7m", "7Mi")}}}
	e.metricsPod(t, "default", "gone", nil, "Running", stale.String())
	node := map[string]any{"apiVersion": "v1", "kind": "Node", "metadata": map[string]any{
		"name": "n1", "annotations": map[string]string{types.AnnotationUsageSample: (&types.UsageSample{
			Timestamp: types.NewTime(fixedStart), Window: types.Duration{Duration: 15 * time.Second},
			Usage: usage("500m", "1Gi")}).String()}}}
	var created map[string]any
	e.post(t, "/api/v1/nodes", node).must(t, http.StatusCreated).into(t, &created)
	created["status"] = map[string]any{"allocatable": map[string]string{"cpu": "2", "memory": "4Gi"},
		"capacity": map[string]string{"cpu": "2", "memory": "4Gi"}}
	e.put(t, "/api/v1/nodes/n1/status", created).must(t, http.StatusOK)
	e.post(t, "/api/v1/nodes", map[string]any{"apiVersion": "v1", "kind": "Node", "metadata": map[string]any{"name": "n2"}}).
		must(t, http.StatusCreated)
	stale.Containers, stale.Usage = nil, usage("900m", "2Gi")
	e.post(t, "/api/v1/nodes", map[string]any{"apiVersion": "v1", "kind": "Node", "metadata": map[string]any{
		"name": "n3", "annotations": map[string]string{types.AnnotationUsageSample: stale.String()}}}).must(t, http.StatusCreated)

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"pods", []string{"top", "pod"}, `
NAME   CPU(cores)   MEMORY(bytes)
db     1m           100Mi
web    1000m        32Mi`},
		{"one pod", []string{"top", "pod", "web"}, `
NAME   CPU(cores)   MEMORY(bytes)
web    1000m        32Mi`},
		{"containers", []string{"top", "pod", "--containers", "-l", "app=web"}, `
POD   NAME   CPU(cores)   MEMORY(bytes)
web   app    998m         30Mi
web   side   2m           2Mi`},
		{"all namespaces", []string{"top", "pod", "-A"}, `
NAMESPACE   NAME   CPU(cores)   MEMORY(bytes)
default     db     1m           100Mi
default     web    1000m        32Mi
other       far    5m           1Mi
other       tiny   2m           1Mi`},
		{"get podmetrics", []string{"get", "podmetrics"}, `
NAME   CPU   MEMORY   WINDOW
db     1m    100Mi    15s
web    1     32Mi     15s`},
		{"get one nodemetrics", []string{"get", "nodes.metrics.k8s.io", "n1"}, `
NAME   CPU    MEMORY   WINDOW
n1     500m   1Gi      15s`},
		{"nodes", []string{"top", "node"}, `
NAME   CPU(cores)   CPU(%)      MEMORY(bytes)   MEMORY(%)
n1     500m         25%         1024Mi          25%
n2     <unknown>    <unknown>   <unknown>       <unknown>
n3     <unknown>    <unknown>   <unknown>       <unknown>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.kubectl(t, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := unknownRowsSorted(trimLines(string(out))), strings.TrimSpace(tc.want); got != want {
				t.Errorf("kubectl %s:\n%s\nwant:\n%s", strings.Join(tc.args, " "), got, want)
			}
		})
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"pod without metrics", []string{"top", "pod", "fresh", "-n", "other"}, `podmetrics.metrics.k8s.io "other/fresh" not found`},
		{"pod with stale metrics", []string{"top", "pod", "gone"}, `podmetrics.metrics.k8s.io "default/gone" not found`},
		{"node with stale metrics", []string{"top", "node", "n3"}, `nodemetrics.metrics.k8s.io "n3" not found`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.kubectl(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("kubectl %s: err %v, want %s", strings.Join(tc.args, " "), err, tc.want)
			}
		})
	}
}

// trimLines drops the spaces kubectl's tabwriter leaves at line ends, and
// the blank lines around.
func trimLines(s string) string {
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
