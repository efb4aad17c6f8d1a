package image

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/wharfhq/wharf/runtimes"
)

// Pull policies, as in a Kubernetes container's imagePullPolicy.
const (
	PullAlways       = "Always"
	PullIfNotPresent = "IfNotPresent"
	PullNever        = "Never"
)

// Pull makes ref present locally according to policy (Always,
// IfNotPresent, or Never; empty means IfNotPresent) and returns it. A
// local image (under [LocalRegistry]) is never fetched: when it has not
// been loaded the error is runtimes.ErrImageNotLoaded. From an
// index it selects the manifest for this node's platform. progress, which
// may be nil, is called as layers download. Errors wrap
// runtimes.ErrImagePull (unknown image, unreachable registry, digest
// mismatch, Never with no local copy) or runtimes.ErrInvalidImage (bad
// reference, wrong platform). opts add credentials for this pull
// ([WithPullSecrets]); a registry that refuses them (or their absence)
// is an ErrImagePull too.
func (s *Store) Pull(ctx context.Context, ref, policy string, progress func(runtimes.PullProgress), opts ...PullOption) (*Image, error) {
	var po pullOptions
	for _, o := range opts {
		o(&po)
	}
	if progress == nil {
		progress = func(runtimes.PullProgress) {}
	}
	r, err := s.parseRef(ref)
	if err != nil {
		return nil, err
	}
	if r.Context().RegistryStr() == LocalRegistry {
		// Whatever the policy: no registry answers to that name.
		img, err := s.present(ref, progress)
		if errors.Is(err, ErrNotPresent) {
			return nil, runtimes.Explain(runtimes.ErrImageNotLoaded,
				"image %s is not loaded on this node; load it with `wharf image load FILE` on this node (%s images are not pulled from a registry)",
				ref, LocalRegistry)
		}
		return img, err
	}
	switch policy {
	case PullNever, PullIfNotPresent, "":
		img, err := s.present(ref, progress)
		if err == nil || !errors.Is(err, ErrNotPresent) {
			return img, err
		}
		if policy == PullNever {
			return nil, fmt.Errorf("image %q is not present on this node and its pull policy is Never: %w", ref, err)
		}
	case PullAlways:
	default:
		return nil, fmt.Errorf("image %q: unknown pull policy %q (want Always, IfNotPresent or Never): %w", ref, policy, runtimes.ErrImagePull)
	}
	return s.fetch(ctx, r, ref, po, progress)
}

// present returns ref from the store, for this node's platform, telling
// progress it was already present; a missing image is ErrNotPresent.
func (s *Store) present(ref string, progress func(runtimes.PullProgress)) (*Image, error) {
	img, err := s.Get(ref)
	if err != nil {
		return nil, err
	}
	if err := s.checkPlatform(ref, img); err != nil {
		return nil, err
	}
	progress(runtimes.PullProgress{Ref: ref, AlreadyPresent: true, LayersDone: len(img.Layers), LayersTotal: len(img.Layers)})
	return img, nil
}

// fetch resolves r on its registry, trying each of the pull's
// credentials until one is accepted, and downloads what is missing.
func (s *Store) fetch(ctx context.Context, r name.Reference, ref string, po pullOptions, progress func(runtimes.PullProgress)) (*Image, error) {
	auths, err := s.authenticators(r.Context(), po)
	if err != nil {
		return nil, fmt.Errorf("pull %q: %w: %w", ref, runtimes.ErrImagePull, err)
	}
	var desc *remote.Descriptor
	for _, a := range auths {
		if desc, err = remote.Get(r, remote.WithContext(ctx), remote.WithAuth(a)); err == nil || !isAuthError(err) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("pull %q: %w: %w", ref, runtimes.ErrImagePull, err)
	}
	var img v1.Image
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, fmt.Errorf("pull %q: %w: %w", ref, runtimes.ErrImagePull, err)
		}
		h, err := s.pickPlatform(ref, idx)
		if err != nil {
			return nil, err
		}
		if img, err = idx.Image(h); err != nil {
			return nil, fmt.Errorf("pull %q: %w: %w", ref, runtimes.ErrImagePull, err)
		}
	} else if img, err = desc.Image(); err != nil {
		return nil, fmt.Errorf("pull %q: %w: %w", ref, runtimes.ErrImagePull, err)
	}
	return s.save(ref, r.Name(), img, progress, true)
}

// pickPlatform selects from an index the manifest for the node's platform,
// or else a Wasm one.
func (s *Store) pickPlatform(ref string, idx v1.ImageIndex) (v1.Hash, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("pull %q: %w: %w", ref, runtimes.ErrImagePull, err)
	}
	var seen []string
	var wasm *v1.Hash
	for _, m := range im.Manifests {
		if m.Platform == nil {
			continue
		}
		p := *m.Platform
		seen = append(seen, p.String())
		if p.OS == s.platform.OS && p.Architecture == s.platform.Architecture &&
			(s.platform.Variant == "" || p.Variant == "" || p.Variant == s.platform.Variant) {
			return m.Digest, nil
		}
		if p.Architecture == "wasm" && wasm == nil {
			d := m.Digest
			wasm = &d
		}
	}
	if wasm != nil {
		return *wasm, nil
	}
	return v1.Hash{}, fmt.Errorf("%w: image %q has no manifest for this node's platform %s (it has %s)",
		runtimes.ErrInvalidImage, ref, s.NodePlatform(), strings.Join(seen, ", "))
}

// save writes img (its layers, config, manifest) into the store and
// records refName (unless empty) → manifest digest. With checkPlatform it
// refuses an image for another platform before downloading any layer.
func (s *Store) save(ref, refName string, img v1.Image, progress func(runtimes.PullProgress), checkPlatform bool) (*Image, error) {
	if progress == nil {
		progress = func(runtimes.PullProgress) {}
	}
	wrap := func(err error) error {
		if errors.Is(err, runtimes.ErrInvalidImage) || errors.Is(err, runtimes.ErrImagePull) {
			return fmt.Errorf("pull %q: %w", ref, err)
		}
		return fmt.Errorf("pull %q: %w: %w", ref, runtimes.ErrImagePull, err)
	}
	rawManifest, err := img.RawManifest()
	if err != nil {
		return nil, wrap(err)
	}
	digest, err := img.Digest()
	if err != nil {
		return nil, wrap(err)
	}
	m, err := img.Manifest()
	if err != nil {
		return nil, wrap(err)
	}
	rawCfg, err := img.RawConfigFile()
	if err != nil {
		return nil, wrap(err)
	}
	if err := s.writeBlobBytes(m.Config.Digest.String(), rawCfg); err != nil {
		return nil, wrap(err)
	}
	// Check the platform from the config before fetching layers.
	if err := s.writeBlobBytes(digest.String(), rawManifest); err != nil {
		return nil, wrap(err)
	}
	shown := refName
	if shown == "" {
		shown = digest.String()
	}
	out, err := s.imageFromManifest(shown, digest.String())
	if err != nil {
		return nil, wrap(err)
	}
	if checkPlatform {
		if err := s.checkPlatform(ref, out); err != nil {
			return nil, err
		}
	}
	p := runtimes.PullProgress{Ref: ref, LayersTotal: len(m.Layers)}
	for _, l := range m.Layers {
		p.BytesTotal += l.Size
	}
	present := 0
	for _, l := range m.Layers {
		if s.HasBlob(l.Digest.String()) {
			present++
			p.BytesDone += l.Size
			p.LayersDone++
			continue
		}
		layer, err := img.LayerByDigest(l.Digest)
		if err != nil {
			return nil, wrap(err)
		}
		rc, err := layer.Compressed()
		if err != nil {
			return nil, wrap(err)
		}
		_, err = s.writeBlob(l.Digest.String(), rc, func(n int64) {
			p.BytesDone += n
			progress(p)
		})
		rc.Close()
		if err != nil {
			return nil, wrap(err)
		}
		p.LayersDone++
		progress(p)
	}
	if present == len(m.Layers) {
		p.AlreadyPresent = true
		progress(p)
	}
	if refName != "" {
		if err := s.writeRef(refName, digest.String()); err != nil {
			return nil, wrap(err)
		}
	}
	return out, nil
}
