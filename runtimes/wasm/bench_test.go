package wasm

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

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
				inst, err := r.wz.InstantiateModule(experimental.WithMemoryAllocator(ctx, mem), mod, cfg)
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
