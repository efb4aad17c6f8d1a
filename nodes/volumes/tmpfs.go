package volumes

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/wharfhq/wharf/api/types"
)

// ErrTmpfs: a memory-backed emptyDir could not be mounted (it needs root).
var ErrTmpfs = errors.New("cannot mount a memory-backed emptyDir")

// isTmpfs reports whether dir is the root of a tmpfs mount: a tmpfs whose
// device differs from its parent's (a volume dir on a node whose disk is
// itself a tmpfs is not one).
func isTmpfs(dir string) bool {
	var fs unix.Statfs_t
	if unix.Statfs(dir, &fs) != nil || fs.Type != unix.TMPFS_MAGIC {
		return false
	}
	var st, parent unix.Stat_t
	if unix.Stat(dir, &st) != nil || unix.Stat(filepath.Dir(dir), &parent) != nil {
		return false
	}
	return st.Dev != parent.Dev
}

// mountTmpfs mounts a tmpfs on dir (once), sized by limit when given, as
// the kubelet does for emptyDir medium Memory; the memory it uses counts
// against the node, not the container's cgroup.
func mountTmpfs(dir string, limit *types.Quantity) error {
	if isTmpfs(dir) {
		return nil
	}
	opts := "mode=0777"
	if limit != nil && limit.Value() > 0 {
		opts += ",size=" + strconv.FormatInt(limit.Value(), 10)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("%w: mount tmpfs on %s: %v", ErrTmpfs, dir, err)
	}
	return nil
}

// unmountTmpfs unmounts dir if it is a tmpfs.
func unmountTmpfs(dir string) error {
	if !isTmpfs(dir) {
		return nil
	}
	if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("unmount %s: %w", dir, err)
	}
	return nil
}
