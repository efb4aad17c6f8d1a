package agent_test

import (
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/hpa"
	"github.com/wharfhq/wharf/nodes/agent"
	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/wasm/wasmtest"
)

// TestWasmUsageIsCPU runs real Wasm Pods and reads the usage the agent
// writes for the autoscaler: a module asleep uses (almost) no CPU, one
// that spins uses most of a core. Wall time would show both at 1000m.
func TestWasmUsageIsCPU(t *testing.T) {
	app, err := goWasm()
	if err != nil {
		t.Fatal(err)
	}
	w := newWasmEnv(t)
	e := newEnv(t)
	e.startAgent(t, dataDir(t), map[string]runtimes.Runtime{"wasm": w.rt}, func(c *agent.Config) {
		c.UsageInterval = 200 * time.Millisecond
	})
	sleeper := wasmPod("sleeper", types.RestartPolicyAlways, "file://"+app)
	sleeper.Spec.Containers[0].Args = []string{"sleep"}
	e.create(t, sleeper)
	e.create(t, wasmPod("spinner", types.RestartPolicyAlways, w.module(t, "loop", wasmtest.Loop())))

	cpuOf := func(p *types.Pod) (int64, bool) {
		u, err := hpa.ParseUsage(usageOf(p))
		if err != nil || usageOf(p) == "" {
			return 0, false
		}
		cpu := u[types.ResourceCPU]
		return cpu.MilliValue(), true
	}
	// The spinner has one of the machine's two cores, shared with the
	// test: well over 200m. The sleeper's Go runtime wakes now and then.
	e.waitPod(t, "spinner", "usage over 200m", func(p *types.Pod) bool {
		m, ok := cpuOf(p)
		return ok && m > 200
	})
	p := e.waitPod(t, "sleeper", "a usage", func(p *types.Pod) bool { _, ok := cpuOf(p); return ok })
	// Two more rounds, so the figure is a rate over a sleeping period.
	time.Sleep(500 * time.Millisecond)
	p = e.waitPod(t, "sleeper", "a usage", func(p *types.Pod) bool { _, ok := cpuOf(p); return ok })
	if m, _ := cpuOf(p); m > 100 {
		t.Errorf("sleeping Wasm Pod usage %dm of CPU (%s), want under 100m", m, usageOf(p))
	}
}
