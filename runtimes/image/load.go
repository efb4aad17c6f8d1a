package image

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/wharfhq/wharf/runtimes"
)

// ErrUnknownArchive is returned by Load for a file that is neither a
// docker archive nor an OCI archive or layout.
var ErrUnknownArchive = errors.New("not a docker or OCI image archive")

// Load imports the images of a docker archive (`docker save`), an OCI
// archive (a tar of an OCI image layout) or an OCI layout directory, and
// returns the references they were recorded under (an image with no name
// is returned as its manifest digest, which Get accepts). Images for other
// platforms are imported too; running them is refused later.
func (s *Store) Load(ctx context.Context, path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load %q: %w", path, err)
	}
	if fi.IsDir() {
		return s.loadLayout(ctx, path)
	}
	hasDocker, hasOCI, err := archiveKind(path)
	if err != nil {
		return nil, fmt.Errorf("load %q: %w: %w", path, ErrUnknownArchive, err)
	}
	switch {
	case hasDocker: // docker 25+ writes both; manifest.json has the names
		return s.loadDocker(ctx, path)
	case hasOCI:
		tmp, err := os.MkdirTemp(filepath.Join(s.root, "tmp"), "load-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		if err := extractPlain(path, tmp); err != nil {
			return nil, fmt.Errorf("load %q: %w", path, err)
		}
		return s.loadLayout(ctx, tmp)
	}
	return nil, fmt.Errorf("load %q: %w", path, ErrUnknownArchive)
}

// archiveKind looks for docker's manifest.json and OCI's oci-layout.
func archiveKind(path string) (docker, oci bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return false, false, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return docker, oci, nil
		}
		if err != nil {
			return false, false, err
		}
		switch strings.TrimPrefix(hdr.Name, "./") {
		case "manifest.json":
			docker = true
		case "oci-layout":
			oci = true
		}
	}
}

func (s *Store) loadDocker(ctx context.Context, path string) ([]string, error) {
	opener := func() (io.ReadCloser, error) { return os.Open(path) }
	m, err := tarball.LoadManifest(opener)
	if err != nil {
		return nil, fmt.Errorf("load %q: %w: %w", path, runtimes.ErrInvalidImage, err)
	}
	var refs []string
	for _, d := range m {
		if err := ctx.Err(); err != nil {
			return refs, err
		}
		if len(d.RepoTags) == 0 {
			if len(m) != 1 {
				continue // tarball can only address an untagged image when it is alone
			}
			img, err := tarball.Image(opener, nil)
			if err != nil {
				return refs, fmt.Errorf("load %q: %w: %w", path, runtimes.ErrInvalidImage, err)
			}
			ref, err := s.saveUnnamed(img)
			if err != nil {
				return refs, err
			}
			refs = append(refs, ref)
			continue
		}
		for _, t := range d.RepoTags {
			tag, err := name.NewTag(t)
			if err != nil {
				return refs, fmt.Errorf("load %q: tag %q: %w: %w", path, t, runtimes.ErrInvalidImage, err)
			}
			img, err := tarball.Image(opener, &tag)
			if err != nil {
				return refs, fmt.Errorf("load %q: %w: %w", path, runtimes.ErrInvalidImage, err)
			}
			if _, err := s.save(t, tag.Name(), img, nil, false); err != nil {
				return refs, err
			}
			refs = append(refs, tag.Name())
		}
	}
	return refs, nil
}

// saveUnnamed stores an image under its digest only.
func (s *Store) saveUnnamed(img v1.Image) (string, error) {
	d, err := img.Digest()
	if err != nil {
		return "", fmt.Errorf("load: %w: %w", runtimes.ErrInvalidImage, err)
	}
	if _, err := s.save(d.String(), "", img, nil, false); err != nil {
		return "", err
	}
	return d.String(), nil
}

// Annotations naming an image in an OCI index.
const (
	annotationContainerdName = "io.containerd.image.name"
	annotationRefName        = "org.opencontainers.image.ref.name"
)

func (s *Store) loadLayout(ctx context.Context, dir string) ([]string, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("load OCI layout: %w: %w", ErrUnknownArchive, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("load OCI layout: %w: %w", runtimes.ErrInvalidImage, err)
	}
	var refs []string
	for _, d := range im.Manifests {
		if err := ctx.Err(); err != nil {
			return refs, err
		}
		var img v1.Image
		switch {
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return refs, fmt.Errorf("load OCI layout: %w: %w", runtimes.ErrInvalidImage, err)
			}
			h, err := s.pickPlatform(d.Digest.String(), child)
			if err != nil {
				return refs, err
			}
			if img, err = child.Image(h); err != nil {
				return refs, fmt.Errorf("load OCI layout: %w: %w", runtimes.ErrInvalidImage, err)
			}
		case d.MediaType.IsImage():
			if img, err = idx.Image(d.Digest); err != nil {
				return refs, fmt.Errorf("load OCI layout: %w: %w", runtimes.ErrInvalidImage, err)
			}
		default:
			continue
		}
		refName := layoutName(d.Annotations)
		if refName == "" {
			ref, err := s.saveUnnamed(img)
			if err != nil {
				return refs, err
			}
			refs = append(refs, ref)
			continue
		}
		if _, err := s.save(refName, refName, img, nil, false); err != nil {
			return refs, err
		}
		refs = append(refs, refName)
	}
	return refs, nil
}

// layoutName finds a full image reference in an index entry's annotations;
// a bare tag ("latest") names no repository and is ignored.
func layoutName(ann map[string]string) string {
	for _, k := range []string{annotationContainerdName, annotationRefName} {
		v := ann[k]
		if v == "" || !strings.ContainsAny(v, "/:") {
			continue
		}
		if r, err := name.ParseReference(v); err == nil {
			return r.Name()
		}
	}
	return ""
}

// extractPlain unpacks an archive holding only directories and regular
// files (an OCI layout) into dir, through an os.Root so nothing escapes.
func extractPlain(archive, dir string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		rel, err := cleanEntry(hdr.Name)
		if err != nil {
			return err
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(rel, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := root.MkdirAll(filepath.Dir(rel), 0o755); err != nil {
				return err
			}
			w, err := root.Create(rel)
			if err != nil {
				return err
			}
			_, err = io.Copy(w, tr)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
}
