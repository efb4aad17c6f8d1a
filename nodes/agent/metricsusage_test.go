package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/hpa"
	"github.com/wharfhq/wharf/nodes/agent"
	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/sdk"
)

// TestUsageSamplePerContainer checks the usage the metrics API serves
// (kubectl top pod --containers): each container's CPU and memory in the
// Pod's order, beside the Pod total the autoscaler keeps reading; and
// the Node's own usage.
func TestUsageSamplePerContainer(t *testing.T) {
	e := newEnv(t)
	nodes := sdk.Typed[*types.Node](e.client)
	if _, err := nodes.Create(context.Background(), &types.Node{ObjectMeta: types.ObjectMeta{Name: nodeName}}); err != nil {
		t.Fatal(err)
	}
	rt := newStatsRuntime(0, 10<<20)
	rt.setRates(map[string]int64{"c0": 300, "c1": 20, "c2": 700})
	e.startAgent(t, dataDir(t), map[string]runtimes.Runtime{agent.RuntimeContainer: rt}, func(c *agent.Config) {
		c.DisablePodNetNS = true
		c.UsageInterval = 100 * time.Millisecond
	})
	e.create(t, pod("web", types.RestartPolicyAlways, []string{"serve"}, []string{"serve"}, []string{"serve"}))

	want := hpa.FormatUsage(1020, 30<<20)
	p := e.waitPod(t, "web", "usage "+want, func(p *types.Pod) bool { return usageOf(p) == want })
	// The autoscaler's reader is unchanged by the second annotation.
	got, err := hpa.AnnotationSource{}.PodUsage(context.Background(), []*types.Pod{p})
	if cpu := got["web"][types.ResourceCPU]; err != nil || cpu.MilliValue() != 1020 {
		t.Errorf("autoscaler reads cpu %s (err %v), want 1020m", cpu.String(), err)
	}
	m, ok := types.PodMetricsOf(p)
	if !ok {
		t.Fatalf("no PodMetrics from %q", p.Annotations[types.AnnotationUsageSample])
	}
	wantCPU := []int64{300, 20, 700}
	if len(m.Containers) != 3 {
		t.Fatalf("containers %+v, want c0, c1, c2", m.Containers)
	}
	for i, c := range m.Containers {
		cpu, mem := c.Usage[types.ResourceCPU], c.Usage[types.ResourceMemory]
		if c.Name != "c"+string(rune('0'+i)) || cpu.MilliValue() != wantCPU[i] || mem.Value() != 10<<20 {
			t.Errorf("container %d: %s cpu %s memory %s, want c%d %dm 10Mi", i, c.Name, cpu.String(), mem.String(), i, wantCPU[i])
		}
	}
	// The fake runtime's clock moves one second per sample.
	if m.Window.Duration != time.Second || m.Timestamp.IsZero() {
		t.Errorf("window %v timestamp %v, want 1s and a time", m.Window, m.Timestamp)
	}

	// The Node's usage is the machine's, from /proc: some memory in use.
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := nodes.Get(context.Background(), nodeName)
		if err != nil {
			t.Fatal(err)
		}
		if nm, ok := types.NodeMetricsOf(n); ok {
			mem, cpu := nm.Usage[types.ResourceMemory], nm.Usage[types.ResourceCPU]
			if mem.Value() <= 0 || cpu.MilliValue() < 0 || nm.Window.Duration <= 0 {
				t.Errorf("node usage cpu %s memory %s window %v, want memory in use over a window", cpu.String(), mem.String(), nm.Window)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node has no usage sample: annotations %v", n.Annotations)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
