package wasm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/wasm/wasmtest"
)

func TestMemoryLimit(t *testing.T) {
	r := newRuntime(t)
	const limit = 4<<20 + 1000 // rounds down to 64 pages
	tests := []struct {
		name string
		spec runtimes.Spec
	}{
		{"hand-written grow loop", runtimes.Spec{Image: writeModule(t, wasmtest.GrowForever(3))}},
		{"go allocating", runtimes.Spec{Image: "file://" + goApp, Args: []string{"oom"}}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.Resources.MemoryLimitBytes = limit
			st, _ := run(t, r, "oom"+string(rune('a'+i)), &tc.spec)
			if st.Reason != runtimes.ReasonOOMKilled || st.ExitCode != ExitCodeKilled {
				t.Fatalf("exit %d %q %q, want OOMKilled", st.ExitCode, st.Reason, st.Message)
			}
			if !strings.Contains(st.Message, "memory limit of 4194304 bytes (64 pages)") {
				t.Fatalf("message does not give the limit: %q", st.Message)
			}
		})
	}
	t.Run("declared minimum over the limit", func(t *testing.T) {
		spec := &runtimes.Spec{Image: writeModule(t, wasmtest.MinMemory(100)),
			Resources: runtimes.Resources{MemoryLimitBytes: limit}}
		err := r.Create(context.Background(), "min", spec)
		if !errors.Is(err, runtimes.ErrInvalidImage) || !strings.Contains(err.Error(), "100 pages") {
			t.Fatalf("create: %v", err)
		}
	})
	t.Run("within the limit", func(t *testing.T) {
		spec := &runtimes.Spec{Image: writeModule(t, wasmtest.MinMemory(64)),
			Resources: runtimes.Resources{MemoryLimitBytes: limit}}
		if st, _ := run(t, r, "fits", spec); st.ExitCode != 0 {
			t.Fatalf("exit %+v", st)
		}
	})
}

func TestTrap(t *testing.T) {
	r := newRuntime(t)
	st, out := run(t, r, "trap", &runtimes.Spec{Image: writeModule(t, wasmtest.Unreachable())})
	if st.Reason != runtimes.ReasonError || st.ExitCode != ExitCodeTrap {
		t.Fatalf("exit %+v", st)
	}
	if !strings.Contains(st.Message, "unreachable") || !strings.Contains(st.Message, "wasm stack trace") {
		t.Fatalf("message lacks the trap and its stack: %q", st.Message)
	}
	if !strings.Contains(out, "unreachable") {
		t.Fatalf("log lacks the trap: %q", out)
	}
}

func TestDeadline(t *testing.T) {
	r := newRuntime(t)
	for _, tc := range []struct {
		name string
		spec runtimes.Spec
	}{
		{"busy loop", runtimes.Spec{Image: writeModule(t, wasmtest.Loop())}},
		{"go sleeping", runtimes.Spec{Image: "file://" + goApp, Args: []string{"sleep"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.Deadline = 50 * time.Millisecond
			st, _ := run(t, r, strings.ReplaceAll(tc.name, " ", "-"), &tc.spec)
			if st.Reason != runtimes.ReasonDeadlineExceeded || st.ExitCode != ExitCodeKilled {
				t.Fatalf("exit %+v", st)
			}
		})
	}
}

func TestStop(t *testing.T) {
	r := newRuntime(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		spec runtimes.Spec
	}{
		{"busy loop", runtimes.Spec{Image: writeModule(t, wasmtest.Loop())}},
		{"go sleeping", runtimes.Spec{Image: "file://" + goApp, Args: []string{"sleep"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := strings.ReplaceAll(tc.name, " ", "-")
			if err := r.Create(ctx, id, &tc.spec); err != nil {
				t.Fatal(err)
			}
			if err := r.Start(ctx, id); err != nil {
				t.Fatal(err)
			}
			if in, _ := r.Inspect(ctx, id); in.State != runtimes.StateRunning {
				t.Fatalf("state %s", in.State)
			}
			if err := r.Remove(ctx, id); !errors.Is(err, runtimes.ErrInvalidState) {
				t.Fatalf("remove while running: %v", err)
			}
			if err := r.Stop(ctx, id, time.Minute); err != nil {
				t.Fatal(err)
			}
			st, err := r.Wait(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if st.ExitCode != ExitCodeKilled || st.Reason != runtimes.ReasonError || st.Message != "stopped" {
				t.Fatalf("exit %+v", st)
			}
			if err := r.Remove(ctx, id); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestStopCreated(t *testing.T) {
	r := newRuntime(t)
	ctx := context.Background()
	if err := r.Create(ctx, "c", &runtimes.Spec{Image: writeModule(t, wasmtest.Empty())}); err != nil {
		t.Fatal(err)
	}
	if err := r.Stop(ctx, "c", 0); err != nil {
		t.Fatal(err)
	}
	st, err := r.Wait(ctx, "c")
	if err != nil || st.ExitCode != ExitCodeKilled {
		t.Fatalf("wait: %+v %v", st, err)
	}
	if err := r.Start(ctx, "c"); !errors.Is(err, runtimes.ErrInvalidState) {
		t.Fatalf("start after stop: %v", err)
	}
	// Its log is complete: a follower ends at once.
	if out := readLogs(t, r, "c", runtimes.LogOptions{Follow: true}); out != "" {
		t.Fatalf("logs %q", out)
	}
}

func TestStats(t *testing.T) {
	r := newRuntime(t)
	ctx := context.Background()
	if err := r.Create(ctx, "s", &runtimes.Spec{Image: writeModule(t, wasmtest.Loop())}); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	st, err := r.Stats(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	if st.MemoryBytes != pageSize {
		t.Fatalf("memory %d, want one page", st.MemoryBytes)
	}
	if err := r.Stop(ctx, "s", 0); err != nil {
		t.Fatal(err)
	}
	after, err := r.Stats(ctx, "s")
	if err != nil || after.CPUNanos < st.CPUNanos {
		t.Fatalf("stats after stop: %+v %v (before %+v)", after, err, st)
	}
}

func TestPreopens(t *testing.T) {
	r := newRuntime(t)
	rw, ro := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(ro, "in.txt"), []byte("from host"), 0o644); err != nil {
		t.Fatal(err)
	}
	mounts := []runtimes.Mount{{HostPath: rw, ContainerPath: "/data"}, {HostPath: ro, ContainerPath: "/config", ReadOnly: true}}
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"write", []string{"write", "/data/out.txt", "hello"}, 0, ""},
		{"read", []string{"read", "/config/in.txt"}, 0, "from host"},
		{"read-only", []string{"write", "/config/x", "no"}, 1, "write: open /config/x: "},
		{"outside mounts", []string{"read", "/etc/passwd"}, 1, "read: open /etc/passwd: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, out := run(t, r, tc.name, &runtimes.Spec{Image: "file://" + goApp, Args: tc.args, Mounts: mounts})
			if st.ExitCode != tc.code || !strings.HasPrefix(out, tc.out) {
				t.Fatalf("exit %d, logs %q; want %d, %q...", st.ExitCode, out, tc.code, tc.out)
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(rw, "out.txt")); err != nil || string(b) != "hello" {
		t.Fatalf("file written through the preopen: %q %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(ro, "x")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("read-only mount was written")
	}
}

func TestCompileOnce(t *testing.T) {
	r := newRuntime(t)
	img := writeModule(t, wasmtest.Exit(0))
	for _, id := range []string{"a", "b", "c"} {
		if st, _ := run(t, r, id, &runtimes.Spec{Image: img}); st.ExitCode != 0 {
			t.Fatalf("exit %+v", st)
		}
	}
	// The same bytes under another URL are the same module.
	if st, _ := run(t, r, "d", &runtimes.Spec{Image: writeModule(t, wasmtest.Exit(0))}); st.ExitCode != 0 {
		t.Fatalf("exit %+v", st)
	}
	if n := r.Compiles(); n != 1 {
		t.Fatalf("compiled %d times, want once", n)
	}
}

func TestRestartListsPreviousContainers(t *testing.T) {
	root := t.TempDir()
	ctx := context.Background()
	r1, err := New(root, WithCompilationCache(sharedCache))
	if err != nil {
		t.Fatal(err)
	}
	loop := writeModule(t, wasmtest.Loop())
	for id, spec := range map[string]*runtimes.Spec{
		"done":    {Image: writeModule(t, wasmtest.Exit(4)), Labels: map[string]string{"pod": "p1"}},
		"running": {Image: loop, Labels: map[string]string{"pod": "p2"}},
		"created": {Image: writeModule(t, wasmtest.Empty())},
	} {
		if err := r1.Create(ctx, id, spec); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"done", "running"} {
		if err := r1.Start(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r1.Wait(ctx, "done"); err != nil {
		t.Fatal(err)
	}
	// Simulate the agent dying with "running" still running: forget r1
	// without letting it record the end, by reopening the same root.
	r2, err := New(root, WithCompilationCache(sharedCache))
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	defer r1.Close()
	list, err := r2.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Fatalf("listed %d containers: %+v", len(list), list)
	}
	byID := map[string]runtimes.Info{}
	for _, in := range list {
		byID[in.ID] = in
	}
	if in := byID["done"]; in.State != runtimes.StateExited || in.Exit.ExitCode != 4 || in.Labels["pod"] != "p1" {
		t.Fatalf("done: %+v", in)
	}
	if in := byID["running"]; in.State != runtimes.StateExited || in.Exit.Reason != runtimes.ReasonUnknown || in.Labels["pod"] != "p2" {
		t.Fatalf("running: %+v %+v", in, in.Exit)
	}
	// A follower of the orphaned log ends instead of waiting forever.
	if out := readLogs(t, r2, "running", runtimes.LogOptions{Follow: true}); out != "" {
		t.Fatalf("logs %q", out)
	}
	// A container that was only created can still run.
	if err := r2.Start(ctx, "created"); err != nil {
		t.Fatal(err)
	}
	if st, err := r2.Wait(ctx, "created"); err != nil || st.ExitCode != 0 {
		t.Fatalf("created after restart: %+v %v", st, err)
	}
}

func TestStartError(t *testing.T) {
	r := newRuntime(t)
	ctx := context.Background()
	if err := r.Create(ctx, "m", &runtimes.Spec{Image: writeModule(t, wasmtest.MissingImport())}); err != nil {
		t.Fatal(err)
	}
	err := r.Start(ctx, "m")
	if err == nil || !strings.Contains(err.Error(), "module[env]") {
		t.Fatalf("start: %v", err)
	}
	st, err := r.Wait(ctx, "m")
	if err != nil || st.Reason != runtimes.ReasonStartError || !strings.Contains(st.Message, "module[env]") {
		t.Fatalf("wait: %+v %v", st, err)
	}
	if out := readLogs(t, r, "m", runtimes.LogOptions{Follow: true}); !strings.Contains(out, "module[env]") {
		t.Fatalf("logs %q", out)
	}
}

func TestRemoveCreatedReleasesWaiters(t *testing.T) {
	r := newRuntime(t)
	ctx := context.Background()
	if err := r.Create(ctx, "c", &runtimes.Spec{Image: writeModule(t, wasmtest.Empty())}); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error)
	go func() {
		_, err := r.Wait(ctx, "c")
		errc <- err
	}()
	if err := r.Remove(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, runtimes.ErrNotFound) {
		t.Fatalf("wait: %v, want ErrNotFound", err)
	}
}

// TestStatsCPU: a module's CPU time is what it used, not how long it ran:
// a sleeping Go module stays far below its wall time, a spinning one
// near it. The margins are wide: the machine is shared.
func TestStatsCPU(t *testing.T) {
	r := newRuntime(t)
	ctx := context.Background()
	for _, c := range []struct {
		id   string
		spec *runtimes.Spec
	}{
		{"sleeper", &runtimes.Spec{Image: "file://" + goApp, Args: []string{"sleep"}}},
		{"spinner", &runtimes.Spec{Image: writeModule(t, wasmtest.Loop())}},
	} {
		if err := r.Create(ctx, c.id, c.spec); err != nil {
			t.Fatal(err)
		}
		if err := r.Start(ctx, c.id); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until the spinner has used half a second of CPU: how long
	// that takes depends on the machine's load, which the figures must
	// not. A thread's CPU time cannot pass the wall time, and a sleeping
	// module uses next to none of it: wall-clock accounting would show
	// the sleeper as busy as the spinner.
	const busy = 500 * time.Millisecond
	start := time.Now()
	var sleeper, spinner runtimes.Stats
	for {
		var err error
		if sleeper, err = r.Stats(ctx, "sleeper"); err != nil {
			t.Fatal(err)
		}
		if spinner, err = r.Stats(ctx, "spinner"); err != nil {
			t.Fatal(err)
		}
		if time.Duration(spinner.CPUNanos) >= busy {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("spinning module: CPU %v after %v, want %v", time.Duration(spinner.CPUNanos), time.Since(start), busy)
		}
		time.Sleep(50 * time.Millisecond)
	}
	wall := time.Since(start)
	if got := time.Duration(spinner.CPUNanos); got > wall+100*time.Millisecond {
		t.Errorf("spinning module: CPU %v over %v of wall time: one thread cannot use more", got, wall)
	}
	// The sleeper's Go runtime starts (a few ms of CPU), then sleeps.
	if got := time.Duration(sleeper.CPUNanos); got > busy/10 {
		t.Errorf("sleeping module: CPU %v while the spinner used %v, want under a tenth of it", got, time.Duration(spinner.CPUNanos))
	}
	for _, id := range []string{"sleeper", "spinner"} {
		if err := r.Stop(ctx, id, 0); err != nil {
			t.Fatal(err)
		}
	}
	// After the end, the figure is kept.
	final, err := r.Stats(ctx, "spinner")
	if err != nil || final.CPUNanos < spinner.CPUNanos {
		t.Fatalf("spinner after stop: %+v %v, want CPU at least %d", final, err, spinner.CPUNanos)
	}
	t.Logf("over %v: sleeper %v CPU, spinner %v CPU", wall, time.Duration(sleeper.CPUNanos), time.Duration(spinner.CPUNanos))
}
