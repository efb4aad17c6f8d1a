package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wharfhq/wharf/api/types"
)

// DefaultUserAgent is sent when no WithUserAgent option is given.
const DefaultUserAgent = "wharf-sdk"

// DefaultTimeout bounds every request except watches and streams when no
// WithTimeout option is given.
const DefaultTimeout = 30 * time.Second

// maxErrorBody caps how much of an error answer is read.
const maxErrorBody = 1 << 20

// Content types the client sends and asks for.
const (
	contentJSON = "application/json"
	// acceptTable asks for a server-side printed meta.k8s.io/v1 Table, with
	// plain JSON as the fallback, as kubectl does.
	acceptTable = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
)

// Client talks to one Wharf API server. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	http      *http.Client
	userAgent string
	token     string
	timeout   time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithBearerToken sends token in an "Authorization: Bearer" header.
func WithBearerToken(token string) Option { return func(c *Client) { c.token = token } }

// WithUserAgent sets the User-Agent header (e.g. "wharf-scheduler/1.0").
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithTimeout bounds each non-streaming request; 0 disables the bound
// (the caller's context still applies).
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithHTTPClient replaces the HTTP client (for TLS settings or tests). Its
// own Timeout must be zero or watches will be cut.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// New returns a client for the server at serverURL ("http://host:port").
func New(serverURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return nil, fmt.Errorf("server URL %q: %w", serverURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("server URL %q: scheme must be http or https", serverURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("server URL %q: missing host", serverURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	c := &Client{
		base:      u,
		http:      &http.Client{Transport: newTransport()},
		userAgent: DefaultUserAgent,
		timeout:   DefaultTimeout,
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// newTransport keeps connections alive between requests (informers and
// controllers issue many small ones) and bounds the connection phases;
// the whole-request bound is per call, so watches can stream for long.
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// Server returns the server URL the client talks to.
func (c *Client) Server() string { return c.base.String() }

// request is one HTTP call.
type request struct {
	method      string
	path        string
	query       url.Values
	body        any    // marshalled as JSON unless rawBody is set
	rawBody     []byte // sent as is with contentType
	contentType string
	accept      string
	stream      bool // a watch or log stream: no client timeout
}

// do sends r and returns the response of a 2xx answer, with the body open;
// any other answer is turned into a *types.Status error. The returned
// cancel func must be called once the body has been read.
func (c *Client) do(ctx context.Context, r request) (*http.Response, context.CancelFunc, error) {
	cancel := context.CancelFunc(func() {})
	if !r.stream && c.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
	}
	u := *c.base
	u.Path = c.base.Path + r.path
	u.RawQuery = r.query.Encode()

	var body io.Reader
	contentType := r.contentType
	switch {
	case r.rawBody != nil:
		body = bytes.NewReader(r.rawBody)
	case r.body != nil:
		b, err := json.Marshal(r.body)
		if err != nil {
			cancel()
			return nil, nil, fmt.Errorf("%s %s: encode body: %w", r.method, r.path, err)
		}
		body = bytes.NewReader(b)
		if contentType == "" {
			contentType = contentJSON
		}
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	accept := r.accept
	if accept == "" {
		accept = contentJSON
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", c.userAgent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("%s %s: %w", r.method, u.Redacted(), err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer cancel()
		defer resp.Body.Close()
		return nil, nil, statusError(resp)
	}
	return resp, cancel, nil
}

// doInto sends r and decodes a 2xx JSON answer into out (when not nil).
func (c *Client) doInto(ctx context.Context, r request, out any) error {
	resp, cancel, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	defer cancel()
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", r.method, r.path, err)
	}
	return nil
}

// doRaw sends r and returns the body of a 2xx answer.
func (c *Client) doRaw(ctx context.Context, r request) ([]byte, error) {
	resp, cancel, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	defer cancel()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", r.method, r.path, err)
	}
	return b, nil
}

// GetRaw GETs path (e.g. "/version", "/apis") and returns the body of a 2xx
// answer; other answers are *types.Status errors.
func (c *Client) GetRaw(ctx context.Context, path string, query url.Values) ([]byte, error) {
	return c.doRaw(ctx, request{method: http.MethodGet, path: path, query: query})
}

// VersionInfo is the answer of /version (Kubernetes' version.Info).
type VersionInfo struct {
	Major        string `json:"major"`
	Minor        string `json:"minor"`
	GitVersion   string `json:"gitVersion"`
	GitCommit    string `json:"gitCommit,omitempty"`
	GitTreeState string `json:"gitTreeState,omitempty"`
	BuildDate    string `json:"buildDate,omitempty"`
	GoVersion    string `json:"goVersion,omitempty"`
	Compiler     string `json:"compiler,omitempty"`
	Platform     string `json:"platform,omitempty"`
}

// ServerVersion returns the server's /version answer.
func (c *Client) ServerVersion(ctx context.Context) (*VersionInfo, error) {
	var v VersionInfo
	if err := c.doInto(ctx, request{method: http.MethodGet, path: "/version"}, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// statusError turns a non-2xx answer into a *types.Status. A body that is
// not a Status (a proxy's error page, an empty body) still gives a Status
// with the HTTP code and the reason that code stands for.
func statusError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	st := &types.Status{}
	if err := json.Unmarshal(b, st); err != nil || st.Kind != "Status" {
		st = &types.Status{Status: "Failure"}
		msg := strings.TrimSpace(string(b))
		if msg == "" || len(msg) > 512 {
			msg = http.StatusText(resp.StatusCode)
		}
		st.Message = fmt.Sprintf("the server answered %d: %s", resp.StatusCode, msg)
	}
	if st.Code == 0 {
		st.Code = int32(resp.StatusCode)
	}
	if st.Reason == "" {
		st.Reason = reasonForCode(int(st.Code))
	}
	if st.Message == "" {
		st.Message = fmt.Sprintf("the server answered %d %s", st.Code, st.Reason)
	}
	return st
}

// reasonForCode gives the Status reason an HTTP code stands for, for
// answers that carry no Status.
func reasonForCode(code int) types.StatusReason {
	switch code {
	case http.StatusNotFound:
		return types.StatusReasonNotFound
	case http.StatusConflict:
		return types.StatusReasonConflict
	case http.StatusUnprocessableEntity:
		return types.StatusReasonInvalid
	case http.StatusBadRequest:
		return types.StatusReasonBadRequest
	case http.StatusUnauthorized:
		return types.StatusReasonUnauthorized
	case http.StatusForbidden:
		return types.StatusReasonForbidden
	case http.StatusGone:
		return types.StatusReasonGone
	case http.StatusTooManyRequests:
		return types.StatusReasonTooManyRequests
	case http.StatusMethodNotAllowed:
		return types.StatusReasonMethodNotAllowed
	case http.StatusRequestEntityTooLarge:
		return types.StatusReasonRequestTooLarge
	case http.StatusUnsupportedMediaType:
		return types.StatusReasonUnsupportedMedia
	case http.StatusNotAcceptable:
		return types.StatusReasonNotAcceptable
	case http.StatusServiceUnavailable:
		return types.StatusReasonServiceUnavail
	case http.StatusGatewayTimeout:
		return types.StatusReasonTimeout
	}
	return types.StatusReasonInternalError
}

// ReasonForError returns the Status reason of err, or "" when err is not
// (and does not wrap) a *types.Status.
func ReasonForError(err error) types.StatusReason {
	var st *types.Status
	if errors.As(err, &st) {
		return st.Reason
	}
	return ""
}

// IsNotFound reports whether err is a NotFound Status.
func IsNotFound(err error) bool { return ReasonForError(err) == types.StatusReasonNotFound }

// IsAlreadyExists reports whether err is an AlreadyExists Status.
func IsAlreadyExists(err error) bool {
	return ReasonForError(err) == types.StatusReasonAlreadyExists
}

// IsConflict reports whether err is a Conflict Status (a stale
// resourceVersion on update).
func IsConflict(err error) bool { return ReasonForError(err) == types.StatusReasonConflict }

// IsInvalid reports whether err is an Invalid Status (validation failed).
func IsInvalid(err error) bool { return ReasonForError(err) == types.StatusReasonInvalid }

// IsGone reports whether err says a resourceVersion is too old (Gone or
// Expired, HTTP 410): the caller must relist.
func IsGone(err error) bool {
	var st *types.Status
	if !errors.As(err, &st) {
		return false
	}
	return st.Reason == types.StatusReasonGone || st.Reason == types.StatusReasonExpired || st.Code == http.StatusGone
}

// IsForbidden reports whether err is a Forbidden Status.
func IsForbidden(err error) bool { return ReasonForError(err) == types.StatusReasonForbidden }

// IsBadRequest reports whether err is a BadRequest Status.
func IsBadRequest(err error) bool { return ReasonForError(err) == types.StatusReasonBadRequest }
