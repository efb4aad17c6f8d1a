package wasm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/runtimetest"
	"github.com/wharfhq/wharf/runtimes/wasm/wasmtest"
)

var (
	// goApp is the Go wasip1 fixture, built once in TestMain.
	goApp string
	// sharedCache lets every test's runtime reuse code compiled by an
	// earlier one (the Go fixture takes a while to compile). It is on disk
	// as a node's is: a runtime closes its compiled modules when it is
	// closed or they are idle, and then wazero loads them from the disk.
	sharedCache wazero.CompilationCache
)

func TestMain(m *testing.M) {
	base := goruntime.NumGoroutine()
	dir, err := os.MkdirTemp("", "wasm-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	goApp, err = wasmtest.BuildGoApp(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	sharedCache, err = wazero.NewCompilationCacheWithDir(filepath.Join(dir, "cache"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	sharedCache.Close(context.Background())
	os.RemoveAll(dir)
	if code == 0 {
		if err := runtimetest.CheckGoroutines(base); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

func newRuntime(t testing.TB, opts ...Option) *Runtime {
	t.Helper()
	r, err := New(t.TempDir(), append([]Option{WithCompilationCache(sharedCache)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// writeModule writes module bytes to a file and returns its file:// URL.
func writeModule(t testing.TB, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "m.wasm")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return "file://" + p
}

// run creates, starts and waits for a container and returns its exit
// status and whole log (both streams).
func run(t testing.TB, r *Runtime, id string, spec *runtimes.Spec) (runtimes.ExitStatus, string) {
	t.Helper()
	ctx := context.Background()
	if err := r.Create(ctx, id, spec); err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := r.Start(ctx, id); err != nil {
		t.Fatalf("start: %v", err)
	}
	st, err := r.Wait(ctx, id)
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	return st, readLogs(t, r, id, runtimes.LogOptions{})
}

func readLogs(t testing.TB, r *Runtime, id string, opts runtimes.LogOptions) string {
	t.Helper()
	rc, err := r.Logs(context.Background(), id, opts)
	if err != nil {
		t.Fatalf("logs: %v", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read logs: %v", err)
	}
	return string(b)
}

func TestExitCodes(t *testing.T) {
	r := newRuntime(t)
	tests := []struct {
		name   string
		spec   runtimes.Spec
		code   int
		reason string
	}{
		{"empty start", runtimes.Spec{Image: writeModule(t, wasmtest.Empty())}, 0, runtimes.ReasonCompleted},
		{"proc_exit 3", runtimes.Spec{Image: writeModule(t, wasmtest.Exit(3))}, 3, runtimes.ReasonError},
		{"proc_exit 0", runtimes.Spec{Image: writeModule(t, wasmtest.Exit(0))}, 0, runtimes.ReasonCompleted},
		{"go exit 7", runtimes.Spec{Image: "file://" + goApp, Args: []string{"exit", "7"}}, 7, runtimes.ReasonError},
		{"go hello", runtimes.Spec{Image: "file://" + goApp}, 0, runtimes.ReasonCompleted},
		{"go panic", runtimes.Spec{Image: "file://" + goApp, Args: []string{"panic"}}, 2, runtimes.ReasonError},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := run(t, r, fmt.Sprint("c", i), &tc.spec)
			if st.ExitCode != tc.code || st.Reason != tc.reason {
				t.Fatalf("exit %d %q (%s), want %d %q", st.ExitCode, st.Reason, st.Message, tc.code, tc.reason)
			}
			if st.StartedAt.IsZero() || st.FinishedAt.Before(st.StartedAt) {
				t.Fatalf("times: started %v finished %v", st.StartedAt, st.FinishedAt)
			}
		})
	}
}

func TestArgsEnvAndLogs(t *testing.T) {
	r := newRuntime(t)
	spec := &runtimes.Spec{
		Image: "file://" + goApp,
		Args:  []string{"echo", "one", "two words"},
		Env:   []runtimes.EnvVar{{Name: "B", Value: "2"}, {Name: "A", Value: "1"}, {Name: "B", Value: "3"}},
	}
	st, out := run(t, r, "echo", spec)
	if st.ExitCode != 0 {
		t.Fatalf("exit %+v", st)
	}
	want := "arg=one\narg=two words\nenv=A=1\nenv=B=3\nto stderr\n"
	if out != want {
		t.Fatalf("logs %q, want %q", out, want)
	}
	if got := readLogs(t, r, "echo", runtimes.LogOptions{Stream: "stderr"}); got != "to stderr\n" {
		t.Fatalf("stderr %q", got)
	}
	if got := readLogs(t, r, "echo", runtimes.LogOptions{TailLines: 1, Stream: "stdout"}); got != "env=B=3\n" {
		t.Fatalf("tail %q", got)
	}
	ts := readLogs(t, r, "echo", runtimes.LogOptions{Timestamps: true, Stream: "stderr"})
	stamp, line, _ := strings.Cut(strings.TrimSuffix(ts, "\n"), " ")
	tm, err := time.Parse(time.RFC3339Nano, stamp)
	if err != nil || line != "to stderr" || tm.Before(st.StartedAt) || tm.After(st.FinishedAt) {
		t.Fatalf("timestamped line %q: %v", ts, err)
	}
}

func TestLifecycleErrors(t *testing.T) {
	r := newRuntime(t)
	ctx := context.Background()
	spec := &runtimes.Spec{Image: writeModule(t, wasmtest.Empty())}
	if err := r.Create(ctx, "a", spec); err != nil {
		t.Fatal(err)
	}
	if err := r.Create(ctx, "a", spec); !errors.Is(err, runtimes.ErrExists) {
		t.Fatalf("double create: %v", err)
	}
	for name, err := range map[string]error{
		"start":  r.Start(ctx, "nope"),
		"stop":   r.Stop(ctx, "nope", 0),
		"remove": r.Remove(ctx, "nope"),
	} {
		if !errors.Is(err, runtimes.ErrNotFound) {
			t.Errorf("%s of unknown id: %v", name, err)
		}
	}
	if _, err := r.Inspect(ctx, "nope"); !errors.Is(err, runtimes.ErrNotFound) {
		t.Errorf("inspect unknown: %v", err)
	}
	if err := r.Start(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Wait(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx, "a"); !errors.Is(err, runtimes.ErrInvalidState) {
		t.Fatalf("start of exited: %v", err)
	}
	if err := r.Remove(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(r.root, "containers", "a")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("container dir left behind: %v", err)
	}
	if err := r.Create(ctx, "../x", spec); err == nil {
		t.Fatal("create accepted an id with a slash")
	}
}

func TestCompilationCacheOnDisk(t *testing.T) {
	root := t.TempDir()
	r, err := New(root)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := run(t, r, "a", &runtimes.Spec{Image: writeModule(t, wasmtest.Exit(0))}); st.ExitCode != 0 {
		t.Fatalf("exit %+v", st)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	var files int
	filepath.WalkDir(filepath.Join(root, "cache"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files++
		}
		return nil
	})
	if files == 0 {
		t.Fatal("no compiled code was cached on disk")
	}
}
