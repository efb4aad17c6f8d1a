package wasm

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/klauspost/compress/zstd"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/image"
)

// errNotInImage: the file looked for is not in the image's filesystem.
// findInLayers returns it with runtimes.ErrInvalidImage.
var errNotInImage = errors.New("file not in the image")

// maxLinkHops bounds the symbolic links followed to find a module.
const maxLinkHops = 8

type layerResult int

const (
	notInLayer layerResult = iota
	foundFile
	foundLink
	whitedOut
)

// findInLayers finds the regular file at p in img's filesystem layers,
// reading them top-down as overlayfs would stack them: a whiteout or an
// opaque directory in an upper layer hides what lower layers hold, and
// links (symbolic or hard) are followed within the image. fn receives the
// file's content. Nothing is unpacked.
func findInLayers(img *image.Image, open func(digest string) (*os.File, error), p string, fn func(io.Reader) error) error {
	target := cleanPath(p)
	for range maxLinkHops {
		link := ""
	layers:
		for i := len(img.Layers) - 1; i >= 0; i-- {
			l := img.Layers[i]
			if !l.IsFilesystem() {
				continue
			}
			res, to, err := searchLayer(l, open, target, fn)
			if err != nil {
				return err
			}
			switch res {
			case foundFile:
				return nil
			case whitedOut:
				break layers
			case foundLink:
				link = to
				break layers
			}
		}
		if link == "" {
			return runtimes.Explain(errNotInImage, "%w: %q is not in the image (the entrypoint must name the .wasm file)", runtimes.ErrInvalidImage, p)
		}
		target = link
	}
	return fmt.Errorf("%w: %q: too many links", runtimes.ErrInvalidImage, p)
}

func cleanPath(p string) string { return strings.TrimPrefix(path.Clean("/"+p), "/") }

// searchLayer looks for target in one layer.
func searchLayer(l image.Layer, open func(string) (*os.File, error), target string, fn func(io.Reader) error) (layerResult, string, error) {
	f, err := open(l.Digest)
	if err != nil {
		return 0, "", fmt.Errorf("%w: layer %s: %w", runtimes.ErrImagePull, l.Digest, err)
	}
	defer f.Close()
	rd, err := decompress(f)
	if err != nil {
		return 0, "", fmt.Errorf("%w: layer %s: %w", runtimes.ErrInvalidImage, l.Digest, err)
	}
	defer rd.Close()
	tr := tar.NewReader(rd)
	hidden := false
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, "", fmt.Errorf("%w: layer %s: %w", runtimes.ErrInvalidImage, l.Digest, err)
		}
		name := cleanPath(hdr.Name)
		dir, base := path.Split(name)
		dir = strings.TrimSuffix(dir, "/")
		switch {
		case base == ".wh..wh..opq":
			if isUnder(target, dir) {
				hidden = true
			}
			continue
		case strings.HasPrefix(base, ".wh."):
			gone := path.Join(dir, strings.TrimPrefix(base, ".wh."))
			if gone == target || isUnder(target, gone) {
				hidden = true
			}
			continue
		case name != target:
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeReg:
			if err := fn(tr); err != nil {
				return 0, "", err
			}
			return foundFile, "", nil
		case tar.TypeSymlink:
			to := hdr.Linkname
			if !path.IsAbs(to) {
				to = path.Join(dir, to)
			}
			return foundLink, cleanPath(to), nil
		case tar.TypeLink:
			return foundLink, cleanPath(hdr.Linkname), nil
		default:
			return 0, "", fmt.Errorf("%w: %q in the image is not a regular file", runtimes.ErrInvalidImage, "/"+target)
		}
	}
	if hidden {
		return whitedOut, "", nil
	}
	return notInLayer, "", nil
}

// isUnder reports whether p lies below directory dir ("" is the root).
func isUnder(p, dir string) bool {
	return dir == "" || strings.HasPrefix(p, dir+"/")
}

// decompress detects gzip, zstd or a plain tar by its magic bytes. (The
// image store has the same few lines unexported; layers are read here
// without unpacking them, so the store's Unpack does not fit.)
func decompress(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReader(r)
	magic, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		return gzip.NewReader(br)
	case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		d, err := zstd.NewReader(br)
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	default:
		return io.NopCloser(br), nil
	}
}
