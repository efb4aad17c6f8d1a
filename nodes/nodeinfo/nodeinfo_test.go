package nodeinfo

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/nodes/nodeinfo/apitest"
	"github.com/wharfhq/wharf/sdk"
)

func TestRuntimesLabel(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{[]string{"wasm", "container"}, "container.wasm"},
		{[]string{"wasm"}, "wasm"},
		{[]string{"wasm", "wasm"}, "wasm"},
		{nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got := RuntimesLabelValue(tt.in)
			if got != tt.want {
				t.Fatalf("RuntimesLabelValue(%v) = %q, want %q", tt.in, got, tt.want)
			}
			back := ParseRuntimesLabel(got)
			want := slices.Compact(slices.Sorted(slices.Values(tt.in)))
			if !slices.Equal(back, want) {
				t.Errorf("ParseRuntimesLabel(%q) = %v, want %v", got, back, want)
			}
		})
	}
	if got := ParseRuntimesLabel("wasm, container"); !slices.Equal(got, []string{"wasm", "container"}) {
		t.Errorf("comma form: %v", got)
	}
}

func TestParseMemTotal(t *testing.T) {
	got, err := parseMemTotal([]byte("MemTotal:       24576000 kB\nMemFree: 1 kB\n"))
	if err != nil || got != 24576000*1024 {
		t.Errorf("parseMemTotal = %d, %v", got, err)
	}
	if _, err := parseMemTotal([]byte("MemFree: 1 kB\n")); err == nil {
		t.Error("no MemTotal: want an error")
	}
}

func ready(n *types.Node) *types.NodeCondition {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == types.NodeReady {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}

func TestRegisterAndHeartbeat(t *testing.T) {
	env := apitest.Start(t, apitest.Options{})
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r, err := New(Config{
		NodeName:     "node-a",
		Client:       env.Client,
		Labels:       map[string]string{"zone": "z1"},
		Taints:       []types.Taint{{Key: "dedicated", Value: "batch", Effect: types.TaintEffectNoSchedule}},
		Runtimes:     map[string]string{"wasm": "wazero", "container": "runc"},
		InternalIP:   "127.0.0.1",
		AgentAddress: "127.0.0.1:10250",
		Version:      "v0.1.0",
		Now:          func() time.Time { return now },
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	n, err := r.Register(ctx)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	wantLabels := map[string]string{
		LabelArch: runtime.GOARCH, LabelOS: runtime.GOOS, LabelHostname: "node-a",
		LabelRuntimes: "container.wasm", "wharf.dev/runtime-wasm": "true", "wharf.dev/runtime-container": "true",
		"zone": "z1",
	}
	for k, v := range wantLabels {
		if n.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, n.Labels[k], v)
		}
	}
	if n.Annotations[AnnotationAgentAddress] != "127.0.0.1:10250" || n.Status.DaemonEndpoints.KubeletEndpoint.Port != 10250 {
		t.Errorf("agent address: annotation %q, port %d", n.Annotations[AnnotationAgentAddress], n.Status.DaemonEndpoints.KubeletEndpoint.Port)
	}
	if len(n.Spec.Taints) != 1 || n.Spec.Taints[0].Key != "dedicated" {
		t.Errorf("taints = %+v", n.Spec.Taints)
	}
	if c := n.Status.Capacity.Cpu(); c.Value() != int64(runtime.NumCPU()) {
		t.Errorf("cpu capacity = %v", c.Value())
	}
	if m := n.Status.Allocatable.Memory(); m.Value() <= 0 {
		t.Errorf("memory allocatable = %v", m.Value())
	}
	if p := n.Status.Capacity.Pods(); p.Value() != DefaultMaxPods {
		t.Errorf("pods capacity = %v", p.Value())
	}
	if n.Status.NodeInfo.Architecture != runtime.GOARCH || n.Status.NodeInfo.ContainerRuntimeVersion != "container://runc,wasm://wazero" {
		t.Errorf("nodeInfo = %+v", n.Status.NodeInfo)
	}
	if len(n.Status.Addresses) == 0 || n.Status.Addresses[0] != (types.NodeAddress{Type: types.NodeInternalIP, Address: "127.0.0.1"}) {
		t.Errorf("addresses = %+v", n.Status.Addresses)
	}
	c := ready(n)
	if c == nil || c.Status != types.ConditionTrue || !c.LastHeartbeatTime.Equal(now) {
		t.Fatalf("Ready condition = %+v", c)
	}

	// The heartbeat moves lastHeartbeatTime, not lastTransitionTime.
	now = now.Add(10 * time.Second)
	if err := r.Heartbeat(ctx); err != nil {
		t.Fatalf("Heartbeat: %v", err)
	}
	n, err = sdk.Typed[*types.Node](env.Client).Get(ctx, "node-a")
	if err != nil {
		t.Fatal(err)
	}
	c = ready(n)
	if !c.LastHeartbeatTime.Equal(now) || !c.LastTransitionTime.Equal(now.Add(-10*time.Second)) {
		t.Errorf("after heartbeat: heartbeat %v transition %v", c.LastHeartbeatTime, c.LastTransitionTime)
	}

	// An operator's label and taint survive a re-registration (agent restart).
	n.Labels["team"] = "x"
	n.Spec.Taints = append(n.Spec.Taints, types.Taint{Key: "maintenance", Effect: types.TaintEffectNoSchedule})
	if _, err := sdk.Typed[*types.Node](env.Client).Update(ctx, n); err != nil {
		t.Fatal(err)
	}
	n, err = r.Register(ctx)
	if err != nil {
		t.Fatalf("re-Register: %v", err)
	}
	if n.Labels["team"] != "x" || len(n.Spec.Taints) != 2 {
		t.Errorf("after re-registration: labels %v taints %+v", n.Labels, n.Spec.Taints)
	}

	// A deleted Node is registered again by the next heartbeat.
	if err := sdk.Typed[*types.Node](env.Client).Delete(ctx, "node-a", types.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Heartbeat(ctx); err != nil {
		t.Fatalf("Heartbeat after delete: %v", err)
	}
	if _, err := sdk.Typed[*types.Node](env.Client).Get(ctx, "node-a"); err != nil {
		t.Errorf("node not re-registered: %v", err)
	}
}

func TestMaxPods(t *testing.T) {
	env := apitest.Start(t, apitest.Options{})
	tests := []struct {
		name    string
		maxPods int
		want    int64
		wantErr bool
	}{
		{"default", 0, DefaultMaxPods, false},
		{"custom", 1100, 1100, false},
		{"negative", -1, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(Config{NodeName: "node-" + tt.name, Client: env.Client, MaxPods: tt.maxPods,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if tt.wantErr {
				if !errors.Is(err, ErrMaxPods) {
					t.Fatalf("New: err = %v, want ErrMaxPods", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			n, err := r.Register(context.Background())
			if err != nil {
				t.Fatalf("Register: %v", err)
			}
			if c, a := n.Status.Capacity.Pods(), n.Status.Allocatable.Pods(); c.Value() != tt.want || a.Value() != tt.want {
				t.Errorf("pods capacity %d allocatable %d, want %d", c.Value(), a.Value(), tt.want)
			}
		})
	}
}
