package container_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/container"
	"github.com/wharfhq/wharf/runtimes/image/imagetest"
	"github.com/wharfhq/wharf/runtimes/logs"
	"github.com/wharfhq/wharf/runtimes/logs/logstest"
)

// TestLogRotation: the relay rotates a chatty container's log at the size
// the runtime was given and keeps only the newest files; Logs reads the
// current file.
func TestLogRotation(t *testing.T) {
	e := newEnv(t)
	lines := logstest.Lines(2000)
	ref := e.host + "/app:lines"
	imagetest.Push(t, ref, appImage(t, appConfig(), imagetest.Layer(t, imagetest.File("lines.txt", lines, 0o644))))
	rot := logs.Rotation{MaxSize: 8192, MaxFiles: 3}
	e.rt = e.newRuntime(t, container.WithLogRotation(rot))
	if st := e.run(t, "chatty", &runtimes.Spec{Image: ref, Args: []string{"cat", "/lines.txt"}}); st.ExitCode != 0 {
		t.Fatalf("exit %+v", st)
	}
	got := e.logs(t, "chatty", runtimes.LogOptions{})
	logstest.CheckRotated(t, filepath.Join(e.root, "containers", "chatty", "container.log"), rot, lines, got)

	_, err := container.New(t.TempDir(), e.images, container.WithLogRotation(logs.Rotation{MaxSize: -1}))
	if !errors.Is(err, logs.ErrBadRotation) {
		t.Fatalf("New with a negative size: %v, want ErrBadRotation", err)
	}
}
