package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"

	"github.com/wharfhq/wharf/runtimes"
)

// Overlay whiteout conventions: a deleted path is a 0/0 character device,
// an opaque directory carries this xattr.
const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
	opaqueXattr    = "trusted.overlay.opaque"
)

// Unpack extracts each filesystem layer of img once (keyed by diffID) into
// a shared, read-only directory and returns those directories, lowest
// first, ready to be stacked as overlayfs lower dirs. OCI whiteouts are
// converted to overlayfs ones (0/0 character devices and the
// trusted.overlay.opaque xattr). Wasm layers are skipped.
func (s *Store) Unpack(ctx context.Context, img *Image) ([]string, error) {
	var dirs []string
	for _, l := range img.Layers {
		if !l.IsFilesystem() {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		dir, err := s.unpackLayer(l)
		if err != nil {
			return nil, fmt.Errorf("image %q: unpack layer %s: %w", img.Ref, l.Digest, err)
		}
		dirs = append(dirs, dir)
	}
	return dirs, nil
}

// LayerDir is where a layer is (or would be) unpacked.
func (s *Store) LayerDir(l Layer) (string, error) {
	key := l.DiffID
	if key == "" {
		key = l.Digest
	}
	hx, err := blobHex(key)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.root, "layers", "sha256", hx), nil
}

func (s *Store) unpackLayer(l Layer) (string, error) {
	dir, err := s.LayerDir(l)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	mu, _ := s.unpackMu.LoadOrStore(dir, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	blob, err := s.OpenBlob(l.Digest)
	if err != nil {
		return "", err
	}
	defer blob.Close()
	tmp, err := os.MkdirTemp(filepath.Join(s.root, "tmp"), "layer-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	r, err := decompress(blob)
	if err != nil {
		return "", err
	}
	defer r.Close()
	h := sha256.New()
	if err := extractTar(io.TeeReader(r, h), tmp); err != nil {
		return "", err
	}
	if _, err := io.Copy(h, r); err != nil { // tar padding after the end marker
		return "", err
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); l.DiffID != "" && got != l.DiffID {
		return "", fmt.Errorf("%w: uncompressed content has digest %s, config says %s", runtimes.ErrInvalidImage, got, l.DiffID)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(dir); serr == nil { // another process won the race
			return dir, nil
		}
		return "", err
	}
	return dir, nil
}

// decompress detects gzip, zstd or a plain tar by its magic bytes.
func decompress(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		return gzip.NewReader(br)
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		d, err := zstd.NewReader(br)
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	}
	return io.NopCloser(br), nil
}

// errEscape is returned for tar entries that would land outside the root.
var errEscape = errors.New("path escapes the layer root")

// cleanEntry turns a tar entry name into a path relative to the root, or
// fails if it climbs out of it.
func cleanEntry(name string) (string, error) {
	p := path.Clean(strings.TrimLeft(name, "/"))
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", fmt.Errorf("%w: entry %q: %w", runtimes.ErrInvalidImage, name, errEscape)
	}
	return p, nil
}

// extractTar writes a layer tar into dir. All file system access goes
// through an os.Root, so no entry (nor a symlink planted by an earlier
// entry) can make it write outside dir. Written by hand because neither
// go-containerregistry nor libcontainer extracts a layer while keeping its
// whiteouts; mutate.Extract only flattens whole images.
func extractTar(r io.Reader, dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	type dirTime struct {
		name  string
		mtime time.Time
	}
	var dirTimes []dirTime
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: reading layer tar: %w", runtimes.ErrInvalidImage, err)
		}
		rel, err := cleanEntry(hdr.Name)
		if err != nil {
			return err
		}
		parent, base := path.Dir(rel), path.Base(rel)
		if rel != "." && parent != "." {
			if err := root.MkdirAll(parent, 0o755); err != nil {
				return fmt.Errorf("entry %q: %w", hdr.Name, err)
			}
		}
		switch {
		case base == whiteoutOpaque:
			if err := withDir(root, parent, func(fd int) error {
				return unix.Fsetxattr(fd, opaqueXattr, []byte("y"), 0)
			}); err != nil {
				return fmt.Errorf("opaque whiteout %q: %w", hdr.Name, err)
			}
			continue
		case strings.HasPrefix(base, whiteoutPrefix):
			target := base[len(whiteoutPrefix):]
			if err := root.RemoveAll(path.Join(parent, target)); err != nil {
				return err
			}
			if err := withDir(root, parent, func(fd int) error {
				return unix.Mknodat(fd, target, unix.S_IFCHR, 0)
			}); err != nil {
				return fmt.Errorf("whiteout %q: %w", hdr.Name, err)
			}
			continue
		}
		if rel != "." {
			if fi, err := root.Lstat(rel); err == nil && !(fi.IsDir() && hdr.Typeflag == tar.TypeDir) {
				if err := root.RemoveAll(rel); err != nil {
					return err
				}
			}
		}
		mode := hdr.FileInfo().Mode()
		switch hdr.Typeflag {
		case tar.TypeDir:
			if rel != "." {
				if err := root.Mkdir(rel, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
					return fmt.Errorf("entry %q: %w", hdr.Name, err)
				}
			}
			dirTimes = append(dirTimes, dirTime{rel, hdr.ModTime})
		case tar.TypeReg:
			f, err := root.OpenFile(rel, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return fmt.Errorf("entry %q: %w", hdr.Name, err)
			}
			_, err = io.Copy(f, tr)
			if err == nil {
				err = setXattrs(f, hdr)
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("entry %q: %w", hdr.Name, err)
			}
		case tar.TypeSymlink:
			if err := root.Symlink(hdr.Linkname, rel); err != nil {
				return fmt.Errorf("entry %q: %w", hdr.Name, err)
			}
		case tar.TypeLink:
			target, err := cleanEntry(hdr.Linkname)
			if err != nil {
				return err
			}
			if err := root.Link(target, rel); err != nil {
				return fmt.Errorf("hardlink %q -> %q: %w", hdr.Name, hdr.Linkname, err)
			}
		case tar.TypeFifo:
			if err := withDir(root, parent, func(fd int) error {
				return unix.Mknodat(fd, base, unix.S_IFIFO|uint32(mode.Perm()), 0)
			}); err != nil {
				return fmt.Errorf("entry %q: %w", hdr.Name, err)
			}
		default:
			// Character and block devices are skipped: a container gets
			// its /dev from the runtime, never from an image.
			continue
		}
		if err := root.Lchown(rel, hdr.Uid, hdr.Gid); err != nil {
			return fmt.Errorf("entry %q: %w", hdr.Name, err)
		}
		if hdr.Typeflag == tar.TypeSymlink || hdr.Typeflag == tar.TypeLink {
			continue
		}
		// After chown, which clears setuid bits.
		if err := root.Chmod(rel, mode&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
			return fmt.Errorf("entry %q: %w", hdr.Name, err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if err := root.Chtimes(rel, hdr.AccessTime, hdr.ModTime); err != nil {
				return fmt.Errorf("entry %q: %w", hdr.Name, err)
			}
		}
	}
	// Directory times last, deepest first: creating entries changes them.
	for i := len(dirTimes) - 1; i >= 0; i-- {
		_ = root.Chtimes(dirTimes[i].name, dirTimes[i].mtime, dirTimes[i].mtime)
	}
	return nil
}

// withDir runs fn with a file descriptor of dir (inside root), for the
// *at system calls os.Root does not wrap.
func withDir(root *os.Root, dir string, fn func(fd int) error) error {
	if err := root.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	d, err := root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return fn(int(d.Fd()))
}

// setXattrs applies the extended attributes recorded in PAX headers
// (file capabilities, for instance).
func setXattrs(f *os.File, hdr *tar.Header) error {
	for k, v := range hdr.PAXRecords {
		attr, ok := strings.CutPrefix(k, "SCHILY.xattr.")
		if !ok {
			continue
		}
		if err := unix.Fsetxattr(int(f.Fd()), attr, []byte(v), 0); err != nil && !errors.Is(err, unix.ENOTSUP) {
			return fmt.Errorf("xattr %s: %w", attr, err)
		}
	}
	return nil
}
