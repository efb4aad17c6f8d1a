package image

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"sort"
	"strings"

	"github.com/docker/cli/cli/config/configfile"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// ErrPullSecret: a registry credentials document (a Secret's
// .dockerconfigjson or .dockercfg) could not be parsed.
var ErrPullSecret = errors.New("invalid image pull secret")

// PullOption adjusts one Pull.
type PullOption func(*pullOptions)

type pullOptions struct {
	secrets []*secretKeychain
}

// WithPullSecrets makes Pull try the credentials of these docker config
// documents (the contents of a kubernetes.io/dockerconfigjson Secret's
// .dockerconfigjson or a kubernetes.io/dockercfg Secret's .dockercfg)
// before the store's own keychain, as the kubelet does with a Pod's
// imagePullSecrets. A document that cannot be parsed is skipped: the
// pull goes on with the others (see [PullSecretsKeychain] to check them).
func WithPullSecrets(docs [][]byte) PullOption {
	return func(o *pullOptions) {
		if len(docs) == 0 {
			return
		}
		k, _ := parsePullSecrets(docs) // unparsable documents are skipped
		o.secrets = append(o.secrets, k)
	}
}

// secretCred is one registry entry of a pull secret: the key it was
// given under, normalised (host[:port][/path]), and its credentials.
type secretCred struct {
	host, path string
	auth       authn.AuthConfig
}

// secretKeychain is an authn.Keychain over the entries of pull secrets,
// most specific first.
type secretKeychain struct {
	creds []secretCred
}

var _ authn.Keychain = (*secretKeychain)(nil)

// PullSecretsKeychain builds a keychain from docker config documents,
// either the current format ({"auths":{"HOST":{...}}}) or the legacy
// .dockercfg one ({"HOST":{...}}); entries carry "auth" (base64 of
// user:password), or "username"/"password", or "identitytoken". A
// registry matches an entry as in the kubelet: the same host (docker.io,
// index.docker.io, registry-1.docker.io and https://index.docker.io/v1/
// are one), "*." globs per host label, and an entry with a path only for
// repositories under it; the most specific entry wins, then the earliest
// document. The error (ErrPullSecret) names the documents skipped.
func PullSecretsKeychain(docs [][]byte) (authn.Keychain, error) {
	return parsePullSecrets(docs)
}

func parsePullSecrets(docs [][]byte) (*secretKeychain, error) {
	k := &secretKeychain{}
	var errs []error
	for i, doc := range docs {
		creds, err := parsePullSecret(doc)
		if err != nil {
			errs = append(errs, fmt.Errorf("pull secret %d: %w: %w", i, ErrPullSecret, err))
			continue
		}
		k.creds = append(k.creds, creds...)
	}
	// Stable: earlier documents first among equally specific entries.
	sort.SliceStable(k.creds, func(i, j int) bool {
		return len(k.creds[i].host)+len(k.creds[i].path) > len(k.creds[j].host)+len(k.creds[j].path)
	})
	return k, errors.Join(errs...)
}

// parsePullSecret parses one document with docker/cli's config file
// reader (which decodes "auth"), wrapping a legacy .dockercfg map in
// {"auths": ...} first.
func parsePullSecret(doc []byte) ([]secretCred, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		return nil, err
	}
	if _, ok := top["auths"]; !ok {
		wrapped, err := json.Marshal(map[string]any{"auths": top})
		if err != nil {
			return nil, err
		}
		doc = wrapped
	}
	cf := configfile.New("")
	if err := cf.LoadFromReader(bytes.NewReader(doc)); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(cf.AuthConfigs))
	for key := range cf.AuthConfigs {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	var out []secretCred
	for _, key := range keys {
		ac := cf.AuthConfigs[key]
		host, p := normalizeRegistryKey(key)
		if host == "" {
			continue
		}
		out = append(out, secretCred{host: host, path: p, auth: authn.AuthConfig{
			Username: ac.Username, Password: ac.Password,
			IdentityToken: ac.IdentityToken, RegistryToken: ac.RegistryToken,
		}})
	}
	return out, nil
}

// dockerHub is the registry name go-containerregistry gives Docker Hub.
const dockerHub = "index.docker.io"

// normalizeRegistryKey turns a docker config key ("https://host:port/v1/",
// "host/ns", "docker.io") into a lower-case host and a path without the
// /v1 or /v2 API suffix.
func normalizeRegistryKey(key string) (host, p string) {
	key = strings.TrimSpace(key)
	if i := strings.Index(key, "://"); i >= 0 {
		key = key[i+3:]
	}
	host, p, _ = strings.Cut(key, "/")
	host = strings.ToLower(host)
	p = strings.Trim(path.Clean("/"+p), "/")
	if p == "v1" || p == "v2" {
		p = ""
	}
	switch host {
	case "docker.io", "registry-1.docker.io":
		host = dockerHub
	}
	return host, p
}

// Resolve returns the credentials of the most specific entry matching
// the resource's registry (and repository), or authn.Anonymous.
func (k *secretKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	if all := k.resolveAll(r); len(all) > 0 {
		return all[0], nil
	}
	return authn.Anonymous, nil
}

// resolveAll returns the credentials of every entry matching the
// resource, most specific first: the kubelet tries them in turn.
func (k *secretKeychain) resolveAll(r authn.Resource) []authn.Authenticator {
	host := strings.ToLower(r.RegistryStr())
	repo := strings.TrimPrefix(r.String(), r.RegistryStr())
	repo = strings.Trim(repo, "/")
	var out []authn.Authenticator
	for _, c := range k.creds {
		if !hostMatches(c.host, host) {
			continue
		}
		if c.path != "" && repo != c.path && !strings.HasPrefix(repo, c.path+"/") {
			continue
		}
		out = append(out, authn.FromConfig(c.auth))
	}
	return out
}

// authenticators lists the credentials a pull of r tries, in order, as
// the kubelet: every matching pull secret entry, then the node keychain's
// (when it has any); anonymous only when there are none.
func (s *Store) authenticators(r authn.Resource, po pullOptions) ([]authn.Authenticator, error) {
	var out []authn.Authenticator
	for _, k := range po.secrets {
		out = append(out, k.resolveAll(r)...)
	}
	node, err := s.keychain.Resolve(r)
	if err != nil {
		return nil, fmt.Errorf("registry credentials of this node for %s: %w", r.RegistryStr(), err)
	}
	if node != authn.Anonymous || len(out) == 0 {
		out = append(out, node)
	}
	return out, nil
}

// isAuthError reports whether a registry refused the credentials (or
// their absence), so that the next ones are worth trying.
func isAuthError(err error) bool {
	var te *transport.Error
	return errors.As(err, &te) && (te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden)
}

// hostMatches reports whether host (host[:port]) matches pattern, which
// may glob labels with "*" (as the kubelet's "*.example.com"); ports must
// be equal.
func hostMatches(pattern, host string) bool {
	if pattern == host {
		return true
	}
	if !strings.Contains(pattern, "*") {
		return false
	}
	pHost, pPort, _ := strings.Cut(pattern, ":")
	hHost, hPort, _ := strings.Cut(host, ":")
	if pPort != hPort {
		return false
	}
	pl, hl := strings.Split(pHost, "."), strings.Split(hHost, ".")
	if len(pl) != len(hl) {
		return false
	}
	for i := range pl {
		if ok, err := path.Match(pl[i], hl[i]); err != nil || !ok {
			return false
		}
	}
	return true
}
