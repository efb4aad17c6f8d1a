package wasm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/image"
	"github.com/wharfhq/wharf/runtimes/image/imagetest"
	"github.com/wharfhq/wharf/runtimes/wasm/wasmtest"
)

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// moduleServer serves exit-with-code-9 at /m.wasm and counts requests.
func moduleServer(t *testing.T) (*httptest.Server, []byte, *atomic.Int64) {
	mod := wasmtest.Exit(9)
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/m.wasm" {
			http.NotFound(w, req)
			return
		}
		hits.Add(1)
		w.Write(mod)
	}))
	t.Cleanup(srv.Close)
	return srv, mod, &hits
}

func TestHTTPSource(t *testing.T) {
	srv, mod, hits := moduleServer(t)
	r := newRuntime(t)
	ctx := context.Background()

	pinned := srv.URL + "/m.wasm#sha256=" + sha(mod)
	if st, _ := run(t, r, "pinned", &runtimes.Spec{Image: pinned}); st.ExitCode != 9 {
		t.Fatalf("exit %+v", st)
	}
	// Present now: IfNotPresent does not fetch again, Always does.
	if err := r.Pull(ctx, &runtimes.Spec{Image: pinned, PullPolicy: "IfNotPresent"}, nil); err != nil {
		t.Fatal(err)
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("fetched %d times, want 1", n)
	}
	var progress []runtimes.PullProgress
	if err := r.Pull(ctx, &runtimes.Spec{Image: pinned, PullPolicy: "Always"}, func(p runtimes.PullProgress) {
		progress = append(progress, p)
	}); err != nil {
		t.Fatal(err)
	}
	if n := hits.Load(); n != 2 {
		t.Fatalf("fetched %d times, want 2", n)
	}
	if len(progress) == 0 || progress[len(progress)-1].BytesDone != int64(len(mod)) {
		t.Fatalf("progress %+v", progress)
	}

	wrong := strings.Repeat("ab", 32)
	tests := []struct {
		name    string
		spec    runtimes.Spec
		want    error
		message []string
	}{
		{"wrong sha256", runtimes.Spec{Image: srv.URL + "/m.wasm#sha256=" + wrong}, runtimes.ErrImagePull,
			[]string{"sha256:" + wrong, "sha256:" + sha(mod)}},
		{"404", runtimes.Spec{Image: srv.URL + "/missing.wasm"}, runtimes.ErrImagePull, []string{"404 Not Found"}},
		{"bad fragment", runtimes.Spec{Image: srv.URL + "/m.wasm#md5=00"}, runtimes.ErrInvalidImage, nil},
		{"never and absent", runtimes.Spec{Image: srv.URL + "/m.wasm?v=2", PullPolicy: "Never"}, runtimes.ErrImagePull,
			[]string{"Never"}},
		{"relative file", runtimes.Spec{Image: "file://rel/m.wasm"}, runtimes.ErrInvalidImage, nil},
		{"missing file", runtimes.Spec{Image: "file:///nonexistent/m.wasm"}, runtimes.ErrImagePull, nil},
		{"not wasm", runtimes.Spec{Image: writeModule(t, []byte("#!/bin/sh\necho hi\n"))}, runtimes.ErrInvalidImage,
			[]string{"not a WebAssembly module"}},
		{"version 2", runtimes.Spec{Image: writeModule(t, []byte("\x00asm\x0d\x00\x01\x00"))}, runtimes.ErrInvalidImage,
			[]string{"version"}},
		{"corrupt", runtimes.Spec{Image: writeModule(t, wasmtest.Exit(1)[:30])}, runtimes.ErrInvalidImage,
			[]string{"does not compile"}},
		{"reactor", runtimes.Spec{Image: writeModule(t, wasmtest.Reactor())}, runtimes.ErrInvalidImage,
			[]string{"no _start"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := r.Create(ctx, "bad", &tc.spec)
			if !errors.Is(err, tc.want) {
				t.Fatalf("create: %v, want %v", err, tc.want)
			}
			for _, m := range tc.message {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("message %q lacks %q", err, m)
				}
			}
			if _, err := r.Inspect(ctx, "bad"); !errors.Is(err, runtimes.ErrNotFound) {
				t.Fatalf("failed create left a container: %v", err)
			}
		})
	}
}

func wasmPlatform(cfg v1.ConfigFile) v1.ConfigFile {
	cfg.OS, cfg.Architecture = "wasip1", "wasm"
	return cfg
}

func TestOCIArtifact(t *testing.T) {
	host := imagetest.Registry(t)
	for _, mt := range []types.MediaType{image.MediaTypeWasmLayer, image.MediaTypeWasm} {
		t.Run(string(mt), func(t *testing.T) {
			layer := static.NewLayer(wasmtest.Exit(12), mt)
			img := imagetest.Image(t, wasmPlatform(v1.ConfigFile{}))
			img = appendLayer(t, img, layer)
			ref := imagetest.Push(t, host+"/artifact:"+strings.ReplaceAll(string(mt)[12:], "+", "-"), img)
			r := newRuntime(t)
			if st, _ := run(t, r, "a", &runtimes.Spec{Image: ref}); st.ExitCode != 12 {
				t.Fatalf("exit %+v", st)
			}
		})
	}
}

func TestOCIRootfsImage(t *testing.T) {
	host := imagetest.Registry(t)
	lower := imagetest.Layer(t,
		imagetest.File("app.wasm", string(wasmtest.Exit(5)), 0o755),
		imagetest.File("old.wasm", string(wasmtest.Exit(1)), 0o755),
		imagetest.Dir("d"),
		imagetest.File("d/m.wasm", string(wasmtest.Exit(1)), 0o755),
	)
	upper := imagetest.Layer(t,
		imagetest.File("app.wasm", string(wasmtest.Exit(6)), 0o755),
		imagetest.File(".wh.old.wasm", "", 0o644),
		imagetest.Dir("d"),
		imagetest.File("d/.wh..wh..opq", "", 0o644),
		imagetest.Dir("bin"),
		imagetest.Symlink("bin/run", "../app.wasm"),
		imagetest.File("bin/args.wasm", string(wasmtest.Exit(0)), 0o755),
	)
	cfg := wasmPlatform(v1.ConfigFile{Config: v1.Config{Entrypoint: []string{"/app.wasm"}}})
	ref := imagetest.Push(t, host+"/rootfs:v1", imagetest.Image(t, cfg, lower, upper))
	noEntry := imagetest.Push(t, host+"/rootfs:noentry", imagetest.Image(t, wasmPlatform(v1.ConfigFile{}), lower))

	r := newRuntime(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		spec    runtimes.Spec
		code    int
		wantErr error
	}{
		{"entrypoint, upper layer wins", runtimes.Spec{Image: ref}, 6, nil},
		{"command names another file", runtimes.Spec{Image: ref, Command: []string{"/bin/args.wasm"}}, 0, nil},
		{"symlink followed", runtimes.Spec{Image: ref, Command: []string{"/bin/run"}}, 6, nil},
		{"whited out", runtimes.Spec{Image: ref, Command: []string{"/old.wasm"}}, 0, runtimes.ErrInvalidImage},
		{"opaque dir", runtimes.Spec{Image: ref, Command: []string{"/d/m.wasm"}}, 0, runtimes.ErrInvalidImage},
		{"not a file", runtimes.Spec{Image: ref, Command: []string{"/bin"}}, 0, runtimes.ErrInvalidImage},
		{"no entrypoint", runtimes.Spec{Image: noEntry}, 0, runtimes.ErrInvalidImage},
		{"unknown image", runtimes.Spec{Image: host + "/nope:v1"}, 0, runtimes.ErrImagePull},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := string(rune('a' + i))
			if tc.wantErr != nil {
				if err := r.Create(ctx, id, &tc.spec); !errors.Is(err, tc.wantErr) {
					t.Fatalf("create: %v, want %v", err, tc.wantErr)
				}
				return
			}
			if st, _ := run(t, r, id, &tc.spec); st.ExitCode != tc.code {
				t.Fatalf("exit %+v, want %d", st, tc.code)
			}
		})
	}
}

func appendLayer(t *testing.T, img v1.Image, l v1.Layer) v1.Image {
	t.Helper()
	out, err := mutate.AppendLayers(img, l)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFileSourceReloadedOnPull(t *testing.T) {
	r := newRuntime(t)
	ctx := context.Background()
	p := t.TempDir() + "/dev.wasm"
	spec := &runtimes.Spec{Image: "file://" + p}
	for i, code := range []int32{1, 2} {
		if err := os.WriteFile(p, wasmtest.Exit(code), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := r.Pull(ctx, spec, nil); err != nil {
			t.Fatal(err)
		}
		if st, _ := run(t, r, fmt.Sprint("dev", i), spec); st.ExitCode != int(code) {
			t.Fatalf("run %d: exit %+v, want %d", i, st, code)
		}
	}
	never := &runtimes.Spec{Image: spec.Image, PullPolicy: "Never"}
	if err := r.Pull(ctx, never, nil); err != nil {
		t.Fatalf("Never with the module present: %v", err)
	}
}
