package image_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/wharfhq/wharf/runtimes/image"
	"github.com/wharfhq/wharf/runtimes/image/imagetest"
)

func TestListShowsLoadedAndPulledImages(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if imgs, err := s.List(); err != nil || len(imgs) != 0 {
		t.Fatalf("List of an empty store = %v, %v; want none", imgs, err)
	}

	img := imagetest.Image(t, nodeConfig(), imagetest.Layer(t, imagetest.File("hello", "hi", 0o644)))
	path := filepath.Join(t.TempDir(), "app.tar")
	tag, _ := name.NewTag("example.com/team/app:v3")
	if err := tarball.WriteToFile(path, tag, img); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(ctx, path); err != nil {
		t.Fatalf("Load: %v", err)
	}
	host := imagetest.Registry(t)
	imagetest.Push(t, host+"/a/b:v1", img)
	if _, err := s.Pull(ctx, host+"/a/b:v1", image.PullIfNotPresent, nil); err != nil {
		t.Fatalf("Pull: %v", err)
	}

	imgs, err := s.List()
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(imgs) != 2 {
		t.Fatalf("List = %d images, want 2", len(imgs))
	}
	want, _ := img.Digest()
	for _, got := range imgs {
		if got.Digest != want.String() {
			t.Errorf("%s: digest %s, want %s", got.Ref, got.Digest, want)
		}
		if got.Size() <= 0 {
			t.Errorf("%s: size %d, want > 0", got.Ref, got.Size())
		}
	}
	if imgs[0].Ref > imgs[1].Ref {
		t.Errorf("List not sorted: %s before %s", imgs[0].Ref, imgs[1].Ref)
	}
}
