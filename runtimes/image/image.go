// Package image is Wharf's node-local image store: it pulls OCI and Docker
// images with go-containerregistry, imports docker and OCI archives, keeps
// every blob content-addressed under one root shared by all images, and
// unpacks filesystem layers once into shared read-only directories that the
// container runtime stacks with overlayfs.
//
// Layout under the store root:
//
//	blobs/sha256/<hex>    manifests, configs and layers, verified by digest
//	refs/<hex>.json       one record per image reference → manifest digest
//	layers/sha256/<hex>   one unpacked layer per diffID (overlay whiteouts)
//	tmp/                  staging for atomic renames into the above
package image

import (
	"strings"

	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Wasm layer media types: such a layer is a WebAssembly module kept as a
// blob (see [Store.OpenBlob]), never unpacked.
const (
	MediaTypeWasmLayer = "application/vnd.wasm.content.layer.v1+wasm"
	MediaTypeWasm      = "application/wasm"
)

// LocalRegistry is the registry name of local images: an image named
// wharf.local/NAME:TAG is one that `wharf image load` imports into a
// node's store (examples/build writes wharf.local/examples/hello:v1). No
// registry answers to that name, so Pull never tries the network for it.
const LocalRegistry = "wharf.local"

// Image is a locally present image: its reference, manifest digest, config
// and layers.
type Image struct {
	// Ref is the fully qualified reference the image was pulled or loaded
	// as (e.g. "index.docker.io/library/alpine:3.20"), or its digest when
	// it was loaded without a name.
	Ref string
	// Digest is the digest of the platform manifest ("sha256:...").
	Digest string
	// MediaType is the manifest's media type.
	MediaType string
	// Config is the runnable part of the image config.
	Config Config
	// Layers are the manifest's layers, lowest first.
	Layers []Layer
}

// Config is the part of an image config a runtime needs.
type Config struct {
	Entrypoint   []string
	Cmd          []string
	Env          []string
	WorkingDir   string
	User         string
	Labels       map[string]string
	StopSignal   string
	Architecture string
	OS           string
	Variant      string
}

// Layer is one layer of an image.
type Layer struct {
	// Digest is the blob's (compressed) digest, the key for OpenBlob.
	Digest string
	// DiffID is the digest of the uncompressed tar, empty when the config
	// does not list one (artifacts).
	DiffID    string
	MediaType string
	Size      int64
}

// IsWasm reports whether the layer is a WebAssembly module.
func (l Layer) IsWasm() bool {
	return l.MediaType == MediaTypeWasmLayer || l.MediaType == MediaTypeWasm
}

// IsFilesystem reports whether the layer is a (possibly compressed) tar of
// a filesystem change set, the kind Unpack extracts.
func (l Layer) IsFilesystem() bool {
	if l.IsWasm() {
		return false
	}
	mt := types.MediaType(l.MediaType)
	return mt == "" || strings.Contains(l.MediaType, ".tar") || strings.Contains(l.MediaType, "rootfs.diff") || mt.IsLayer()
}

// WasmLayer returns the image's WebAssembly layer, if it is a Wasm OCI
// artifact.
func (img *Image) WasmLayer() (Layer, bool) {
	for _, l := range img.Layers {
		if l.IsWasm() {
			return l, true
		}
	}
	return Layer{}, false
}

// Platform is the image's "os/arch[/variant]".
func (img *Image) Platform() string {
	p := img.Config.OS + "/" + img.Config.Architecture
	if img.Config.Variant != "" {
		p += "/" + img.Config.Variant
	}
	return p
}
