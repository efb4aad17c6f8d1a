package container

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"golang.org/x/sys/unix"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/image"
)

const killSignal = unix.SIGKILL

// Pull makes spec.Image present and unpacked, honouring spec.PullPolicy.
func (r *Runtime) Pull(ctx context.Context, spec *runtimes.Spec, progress func(runtimes.PullProgress)) error {
	img, err := r.images.Pull(ctx, spec.Image, spec.PullPolicy, progress, image.WithPullSecrets(spec.PullSecrets))
	if err != nil {
		return err
	}
	if err := checkRunnable(img); err != nil {
		return err
	}
	_, err = r.images.Unpack(ctx, img)
	return err
}

// checkRunnable refuses images that are not Linux filesystems.
func checkRunnable(img *image.Image) error {
	if _, ok := img.WasmLayer(); ok || img.Config.Architecture == "wasm" {
		return fmt.Errorf("%w: image %q is a WebAssembly module; run it with the wasm runtime", runtimes.ErrInvalidImage, img.Ref)
	}
	return nil
}

// Create prepares the container: rootfs, cgroup, namespaces and the init
// process, which waits (like `runc create`) until Start. A process that
// cannot be started (a command that does not exist in the image, or is
// not executable) fails here: Create returns the error and keeps the
// container, exited with exit code 128 and ReasonStartError, as
// containerd reports such a container to the kubelet, so that its owner
// applies the restart policy to it as to any exit.
func (r *Runtime) Create(ctx context.Context, id string, spec *runtimes.Spec) (retErr error) {
	if !validID.MatchString(id) || id == "." || id == ".." {
		return fmt.Errorf("container id %q: must match %s", id, validID)
	}
	dir := filepath.Join(r.root, "containers", id)
	c := newCtr(id, dir)
	r.mu.Lock()
	if _, ok := r.ctrs[id]; ok {
		r.mu.Unlock()
		return fmt.Errorf("container %q: %w", id, runtimes.ErrExists)
	}
	r.ctrs[id] = c // reserved; invisible until Create succeeds
	r.mu.Unlock()
	var lc *libcontainer.Container
	kept := false // a start failure recorded as an exit
	defer func() {
		if retErr == nil || kept {
			return
		}
		r.cleanupPartial(dir, lc)
		r.mu.Lock()
		delete(r.ctrs, id)
		r.mu.Unlock()
	}()

	policy := spec.PullPolicy
	if policy == image.PullAlways {
		policy = image.PullIfNotPresent // Pull already refreshed it
	}
	img, err := r.images.Pull(ctx, spec.Image, policy, nil, image.WithPullSecrets(spec.PullSecrets))
	if err != nil {
		return err
	}
	if err := checkRunnable(img); err != nil {
		return err
	}
	layers, err := r.images.Unpack(ctx, img)
	if err != nil {
		return err
	}
	rootfs := filepath.Join(dir, "rootfs")
	upper, work := filepath.Join(dir, "upper"), filepath.Join(dir, "work")
	for _, d := range []string{rootfs, upper, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if len(layers) == 0 {
		// overlay needs a lower dir; an empty one will do
		if err := os.MkdirAll(filepath.Join(dir, "empty"), 0o755); err != nil {
			return err
		}
		layers = []string{filepath.Join(dir, "empty")}
	}
	overlay := false
	if !r.noOverlay {
		overlay = mountOverlay(layers, upper, work, rootfs) == nil
	}
	if !overlay {
		if err := copyLayers(layers, rootfs); err != nil {
			return err
		}
	}
	hostname := spec.Hostname
	if hostname == "" {
		hostname = id[:min(len(id), 63)]
	}
	if err := writeEtcFiles(dir, hostname); err != nil {
		return err
	}
	ospec, err := buildSpec(ociSpec{id: id, dir: dir, rootfs: rootfs, img: img, spec: spec,
		cgroupsPath: filepath.Join(r.cgroupParent, id)})
	if err != nil {
		return err
	}
	cfg, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{CgroupName: id, Spec: ospec})
	if err != nil {
		return fmt.Errorf("container %q: config: %w", id, err)
	}
	c.rec = record{
		ID: id, Image: spec.Image, ImageDigest: img.Digest, Labels: spec.Labels,
		CreatedAt: time.Now(), State: runtimes.StateCreated, Deadline: spec.Deadline,
		StopSignal: img.Config.StopSignal, Overlay: overlay,
		Exec: execTemplate{Env: ospec.Process.Env, Cwd: ospec.Process.Cwd,
			UID: int(ospec.Process.User.UID), GID: int(ospec.Process.User.GID)},
	}
	for _, g := range ospec.Process.User.AdditionalGids {
		c.rec.Exec.Groups = append(c.rec.Exec.Groups, int(g))
	}
	if lc, err = libcontainer.Create(r.stateRoot, id, cfg); err != nil {
		return fmt.Errorf("container %q: %w", id, err)
	}

	// The log exists before Create returns, so Logs works at once; the
	// relay appends to it.
	if err := os.WriteFile(filepath.Join(dir, logFile), nil, 0o640); err != nil {
		return fmt.Errorf("container %q: %w", id, err)
	}
	relay, outW, errW, err := startRelay(filepath.Join(dir, logFile), r.logRot)
	if err != nil {
		return fmt.Errorf("container %q: log relay: %w", id, err)
	}
	c.relayDone, c.rec.RelayPid = relay.done, relay.pid
	proc := processFor(cfg, c.rec.Exec, ospec.Process.Args)
	proc.Init = true
	proc.Stdout, proc.Stderr = outW, errW
	err = lc.Start(proc)
	outW.Close() // the container holds the only write ends now
	errW.Close()
	if err != nil {
		<-relay.done
		startErr := fmt.Errorf("container %q: %w: %w", id, errStart, err)
		if keepErr := r.keepStartFailure(c, lc, err); keepErr != nil {
			return errors.Join(startErr, keepErr)
		}
		kept = true
		return startErr
	}
	c.mu.Lock()
	c.lc, c.proc = lc, proc
	err = c.save()
	c.mu.Unlock()
	if err != nil {
		_ = lc.Signal(killSignal)
		_, _ = proc.Wait()
		<-relay.done
		return err
	}
	go r.waitChild(c, proc)
	r.mu.Lock() // not under c.mu: see the lock order on Runtime
	c.visible = true
	r.mu.Unlock()
	return nil
}

// errStart marks a process that could not be started.
var errStart = errors.New("cannot start container process")

// keepStartFailure records a container whose process could not be started
// (err, from libcontainer) as exited with ReasonStartError and code 128,
// and makes it visible. Its libcontainer state and cgroup are destroyed at
// once (no process is left in them); its rootfs and log stay until
// Remove. The record is saved, so a restarted agent finds it too.
func (r *Runtime) keepStartFailure(c *ctr, lc *libcontainer.Container, err error) error {
	if derr := lc.Destroy(); derr != nil {
		return fmt.Errorf("container %q: destroy after a failed start: %w", c.id, derr)
	}
	now := time.Now()
	c.mu.Lock()
	c.rec.State = runtimes.StateExited
	c.rec.Exit = &runtimes.ExitStatus{ExitCode: startErrorCode, Reason: runtimes.ReasonStartError,
		Message: err.Error(), FinishedAt: now}
	serr := c.save()
	if serr == nil {
		c.exited()
	}
	c.mu.Unlock()
	if serr != nil {
		return fmt.Errorf("container %q: record a failed start: %w", c.id, serr)
	}
	r.mu.Lock() // not under c.mu: see the lock order on Runtime
	c.visible = true
	r.mu.Unlock()
	return nil
}

// startErrorCode is the exit code of a process that could not be started,
// as containerd reports it (and the Wasm runtime).
const startErrorCode = 128

// Start lets the created container's process run.
func (r *Runtime) Start(ctx context.Context, id string) error {
	c, err := r.get(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rec.State != runtimes.StateCreated {
		return fmt.Errorf("container %q is %s: %w", id, c.rec.State, runtimes.ErrInvalidState)
	}
	// Taken before the process runs: it may end (and be seen to end)
	// before Exec returns.
	startedAt := time.Now()
	if err := c.lc.Exec(); err != nil {
		return fmt.Errorf("container %q: %w: %w", id, runtimes.ErrInvalidState, err)
	}
	c.rec.StartedAt = startedAt
	c.rec.State = runtimes.StateRunning
	r.armDeadline(c)
	return c.save()
}

// armDeadline schedules the deadline kill; c.mu is held.
func (r *Runtime) armDeadline(c *ctr) {
	if c.rec.Deadline <= 0 || c.rec.StartedAt.IsZero() {
		return
	}
	left := time.Until(c.rec.StartedAt.Add(c.rec.Deadline))
	c.deadline = time.AfterFunc(left, func() {
		c.mu.Lock()
		if c.rec.Exit == nil {
			c.deadlineHit = true
		}
		c.mu.Unlock()
		_ = c.lc.Signal(killSignal)
	})
}

// waitChild reaps a container init this process started.
func (r *Runtime) waitChild(c *ctr, proc *libcontainer.Process) {
	ps, _ := proc.Wait()
	at := time.Now()
	code := 255
	if ps != nil {
		code = exitCode(ps)
	}
	drainLog(c)
	r.finishAt(c, code, true, at)
}

// drainLog waits (boundedly, see waitRelay) until the log relay has
// written the container's last output, so that whoever Wait wakes reads
// the whole log. The pid namespace ends with its init, so the relay's
// pipes close at once.
func drainLog(c *ctr) { _ = waitRelay(context.Background(), c) }

func exitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// watchAdopted waits for a container started by an earlier process: it is
// not our child, so its exit code cannot be read, only its end seen.
func (r *Runtime) watchAdopted(c *ctr) {
	st, err := c.lc.State()
	if err != nil || st.InitProcessPid == 0 {
		r.finish(c, 0, false)
		return
	}
	if status, err := c.lc.Status(); err != nil || status == libcontainer.Stopped {
		r.finish(c, 0, false)
		return
	}
	c.mu.Lock()
	r.armDeadline(c)
	c.mu.Unlock()
	pidfd, err := unix.PidfdOpen(st.InitProcessPid, 0)
	if err != nil {
		r.finish(c, 0, false)
		return
	}
	go func() {
		defer unix.Close(pidfd)
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
		for {
			if _, err := unix.Poll(fds, -1); !errors.Is(err, unix.EINTR) {
				break
			}
		}
		at := time.Now()
		drainLog(c)
		r.finishAt(c, 0, false, at)
	}()
}

// lostExit is the status of a container whose init was not our child:
// Kubernetes reports such a lost status with exit code 137.
const lostExit = 137

// finish records how the container ended (once) and wakes waiters.
func (r *Runtime) finish(c *ctr, code int, known bool) { r.finishAt(c, code, known, time.Now()) }

// finishAt is finish with the time the process was seen to end.
func (r *Runtime) finishAt(c *ctr, code int, known bool, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rec.Exit != nil {
		return
	}
	if c.deadline != nil {
		c.deadline.Stop()
	}
	exit := &runtimes.ExitStatus{ExitCode: code, StartedAt: c.rec.StartedAt, FinishedAt: at}
	switch {
	case c.lc != nil && oomKilled(c.lc):
		exit.ExitCode, exit.Reason = lostExit, runtimes.ReasonOOMKilled
		exit.Message = "the container exceeded its memory limit and was killed"
	case c.deadlineHit:
		exit.Reason = runtimes.ReasonDeadlineExceeded
		exit.Message = fmt.Sprintf("the container ran longer than its deadline of %s", c.rec.Deadline)
	case !known:
		exit.ExitCode, exit.Reason = lostExit, runtimes.ReasonUnknown
		exit.Message = "the container ended while no agent that started it was running; its exit code is lost"
	case code == 0:
		exit.Reason = runtimes.ReasonCompleted
	default:
		exit.Reason = runtimes.ReasonError
	}
	c.rec.Exit = exit
	c.rec.State = runtimes.StateExited
	_ = c.save() // best effort: the in-memory status stands either way
	c.exited()
}

// oomKilled reads the cgroup's OOM kill counter (memory.oom_control on
// cgroup v1, memory.events on v2).
func oomKilled(lc *libcontainer.Container) bool {
	st, err := lc.State()
	if err != nil {
		return false
	}
	file := ""
	if p, ok := st.CgroupPaths["memory"]; ok {
		file = filepath.Join(p, "memory.oom_control")
	} else if p, ok := st.CgroupPaths[""]; ok {
		file = filepath.Join(p, "memory.events")
	}
	f, err := os.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), " "); ok && k == "oom_kill" {
			n, _ := strconv.Atoi(v)
			return n > 0
		}
	}
	return false
}

// Wait blocks until the container has exited, or ctx ends.
func (r *Runtime) Wait(ctx context.Context, id string) (runtimes.ExitStatus, error) {
	c, err := r.get(id)
	if err != nil {
		return runtimes.ExitStatus{}, err
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		return runtimes.ExitStatus{}, ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return *c.rec.Exit, nil
}

// Stop sends the image's stop signal (SIGTERM by default), then SIGKILL
// after grace, and returns once the container has exited.
func (r *Runtime) Stop(ctx context.Context, id string, grace time.Duration) error {
	c, err := r.get(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	sig := unix.SIGTERM
	if s := unix.SignalNum(normSignal(c.rec.StopSignal)); s != 0 {
		sig = s
	}
	c.mu.Unlock()
	select {
	case <-c.done:
		return nil
	default:
	}
	if err := c.lc.Signal(sig); err != nil && !errors.Is(err, libcontainer.ErrNotRunning) {
		return fmt.Errorf("container %q: signal %s: %w", id, unix.SignalName(sig), err)
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-c.done:
		return nil
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := c.lc.Signal(killSignal); err != nil && !errors.Is(err, libcontainer.ErrNotRunning) {
		return fmt.Errorf("container %q: kill: %w", id, err)
	}
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// normSignal turns "TERM", "sigterm" or "SIGTERM" into "SIGTERM".
func normSignal(s string) string {
	s = strings.ToUpper(s)
	if s != "" && !strings.HasPrefix(s, "SIG") {
		s = "SIG" + s
	}
	return s
}

// Remove deletes an exited or created container: its libcontainer state
// and cgroup, the rootfs mount, the writable layer and the logs.
func (r *Runtime) Remove(ctx context.Context, id string) error {
	c, err := r.get(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	state := c.rec.State
	if state == runtimes.StateRunning || c.removing {
		c.mu.Unlock()
		return fmt.Errorf("container %q is %s: stop it first: %w", id, state, runtimes.ErrInvalidState)
	}
	c.removing = true
	c.mu.Unlock()
	if state == runtimes.StateCreated {
		_ = c.lc.Signal(killSignal)
		select {
		case <-c.done:
		case <-ctx.Done():
			c.mu.Lock()
			c.removing = false
			c.mu.Unlock()
			return ctx.Err()
		}
	}
	if c.lc != nil {
		if err := c.lc.Destroy(); err != nil {
			return fmt.Errorf("container %q: destroy: %w", id, err)
		}
	}
	select {
	case <-c.logDone:
	case <-ctx.Done():
		c.mu.Lock()
		c.removing = false
		c.mu.Unlock()
		return fmt.Errorf("container %q: waiting for its log relay: %w", id, ctx.Err())
	}
	if err := unmount(filepath.Join(c.dir, "rootfs")); err != nil {
		return fmt.Errorf("container %q: %w", id, err)
	}
	if err := os.RemoveAll(c.dir); err != nil {
		return fmt.Errorf("container %q: %w", id, err)
	}
	r.mu.Lock()
	delete(r.ctrs, id)
	r.mu.Unlock()
	return nil
}

// Stats reads CPU time and memory in use (the working set: usage less
// inactive file cache, as the kubelet counts it) from the cgroup.
func (r *Runtime) Stats(ctx context.Context, id string) (runtimes.Stats, error) {
	c, err := r.get(id)
	if err != nil {
		return runtimes.Stats{}, err
	}
	if c.lc == nil { // adopted after its libcontainer state was lost
		return runtimes.Stats{}, fmt.Errorf("container %q has no cgroup left: %w", id, runtimes.ErrInvalidState)
	}
	st, err := c.lc.Stats()
	if err != nil {
		return runtimes.Stats{}, fmt.Errorf("container %q: stats: %w", id, err)
	}
	out := runtimes.Stats{Timestamp: time.Now()}
	if cg := st.CgroupStats; cg != nil {
		out.CPUNanos = cg.CpuStats.CpuUsage.TotalUsage
		mem := cg.MemoryStats.Usage.Usage
		inactive := cg.MemoryStats.Stats["total_inactive_file"]
		if v, ok := cg.MemoryStats.Stats["inactive_file"]; ok && inactive == 0 {
			inactive = v
		}
		if inactive < mem {
			mem -= inactive
		}
		out.MemoryBytes = mem
	}
	return out, nil
}
