package container_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/container"
	"github.com/wharfhq/wharf/runtimes/image/imagetest"
	"github.com/wharfhq/wharf/runtimes/logs"
)

// TestLogRotation: the relay rotates a chatty container's log at the size
// the runtime was given and keeps only the newest files; Logs reads the
// current file.
func TestLogRotation(t *testing.T) {
	e := newEnv(t)
	var lines strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&lines, "line %05d\n", i)
	}
	ref := e.host + "/app:lines"
	imagetest.Push(t, ref, appImage(t, appConfig(), imagetest.Layer(t, imagetest.File("lines.txt", lines.String(), 0o644))))
	rot := logs.Rotation{MaxSize: 8192, MaxFiles: 3}
	e.rt = e.newRuntime(t, container.WithLogRotation(rot))
	if st := e.run(t, "chatty", &runtimes.Spec{Image: ref, Args: []string{"cat", "/lines.txt"}}); st.ExitCode != 0 {
		t.Fatalf("exit %+v", st)
	}
	got := e.logs(t, "chatty", runtimes.LogOptions{})
	rotated, err := logs.RotatedFiles(filepath.Join(e.root, "containers", "chatty", "container.log"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rotated) != rot.MaxFiles-1 {
		t.Fatalf("rotated files %v, want %d", rotated, rot.MaxFiles-1)
	}
	if got == "" || len(got) >= 8192 || !strings.HasSuffix(lines.String(), got) || !strings.HasPrefix(got, "line ") {
		t.Fatalf("Logs gave %d bytes, want the whole lines of the current file only", len(got))
	}

	_, err = container.New(t.TempDir(), e.images, container.WithLogRotation(logs.Rotation{MaxSize: -1}))
	if !errors.Is(err, logs.ErrBadRotation) {
		t.Fatalf("New with a negative size: %v, want ErrBadRotation", err)
	}
}
