// Package probe runs Kubernetes container probes (exec, httpGet,
// tcpSocket) and keeps their results for the agent: one worker goroutine
// per container and probe kind, honouring initialDelaySeconds,
// periodSeconds, timeoutSeconds, successThreshold and failureThreshold.
//
// How a probe reaches the container is the caller's business, given as a
// Target: exec goes through the runtime (runtimes.Execer), and httpGet and
// tcpSocket dial through a function, which for a container in its own
// network namespace dials from inside that namespace (see nodes/agent).
package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wharfhq/wharf/api/types"
)

// Kind is which probe: liveness, readiness or startup.
type Kind string

// Probe kinds.
const (
	Liveness  Kind = "Liveness"
	Readiness Kind = "Readiness"
	Startup   Kind = "Startup"
)

// Result is a probe's outcome.
type Result int

// Results. Unknown is the state before the first run.
const (
	Unknown Result = iota
	Success
	Failure
)

func (r Result) String() string {
	switch r {
	case Success:
		return "success"
	case Failure:
		return "failure"
	}
	return "unknown"
}

// ErrUnsupported: the probe's handler cannot run against this target
// (e.g. exec in a Wasm module).
var ErrUnsupported = errors.New("probe not supported")

// Target is how a probe reaches one container.
type Target struct {
	// Exec runs a command in the container and returns its exit code; nil
	// when the runtime cannot exec.
	Exec func(ctx context.Context, cmd []string) (int, error)
	// Dial opens a connection as seen from the container's network.
	// net.Dialer's DialContext when nil.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Host is the address used when the probe names none (the Pod IP, or
	// 127.0.0.1 inside the Pod's own network namespace).
	Host string
	// Ports resolves a named port to its number.
	Ports map[string]int32
}

// maxBody is how much of an HTTP probe's answer is read (the kubelet's
// limit is 10 KiB).
const maxBody = 10 << 10

// Run runs probe p once against t, bounded by p.timeoutSeconds (1s when
// unset). The output says why a probe failed.
func Run(ctx context.Context, p *types.Probe, t Target) (Result, string) {
	timeout := time.Duration(p.TimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch {
	case p.Exec != nil:
		return runExec(ctx, p.Exec, t, timeout)
	case p.HTTPGet != nil:
		return runHTTP(ctx, p.HTTPGet, t)
	case p.TCPSocket != nil:
		return runTCP(ctx, p.TCPSocket, t)
	}
	return Failure, "probe has no handler"
}

func runExec(ctx context.Context, a *types.ExecAction, t Target, timeout time.Duration) (Result, string) {
	if t.Exec == nil {
		return Failure, fmt.Sprintf("exec probe: %v: the runtime cannot exec", ErrUnsupported)
	}
	code, err := t.Exec(ctx, a.Command)
	if err != nil {
		if ctx.Err() != nil {
			return Failure, fmt.Sprintf("command %q timed out after %s", strings.Join(a.Command, " "), timeout)
		}
		return Failure, fmt.Sprintf("exec %q: %v", strings.Join(a.Command, " "), err)
	}
	if code != 0 {
		return Failure, fmt.Sprintf("command %q exited with %d", strings.Join(a.Command, " "), code)
	}
	return Success, ""
}

// port resolves an IntOrString port.
func port(p types.IntOrString, t Target) (int, error) {
	if p.Type == types.Int {
		if p.IntVal <= 0 || p.IntVal > 65535 {
			return 0, fmt.Errorf("port %d out of range", p.IntVal)
		}
		return int(p.IntVal), nil
	}
	if n, err := strconv.Atoi(p.StrVal); err == nil {
		return n, nil
	}
	if n, ok := t.Ports[p.StrVal]; ok {
		return int(n), nil
	}
	return 0, fmt.Errorf("no container port named %q", p.StrVal)
}

func dialer(t Target) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if t.Dial != nil {
		return t.Dial
	}
	var d net.Dialer
	return d.DialContext
}

func host(h string, t Target) string {
	if h != "" {
		return h
	}
	if t.Host != "" {
		return t.Host
	}
	return "127.0.0.1"
}

func runHTTP(ctx context.Context, a *types.HTTPGetAction, t Target) (Result, string) {
	n, err := port(a.Port, t)
	if err != nil {
		return Failure, err.Error()
	}
	scheme := "http"
	if a.Scheme == types.URISchemeHTTPS {
		scheme = "https"
	}
	path := a.Path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u := scheme + "://" + net.JoinHostPort(host(a.Host, t), strconv.Itoa(n)) + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Failure, fmt.Sprintf("probe URL %q: %v", u, err)
	}
	req.Header.Set("User-Agent", "wharf-probe/1.0")
	req.Header.Set("Accept", "*/*")
	for _, h := range a.HTTPHeaders {
		if strings.EqualFold(h.Name, "Host") {
			req.Host = h.Value
			continue
		}
		req.Header.Add(h.Name, h.Value)
	}
	client := &http.Client{
		Transport: &http.Transport{
			DialContext:       dialer(t),
			DisableKeepAlives: true,
			// As the kubelet: HTTPS probes do not verify certificates.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // probes check liveness, not identity
		},
		// As the kubelet: follow redirects to the same host only.
		CheckRedirect: func(r *http.Request, via []*http.Request) error {
			if len(via) >= 10 || r.URL.Host != via[0].URL.Host {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	resp, err := client.Do(req)
	if err != nil {
		return Failure, fmt.Sprintf("Get %q: %v", u, unwrapURL(err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if resp.StatusCode >= 200 && resp.StatusCode < 400 {
		return Success, ""
	}
	return Failure, fmt.Sprintf("HTTP probe failed with statuscode: %d", resp.StatusCode) + bodyNote(body)
}

func bodyNote(b []byte) string {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return ""
	}
	return ": " + s
}

func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func runTCP(ctx context.Context, a *types.TCPSocketAction, t Target) (Result, string) {
	n, err := port(a.Port, t)
	if err != nil {
		return Failure, err.Error()
	}
	addr := net.JoinHostPort(host(a.Host, t), strconv.Itoa(n))
	conn, err := dialer(t)(ctx, "tcp", addr)
	if err != nil {
		return Failure, fmt.Sprintf("dial tcp %s: %v", addr, err)
	}
	_ = conn.Close()
	return Success, ""
}
