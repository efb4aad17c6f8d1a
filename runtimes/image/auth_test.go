package image_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/image"
	"github.com/wharfhq/wharf/runtimes/image/imagetest"
)

// anonymousStore is a store whose node keychain has no credentials (the
// default one would read the host's docker config).
func anonymousStore(t *testing.T, opts ...image.Option) *image.Store {
	t.Helper()
	s, err := image.NewStore(t.TempDir(), append([]image.Option{image.WithKeychain(authn.NewMultiKeychain())}, opts...)...)
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	return s
}

func TestPullWithSecrets(t *testing.T) {
	ctx := context.Background()
	open, private := imagetest.AuthRegistry(t, "alice", "s3cret")
	img := imagetest.Image(t, nodeConfig(), imagetest.Layer(t, imagetest.File("bin/app", "one", 0o755)))
	imagetest.Push(t, open+"/team/app:v1", img)
	ref := private + "/team/app:v1"
	legacy := []byte(`{"` + private + `":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("alice:s3cret")) + `","email":"a@example.com"}}`)

	tests := []struct {
		name    string
		secrets [][]byte
		node    authn.Keychain
		ok      bool
	}{
		{name: "no credentials", ok: false},
		{name: "wrong password", secrets: [][]byte{imagetest.DockerConfig(private, "alice", "nope")}, ok: false},
		{name: "other registry only", secrets: [][]byte{imagetest.DockerConfig("other.example:5000", "alice", "s3cret")}, ok: false},
		{name: "dockerconfigjson", secrets: [][]byte{imagetest.DockerConfig(private, "alice", "s3cret")}, ok: true},
		{name: "http URL key with path prefix", secrets: [][]byte{imagetest.DockerConfig("http://"+private+"/team", "alice", "s3cret")}, ok: true},
		{name: "username and password fields", secrets: [][]byte{[]byte(`{"auths":{"` + private + `":{"username":"alice","password":"s3cret"}}}`)}, ok: true},
		{name: "legacy dockercfg", secrets: [][]byte{legacy}, ok: true},
		{name: "bad document skipped", secrets: [][]byte{[]byte("not json"), imagetest.DockerConfig(private, "alice", "s3cret")}, ok: true},
		{name: "node keychain", node: staticKeychain{private: authn.FromConfig(authn.AuthConfig{Username: "alice", Password: "s3cret"})}, ok: true},
		{name: "secret before node keychain", secrets: [][]byte{imagetest.DockerConfig(private, "alice", "s3cret")},
			node: staticKeychain{private: authn.FromConfig(authn.AuthConfig{Username: "bob", Password: "x"})}, ok: true},
		// As the kubelet, every matching credential is tried in turn.
		{name: "refused secret, then node keychain", secrets: [][]byte{imagetest.DockerConfig(private, "alice", "nope")},
			node: staticKeychain{private: authn.FromConfig(authn.AuthConfig{Username: "alice", Password: "s3cret"})}, ok: true},
		{name: "refused path entry, then host entry", secrets: [][]byte{
			imagetest.DockerConfig(private+"/team", "alice", "nope"), imagetest.DockerConfig(private, "alice", "s3cret")}, ok: true},
		{name: "all refused", secrets: [][]byte{imagetest.DockerConfig(private, "alice", "nope")},
			node: staticKeychain{private: authn.FromConfig(authn.AuthConfig{Username: "bob", Password: "x"})}, ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := anonymousStore(t)
			if tt.node != nil {
				s = anonymousStore(t, image.WithKeychain(tt.node))
			}
			got, err := s.Pull(ctx, ref, image.PullAlways, nil, image.WithPullSecrets(tt.secrets))
			if !tt.ok {
				if !errors.Is(err, runtimes.ErrImagePull) || !strings.Contains(err.Error(), "UNAUTHORIZED") {
					t.Fatalf("Pull = %v, want ErrImagePull for UNAUTHORIZED", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Pull: %v", err)
			}
			want, _ := img.Digest()
			if got.Digest != want.String() {
				t.Errorf("digest = %s, want %s", got.Digest, want)
			}
		})
	}
}

// staticKeychain maps registry hosts to authenticators.
type staticKeychain map[string]authn.Authenticator

func (k staticKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if a, ok := k[r.RegistryStr()]; ok {
		return a, nil
	}
	return authn.Anonymous, nil
}

func TestPullSecretsKeychainMatching(t *testing.T) {
	doc := func(key, user string) []byte { return imagetest.DockerConfig(key, user, "pw") }
	tests := []struct {
		name     string
		docs     [][]byte
		image    string
		wantUser string // "" = anonymous
	}{
		{"docker hub v1 URL for docker.io", [][]byte{doc("https://index.docker.io/v1/", "hub")}, "alpine:3.20", "hub"},
		{"docker.io key for docker.io/library", [][]byte{doc("docker.io", "hub")}, "docker.io/library/alpine", "hub"},
		{"registry-1 key for index.docker.io", [][]byte{doc("registry-1.docker.io", "hub")}, "index.docker.io/foo/bar", "hub"},
		{"exact host", [][]byte{doc("reg.example.com", "u")}, "reg.example.com/app", "u"},
		{"host is case-insensitive", [][]byte{doc("Reg.Example.com", "u")}, "reg.example.com/app", "u"},
		{"host:port", [][]byte{doc("reg.example.com:5000", "u")}, "reg.example.com:5000/app", "u"},
		{"port must match", [][]byte{doc("reg.example.com:5000", "u")}, "reg.example.com/app", ""},
		{"no port in key, port in image", [][]byte{doc("reg.example.com", "u")}, "reg.example.com:5000/app", ""},
		{"https URL key", [][]byte{doc("https://reg.example.com/v2/", "u")}, "reg.example.com/app", "u"},
		{"glob", [][]byte{doc("*.example.com", "u")}, "reg.example.com/app", "u"},
		{"glob does not span labels", [][]byte{doc("*.example.com", "u")}, "a.reg.example.com/app", ""},
		{"other host", [][]byte{doc("reg.example.com", "u")}, "quay.io/app", ""},
		{"docker hub key not for other registries", [][]byte{doc("docker.io", "hub")}, "quay.io/app", ""},
		{"path prefix matches below", [][]byte{doc("reg.example.com/team", "t")}, "reg.example.com/team/app", "t"},
		{"path prefix is per segment", [][]byte{doc("reg.example.com/team", "t")}, "reg.example.com/teamx/app", ""},
		{"most specific wins", [][]byte{doc("reg.example.com", "host"), doc("reg.example.com/team", "team")}, "reg.example.com/team/app", "team"},
		{"earlier document first", [][]byte{doc("reg.example.com", "first"), doc("reg.example.com", "second")}, "reg.example.com/app", "first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := image.PullSecretsKeychain(tt.docs)
			if err != nil {
				t.Fatalf("PullSecretsKeychain: %v", err)
			}
			ref, err := name.ParseReference(tt.image)
			if err != nil {
				t.Fatal(err)
			}
			a, err := k.Resolve(ref.Context())
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := a.Authorization()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Username != tt.wantUser {
				t.Errorf("user = %q, want %q", cfg.Username, tt.wantUser)
			}
		})
	}
}

func TestPullSecretsKeychainErrors(t *testing.T) {
	for _, doc := range []string{"not json", `{"auths":{"h":{"auth":"%%%"}}}`, `{"auths":{"h":{"auth":"` + base64.StdEncoding.EncodeToString([]byte("nocolon")) + `"}}}`} {
		t.Run(doc, func(t *testing.T) {
			if _, err := image.PullSecretsKeychain([][]byte{[]byte(doc)}); !errors.Is(err, image.ErrPullSecret) {
				t.Errorf("err = %v, want ErrPullSecret", err)
			}
		})
	}
}
