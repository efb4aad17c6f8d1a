package plugins

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// PlatformResolver finds the platforms ("os/arch" or "os/arch/variant")
// a container image reference is built for. An error means "unknown":
// the NodeArchitecture filter then does not restrict the Pod (fail open).
// The returned slice may be shared between callers: do not modify it.
type PlatformResolver interface {
	ImagePlatforms(ctx context.Context, ref string) ([]string, error)
}

// PlatformPrefetcher is implemented by resolvers that can start a lookup
// ahead of need (RegistryResolver does), so that looking up several
// images, or Pods seen pending before they are scheduled, overlap.
type PlatformPrefetcher interface {
	Prefetch(ref string)
}

// ErrNoPlatforms: the image's manifest names no platform (an index whose
// entries carry none, or an image config without os/architecture).
var ErrNoPlatforms = errors.New("image names no platform")

// Defaults of RegistryResolver.
const (
	DefaultPlatformsTTL         = 10 * time.Minute
	DefaultPlatformsNegativeTTL = 30 * time.Second
	DefaultPlatformsTimeout     = 5 * time.Second
	DefaultPlatformsCacheSize   = 4096
)

// ResolverOption configures a RegistryResolver.
type ResolverOption func(*RegistryResolver)

// WithResolverTTL sets how long a found platform list (ttl) and a failed
// lookup (negativeTTL) are remembered.
func WithResolverTTL(ttl, negativeTTL time.Duration) ResolverOption {
	return func(r *RegistryResolver) { r.ttl, r.negTTL = ttl, negativeTTL }
}

// WithResolverTimeout bounds one registry lookup.
func WithResolverTimeout(d time.Duration) ResolverOption {
	return func(r *RegistryResolver) { r.timeout = d }
}

// WithResolverCacheSize bounds how many references are remembered (least
// recently used ones go first).
func WithResolverCacheSize(n int) ResolverOption {
	return func(r *RegistryResolver) { r.size = max(n, 1) }
}

// WithResolverKeychain sets the credentials (authn.DefaultKeychain, i.e.
// the docker config file, otherwise).
func WithResolverKeychain(k authn.Keychain) ResolverOption {
	return func(r *RegistryResolver) { r.keychain = k }
}

// WithInsecureRegistries adds registries ("host" or "host:port") reached
// over plain http; localhost, 127.0.0.1 and [::1] always are.
func WithInsecureRegistries(hosts ...string) ResolverOption {
	return func(r *RegistryResolver) {
		for _, h := range hosts {
			r.insecure[h] = true
		}
	}
}

// WithResolverClock sets the clock of the cache (time.Now otherwise).
func WithResolverClock(now func() time.Time) ResolverOption {
	return func(r *RegistryResolver) { r.now = now }
}

// RegistryResolver is a PlatformResolver that asks the image's registry
// (go-containerregistry's remote.Get): an index gives the platforms of its
// manifests, a single image its config's os/architecture. Results are
// cached by reference (found ones for DefaultPlatformsTTL, failures for
// DefaultPlatformsNegativeTTL, at most DefaultPlatformsCacheSize entries,
// least recently used evicted first); once a found answer is older than
// its TTL it is still given while one refresh runs behind it, and kept if
// the refresh fails. Concurrent lookups of one reference share one
// request, and each lookup is bounded by DefaultPlatformsTimeout. It is
// safe for concurrent use.
type RegistryResolver struct {
	ttl, negTTL, timeout time.Duration
	size                 int
	keychain             authn.Keychain
	insecure             map[string]bool
	now                  func() time.Time

	lookups atomic.Int64

	mu       sync.Mutex
	entries  map[string]*list.Element // of *platformsEntry
	lru      *list.List               // front: most recently used
	inflight map[string]*platformsCall
}

var (
	_ PlatformResolver   = (*RegistryResolver)(nil)
	_ PlatformPrefetcher = (*RegistryResolver)(nil)
)

type platformsEntry struct {
	ref       string
	platforms []string
	err       error
	expires   time.Time
}

// platformsCall is one lookup in flight that later callers for the same
// reference wait for (golang.org/x/sync/singleflight does this, but it is
// not among the project's allowed dependencies; this is a few lines).
type platformsCall struct {
	done      chan struct{}
	platforms []string
	err       error
}

// NewRegistryResolver returns a RegistryResolver.
func NewRegistryResolver(opts ...ResolverOption) *RegistryResolver {
	r := &RegistryResolver{
		ttl:      DefaultPlatformsTTL,
		negTTL:   DefaultPlatformsNegativeTTL,
		timeout:  DefaultPlatformsTimeout,
		size:     DefaultPlatformsCacheSize,
		keychain: authn.DefaultKeychain,
		insecure: map[string]bool{},
		now:      time.Now,
		entries:  map[string]*list.Element{},
		lru:      list.New(),
		inflight: map[string]*platformsCall{},
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Lookups returns how many registry lookups were started (misses and
// refreshes).
func (r *RegistryResolver) Lookups() int64 { return r.lookups.Load() }

// ImagePlatforms implements PlatformResolver: the cached answer for ref,
// or one lookup (shared with concurrent callers) bounded by the timeout.
// ctx only bounds the wait: a lookup another caller waits for goes on.
func (r *RegistryResolver) ImagePlatforms(ctx context.Context, ref string) ([]string, error) {
	r.mu.Lock()
	e, c := r.getLocked(ref)
	r.mu.Unlock()
	if e != nil {
		return e.platforms, e.err
	}
	if err := ctx.Err(); err != nil { // the lookup goes on for later callers
		return nil, fmt.Errorf("image %q platforms: %w", ref, err)
	}
	select {
	case <-c.done:
		return c.platforms, c.err
	case <-ctx.Done():
		return nil, fmt.Errorf("image %q platforms: %w", ref, ctx.Err())
	}
}

// Prefetch starts the lookup of ref unless it is cached or in flight, so
// that a later ImagePlatforms finds the answer ready.
func (r *RegistryResolver) Prefetch(ref string) {
	r.mu.Lock()
	r.getLocked(ref)
	r.mu.Unlock()
}

// getLocked returns the cache entry of ref when it may be answered from
// (unexpired, or expired but found: the stale answer is given while a
// refresh runs behind it), or else the lookup in flight for it, started
// now if there is none. r.mu is held.
func (r *RegistryResolver) getLocked(ref string) (*platformsEntry, *platformsCall) {
	if el, ok := r.entries[ref]; ok {
		e := el.Value.(*platformsEntry)
		r.lru.MoveToFront(el)
		if r.now().Before(e.expires) {
			return e, nil
		}
		if e.err == nil {
			r.startLocked(ref)
			return e, nil
		}
	}
	return nil, r.startLocked(ref)
}

// startLocked returns the lookup in flight for ref, starting one if there
// is none. r.mu is held.
func (r *RegistryResolver) startLocked(ref string) *platformsCall {
	if c, ok := r.inflight[ref]; ok {
		return c
	}
	r.lookups.Add(1)
	c := &platformsCall{done: make(chan struct{})}
	r.inflight[ref] = c
	go r.lookup(ref, c)
	return c
}

// lookup asks the registry and caches the answer. A failed refresh of a
// found answer keeps that answer (platforms of a tag seldom change; a
// registry that is down should not make the filter forget them) and tries
// again after the negative TTL.
func (r *RegistryResolver) lookup(ref string, c *platformsCall) {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	platforms, err := r.fetch(ctx, ref)
	cancel()
	r.mu.Lock()
	delete(r.inflight, ref)
	var old *platformsEntry
	if el, ok := r.entries[ref]; ok {
		old = el.Value.(*platformsEntry)
		r.lru.Remove(el)
		delete(r.entries, ref)
	}
	ttl := r.ttl
	if err != nil {
		ttl = r.negTTL
		if old != nil && old.err == nil {
			platforms, err = old.platforms, nil
		}
	}
	c.platforms, c.err = platforms, err
	if ttl > 0 {
		r.entries[ref] = r.lru.PushFront(&platformsEntry{ref: ref, platforms: platforms, err: err, expires: r.now().Add(ttl)})
		for r.lru.Len() > r.size {
			last := r.lru.Back()
			r.lru.Remove(last)
			delete(r.entries, last.Value.(*platformsEntry).ref)
		}
	}
	r.mu.Unlock()
	close(c.done)
}

// fetch asks the registry.
func (r *RegistryResolver) fetch(ctx context.Context, ref string) ([]string, error) {
	nr, err := r.parseRef(ref)
	if err != nil {
		return nil, err
	}
	desc, err := remote.Get(nr, remote.WithContext(ctx), remote.WithAuthFromKeychain(r.keychain))
	if err != nil {
		return nil, fmt.Errorf("image %q: %w", ref, err)
	}
	var out []string
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, fmt.Errorf("image %q: index: %w", ref, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, fmt.Errorf("image %q: index: %w", ref, err)
		}
		for _, m := range im.Manifests {
			// Attestation manifests (buildx) say unknown/unknown.
			if m.Platform != nil && m.Platform.Architecture != "" && m.Platform.Architecture != "unknown" {
				out = append(out, platformString(m.Platform))
			}
		}
	} else {
		img, err := desc.Image()
		if err != nil {
			return nil, fmt.Errorf("image %q: %w", ref, err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("image %q: config: %w", ref, err)
		}
		if cf.Architecture != "" {
			out = append(out, platformString(&v1.Platform{OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant}))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("image %q: %w", ref, ErrNoPlatforms)
	}
	return out, nil
}

func platformString(p *v1.Platform) string {
	s := p.OS
	if s == "" {
		s = "linux"
	}
	s += "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// parseRef parses an image reference, with plain http for loopback and
// the configured insecure registries (as the node's image store does).
func (r *RegistryResolver) parseRef(ref string) (name.Reference, error) {
	nr, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("image reference %q: %w", ref, err)
	}
	host := nr.Context().RegistryStr()
	h := host
	if i := strings.LastIndex(h, ":"); i >= 0 && !strings.HasSuffix(h, "]") {
		h = h[:i]
	}
	if h == "localhost" || h == "127.0.0.1" || h == "[::1]" || r.insecure[host] || r.insecure[h] {
		if nr, err = name.ParseReference(ref, name.Insecure); err != nil {
			return nil, fmt.Errorf("image reference %q: %w", ref, err)
		}
	}
	return nr, nil
}
