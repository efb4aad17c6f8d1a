package agent_test

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wharfhq/wharf/runtimes"
)

// fakeRuntime is a runtime for tests of the sync logic: a container's
// args say what it does, nothing is executed.
//
//	exit N        exits with code N right after Start
//	sleep D       exits 0 after D
//	trap MSG      exits 1 with reason Error and message MSG (a Wasm trap)
//	ignore-term   runs until stopped; Stop waits the whole grace period
//	nostart MSG   cannot start: Start fails and keeps it exited, StartError
//	              128 with message MSG, as the container runtime does
//	nocreate MSG  the same, seen by Create already
//	badcreate MSG Create fails (naming the ID) and keeps nothing
//	(anything)    runs until stopped; Stop ends it with 0 (it "handles" SIGTERM)
//
// An image containing "missing" fails to pull with ErrImagePull.
type fakeRuntime struct {
	name string

	mu      sync.Mutex
	ctrs    map[string]*fakeCtr
	creates map[string]int // container name label -> creates
	// execFunc answers Exec (probes, hooks); exit 0 when nil. A negative
	// code is an exec that could not run: Exec returns an error naming the
	// container's ID, as the container runtime does.
	execFunc func(id string, cmd []string) int
	execs    []string // "id: cmd" of each Exec
	stops    []string // ids, in Stop order
	// stopGate, when set, holds every Stop of a running container until it
	// is closed (or the caller's ctx ends): a container slow to stop.
	stopGate chan struct{}
	// overlaps lists the ids started while an instance of the same
	// container of the same Pod was still running.
	overlaps []string
}

type fakeCtr struct {
	info runtimes.Info
	spec runtimes.Spec
	done chan struct{}
}

var (
	_ runtimes.Runtime = (*fakeRuntime)(nil)
	_ runtimes.Execer  = (*fakeRuntime)(nil)
)

func newFake(name string) *fakeRuntime {
	return &fakeRuntime{name: name, ctrs: map[string]*fakeCtr{}, creates: map[string]int{}}
}

func (f *fakeRuntime) Name() string { return f.name }

func (f *fakeRuntime) Pull(ctx context.Context, spec *runtimes.Spec, _ func(runtimes.PullProgress)) error {
	if strings.Contains(spec.Image, "missing") {
		return fmt.Errorf("pull %q: manifest unknown: %w", spec.Image, runtimes.ErrImagePull)
	}
	return nil
}

func (f *fakeRuntime) Create(ctx context.Context, id string, spec *runtimes.Spec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.ctrs[id]; ok {
		return fmt.Errorf("create %q: %w", id, runtimes.ErrExists)
	}
	labels := map[string]string{}
	for k, v := range spec.Labels {
		labels[k] = v
	}
	f.ctrs[id] = &fakeCtr{
		info: runtimes.Info{ID: id, Image: spec.Image, State: runtimes.StateCreated, Labels: labels, CreatedAt: time.Now()},
		spec: *spec,
		done: make(chan struct{}),
	}
	f.creates[spec.Labels["wharf.dev/container-name"]]++
	if args := f.args(f.ctrs[id]); len(args) > 0 {
		switch args[0] {
		case "nocreate":
			return f.startErrorLocked(f.ctrs[id])
		case "badcreate":
			delete(f.ctrs, id)
			return fmt.Errorf("container %q: %s", id, strings.Join(args[1:], " "))
		}
	}
	return nil
}

// startErrorLocked keeps c exited as a process that could not be started
// (message: its args after the first) and returns the runtime's error,
// which names c's ID; f.mu is held.
func (f *fakeRuntime) startErrorLocked(c *fakeCtr) error {
	msg := strings.Join(f.args(c)[1:], " ")
	c.info.State = runtimes.StateExited
	c.info.Exit = &runtimes.ExitStatus{ExitCode: 128, Reason: runtimes.ReasonStartError, Message: msg, FinishedAt: time.Now()}
	close(c.done)
	return fmt.Errorf("container %q: cannot start container process: %s", c.info.ID, msg)
}

func (f *fakeRuntime) args(c *fakeCtr) []string {
	return append(append([]string{}, c.spec.Command...), c.spec.Args...)
}

func (f *fakeRuntime) Start(ctx context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.ctrs[id]
	if !ok {
		return fmt.Errorf("start %q: %w", id, runtimes.ErrNotFound)
	}
	if c.info.State != runtimes.StateCreated {
		return fmt.Errorf("start %q: %w", id, runtimes.ErrInvalidState)
	}
	for _, o := range f.ctrs {
		if o.info.State == runtimes.StateRunning && o.info.Labels["wharf.dev/pod-uid"] == c.info.Labels["wharf.dev/pod-uid"] &&
			o.info.Labels["wharf.dev/container-name"] == c.info.Labels["wharf.dev/container-name"] {
			f.overlaps = append(f.overlaps, id)
		}
	}
	if args := f.args(c); len(args) > 0 && args[0] == "nostart" {
		return f.startErrorLocked(c)
	}
	c.info.State = runtimes.StateRunning
	c.info.StartedAt = time.Now()
	args := f.args(c)
	mode := ""
	if len(args) > 0 {
		mode = args[0]
	}
	switch mode {
	case "exit":
		n, _ := strconv.Atoi(args[1])
		f.exitLocked(c, n, "")
	case "trap":
		f.exitLocked(c, 1, strings.Join(args[1:], " "))
	case "sleep":
		d, _ := time.ParseDuration(args[1])
		time.AfterFunc(d, func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.exitLocked(c, 0, "")
		})
	}
	return nil
}

// exitLocked ends c with code; f.mu is held.
func (f *fakeRuntime) exitLocked(c *fakeCtr, code int, msg string) {
	if c.info.State == runtimes.StateExited {
		return
	}
	reason := runtimes.ReasonCompleted
	if code != 0 {
		reason = runtimes.ReasonError
	}
	c.info.State = runtimes.StateExited
	c.info.Exit = &runtimes.ExitStatus{ExitCode: code, Reason: reason, Message: msg,
		StartedAt: c.info.StartedAt, FinishedAt: time.Now()}
	close(c.done)
}

func (f *fakeRuntime) Wait(ctx context.Context, id string) (runtimes.ExitStatus, error) {
	f.mu.Lock()
	c, ok := f.ctrs[id]
	f.mu.Unlock()
	if !ok {
		return runtimes.ExitStatus{}, fmt.Errorf("wait %q: %w", id, runtimes.ErrNotFound)
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		return runtimes.ExitStatus{}, ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return *c.info.Exit, nil
}

func (f *fakeRuntime) Stop(ctx context.Context, id string, grace time.Duration) error {
	f.mu.Lock()
	c, ok := f.ctrs[id]
	if gate := f.stopGate; ok && gate != nil && c.info.State == runtimes.StateRunning {
		f.stops = append(f.stops, id)
		f.mu.Unlock()
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		code := 0
		if slices.Contains(f.args(c), "ignore-term") {
			code = 137
		}
		f.exitLocked(c, code, "")
		return nil
	}
	if ok && c.info.State == runtimes.StateRunning && slices.Contains(f.args(c), "ignore-term") {
		// Ignores SIGTERM: ends only when killed after the grace period.
		f.stops = append(f.stops, id)
		f.mu.Unlock()
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.exitLocked(c, 137, "")
		return nil
	}
	defer f.mu.Unlock()
	if !ok {
		return fmt.Errorf("stop %q: %w", id, runtimes.ErrNotFound)
	}
	f.stops = append(f.stops, id)
	if c.info.State == runtimes.StateCreated {
		c.info.State = runtimes.StateExited
		c.info.Exit = &runtimes.ExitStatus{ExitCode: 0, Reason: runtimes.ReasonCompleted}
		close(c.done)
		return nil
	}
	f.exitLocked(c, 0, "")
	return nil
}

func (f *fakeRuntime) Remove(ctx context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.ctrs[id]
	if !ok {
		return fmt.Errorf("remove %q: %w", id, runtimes.ErrNotFound)
	}
	if c.info.State == runtimes.StateRunning {
		return fmt.Errorf("remove %q: %w", id, runtimes.ErrInvalidState)
	}
	delete(f.ctrs, id)
	return nil
}

func (f *fakeRuntime) Logs(ctx context.Context, id string, opts runtimes.LogOptions) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader("")), nil
}

func (f *fakeRuntime) Stats(ctx context.Context, id string) (runtimes.Stats, error) {
	return runtimes.Stats{Timestamp: time.Now()}, nil
}

func (f *fakeRuntime) List(ctx context.Context) ([]runtimes.Info, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]runtimes.Info, 0, len(f.ctrs))
	for _, c := range f.ctrs {
		out = append(out, c.info)
	}
	return out, nil
}

func (f *fakeRuntime) Inspect(ctx context.Context, id string) (runtimes.Info, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.ctrs[id]
	if !ok {
		return runtimes.Info{}, fmt.Errorf("inspect %q: %w", id, runtimes.ErrNotFound)
	}
	return c.info, nil
}

func (f *fakeRuntime) Exec(ctx context.Context, id string, opts runtimes.ExecOptions) (int, error) {
	f.mu.Lock()
	c, ok := f.ctrs[id]
	fn := f.execFunc
	if ok {
		f.execs = append(f.execs, id+": "+strings.Join(opts.Command, " "))
	}
	running := ok && c.info.State == runtimes.StateRunning
	f.mu.Unlock()
	if !running {
		return -1, fmt.Errorf("exec in %q: %w", id, runtimes.ErrInvalidState)
	}
	if fn == nil {
		return 0, nil
	}
	if code := fn(id, opts.Command); code >= 0 {
		return code, nil
	}
	return -1, fmt.Errorf("container %q: exec %q: no such file or directory", id, opts.Command[0])
}

// podInstances returns how many instances the runtime holds for the Pod
// named name, and how many of them run.
func (f *fakeRuntime) podInstances(name string) (all, running int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.ctrs {
		if c.info.Labels["wharf.dev/pod-name"] == name {
			all++
			if c.info.State == runtimes.StateRunning {
				running++
			}
		}
	}
	return all, running
}

// stopCalls returns how many Stop calls the runtime has had.
func (f *fakeRuntime) stopCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.stops)
}

// created returns how many containers of that name were created.
func (f *fakeRuntime) created(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.creates[name]
}

// count returns how many containers the runtime holds in each state.
func (f *fakeRuntime) count() (running, exited int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.ctrs {
		switch c.info.State {
		case runtimes.StateRunning:
			running++
		case runtimes.StateExited:
			exited++
		}
	}
	return running, exited
}

// spec returns the spec of the newest container whose ID has prefix.
func (f *fakeRuntime) spec(containerName string) (runtimes.Spec, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var best *fakeCtr
	for _, c := range f.ctrs {
		if c.spec.Labels["wharf.dev/container-name"] == containerName && (best == nil || c.info.CreatedAt.After(best.info.CreatedAt)) {
			best = c
		}
	}
	if best == nil {
		return runtimes.Spec{}, false
	}
	return best.spec, true
}
