package types_test

import (
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
)

func TestPodMetricsOf(t *testing.T) {
	at := time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC)
	sample := `{"timestamp":"2026-11-23T16:00:00Z","window":"15s","containers":[` +
		`{"name":"app","usage":{"cpu":"998m","memory":"12Mi"}},{"name":"side","usage":{"cpu":"0","memory":"1Mi"}}]}`
	deleted := types.NewTime(at)
	tests := []struct {
		name        string
		annotations map[string]string
		phase       types.PodPhase
		deleting    bool
		wantOK      bool
	}{
		{"running with a sample", map[string]string{types.AnnotationUsageSample: sample}, types.PodRunning, false, true},
		{"only the autoscaler's total", map[string]string{"wharf.dev/usage": "cpu=998m,memory=13Mi"}, types.PodRunning, false, false},
		{"pending", map[string]string{types.AnnotationUsageSample: sample}, types.PodPending, false, false},
		{"succeeded", map[string]string{types.AnnotationUsageSample: sample}, types.PodSucceeded, false, false},
		{"being deleted", map[string]string{types.AnnotationUsageSample: sample}, types.PodRunning, true, false},
		{"malformed", map[string]string{types.AnnotationUsageSample: "cpu=1"}, types.PodRunning, false, false},
		{"no containers", map[string]string{types.AnnotationUsageSample: `{"timestamp":null,"window":"1s"}`}, types.PodRunning, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &types.Pod{ObjectMeta: types.ObjectMeta{Name: "web", Namespace: "ns", UID: "u1", ResourceVersion: "7",
				Labels: map[string]string{"app": "web"}, Annotations: tc.annotations}}
			p.Status.Phase = tc.phase
			if tc.deleting {
				p.DeletionTimestamp = &deleted
			}
			m, ok := types.PodMetricsOf(p)
			if ok != tc.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tc.wantOK)
			}
			if !ok {
				return
			}
			if m.Kind != "PodMetrics" || m.APIVersion != "metrics.k8s.io/v1beta1" || m.Name != "web" || m.Namespace != "ns" ||
				m.Labels["app"] != "web" || m.UID != "" || m.ResourceVersion != "" {
				t.Errorf("meta %+v %+v, want PodMetrics ns/web with the Pod's labels only", m.TypeMeta, m.ObjectMeta)
			}
			if !m.Timestamp.Equal(at) || m.Window.Duration != 15*time.Second {
				t.Errorf("timestamp %v window %v, want %v 15s", m.Timestamp, m.Window, at)
			}
			if len(m.Containers) != 2 {
				t.Fatalf("containers %+v, want 2", m.Containers)
			}
			cpu, mem := m.Containers[0].Usage[types.ResourceCPU], m.Containers[1].Usage[types.ResourceMemory]
			if m.Containers[0].Name != "app" || cpu.MilliValue() != 998 || m.Containers[1].Name != "side" || mem.Value() != 1<<20 {
				t.Errorf("containers %+v, want app 998m and side 1Mi", m.Containers)
			}
		})
	}
}

func TestNodeMetricsOf(t *testing.T) {
	tests := []struct {
		name   string
		value  string
		wantOK bool
	}{
		{"sample", `{"timestamp":"2026-11-23T16:00:00Z","window":"10s","usage":{"cpu":"1200m","memory":"3Gi"}}`, true},
		{"no usage", `{"timestamp":"2026-11-23T16:00:00Z","window":"10s"}`, false},
		{"bad window", `{"timestamp":"2026-11-23T16:00:00Z","window":"ten","usage":{"cpu":"1"}}`, false},
		{"absent", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := &types.Node{ObjectMeta: types.ObjectMeta{Name: "n1"}}
			if tc.value != "" {
				n.Annotations = map[string]string{types.AnnotationUsageSample: tc.value}
			}
			m, ok := types.NodeMetricsOf(n)
			if ok != tc.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tc.wantOK)
			}
			if !ok {
				return
			}
			cpu := m.Usage[types.ResourceCPU]
			if m.Kind != "NodeMetrics" || m.Name != "n1" || cpu.MilliValue() != 1200 || m.Window.Duration != 10*time.Second {
				t.Errorf("got %+v, want NodeMetrics n1 1200m over 10s", m)
			}
		})
	}
}

// TestUsageSampleRoundTrip checks that what an agent writes reads back.
func TestUsageSampleRoundTrip(t *testing.T) {
	in := &types.UsageSample{
		Timestamp: types.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
		Window:    types.Duration{Duration: 15*time.Second + 250*time.Millisecond},
		Containers: []types.ContainerMetrics{{Name: "app", Usage: types.ResourceList{
			types.ResourceCPU: types.NewMilliQuantity(1003, types.DecimalSI), types.ResourceMemory: types.NewQuantity(5<<20, types.BinarySI)}}},
	}
	s := in.String()
	want := `{"timestamp":"2026-01-02T03:04:05Z","window":"15.25s","containers":[{"name":"app","usage":{"cpu":"1003m","memory":"5Mi"}}]}`
	if s != want {
		t.Errorf("encoded %s, want %s", s, want)
	}
	out, err := types.ParseUsageSample(s)
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != s {
		t.Errorf("round trip %s, want %s", out.String(), s)
	}
}

// TestMetricsStaleAt checks the freshness bound: three times the longest
// gap between an agent's rewrites of a sample (a minute plus a round of
// its Window, at least 15s), by the server's clock.
func TestMetricsStaleAt(t *testing.T) {
	at := time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		ts     time.Time
		window time.Duration
		now    time.Time
		stale  bool
	}{
		{"just taken", at, 15 * time.Second, at, false},
		{"a rewrite gap old", at, 15 * time.Second, at.Add(75 * time.Second), false},
		{"at the bound", at, 15 * time.Second, at.Add(225 * time.Second), false},
		{"past the bound", at, 15 * time.Second, at.Add(226 * time.Second), true},
		{"short window, default round", at, time.Second, at.Add(226 * time.Second), true},
		{"long rounds, longer bound", at, 2 * time.Minute, at.Add(9 * time.Minute), false},
		{"long rounds, past their bound", at, 2 * time.Minute, at.Add(9*time.Minute + time.Second), true},
		{"agent clock ahead", at, 15 * time.Second, at.Add(-time.Hour), false},
		{"no timestamp", time.Time{}, 15 * time.Second, at, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &types.PodMetrics{Timestamp: types.NewTime(tc.ts), Window: types.Duration{Duration: tc.window}}
			n := &types.NodeMetrics{Timestamp: types.NewTime(tc.ts), Window: types.Duration{Duration: tc.window}}
			if got := p.StaleAt(tc.now); got != tc.stale {
				t.Errorf("PodMetrics.StaleAt = %v, want %v", got, tc.stale)
			}
			if got := n.StaleAt(tc.now); got != tc.stale {
				t.Errorf("NodeMetrics.StaleAt = %v, want %v", got, tc.stale)
			}
		})
	}
	if got, want := types.UsageSampleMaxAge(15*time.Second), 225*time.Second; got != want {
		t.Errorf("UsageSampleMaxAge(15s) = %v, want %v", got, want)
	}
}
