package wasm

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/logs"
	"github.com/wharfhq/wharf/runtimes/wasm/wasmtest"
)

// TestLogRotation: a chatty module's log is rotated at the size given,
// only the newest files are kept, and Logs reads the current file.
func TestLogRotation(t *testing.T) {
	rot := logs.Rotation{MaxSize: 4096, MaxFiles: 3}
	r := newRuntime(t, WithLogRotation(rot))
	var out strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&out, "line %04d\n", i)
	}
	st, got := run(t, r, "chatty", &runtimes.Spec{Image: writeModule(t, wasmtest.Print(out.String()))})
	if st.ExitCode != 0 {
		t.Fatalf("exit %+v", st)
	}
	rotated, err := logs.RotatedFiles(filepath.Join(r.root, "containers", "chatty", "container.log"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rotated) != rot.MaxFiles-1 {
		t.Fatalf("rotated files %v, want %d", rotated, rot.MaxFiles-1)
	}
	if got == "" || len(got) >= 4096 || !strings.HasSuffix(out.String(), got) || !strings.HasPrefix(got, "line ") {
		t.Fatalf("Logs gave %d bytes, want the lines of the current file only", len(got))
	}
}

func TestLogRotationRefused(t *testing.T) {
	_, err := New(t.TempDir(), WithCompilationCache(sharedCache), WithLogRotation(logs.Rotation{MaxFiles: 1}))
	if !errors.Is(err, logs.ErrBadRotation) {
		t.Fatalf("err = %v, want ErrBadRotation", err)
	}
}
