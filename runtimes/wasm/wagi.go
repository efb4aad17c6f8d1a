package wasm

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero/experimental"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/logs"
)

// MaxResponseBytes bounds what one HTTP function instance may write to
// stdout (headers and body).
const MaxResponseBytes = 64 << 20

// Function serves HTTP requests after the WAGI convention, with a fresh
// instance of one compiled module per request: the request becomes CGI
// environment variables (RFC 3875, plus WAGI's X_FULL_URL and
// X_RAW_PATH_INFO; SCRIPT_NAME is the prefix a router such as
// http.StripPrefix removed, PATH_INFO the rest) and stdin, the module's stdout is parsed as a CGI
// response, and its stderr goes to the function's log. It is safe for
// concurrent use. It holds its compiled module until Close.
type Function struct {
	r       *Runtime
	spec    runtimes.Spec
	ref     moduleRef
	mod     *compiledModule
	timeout time.Duration
	log     *logs.Writer
	logPath string
	// slots holds one token per running instance; its capacity is the
	// runtime's concurrency cap.
	slots chan struct{}

	mu       sync.Mutex // guards the fields below
	inflight int        // requests between begin and end
	closed   bool       // by Close; the module is released once inflight is 0
}

var (
	_ http.Handler = (*Function)(nil)
	_ io.Closer    = (*Function)(nil)
)

// HTTPHandler returns a [*Function] for spec: the module is fetched and
// compiled now (once per node, shared with containers of the same module),
// so that a request only instantiates it. The Function holds the compiled
// module until [Function.Close]: a caller that stops serving it closes it
// (the handler is an io.Closer). Each request is bounded by
// spec.Deadline (or the runtime's request timeout) and by
// spec.Resources.MemoryLimitBytes. Its stderr is appended to a log under
// the runtime's root, one per image and label set (see
// [Function.LogPath]).
func (r *Runtime) HTTPHandler(ctx context.Context, spec *runtimes.Spec) (http.Handler, error) {
	ref, err := r.resolve(ctx, spec, nil, false)
	if err != nil {
		return nil, fmt.Errorf("wasm function %q: %w", spec.Image, err)
	}
	mod, err := r.prepare(ctx, spec, ref)
	if err != nil {
		return nil, fmt.Errorf("wasm function %q: %w", spec.Image, err)
	}
	dir := filepath.Join(r.root, "functions")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		r.release(mod)
		return nil, fmt.Errorf("wasm function %q: %w", spec.Image, err)
	}
	f := &Function{r: r, spec: cloneSpec(spec), ref: *ref, mod: mod, timeout: r.reqTimeout,
		logPath: filepath.Join(dir, functionKey(spec)+".log"), slots: make(chan struct{}, r.maxReqs)}
	if spec.Deadline > 0 {
		f.timeout = spec.Deadline
	}
	if f.log, err = r.openFuncLog(f.logPath); err != nil {
		r.release(mod)
		return nil, fmt.Errorf("wasm function %q: %w", spec.Image, err)
	}
	return f, nil
}

// funcLog is the log that the Functions of one image and label set
// share, open while one of them is: a single Writer, since two would each
// rotate the file under the other (the second then writing on into a
// rotated file that nothing reads) and the first Close would mark it done
// while the other still writes.
type funcLog struct {
	w    *logs.Writer
	refs int
}

// openFuncLog returns the writer of the function log at path, opening it
// unless a Function has it open already; closeFuncLog gives it back.
func (r *Runtime) openFuncLog(path string) (*logs.Writer, error) {
	r.funcLogMu.Lock()
	defer r.funcLogMu.Unlock()
	if l, ok := r.funcLogs[path]; ok {
		l.refs++
		return l.w, nil
	}
	w, err := logs.NewWriter(path, logs.WithRotation(r.logRot))
	if err != nil {
		return nil, err
	}
	r.funcLogs[path] = &funcLog{w: w, refs: 1}
	return w, nil
}

// closeFuncLog gives back a writer openFuncLog returned for path, closing
// it (and marking the log done) when it was the last.
func (r *Runtime) closeFuncLog(path string) error {
	r.funcLogMu.Lock()
	defer r.funcLogMu.Unlock()
	l, ok := r.funcLogs[path]
	if !ok {
		return nil
	}
	if l.refs--; l.refs > 0 {
		return nil
	}
	delete(r.funcLogs, path)
	return l.w.Close()
}

// functionKey names a function's log by its image and labels.
func functionKey(spec *runtimes.Spec) string {
	h := sha256.New()
	h.Write([]byte(spec.Image))
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range spec.Labels {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		fmt.Fprintf(h, "\x00%s=%s", k, spec.Labels[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// LogPath is the CRI-format log file (see runtimes/logs) that receives the
// stderr of every request's instance.
func (f *Function) LogPath() string { return f.logPath }

// Close closes the function's log (unless another Function of the same
// image and labels still has it open) and releases its compiled module
// once the requests in flight have ended (they may lose their stderr);
// later requests are answered 503. Closing twice does nothing.
func (f *Function) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	last := f.inflight == 0
	f.mu.Unlock()
	if last {
		f.r.release(f.mod)
	}
	return f.r.closeFuncLog(f.logPath)
}

// begin counts a request in, unless the function is closed.
func (f *Function) begin() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.inflight++
	return true
}

// end counts a request out; the last one after Close releases the module.
func (f *Function) end() {
	f.mu.Lock()
	f.inflight--
	last := f.closed && f.inflight == 0
	f.mu.Unlock()
	if last {
		f.r.release(f.mod)
	}
}

// ServeHTTP runs one instance of the module for req.
// A request over the concurrency cap waits for a slot up to the
// runtime's queue wait, then is answered 503 with Retry-After.
func (f *Function) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if !f.begin() {
		http.Error(w, "function closed", http.StatusServiceUnavailable)
		return
	}
	defer f.end()
	if !f.acquire(req.Context()) {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "function busy: too many requests in flight", http.StatusServiceUnavailable)
		return
	}
	defer func() { <-f.slots }()
	ctx, cancel := context.WithTimeout(req.Context(), f.timeout)
	defer cancel()
	mem := newMemoryLimit(f.spec.Resources.MemoryLimitBytes)
	out := &cappedBuffer{max: MaxResponseBytes}
	body := req.Body
	if body == nil {
		body = http.NoBody
	}
	stderr := f.log.Stderr()
	cfg := moduleConfig(ctx, &f.spec, &f.ref, cgiEnv(req), body, out, stderr)
	inst, err := f.r.wz.InstantiateModule(experimental.WithMemoryAllocator(ctx, mem), f.mod.code, cfg)
	if inst != nil {
		inst.Close(context.Background())
	}
	if err != nil {
		st := classify(err, mem, false, errors.Is(ctx.Err(), context.DeadlineExceeded), f.timeout)
		if st.ExitCode != 0 {
			f.fail(w, req, st, out)
			return
		}
	}
	if err := writeCGIResponse(w, out.Bytes()); err != nil {
		fmt.Fprintf(stderr, "%s %s: %v\n", req.Method, req.URL.Path, err)
		http.Error(w, "function returned a malformed response", http.StatusInternalServerError)
	}
}

// acquire takes an instance slot, waiting up to the runtime's queue wait
// (less if ctx ends first); it reports whether it got one.
func (f *Function) acquire(ctx context.Context) bool {
	select {
	case f.slots <- struct{}{}:
		return true
	default:
	}
	if f.r.queueWait <= 0 {
		return false
	}
	t := time.NewTimer(f.r.queueWait)
	defer t.Stop()
	select {
	case f.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// fail answers for an instance that did not complete: 504 past the
// deadline, 500 otherwise, with a short message; the whole story goes to
// the function's log.
func (f *Function) fail(w http.ResponseWriter, req *http.Request, st runtimes.ExitStatus, out *cappedBuffer) {
	stderr := f.log.Stderr()
	msg := st.Message
	if msg == "" {
		msg = fmt.Sprintf("exited with code %d", st.ExitCode)
	}
	if out.overflow {
		msg = fmt.Sprintf("response larger than %d bytes", MaxResponseBytes)
	}
	fmt.Fprintf(stderr, "%s %s: %s: %s\n", req.Method, req.URL.Path, st.Reason, msg)
	switch {
	case req.Context().Err() != nil:
		// The client has gone; nobody reads an answer.
	case st.Reason == runtimes.ReasonDeadlineExceeded:
		http.Error(w, "function timed out", http.StatusGatewayTimeout)
	default:
		http.Error(w, "function failed: "+st.Reason+": "+firstLine(msg), http.StatusInternalServerError)
	}
}

// cgiEnv is the CGI environment of req.
func cgiEnv(req *http.Request) []runtimes.EnvVar {
	host, port, err := net.SplitHostPort(req.Host)
	if err != nil {
		host, port = req.Host, "80"
		if req.TLS != nil {
			port = "443"
		}
	}
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
	}
	remoteHost, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		remoteHost = req.RemoteAddr
	}
	env := []runtimes.EnvVar{
		{Name: "GATEWAY_INTERFACE", Value: "CGI/1.1"},
		{Name: "SERVER_SOFTWARE", Value: "wharf"},
		{Name: "REQUEST_METHOD", Value: req.Method},
		{Name: "SCRIPT_NAME", Value: scriptName(req)},
		{Name: "PATH_INFO", Value: req.URL.Path},
		{Name: "X_RAW_PATH_INFO", Value: req.URL.EscapedPath()},
		{Name: "QUERY_STRING", Value: req.URL.RawQuery},
		{Name: "SERVER_NAME", Value: host},
		{Name: "SERVER_PORT", Value: port},
		{Name: "SERVER_PROTOCOL", Value: req.Proto},
		{Name: "REMOTE_ADDR", Value: remoteHost},
		{Name: "REMOTE_HOST", Value: remoteHost},
		{Name: "X_FULL_URL", Value: scheme + "://" + req.Host + requestURI(req)},
		{Name: "CONTENT_TYPE", Value: req.Header.Get("Content-Type")},
	}
	if req.ContentLength >= 0 {
		env = append(env, runtimes.EnvVar{Name: "CONTENT_LENGTH", Value: strconv.FormatInt(req.ContentLength, 10)})
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range req.Header {
			if !yield(k) {
				return
			}
		}
	}) {
		switch k {
		case "Content-Type", "Content-Length", "Proxy-Authorization":
			continue
		}
		name := "HTTP_" + strings.ToUpper(strings.ReplaceAll(k, "-", "_"))
		env = append(env, runtimes.EnvVar{Name: name, Value: strings.Join(req.Header[k], ", ")})
	}
	return env
}

// scriptName is the part of the request path a router in front of the
// handler consumed (http.StripPrefix leaves RequestURI whole and shortens
// URL.Path), so that SCRIPT_NAME + PATH_INFO is the path the client asked
// for; "" when the handler got the whole path.
func scriptName(req *http.Request) string {
	uri, _, _ := strings.Cut(req.RequestURI, "?")
	esc := req.URL.EscapedPath()
	if p, ok := strings.CutSuffix(uri, esc); ok && p != uri {
		if s, err := url.PathUnescape(p); err == nil {
			return s
		}
	}
	return ""
}

// requestURI is the path and query the client sent, before any prefix was
// stripped.
func requestURI(req *http.Request) string {
	if req.RequestURI != "" {
		return req.RequestURI
	}
	return req.URL.RequestURI()
}

// writeCGIResponse parses a CGI response (header lines, a blank line, the
// body) and writes it: a Status header sets the code, a Location without
// one answers 302.
func writeCGIResponse(w http.ResponseWriter, out []byte) error {
	end := headerEnd(out)
	if end < 0 {
		return errors.New("malformed CGI response: no blank line after the headers")
	}
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(out[:end])))
	hdr, err := tp.ReadMIMEHeader()
	if err != nil {
		return fmt.Errorf("malformed CGI response headers: %w", err)
	}
	code := http.StatusOK
	if s := hdr.Get("Status"); s != "" {
		num, _, _ := strings.Cut(strings.TrimSpace(s), " ")
		code, err = strconv.Atoi(num)
		if err != nil || code < 100 || code > 999 {
			return fmt.Errorf("malformed CGI Status header %q", s)
		}
		hdr.Del("Status")
	} else if hdr.Get("Location") != "" {
		code = http.StatusFound
	}
	for k, vs := range hdr {
		w.Header()[k] = vs
	}
	w.WriteHeader(code)
	_, _ = w.Write(out[end:])
	return nil
}

// headerEnd returns the offset just past the blank line (LF or CRLF) that
// ends the headers in out, or -1.
func headerEnd(out []byte) int {
	for i := 0; i < len(out); {
		j := bytes.IndexByte(out[i:], '\n')
		if j < 0 {
			return -1
		}
		if line := out[i : i+j]; len(line) == 0 || string(line) == "\r" {
			return i + j + 1
		}
		i += j + 1
	}
	return -1
}

// cappedBuffer is a bytes.Buffer that refuses to grow past max.
type cappedBuffer struct {
	bytes.Buffer
	max      int
	overflow bool
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		b.overflow = true
		return 0, errors.New("response too large")
	}
	return b.Buffer.Write(p)
}
