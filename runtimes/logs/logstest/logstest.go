// Package logstest has helpers for the runtimes' tests of log rotation.
package logstest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/runtimes/logs"
)

// Lines is n numbered lines, "line 00000\n" and on: a container's output
// whose lines can be told apart.
func Lines(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "line %05d\n", i)
	}
	return b.String()
}

// CheckRotated checks, after a container wrote written to the log at path
// rotated as rot says (MaxFiles set), that the log was rotated until
// MaxFiles-1 rotated files were kept, and that read, the container's logs
// as the runtime gave them, is the whole lines of the current file only:
// the end of written, shorter than MaxSize.
func CheckRotated(t testing.TB, path string, rot logs.Rotation, written, read string) {
	t.Helper()
	rotated, err := logs.RotatedFiles(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(rotated) != rot.MaxFiles-1 {
		t.Fatalf("rotated files %v, want %d", rotated, rot.MaxFiles-1)
	}
	if read == "" || int64(len(read)) >= rot.MaxSize || !strings.HasSuffix(written, read) || !strings.HasPrefix(read, "line ") {
		t.Fatalf("logs gave %d bytes, want the whole lines of the current file only", len(read))
	}
}
