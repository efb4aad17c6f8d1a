package image_test

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sys/unix"

	"github.com/wharfhq/wharf/internal/testutil"
	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/image"
	"github.com/wharfhq/wharf/runtimes/image/imagetest"
)

func newStore(t *testing.T) *image.Store {
	t.Helper()
	s, err := image.NewStore(t.TempDir())
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	return s
}

func nodeConfig() v1.ConfigFile {
	return v1.ConfigFile{OS: "linux", Architecture: runtime.GOARCH, Config: v1.Config{
		Entrypoint: []string{"/bin/app"}, Cmd: []string{"serve"}, Env: []string{"A=1"}, WorkingDir: "/work", User: "1000",
	}}
}

func TestPullPoliciesAndGet(t *testing.T) {
	ctx := context.Background()
	host := imagetest.Registry(t)
	img := imagetest.Image(t, nodeConfig(),
		imagetest.Layer(t, imagetest.Dir("bin"), imagetest.File("bin/app", "one", 0o755)),
		imagetest.Layer(t, imagetest.File("etc/two", "two", 0o644)))
	ref := host + "/app:v1"
	digestRef := imagetest.Push(t, ref, img)
	s := newStore(t)

	if _, err := s.Pull(ctx, ref, image.PullNever, nil); !errors.Is(err, runtimes.ErrImagePull) || !errors.Is(err, image.ErrNotPresent) {
		t.Fatalf("Pull Never on empty store: err = %v, want ErrImagePull/ErrNotPresent", err)
	}
	var last runtimes.PullProgress
	calls := 0
	got, err := s.Pull(ctx, ref, image.PullIfNotPresent, func(p runtimes.PullProgress) { last = p; calls++ })
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}
	if calls < 2 || last.LayersDone != 2 || last.LayersTotal != 2 || last.BytesDone != last.BytesTotal || last.AlreadyPresent {
		t.Errorf("progress: %d calls, last %+v", calls, last)
	}
	wantDigest, _ := img.Digest()
	if got.Digest != wantDigest.String() || got.Ref != ref {
		t.Errorf("image = %s %s, want %s %s", got.Ref, got.Digest, ref, wantDigest)
	}
	c := got.Config
	if strings.Join(c.Entrypoint, " ") != "/bin/app" || strings.Join(c.Cmd, " ") != "serve" || c.WorkingDir != "/work" ||
		c.User != "1000" || c.Architecture != runtime.GOARCH || c.OS != "linux" || len(c.Env) != 1 {
		t.Errorf("config = %+v", c)
	}
	if len(got.Layers) != 2 {
		t.Fatalf("layers = %+v", got.Layers)
	}
	for _, l := range got.Layers {
		if !s.HasBlob(l.Digest) || l.DiffID == "" || !l.IsFilesystem() || l.IsWasm() {
			t.Errorf("layer %+v: blob present %v", l, s.HasBlob(l.Digest))
		}
	}

	for _, policy := range []string{image.PullIfNotPresent, image.PullNever, image.PullAlways, ""} {
		t.Run("again/"+policy, func(t *testing.T) {
			var p runtimes.PullProgress
			again, err := s.Pull(ctx, ref, policy, func(pp runtimes.PullProgress) { p = pp })
			if err != nil {
				t.Fatalf("Pull: %v", err)
			}
			if !p.AlreadyPresent || again.Digest != got.Digest {
				t.Errorf("progress %+v digest %s", p, again.Digest)
			}
		})
	}
	if _, err := s.Get(ref); err != nil {
		t.Errorf("Get: %v", err)
	}
	if _, err := s.Get(got.Digest); err != nil {
		t.Errorf("Get by digest: %v", err)
	}
	byDigest, err := s.Pull(ctx, digestRef, image.PullIfNotPresent, nil)
	if err != nil || byDigest.Digest != got.Digest {
		t.Errorf("Pull by digest: %v", err)
	}
	// A second store sharing nothing pulls again; this one re-reads from disk.
	s2, err := image.NewStore(s.Root())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Get(ref); err != nil {
		t.Errorf("Get from reopened store: %v", err)
	}
	if _, err := s.Pull(ctx, ref, "Sometimes", nil); !errors.Is(err, runtimes.ErrImagePull) {
		t.Errorf("bad policy: %v", err)
	}
}

func TestPullErrors(t *testing.T) {
	ctx := context.Background()
	host := imagetest.Registry(t)
	imagetest.Push(t, host+"/app:v1", imagetest.Image(t, nodeConfig(), imagetest.Layer(t, imagetest.File("a", "a", 0o644))))
	foreign := nodeConfig()
	foreign.Architecture = "arm64"
	if runtime.GOARCH == "arm64" {
		foreign.Architecture = "amd64"
	}
	imagetest.Push(t, host+"/foreign:v1", imagetest.Image(t, foreign, imagetest.Layer(t, imagetest.File("a", "a", 0o644))))
	s := newStore(t)
	tests := []struct {
		name, ref string
		want      error
		msg       string
	}{
		{"unknown repo", host + "/nope:v1", runtimes.ErrImagePull, ""},
		{"unknown tag", host + "/app:v2", runtimes.ErrImagePull, ""},
		{"wrong digest", host + "/app@sha256:" + strings.Repeat("0", 64), runtimes.ErrImagePull, ""},
		{"unreachable registry", "127.0.0.1:1/app:v1", runtimes.ErrImagePull, ""},
		{"bad reference", "UPPER/Case::x", runtimes.ErrInvalidImage, ""},
		{"wrong architecture", host + "/foreign:v1", runtimes.ErrInvalidImage,
			"is built for linux/" + foreign.Architecture + "; this node is linux/" + runtime.GOARCH},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Pull(ctx, tt.ref, image.PullAlways, nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %q, want it to contain %q", err, tt.msg)
			}
		})
	}
}

func TestPullIndexSelectsPlatform(t *testing.T) {
	host := imagetest.Registry(t)
	native := imagetest.Image(t, nodeConfig(), imagetest.Layer(t, imagetest.File("which", "native", 0o644)))
	other := nodeConfig()
	other.Architecture = "riscv64"
	foreign := imagetest.Image(t, other, imagetest.Layer(t, imagetest.File("which", "foreign", 0o644)))
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: foreign, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "riscv64"}}},
		mutate.IndexAddendum{Add: native, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: runtime.GOARCH}}},
	)
	imagetest.PushIndex(t, host+"/multi:v1", idx)
	onlyForeign := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: foreign, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "riscv64"}}})
	imagetest.PushIndex(t, host+"/riscv:v1", onlyForeign)

	s := newStore(t)
	got, err := s.Pull(context.Background(), host+"/multi:v1", image.PullIfNotPresent, nil)
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}
	want, _ := native.Digest()
	if got.Digest != want.String() {
		t.Errorf("picked %s, want native %s", got.Digest, want)
	}
	_, err = s.Pull(context.Background(), host+"/riscv:v1", image.PullIfNotPresent, nil)
	if !errors.Is(err, runtimes.ErrInvalidImage) || !strings.Contains(err.Error(), "linux/riscv64") {
		t.Errorf("foreign-only index: err = %v", err)
	}
}

func TestWasmArtifactIsABlob(t *testing.T) {
	host := imagetest.Registry(t)
	module := []byte("\x00asm\x01\x00\x00\x00")
	for _, mt := range []types.MediaType{image.MediaTypeWasmLayer, image.MediaTypeWasm} {
		t.Run(string(mt), func(t *testing.T) {
			art, err := mutate.AppendLayers(empty.Image, static.NewLayer(module, mt))
			if err != nil {
				t.Fatal(err)
			}
			art = mutate.ConfigMediaType(mutate.MediaType(art, types.OCIManifestSchema1), "application/vnd.wasm.config.v0+json")
			ref := host + "/mod:" + strings.NewReplacer("/", "-", "+", "-", ".", "-").Replace(string(mt))
			imagetest.Push(t, ref, art)
			s := newStore(t)
			img, err := s.Pull(context.Background(), ref, image.PullAlways, nil)
			if err != nil {
				t.Fatalf("Pull: %v", err)
			}
			l, ok := img.WasmLayer()
			if !ok {
				t.Fatalf("no wasm layer in %+v", img.Layers)
			}
			f, err := s.OpenBlob(l.Digest)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			b, _ := io.ReadAll(f)
			if string(b) != string(module) {
				t.Errorf("blob = %q", b)
			}
			dirs, err := s.Unpack(context.Background(), img)
			if err != nil || len(dirs) != 0 {
				t.Errorf("Unpack = %v, %v; want no dirs", dirs, err)
			}
		})
	}
}

func TestLoadArchives(t *testing.T) {
	img := imagetest.Image(t, nodeConfig(), imagetest.Layer(t, imagetest.File("hello", "hi", 0o644)))
	want, _ := img.Digest()
	dir := t.TempDir()

	dockerPath := filepath.Join(dir, "docker.tar")
	tag, _ := name.NewTag("example.com/team/app:v3")
	if err := tarball.WriteToFile(dockerPath, tag, img); err != nil {
		t.Fatal(err)
	}
	layoutDir := filepath.Join(dir, "layout")
	lp, err := layout.Write(layoutDir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "example.com/team/app:oci"})); err != nil {
		t.Fatal(err)
	}
	ociPath := filepath.Join(dir, "oci.tar")
	if out, err := exec.Command("tar", "-C", layoutDir, "-cf", ociPath, ".").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v: %s", err, out)
	}
	notArchive := filepath.Join(dir, "junk.tar")
	if err := os.WriteFile(notArchive, imagetest.Tar(t, imagetest.File("x", "y", 0o644)), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, ref string
	}{
		{"docker archive", dockerPath, "example.com/team/app:v3"},
		{"OCI archive", ociPath, "example.com/team/app:oci"},
		{"OCI layout dir", layoutDir, "example.com/team/app:oci"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			refs, err := s.Load(context.Background(), tt.path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(refs) != 1 || refs[0] != tt.ref {
				t.Fatalf("refs = %v, want [%s]", refs, tt.ref)
			}
			got, err := s.Get(tt.ref)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if tt.name != "docker archive" && got.Digest != want.String() {
				t.Errorf("digest %s, want %s", got.Digest, want)
			}
			if got.Config.WorkingDir != "/work" {
				t.Errorf("config = %+v", got.Config)
			}
			if _, err := s.Pull(context.Background(), tt.ref, image.PullNever, nil); err != nil {
				t.Errorf("Pull Never after Load: %v", err)
			}
		})
	}
	t.Run("not an archive", func(t *testing.T) {
		if _, err := newStore(t).Load(context.Background(), notArchive); !errors.Is(err, image.ErrUnknownArchive) {
			t.Errorf("err = %v", err)
		}
	})
}

// pushAndPull stores an image made of layers and returns it.
func pushAndPull(t *testing.T, s *image.Store, layers ...v1.Layer) *image.Image {
	t.Helper()
	host := imagetest.Registry(t)
	imagetest.Push(t, host+"/x:v1", imagetest.Image(t, nodeConfig(), layers...))
	img, err := s.Pull(context.Background(), host+"/x:v1", image.PullAlways, nil)
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}
	return img
}

func TestUnpack(t *testing.T) {
	testutil.RequireRoot(t) // whiteouts are device nodes and trusted.* xattrs
	s := newStore(t)
	img := pushAndPull(t, s,
		imagetest.Layer(t,
			imagetest.Dir("etc"), imagetest.File("etc/keep", "k", 0o600), imagetest.File("etc/gone", "g", 0o644),
			imagetest.Dir("opaque"), imagetest.File("opaque/old", "o", 0o644),
			imagetest.Symlink("link", "etc/keep"),
			imagetest.Entry{Name: "hard", Type: tar.TypeLink, Linkname: "etc/keep"},
			imagetest.Entry{Name: "suid", Body: "s", Mode: 0o4755, Uid: 1000, Gid: 1000},
			imagetest.Entry{Name: "dev/null", Type: tar.TypeChar, Mode: 0o666},
			imagetest.Entry{Name: "fifo", Type: tar.TypeFifo, Mode: 0o600},
		),
		imagetest.Layer(t,
			imagetest.File("etc/.wh.gone", "", 0o644),
			imagetest.File("opaque/.wh..wh..opq", "", 0o644), imagetest.File("opaque/new", "n", 0o644),
		),
	)
	dirs, err := s.Unpack(context.Background(), img)
	if err != nil {
		t.Fatalf("Unpack: %v", err)
	}
	if len(dirs) != 2 {
		t.Fatalf("dirs = %v", dirs)
	}
	low, up := dirs[0], dirs[1]
	if b, err := os.ReadFile(filepath.Join(low, "link")); err != nil || string(b) != "k" {
		t.Errorf("symlink read = %q, %v", b, err)
	}
	var a, b unix.Stat_t
	if err := unix.Stat(filepath.Join(low, "hard"), &a); err != nil {
		t.Fatal(err)
	}
	_ = unix.Stat(filepath.Join(low, "etc/keep"), &b)
	if a.Ino != b.Ino {
		t.Errorf("hardlink has inode %d, target %d", a.Ino, b.Ino)
	}
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(low, "suid"), &st); err != nil || st.Mode&07777 != 04755 || st.Uid != 1000 {
		t.Errorf("suid file mode %o uid %d: %v", st.Mode&07777, st.Uid, err)
	}
	if _, err := os.Lstat(filepath.Join(low, "dev/null")); !os.IsNotExist(err) {
		t.Errorf("device node was created: %v", err)
	}
	if fi, err := os.Lstat(filepath.Join(low, "fifo")); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("fifo: %v %v", fi, err)
	}
	if err := unix.Lstat(filepath.Join(up, "etc/gone"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("whiteout: mode %o rdev %d: %v", st.Mode, st.Rdev, err)
	}
	buf := make([]byte, 8)
	n, err := unix.Getxattr(filepath.Join(up, "opaque"), "trusted.overlay.opaque", buf)
	if err != nil || string(buf[:n]) != "y" {
		t.Errorf("opaque xattr = %q, %v", buf[:n], err)
	}
	again, err := s.Unpack(context.Background(), img)
	if err != nil || strings.Join(again, ",") != strings.Join(dirs, ",") {
		t.Errorf("second Unpack = %v, %v", again, err)
	}
}

func TestUnpackRefusesEscapes(t *testing.T) {
	tests := []struct {
		name    string
		entries []imagetest.Entry
	}{
		{"dotdot", []imagetest.Entry{imagetest.File("../evil", "x", 0o644)}},
		{"nested dotdot", []imagetest.Entry{imagetest.File("a/../../evil", "x", 0o644)}},
		{"hardlink out", []imagetest.Entry{{Name: "h", Type: tar.TypeLink, Linkname: "../../etc/passwd"}}},
		{"through symlink", []imagetest.Entry{imagetest.Symlink("up", "../../.."), imagetest.File("up/evil", "x", 0o644)}},
		{"through absolute symlink", []imagetest.Entry{imagetest.Symlink("abs", "/tmp"), imagetest.File("abs/evil", "x", 0o644)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			img := pushAndPull(t, s, imagetest.Layer(t, tt.entries...))
			if _, err := s.Unpack(context.Background(), img); err == nil {
				t.Fatal("Unpack succeeded, want an error")
			}
			for _, p := range []string{"/tmp/evil", filepath.Join(filepath.Dir(s.Root()), "evil")} {
				if _, err := os.Stat(p); err == nil {
					os.Remove(p)
					t.Errorf("%s was written outside the layer", p)
				}
			}
		})
	}
}

// TestLocalImages: a wharf.local image is served from the store whatever
// the pull policy, and one not loaded is ErrImageNotLoaded with the load
// hint; no registry is asked (none answers to that name).
func TestLocalImages(t *testing.T) {
	img := imagetest.Image(t, nodeConfig(), imagetest.Layer(t, imagetest.File("hello", "hi", 0o644)))
	archive := filepath.Join(t.TempDir(), "local.tar")
	tag, _ := name.NewTag(image.LocalRegistry + "/team/app:v1")
	if err := tarball.WriteToFile(archive, tag, img); err != nil {
		t.Fatal(err)
	}
	s := newStore(t)
	if _, err := s.Load(t.Context(), archive); err != nil {
		t.Fatal(err)
	}
	for _, policy := range []string{image.PullAlways, image.PullIfNotPresent, image.PullNever, ""} {
		t.Run("loaded, policy "+policy, func(t *testing.T) {
			present := false
			got, err := s.Pull(t.Context(), "wharf.local/team/app:v1", policy, func(p runtimes.PullProgress) { present = p.AlreadyPresent })
			if err != nil {
				t.Fatalf("Pull: %v", err)
			}
			if got.Ref != "wharf.local/team/app:v1" || !present {
				t.Errorf("ref %q, already present %v", got.Ref, present)
			}
		})
		t.Run("not loaded, policy "+policy, func(t *testing.T) {
			_, err := s.Pull(t.Context(), "wharf.local/team/other:v1", policy, nil)
			if !errors.Is(err, runtimes.ErrImageNotLoaded) || !errors.Is(err, runtimes.ErrImagePull) {
				t.Fatalf("Pull: %v, want ErrImageNotLoaded (an ErrImagePull)", err)
			}
			want := "image wharf.local/team/other:v1 is not loaded on this node; load it with `wharf image load FILE` on this node (wharf.local images are not pulled from a registry)"
			if err.Error() != want {
				t.Errorf("message:\n%s\nwant:\n%s", err, want)
			}
		})
	}
}
