package wasm

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/wharfhq/wharf/runtimes"
)

// The in-memory cache of compiled modules.
//
// A compiled module is shared by everything that runs it and counted by
// reference: a container holds one from Create (or, for a container
// recorded by an earlier process, from Start) until Remove, a [Function]
// from HTTPHandler until Close. A module nobody references is idle: it
// stays compiled for a while, so that a module used again soon (a Pod
// deleted and created again, a Job's next Pod, a rollback) is not
// compiled again, and is then closed, which gives its machine code back
// (several MiB for a Go wasip1 module). Compiling it again later is cheap:
// wazero loads the code from the on-disk compilation cache (root/cache)
// instead of compiling it.
//
// Only the compiled code is released: the module's bytes under
// modules/sha256 are the content store images resolve to, and stay until
// the image itself is removed (the agent's image garbage collection, not
// this cache, decides that).
//
// Idle modules are looked at, and the expired ones closed, whenever a
// module is compiled or released and when containers are listed (which the
// agent does on each sync), by the runtime's clock: there is no goroutine
// of the cache's own.

// DefaultCompiledIdleTime is how long an unreferenced compiled module stays
// in memory unless [WithCompiledModuleCache] says otherwise. Five minutes
// covers a Pod deleted and created again by its controller, a Job's next
// attempt and a quick rollback, while a node whose workloads moved on gives
// the memory back within minutes. (A crash-looping container needs no idle
// time: the agent keeps its previous instance, which holds the module,
// until the next one exists.)
const DefaultCompiledIdleTime = 5 * time.Minute

// DefaultMaxIdleCompiled is how many unreferenced compiled modules stay in
// memory at most unless [WithCompiledModuleCache] says otherwise; beyond it
// the longest idle are closed first. A compiled Go wasip1 module holds
// about 16 MiB of the process's resident memory (5 MiB of it Go heap; see
// BenchmarkWasmCompiledCache in docs/benchmarks/wasm.md), so 8 bound the
// idle cache to about 128 MiB after a burst such as a rollout of many
// Deployments at once, while the modules of a node's few latest rollouts
// stay ready for a rollback. Loading one again from the on-disk cache
// takes about a tenth of a second, some 20 times less than compiling it.
const DefaultMaxIdleCompiled = 8

// WithCompiledModuleCache bounds the compiled modules kept in memory that
// no container or function uses: each is closed once it has been idle for
// idle, and beyond maxIdle of them the longest idle are closed first
// (defaults [DefaultCompiledIdleTime] and [DefaultMaxIdleCompiled]). A
// negative idle keeps idle modules without a time bound, a negative
// maxIdle without a count bound (both negative: kept until Close, as the
// runtime did before); 0 closes a module as soon as its last user lets it
// go.
func WithCompiledModuleCache(idle time.Duration, maxIdle int) Option {
	return func(r *Runtime) { r.idleTime, r.maxIdle = idle, maxIdle }
}

// compiledModule is one module's compiled code and the references to it.
type compiledModule struct {
	digest string
	once   sync.Once
	code   wazero.CompiledModule // set by once; nil if err
	err    error

	// Guarded by Runtime.mu.
	refs      int
	idleSince time.Time // when refs last fell to 0
}

// CachedModules reports how many compiled modules this runtime holds in
// memory: inUse are referenced by a container or a function, idle by
// nothing (they are closed after the bounds of [WithCompiledModuleCache]).
func (r *Runtime) CachedModules() (inUse, idle int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, cm := range r.compiled {
		if cm.refs > 0 {
			inUse++
		} else {
			idle++
		}
	}
	return inUse, idle
}

// compile returns the compiled module of digest with a reference taken,
// compiling it unless it is in memory already; the caller gives the
// reference back with release. Bytes wazero rejects are
// runtimes.ErrInvalidImage with wazero's message. On an error no
// reference is held.
func (r *Runtime) compile(ctx context.Context, digest string) (*compiledModule, error) {
	r.mu.Lock()
	cm, ok := r.compiled[digest]
	if !ok {
		cm = &compiledModule{digest: digest}
		r.compiled[digest] = cm
	}
	cm.refs++
	r.mu.Unlock()
	cm.once.Do(func() {
		b, err := r.readModule(digest)
		if err != nil {
			cm.err = err
			return
		}
		if err := checkMagic(b); err != nil {
			cm.err = fmt.Errorf("module %s: %w", digest, err)
			return
		}
		r.compiles.Add(1)
		code, err := r.wz.CompileModule(ctx, b)
		if err != nil {
			cm.err = fmt.Errorf("module %s does not compile: %w: %w", digest, runtimes.ErrInvalidImage, err)
			return
		}
		cm.code = code
	})
	if cm.err != nil {
		// Do not keep a failure: the bytes may be fetched again, or the
		// context may have been what failed.
		r.mu.Lock()
		cm.refs--
		if r.compiled[digest] == cm {
			delete(r.compiled, digest)
		}
		r.mu.Unlock()
		return nil, cm.err
	}
	r.sweep()
	return cm, nil
}

// release gives back a reference compile returned; nil is allowed. The
// module becomes idle when it was the last one.
func (r *Runtime) release(cm *compiledModule) {
	if cm == nil {
		return
	}
	r.mu.Lock()
	cm.refs--
	if cm.refs == 0 {
		cm.idleSince = r.now()
	}
	r.mu.Unlock()
	r.sweep()
}

// sweep closes the idle modules past the cache's bounds.
func (r *Runtime) sweep() {
	r.mu.Lock()
	evicted := r.evictLocked(r.now())
	r.mu.Unlock()
	closeModules(evicted)
}

// evictLocked drops from r.compiled the idle modules past the bounds at
// now and returns them, for the caller to close once r.mu is released.
// Called with r.mu held.
func (r *Runtime) evictLocked(now time.Time) []*compiledModule {
	var idle []*compiledModule
	for _, cm := range r.compiled {
		if cm.refs == 0 {
			idle = append(idle, cm)
		}
	}
	if len(idle) == 0 {
		return nil
	}
	// Longest idle first; the digest breaks ties so that the order does
	// not depend on the map's.
	slices.SortFunc(idle, func(a, b *compiledModule) int {
		return cmp.Or(a.idleSince.Compare(b.idleSince), cmp.Compare(a.digest, b.digest))
	})
	var out []*compiledModule
	for i, cm := range idle {
		overCount := r.maxIdle >= 0 && len(idle)-i > r.maxIdle
		expired := r.idleTime >= 0 && now.Sub(cm.idleSince) >= r.idleTime
		if !overCount && !expired {
			// The rest have been idle for less time and are within the count.
			break
		}
		delete(r.compiled, cm.digest)
		out = append(out, cm)
	}
	return out
}

// closeModules closes compiled modules dropped from the cache. wazero
// lets instances made from a module run on after it is closed.
func closeModules(cms []*compiledModule) {
	for _, cm := range cms {
		if cm.code != nil {
			// wazero's Close of a compiled module returns no error.
			_ = cm.code.Close(context.Background())
		}
	}
}
