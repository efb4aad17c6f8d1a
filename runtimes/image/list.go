package image

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// List returns the images recorded in the store under a reference (pulled
// or loaded), sorted by reference. A reference whose manifest is missing
// or unreadable is skipped: List shows what Get would find.
func (s *Store) List() ([]*Image, error) {
	entries, err := os.ReadDir(filepath.Join(s.root, "refs"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list images in %s: %w", s.root, err)
	}
	var out []*Image
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".json" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.root, "refs", e.Name()))
		if err != nil {
			continue
		}
		var rec refRecord
		if json.Unmarshal(b, &rec) != nil || rec.Ref == "" {
			continue
		}
		img, err := s.imageFromManifest(rec.Ref, rec.Digest)
		if err != nil {
			continue
		}
		out = append(out, img)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out, nil
}

// Size is the compressed size of the image's layers in bytes.
func (img *Image) Size() int64 {
	var n int64
	for _, l := range img.Layers {
		n += l.Size
	}
	return n
}
