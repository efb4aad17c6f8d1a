package wasm

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tetratelabs/wazero/experimental"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/wasm/wasmtest"
)

// BenchmarkWasmInstantiate measures one run of a module already compiled:
// "instance" is what the runtime does per run (instantiate with the
// run's config and memory allocator, call _start, close), "container" the
// whole Create, Start, Wait and Remove through the Runtime interface, with
// its state record and log file.
func BenchmarkWasmInstantiate(b *testing.B) {
	for _, m := range []struct {
		name string
		spec func(b *testing.B) *runtimes.Spec
	}{
		{"minimal", func(b *testing.B) *runtimes.Spec { return &runtimes.Spec{Image: writeModule(b, wasmtest.Empty())} }},
		{"go-hello", func(b *testing.B) *runtimes.Spec { return &runtimes.Spec{Image: "file://" + goApp} }},
	} {
		b.Run(m.name+"/instance", func(b *testing.B) {
			r := newRuntime(b)
			ctx := context.Background()
			spec := m.spec(b)
			ref, err := r.resolve(ctx, spec, nil, false)
			if err != nil {
				b.Fatal(err)
			}
			mod, err := r.prepare(ctx, spec, ref)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				mem := newMemoryLimit(0)
				cfg := moduleConfig(ctx, spec, ref, nil, eofReader{}, io.Discard, io.Discard)
				inst, err := r.wz.InstantiateModule(experimental.WithMemoryAllocator(ctx, mem), mod.code, cfg)
				if err != nil {
					if st := classify(err, mem, false, false, 0); st.ExitCode != 0 {
						b.Fatal(err)
					}
				}
				if inst != nil {
					inst.Close(ctx)
				}
			}
		})
		b.Run(m.name+"/container", func(b *testing.B) {
			r := newRuntime(b)
			ctx := context.Background()
			spec := m.spec(b)
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				id := fmt.Sprint("c", i)
				i++
				if err := r.Create(ctx, id, spec); err != nil {
					b.Fatal(err)
				}
				if err := r.Start(ctx, id); err != nil {
					b.Fatal(err)
				}
				if st, err := r.Wait(ctx, id); err != nil || st.ExitCode != 0 {
					b.Fatal(st, err)
				}
				if err := r.Remove(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

const helloResponse = "Content-Type: text/plain\n\nhello\n"

// BenchmarkWasmHTTP measures one WAGI request end to end through the
// handler (httptest.NewRecorder, no network), beside the floor: a plain Go
// http.HandlerFunc that writes the same response.
func BenchmarkWasmHTTP(b *testing.B) {
	r := newRuntime(b)
	cases := []struct {
		name string
		h    http.Handler
	}{
		{"go-handler-floor", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "hello\n")
		})},
		{"wagi-minimal", handler(b, r, &runtimes.Spec{Image: writeModule(b, wasmtest.Print(helloResponse))})},
		{"wagi-go", handler(b, r, &runtimes.Spec{Image: "file://" + goApp, Args: []string{"wagi"}})},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				c.h.ServeHTTP(rec, httptest.NewRequest("GET", "/hello?x=1", nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

// BenchmarkWasmStopSleeping stops 200 sleeping Go modules at once (as a
// rolling update or a scale-down of Wasm Pods does) and reports the wall
// time and the process CPU the stops took. "stop" is Stop as it is (the
// module ends in its sleep); the floor "sleep-returns" is Stop as it was:
// the sleep returned on cancellation and the guest spun through
// poll_oneoff until wazero's watcher goroutine closed it.
func BenchmarkWasmStopSleeping(b *testing.B) {
	const n = 200
	for _, mode := range []string{"stop", "sleep-returns"} {
		b.Run(mode, func(b *testing.B) {
			r := newRuntime(b)
			r.sleepReturnsOnStop = mode == "sleep-returns"
			ctx := context.Background()
			spec := &runtimes.Spec{Image: "file://" + goApp, Args: []string{"sleep"}}
			var wall, cpu time.Duration
			round := 0
			for b.Loop() {
				b.StopTimer()
				ids := make([]string, n)
				for i := range ids {
					ids[i] = fmt.Sprintf("r%d-%d", round, i)
					if err := r.Create(ctx, ids[i], spec); err != nil {
						b.Fatal(err)
					}
					if err := r.Start(ctx, ids[i]); err != nil {
						b.Fatal(err)
					}
				}
				round++
				time.Sleep(time.Second) // every module is in its sleep
				b.StartTimer()
				cpu0, start := processCPU(b), time.Now()
				var wg sync.WaitGroup
				for _, id := range ids {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if err := r.Stop(ctx, id, 0); err != nil {
							b.Error(err)
						}
						if st, err := r.Wait(ctx, id); err != nil || st.ExitCode != ExitCodeKilled || st.Message != "stopped" {
							b.Errorf("%s after Stop: %+v %v, want 137 stopped", id, st, err)
						}
					}()
				}
				wg.Wait()
				wall += time.Since(start)
				cpu += processCPU(b) - cpu0
				b.StopTimer()
				for _, id := range ids {
					if err := r.Remove(ctx, id); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(wall.Milliseconds())/float64(b.N), "stop-ms/op")
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}

// processCPU is the user and system CPU time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkWasmSleepingFootprint starts 1,000 sleeping Go wasip1 modules
// (as 1,000 Wasm Pod replicas) and reports the OS threads and resident
// memory they add to the process: each running module holds one locked
// OS thread (see threadcpu.go).
func BenchmarkWasmSleepingFootprint(b *testing.B) {
	const n = 1000
	r := newRuntime(b)
	ctx := context.Background()
	spec := &runtimes.Spec{Image: "file://" + goApp, Args: []string{"sleep"}}
	round := 0
	for b.Loop() {
		threads0, rss0 := procStatus(b)
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("r%d-%d", round, i)
			if err := r.Create(ctx, ids[i], spec); err != nil {
				b.Fatal(err)
			}
			if err := r.Start(ctx, ids[i]); err != nil {
				b.Fatal(err)
			}
		}
		round++
		b.StopTimer()
		time.Sleep(2 * time.Second) // every module is in its sleep
		threads, rss := procStatus(b)
		b.ReportMetric(float64(threads-threads0), "threads")
		b.ReportMetric(float64(rss-rss0)/n/1024, "rss-MiB/instance")
		for _, id := range ids {
			if err := r.Stop(ctx, id, 0); err != nil {
				b.Fatal(err)
			}
			if err := r.Remove(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
	}
}

// procStatus reads this process's thread count and resident set (KiB)
// from /proc/self/status.
func procStatus(b *testing.B) (threads, rssKiB int) {
	s, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(s)) {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "Threads:":
			threads, _ = strconv.Atoi(f[1])
		case "VmRSS:":
			rssKiB, _ = strconv.Atoi(f[1])
		}
	}
	return threads, rssKiB
}
