package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/wharfhq/wharf/runtimes/image"
	"github.com/wharfhq/wharf/runtimes/image/imagetest"
)

// TestImageLoadPullList drives `wharf image load|pull|ls` on a data dir:
// a docker archive is imported, an image is pulled from an in-process
// registry with a progress line, and both are listed.
func TestImageLoadPullList(t *testing.T) {
	dataDir := t.TempDir()
	if _, err := image.NewStore(imagesDir(dataDir)); err != nil { // as a node's first start does
		t.Fatal(err)
	}
	wharf := func(args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		code := run(t.Context(), append(args, "--data-dir", dataDir), strings.NewReader(""), &out, &errOut)
		return out.String(), errOut.String(), code
	}
	img := imagetest.Image(t, v1.ConfigFile{OS: "linux", Architecture: runtime.GOARCH},
		imagetest.Layer(t, imagetest.File("hello", "hi", 0o644)))
	archive := filepath.Join(t.TempDir(), "app.tar")
	tag, _ := name.NewTag("example.com/team/app:v1")
	if err := tarball.WriteToFile(archive, tag, img); err != nil {
		t.Fatal(err)
	}

	out, errOut, code := wharf("image", "load", archive)
	if code != 0 || !strings.Contains(out, "Loaded image: example.com/team/app:v1") {
		t.Fatalf("image load: exit %d, out %q, err %q", code, out, errOut)
	}

	host := imagetest.Registry(t)
	other := imagetest.Image(t, v1.ConfigFile{OS: "linux", Architecture: runtime.GOARCH},
		imagetest.Layer(t, imagetest.File("other", "a different layer", 0o644)))
	imagetest.Push(t, host+"/team/other:v2", other)
	out, errOut, code = wharf("image", "pull", host+"/team/other:v2")
	if code != 0 || !strings.Contains(out, "Pulled "+host+"/team/other:v2") {
		t.Fatalf("image pull: exit %d, out %q, err %q", code, out, errOut)
	}
	if !strings.Contains(errOut, "Pulling "+host+"/team/other:v2: 1/1 layers") {
		t.Errorf("image pull progress line = %q, want the layer count", errOut)
	}

	out, _, code = wharf("image", "ls")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "REF ") {
		t.Fatalf("image ls: exit %d, out:\n%s", code, out)
	}
	if !strings.Contains(out, "example.com/team/app:v1") || !strings.Contains(out, "linux/"+runtime.GOARCH) {
		t.Errorf("image ls misses the loaded image:\n%s", out)
	}

	_, errOut, code = wharf("image", "load", filepath.Join(t.TempDir(), "missing.tar"))
	if code == 0 || !strings.Contains(errOut, "missing.tar") {
		t.Errorf("load of a missing file: exit %d, err %q; want a failure naming the file", code, errOut)
	}
}

// TestImageListMissingOrEmpty: ls neither creates a missing data dir nor
// prints a bare header for an empty store.
func TestImageListMissingOrEmpty(t *testing.T) {
	empty := t.TempDir()
	if _, err := image.NewStore(imagesDir(empty)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		dataDir  string
		wantCode int
		wantErr  string
	}{
		{"missing data dir", filepath.Join(t.TempDir(), "typo"), 1, "no node image store in"},
		{"empty store", empty, 0, "No images in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(t.Context(), []string{"image", "ls", "--data-dir", tc.dataDir}, strings.NewReader(""), &out, &errOut)
			if code != tc.wantCode || !strings.Contains(errOut.String(), tc.wantErr) || out.Len() != 0 {
				t.Errorf("image ls: exit %d, out %q, err %q; want exit %d and %q", code, out.String(), errOut.String(), tc.wantCode, tc.wantErr)
			}
			if _, err := os.Stat(tc.dataDir); tc.wantCode != 0 && err == nil {
				t.Errorf("image ls created %s", tc.dataDir)
			}
		})
	}
}

// TestImageLoadNeedsANodeStore: load and pull go only into the store of a
// node that has started, and the error says which --data-dir to give: the
// defaults of wharf up and wharf agent, or the agent's store found here
// when --data-dir was left to wharf up's default.
func TestImageLoadNeedsANodeStore(t *testing.T) {
	t.Chdir(t.TempDir())
	archive := filepath.Join(t.TempDir(), "app.tar")
	if err := os.WriteFile(archive, []byte("not read"), 0o600); err != nil {
		t.Fatal(err)
	}
	wharf := func(args ...string) (string, int) {
		var out, errOut bytes.Buffer
		code := run(t.Context(), args, strings.NewReader(""), &out, &errOut)
		return errOut.String(), code
	}
	for _, args := range [][]string{
		{"image", "load", archive},
		{"image", "load", "--data-dir", "elsewhere", archive},
		{"image", "pull", "--data-dir", "elsewhere", "localhost:1/app:v1"},
	} {
		errOut, code := wharf(args...)
		if code != 1 || !strings.Contains(errOut, "no node image store in") ||
			!strings.Contains(errOut, "wharf up's is ./wharf-data by default, wharf agent's ./wharf-agent-data") {
			t.Errorf("%v: exit %d, err %q; want a hint at both nodes' --data-dir", args, code, errOut)
		}
	}
	for _, dir := range []string{"wharf-data", "elsewhere"} {
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("a failed load created %s", dir)
		}
	}

	// An agent's node started here: without --data-dir, load points at it.
	if _, err := image.NewStore(imagesDir(defaultAgentDataDir)); err != nil {
		t.Fatal(err)
	}
	errOut, code := wharf("image", "load", archive)
	if code != 1 || !strings.Contains(errOut, "add --data-dir ./wharf-agent-data") {
		t.Errorf("load with only an agent's store here: exit %d, err %q; want the agent's --data-dir", code, errOut)
	}

	var help bytes.Buffer
	if code := run(t.Context(), []string{"image", "load", "--help"}, strings.NewReader(""), &help, &help); code != 0 ||
		!strings.Contains(help.String(), `by default the node of "wharf up"`) || !strings.Contains(help.String(), "./wharf-agent-data") {
		t.Errorf("image load --help does not say which node it loads into:\n%s", help.String())
	}
}
