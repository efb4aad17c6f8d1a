package wasm

import (
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
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

// elfHeader is the start of an ELF executable for machine m, little-endian,
// as far as describeContent reads it.
func elfHeader(m elf.Machine) string {
	b := make([]byte, 64)
	copy(b, "\x7fELF")
	b[elf.EI_CLASS], b[elf.EI_DATA], b[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), 1
	binary.LittleEndian.PutUint16(b[16:], uint16(elf.ET_EXEC))
	binary.LittleEndian.PutUint16(b[18:], uint16(m))
	return string(b)
}

// TestNotWasmImages: an image that holds no Wasm module (an ordinary
// container image, a wrong layer, a script) fails Pull as ErrInvalidImage
// (the pull itself worked), with a message that says what the image holds
// and how a Wasm image is made; nothing is kept as a module.
func TestNotWasmImages(t *testing.T) {
	host := imagetest.Registry(t)
	bin := imagetest.Layer(t,
		imagetest.File("hello", elfHeader(elf.EM_X86_64), 0o755),
		imagetest.File("arm", elfHeader(elf.EM_AARCH64), 0o755),
		imagetest.File("run.sh", "#!/bin/sh\nexec /hello\n", 0o755),
		imagetest.File("app.wat", "(module (func (export \"_start\")))\n", 0o644),
		imagetest.File("app.wasm", string(wasmtest.Exit(0)), 0o755),
	)
	push := func(tag string, cfg v1.Config) string {
		return imagetest.Push(t, host+"/notwasm:"+tag, imagetest.Image(t, v1.ConfigFile{Config: cfg}, bin))
	}
	htmlLayer := static.NewLayer([]byte("<!DOCTYPE html><html><body>login</body></html>"), image.MediaTypeWasmLayer)
	artifact := imagetest.Push(t, host+"/artifact:html", appendLayer(t, imagetest.Image(t, wasmPlatform(v1.ConfigFile{})), htmlLayer))
	tests := []struct {
		name, ref string
		want      []string
	}{
		{"ELF entrypoint", push("elf", v1.Config{Entrypoint: []string{"/hello"}}),
			[]string{"has no Wasm module: its entrypoint /hello is an ELF amd64 executable", "FROM scratch", `ENTRYPOINT ["/app.wasm"]`, "drop runtimeClassName: wasm"}},
		{"arm64 ELF entrypoint", push("arm", v1.Config{Entrypoint: []string{"/arm"}}), []string{"its entrypoint /arm is an ELF arm64 executable"}},
		{"script entrypoint", push("sh", v1.Config{Entrypoint: []string{"/run.sh"}}), []string{"its entrypoint /run.sh is a script (#!/bin/sh)"}},
		{"text format", push("wat", v1.Config{Entrypoint: []string{"/app.wat"}}), []string{"WebAssembly text (.wat)"}},
		{"missing entrypoint", push("missing", v1.Config{Entrypoint: []string{"/nowhere"}}), []string{"its entrypoint /nowhere is not in the image"}},
		{"command only, ELF", push("cmd", v1.Config{Cmd: []string{"/hello"}}),
			[]string{"it has no entrypoint and no Wasm layer, and its command /hello is an ELF amd64 executable"}},
		{"command only, Wasm", push("cmdwasm", v1.Config{Cmd: []string{"/app.wasm"}}), []string{`its command /app.wasm is a WebAssembly module: set ENTRYPOINT ["/app.wasm"]`}},
		// A bare name is looked up on PATH (busybox's sh, node's
		// docker-entrypoint.sh): not to be called missing.
		{"entrypoint on PATH", push("pathentry", v1.Config{Entrypoint: []string{"docker-entrypoint.sh"}}),
			[]string{"its entrypoint docker-entrypoint.sh names a program a container finds on its PATH, not a .wasm file"}},
		{"command on PATH", push("pathcmd", v1.Config{Cmd: []string{"sh"}}),
			[]string{"and its command sh names a program a container finds on its PATH, not a .wasm file"}},
		{"Wasm layer holds HTML", artifact, []string{"its Wasm layer", "is an HTML document"}},
	}
	r := newRuntime(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := r.Pull(t.Context(), &runtimes.Spec{Image: tc.ref}, nil)
			if !errors.Is(err, runtimes.ErrInvalidImage) || errors.Is(err, runtimes.ErrImagePull) {
				t.Fatalf("pull: %v, want ErrInvalidImage and not ErrImagePull", err)
			}
			if !strings.HasPrefix(err.Error(), "image "+tc.ref+" has no Wasm module: ") {
				t.Errorf("message %q does not start with what is wrong", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q lacks %q", err, w)
				}
			}
		})
	}
	mods, err := os.ReadDir(r.root + "/modules/sha256")
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) != 0 {
		t.Errorf("%d modules kept from images that hold none", len(mods))
	}
}

// TestNotWasmURLs: a file:// or https:// source that is not a module is
// ErrInvalidImage, saying what it is.
func TestNotWasmURLs(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><head><title>Sign in</title></head></html>")
	}))
	t.Cleanup(srv.Close)
	tests := []struct {
		name, src, want string
	}{
		{"web page", srv.URL + "/app.wasm", "it is an HTML document"},
		{"ELF file", writeModule(t, []byte(elfHeader(elf.EM_X86_64))), "it is an ELF amd64 executable"},
		{"script", writeModule(t, []byte("#!/usr/bin/env python3\nprint(1)\n")), "it is a script (#!/usr/bin/env python3)"},
		{"empty", writeModule(t, nil), "it is an empty file"},
		{"unknown", writeModule(t, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9}), "a file of unknown format (it starts with 01 02 03 04)"},
	}
	r := newRuntime(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := r.Pull(t.Context(), &runtimes.Spec{Image: tc.src}, nil)
			if !errors.Is(err, runtimes.ErrInvalidImage) || errors.Is(err, runtimes.ErrImagePull) {
				t.Fatalf("pull: %v, want ErrInvalidImage and not ErrImagePull", err)
			}
			for _, w := range []string{"module " + tc.src + " is not a WebAssembly module", tc.want, "compiled .wasm file"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestLocalImageNeverPulled: a wharf.local image is taken from the image
// store whatever the pull policy (a loaded image runs under Never too),
// and one not loaded is ErrImageNotLoaded, without a registry lookup.
func TestLocalImageNeverPulled(t *testing.T) {
	store, err := image.NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := newRuntime(t, WithImageStore(store))
	// Loaded as `wharf image load` would: an OCI layout naming the image.
	cfg := wasmPlatform(v1.ConfigFile{Config: v1.Config{Entrypoint: []string{"/app.wasm"}}})
	img := imagetest.Image(t, cfg, imagetest.Layer(t, imagetest.File("app.wasm", string(wasmtest.Exit(4)), 0o755)))
	dir := t.TempDir()
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "wharf.local/apps/exit4:v1"})); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Load(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
	for i, policy := range []string{"", image.PullNever, image.PullAlways} {
		if st, _ := run(t, r, fmt.Sprint("local", i), &runtimes.Spec{Image: "wharf.local/apps/exit4:v1", PullPolicy: policy}); st.ExitCode != 4 {
			t.Fatalf("policy %q: exit %+v, want 4", policy, st)
		}
	}
	err = r.Pull(t.Context(), &runtimes.Spec{Image: "wharf.local/apps/absent:v1", PullPolicy: image.PullAlways}, nil)
	if !errors.Is(err, runtimes.ErrImageNotLoaded) || !errors.Is(err, runtimes.ErrImagePull) {
		t.Fatalf("pull of an image not loaded: %v, want ErrImageNotLoaded", err)
	}
	for _, w := range []string{"wharf.local/apps/absent:v1 is not loaded on this node", "wharf image load"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("message %q lacks %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "lookup") || strings.Contains(err.Error(), "dial") {
		t.Errorf("message %q shows a network attempt", err)
	}
}
