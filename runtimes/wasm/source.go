package wasm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
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
	case policy == image.PullNever && !present && isURL(spec.Image):
		// (An image reference goes on to the image store, which may hold
		// it loaded or pulled for a container, and which applies Never.)
		return nil, fmt.Errorf("module %q: %w: not present and pull policy is Never", spec.Image, runtimes.ErrImagePull)
	case present && (policy != image.PullAlways || !forPull):
		if progress != nil {
			progress(runtimes.PullProgress{Ref: spec.Image, AlreadyPresent: true})
		}
		return ref, nil
	}
	ref, err = r.fetch(ctx, spec, policy, progress)
	if err != nil {
		return nil, err
	}
	if err := r.writeRef(ref); err != nil {
		return nil, err
	}
	return ref, nil
}

func (r *Runtime) fetch(ctx context.Context, spec *runtimes.Spec, policy string, progress func(runtimes.PullProgress)) (*moduleRef, error) {
	if isURL(spec.Image) {
		return r.fetchURL(ctx, spec.Image, progress)
	}
	return r.fetchOCI(ctx, spec.Image, policy, progress, image.WithPullSecrets(spec.PullSecrets))
}

// isURL reports whether img is a file://, http:// or https:// URL rather
// than an image reference.
func isURL(img string) bool {
	return strings.HasPrefix(img, "file://") || strings.HasPrefix(img, "http://") || strings.HasPrefix(img, "https://")
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
	if head, err := r.checkModule(digest); err != nil {
		if isWasmBinary(head) {
			return nil, fmt.Errorf("module %q: %w", raw, err)
		}
		return nil, runtimes.Explain(runtimes.ErrInvalidImage,
			"module %s is not a WebAssembly module: it is %s; a file:// or https:// source must be a compiled .wasm file (one that starts with \\0asm)",
			raw, describeContent(head))
	}
	return &moduleRef{Image: raw, Kind: kindURL, Digest: digest, Argv0: path.Base(u.Path)}, nil
}

// fetchOCI pulls a registry image through the image store and finds its
// module: the Wasm layer of an artifact, or the file the entrypoint names
// in a rootfs image.
func (r *Runtime) fetchOCI(ctx context.Context, ref, policy string, progress func(runtimes.PullProgress), opts ...image.PullOption) (*moduleRef, error) {
	img, err := r.images.Pull(ctx, ref, policy, progress, opts...)
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
		if head, err := r.checkModule(mr.Digest); err != nil {
			if isWasmBinary(head) {
				return nil, fmt.Errorf("module %q: Wasm layer: %w", ref, err)
			}
			return nil, runtimes.Explain(runtimes.ErrInvalidImage,
				"image %s has no Wasm module: its Wasm layer (%s) is %s; push the compiled .wasm file as that layer",
				ref, l.MediaType, describeContent(head))
		}
		return mr, nil
	}
	if len(img.Config.Entrypoint) == 0 {
		what := "it has no entrypoint and no Wasm layer"
		if len(img.Config.Cmd) > 0 {
			// Name what the image runs instead, as a container would.
			what += fmt.Sprintf(", and its command %s %s", img.Config.Cmd[0], r.describeInRootfs(img, img.Config.Cmd[0]))
		}
		return nil, notWasmImage(ref, what)
	}
	mr.Kind, mr.Path = kindRootfs, img.Config.Entrypoint[0]
	if mr.Digest, err = r.moduleInRootfs(img, mr.Path); err != nil {
		if errors.Is(err, errNotInImage) {
			return nil, notWasmImage(ref, fmt.Sprintf("its entrypoint %s %s", mr.Path, notInImage(mr.Path)))
		}
		return nil, fmt.Errorf("module %q: %w", ref, err)
	}
	if head, err := r.checkModule(mr.Digest); err != nil {
		if isWasmBinary(head) {
			return nil, fmt.Errorf("module %q: entrypoint %s: %w", ref, mr.Path, err)
		}
		return nil, notWasmImage(ref, fmt.Sprintf("its entrypoint %s is %s", mr.Path, describeContent(head)))
	}
	return mr, nil
}

// notWasmImage is the error for an image that holds no Wasm module
// (typically an ordinary container image given runtimeClassName: wasm),
// saying what it holds instead (what) and how a Wasm image is made.
func notWasmImage(ref, what string) error {
	return runtimes.Explain(runtimes.ErrInvalidImage,
		"image %s has no Wasm module: %s; a Wasm image is FROM scratch with COPY app.wasm / and ENTRYPOINT [\"/app.wasm\"], "+
			"or drop runtimeClassName: wasm to run it as a container", ref, what)
}

// describeInRootfs says what the file at p in img is ("is an ELF amd64
// executable", "is not in the image"), for a message.
func (r *Runtime) describeInRootfs(img *image.Image, p string) string {
	var head []byte
	err := findInLayers(img, r.images.OpenBlob, p, func(rd io.Reader) error {
		var err error
		head, err = readHead(rd)
		return err
	})
	switch {
	case errors.Is(err, errNotInImage):
		return notInImage(p)
	case err != nil:
		return "cannot be read (" + err.Error() + ")"
	case isWasmBinary(head):
		return fmt.Sprintf("is a WebAssembly module: set ENTRYPOINT [%q]", p)
	}
	return "is " + describeContent(head)
}

// notInImage says, for a message, that no file of the image is at p. A
// name without a slash (sh, docker-entrypoint.sh) is one a container's
// runtime looks up on PATH, so it is no sign that the image lacks it.
func notInImage(p string) string {
	if !strings.Contains(p, "/") {
		return "names a program a container finds on its PATH, not a .wasm file of the image"
	}
	return "is not in the image"
}

// sniffLen is how much of a file describeContent looks at (as much as
// http.DetectContentType reads).
const sniffLen = 512

// readHead reads the first sniffLen bytes of rd (fewer if it is shorter).
func readHead(rd io.Reader) ([]byte, error) {
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(rd, head)
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		err = nil
	}
	return head[:n], err
}

// checkModule checks that the stored module digest starts as a
// WebAssembly module should (checkMagic), and removes it when it does not:
// it returns the module's first bytes either way, for a message.
func (r *Runtime) checkModule(digest string) ([]byte, error) {
	p, err := r.modulePath(digest)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", digest, err)
	}
	head, err := readHead(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", digest, err)
	}
	if err := checkMagic(head); err != nil {
		_ = os.Remove(p) // nothing will run it; the source may be fixed and fetched again
		return head, err
	}
	return head, nil
}

// isWasmBinary reports whether b starts with the WebAssembly magic (of any
// version: a component has it too).
func isWasmBinary(b []byte) bool { return bytes.HasPrefix(b, []byte("\x00asm")) }

// describeContent says what a file whose first bytes are b is, for a
// message about a module that is not one: "an ELF amd64 executable", "a
// script (#!/bin/sh)", "an HTML document", ...
func describeContent(b []byte) string {
	switch {
	case len(b) == 0:
		return "an empty file"
	case bytes.HasPrefix(b, []byte("\x7fELF")):
		return describeELF(b)
	case bytes.HasPrefix(b, []byte("#!")):
		line, _, _ := bytes.Cut(b[2:], []byte("\n"))
		line = bytes.TrimSpace(line)
		if len(line) > 60 {
			line = line[:60]
		}
		return fmt.Sprintf("a script (#!%s)", line)
	case isWasmBinary(b):
		return "a truncated WebAssembly module"
	case bytes.HasPrefix(bytes.TrimSpace(b), []byte("(module")), bytes.HasPrefix(bytes.TrimSpace(b), []byte("(component")):
		return "WebAssembly text (.wat): compile it to a binary .wasm first (wat2wasm, or wasm-tools parse)"
	}
	switch ct := http.DetectContentType(b); {
	case strings.HasPrefix(ct, "text/html"):
		return "an HTML document (a web page, not the module)"
	case strings.HasPrefix(ct, "text/plain"):
		return "a text file"
	case ct == "application/octet-stream":
		return fmt.Sprintf("a file of unknown format (it starts with % x)", b[:min(len(b), 4)])
	default:
		return "a file of type " + ct
	}
}

// describeELF says what kind of ELF file b starts: "an ELF amd64
// executable". Architectures are named as GOARCH names them.
func describeELF(b []byte) string {
	if len(b) < 20 {
		return "a truncated ELF file"
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if elf.Data(b[elf.EI_DATA]) == elf.ELFDATA2MSB {
		bo = binary.BigEndian
	}
	m := elf.Machine(bo.Uint16(b[18:]))
	arch := strings.TrimPrefix(m.String(), "EM_")
	switch m {
	case elf.EM_X86_64:
		arch = "amd64"
	case elf.EM_386:
		arch = "386"
	case elf.EM_AARCH64:
		arch = "arm64"
	case elf.EM_ARM:
		arch = "arm"
	case elf.EM_RISCV:
		arch = "riscv64"
	case elf.EM_PPC64:
		arch = "ppc64"
		if bo == binary.LittleEndian {
			arch = "ppc64le"
		}
	case elf.EM_S390:
		arch = "s390x"
	case elf.EM_LOONGARCH:
		arch = "loong64"
	}
	kind := "file"
	switch elf.Type(bo.Uint16(b[16:])) {
	case elf.ET_EXEC, elf.ET_DYN: // ET_DYN: a position-independent executable, or a shared library
		kind = "executable"
	case elf.ET_REL:
		kind = "object file"
	case elf.ET_CORE:
		kind = "core dump"
	}
	return fmt.Sprintf("an ELF %s %s", arch, kind)
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
