package wasm

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/logs"
	"github.com/wharfhq/wharf/runtimes/logs/logstest"
	"github.com/wharfhq/wharf/runtimes/wasm/wasmtest"
)

// TestLogRotation: a chatty module's log is rotated at the size given,
// only the newest files are kept, and Logs reads the current file.
func TestLogRotation(t *testing.T) {
	rot := logs.Rotation{MaxSize: 4096, MaxFiles: 3}
	r := newRuntime(t, WithLogRotation(rot))
	lines := logstest.Lines(1000)
	st, got := run(t, r, "chatty", &runtimes.Spec{Image: writeModule(t, wasmtest.Print(lines))})
	if st.ExitCode != 0 {
		t.Fatalf("exit %+v", st)
	}
	logstest.CheckRotated(t, filepath.Join(r.root, "containers", "chatty", "container.log"), rot, lines, got)
}

func TestLogRotationRefused(t *testing.T) {
	_, err := New(t.TempDir(), WithCompilationCache(sharedCache), WithLogRotation(logs.Rotation{MaxFiles: 1}))
	if !errors.Is(err, logs.ErrBadRotation) {
		t.Fatalf("err = %v, want ErrBadRotation", err)
	}
}
