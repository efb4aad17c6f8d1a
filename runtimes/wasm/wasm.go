// Package wasm runs WebAssembly modules (WASI preview 1 commands) as
// Wharf containers, in the agent's own process, with wazero.
//
// A module comes from a file:// or http(s):// URL (optionally pinned with
// #sha256=HEX), an OCI artifact whose layer is a Wasm blob, or an OCI image
// whose rootfs holds the .wasm its entrypoint names. Fetched modules are
// kept content-addressed under the runtime's root; compiled code is cached
// on disk (wazero's compilation cache), so a module is compiled once per
// node, and in memory by module digest while a container or function uses
// it and for a bounded while after (see [WithCompiledModuleCache]). Each run gets a fresh instance with
// its own memory limit, its preopened volumes and nothing else of the
// host. The same compiled modules also serve HTTP requests one instance
// per request (see [Runtime.HTTPHandler]).
//
// Of a Spec, the runtime uses Image, PullPolicy, Command and Args (argv,
// with Kubernetes' override rules), Env (after the image's), Mounts (as
// WASI preopened directories), Resources.MemoryLimitBytes (linear memory,
// rounded down to 64 KiB pages), Deadline and Labels. A module has no
// working directory, host name, network, users or capabilities, so
// WorkingDir, Hostname, NetNSPath and Security do not apply; CPUMillis and
// PidsLimit are not enforced (a module runs on one goroutine; Deadline
// bounds its time).
//
// How a run ends, as the agent reports it:
//
//	_start returns or proc_exit(0)        0    Completed
//	proc_exit(n)                          n    Error
//	trap (unreachable, bad access, ...)   134  Error, the trap and its stack in Message
//	memory.grow refused at the limit      137  OOMKilled, the limit in Message
//	Stop                                  137  Error, "stopped"
//	Deadline passed                       137  DeadlineExceeded
//	cannot be instantiated (imports)      128  StartError
//	the agent restarted meanwhile         -1   Unknown
//
// Layout under the root:
//
//	modules/sha256/<hex>         module bytes, verified by digest
//	refs/<hex>.json              image string → module digest and argv/env
//	cache/                       wazero's compilation cache
//	containers/<id>/state.json   one record per container
//	containers/<id>/container.log its stdout and stderr (runtimes/logs)
//	images/                      the OCI image store, unless one is given
package wasm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/image"
	"github.com/wharfhq/wharf/runtimes/logs"
)

// Name is the runtime's name in the wharf.dev/runtimes node label.
const Name = "wasm"

var (
	_ runtimes.Runtime       = (*Runtime)(nil)
	_ runtimes.HTTPFunctions = (*Runtime)(nil)
	_ runtimes.MatchLister   = (*Runtime)(nil)
)

// Runtime runs Wasm modules. It is safe for concurrent use.
type Runtime struct {
	root       string
	images     *image.Store
	httpClient *http.Client
	cache      wazero.CompilationCache
	ownCache   bool
	wz         wazero.Runtime
	reqTimeout time.Duration
	maxReqs    int
	queueWait  time.Duration
	now        func() time.Time
	logRot     logs.Rotation // of container and function logs

	// compiles counts module compilations in this process (for tests and
	// metrics): a module already compiled is not compiled again.
	compiles atomic.Int64

	// sleepReturnsOnStop makes a stopped module's sleep return instead of
	// ending the module, as it did before endOnContext: the floor of
	// BenchmarkWasmStopSleeping, never set otherwise.
	sleepReturnsOnStop bool

	// idleTime and maxIdle bound the compiled modules nobody uses (see
	// WithCompiledModuleCache and modcache.go).
	idleTime time.Duration
	maxIdle  int

	mu         sync.Mutex // guards the maps and compiledModule.refs; taken before container.mu
	containers map[string]*container
	compiled   map[string]*compiledModule // by module digest

	funcLogMu sync.Mutex          // guards funcLogs; taken alone
	funcLogs  map[string]*funcLog // the open function logs, by path
}

// Option configures a Runtime.
type Option func(*Runtime)

// WithImageStore sets the OCI image store used for registry references
// (default: a store of the runtime's own under root/images).
func WithImageStore(s *image.Store) Option { return func(r *Runtime) { r.images = s } }

// WithHTTPClient sets the client used for http(s):// modules (default:
// http.DefaultClient).
func WithHTTPClient(c *http.Client) Option { return func(r *Runtime) { r.httpClient = c } }

// WithCompilationCache shares a wazero compilation cache (for example
// between runtimes in one process, as tests do) instead of the on-disk
// cache under root/cache. The caller closes it.
func WithCompilationCache(c wazero.CompilationCache) Option {
	return func(r *Runtime) { r.cache = c }
}

// WithRequestTimeout bounds each HTTP function request whose spec has no
// Deadline (default 30s).
func WithRequestTimeout(d time.Duration) Option { return func(r *Runtime) { r.reqTimeout = d } }

// DefaultMaxConcurrentRequests is how many instances one HTTP function
// runs at once unless [WithMaxConcurrentRequests] says otherwise.
const DefaultMaxConcurrentRequests = 64

// DefaultQueueWait is how long a request over the cap waits for an
// instance slot before it is answered 503, unless [WithQueueWait] says
// otherwise.
const DefaultQueueWait = time.Second

// WithMaxConcurrentRequests caps the instances one HTTP function runs at
// once (default [DefaultMaxConcurrentRequests]; n < 1 means the default),
// so that a flood of requests cannot exhaust memory: requests over the
// cap wait (see [WithQueueWait]) and are then answered 503 with
// Retry-After.
func WithMaxConcurrentRequests(n int) Option {
	return func(r *Runtime) {
		if n > 0 {
			r.maxReqs = n
		}
	}
}

// WithQueueWait is how long a request over the concurrency cap waits for
// a slot before a 503 (default [DefaultQueueWait]; 0 answers at once).
func WithQueueWait(d time.Duration) Option {
	return func(r *Runtime) {
		if d >= 0 {
			r.queueWait = d
		}
	}
}

// WithLogRotation sets how container and function logs are rotated (see
// logs.Rotation; zero fields, and the default, mean the kubelet's 10Mi
// and 5 files); New refuses settings that logs.Rotation.Validate refuses.
func WithLogRotation(rot logs.Rotation) Option { return func(r *Runtime) { r.logRot = rot } }

// New opens (creating if needed) a Wasm runtime under root. Containers
// recorded there by an earlier process are listed again; those that were
// running are reported as exited with reason Unknown, since their
// instances lived in that process.
func New(root string, opts ...Option) (*Runtime, error) {
	r := &Runtime{
		root:       root,
		httpClient: http.DefaultClient,
		reqTimeout: 30 * time.Second,
		maxReqs:    DefaultMaxConcurrentRequests,
		queueWait:  DefaultQueueWait,
		now:        time.Now,
		idleTime:   DefaultCompiledIdleTime,
		maxIdle:    DefaultMaxIdleCompiled,
		containers: map[string]*container{},
		compiled:   map[string]*compiledModule{},
		funcLogs:   map[string]*funcLog{},
	}
	for _, o := range opts {
		o(r)
	}
	if err := r.logRot.Validate(); err != nil {
		return nil, fmt.Errorf("wasm runtime: %w", err)
	}
	for _, d := range []string{"modules/sha256", "refs", "containers", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			return nil, fmt.Errorf("wasm runtime root %q: %w", root, err)
		}
	}
	if r.images == nil {
		s, err := image.NewStore(filepath.Join(root, "images"))
		if err != nil {
			return nil, fmt.Errorf("wasm runtime: %w", err)
		}
		r.images = s
	}
	ctx := context.Background()
	if r.cache == nil {
		c, err := wazero.NewCompilationCacheWithDir(filepath.Join(root, "cache"))
		if err != nil {
			return nil, fmt.Errorf("wasm runtime: compilation cache: %w", err)
		}
		r.cache, r.ownCache = c, true
	}
	r.wz = wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().
		WithCompilationCache(r.cache).
		WithCloseOnContextDone(true))
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r.wz); err != nil {
		r.Close()
		return nil, fmt.Errorf("wasm runtime: instantiate WASI: %w", err)
	}
	if err := r.loadRecords(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// Name returns "wasm".
func (r *Runtime) Name() string { return Name }

// Close stops every running module (as Stop would) and releases the
// compiled code, in use or not. Containers stay recorded on disk; a
// Function made by HTTPHandler no longer serves.
func (r *Runtime) Close() error {
	r.mu.Lock()
	cs := slices.Collect(maps.Values(r.containers))
	r.mu.Unlock()
	var running []*container
	for _, c := range cs {
		if c.stop() {
			running = append(running, c)
		}
	}
	for _, c := range running {
		<-c.done
	}
	// Close the compiled modules: with a compilation cache configured
	// (always, here) closing the wazero runtime leaves them to the cache,
	// which may be shared.
	r.mu.Lock()
	cms := slices.Collect(maps.Values(r.compiled))
	clear(r.compiled)
	r.mu.Unlock()
	closeModules(cms)
	ctx := context.Background()
	err := r.wz.Close(ctx)
	if r.ownCache {
		err = errors.Join(err, r.cache.Close(ctx))
	}
	return err
}

// Compiles reports how many modules this runtime has compiled (a module
// found in the in-memory cache is not counted again; one compiled again
// after it was released from memory is, even though wazero then loads its
// code from the on-disk cache).
func (r *Runtime) Compiles() int64 { return r.compiles.Load() }

// checkMagic rejects bytes that are not a WebAssembly binary module of
// version 1, before wazero sees them, with a message a user understands.
// It looks at the first bytes only, so the start of a file is enough;
// when they are not Wasm, the error says what they are (describeContent).
func checkMagic(b []byte) error {
	if len(b) < 8 || string(b[:4]) != "\x00asm" {
		return fmt.Errorf("%w: not a WebAssembly module (no \\0asm magic): it is %s", runtimes.ErrInvalidImage, describeContent(b))
	}
	if string(b[4:8]) != "\x01\x00\x00\x00" {
		return fmt.Errorf("%w: WebAssembly binary version %x is not 1 (a component, or a newer format?)", runtimes.ErrInvalidImage, b[4:8])
	}
	return nil
}
