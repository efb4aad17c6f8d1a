package image

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/wharfhq/wharf/runtimes"
)

// ErrNotPresent is returned (wrapped with runtimes.ErrImagePull) by Get
// when the image is not in the local store.
var ErrNotPresent = errors.New("image not present")

// Store is a node's content-addressed image store. It is safe for
// concurrent use, including by several processes on the same root: every
// write is staged and renamed into place.
type Store struct {
	root     string
	platform v1.Platform
	keychain authn.Keychain
	insecure map[string]bool

	// unpackMu serialises Unpack per layer within this process; across
	// processes the atomic rename decides.
	unpackMu sync.Map // diffID -> *sync.Mutex
}

// Option configures a Store.
type Option func(*Store)

// WithPlatform sets the node platform images must match (default: the
// platform this binary runs on).
func WithPlatform(os, arch, variant string) Option {
	return func(s *Store) { s.platform = v1.Platform{OS: os, Architecture: arch, Variant: variant} }
}

// WithKeychain sets where registry credentials come from (default:
// authn.DefaultKeychain, i.e. the docker config file).
func WithKeychain(k authn.Keychain) Option {
	return func(s *Store) { s.keychain = k }
}

// WithInsecureRegistries allows plain http for these registry hosts
// (host[:port]), beyond localhost and 127.0.0.1 which are always allowed.
func WithInsecureRegistries(hosts ...string) Option {
	return func(s *Store) {
		for _, h := range hosts {
			s.insecure[h] = true
		}
	}
}

// NewStore opens (creating if needed) the image store under root.
func NewStore(root string, opts ...Option) (*Store, error) {
	s := &Store{
		root:     root,
		platform: v1.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH},
		keychain: authn.DefaultKeychain,
		insecure: map[string]bool{},
	}
	for _, o := range opts {
		o(s)
	}
	for _, d := range []string{"blobs/sha256", "refs", "layers/sha256", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			return nil, fmt.Errorf("image store %q: %w", root, err)
		}
	}
	return s, nil
}

// Root is the directory the store lives in.
func (s *Store) Root() string { return s.root }

// NodePlatform is the platform images must match, "os/arch".
func (s *Store) NodePlatform() string { return s.platform.OS + "/" + s.platform.Architecture }

// parseRef parses an image reference, allowing plain http for loopback
// registries and the configured insecure ones.
func (s *Store) parseRef(ref string) (name.Reference, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("image reference %q: %w: %w", ref, runtimes.ErrInvalidImage, err)
	}
	host := r.Context().RegistryStr()
	h := host
	if i := strings.LastIndex(h, ":"); i >= 0 && !strings.HasSuffix(h, "]") {
		h = h[:i]
	}
	if h == "localhost" || h == "127.0.0.1" || h == "[::1]" || s.insecure[host] || s.insecure[h] {
		r, err = name.ParseReference(ref, name.Insecure)
		if err != nil {
			return nil, fmt.Errorf("image reference %q: %w: %w", ref, runtimes.ErrInvalidImage, err)
		}
	}
	return r, nil
}

// refRecord is what refs/<hex>.json holds.
type refRecord struct {
	Ref    string `json:"ref"`
	Digest string `json:"digest"`
}

func (s *Store) refPath(ref string) string {
	sum := sha256.Sum256([]byte(ref))
	return filepath.Join(s.root, "refs", hex.EncodeToString(sum[:])+".json")
}

func (s *Store) writeRef(ref, digest string) error {
	b, err := json.Marshal(refRecord{Ref: ref, Digest: digest})
	if err != nil {
		return err
	}
	return s.writeFileAtomic(s.refPath(ref), b)
}

// Get returns a locally present image by reference (as given to Pull or
// recorded by Load) or by manifest digest ("sha256:..."). It never touches
// the network; a missing image is ErrNotPresent wrapped in
// runtimes.ErrImagePull.
func (s *Store) Get(ref string) (*Image, error) {
	if strings.HasPrefix(ref, "sha256:") {
		return s.imageFromManifest(ref, ref)
	}
	r, err := s.parseRef(ref)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(s.refPath(r.Name()))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("image %q: %w: %w", ref, runtimes.ErrImagePull, ErrNotPresent)
	}
	if err != nil {
		return nil, fmt.Errorf("image %q: %w", ref, err)
	}
	var rec refRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("image %q: corrupt ref record: %w", ref, err)
	}
	return s.imageFromManifest(r.Name(), rec.Digest)
}

// imageFromManifest builds an Image from blobs already in the store.
func (s *Store) imageFromManifest(ref, digest string) (*Image, error) {
	raw, err := s.readBlob(digest)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("image %q: manifest %s: %w: %w", ref, digest, runtimes.ErrImagePull, ErrNotPresent)
	}
	if err != nil {
		return nil, fmt.Errorf("image %q: %w", ref, err)
	}
	m, err := v1.ParseManifest(strings.NewReader(string(raw)))
	if err != nil {
		return nil, fmt.Errorf("image %q: manifest %s: %w: %w", ref, digest, runtimes.ErrInvalidImage, err)
	}
	rawCfg, err := s.readBlob(m.Config.Digest.String())
	if err != nil {
		return nil, fmt.Errorf("image %q: config: %w: %w", ref, runtimes.ErrImagePull, err)
	}
	img := &Image{Ref: ref, Digest: digest, MediaType: string(m.MediaType)}
	if img.MediaType == "" {
		img.MediaType = string(types.OCIManifestSchema1)
	}
	cf := parseConfig(rawCfg)
	img.Config = Config{
		Entrypoint: cf.Config.Entrypoint, Cmd: cf.Config.Cmd, Env: cf.Config.Env,
		WorkingDir: cf.Config.WorkingDir, User: cf.Config.User, Labels: cf.Config.Labels,
		StopSignal: cf.Config.StopSignal, Architecture: cf.Architecture, OS: cf.OS, Variant: cf.Variant,
	}
	for i, l := range m.Layers {
		layer := Layer{Digest: l.Digest.String(), MediaType: string(l.MediaType), Size: l.Size}
		if i < len(cf.RootFS.DiffIDs) {
			layer.DiffID = cf.RootFS.DiffIDs[i].String()
		}
		img.Layers = append(img.Layers, layer)
	}
	return img, nil
}

// parseConfig reads an image config leniently: artifacts (Wasm) may carry
// an empty or foreign config, which yields an empty ConfigFile.
func parseConfig(raw []byte) v1.ConfigFile {
	var cf v1.ConfigFile
	if err := json.Unmarshal(raw, &cf); err != nil {
		return v1.ConfigFile{}
	}
	return cf
}

// checkPlatform refuses an image built for another OS or architecture.
// Wasm images (architecture "wasm", or a Wasm layer) run anywhere.
func (s *Store) checkPlatform(ref string, img *Image) error {
	if _, ok := img.WasmLayer(); ok || img.Config.Architecture == "wasm" {
		return nil
	}
	c := img.Config
	if (c.OS != "" && c.OS != s.platform.OS) || (c.Architecture != "" && c.Architecture != s.platform.Architecture) {
		return fmt.Errorf("%w: image %q is built for %s; this node is %s", runtimes.ErrInvalidImage, ref, img.Platform(), s.NodePlatform())
	}
	return nil
}

func blobHex(digest string) (string, error) {
	h, err := v1.NewHash(digest)
	if err != nil || h.Algorithm != "sha256" {
		return "", fmt.Errorf("digest %q: %w", digest, runtimes.ErrInvalidImage)
	}
	return h.Hex, nil
}

// BlobPath is the file a blob is kept in (it may not exist).
func (s *Store) BlobPath(digest string) (string, error) {
	hx, err := blobHex(digest)
	if err != nil {
		return "", err
	}
	return filepath.Join(s.root, "blobs", "sha256", hx), nil
}

// OpenBlob opens a blob by digest (a layer, a Wasm module, a config).
func (s *Store) OpenBlob(digest string) (*os.File, error) {
	p, err := s.BlobPath(digest)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", digest, err)
	}
	return f, nil
}

// HasBlob reports whether the blob is present.
func (s *Store) HasBlob(digest string) bool {
	p, err := s.BlobPath(digest)
	if err != nil {
		return false
	}
	_, err = os.Stat(p)
	return err == nil
}

func (s *Store) readBlob(digest string) ([]byte, error) {
	f, err := s.OpenBlob(digest)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// writeBlob streams r into the blob store, verifying its sha256 against
// digest; it returns the number of bytes written. count, if set, is called
// with each chunk's size.
func (s *Store) writeBlob(digest string, r io.Reader, count func(int64)) (int64, error) {
	dst, err := s.BlobPath(digest)
	if err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(filepath.Join(s.root, "tmp"), "blob-")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h, countWriter(count)), r)
	if err != nil {
		tmp.Close()
		return n, fmt.Errorf("blob %s: %w", digest, err)
	}
	if err := tmp.Close(); err != nil {
		return n, err
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != digest {
		return n, fmt.Errorf("blob %s: content has digest %s: %w", digest, got, runtimes.ErrImagePull)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return n, fmt.Errorf("blob %s: %w", digest, err)
	}
	return n, nil
}

func (s *Store) writeBlobBytes(digest string, b []byte) error {
	if s.HasBlob(digest) {
		return nil
	}
	_, err := s.writeBlob(digest, strings.NewReader(string(b)), nil)
	return err
}

func (s *Store) writeFileAtomic(dst string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Join(s.root, "tmp"), "file-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

type countWriter func(int64)

func (c countWriter) Write(p []byte) (int, error) {
	if c != nil {
		c(int64(len(p)))
	}
	return len(p), nil
}
