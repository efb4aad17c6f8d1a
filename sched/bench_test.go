package sched_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sched"
	. "github.com/wharfhq/wharf/sched/internal/schedtest"
	"github.com/wharfhq/wharf/sdk"
)

// parallelDo runs f(i) for i in [0, n) on workers goroutines and marks b
// failed on the first error (Error, not Fatal: it may run off the
// benchmark's goroutine).
func parallelDo(b *testing.B, n, workers int, f func(i int) error) {
	b.Helper()
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		b.Error(firstErr)
	}
}

// BenchmarkScheduleThroughput places pods pending Pods on nodes Nodes
// through a real API server on Badger, in process. Nodes (in 3 zones,
// 32 cpu / 128Gi each) and Pods (0.1-0.5 cpu, 128-512Mi, owned by one of
// 100 ReplicaSets, so default spreading applies) are created through the
// API before the timer starts; the timer runs from the scheduler's start
// (including its informers' initial list) until a watch has seen every
// Pod bound. Run with -benchtime=1x: each iteration builds its own
// cluster.
func BenchmarkScheduleThroughput(b *testing.B) {
	for _, size := range []struct{ nodes, pods int }{{1000, 10000}, {5000, 10000}} {
		b.Run(fmt.Sprintf("nodes=%d/pods=%d", size.nodes, size.pods), func(b *testing.B) {
			for range b.N {
				benchmarkThroughput(b, size.nodes, size.pods)
			}
		})
	}
}

// benchCluster creates numNodes Nodes and numPods pending Pods through a
// fresh API server, and starts a watch of the Pods from there.
func benchCluster(b *testing.B, numNodes, numPods int) (*env, *sdk.Watcher[*types.Pod]) {
	b.Helper()
	e := newEnv(b)
	ctx := context.Background()
	nodes := sdk.Typed[*types.Node](e.client)
	parallelDo(b, numNodes, 16, func(i int) error {
		n := Node(fmt.Sprintf("node-%05d", i)).Capacity("32", "128Gi", "110").Zone(fmt.Sprintf("zone-%d", i%3)).Obj()
		created, err := nodes.Create(ctx, n)
		if err != nil {
			return err
		}
		if len(created.Status.Allocatable) == 0 {
			created.Status = n.Status
			_, err = nodes.UpdateStatus(ctx, created)
		}
		return err
	})
	// A real image on an in-process registry, so that NodeArchitecture's
	// registry lookup (once, then cached) and per-node check are measured.
	image := NewImageRegistry(b).PushIndex(b, "app", "linux/amd64", "linux/arm64")
	pods := sdk.Typed[*types.Pod](e.client).Namespace("default")
	parallelDo(b, numPods, 16, func(i int) error {
		p := Pod(fmt.Sprintf("pod-%05d", i)).Images(image).
			Req(fmt.Sprintf("%dm", 100+100*(i%5)), fmt.Sprintf("%dMi", 128<<(i%3))).
			Owner(fmt.Sprintf("rs-%03d", i%100)).Label("app", fmt.Sprintf("app-%03d", i%100)).Obj()
		p.UID = ""
		_, err := pods.Create(ctx, p)
		return err
	})
	return e, watchFromNow(b, pods)
}

// watchFromNow starts a watch of pods from the current revision, stopped
// when the benchmark ends.
func watchFromNow(b *testing.B, pods *sdk.TypedClient[*types.Pod]) *sdk.Watcher[*types.Pod] {
	b.Helper()
	list, err := pods.List(context.Background(), sdk.ListOptions{Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	w, err := pods.Watch(context.Background(), sdk.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(w.Stop)
	return w
}

// waitAllBound reads w until it has seen numPods distinct Pods bound.
func waitAllBound(b *testing.B, w *sdk.Watcher[*types.Pod], numPods int) {
	b.Helper()
	bound := make(map[string]bool, numPods)
	for len(bound) < numPods {
		ev, ok := <-w.Events()
		if !ok {
			b.Fatalf("watch ended after %d bound: %v", len(bound), w.Err())
		}
		if ev.Object.Spec.NodeName != "" {
			bound[ev.Object.Name] = true
		}
	}
}

func benchmarkThroughput(b *testing.B, numNodes, numPods int) {
	b.StopTimer()
	e, w := benchCluster(b, numNodes, numPods)
	ctx := context.Background()

	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	s, err := sched.New(e.client, sched.DefaultConfig(), sched.WithLogger(quiet))
	if err != nil {
		b.Fatal(err)
	}
	b.StartTimer()
	start, cpu0 := time.Now(), processCPU()
	go func() { done <- s.Run(sctx) }()
	waitAllBound(b, w, numPods)
	elapsed, cpu := time.Since(start), processCPU()-cpu0
	b.StopTimer()
	stop()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(numPods)/elapsed.Seconds(), "pods/s")
	b.ReportMetric(float64(s.DroppedEvents()), "events-dropped")
	b.ReportMetric(float64(cpu.Microseconds())/float64(numPods), "cpu-µs/pod")
}

// BenchmarkBindFloor is the floor BenchmarkScheduleThroughput is measured
// against: the same cluster, and the same number of binding calls from as
// many workers as the scheduler's bind pool, round-robin over the nodes,
// with no scheduler at all. The scheduler's pods/s divided by this one's
// is the share of the API's binding throughput it reaches.
func BenchmarkBindFloor(b *testing.B) {
	for _, size := range []struct{ nodes, pods int }{{1000, 10000}, {5000, 10000}} {
		b.Run(fmt.Sprintf("nodes=%d/pods=%d", size.nodes, size.pods), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				e, w := benchCluster(b, size.nodes, size.pods)
				b.StartTimer()
				start, cpu0 := time.Now(), processCPU()
				go parallelDo(b, size.pods, sched.DefaultBindWorkers, func(i int) error {
					p := &types.Pod{ObjectMeta: types.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("pod-%05d", i)}}
					return e.client.Bind(context.Background(), p, fmt.Sprintf("node-%05d", i%size.nodes))
				})
				waitAllBound(b, w, size.pods)
				elapsed, cpu := time.Since(start), processCPU()-cpu0
				b.StopTimer()
				b.ReportMetric(float64(size.pods)/elapsed.Seconds(), "pods/s")
				b.ReportMetric(float64(cpu.Microseconds())/float64(size.pods), "cpu-µs/pod")
			}
		})
	}
}

// processCPU returns the CPU time (user and system) the whole process
// (API server, store, scheduler, watch) has used: on a shared machine, CPU
// per Pod is steadier than Pods per second.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
