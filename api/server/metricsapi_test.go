package server_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
)

const (
	metricsPath = "/apis/metrics.k8s.io/v1beta1"
	tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
)

// sampleOf is a usage sample of containers, each given as name, CPU and
// memory.
func sampleOf(window time.Duration, containers ...types.ContainerMetrics) string {
	u := &types.UsageSample{Timestamp: types.NewTime(fixedStart), Window: types.Duration{Duration: window}, Containers: containers}
	return u.String()
}

func usage(cpu, mem string) types.ResourceList {
	return types.ResourceList{types.ResourceCPU: types.MustParse(cpu), types.ResourceMemory: types.MustParse(mem)}
}

// metricsPod creates a Pod in namespace ns with the given phase and, when
// sample is not empty, usage sample annotation.
func (e *env) metricsPod(t *testing.T, ns, name string, labels map[string]string, phase, sample string) {
	t.Helper()
	p := pod(name, labels)
	if sample != "" {
		p["metadata"].(map[string]any)["annotations"] = map[string]string{types.AnnotationUsageSample: sample}
	}
	var created map[string]any
	e.post(t, "/api/v1/namespaces/"+ns+"/pods", p).must(t, http.StatusCreated).into(t, &created)
	if phase == "" {
		return
	}
	created["status"] = map[string]any{"phase": phase}
	e.put(t, "/api/v1/namespaces/"+ns+"/pods/"+name+"/status", created).must(t, http.StatusOK)
}

func TestMetricsAPIPods(t *testing.T) {
	e := newEnv(t)
	e.post(t, "/api/v1/namespaces", map[string]any{"metadata": map[string]any{"name": "other"}}).must(t, http.StatusCreated)
	web := sampleOf(15*time.Second, types.ContainerMetrics{Name: "app", Usage: usage("250m", "30Mi")},
		types.ContainerMetrics{Name: "side", Usage: usage("1m", "2Mi")})
	one := sampleOf(15*time.Second, types.ContainerMetrics{Name: "app", Usage: usage("1", "1Gi")})
	e.metricsPod(t, "default", "web", map[string]string{"app": "web"}, "Running", web)
	e.metricsPod(t, "default", "db", map[string]string{"app": "db"}, "Running", one)
	e.metricsPod(t, "default", "fresh", map[string]string{"app": "web"}, "Running", "")     // no usage yet
	e.metricsPod(t, "default", "done", map[string]string{"app": "web"}, "Succeeded", one)   // not running
	e.metricsPod(t, "default", "broken", map[string]string{"app": "web"}, "Running", "cpu") // unreadable
	e.metricsPod(t, "other", "far", map[string]string{"app": "web"}, "Running", one)

	t.Run("get", func(t *testing.T) {
		var m types.PodMetrics
		e.get(t, metricsPath+"/namespaces/default/pods/web").must(t, http.StatusOK).into(t, &m)
		if m.Kind != "PodMetrics" || m.APIVersion != "metrics.k8s.io/v1beta1" || m.Name != "web" || m.Namespace != "default" ||
			m.Labels["app"] != "web" {
			t.Errorf("got %+v, want PodMetrics default/web with its labels", m)
		}
		if !m.Timestamp.Equal(fixedStart) || m.Window.Duration != 15*time.Second {
			t.Errorf("timestamp %v window %v, want %v and 15s", m.Timestamp, m.Window, fixedStart)
		}
		if len(m.Containers) != 2 || m.Containers[0].Name != "app" || m.Containers[1].Name != "side" {
			t.Fatalf("containers %+v, want app and side", m.Containers)
		}
		cpu, mem := m.Containers[0].Usage[types.ResourceCPU], m.Containers[0].Usage[types.ResourceMemory]
		if cpu.MilliValue() != 250 || mem.Value() != 30<<20 {
			t.Errorf("app usage cpu %s memory %s, want 250m and 30Mi", cpu.String(), mem.String())
		}
	})
	t.Run("list", func(t *testing.T) {
		tests := []struct {
			name, path string
			want       []string
		}{
			{"namespace", "/namespaces/default/pods", []string{"db", "web"}},
			{"all namespaces", "/pods", []string{"db", "web", "far"}},
			{"label selector", "/namespaces/default/pods?labelSelector=" + url.QueryEscape("app=web"), []string{"web"}},
			{"label selector across namespaces", "/pods?labelSelector=" + url.QueryEscape("app in (web)"), []string{"web", "far"}},
			{"field selector", "/namespaces/default/pods?fieldSelector=" + url.QueryEscape("metadata.name=db"), []string{"db"}},
			{"empty namespace", "/namespaces/nothing/pods", []string{}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := e.get(t, metricsPath+tc.path).must(t, http.StatusOK)
				var l types.PodMetricsList
				r.into(t, &l)
				if l.Kind != "PodMetricsList" || l.APIVersion != "metrics.k8s.io/v1beta1" {
					t.Errorf("kind %q apiVersion %q, want PodMetricsList metrics.k8s.io/v1beta1", l.Kind, l.APIVersion)
				}
				if got := names(t, r); !slices.Equal(got, tc.want) {
					t.Errorf("got %v, want %v", got, tc.want)
				}
			})
		}
	})
	t.Run("not found", func(t *testing.T) {
		tests := []struct{ name, path, msg string }{
			{"no usage yet", "/namespaces/default/pods/fresh", `podmetrics.metrics.k8s.io "default/fresh" not found`},
			{"not running", "/namespaces/default/pods/done", `podmetrics.metrics.k8s.io "default/done" not found`},
			{"unreadable usage", "/namespaces/default/pods/broken", `podmetrics.metrics.k8s.io "default/broken" not found`},
			{"no pod", "/namespaces/default/pods/nothing", `podmetrics.metrics.k8s.io "default/nothing" not found`},
			{"other namespace", "/namespaces/other/pods/web", `podmetrics.metrics.k8s.io "other/web" not found`},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				st := e.get(t, metricsPath+tc.path).status(t, http.StatusNotFound, types.StatusReasonNotFound)
				if st.Message != tc.msg {
					t.Errorf("message %q, want %q", st.Message, tc.msg)
				}
			})
		}
	})
	t.Run("bad requests", func(t *testing.T) {
		e.get(t, metricsPath+"/pods?labelSelector="+url.QueryEscape("app in (")).status(t, http.StatusBadRequest, types.StatusReasonBadRequest)
		e.get(t, metricsPath+"/namespaces/default/pods?watch=1").status(t, http.StatusMethodNotAllowed, types.StatusReasonMethodNotAllowed)
		e.post(t, metricsPath+"/namespaces/default/pods", map[string]any{}).status(t, http.StatusMethodNotAllowed, types.StatusReasonMethodNotAllowed)
		e.del(t, metricsPath+"/namespaces/default/pods/web", nil).status(t, http.StatusMethodNotAllowed, types.StatusReasonMethodNotAllowed)
		e.get(t, metricsPath+"/namespaces/default/pods/web/status").status(t, http.StatusNotFound, types.StatusReasonNotFound)
		e.get(t, metricsPath+"/namespaces/default/nodes").status(t, http.StatusNotFound, types.StatusReasonNotFound)
		e.get(t, metricsPath+"/deployments").status(t, http.StatusNotFound, types.StatusReasonNotFound)
		e.get(t, "/apis/metrics.k8s.io/v1/pods").status(t, http.StatusNotFound, types.StatusReasonNotFound)
		e.send(t, req{method: http.MethodGet, path: metricsPath + "/pods?includeObject=All", accept: tableAccept}).
			status(t, http.StatusBadRequest, types.StatusReasonBadRequest)
	})
	t.Run("table", func(t *testing.T) {
		var tbl struct {
			Kind    string `json:"kind"`
			Columns []struct {
				Name string `json:"name"`
			} `json:"columnDefinitions"`
			Rows []struct {
				Cells  []any `json:"cells"`
				Object struct {
					Kind     string           `json:"kind"`
					Metadata types.ObjectMeta `json:"metadata"`
				} `json:"object"`
			} `json:"rows"`
		}
		e.send(t, req{method: http.MethodGet, path: metricsPath + "/pods", accept: tableAccept}).must(t, http.StatusOK).into(t, &tbl)
		if tbl.Kind != "Table" || len(tbl.Columns) != 4 || tbl.Columns[1].Name != "CPU" || len(tbl.Rows) != 3 {
			t.Fatalf("table %+v, want 4 columns and 3 rows", tbl)
		}
		r := tbl.Rows[1] // default/db, default/web, other/far
		if r.Cells[0] != "web" || r.Cells[1] != "251m" || r.Cells[2] != "32Mi" || r.Cells[3] != "15s" ||
			r.Object.Kind != "PartialObjectMetadata" || r.Object.Metadata.Namespace != "default" {
			t.Errorf("row %+v, want web 251m 32Mi 15s with its metadata", r)
		}
	})
}

func TestMetricsAPINodes(t *testing.T) {
	e := newEnv(t)
	for _, n := range []struct {
		name, zone, sample string
	}{
		{"n1", "a", (&types.UsageSample{Timestamp: types.NewTime(fixedStart), Window: types.Duration{Duration: 10 * time.Second}, Usage: usage("1500m", "2Gi")}).String()},
		{"n2", "b", (&types.UsageSample{Timestamp: types.NewTime(fixedStart), Window: types.Duration{Duration: 10 * time.Second}, Usage: usage("10m", "100Mi")}).String()},
		{"n3", "a", ""},
	} {
		meta := map[string]any{"name": n.name, "labels": map[string]string{"zone": n.zone}}
		if n.sample != "" {
			meta["annotations"] = map[string]string{types.AnnotationUsageSample: n.sample}
		}
		e.post(t, "/api/v1/nodes", map[string]any{"apiVersion": "v1", "kind": "Node", "metadata": meta}).must(t, http.StatusCreated)
	}
	var m types.NodeMetrics
	e.get(t, metricsPath+"/nodes/n1").must(t, http.StatusOK).into(t, &m)
	cpu := m.Usage[types.ResourceCPU]
	if m.Kind != "NodeMetrics" || m.Name != "n1" || m.Namespace != "" || cpu.MilliValue() != 1500 || m.Window.Duration != 10*time.Second {
		t.Errorf("got %+v, want NodeMetrics n1 with 1500m of CPU over 10s", m)
	}
	tests := []struct {
		name, query string
		want        []string
	}{
		{"all", "", []string{"n1", "n2"}},
		{"label selector", "?labelSelector=zone%3Da", []string{"n1"}},
		{"field selector", "?fieldSelector=metadata.name%3Dn2", []string{"n2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.get(t, metricsPath+"/nodes"+tc.query).must(t, http.StatusOK)
			var l types.NodeMetricsList
			r.into(t, &l)
			if l.Kind != "NodeMetricsList" {
				t.Errorf("kind %q, want NodeMetricsList", l.Kind)
			}
			if got := names(t, r); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	for _, name := range []string{"n3", "nothing"} {
		st := e.get(t, metricsPath+"/nodes/"+name).status(t, http.StatusNotFound, types.StatusReasonNotFound)
		if want := `nodemetrics.metrics.k8s.io "` + name + `" not found`; st.Message != want {
			t.Errorf("message %q, want %q", st.Message, want)
		}
	}
}

// TestMetricsAPIStale: a sample its agent stopped rewriting is dropped
// once older, by the server's clock, than types.UsageSampleMaxAge (225s
// for a 15s window), as metrics-server drops what its last scrape did
// not get: the Pod or Node is absent from lists and NotFound on get.
func TestMetricsAPIStale(t *testing.T) {
	e := newEnv(t)
	at := func(ts time.Time) *types.UsageSample {
		return &types.UsageSample{Timestamp: types.NewTime(ts), Window: types.Duration{Duration: 15 * time.Second}}
	}
	sample := func(ts time.Time) string {
		u := at(ts)
		u.Containers = []types.ContainerMetrics{{Name: "app", Usage: usage("10m", "1Mi")}}
		return u.String()
	}
	// After the clock moves 300s: "live" was rewritten 100s before, "dead"
	// 300s before.
	e.metricsPod(t, "default", "live", map[string]string{"app": "web"}, "Running", sample(fixedStart.Add(200*time.Second)))
	e.metricsPod(t, "default", "dead", map[string]string{"app": "web"}, "Running", sample(fixedStart))
	for name, ts := range map[string]time.Time{"up": fixedStart.Add(200 * time.Second), "down": fixedStart} {
		u := at(ts)
		u.Usage = usage("100m", "1Gi")
		e.post(t, "/api/v1/nodes", map[string]any{"apiVersion": "v1", "kind": "Node", "metadata": map[string]any{
			"name": name, "annotations": map[string]string{types.AnnotationUsageSample: u.String()}}}).must(t, http.StatusCreated)
	}
	lists := []struct {
		name, path string
	}{
		{"pods", metricsPath + "/namespaces/default/pods"},
		{"pods by label", metricsPath + "/namespaces/default/pods?labelSelector=app%3Dweb"},
		{"pods by field", metricsPath + "/namespaces/default/pods?fieldSelector=status.phase%3DRunning"},
		{"pods of all namespaces", metricsPath + "/pods"},
		{"nodes", metricsPath + "/nodes"},
		{"nodes by field", metricsPath + "/nodes?fieldSelector=metadata.name!%3Dx"},
	}
	check := func(t *testing.T, wantPods, wantNodes []string) {
		t.Helper()
		for _, l := range lists {
			want := wantPods
			if strings.Contains(l.path, "/nodes") {
				want = wantNodes
			}
			if got := names(t, e.get(t, l.path).must(t, http.StatusOK)); !slices.Equal(got, want) {
				t.Errorf("%s: got %v, want %v", l.name, got, want)
			}
		}
	}
	t.Run("all fresh", func(t *testing.T) {
		check(t, []string{"dead", "live"}, []string{"down", "up"})
		e.get(t, metricsPath+"/namespaces/default/pods/dead").must(t, http.StatusOK)
		e.get(t, metricsPath+"/nodes/down").must(t, http.StatusOK)
	})
	e.advance(225 * time.Second) // "dead" and "down" exactly at the bound
	t.Run("at the bound", func(t *testing.T) {
		check(t, []string{"dead", "live"}, []string{"down", "up"})
	})
	e.advance(75 * time.Second)
	t.Run("stale dropped", func(t *testing.T) {
		check(t, []string{"live"}, []string{"up"})
		e.get(t, metricsPath+"/namespaces/default/pods/live").must(t, http.StatusOK)
		e.get(t, metricsPath+"/nodes/up").must(t, http.StatusOK)
		for _, tc := range []struct{ path, want string }{
			{metricsPath + "/namespaces/default/pods/dead", `podmetrics.metrics.k8s.io "default/dead" not found`},
			{metricsPath + "/nodes/down", `nodemetrics.metrics.k8s.io "down" not found`},
		} {
			st := e.get(t, tc.path).status(t, http.StatusNotFound, types.StatusReasonNotFound)
			if st.Message != tc.want {
				t.Errorf("%s: message %q, want %q", tc.path, st.Message, tc.want)
			}
		}
	})
}

// TestMetricsAPIUnits: CPU is served in the sample's own unit: the
// agent's millicores as "2m", a finer sample's nanocores as
// metrics-server answers them.
func TestMetricsAPIUnits(t *testing.T) {
	e := newEnv(t)
	e.metricsPod(t, "default", "milli", nil, "Running",
		sampleOf(15*time.Second, types.ContainerMetrics{Name: "app", Usage: usage("2m", "1Mi")}))
	e.metricsPod(t, "default", "nano", nil, "Running",
		sampleOf(15*time.Second, types.ContainerMetrics{Name: "app", Usage: usage("1234567n", "1Mi")}))
	for name, want := range map[string]string{"milli": "2m", "nano": "1234567n"} {
		var m struct {
			Containers []struct {
				Usage map[string]string `json:"usage"`
			} `json:"containers"`
		}
		e.get(t, metricsPath+"/namespaces/default/pods/"+name).must(t, http.StatusOK).into(t, &m)
		if len(m.Containers) != 1 || m.Containers[0].Usage["cpu"] != want {
			t.Errorf("%s: containers %+v, want cpu %q", name, m.Containers, want)
		}
	}
}

// TestMetricsAPIDiscovery checks what kubectl top looks for before it
// reads metrics: the group in /apis, and its resources.
func TestMetricsAPIDiscovery(t *testing.T) {
	e := newEnv(t)
	var groups struct {
		Groups []struct {
			Name             string `json:"name"`
			PreferredVersion struct {
				GroupVersion string `json:"groupVersion"`
			} `json:"preferredVersion"`
		} `json:"groups"`
	}
	e.get(t, "/apis").must(t, http.StatusOK).into(t, &groups)
	found := false
	for _, g := range groups.Groups {
		if g.Name == "metrics.k8s.io" {
			found = g.PreferredVersion.GroupVersion == "metrics.k8s.io/v1beta1"
		}
	}
	if !found {
		t.Errorf("/apis has no metrics.k8s.io preferring v1beta1: %+v", groups.Groups)
	}
	var group struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	}
	e.get(t, "/apis/metrics.k8s.io").must(t, http.StatusOK).into(t, &group)
	if group.Kind != "APIGroup" || group.Name != "metrics.k8s.io" {
		t.Errorf("/apis/metrics.k8s.io: %+v", group)
	}
	var list struct {
		GroupVersion string `json:"groupVersion"`
		Resources    []struct {
			Name       string   `json:"name"`
			Kind       string   `json:"kind"`
			Namespaced bool     `json:"namespaced"`
			Verbs      []string `json:"verbs"`
		} `json:"resources"`
	}
	e.get(t, metricsPath).must(t, http.StatusOK).into(t, &list)
	if list.GroupVersion != "metrics.k8s.io/v1beta1" || len(list.Resources) != 2 {
		t.Fatalf("%s: %+v, want nodes and pods", metricsPath, list)
	}
	for i, want := range []struct {
		name, kind string
		namespaced bool
	}{{"nodes", "NodeMetrics", false}, {"pods", "PodMetrics", true}} {
		r := list.Resources[i]
		if r.Name != want.name || r.Kind != want.kind || r.Namespaced != want.namespaced || !slices.Equal(r.Verbs, []string{"get", "list"}) {
			t.Errorf("resource %d: %+v, want %s %s namespaced=%v get,list", i, r, want.name, want.kind, want.namespaced)
		}
	}
}
