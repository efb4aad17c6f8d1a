package container

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// memswAvailable reports whether cgroup v1 swap accounting is on, so that
// a memory limit can also bound swap (on v2 libcontainer handles it).
var memswAvailable = sync.OnceValue(func() bool {
	_, err := os.Stat("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")
	return err == nil
})

// maxOverlayOpts is the kernel's limit for mount data (one page, minus
// room for the terminating byte).
const maxOverlayOpts = 4095

// mountOverlay stacks the read-only layer dirs (lowest first) under a
// per-container upper dir at target.
func mountOverlay(layers []string, upper, work, target string) error {
	lower := slices.Clone(layers)
	slices.Reverse(lower) // overlayfs lists the topmost lower dir first
	for _, l := range lower {
		if strings.ContainsAny(l, ":,") {
			return fmt.Errorf("layer dir %q cannot be named in overlay options", l)
		}
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", strings.Join(lower, ":"), upper, work)
	if len(opts) > maxOverlayOpts {
		return fmt.Errorf("overlay options are %d bytes, over the kernel's page limit", len(opts))
	}
	if err := unix.Mount("overlay", target, "overlay", 0, opts); err != nil {
		return fmt.Errorf("mount overlay on %s: %w", target, err)
	}
	return nil
}

// copyLayers applies the layer dirs, lowest first, onto dst: the fallback
// when overlayfs cannot be used. Overlay whiteouts (0/0 character devices)
// delete, opaque dirs hide what lies below; hardlinks become copies.
func copyLayers(layers []string, dst string) error {
	for _, layer := range layers {
		err := filepath.WalkDir(layer, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(layer, p)
			if err != nil {
				return err
			}
			target := filepath.Join(dst, rel)
			var st unix.Stat_t
			if err := unix.Lstat(p, &st); err != nil {
				return err
			}
			switch st.Mode & unix.S_IFMT {
			case unix.S_IFCHR:
				if st.Rdev == 0 {
					return os.RemoveAll(target)
				}
				return nil
			case unix.S_IFDIR:
				if rel != "." && isOpaque(p) {
					if err := os.RemoveAll(target); err != nil {
						return err
					}
				}
				if fi, err := os.Lstat(target); err == nil && !fi.IsDir() {
					if err := os.Remove(target); err != nil {
						return err
					}
				}
				if err := os.Mkdir(target, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
					return err
				}
			case unix.S_IFLNK:
				link, err := os.Readlink(p)
				if err != nil {
					return err
				}
				if err := os.RemoveAll(target); err != nil {
					return err
				}
				if err := os.Symlink(link, target); err != nil {
					return err
				}
				return os.Lchown(target, int(st.Uid), int(st.Gid))
			case unix.S_IFREG:
				if err := os.RemoveAll(target); err != nil {
					return err
				}
				if err := copyFile(p, target); err != nil {
					return err
				}
			case unix.S_IFIFO:
				if err := os.RemoveAll(target); err != nil {
					return err
				}
				if err := unix.Mkfifo(target, st.Mode&0o7777); err != nil {
					return err
				}
			default:
				return nil
			}
			if err := os.Lchown(target, int(st.Uid), int(st.Gid)); err != nil {
				return err
			}
			return os.Chmod(target, fs.FileMode(st.Mode&0o777)|modeBits(st.Mode))
		})
		if err != nil {
			return fmt.Errorf("copy layer %s: %w", layer, err)
		}
	}
	return nil
}

func modeBits(m uint32) fs.FileMode {
	var out fs.FileMode
	if m&unix.S_ISUID != 0 {
		out |= fs.ModeSetuid
	}
	if m&unix.S_ISGID != 0 {
		out |= fs.ModeSetgid
	}
	if m&unix.S_ISVTX != 0 {
		out |= fs.ModeSticky
	}
	return out
}

func isOpaque(dir string) bool {
	buf := make([]byte, 4)
	n, err := unix.Lgetxattr(dir, "trusted.overlay.opaque", buf)
	return err == nil && string(buf[:n]) == "y"
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// resolvConf is the host resolver configuration a container gets; with
// systemd-resolved the stub (127.0.0.53) is useless in another network
// namespace, so its upstream file is preferred, as the kubelet does.
func resolvConf() []byte {
	for _, p := range []string{"/run/systemd/resolve/resolv.conf", "/etc/resolv.conf"} {
		if b, err := os.ReadFile(p); err == nil {
			return b
		}
	}
	return nil
}

// writeEtcFiles writes the files bind-mounted at /etc/hosts,
// /etc/hostname and /etc/resolv.conf.
func writeEtcFiles(dir, hostname string) error {
	hosts := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"127.0.1.1\t" + hostname + "\n"
	files := map[string][]byte{
		"hosts":       []byte(hosts),
		"hostname":    []byte(hostname + "\n"),
		"resolv.conf": resolvConf(),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// unmount detaches a mount point if something is mounted there.
func unmount(target string) error {
	for {
		err := unix.Unmount(target, unix.MNT_DETACH)
		switch {
		case err == nil:
			continue // stacked mounts: peel until none is left
		case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOENT):
			return nil // not a mount point (any more)
		default:
			return fmt.Errorf("unmount %s: %w", target, err)
		}
	}
}
