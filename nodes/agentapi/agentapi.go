// Package agentapi is the agent's HTTP API, which the API server proxies
// the Pod subresources log and exec to, and that proxy.
//
// The agent serves:
//
//	GET  /healthz
//	GET  /pods/{namespace}/{pod}/containers/{container}/log
//	     ?follow&tailLines&sinceSeconds&sinceTime&timestamps&previous&limitBytes
//	GET|POST /pods/{namespace}/{pod}/containers/{container}/exec
//	     ?command=...&command=...&stdin&stdout&stderr&tty  (WebSocket)
//
// Exec speaks Kubernetes' WebSocket channel protocol (subprotocols
// v5.channel.k8s.io and v4.channel.k8s.io): every binary message starts
// with a channel byte, 0 stdin, 1 stdout, 2 stderr, 3 the final Status
// (JSON), 4 terminal resize (ignored); in v5 the message {255, 0} closes
// stdin. kubectl exec (1.30 and later use WebSockets) and `wharf exec`
// both speak it. SPDY is not supported.
//
// Containers are found by the labels the node agent (nodes/agent) puts on
// them: pod namespace, name and uid, container name and restart count.
package agentapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/runtimes"
)

// Container labels written by nodes/agent (the same keys as its
// LabelPod* constants; repeated here so the API does not import the sync
// loop).
const (
	LabelPodNamespace = "wharf.dev/pod-namespace"
	LabelPodName      = "wharf.dev/pod-name"
	LabelPodUID       = "wharf.dev/pod-uid"
	LabelContainer    = "wharf.dev/container-name"
	LabelRestartCount = "wharf.dev/restart-count"
)

// Sentinel errors.
var (
	// ErrContainerNotFound: no instance of the container on this node.
	ErrContainerNotFound = errors.New("container not found")
	// ErrNoPrevious: previous logs were asked of a container that never
	// restarted.
	ErrNoPrevious = errors.New("previous terminated container not found")
)

// Config configures a Server.
type Config struct {
	// Runtimes are the node's runtimes, keyed by name. Required.
	Runtimes map[string]runtimes.Runtime
	// Logger; slog.Default() when nil.
	Logger *slog.Logger
	// Token, when set, must come as "Authorization: Bearer TOKEN" on every
	// request but /healthz (the API server's Proxy sends it); see
	// TokenFromKey.
	Token string
}

// Server is the agent's HTTP API.
type Server struct {
	cfg Config
	mux *http.ServeMux
}

var _ http.Handler = (*Server)(nil)

// New returns the agent API over cfg.Runtimes.
func New(cfg Config) (*Server, error) {
	if len(cfg.Runtimes) == 0 {
		return nil, errors.New("agentapi: Config.Runtimes is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })
	s.mux.HandleFunc("GET /pods/{ns}/{pod}/containers/{c}/log", s.serveLog)
	s.mux.HandleFunc("GET /pods/{ns}/{pod}/containers/{c}/exec", s.serveExec)
	s.mux.HandleFunc("POST /pods/{ns}/{pod}/containers/{c}/exec", s.serveExec)
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Token != "" && r.URL.Path != "/healthz" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.Token)) != 1 {
			writeStatus(w, http.StatusUnauthorized, types.StatusReasonUnauthorized, "the agent API needs the cluster's token")
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// TokenFromKey derives the agent API token from the cluster's gossip
// encryption key (base64), which every server and agent has: HMAC-SHA256
// of a fixed label, base64. An empty key gives an empty token (no
// authentication).
func TokenFromKey(key string) string {
	if key == "" {
		return ""
	}
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte("wharf agent API token v1"))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// instance is one run of a container.
type instance struct {
	rt      runtimes.Runtime
	info    runtimes.Info
	restart int
}

// find returns the instances of a Pod's container, newest first, from the
// newest Pod of that namespace and name (a Pod deleted and created again
// under its name has a new uid).
func (s *Server) find(ctx context.Context, ns, pod, container string) ([]instance, error) {
	var all []instance
	for _, name := range slices.Sorted(maps.Keys(s.cfg.Runtimes)) {
		rt := s.cfg.Runtimes[name]
		infos, err := rt.List(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s containers: %w", name, err)
		}
		for _, info := range infos {
			l := info.Labels
			if l[LabelPodNamespace] != ns || l[LabelPodName] != pod || l[LabelContainer] != container {
				continue
			}
			n, _ := strconv.Atoi(l[LabelRestartCount])
			all = append(all, instance{rt: rt, info: info, restart: n})
		}
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("container %q in pod %s/%s: %w", container, ns, pod, ErrContainerNotFound)
	}
	newest := slices.MaxFunc(all, func(a, b instance) int { return a.info.CreatedAt.Compare(b.info.CreatedAt) })
	uid := newest.info.Labels[LabelPodUID]
	all = slices.DeleteFunc(all, func(x instance) bool { return x.info.Labels[LabelPodUID] != uid })
	slices.SortFunc(all, func(a, b instance) int { return b.restart - a.restart })
	return all, nil
}

// LogQuery parses the log options of a request (the Kubernetes
// PodLogOptions query parameters).
func LogQuery(q map[string][]string, now time.Time) (opts runtimes.LogOptions, previous bool, limit int64, err error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	opts.Follow = isTrue(get("follow"))
	opts.Timestamps = isTrue(get("timestamps"))
	previous = isTrue(get("previous"))
	if v := get("tailLines"); v != "" {
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil || n < 0 {
			return opts, false, 0, fmt.Errorf("tailLines %q: must be a non-negative integer", v)
		}
		opts.TailLines = n
		if n == 0 {
			opts.TailLines = -1 // zero lines
		}
	}
	if v := get("sinceSeconds"); v != "" {
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil || n <= 0 {
			return opts, false, 0, fmt.Errorf("sinceSeconds %q: must be a positive integer", v)
		}
		opts.Since = now.Add(-time.Duration(n) * time.Second)
	}
	if v := get("sinceTime"); v != "" {
		t, perr := time.Parse(time.RFC3339, v)
		if perr != nil {
			return opts, false, 0, fmt.Errorf("sinceTime %q: must be an RFC 3339 time", v)
		}
		opts.Since = t
	}
	if v := get("limitBytes"); v != "" {
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil || n <= 0 {
			return opts, false, 0, fmt.Errorf("limitBytes %q: must be a positive integer", v)
		}
		limit = n
	}
	return opts, previous, limit, nil
}

func isTrue(s string) bool { return s == "1" || strings.EqualFold(s, "true") }

func (s *Server) serveLog(w http.ResponseWriter, r *http.Request) {
	ns, pod, c := r.PathValue("ns"), r.PathValue("pod"), r.PathValue("c")
	opts, previous, limit, err := LogQuery(r.URL.Query(), time.Now())
	if err != nil {
		writeStatus(w, http.StatusBadRequest, types.StatusReasonBadRequest, err.Error())
		return
	}
	insts, err := s.find(r.Context(), ns, pod, c)
	if err != nil {
		writeError(w, err)
		return
	}
	inst := insts[0]
	if previous {
		if len(insts) < 2 {
			writeError(w, fmt.Errorf("container %q in pod %q: %w", c, pod, ErrNoPrevious))
			return
		}
		inst = insts[1]
		opts.Follow = false
	}
	if opts.TailLines < 0 {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusOK)
		return
	}
	rc, err := inst.rt.Logs(r.Context(), inst.info.ID, opts)
	if err != nil {
		writeError(w, fmt.Errorf("logs of container %q in pod %s/%s: %w", c, ns, pod, err))
		return
	}
	defer rc.Close()
	var src io.Reader = rc
	if limit > 0 {
		src = io.LimitReader(rc, limit)
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Transfer-Encoding", "chunked")
	w.WriteHeader(http.StatusOK)
	fw := &flushWriter{w: w}
	if f, ok := w.(http.Flusher); ok {
		fw.f = f
	}
	if _, err := io.Copy(fw, src); err != nil && r.Context().Err() == nil {
		s.cfg.Logger.Debug("log stream ended", "pod", ns+"/"+pod, "container", c, "err", err)
	}
}

// flushWriter flushes after every write so followed logs reach the client
// line by line.
type flushWriter struct {
	w io.Writer
	f http.Flusher
}

func (fw *flushWriter) Write(p []byte) (int, error) {
	n, err := fw.w.Write(p)
	if fw.f != nil {
		fw.f.Flush()
	}
	return n, err
}

// writeError maps an error to a Status answer.
func writeError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrContainerNotFound), errors.Is(err, runtimes.ErrNotFound):
		writeStatus(w, http.StatusNotFound, types.StatusReasonNotFound, err.Error())
	case errors.Is(err, ErrNoPrevious), errors.Is(err, runtimes.ErrInvalidState):
		writeStatus(w, http.StatusBadRequest, types.StatusReasonBadRequest, err.Error())
	default:
		writeStatus(w, http.StatusInternalServerError, types.StatusReasonInternalError, err.Error())
	}
}

// writeStatus answers a Kubernetes Status object.
func writeStatus(w http.ResponseWriter, code int, reason types.StatusReason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(&types.Status{
		TypeMeta: types.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   "Failure", Message: msg, Reason: reason, Code: int32(code),
	})
}

// namedExecer runs execs in one container of a Pod and words their errors
// with the names the user gave (Pod and container), not the runtime's
// internal container ID, which the runtimes put in their messages.
type namedExecer struct {
	runtimes.Execer
	ns, pod, container string
}

// Exec runs the command in container id, renaming it in errors.
func (n namedExecer) Exec(ctx context.Context, id string, opts runtimes.ExecOptions) (int, error) {
	code, err := n.Execer.Exec(ctx, id, opts)
	if err == nil {
		return code, nil
	}
	what := fmt.Sprintf("container %q in pod %s/%s", n.container, n.ns, n.pod)
	switch {
	case errors.Is(err, runtimes.ErrNotFound):
		return code, runtimes.Explain(err, "%s does not exist any more (removed after the exec found it; the Pod may be restarting or deleted)", what)
	case errors.Is(err, runtimes.ErrInvalidState):
		return code, runtimes.Explain(err, "%s is not running: cannot exec into it", what)
	}
	msg := strings.ReplaceAll(err.Error(), fmt.Sprintf("container %q: ", id), "")
	return code, runtimes.Explain(err, "%s: %s", what, strings.ReplaceAll(msg, strconv.Quote(id), "the container"))
}
