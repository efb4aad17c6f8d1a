// Package runtimes is the contract between the node agent and the things
// that run a Pod's containers: OCI containers (runtimes/container, runc's
// libcontainer) and WebAssembly modules (runtimes/wasm, wazero).
//
// The agent addresses containers by an ID it chooses, builds a
// runtime-neutral Spec from the Pod, and drives the lifecycle
// Pull → Create → Start → Wait → Stop → Remove. Optional abilities (exec,
// per-request HTTP functions) are separate small interfaces found by a type
// assertion, so a third runtime can be added without touching the agent.
package runtimes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Sentinel errors, wrapped with context by implementations.
var (
	// ErrNotFound: no container with that ID.
	ErrNotFound = errors.New("container not found")
	// ErrExists: Create was given an ID already in use.
	ErrExists = errors.New("container already exists")
	// ErrImagePull: the image or module could not be fetched (unknown
	// reference, registry unreachable, digest mismatch).
	ErrImagePull = errors.New("image pull failed")
	// ErrInvalidImage: the image or module was fetched but cannot be run
	// (corrupt bytes, not a Wasm module, wrong architecture, no entrypoint).
	ErrInvalidImage = errors.New("invalid image")
	// ErrInvalidState: the operation does not fit the container's state
	// (Start on a running container, Remove on a running one, ...).
	ErrInvalidState = errors.New("invalid container state")
	// ErrImageNotLoaded: a local image (one `wharf image load` imports,
	// named under the wharf.local registry) is not in the node's image
	// store. Such images are never pulled from a registry. It is an
	// ErrImagePull: errors.Is(err, ErrImagePull) holds too.
	ErrImageNotLoaded = fmt.Errorf("%w: local image not loaded", ErrImagePull)
)

// Explain returns an error written for the user (what is wrong, what to
// do) whose text is the formatted message alone, and which errors.Is
// matches to kind, one of the sentinels above, as well as to any error
// the format wraps with %w: the sentinel classifies the error without
// cluttering the message with its own text.
func Explain(kind error, format string, args ...any) error {
	return &explained{kind: kind, err: fmt.Errorf(format, args...)}
}

// explained is the error Explain returns.
type explained struct {
	kind, err error
}

func (e *explained) Error() string   { return e.err.Error() }
func (e *explained) Unwrap() []error { return []error{e.kind, e.err} }

// Exit reasons, as Kubernetes reports them in a terminated container state.
const (
	ReasonCompleted        = "Completed"
	ReasonError            = "Error"
	ReasonOOMKilled        = "OOMKilled"
	ReasonDeadlineExceeded = "DeadlineExceeded"
	// ReasonStartError: the process could not be started at all.
	ReasonStartError = "StartError"
	// ReasonUnknown: the outcome was lost (e.g. the agent restarted while a
	// Wasm module, which lives in the agent's process, was running).
	ReasonUnknown = "Unknown"
)

// Spec is what to run, built by the agent from a Pod's container.
type Spec struct {
	// Image is the image reference (registry/repo:tag@digest), or for Wasm
	// also an https://, http:// (optionally with #sha256=HEX) or file:// URL.
	Image string
	// PullPolicy is Always, IfNotPresent or Never.
	PullPolicy string
	// PullSecrets are registry credentials to try, in order, before the
	// node's own when pulling Image: docker config JSON documents, the
	// contents of the Pod's (and its ServiceAccount's) imagePullSecrets
	// (a .dockerconfigjson or legacy .dockercfg).
	PullSecrets [][]byte
	// Command replaces the image's entrypoint; Args its cmd (Kubernetes'
	// semantics: if only Args is set the image's entrypoint stays).
	Command []string
	Args    []string
	// Env is added to (and overrides) the image's environment, in order.
	Env        []EnvVar
	WorkingDir string
	Hostname   string
	Mounts     []Mount
	Resources  Resources
	Security   Security
	// Deadline bounds the run's wall-clock time from Start (the Pod's
	// activeDeadlineSeconds); 0 means none. Exceeding it ends the process
	// with ReasonDeadlineExceeded.
	Deadline time.Duration
	// NetNSPath, when set, is a network namespace to join instead of
	// creating a fresh one (pod networking).
	NetNSPath string
	// Labels identify the container to its owner (pod namespace, name, uid,
	// container name) and are returned by List so a restarted agent can
	// adopt what it finds.
	Labels map[string]string
}

// EnvVar is one environment variable.
type EnvVar struct {
	Name, Value string
}

// Mount makes a host directory or file visible inside the container (a bind
// mount for containers, a WASI preopen for Wasm).
type Mount struct {
	HostPath      string
	ContainerPath string
	ReadOnly      bool
}

// Resources are limits; zero means unlimited.
type Resources struct {
	MemoryLimitBytes int64
	// CPUMillis is the CPU limit in millicores (1000 = one core).
	CPUMillis int64
	PidsLimit int64
}

// Security is the subset of a container's securityContext Wharf applies.
type Security struct {
	RunAsUser              *int64
	RunAsGroup             *int64
	ReadOnlyRootFilesystem bool
	Privileged             bool
	CapAdd                 []string
	CapDrop                []string
}

// State is a container's lifecycle state.
type State string

// States a container moves through.
const (
	StateCreated State = "created"
	StateRunning State = "running"
	StateExited  State = "exited"
)

// ExitStatus is how a container's process ended.
type ExitStatus struct {
	ExitCode int
	// Reason is one of the Reason constants.
	Reason string
	// Message says more, e.g. a Wasm trap with its stack, or why a start failed.
	Message    string
	StartedAt  time.Time
	FinishedAt time.Time
}

// Info describes one container the runtime knows.
type Info struct {
	ID        string
	Image     string
	State     State
	Labels    map[string]string
	CreatedAt time.Time
	StartedAt time.Time
	// Exit is set when State is StateExited.
	Exit *ExitStatus
}

// Stats are a container's resource use.
type Stats struct {
	// CPUNanos is the CPU time used since start.
	CPUNanos uint64
	// MemoryBytes is the memory in use now (linear memory for Wasm).
	MemoryBytes uint64
	Timestamp   time.Time
}

// LogOptions select what Logs returns.
type LogOptions struct {
	// Follow keeps the stream open for new lines until the container exits
	// and its log is drained, or ctx ends.
	Follow bool
	// TailLines, when > 0, starts that many lines before the end.
	TailLines int64
	// Since drops lines older than this time.
	Since time.Time
	// Timestamps prefixes each line with its RFC 3339 timestamp.
	Timestamps bool
	// Stream limits the output to "stdout" or "stderr"; empty means both.
	Stream string
}

// PullProgress reports a fetch in flight.
type PullProgress struct {
	Ref            string
	BytesDone      int64
	BytesTotal     int64
	LayersDone     int
	LayersTotal    int
	AlreadyPresent bool
}

// Runtime runs containers of one kind. Implementations are safe for
// concurrent use.
type Runtime interface {
	// Name is the runtime's name as used in the wharf.dev/runtimes node
	// label: "wasm" or "container".
	Name() string
	// Pull fetches what spec.Image needs (honouring spec.PullPolicy) so
	// that Create does not block on the network. progress may be nil.
	Pull(ctx context.Context, spec *Spec, progress func(PullProgress)) error
	// Create prepares a container with the given ID without starting it.
	//
	// A process that cannot be started at all (its command is not in the
	// image) may fail Create or Start, whichever first sees it; the
	// runtime then may keep the container, exited with exit code 128 and
	// ReasonStartError (as containerd reports it), besides returning the
	// error. The caller tells that case by Inspect: such an instance is
	// an exit like any other, to which the restart policy applies.
	Create(ctx context.Context, id string, spec *Spec) error
	// Start starts a created container (see Create for a process that
	// cannot be started).
	Start(ctx context.Context, id string) error
	// Wait blocks until the container has exited, or ctx ends.
	Wait(ctx context.Context, id string) (ExitStatus, error)
	// Stop asks the container to end (SIGTERM; for Wasm, cancellation) and
	// kills it after grace. It returns once the container has exited.
	Stop(ctx context.Context, id string, grace time.Duration) error
	// Remove deletes an exited (or created) container and everything it
	// held: cgroup, mounts, writable layer. Its logs are removed too.
	Remove(ctx context.Context, id string) error
	// Logs streams the container's stdout and stderr, which are kept on
	// disk and survive an agent restart.
	Logs(ctx context.Context, id string, opts LogOptions) (io.ReadCloser, error)
	// Stats returns the container's current resource use.
	Stats(ctx context.Context, id string) (Stats, error)
	// List returns every container the runtime knows, including those left
	// by an earlier agent process.
	List(ctx context.Context) ([]Info, error)
	// Inspect returns one container's state.
	Inspect(ctx context.Context, id string) (Info, error)
}

// MatchLister is implemented by runtimes that can list only the
// containers carrying some labels without copying every other one: the
// agent asks for one Pod's containers on each sync of that Pod, and a
// full List per sync makes a node of N Pods cost O(N²).
type MatchLister interface {
	// ListMatching returns the containers whose labels include every key
	// and value of labels, in no particular order.
	ListMatching(ctx context.Context, labels map[string]string) ([]Info, error)
}

// ListMatching lists the containers of rt whose labels include labels,
// through rt's own ListMatching when it has one, else by filtering List.
func ListMatching(ctx context.Context, rt Runtime, labels map[string]string) ([]Info, error) {
	if ml, ok := rt.(MatchLister); ok {
		return ml.ListMatching(ctx, labels)
	}
	all, err := rt.List(ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, in := range all {
		if LabelsMatch(in.Labels, labels) {
			out = append(out, in)
		}
	}
	return out, nil
}

// LabelsMatch reports whether have holds every key of want with its value.
func LabelsMatch(have, want map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

// ExecOptions describe a command run inside a running container.
type ExecOptions struct {
	Command []string
	Env     []EnvVar
	// Stdin, when set, is copied to the command. Exec returns when the
	// command exits whether or not Stdin has ended; the copy stops at its
	// next read, so a caller whose Stdin can block must close it.
	Stdin io.Reader
	// Stdout and Stderr receive the command's output (nil: discarded).
	// Two different writers may be called at the same time; one writer
	// given for both is never called from two goroutines at once, and
	// gets the output in the order the command wrote it (as os/exec).
	Stdout io.Writer
	Stderr io.Writer
	// TTY asks for a terminal: the command's stdin, stdout and stderr are
	// one terminal, so its stderr arrives on Stdout. Runtimes that have
	// no terminal to give return an error rather than ignore it.
	TTY bool
	// Resize, with TTY, carries the terminal sizes to apply while the
	// command runs (nil: the size stays the runtime's default).
	Resize <-chan TerminalSize
}

// TerminalSize is a terminal's size in character cells.
type TerminalSize struct {
	Width  uint16
	Height uint16
}

// Execer is implemented by runtimes that can run a command inside a
// running container (containers can; Wasm modules cannot).
type Execer interface {
	// Exec runs opts.Command in container id and returns its exit code.
	Exec(ctx context.Context, id string, opts ExecOptions) (int, error)
}

// HTTPFunctions is implemented by runtimes that can serve HTTP requests
// with short-lived instances of a container's program (the Wasm runtime,
// after the WAGI convention: one fresh module instance per request, the
// request as CGI environment and stdin, the response on stdout).
type HTTPFunctions interface {
	// HTTPHandler prepares spec's program (pulling and compiling it as
	// Create would) and returns a handler that runs it once per request,
	// bounded by spec.Deadline (or the runtime's default) and
	// spec.Resources. A failing instance answers 500 (504 on deadline);
	// the handler stays usable. When the handler also implements
	// io.Closer (the Wasm runtime's does), the caller closes it when it
	// stops serving, to release the compiled program.
	HTTPHandler(ctx context.Context, spec *Spec) (http.Handler, error)
}
