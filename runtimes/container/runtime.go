// Package container runs OCI containers with runc's libcontainer inside
// the agent's own process: the wharf binary re-executes itself as the
// container init (see [Init]), so no runc binary is needed.
//
// Each container gets an overlayfs root of the image's shared, unpacked
// layers plus its own upper dir (a copy when overlayfs is unavailable),
// its own pid, ipc, uts, mount and network namespaces (or a given network
// namespace), cgroup limits (v1 or v2, through libcontainer), Kubernetes'
// default capabilities and masked paths, and generated /etc/hosts,
// /etc/hostname and /etc/resolv.conf.
//
// Layout under the runtime root:
//
//	state/<id>/                libcontainer's state (init pid, cgroup paths)
//	containers/<id>/record.json  labels, image, times, exit status
//	containers/<id>/rootfs       the overlay mount
//	containers/<id>/upper, work  the writable layer
//	containers/<id>/container.log  CRI-format log, written by the log relay
package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/configs"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/image"
	"github.com/wharfhq/wharf/runtimes/logs"
)

// Compile-time interface guards.
var (
	_ runtimes.Runtime     = (*Runtime)(nil)
	_ runtimes.Execer      = (*Runtime)(nil)
	_ runtimes.MatchLister = (*Runtime)(nil)
)

// Runtime is the container runtime. It is safe for concurrent use.
//
// Lock order: Runtime.mu, then a container's mu; never the reverse.
type Runtime struct {
	root         string
	stateRoot    string
	images       *image.Store
	cgroupParent string
	noOverlay    bool
	logRot       logs.Rotation

	mu   sync.Mutex
	ctrs map[string]*ctr
}

// Option configures a Runtime.
type Option func(*Runtime)

// WithCgroupParent sets the cgroup containers are created under (default
// "/wharf": /sys/fs/cgroup/<controller>/wharf/<id> on cgroup v1).
func WithCgroupParent(p string) Option { return func(r *Runtime) { r.cgroupParent = p } }

// WithoutOverlay makes every container's root a copy of its layers, as on
// a kernel without overlayfs (used to test that fallback).
func WithoutOverlay() Option { return func(r *Runtime) { r.noOverlay = true } }

// WithLogRotation sets how container logs are rotated by their relays
// (see logs.Rotation; zero fields, and the default, mean the kubelet's
// 10Mi and 5 files); New refuses settings that logs.Rotation.Validate
// refuses. A container keeps the settings it was started with.
func WithLogRotation(rot logs.Rotation) Option { return func(r *Runtime) { r.logRot = rot } }

// New opens the runtime rooted at root (created if needed), pulling and
// unpacking images through images. Containers left by an earlier process
// on the same root are adopted: running ones can be waited for, stopped
// and removed; see [Runtime.List].
func New(root string, images *image.Store, opts ...Option) (*Runtime, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	r := &Runtime{
		root:         abs,
		stateRoot:    filepath.Join(abs, "state"),
		images:       images,
		cgroupParent: "/wharf",
		ctrs:         map[string]*ctr{},
	}
	for _, o := range opts {
		o(r)
	}
	if err := r.logRot.Validate(); err != nil {
		return nil, fmt.Errorf("container runtime %q: %w", root, err)
	}
	for _, d := range []string{r.stateRoot, filepath.Join(abs, "containers")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("container runtime %q: %w", root, err)
		}
	}
	if err := r.adopt(); err != nil {
		return nil, fmt.Errorf("container runtime %q: %w", root, err)
	}
	return r, nil
}

// Name is "container".
func (r *Runtime) Name() string { return "container" }

// record is what containers/<id>/record.json holds: what a restarted
// agent needs besides libcontainer's own state.
type record struct {
	ID          string               `json:"id"`
	Image       string               `json:"image"`
	ImageDigest string               `json:"imageDigest"`
	Labels      map[string]string    `json:"labels,omitempty"`
	CreatedAt   time.Time            `json:"createdAt"`
	StartedAt   time.Time            `json:"startedAt,omitzero"`
	State       runtimes.State       `json:"state"`
	Exit        *runtimes.ExitStatus `json:"exit,omitempty"`
	Deadline    time.Duration        `json:"deadline,omitempty"`
	StopSignal  string               `json:"stopSignal,omitempty"`
	Overlay     bool                 `json:"overlay"`
	RelayPid    int                  `json:"relayPid,omitempty"`
	// Exec is the template for processes run with Exec.
	Exec execTemplate `json:"exec"`
}

// execTemplate is the container process's identity, reused by Exec.
type execTemplate struct {
	Env    []string `json:"env"`
	Cwd    string   `json:"cwd"`
	UID    int      `json:"uid"`
	GID    int      `json:"gid"`
	Groups []int    `json:"groups,omitempty"`
}

// ctr is one container known to this process.
type ctr struct {
	id  string
	dir string
	// visible is false while Create is still building the container;
	// guarded by Runtime.mu.
	visible bool

	// mu guards everything below except done and relayDone, which are
	// closed once and only read otherwise.
	mu          sync.Mutex
	rec         record
	lc          *libcontainer.Container
	proc        *libcontainer.Process // nil when adopted from an earlier process
	deadline    *time.Timer
	deadlineHit bool
	removing    bool

	done      chan struct{} // closed once rec.Exit is set
	logDone   chan struct{} // closed once the log is complete (see closeLog)
	relayDone chan struct{} // closed when our log relay child has exited; nil when adopted
}

func newCtr(id, dir string) *ctr {
	return &ctr{id: id, dir: dir, done: make(chan struct{}), logDone: make(chan struct{})}
}

// exited wakes waiters and starts closing the log; once per container.
func (c *ctr) exited() {
	close(c.done)
	go closeLog(c)
}

func (c *ctr) save() error {
	b, err := json.MarshalIndent(c.rec, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(c.dir, "record.json.tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(c.dir, "record.json"))
}

func (c *ctr) info() runtimes.Info {
	c.mu.Lock()
	defer c.mu.Unlock()
	in := runtimes.Info{
		ID: c.id, Image: c.rec.Image, State: c.rec.State, Labels: c.rec.Labels,
		CreatedAt: c.rec.CreatedAt, StartedAt: c.rec.StartedAt,
	}
	if c.rec.Exit != nil {
		e := *c.rec.Exit
		in.Exit = &e
	}
	return in
}

// validID is libcontainer's rule for container IDs; it also keeps IDs
// safe as directory names.
var validID = regexp.MustCompile(`^[\w+\-.]+$`)

func (r *Runtime) get(id string) (*ctr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.ctrs[id]
	if !ok || !c.visible {
		return nil, fmt.Errorf("container %q: %w", id, runtimes.ErrNotFound)
	}
	return c, nil
}

// Inspect returns one container's state.
func (r *Runtime) Inspect(ctx context.Context, id string) (runtimes.Info, error) {
	c, err := r.get(id)
	if err != nil {
		return runtimes.Info{}, err
	}
	return c.info(), nil
}

// List returns every container on this root, including those adopted from
// an earlier agent process.
func (r *Runtime) List(ctx context.Context) ([]runtimes.Info, error) {
	r.mu.Lock()
	cs := make([]*ctr, 0, len(r.ctrs))
	for _, c := range r.ctrs {
		if c.visible {
			cs = append(cs, c)
		}
	}
	r.mu.Unlock()
	out := make([]runtimes.Info, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.info())
	}
	return out, nil
}

// ListMatching returns the containers whose labels include labels
// (runtimes.MatchLister).
func (r *Runtime) ListMatching(ctx context.Context, labels map[string]string) ([]runtimes.Info, error) {
	r.mu.Lock()
	cs := make([]*ctr, 0, len(r.ctrs))
	for _, c := range r.ctrs {
		if c.visible {
			cs = append(cs, c)
		}
	}
	r.mu.Unlock()
	var out []runtimes.Info
	for _, c := range cs {
		c.mu.Lock()
		match := runtimes.LabelsMatch(c.rec.Labels, labels)
		c.mu.Unlock()
		if match {
			out = append(out, c.info())
		}
	}
	return out, nil
}

// adopt loads the containers an earlier process left on this root.
// Directories without a record are half-created leftovers and are cleaned
// away.
func (r *Runtime) adopt() error {
	entries, err := os.ReadDir(filepath.Join(r.root, "containers"))
	if err != nil {
		return err
	}
	for _, e := range entries {
		id := e.Name()
		dir := filepath.Join(r.root, "containers", id)
		lc, lerr := libcontainer.Load(r.stateRoot, id)
		c := newCtr(id, dir)
		b, err := os.ReadFile(filepath.Join(dir, "record.json"))
		if err == nil {
			err = json.Unmarshal(b, &c.rec)
		}
		if errors.Is(err, fs.ErrNotExist) {
			r.cleanupPartial(dir, lc)
			continue
		}
		if err != nil {
			return fmt.Errorf("container %q: record: %w", id, err)
		}
		if lerr != nil {
			// libcontainer state is gone (e.g. destroyed by a crash mid-Remove):
			// keep the record so the owner sees the outcome and can Remove it.
			lc = nil
		}
		c.lc = lc
		c.visible = true
		r.ctrs[id] = c
		if c.rec.Exit != nil {
			c.exited()
			continue
		}
		if lc == nil {
			r.finish(c, 0, false)
			continue
		}
		r.watchAdopted(c)
	}
	return nil
}

// cleanupPartial removes what a Create interrupted by a crash left.
func (r *Runtime) cleanupPartial(dir string, lc *libcontainer.Container) {
	if lc != nil {
		_ = lc.Signal(killSignal)
		_ = lc.Destroy()
	}
	_ = unmount(filepath.Join(dir, "rootfs"))
	_ = os.RemoveAll(dir)
}

// processTemplate builds the libcontainer process for the container's
// init from its config.
func processFor(cfg *configs.Config, t execTemplate, args []string) *libcontainer.Process {
	return &libcontainer.Process{
		Args:             args,
		Env:              t.Env,
		Cwd:              t.Cwd,
		UID:              t.UID,
		GID:              t.GID,
		AdditionalGroups: t.Groups,
		Capabilities:     cfg.Capabilities,
	}
}
