package wasm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/wasm/wasmtest"
)

// fakeClock is a runtime clock that moves only when told (controllertest.Clock
// is one too, but importing it would pull the API server into these tests).
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newClockedRuntime(t *testing.T, opts ...Option) (*Runtime, *fakeClock) {
	t.Helper()
	r := newRuntime(t, opts...)
	clk := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	r.now = clk.Now
	return r, clk
}

// wantCached checks the runtime's count of compiled modules in memory.
func wantCached(t *testing.T, r *Runtime, inUse, idle int) {
	t.Helper()
	if u, i := r.CachedModules(); u != inUse || i != idle {
		t.Fatalf("cached modules: %d in use, %d idle; want %d in use, %d idle", u, i, inUse, idle)
	}
}

func wantCompiles(t *testing.T, r *Runtime, n int64) {
	t.Helper()
	if got := r.Compiles(); got != n {
		t.Fatalf("compiled %d times, want %d", got, n)
	}
}

func remove(t *testing.T, r *Runtime, id string) {
	t.Helper()
	if err := r.Remove(context.Background(), id); err != nil {
		t.Fatalf("remove %s: %v", id, err)
	}
}

// runAndRemove runs a container of img to its end and removes it.
func runAndRemove(t *testing.T, r *Runtime, id, img string) {
	t.Helper()
	if st, _ := run(t, r, id, &runtimes.Spec{Image: img}); st.ExitCode != 0 {
		t.Fatalf("%s: exit %+v", id, st)
	}
	remove(t, r, id)
}

func TestCompiledModuleIdleTime(t *testing.T) {
	r, clk := newClockedRuntime(t, WithCompiledModuleCache(time.Minute, -1))
	img := writeModule(t, wasmtest.Exit(0))
	runAndRemove(t, r, "a", img)
	wantCached(t, r, 0, 1)

	// Used again within the idle time: not compiled again, and its idle
	// time starts over when it is released again.
	clk.Advance(59 * time.Second)
	runAndRemove(t, r, "b", img)
	wantCompiles(t, r, 1)
	clk.Advance(59 * time.Second)
	if _, err := r.List(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantCached(t, r, 0, 1)

	// Past it, List (as the agent's sync calls it) closes the module.
	clk.Advance(time.Second)
	if _, err := r.List(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantCached(t, r, 0, 0)

	// A new container of the module compiles it again (from the on-disk
	// cache) and runs.
	runAndRemove(t, r, "c", img)
	wantCompiles(t, r, 2)
}

func TestCompiledModuleMaxIdle(t *testing.T) {
	r, clk := newClockedRuntime(t, WithCompiledModuleCache(-1, 2))
	imgs := []string{
		writeModule(t, wasmtest.Exit(0)),
		writeModule(t, wasmtest.Print("one")),
		writeModule(t, wasmtest.Print("two")),
	}
	for i, img := range imgs {
		runAndRemove(t, r, fmt.Sprint("c", i), img)
		clk.Advance(time.Hour) // no time bound
	}
	// The longest idle went first.
	wantCached(t, r, 0, 2)
	wantCompiles(t, r, 3)
	runAndRemove(t, r, "again2", imgs[2])
	runAndRemove(t, r, "again1", imgs[1])
	wantCompiles(t, r, 3)
	runAndRemove(t, r, "again0", imgs[0])
	wantCompiles(t, r, 4)
	wantCached(t, r, 0, 2)
}

func TestCompiledModuleKeptForever(t *testing.T) {
	// Both bounds off: the runtime's behaviour before the cache had them.
	r, clk := newClockedRuntime(t, WithCompiledModuleCache(-1, -1))
	for i := range 5 {
		runAndRemove(t, r, fmt.Sprint("c", i), writeModule(t, wasmtest.Print(fmt.Sprint(i))))
		clk.Advance(24 * time.Hour)
	}
	wantCached(t, r, 0, 5)
}

func TestCompiledModuleInUseNeverEvicted(t *testing.T) {
	ctx := context.Background()
	// Idle modules are closed at once.
	r, clk := newClockedRuntime(t, WithCompiledModuleCache(0, 0))
	spec := &runtimes.Spec{Image: writeModule(t, wasmtest.Loop())}
	if err := r.Create(ctx, "running", spec); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx, "running"); err != nil {
		t.Fatal(err)
	}
	if err := r.Create(ctx, "created", spec); err != nil {
		t.Fatal(err)
	}
	// Another user of the module comes and goes; so does another module.
	if err := r.Create(ctx, "other", spec); err != nil {
		t.Fatal(err)
	}
	remove(t, r, "other")
	runAndRemove(t, r, "exit", writeModule(t, wasmtest.Exit(0)))
	clk.Advance(time.Hour)
	if _, err := r.List(ctx); err != nil {
		t.Fatal(err)
	}
	wantCached(t, r, 1, 0)
	wantCompiles(t, r, 2)

	// The created container still starts from its module.
	if err := r.Start(ctx, "created"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"running", "created"} {
		if err := r.Stop(ctx, id, 0); err != nil {
			t.Fatal(err)
		}
		if st, err := r.Wait(ctx, id); err != nil || st.Message != "stopped" {
			t.Fatalf("%s: %+v %v, want stopped after running", id, st, err)
		}
	}
	remove(t, r, "running")
	wantCached(t, r, 1, 0)
	remove(t, r, "created")
	wantCached(t, r, 0, 0)
	wantCompiles(t, r, 2)
}

func TestCompiledModuleFailedCreateReleases(t *testing.T) {
	ctx := context.Background()
	r, _ := newClockedRuntime(t, WithCompiledModuleCache(-1, -1))
	// Compiles, but declares more memory than the limit allows.
	spec := &runtimes.Spec{Image: writeModule(t, wasmtest.MinMemory(4))}
	spec.Resources.MemoryLimitBytes = pageSize
	if err := r.Create(ctx, "big", spec); !errors.Is(err, runtimes.ErrInvalidImage) {
		t.Fatalf("create: %v, want ErrInvalidImage", err)
	}
	wantCached(t, r, 0, 1)
	// Not a WASI command.
	if err := r.Create(ctx, "reactor", &runtimes.Spec{Image: writeModule(t, wasmtest.Reactor())}); !errors.Is(err, runtimes.ErrInvalidImage) {
		t.Fatalf("create: %v, want ErrInvalidImage", err)
	}
	if _, err := r.HTTPHandler(ctx, &runtimes.Spec{Image: writeModule(t, wasmtest.Reactor())}); !errors.Is(err, runtimes.ErrInvalidImage) {
		t.Fatalf("HTTPHandler: %v, want ErrInvalidImage", err)
	}
	wantCached(t, r, 0, 2)
	// Does not compile: nothing is kept.
	if err := r.Create(ctx, "bad", &runtimes.Spec{Image: writeModule(t, []byte("\x00asm\x01\x00\x00\x00\xff"))}); !errors.Is(err, runtimes.ErrInvalidImage) {
		t.Fatalf("create: %v, want ErrInvalidImage", err)
	}
	wantCached(t, r, 0, 2)
}

func TestWAGIHoldsItsModule(t *testing.T) {
	r, clk := newClockedRuntime(t, WithCompiledModuleCache(0, 0))
	img := writeModule(t, wasmtest.Print(helloResponse))
	f := handler(t, r, &runtimes.Spec{Image: img})
	// A container of the same module comes and goes.
	runAndRemove(t, r, "c", img)
	clk.Advance(time.Hour)
	if _, err := r.List(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantCached(t, r, 1, 0)
	wantCompiles(t, r, 1)
	get := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		f.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		return rec
	}
	if rec := get(); rec.Code != http.StatusOK || rec.Body.String() != "hello\n" {
		t.Fatalf("after the container left: %d %q", rec.Code, rec.Body)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	wantCached(t, r, 0, 0)
	if rec := get(); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("after Close: %d %q, want 503", rec.Code, rec.Body)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	wantCached(t, r, 0, 0)
}

func TestWAGICloseWaitsForRequests(t *testing.T) {
	r, _ := newClockedRuntime(t, WithCompiledModuleCache(0, 0))
	f := handler(t, r, &runtimes.Spec{Image: writeModule(t, wasmtest.Print(helloResponse))})
	// A request between begin and end, as ServeHTTP holds it.
	if !f.begin() {
		t.Fatal("begin refused on an open function")
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	wantCached(t, r, 1, 0)
	f.end()
	wantCached(t, r, 0, 0)
}

// TestCompiledModuleRefsConcurrent creates and removes containers of one
// module from many goroutines at once (run it with -race); the references
// must add up.
func TestCompiledModuleRefsConcurrent(t *testing.T) {
	const workers, rounds = 8, 10
	for _, tc := range []struct {
		name    string
		opts    []Option
		keep    bool // each worker keeps its last container
		inUse   int
		idle    int
		compile int64
	}{
		{"kept-idle", nil, false, 0, 1, 1},
		{"closed-when-idle", []Option{WithCompiledModuleCache(0, 0)}, false, 0, 0, -1},
		{"some-kept", []Option{WithCompiledModuleCache(0, 0)}, true, 1, 0, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRuntime(t, tc.opts...)
			ctx := context.Background()
			spec := &runtimes.Spec{Image: writeModule(t, wasmtest.Exit(0))}
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					for i := range rounds {
						id := fmt.Sprintf("w%d-%d", w, i)
						if err := r.Create(ctx, id, spec); err != nil {
							t.Error(err)
							return
						}
						if i%2 == 0 {
							if err := r.Start(ctx, id); err != nil {
								t.Error(err)
								return
							}
							if _, err := r.Wait(ctx, id); err != nil {
								t.Error(err)
								return
							}
						}
						if tc.keep && i == rounds-1 {
							continue
						}
						if err := r.Remove(ctx, id); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			wantCached(t, r, tc.inUse, tc.idle)
			if tc.compile >= 0 {
				wantCompiles(t, r, tc.compile)
			}
			r.mu.Lock()
			for _, cm := range r.compiled {
				if want := map[bool]int{true: workers, false: 0}[tc.keep]; cm.refs != want {
					t.Errorf("module %s has %d references, want %d", cm.digest, cm.refs, want)
				}
			}
			r.mu.Unlock()
		})
	}
}

func TestCloseReleasesCompiledModules(t *testing.T) {
	r, err := New(t.TempDir(), WithCompilationCache(sharedCache))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := r.Create(ctx, "held", &runtimes.Spec{Image: writeModule(t, wasmtest.Exit(0))}); err != nil {
		t.Fatal(err)
	}
	runAndRemove(t, r, "idle", writeModule(t, wasmtest.Print("x")))
	wantCached(t, r, 1, 1)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	wantCached(t, r, 0, 0)
}

// TestStartCompilesWithoutTheContainerLock: a created container recorded
// by an earlier process is compiled again by Start, without holding the
// container's lock. Compiling takes the runtime's lock, which Remove holds
// while it waits for the container's (Start and Remove of that container
// could deadlock), and can take seconds, which Inspect and List must not
// wait for. The module file is made a FIFO, so that the test holds Start
// in the middle of its compile.
func TestStartCompilesWithoutTheContainerLock(t *testing.T) {
	root := t.TempDir()
	ctx := context.Background()
	r1, err := New(root, WithCompilationCache(sharedCache))
	if err != nil {
		t.Fatal(err)
	}
	if err := r1.Create(ctx, "c", &runtimes.Spec{Image: writeModule(t, wasmtest.Exit(0))}); err != nil {
		t.Fatal(err)
	}
	digest := r1.containers["c"].ref.Digest
	if err := r1.Close(); err != nil {
		t.Fatal(err)
	}
	r2, err := New(root, WithCompilationCache(sharedCache))
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	p, err := r2.modulePath(digest)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	started := make(chan error, 1)
	go func() { started <- r2.Start(ctx, "c") }()
	// Opening the FIFO for writing returns once Start has opened it to
	// read the module: Start is compiling.
	fifo, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	feed := func() {
		_, _ = fifo.Write(b)
		_ = fifo.Close()
	}
	inspected := make(chan error, 1)
	go func() {
		_, err := r2.Inspect(ctx, "c")
		inspected <- err
	}()
	select {
	case err := <-inspected:
		if err != nil {
			feed()
			t.Fatalf("Inspect: %v", err)
		}
	case <-time.After(20 * time.Second): // a safety net, not a timed assertion
		feed()
		t.Fatal("Inspect waited for Start's compile: Start holds the container's lock while it compiles")
	}
	feed()
	if err := <-started; err != nil {
		t.Fatalf("Start: %v", err)
	}
	if st, err := r2.Wait(ctx, "c"); err != nil || st.ExitCode != 0 {
		t.Fatalf("Wait: %+v %v", st, err)
	}
	wantCached(t, r2, 1, 0)
	remove(t, r2, "c")
	wantCached(t, r2, 0, 1)
}
