package schedtest

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/runtimes/image/imagetest"
)

// Images sets the Pod's containers, one per image.
func (b *PodBuilder) Images(images ...string) *PodBuilder {
	b.p.Spec.Containers = nil
	for i, img := range images {
		b.p.Spec.Containers = append(b.p.Spec.Containers, types.Container{Name: "c" + string(rune('a'+i)), Image: img})
	}
	return b
}

// InitImages adds an init container per image.
func (b *PodBuilder) InitImages(images ...string) *PodBuilder {
	for i, img := range images {
		b.p.Spec.InitContainers = append(b.p.Spec.InitContainers, types.Container{Name: "init" + string(rune('a'+i)), Image: img})
	}
	return b
}

// ImageRegistry is an in-process registry (go-containerregistry's, on
// httptest at 127.0.0.1, so plain http) that counts the manifest requests
// it answers per repository.
type ImageRegistry struct {
	// Host is host:port.
	Host string

	srv       *httptest.Server
	mu        sync.Mutex
	manifests map[string]int
}

// Stop shuts the registry down: it refuses connections from now on.
func (r *ImageRegistry) Stop() { r.srv.Close() }

// NewImageRegistry starts a registry for the test.
func NewImageRegistry(t testing.TB) *ImageRegistry {
	t.Helper()
	r := &ImageRegistry{manifests: map[string]int{}}
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if repo, _, ok := strings.Cut(strings.TrimPrefix(req.URL.Path, "/v2/"), "/manifests/"); ok && req.Method == http.MethodGet {
			r.mu.Lock()
			r.manifests[repo]++
			r.mu.Unlock()
		}
		reg.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.srv = srv
	r.Host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

// ManifestGets returns how many manifests of repo were fetched.
func (r *ImageRegistry) ManifestGets(repo string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.manifests[repo]
}

// PushImage pushes a single-platform image ("os/arch") as repo:v1 and
// returns its reference.
func (r *ImageRegistry) PushImage(t testing.TB, repo, platform string) string {
	t.Helper()
	ref := r.Host + "/" + repo + ":v1"
	imagetest.Push(t, ref, platformImage(t, platform))
	return ref
}

// PushIndex pushes an index of one image per platform as repo:v1 (plus an
// attestation entry with platform unknown/unknown, as buildx writes) and
// returns its reference.
func (r *ImageRegistry) PushIndex(t testing.TB, repo string, platforms ...string) string {
	t.Helper()
	var adds []mutate.IndexAddendum
	for _, p := range append(platforms, "unknown/unknown") {
		os, arch, _ := strings.Cut(p, "/")
		adds = append(adds, mutate.IndexAddendum{
			Add:        platformImage(t, p),
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: os, Architecture: arch}},
		})
	}
	ref := r.Host + "/" + repo + ":v1"
	imagetest.PushIndex(t, ref, mutate.AppendManifests(empty.Index, adds...))
	return ref
}

func platformImage(t testing.TB, platform string) v1.Image {
	os, arch, _ := strings.Cut(platform, "/")
	return imagetest.Image(t, v1.ConfigFile{OS: os, Architecture: arch},
		imagetest.Layer(t, imagetest.File("platform", platform, 0o644)))
}

// UnreachableRegistry returns the host:port of a registry that refuses
// connections (a listener opened and closed).
func UnreachableRegistry(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	host := l.Addr().String()
	l.Close()
	return host
}
