package wasm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/logs"
)

// Exit codes reported for ends the module did not choose, as Kubernetes
// users know them from containers.
const (
	// ExitCodeKilled: stopped by the agent, over its memory limit, or past
	// its deadline (128 + SIGKILL).
	ExitCodeKilled = 137
	// ExitCodeTrap: the module trapped (128 + SIGABRT, as wasmtime reports
	// a trap).
	ExitCodeTrap = 134
)

// container is one module run. Lock order: Runtime.mu before container.mu.
type container struct {
	id   string
	dir  string
	spec runtimes.Spec
	ref  moduleRef

	mu        sync.Mutex // guards the fields below
	state     runtimes.State
	createdAt time.Time
	startedAt time.Time
	exit      *runtimes.ExitStatus
	cancel    context.CancelFunc
	// tid is the OS thread the module runs on while it runs (0 when not
	// known), cpuBase that thread's CPU time when the module started on
	// it, and cpuUsed the module's CPU time once it has ended.
	tid      int
	cpuBase  uint64
	cpuUsed  uint64
	cpuExact bool // cpuUsed (and a running module's CPU) come from the thread's accounting
	stopped  bool
	mem      *memoryLimit
	// mod is the compiled module, referenced from Create (or, for a
	// container recorded by an earlier process, from Start) until Remove.
	mod  *compiledModule
	done chan struct{} // closed when the container has exited
}

func (c *container) logPath() string { return filepath.Join(c.dir, "container.log") }

// info returns the container's Info. Called with c.mu held.
func (c *container) info() runtimes.Info {
	in := runtimes.Info{
		ID: c.id, Image: c.spec.Image, State: c.state, Labels: maps.Clone(c.spec.Labels),
		CreatedAt: c.createdAt, StartedAt: c.startedAt,
	}
	if c.exit != nil {
		e := *c.exit
		in.Exit = &e
	}
	return in
}

// stop cancels a running module and reports whether it was running. A
// module asleep ends in its sleep (see moduleConfig); one that computes
// is closed by wazero at its next function call or loop.
func (c *container) stop() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != runtimes.StateRunning {
		return false
	}
	c.stopped = true
	c.cancel()
	return true
}

func (r *Runtime) get(id string) (*container, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[id]
	if !ok {
		return nil, fmt.Errorf("wasm container %q: %w", id, runtimes.ErrNotFound)
	}
	return c, nil
}

// Create resolves (fetching if needed) and compiles spec's module and
// records a container that Start will run.
func (r *Runtime) Create(ctx context.Context, id string, spec *runtimes.Spec) error {
	if id == "" || strings.ContainsAny(id, "/\\") || id == "." || id == ".." {
		return fmt.Errorf("wasm container id %q: must be a non-empty name without slashes", id)
	}
	r.mu.Lock()
	_, exists := r.containers[id]
	r.mu.Unlock()
	if exists {
		return fmt.Errorf("wasm container %q: %w", id, runtimes.ErrExists)
	}
	ref, err := r.resolve(ctx, spec, nil, false)
	if err != nil {
		return fmt.Errorf("wasm container %q: %w", id, err)
	}
	mod, err := r.prepare(ctx, spec, ref)
	if err != nil {
		return fmt.Errorf("wasm container %q: %w", id, err)
	}
	c := &container{
		id: id, dir: filepath.Join(r.root, "containers", id), spec: cloneSpec(spec), ref: *ref, mod: mod,
		state: runtimes.StateCreated, createdAt: r.now().UTC(), done: make(chan struct{}),
	}
	r.mu.Lock()
	if _, exists := r.containers[id]; exists {
		r.mu.Unlock()
		r.release(mod)
		return fmt.Errorf("wasm container %q: %w", id, runtimes.ErrExists)
	}
	r.containers[id] = c
	r.mu.Unlock()
	err = os.Mkdir(c.dir, 0o700)
	if err == nil {
		// The log exists from now on, empty and not done: a follower
		// waits for Start.
		err = os.WriteFile(c.logPath(), nil, 0o640)
	}
	if err == nil {
		c.mu.Lock()
		err = r.persist(c)
		c.mu.Unlock()
	}
	if err != nil {
		r.mu.Lock()
		delete(r.containers, id)
		r.mu.Unlock()
		r.release(mod)
		os.RemoveAll(c.dir)
		return fmt.Errorf("wasm container %q: %w", id, err)
	}
	return nil
}

// prepare compiles the module spec runs (for a rootfs image, the file
// argv[0] names) and checks that its declared memory fits the limit. The
// caller holds a reference to the module it returns (see release).
func (r *Runtime) prepare(ctx context.Context, spec *runtimes.Spec, ref *moduleRef) (*compiledModule, error) {
	digest := ref.Digest
	if ref.Kind == kindRootfs {
		argv := argvFor(spec, ref)
		if len(argv) == 0 {
			return nil, fmt.Errorf("%w: no entrypoint", runtimes.ErrInvalidImage)
		}
		if cleanPath(argv[0]) != cleanPath(ref.Path) {
			img, err := r.images.Get(ref.Image)
			if err != nil {
				return nil, err
			}
			if digest, err = r.moduleInRootfs(img, argv[0]); err != nil {
				return nil, err
			}
		}
	}
	mod, err := r.compile(ctx, digest)
	if err != nil {
		return nil, err
	}
	if err := checkRunnable(mod.code, spec); err != nil {
		r.release(mod)
		return nil, err
	}
	return mod, nil
}

// checkRunnable checks that mod is a WASI command whose declared memory
// fits spec's limit.
func checkRunnable(mod wazero.CompiledModule, spec *runtimes.Spec) error {
	if _, ok := mod.ExportedFunctions()["_start"]; !ok {
		return fmt.Errorf("%w: the module exports no _start function (not a WASI command module)", runtimes.ErrInvalidImage)
	}
	if limit := newMemoryLimit(spec.Resources.MemoryLimitBytes).limit; limit > 0 {
		for _, m := range allMemories(mod) {
			if need := uint64(m.Min()) * pageSize; need > limit {
				return fmt.Errorf("%w: the module declares %d bytes (%d pages) of memory at start, over the memory limit of %d bytes",
					runtimes.ErrInvalidImage, need, m.Min(), limit)
			}
		}
	}
	return nil
}

func allMemories(mod wazero.CompiledModule) []interface{ Min() uint32 } {
	var out []interface{ Min() uint32 }
	for _, m := range mod.ExportedMemories() {
		out = append(out, m)
	}
	for _, m := range mod.ImportedMemories() {
		out = append(out, m)
	}
	return out
}

func cloneSpec(s *runtimes.Spec) runtimes.Spec {
	c := *s
	c.Command = slices.Clone(s.Command)
	c.Args = slices.Clone(s.Args)
	c.Env = slices.Clone(s.Env)
	c.Mounts = slices.Clone(s.Mounts)
	c.Labels = maps.Clone(s.Labels)
	return c
}

// argvFor is the module's argv, with Kubernetes' semantics: Command
// replaces the image's entrypoint, Args its cmd. A module with neither
// gets its file name as argv[0].
func argvFor(spec *runtimes.Spec, ref *moduleRef) []string {
	entry, cmd := ref.Entrypoint, ref.Cmd
	if len(spec.Command) > 0 {
		entry, cmd = spec.Command, nil
	}
	if len(spec.Args) > 0 {
		cmd = spec.Args
	}
	if len(entry) == 0 {
		entry = []string{ref.Argv0}
	}
	return append(slices.Clone(entry), cmd...)
}

// envFor is the image's environment overridden by the spec's, then by
// extra, in order, without duplicate names.
func envFor(spec *runtimes.Spec, ref *moduleRef, extra []runtimes.EnvVar) [][2]string {
	var out [][2]string
	idx := map[string]int{}
	set := func(k, v string) {
		if i, ok := idx[k]; ok {
			out[i][1] = v
			return
		}
		idx[k] = len(out)
		out = append(out, [2]string{k, v})
	}
	for _, kv := range ref.Env {
		k, v, _ := strings.Cut(kv, "=")
		set(k, v)
	}
	for _, e := range spec.Env {
		set(e.Name, e.Value)
	}
	for _, e := range extra {
		set(e.Name, e.Value)
	}
	return out
}

// moduleConfig is the configuration of one instance: argv, env, the
// preopened mounts, WASI clocks and randomness, and a sleep that ends
// early when ctx does (so that a sleeping module can be stopped).
func moduleConfig(ctx context.Context, spec *runtimes.Spec, ref *moduleRef, extraEnv []runtimes.EnvVar, stdin io.Reader, stdout, stderr io.Writer) wazero.ModuleConfig {
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithArgs(argvFor(spec, ref)...).
		WithStdin(stdin).WithStdout(stdout).WithStderr(stderr).
		WithSysWalltime().WithSysNanotime().
		WithNanosleep(func(ns int64) {
			if ctx.Err() == nil {
				t := time.NewTimer(time.Duration(ns))
				defer t.Stop()
				select {
				case <-t.C:
					return
				case <-ctx.Done():
				}
			}
			endOnContext(ctx)
		}).
		WithRandSource(rand.Reader)
	for _, kv := range envFor(spec, ref, extraEnv) {
		cfg = cfg.WithEnv(kv[0], kv[1])
	}
	if len(spec.Mounts) > 0 {
		fsc := wazero.NewFSConfig()
		for _, m := range spec.Mounts {
			if m.ReadOnly {
				fsc = fsc.WithReadOnlyDirMount(m.HostPath, m.ContainerPath)
			} else {
				fsc = fsc.WithDirMount(m.HostPath, m.ContainerPath)
			}
		}
		cfg = cfg.WithFSConfig(fsc)
	}
	return cfg
}

// endOnContext ends the module in a host function once ctx is done, as
// WASI's proc_exit does (a panic with a *sys.ExitError, which wazero
// returns from the call), with the code wazero uses for a cancelled or
// timed-out context. Returning from the sleep instead would let a guest
// that sleeps in a loop (Go's scheduler) spin through poll_oneoff until
// wazero's watcher goroutine closed it: with hundreds of Pods stopping at
// once that was a third of wharf up's CPU (BenchmarkWasmStopSleeping).
// The module is not closed from another goroutine: wazero's Close frees
// what a running host function may still read.
func endOnContext(ctx context.Context) {
	code := sys.ExitCodeContextCanceled
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		code = sys.ExitCodeDeadlineExceeded
	}
	panic(sys.NewExitError(code))
}

// Start runs a created container's module in the background.
func (r *Runtime) Start(ctx context.Context, id string) error {
	c, err := r.get(id)
	if err != nil {
		return err
	}
	if err := r.recompile(ctx, c); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != runtimes.StateCreated {
		return fmt.Errorf("wasm container %q is %s: %w", id, c.state, runtimes.ErrInvalidState)
	}
	if c.stopped {
		return fmt.Errorf("wasm container %q was stopped before it started: %w", id, runtimes.ErrInvalidState)
	}
	if c.mod == nil {
		// Not reached: recompile gave it one, and only Remove, which
		// also ends the created state, takes it away.
		return fmt.Errorf("wasm container %q has no compiled module: %w", id, runtimes.ErrInvalidState)
	}
	w, err := logs.NewWriter(c.logPath(), logs.WithRotation(r.logRot))
	if err != nil {
		return fmt.Errorf("wasm container %q: %w", id, err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	if c.spec.Deadline > 0 {
		runCtx, cancel = context.WithTimeout(context.Background(), c.spec.Deadline)
	}
	c.state, c.startedAt, c.cancel = runtimes.StateRunning, r.now().UTC(), cancel
	c.mem = newMemoryLimit(c.spec.Resources.MemoryLimitBytes)
	// Instantiate here, without running _start, so that Start reports a
	// module that cannot be linked (an import the host lacks) and Stats
	// sees the memory as soon as Start returns.
	cfg := moduleConfig(runCtx, &c.spec, &c.ref, nil, eofReader{}, w.Stdout(), w.Stderr()).WithStartFunctions()
	if r.sleepReturnsOnStop {
		cfg = cfg.WithNanosleep(func(ns int64) {
			t := time.NewTimer(time.Duration(ns))
			defer t.Stop()
			select {
			case <-t.C:
			case <-runCtx.Done():
			}
		})
	}
	inst, err := r.wz.InstantiateModule(experimental.WithMemoryAllocator(runCtx, c.mem), c.mod.code, cfg)
	if err != nil {
		cancel()
		fmt.Fprintf(w.Stderr(), "%s\n", err)
		w.Close()
		c.state = runtimes.StateExited
		c.exit = &runtimes.ExitStatus{ExitCode: 128, Reason: runtimes.ReasonStartError, Message: err.Error(),
			StartedAt: c.startedAt, FinishedAt: r.now().UTC()}
		close(c.done)
		return errors.Join(fmt.Errorf("start wasm container %q: %w", id, err), r.persist(c))
	}
	if err := r.persist(c); err != nil {
		cancel()
		inst.Close(context.Background())
		w.Close()
		c.state = runtimes.StateCreated
		return fmt.Errorf("wasm container %q: %w", id, err)
	}
	// CPU is counted from the thread run locks; until it has, none is
	// used (run turns this off on a kernel without thread accounting).
	c.cpuExact, c.tid, c.cpuUsed = true, 0, 0
	go r.run(runCtx, c, inst, w)
	return nil
}

// recompile gives a created container recorded by an earlier process its
// compiled module. It compiles without holding c.mu: compiling takes r.mu,
// which is taken before container.mu (Remove holds r.mu while it waits for
// c.mu), and may take seconds, which Inspect, Stats and List should not
// wait for. A module no longer wanted once compiled (the container was
// removed, or another Start gave it one, meanwhile) is released.
func (r *Runtime) recompile(ctx context.Context, c *container) error {
	c.mu.Lock()
	need := c.mod == nil && c.state == runtimes.StateCreated && !c.stopped
	c.mu.Unlock()
	if !need {
		return nil
	}
	// c.spec and c.ref are set at Create and never changed.
	mod, err := r.prepare(ctx, &c.spec, &c.ref)
	if err != nil {
		return fmt.Errorf("wasm container %q: %w", c.id, err)
	}
	c.mu.Lock()
	keep := c.mod == nil && c.state == runtimes.StateCreated
	if keep {
		c.mod = mod
	}
	c.mu.Unlock()
	if !keep {
		r.release(mod)
	}
	return nil
}

// run calls the instance's _start and records how it ended. It runs on an
// OS thread of its own, whose CPU time is the module's (threadcpu.go).
func (r *Runtime) run(ctx context.Context, c *container, inst api.Module, w *logs.Writer) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread() // after c.tid is cleared under c.mu
	tid := syscall.Gettid()
	base, cpuErr := threadCPU(tid)
	c.mu.Lock()
	if cpuErr == nil {
		c.tid, c.cpuBase = tid, base
	} else {
		c.cpuExact = false
	}
	c.mu.Unlock()

	_, err := inst.ExportedFunction("_start").Call(ctx)
	inst.Close(context.Background())
	deadlineHit := errors.Is(ctx.Err(), context.DeadlineExceeded)
	c.cancel()
	finished := r.now().UTC()

	c.mu.Lock()
	if c.tid != 0 {
		if now, err := threadCPU(tid); err == nil && now >= c.cpuBase {
			c.cpuUsed = now - c.cpuBase
		} else {
			c.cpuExact = false
		}
		c.tid = 0
	}
	st := classify(err, c.mem, c.stopped, deadlineHit, c.spec.Deadline)
	st.StartedAt, st.FinishedAt = c.startedAt, finished
	if st.Message != "" {
		// The reason is also worth seeing in the log.
		fmt.Fprintf(w.Stderr(), "\n%s\n", firstLine(st.Message))
	}
	w.Close()
	c.state, c.exit = runtimes.StateExited, &st
	perr := r.persist(c)
	close(c.done)
	c.mu.Unlock()
	_ = perr // the in-memory state is right; the record is refreshed on the next change
}

// classify turns how an instance ended into an exit status.
func classify(err error, mem *memoryLimit, stopped, deadlineHit bool, deadline time.Duration) runtimes.ExitStatus {
	var exitErr *sys.ExitError
	code := -1
	if errors.As(err, &exitErr) {
		switch exitErr.ExitCode() {
		case sys.ExitCodeContextCanceled, sys.ExitCodeDeadlineExceeded:
		default:
			code = int(exitErr.ExitCode())
		}
	}
	switch {
	case err == nil || code == 0:
		return runtimes.ExitStatus{ExitCode: 0, Reason: runtimes.ReasonCompleted}
	case stopped && code < 0:
		return runtimes.ExitStatus{ExitCode: ExitCodeKilled, Reason: runtimes.ReasonError, Message: "stopped"}
	case deadlineHit && code < 0:
		return runtimes.ExitStatus{ExitCode: ExitCodeKilled, Reason: runtimes.ReasonDeadlineExceeded,
			Message: fmt.Sprintf("deadline of %s exceeded", deadline)}
	case mem != nil && mem.refused.Load():
		msg := fmt.Sprintf("memory limit of %d bytes (%d pages) exceeded: growing linear memory to %d bytes was refused",
			mem.limit, mem.limit/pageSize, mem.wanted.Load())
		if code > 0 {
			msg += fmt.Sprintf("; the module then exited with code %d", code)
		} else if err != nil {
			msg += "; the module then failed: " + err.Error()
		}
		return runtimes.ExitStatus{ExitCode: ExitCodeKilled, Reason: runtimes.ReasonOOMKilled, Message: msg}
	case code > 0:
		return runtimes.ExitStatus{ExitCode: code, Reason: runtimes.ReasonError}
	default:
		return runtimes.ExitStatus{ExitCode: ExitCodeTrap, Reason: runtimes.ReasonError, Message: err.Error()}
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// eofReader is the empty stdin of a command module.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// Wait blocks until the container has exited, or ctx ends.
func (r *Runtime) Wait(ctx context.Context, id string) (runtimes.ExitStatus, error) {
	c, err := r.get(id)
	if err != nil {
		return runtimes.ExitStatus{}, err
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		return runtimes.ExitStatus{}, fmt.Errorf("wait for wasm container %q: %w", id, ctx.Err())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.exit == nil {
		return runtimes.ExitStatus{}, fmt.Errorf("wait for wasm container %q: removed before it ran: %w", id, runtimes.ErrNotFound)
	}
	return *c.exit, nil
}

// Stop ends the container. A Wasm module has no SIGTERM to handle, so it
// is cancelled at once whatever the grace: it exits with code 137, reason
// Error, message "stopped". A created container that never ran is marked
// exited the same way. Stop returns once the container has exited.
func (r *Runtime) Stop(ctx context.Context, id string, grace time.Duration) error {
	c, err := r.get(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.state == runtimes.StateCreated {
		now := r.now().UTC()
		c.stopped = true
		c.state = runtimes.StateExited
		c.exit = &runtimes.ExitStatus{ExitCode: ExitCodeKilled, Reason: runtimes.ReasonError,
			Message: "stopped before it started", FinishedAt: now}
		close(c.done)
		err := errors.Join(logs.MarkDone(c.logPath()), r.persist(c))
		c.mu.Unlock()
		return err
	}
	c.mu.Unlock()
	c.stop()
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop wasm container %q: %w", id, ctx.Err())
	}
}

// Remove deletes an exited or created container, its record and its log,
// and releases its compiled module (see [WithCompiledModuleCache]).
func (r *Runtime) Remove(ctx context.Context, id string) error {
	c, err := r.get(id)
	if err != nil {
		return err
	}
	r.mu.Lock()
	c.mu.Lock()
	if c.state == runtimes.StateRunning {
		c.mu.Unlock()
		r.mu.Unlock()
		return fmt.Errorf("remove wasm container %q: it is running: %w", id, runtimes.ErrInvalidState)
	}
	if c.state == runtimes.StateCreated {
		// Release anyone waiting for a run that will not happen.
		c.state = runtimes.StateExited
		close(c.done)
	}
	delete(r.containers, id)
	mod := c.mod
	c.mod = nil
	c.mu.Unlock()
	r.mu.Unlock()
	r.release(mod)
	if err := os.RemoveAll(c.dir); err != nil {
		return fmt.Errorf("remove wasm container %q: %w", id, err)
	}
	return nil
}

// Logs streams the container's log (see runtimes/logs).
func (r *Runtime) Logs(ctx context.Context, id string, opts runtimes.LogOptions) (io.ReadCloser, error) {
	c, err := r.get(id)
	if err != nil {
		return nil, err
	}
	rc, err := logs.Open(ctx, c.logPath(), opts)
	if err != nil {
		return nil, fmt.Errorf("logs of wasm container %q: %w", id, err)
	}
	return rc, nil
}

// Stats reports the module's CPU time, from the kernel's accounting of the
// thread it runs on (a sleeping module uses none; on a kernel without
// per-thread accounting, the wall time it has run), and its linear memory
// size.
func (r *Runtime) Stats(ctx context.Context, id string) (runtimes.Stats, error) {
	c, err := r.get(id)
	if err != nil {
		return runtimes.Stats{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := r.now().UTC()
	st := runtimes.Stats{Timestamp: now}
	switch {
	case c.state == runtimes.StateRunning && c.tid != 0:
		// c.mu is held: run cannot release the thread meanwhile.
		if cpu, err := threadCPU(c.tid); err == nil && cpu >= c.cpuBase {
			st.CPUNanos = cpu - c.cpuBase
		}
	case c.state == runtimes.StateRunning && c.cpuExact:
		// Started on its thread but not yet recorded: no CPU used yet.
	case c.state == runtimes.StateRunning:
		// No thread accounting on this kernel: wall time, an upper bound.
		st.CPUNanos = uint64(now.Sub(c.startedAt))
	case c.exit != nil && c.cpuExact:
		st.CPUNanos = c.cpuUsed
	case c.exit != nil && !c.startedAt.IsZero():
		st.CPUNanos = uint64(c.exit.FinishedAt.Sub(c.startedAt))
	}
	if c.mem != nil && c.state == runtimes.StateRunning {
		st.MemoryBytes = c.mem.size.Load()
	}
	return st, nil
}

// List returns every container, sorted by ID. (It also closes the idle
// compiled modules past their time: the agent lists on every sync.)
func (r *Runtime) List(ctx context.Context) ([]runtimes.Info, error) {
	r.sweep()
	r.mu.Lock()
	cs := slices.Collect(maps.Values(r.containers))
	r.mu.Unlock()
	out := make([]runtimes.Info, 0, len(cs))
	for _, c := range cs {
		c.mu.Lock()
		out = append(out, c.info())
		c.mu.Unlock()
	}
	slices.SortFunc(out, func(a, b runtimes.Info) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// ListMatching returns the containers whose labels include labels,
// copying only those (runtimes.MatchLister). Like List, it closes the
// idle compiled modules past their time.
func (r *Runtime) ListMatching(ctx context.Context, labels map[string]string) ([]runtimes.Info, error) {
	r.sweep()
	r.mu.Lock()
	cs := make([]*container, 0, 4)
	for _, c := range r.containers {
		// spec.Labels is set at Create and never changed.
		if runtimes.LabelsMatch(c.spec.Labels, labels) {
			cs = append(cs, c)
		}
	}
	r.mu.Unlock()
	out := make([]runtimes.Info, 0, len(cs))
	for _, c := range cs {
		c.mu.Lock()
		out = append(out, c.info())
		c.mu.Unlock()
	}
	return out, nil
}

// Inspect returns one container's state.
func (r *Runtime) Inspect(ctx context.Context, id string) (runtimes.Info, error) {
	c, err := r.get(id)
	if err != nil {
		return runtimes.Info{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.info(), nil
}
