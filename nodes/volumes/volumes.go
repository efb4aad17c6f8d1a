// Package volumes prepares a Pod's volumes on the node as host directories
// that the runtimes expose to the Pod's containers (bind mounts for
// containers, WASI preopened directories for Wasm modules).
//
// Layout: <root>/<pod uid>/volumes/<volume name>. emptyDir is a directory
// that lives as long as the Pod; hostPath is the node's path itself;
// configMap, secret, downwardAPI and projected volumes are written the way
// the kubelet's atomic writer does, so a reader never sees half an update:
//
//	<dir>/..2026_11_23_10_00_00.123456789/<files>   the current payload
//	<dir>/..data -> ..2026_11_23_10_00_00.123456789 swapped with rename(2)
//	<dir>/<key>  -> ..data/<key>                     stable names
//
// An update writes a new timestamped directory, points a temporary symlink
// at it and renames that over ..data (atomic), then removes the old
// directory. A payload that did not change is not rewritten.
//
// Unlike the kubelet, Secret volumes are written to the node's disk, not
// to a tmpfs: a mount inside the data dir outlives the agent (its Pods keep
// running) and would make `rm -rf` of a `wharf up` data dir fail. Only an
// emptyDir with medium Memory, asked for explicitly, is a tmpfs.
package volumes

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/wharfhq/wharf/api/types"
)

// Sentinel errors.
var (
	// ErrSourceMissing: a ConfigMap, Secret or key a volume needs is
	// missing and the volume is not optional.
	ErrSourceMissing = errors.New("volume source missing")
	// ErrHostPath: a hostPath does not match its type.
	ErrHostPath = errors.New("hostPath check failed")
	// ErrUnsupported: the volume's kind is not supported.
	ErrUnsupported = errors.New("unsupported volume")
)

// Sources looks up what configMap, secret and downward API volumes need.
type Sources struct {
	// ConfigMap and Secret return the named object of the Pod's namespace,
	// or an error when it does not exist.
	ConfigMap func(namespace, name string) (*types.ConfigMap, error)
	Secret    func(namespace, name string) (*types.Secret, error)
	// HostIP and PodIP answer status.hostIP and status.podIP.
	HostIP, PodIP string
}

// Manager owns the volume directories under one root.
type Manager struct {
	root string
}

// New returns a manager rooted at root (created if needed).
func New(root string) (*Manager, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("volumes root %q: %w", root, err)
	}
	return &Manager{root: root}, nil
}

// PodDir is the directory of a Pod's volumes.
func (m *Manager) PodDir(uid string) string { return filepath.Join(m.root, uid, "volumes") }

// Setup makes every volume of pod ready (creating or updating it) and
// returns the host path of each by volume name. Every volume is tried;
// the errors of those that failed are joined, each naming its volume.
func (m *Manager) Setup(pod *types.Pod, src Sources) (map[string]string, error) {
	if pod.UID == "" || strings.ContainsAny(pod.UID, "/\x00") || pod.UID == "." || pod.UID == ".." {
		return nil, fmt.Errorf("pod uid %q: not usable as a directory name", pod.UID)
	}
	out := make(map[string]string, len(pod.Spec.Volumes))
	var errs []error
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		path, err := m.setup(pod, v, src)
		if err != nil {
			errs = append(errs, fmt.Errorf("MountVolume.SetUp failed for volume %q : %w", v.Name, err))
			continue
		}
		out[v.Name] = path
	}
	return out, errors.Join(errs...)
}

func (m *Manager) setup(pod *types.Pod, v *types.Volume, src Sources) (string, error) {
	if v.Name == "" || strings.ContainsAny(v.Name, "/\x00") || v.Name == "." || v.Name == ".." {
		return "", fmt.Errorf("volume name %q: not usable as a directory name", v.Name)
	}
	dir := filepath.Join(m.PodDir(pod.UID), v.Name)
	switch {
	case v.HostPath != nil:
		return hostPath(v.HostPath)
	case v.EmptyDir != nil:
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return "", err
		}
		if v.EmptyDir.Medium == types.StorageMediumMemory {
			if err := mountTmpfs(dir, v.EmptyDir.SizeLimit); err != nil {
				return "", err
			}
		}
		// Kubernetes makes emptyDirs world-writable so any user can use them.
		return dir, os.Chmod(dir, 0o777)
	case v.ConfigMap != nil, v.Secret != nil, v.DownwardAPI != nil, v.Projected != nil:
		files, err := payload(pod, &v.VolumeSource, src)
		if err != nil {
			return "", err
		}
		return dir, writeAtomic(dir, files)
	}
	return "", fmt.Errorf("volume %q: %w (supported: emptyDir, hostPath, configMap, secret, downwardAPI, projected)", v.Name, ErrUnsupported)
}

// ReadOnly reports whether the named volume of pod is always mounted
// read-only (configMap, secret, downwardAPI, projected).
func (m *Manager) ReadOnly(pod *types.Pod, name string) bool {
	for _, v := range pod.Spec.Volumes {
		if v.Name == name {
			return v.ConfigMap != nil || v.Secret != nil || v.DownwardAPI != nil || v.Projected != nil
		}
	}
	return false
}

// TearDown removes every volume directory of pod uid (hostPaths are the
// node's and are left alone).
func (m *Manager) TearDown(uid string) error {
	if uid == "" || strings.ContainsAny(uid, "/\x00") || uid == "." || uid == ".." {
		return fmt.Errorf("pod uid %q: not usable as a directory name", uid)
	}
	// Memory-backed emptyDirs are tmpfs mounts: unmount them first.
	vols, _ := os.ReadDir(m.PodDir(uid))
	for _, v := range vols {
		if err := unmountTmpfs(filepath.Join(m.PodDir(uid), v.Name())); err != nil {
			return fmt.Errorf("remove volumes of pod %q: %w", uid, err)
		}
	}
	if err := os.RemoveAll(filepath.Join(m.root, uid)); err != nil {
		return fmt.Errorf("remove volumes of pod %q: %w", uid, err)
	}
	return nil
}

// PodUIDs lists the Pods that have a directory under the root.
func (m *Manager) PodUIDs() ([]string, error) {
	ents, err := os.ReadDir(m.root)
	if err != nil {
		return nil, fmt.Errorf("list volumes root: %w", err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// hostPath checks (or creates) a hostPath volume's path by its type.
func hostPath(hp *types.HostPathVolumeSource) (string, error) {
	p := filepath.Clean(hp.Path)
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("hostPath %q: %w: must be absolute", hp.Path, ErrHostPath)
	}
	typ := types.HostPathUnset
	if hp.Type != nil {
		typ = *hp.Type
	}
	fi, statErr := os.Stat(p)
	fail := func(what string) (string, error) {
		return "", fmt.Errorf("hostPath type check failed: %s is not a %s: %w", p, what, ErrHostPath)
	}
	switch typ {
	case types.HostPathUnset:
		return p, nil
	case types.HostPathDirectoryOrCreate:
		if statErr != nil {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return "", fmt.Errorf("hostPath %q: %w", p, err)
			}
			return p, nil
		}
		if !fi.IsDir() {
			return fail("directory")
		}
	case types.HostPathDirectory:
		if statErr != nil || !fi.IsDir() {
			return fail("directory")
		}
	case types.HostPathFileOrCreate:
		if statErr != nil {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return "", fmt.Errorf("hostPath %q: %w", p, err)
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return "", fmt.Errorf("hostPath %q: %w", p, err)
			}
			return p, f.Close()
		}
		if !fi.Mode().IsRegular() {
			return fail("file")
		}
	case types.HostPathFile:
		if statErr != nil || !fi.Mode().IsRegular() {
			return fail("file")
		}
	case types.HostPathSocket:
		if statErr != nil || fi.Mode()&os.ModeSocket == 0 {
			return fail("socket")
		}
	case types.HostPathCharDev:
		if statErr != nil || fi.Mode()&os.ModeCharDevice == 0 {
			return fail("character device")
		}
	case types.HostPathBlockDev:
		if statErr != nil || fi.Mode()&os.ModeDevice == 0 || fi.Mode()&os.ModeCharDevice != 0 {
			return fail("block device")
		}
	default:
		return "", fmt.Errorf("hostPath type %q: %w", typ, ErrHostPath)
	}
	return p, nil
}
