package wasm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/wharfhq/wharf/runtimes"
)

// BenchmarkWasmCompiledCache measures what the in-memory cache of compiled
// modules costs and saves, with Go wasip1 modules (the fixture, made
// distinct by a custom section so that each has its own digest, as each
// rollout of a Deployment does) and an on-disk compilation cache already
// holding their code, as a node's has.
//
// "held/*" creates and removes a container of each of 8 distinct modules,
// then lets the idle time pass (the clock moves 5 minutes and the agent's
// sync lists the containers) and reports the Go heap in use and the
// process's resident memory the runtime still holds, against the floor
// "held/keep-forever": the runtime as it was, which kept every module
// compiled until Close.
//
// "recreate/*" is one Create and Remove of a container of the Go module:
// "cache-hit" finds the module compiled in memory, "after-eviction" finds
// it closed (idle bound 0) and has wazero load its code from the on-disk
// cache, "cold-compile" has no cache at all and compiles it (a fresh
// runtime and in-memory cache each time; its setup is outside the timer).
func BenchmarkWasmCompiledCache(b *testing.B) {
	const n = 8
	src, err := os.ReadFile(goApp)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	imgs := make([]string, n)
	for i := range imgs {
		p := filepath.Join(dir, fmt.Sprintf("app%d.wasm", i))
		if err := os.WriteFile(p, withCustomSection(b, src, fmt.Sprintf("wharf-bench-%d", i)), 0o644); err != nil {
			b.Fatal(err)
		}
		imgs[i] = "file://" + p
	}
	diskCache, err := wazero.NewCompilationCacheWithDir(filepath.Join(dir, "cache"))
	if err != nil {
		b.Fatal(err)
	}
	defer diskCache.Close(context.Background())
	ctx := context.Background()
	newRT := func(b *testing.B, opts ...Option) *Runtime {
		r, err := New(b.TempDir(), append([]Option{WithCompilationCache(diskCache)}, opts...)...)
		if err != nil {
			b.Fatal(err)
		}
		return r
	}
	createRemove := func(b *testing.B, r *Runtime, id, img string) {
		if err := r.Create(ctx, id, &runtimes.Spec{Image: img}); err != nil {
			b.Fatal(err)
		}
		if err := r.Remove(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
	// Fill the on-disk cache, outside every timing.
	warm := newRT(b)
	for i, img := range imgs {
		createRemove(b, warm, fmt.Sprint("warm", i), img)
	}
	warm.Close()

	for _, mode := range []struct {
		name string
		opts []Option
	}{
		{"held/keep-forever", []Option{WithCompiledModuleCache(-1, -1)}},
		{"held/evict-default", nil},
	} {
		b.Run(mode.name, func(b *testing.B) {
			var heap, rss float64
			round := 0
			for b.Loop() {
				r := newRT(b, mode.opts...)
				clk := &fakeClock{now: time.Now()}
				r.now = clk.Now
				heap0, rss0 := settledMemory(b)
				for i, img := range imgs {
					createRemove(b, r, fmt.Sprintf("r%d-%d", round, i), img)
				}
				clk.Advance(DefaultCompiledIdleTime)
				if _, err := r.List(ctx); err != nil {
					b.Fatal(err)
				}
				heap1, rss1 := settledMemory(b)
				heap += float64(heap1) - float64(heap0)
				rss += float64(rss1) - float64(rss0)
				r.Close()
				round++
			}
			b.ReportMetric(heap/float64(b.N)/(1<<20), "heap-MiB-held")
			b.ReportMetric(rss/float64(b.N)/(1<<20), "rss-MiB-held")
		})
	}

	for _, mode := range []struct {
		name string
		opts []Option
	}{
		{"recreate/cache-hit", nil},
		{"recreate/after-eviction", []Option{WithCompiledModuleCache(0, 0)}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			r := newRT(b, mode.opts...)
			defer r.Close()
			createRemove(b, r, "first", imgs[0])
			compiles := r.Compiles()
			i := 0
			for b.Loop() {
				createRemove(b, r, fmt.Sprint("c", i), imgs[0])
				i++
			}
			b.ReportMetric(float64(r.Compiles()-compiles)/float64(b.N), "compiles/op")
		})
	}
	b.Run("recreate/cold-compile", func(b *testing.B) {
		i := 0
		for b.Loop() {
			b.StopTimer()
			mem := wazero.NewCompilationCache()
			r, err := New(b.TempDir(), WithCompilationCache(mem))
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			createRemove(b, r, fmt.Sprint("c", i), imgs[0])
			b.StopTimer()
			r.Close()
			mem.Close(ctx)
			i++
			b.StartTimer()
		}
	})
}

// withCustomSection returns module bytes with a custom section called name
// appended: another module to its digest, the same code.
func withCustomSection(tb testing.TB, mod []byte, name string) []byte {
	if len(name) > 125 {
		tb.Fatalf("custom section name %q too long for a one-byte size", name)
	}
	out := append([]byte(nil), mod...)
	// One byte of content: wazero fails to read an empty one at the end of
	// the module (bytes.Reader answers io.EOF to a read of nothing there).
	out = append(append(out, 0, byte(1+len(name)+1), byte(len(name))), name...)
	return append(out, 0)
}

// settledMemory is the Go heap in use and the process's resident memory
// (bytes) once garbage, and the machine code whose finalizers unmap it,
// has been collected.
func settledMemory(b *testing.B) (heapInuse, rss uint64) {
	goruntime.GC()
	goruntime.GC() // after the finalizers of the first
	debug.FreeOSMemory()
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	_, rssKiB := procStatus(b)
	return ms.HeapInuse, uint64(rssKiB) << 10
}
