// Package server is Wharf's API server: Kubernetes-compatible REST over
// echo, in front of a storage.Store.
//
// It serves every resource registered in api/types at the Kubernetes paths
// (/api/v1/..., /apis/{group}/{version}/...) with the Kubernetes verbs (get,
// list, watch, create, update, patch, delete, deletecollection), the status,
// scale and binding subresources, discovery, a minimal OpenAPI v3 document
// (enough for kubectl to use server-side field validation), server-side
// printing as meta.k8s.io/v1 Tables, and Prometheus metrics. Bodies are
// JSON or YAML, decoded strictly (fieldValidation Warn and Ignore drop
// unknown fields, as Kubernetes), or protobuf for the kinds `kubectl create
// <kind>` sends that way (protobuf.go); answers are JSON, YAML or Tables.
// Every error is a Status object. Keys in the store are
// /registry/{group|core}/{resource}/{namespace}/{name}; an object's
// resourceVersion is the store revision of its last write and is never
// stored in the value.
//
// Deletion follows Kubernetes: an object with finalizers only gets a
// deletionTimestamp and goes when its last finalizer is removed;
// propagationPolicy Foreground and Orphan add the finalizers
// "foregroundDeletion" and "orphan", which the garbage collector (jobs/)
// processes; a Pod bound to a node and not finished is deleted gracefully
// (deletionTimestamp plus grace period) and removed when its agent deletes
// it again with gracePeriodSeconds=0; a Namespace goes Terminating, is
// emptied by a level-triggered loop of the server (RunBackground), then
// removed. Services get their cluster IP and node ports from the server
// (services.go), as in Kubernetes.
package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/storage"
)

// DefaultMaxBodyBytes caps request bodies when Config.MaxBodyBytes is 0
// (Kubernetes' limit for one object is 3 MiB too).
const DefaultMaxBodyBytes = 3 << 20

// Config configures a Server.
type Config struct {
	// Store keeps the objects. Required.
	Store storage.Store
	// Logger receives request errors and background loop messages;
	// slog.Default() when nil.
	Logger *slog.Logger
	// MaxBodyBytes caps request bodies (413 beyond); DefaultMaxBodyBytes
	// when 0.
	MaxBodyBytes int64
	// Now returns the current time (creationTimestamp, deletionTimestamp,
	// table ages); time.Now when nil.
	Now func() time.Time
	// NewUID returns a new metadata.uid; a random RFC 4122 UUID when nil.
	NewUID func() string
	// Profiling serves Go's profiles under /debug/pprof/ (as
	// kube-apiserver's --profiling): CPU, heap, goroutines, traces.
	Profiling bool
	// NameSuffix returns the suffix appended to metadata.generateName; 5
	// random characters of Kubernetes' alphabet when nil.
	NameSuffix func() string
	// Version is Wharf's version, reported by /version.
	Version string
	// NodeProxy serves the Pod subresources answered by the node that runs
	// the Pod (log, exec, attach, portforward). When nil those answer 503
	// Service Unavailable saying that no node proxy is configured.
	NodeProxy NodeProxy
	// BookmarkInterval is how often a watch that asked for bookmarks
	// (allowWatchBookmarks=true) gets one; 1 minute when 0.
	BookmarkInterval time.Duration
	// WatchTimeout ends watches that did not set timeoutSeconds; 30 minutes
	// when 0 (clients re-watch from their last resourceVersion).
	WatchTimeout time.Duration
	// NamespaceResync is how often the namespace deletion loop rechecks
	// Terminating namespaces while any exists; 2 seconds when 0.
	NamespaceResync time.Duration
	// ServiceCIDR is the range Service cluster IPs are allocated from;
	// DefaultServiceCIDR when unset.
	ServiceCIDR netip.Prefix
	// IdleTimeout closes a kept-alive connection that sends no new
	// request for that long (Serve only); 90 seconds when 0, as
	// kube-apiserver, so that idle connections, authenticated or not, do
	// not pile up.
	IdleTimeout time.Duration
	// Authenticator, when set, authenticates every request by its bearer
	// token (authn.go): a request without an accepted token gets 401
	// Unauthorized, except on /healthz, /livez, /readyz and /version.
	// Every authenticated user may do everything (AlwaysAllow). When nil,
	// every request is allowed, as before.
	Authenticator TokenAuthenticator
}

// NodeProxy serves a Pod subresource answered by the node running the Pod.
// The server has checked that the Pod exists and is bound to a node
// (spec.nodeName set) before calling it; the handler may hijack the
// connection (exec and attach upgrade it).
type NodeProxy interface {
	ServePod(w http.ResponseWriter, r *http.Request, pod *types.Pod, subresource string)
}

// NodeProxyFunc adapts a function to NodeProxy.
type NodeProxyFunc func(w http.ResponseWriter, r *http.Request, pod *types.Pod, subresource string)

// ServePod calls f.
func (f NodeProxyFunc) ServePod(w http.ResponseWriter, r *http.Request, pod *types.Pod, subresource string) {
	f(w, r, pod, subresource)
}

// Server is the API server. Build it with New.
type Server struct {
	cfg     Config
	store   storage.Store
	log     *slog.Logger
	echo    *echo.Echo
	metrics *metrics
	// events shares decoded store events between watches.
	events *eventCache
	// svcMu serialises Service address allocation and the write that
	// follows it (services.go).
	svcMu sync.Mutex

	// stopping is closed when Serve shuts down, ending every watch.
	stopping chan struct{}
	stopOnce sync.Once
	// nsKick wakes the namespace deletion loop.
	nsKick chan struct{}
	// terminating counts the namespaces being deleted (set by the loop).
	terminating atomic.Int32
}

// New checks cfg, fills its defaults, ensures the default objects exist
// (namespaces "default", "wharf-system" and "kube-node-lease", RuntimeClass "wasm") and
// returns the server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("server: Config.Store is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewUID == nil {
		cfg.NewUID = newUUID
	}
	if cfg.NameSuffix == nil {
		cfg.NameSuffix = nameSuffix
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.BookmarkInterval <= 0 {
		cfg.BookmarkInterval = time.Minute
	}
	if cfg.WatchTimeout <= 0 {
		cfg.WatchTimeout = 30 * time.Minute
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 90 * time.Second
	}
	if cfg.NamespaceResync <= 0 {
		cfg.NamespaceResync = 2 * time.Second
	}
	if !cfg.ServiceCIDR.IsValid() {
		cfg.ServiceCIDR = DefaultServiceCIDR
	}
	s := &Server{
		cfg:      cfg,
		store:    cfg.Store,
		log:      cfg.Logger,
		stopping: make(chan struct{}),
		nsKick:   make(chan struct{}, 1),
		events:   newEventCache(),
	}
	s.metrics = newMetrics(s.store)
	s.echo = s.routes()
	if cfg.Authenticator != nil {
		s.echo.Use(s.authenticate) // inside recover and metrics: 401s are counted
	}
	s.echo.POST("/apis/authentication.k8s.io/v1/selfsubjectreviews", s.serveSelfSubjectReview) // authn.go
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.bootstrap(ctx); err != nil {
		return nil, fmt.Errorf("server: create default objects: %w", err)
	}
	return s, nil
}

// Handler returns the HTTP handler serving the whole API. A caller that
// serves it itself (tests, an embedding process) should also run
// RunBackground.
func (s *Server) Handler() http.Handler { return s.echo }

// Serve serves the API on l, and runs the background loops, until ctx
// ends; it then closes open watches and shuts down gracefully, waiting up
// to 10 seconds for other requests to finish.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	hs := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	bgCtx, bgCancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.RunBackground(bgCtx)
	}()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		s.stopWatches()
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = hs.Shutdown(sctx)
		cancel()
		if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
			err = serr
		}
	}
	bgCancel()
	wg.Wait()
	s.stopWatches()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// stopWatches ends every open watch (they return at their next select).
func (s *Server) stopWatches() {
	s.stopOnce.Do(func() { close(s.stopping) })
}

// RunBackground runs the server's own loops (namespace deletion) until ctx
// ends. Serve runs it; callers of Handler run it themselves.
func (s *Server) RunBackground(ctx context.Context) {
	s.namespaceLoop(ctx)
}

func (s *Server) now() time.Time { return s.cfg.Now() }

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+).
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
