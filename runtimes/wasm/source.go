package wasm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/image"
)

// maxModuleBytes bounds a module fetched over HTTP.
const maxModuleBytes = 1 << 30

// Kinds of module source.
const (
	kindURL      = "url"      // file://, http://, https://
	kindArtifact = "artifact" // OCI artifact with a Wasm layer
	kindRootfs   = "rootfs"   // OCI image whose rootfs holds the module
)

// moduleRef is what refs/<hex>.json holds: what an image string resolved
// to.
type moduleRef struct {
	Image string `json:"image"`
	Kind  string `json:"kind"`
	// Digest is the module's "sha256:<hex>"; for a rootfs image, the
	// module at Path.
	Digest string `json:"digest"`
	// Path is, for a rootfs image, the module's path in the image.
	Path string `json:"path,omitempty"`
	// Argv0 is argv[0] when neither the spec nor the image gives one.
	Argv0      string   `json:"argv0,omitempty"`
	Entrypoint []string `json:"entrypoint,omitempty"`
	Cmd        []string `json:"cmd,omitempty"`
	Env        []string `json:"env,omitempty"`
}

// Pull fetches the module spec.Image names, honouring spec.PullPolicy
// (when empty: Always for file:// URLs, IfNotPresent otherwise), and keeps
// it content-addressed under root.
func (r *Runtime) Pull(ctx context.Context, spec *runtimes.Spec, progress func(runtimes.PullProgress)) error {
	_, err := r.resolve(ctx, spec, progress, true)
	return err
}

// resolve returns the module of spec.Image. For Pull (forPull) the pull
// policy decides whether to fetch again; for Create a module already
// present is used as is (Pull has applied the policy), and a missing one
// is fetched unless the policy is Never.
func (r *Runtime) resolve(ctx context.Context, spec *runtimes.Spec, progress func(runtimes.PullProgress), forPull bool) (*moduleRef, error) {
	if spec == nil || spec.Image == "" {
		return nil, fmt.Errorf("%w: empty image", runtimes.ErrInvalidImage)
	}
	ref, err := r.readRef(spec.Image)
	present := err == nil && r.hasModule(ref.Digest)
	policy := spec.PullPolicy
	if policy == "" && strings.HasPrefix(spec.Image, "file://") {
		// A local file is cheap to read again, and during development
		// it changes under the same name.
		policy = image.PullAlways
	}
	switch {
	case policy == image.PullNever && !present:
		return nil, fmt.Errorf("module %q: %w: not present and pull policy is Never", spec.Image, runtimes.ErrImagePull)
	case present && (policy != image.PullAlways || !forPull):
		if progress != nil {
			progress(runtimes.PullProgress{Ref: spec.Image, AlreadyPresent: true})
		}
		return ref, nil
	}
	ref, err = r.fetch(ctx, spec.Image, policy, progress)
	if err != nil {
		return nil, err
	}
	if err := r.writeRef(ref); err != nil {
		return nil, err
	}
	return ref, nil
}

func (r *Runtime) fetch(ctx context.Context, img, policy string, progress func(runtimes.PullProgress)) (*moduleRef, error) {
	switch {
	case strings.HasPrefix(img, "file://"), strings.HasPrefix(img, "http://"), strings.HasPrefix(img, "https://"):
		return r.fetchURL(ctx, img, progress)
	default:
		return r.fetchOCI(ctx, img, policy, progress)
	}
}

// fetchURL fetches a file:// or http(s):// module, checking the
// #sha256=HEX pin when there is one.
func (r *Runtime) fetchURL(ctx context.Context, raw string, progress func(runtimes.PullProgress)) (*moduleRef, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("module %q: %w: %w", raw, runtimes.ErrInvalidImage, err)
	}
	var want string
	if u.Fragment != "" {
		hexd, ok := strings.CutPrefix(u.Fragment, "sha256=")
		if !ok || len(hexd) != 64 {
			return nil, fmt.Errorf("module %q: %w: fragment must be #sha256=<64 hex digits>", raw, runtimes.ErrInvalidImage)
		}
		want = "sha256:" + strings.ToLower(hexd)
	}
	u.Fragment = ""
	var body io.ReadCloser
	var total int64 = -1
	if u.Scheme == "file" {
		if (u.Host != "" && u.Host != "localhost") || !filepath.IsAbs(u.Path) {
			return nil, fmt.Errorf("module %q: %w: file:// needs an absolute path, as in file:///dir/app.wasm", raw, runtimes.ErrInvalidImage)
		}
		f, err := os.Open(u.Path)
		if err != nil {
			return nil, fmt.Errorf("module %q: %w: %w", raw, runtimes.ErrImagePull, err)
		}
		if st, err := f.Stat(); err == nil {
			total = st.Size()
		}
		body = f
	} else {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, fmt.Errorf("module %q: %w: %w", raw, runtimes.ErrInvalidImage, err)
		}
		resp, err := r.httpClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("module %q: %w: %w", raw, runtimes.ErrImagePull, err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("module %q: %w: GET answered %s", raw, runtimes.ErrImagePull, resp.Status)
		}
		total = resp.ContentLength
		body = resp.Body
	}
	defer body.Close()
	digest, err := r.storeModule(io.LimitReader(body, maxModuleBytes+1), func(n int64) {
		if progress != nil {
			progress(runtimes.PullProgress{Ref: raw, BytesDone: n, BytesTotal: total, LayersTotal: 1})
		}
	})
	if err != nil {
		return nil, fmt.Errorf("module %q: %w: %w", raw, runtimes.ErrImagePull, err)
	}
	if want != "" && digest != want {
		return nil, fmt.Errorf("module %q: %w: digest mismatch: got %s, want %s", raw, runtimes.ErrImagePull, digest, want)
	}
	return &moduleRef{Image: raw, Kind: kindURL, Digest: digest, Argv0: path.Base(u.Path)}, nil
}

// fetchOCI pulls a registry image through the image store and finds its
// module: the Wasm layer of an artifact, or the file the entrypoint names
// in a rootfs image.
func (r *Runtime) fetchOCI(ctx context.Context, ref, policy string, progress func(runtimes.PullProgress)) (*moduleRef, error) {
	img, err := r.images.Pull(ctx, ref, policy, progress)
	if err != nil {
		return nil, fmt.Errorf("module %q: %w", ref, err)
	}
	mr := &moduleRef{Image: ref, Entrypoint: img.Config.Entrypoint, Cmd: img.Config.Cmd, Env: img.Config.Env}
	if l, ok := img.WasmLayer(); ok {
		f, err := r.images.OpenBlob(l.Digest)
		if err != nil {
			return nil, fmt.Errorf("module %q: %w: %w", ref, runtimes.ErrImagePull, err)
		}
		defer f.Close()
		mr.Kind, mr.Argv0 = kindArtifact, path.Base(img.Ref)+".wasm"
		if mr.Digest, err = r.storeModule(f, nil); err != nil {
			return nil, fmt.Errorf("module %q: %w", ref, err)
		}
		return mr, nil
	}
	if len(img.Config.Entrypoint) == 0 {
		return nil, fmt.Errorf("module %q: %w: neither a Wasm layer nor an entrypoint naming a .wasm file", ref, runtimes.ErrInvalidImage)
	}
	mr.Kind, mr.Path = kindRootfs, img.Config.Entrypoint[0]
	if mr.Digest, err = r.moduleInRootfs(img, mr.Path); err != nil {
		return nil, fmt.Errorf("module %q: %w", ref, err)
	}
	return mr, nil
}

// moduleInRootfs finds the file at p in img's layers, read top-down with
// whiteouts respected, and stores it as a module.
func (r *Runtime) moduleInRootfs(img *image.Image, p string) (string, error) {
	var digest string
	err := findInLayers(img, r.images.OpenBlob, p, func(rd io.Reader) error {
		d, err := r.storeModule(rd, nil)
		digest = d
		return err
	})
	return digest, err
}

// hasModule reports whether the module digest is stored.
func (r *Runtime) hasModule(digest string) bool {
	p, err := r.modulePath(digest)
	if err != nil {
		return false
	}
	_, err = os.Stat(p)
	return err == nil
}

func (r *Runtime) modulePath(digest string) (string, error) {
	h, ok := strings.CutPrefix(digest, "sha256:")
	if !ok || len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		return "", fmt.Errorf("bad module digest %q", digest)
	}
	return filepath.Join(r.root, "modules", "sha256", h), nil
}

func (r *Runtime) readModule(digest string) ([]byte, error) {
	p, err := r.modulePath(digest)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("module %s: %w: not present", digest, runtimes.ErrImagePull)
	}
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", digest, err)
	}
	return b, nil
}

// storeModule copies rd into the module store and returns its digest.
// count, if not nil, is told the bytes copied so far.
func (r *Runtime) storeModule(rd io.Reader, count func(int64)) (string, error) {
	tmp, err := os.CreateTemp(filepath.Join(r.root, "tmp"), "module-")
	if err != nil {
		return "", fmt.Errorf("store module: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	w := io.MultiWriter(tmp, h)
	var n int64
	buf := make([]byte, 256<<10)
	for {
		m, rerr := rd.Read(buf)
		if m > 0 {
			if _, err := w.Write(buf[:m]); err != nil {
				return "", fmt.Errorf("store module: %w", err)
			}
			n += int64(m)
			if n > maxModuleBytes {
				return "", fmt.Errorf("store module: larger than %d bytes", maxModuleBytes)
			}
			if count != nil {
				count(n)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return "", fmt.Errorf("store module: %w", rerr)
		}
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("store module: %w", err)
	}
	digest := "sha256:" + hex.EncodeToString(h.Sum(nil))
	dst, _ := r.modulePath(digest)
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", fmt.Errorf("store module: %w", err)
	}
	return digest, nil
}

func (r *Runtime) refPath(img string) string {
	sum := sha256.Sum256([]byte(img))
	return filepath.Join(r.root, "refs", hex.EncodeToString(sum[:])+".json")
}

func (r *Runtime) readRef(img string) (*moduleRef, error) {
	b, err := os.ReadFile(r.refPath(img))
	if err != nil {
		return nil, err
	}
	var ref moduleRef
	if err := json.Unmarshal(b, &ref); err != nil {
		return nil, fmt.Errorf("module ref %q: %w", img, err)
	}
	return &ref, nil
}

func (r *Runtime) writeRef(ref *moduleRef) error {
	b, err := json.Marshal(ref)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(r.root, "tmp"), r.refPath(ref.Image), b)
}

// writeFileAtomic writes b to dst through a temporary file in tmpDir.
func writeFileAtomic(tmpDir, dst string, b []byte) error {
	f, err := os.CreateTemp(tmpDir, "write-")
	if err != nil {
		return fmt.Errorf("write %q: %w", dst, err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write %q: %w", dst, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %q: %w", dst, err)
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		return fmt.Errorf("write %q: %w", dst, err)
	}
	return nil
}
