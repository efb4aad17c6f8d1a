// Package imagetest builds image fixtures for tests: tar layers from
// in-memory entries, images with a chosen config, and an in-process
// registry (go-containerregistry's pkg/registry on httptest) to push them
// to, so that tests exercise the real pull path without the network.
package imagetest

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Registry starts an in-memory registry for the test and returns its
// host:port (a 127.0.0.1 address, so plain http is used).
func Registry(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(discardLogger())))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// AuthRegistry starts one in-memory registry behind two servers: open
// (host:port to push to without credentials) and private, which answers
// 401 with a Basic challenge unless a request carries user:password.
// Both serve the same repositories.
func AuthRegistry(t testing.TB, user, password string) (open, private string) {
	t.Helper()
	reg := registry.New(registry.Logger(discardLogger()))
	o := httptest.NewServer(reg)
	t.Cleanup(o.Close)
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, pw, ok := r.BasicAuth(); !ok || u != user || pw != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="imagetest"`)
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return strings.TrimPrefix(o.URL, "http://"), strings.TrimPrefix(p.URL, "http://")
}

// DockerConfig is a .dockerconfigjson document granting user:password
// on host.
func DockerConfig(host, user, password string) []byte {
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	return []byte(`{"auths":{"` + host + `":{"auth":"` + auth + `"}}}`)
}

// Entry is one tar entry of a layer.
type Entry struct {
	Name string
	// Type is a tar type flag; zero means a regular file.
	Type     byte
	Mode     int64
	Body     string
	Linkname string
	Uid, Gid int
}

// File is a regular file entry.
func File(name, body string, mode int64) Entry {
	return Entry{Name: name, Type: tar.TypeReg, Body: body, Mode: mode}
}

// Dir is a directory entry.
func Dir(name string) Entry { return Entry{Name: name, Type: tar.TypeDir, Mode: 0o755} }

// Symlink is a symbolic link entry.
func Symlink(name, target string) Entry {
	return Entry{Name: name, Type: tar.TypeSymlink, Linkname: target, Mode: 0o777}
}

// Tar builds an uncompressed tar from entries.
func Tar(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.Type
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := e.Mode
		if mode == 0 {
			mode = 0o644
		}
		hdr := &tar.Header{Name: e.Name, Typeflag: typ, Mode: mode, Linkname: e.Linkname,
			Uid: e.Uid, Gid: e.Gid, ModTime: time.Unix(1700000000, 0)}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.Body))
		}
		if typ == tar.TypeChar {
			hdr.Devmajor, hdr.Devminor = 1, 3
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("tar header %q: %v", e.Name, err)
		}
		if typ == tar.TypeReg {
			if _, err := io.WriteString(tw, e.Body); err != nil {
				t.Fatalf("tar body %q: %v", e.Name, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatalf("tar close: %v", err)
	}
	return buf.Bytes()
}

// Layer is a gzip-compressed layer of entries.
func Layer(t testing.TB, entries ...Entry) v1.Layer {
	t.Helper()
	b := Tar(t, entries...)
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	})
	if err != nil {
		t.Fatalf("layer: %v", err)
	}
	return l
}

// Image stacks layers on an empty image and sets its config; cfg.OS and
// cfg.Architecture default to linux and amd64-or-whatever runs the test
// when empty (pass them explicitly for a foreign image).
func Image(t testing.TB, cfg v1.ConfigFile, layers ...v1.Layer) v1.Image {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatalf("append layers: %v", err)
	}
	base, err := img.ConfigFile()
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	cf := base.DeepCopy()
	cf.Config = cfg.Config
	cf.OS, cf.Architecture, cf.Variant = cfg.OS, cfg.Architecture, cfg.Variant
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatalf("set config: %v", err)
	}
	return img
}

// Push pushes img to ref (e.g. host+"/app:v1") and returns the digest
// reference (host/app@sha256:...).
func Push(t testing.TB, ref string, img v1.Image) string {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatalf("ref %q: %v", ref, err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("push %q: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatalf("digest: %v", err)
	}
	return r.Context().Name() + "@" + d.String()
}

// PushIndex pushes an index to ref.
func PushIndex(t testing.TB, ref string, idx v1.ImageIndex) {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatalf("ref %q: %v", ref, err)
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatalf("push index %q: %v", ref, err)
	}
}
