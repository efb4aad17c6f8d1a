package agent_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/wasm/wasmtest"
	"github.com/wharfhq/wharf/sdk"
)

// benchPods is how many Pods each startup benchmark runs.
const benchPods = 100

// goWasm builds the Go wasip1 fixture once (its "sleep" mode runs until
// stopped without using CPU).
var goWasm = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "wharf-agent-wasm-")
	if err != nil {
		return "", err
	}
	return wasmtest.BuildGoApp(dir)
})

// runningWatch records when each Pod was first seen Running.
type runningWatch struct {
	mu   sync.Mutex
	seen map[string]chan time.Time
}

func watchRunning(b *testing.B, e *env) *runningWatch {
	b.Helper()
	w, err := e.pods.Watch(context.Background(), sdk.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(w.Stop)
	rw := &runningWatch{seen: map[string]chan time.Time{}}
	go func() {
		for ev := range w.Events() {
			if ev.Object == nil || ev.Object.Status.Phase != types.PodRunning {
				continue
			}
			ch := rw.chanFor(ev.Object.Name)
			select {
			case ch <- time.Now():
			default: // already recorded
			}
		}
	}()
	return rw
}

func (rw *runningWatch) chanFor(name string) chan time.Time {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	ch, ok := rw.seen[name]
	if !ok {
		ch = make(chan time.Time, 1)
		rw.seen[name] = ch
	}
	return ch
}

// startup creates benchPods Pods one after the other, each unbound and then
// bound through the binding subresource (as the scheduler does), and
// measures from the create call to the first watch event showing the Pod
// Running. It reports p50 and p99 in milliseconds.
func startup(b *testing.B, e *env, mk func(name string) *types.Pod) {
	rw := watchRunning(b, e)
	ctx := context.Background()
	var lat []time.Duration
	for i := range b.N * benchPods {
		p := mk(fmt.Sprintf("bench-%d", i))
		p.Spec.NodeName = ""
		start := time.Now()
		created, err := e.pods.Create(ctx, p)
		if err != nil {
			b.Fatal(err)
		}
		if err := e.client.Bind(ctx, created, nodeName); err != nil {
			b.Fatal(err)
		}
		select {
		case at := <-rw.chanFor(p.Name):
			lat = append(lat, at.Sub(start))
		case <-time.After(60 * time.Second):
			got, _ := e.pods.Get(ctx, p.Name)
			b.Fatalf("pod %s not Running after 60s: %+v", p.Name, got.Status)
		}
	}
	b.StopTimer()
	reportLatency(b, lat)
	// Delete at once; the agent removes what is left.
	zero := int64(0)
	if err := e.pods.DeleteCollection(ctx, types.DeleteOptions{GracePeriodSeconds: &zero}, sdk.ListOptions{}); err != nil {
		b.Fatal(err)
	}
}

// burst creates and binds benchPods Pods as fast as it can, then waits
// for them all; each Pod's latency runs from its own create call to the
// first watch event showing it Running. It shows the agent under a queue
// of work (8 sync workers) rather than one Pod at a time.
func burst(b *testing.B, e *env, mk func(name string) *types.Pod) {
	rw := watchRunning(b, e)
	ctx := context.Background()
	// One Pod first, so that a module's one-time compilation or an image's
	// unpacking is not in the figures.
	if _, err := e.pods.Create(ctx, mk("warm-up")); err != nil {
		b.Fatal(err)
	}
	select {
	case <-rw.chanFor("warm-up"):
	case <-time.After(120 * time.Second):
		b.Fatal("warm-up pod not Running after 120s")
	}
	b.ResetTimer()
	var lat []time.Duration
	for round := range b.N {
		starts := make([]time.Time, benchPods)
		names := make([]string, benchPods)
		for i := range benchPods {
			names[i] = fmt.Sprintf("burst-%d-%d", round, i)
			p := mk(names[i])
			p.Spec.NodeName = ""
			starts[i] = time.Now()
			created, err := e.pods.Create(ctx, p)
			if err != nil {
				b.Fatal(err)
			}
			if err := e.client.Bind(ctx, created, nodeName); err != nil {
				b.Fatal(err)
			}
		}
		for i, name := range names {
			select {
			case at := <-rw.chanFor(name):
				lat = append(lat, at.Sub(starts[i]))
			case <-time.After(120 * time.Second):
				b.Fatalf("pod %s not Running after 120s", name)
			}
		}
	}
	b.StopTimer()
	reportLatency(b, lat)
	zero := int64(0)
	if err := e.pods.DeleteCollection(ctx, types.DeleteOptions{GracePeriodSeconds: &zero}, sdk.ListOptions{}); err != nil {
		b.Fatal(err)
	}
}

// reportLatency reports the p50 and p99 of lat in milliseconds.
func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	pct := func(q float64) float64 {
		return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}

// runtimeOnly is the runtime's part alone: Pull, Create and Start of
// benchPods containers, one after the other, timed to Start's return.
func runtimeOnly(b *testing.B, rt runtimes.Runtime, spec *runtimes.Spec) {
	ctx := context.Background()
	var lat []time.Duration
	for i := range b.N * benchPods {
		id := fmt.Sprintf("direct-%d", i)
		start := time.Now()
		if err := rt.Pull(ctx, spec, nil); err != nil {
			b.Fatal(err)
		}
		if err := rt.Create(ctx, id, spec); err != nil {
			b.Fatal(err)
		}
		if err := rt.Start(ctx, id); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportLatency(b, lat)
	for i := range b.N * benchPods {
		id := fmt.Sprintf("direct-%d", i)
		_ = rt.Stop(ctx, id, 0)
		_ = rt.Remove(ctx, id)
	}
}

// BenchmarkPodStartup measures Pod create → Running through a real API
// server and agent. Two floors: "floor" uses the fake runtime (no process,
// no module): what the API, the watch, the informer, the sync loop and the
// status write cost by themselves; "*-runtime-only" is the runtime's Pull,
// Create and Start alone, without the API or the agent.
func BenchmarkPodStartup(b *testing.B) {
	b.Run("floor", func(b *testing.B) {
		e := newEnv(b)
		e.startAgent(b, b.TempDir(), map[string]runtimes.Runtime{"container": newFake("container")}, nil)
		startup(b, e, func(name string) *types.Pod { return pod(name, types.RestartPolicyAlways, []string{"serve"}) })
	})
	b.Run("wasm", func(b *testing.B) {
		mod, err := goWasm()
		if err != nil {
			b.Fatal(err)
		}
		w := newWasmEnv(b)
		e := newEnv(b)
		e.startAgent(b, dataDir(b), map[string]runtimes.Runtime{"wasm": w.rt}, nil)
		startup(b, e, func(name string) *types.Pod {
			p := wasmPod(name, types.RestartPolicyAlways, "file://"+mod)
			p.Spec.Containers[0].Args = []string{"sleep"}
			p.Spec.Containers[0].ImagePullPolicy = types.PullIfNotPresent
			return p
		})
	})
	b.Run("floor-burst", func(b *testing.B) {
		e := newEnv(b)
		e.startAgent(b, b.TempDir(), map[string]runtimes.Runtime{"container": newFake("container")}, nil)
		burst(b, e, func(name string) *types.Pod { return pod(name, types.RestartPolicyAlways, []string{"serve"}) })
	})
	b.Run("wasm-burst", func(b *testing.B) {
		mod, err := goWasm()
		if err != nil {
			b.Fatal(err)
		}
		w := newWasmEnv(b)
		e := newEnv(b)
		e.startAgent(b, dataDir(b), map[string]runtimes.Runtime{"wasm": w.rt}, nil)
		burst(b, e, func(name string) *types.Pod {
			p := wasmPod(name, types.RestartPolicyAlways, "file://"+mod)
			p.Spec.Containers[0].Args = []string{"sleep"}
			p.Spec.Containers[0].ImagePullPolicy = types.PullIfNotPresent
			return p
		})
	})
	b.Run("wasm-runtime-only", func(b *testing.B) {
		mod, err := goWasm()
		if err != nil {
			b.Fatal(err)
		}
		w := newWasmEnv(b)
		runtimeOnly(b, w.rt, &runtimes.Spec{Image: "file://" + mod, PullPolicy: "IfNotPresent", Args: []string{"sleep"}})
	})
	b.Run("container-runtime-only", func(b *testing.B) {
		c := newCtrEnv(b)
		cleanupContainers(b, c.rt)
		runtimeOnly(b, c.rt, &runtimes.Spec{Image: c.ref, PullPolicy: "IfNotPresent", Args: []string{"trap"}})
	})
	b.Run("container", func(b *testing.B) {
		c := newCtrEnv(b)
		e := newEnv(b)
		cleanupContainers(b, c.rt)
		e.startAgent(b, dataDir(b), map[string]runtimes.Runtime{"container": c.rt}, nil)
		startup(b, e, func(name string) *types.Pod { return c.pod(name, types.RestartPolicyAlways, []string{"trap"}) })
	})
}

// BenchmarkIdleAgent reports an idle agent's memory: the Go heap it adds
// (after GC, with its informers synced and no Pods) and its goroutines,
// and the whole test process's RSS (which also holds the API server).
func BenchmarkIdleAgent(b *testing.B) {
	for range b.N {
		e := newEnv(b)
		w := newWasmEnv(b)
		// Settle the API server's own allocations first.
		if _, err := e.pods.List(context.Background(), sdk.ListOptions{}); err != nil {
			b.Fatal(err)
		}
		before := heapAfterGC()
		g0 := runtime.NumGoroutine()
		r := e.startAgent(b, b.TempDir(), map[string]runtimes.Runtime{"wasm": w.rt, "container": newFake("container")}, nil)
		// A Pod that ran and finished shows the informers synced and the
		// loop working; then the agent is idle.
		e.create(b, wasmPod("idle", types.RestartPolicyNever, w.module(b, "exit0", wasmtest.Exit(0))))
		e.waitPod(b, "idle", "Succeeded", phase(types.PodSucceeded))
		time.Sleep(200 * time.Millisecond) // let the status write and events finish
		after := heapAfterGC()
		b.ReportMetric(float64(after-before)/(1<<20), "agent-heap-MiB")
		b.ReportMetric(float64(runtime.NumGoroutine()-g0), "agent-goroutines")
		b.ReportMetric(float64(rssKiB())/1024, "process-RSS-MiB")
		b.ReportMetric(0, "ns/op")
		r.stop(b)
	}
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// rssKiB reads VmRSS from /proc/self/status.
func rssKiB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
