package container

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/wharfhq/wharf/runtimes"
)

// WriteBundle writes into dir the OCI bundle Create would build for spec
// (config.json and the generated /etc files; the root is dir/rootfs, left
// for the caller to mount) and returns the image's layer dirs, lowest
// first. The benchmark hands the same bundle to the runc binary.
func WriteBundle(ctx context.Context, r *Runtime, id string, s *runtimes.Spec, dir string) ([]string, error) {
	img, err := r.images.Pull(ctx, s.Image, s.PullPolicy, nil)
	if err != nil {
		return nil, err
	}
	layers, err := r.images.Unpack(ctx, img)
	if err != nil {
		return nil, err
	}
	rootfs := filepath.Join(dir, "rootfs")
	if err := os.MkdirAll(rootfs, 0o755); err != nil {
		return nil, err
	}
	if err := writeEtcFiles(dir, id); err != nil {
		return nil, err
	}
	// The image's files are read from a copy: resolveUser needs them.
	if err := copyLayers(layers, rootfs); err != nil {
		return nil, err
	}
	ospec, err := buildSpec(ociSpec{id: id, dir: dir, rootfs: rootfs, img: img, spec: s,
		cgroupsPath: filepath.Join(r.cgroupParent, id)})
	if err != nil {
		return nil, err
	}
	// Leave an empty mount point for the caller's overlay.
	if err := os.RemoveAll(rootfs); err != nil {
		return nil, err
	}
	if err := os.Mkdir(rootfs, 0o755); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(ospec, "", "  ")
	if err != nil {
		return nil, err
	}
	return layers, os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644)
}

// MountOverlay and Unmount are the rootfs helpers Create and Remove use.
var (
	MountOverlay = mountOverlay
	Unmount      = unmount
)
