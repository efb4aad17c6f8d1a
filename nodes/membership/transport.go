package membership

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
)

// APITransport is an http.RoundTripper that sends every request to the API
// of an alive server member, whatever host the request names: an agent's
// client keeps working when its server restarts on another address, or
// when another server takes over. It sticks to one server while that one
// answers, and moves to another after a failed request.
type APITransport struct {
	m    *Membership
	base http.RoundTripper

	mu      sync.Mutex
	current string // the API URL in use
	failed  string // the API URL whose last request failed
}

var _ http.RoundTripper = (*APITransport)(nil)

// APITransport returns a transport over base (http.DefaultTransport when
// nil) that follows the servers' api tags.
func (m *Membership) APITransport(base http.RoundTripper) *APITransport {
	if base == nil {
		base = http.DefaultTransport
	}
	return &APITransport{m: m, base: base}
}

// pick returns the API URL to use: the current one while its server is
// alive, else another alive server's, avoiding the one that just failed
// when there is a choice.
func (t *APITransport) pick() string {
	servers := t.m.Servers()
	t.mu.Lock()
	defer t.mu.Unlock()
	var first, other string
	for _, s := range servers {
		api := s.Tags[TagAPI]
		if api == t.current && api != t.failed {
			return api
		}
		if first == "" {
			first = api
		}
		if other == "" && api != t.failed {
			other = api
		}
	}
	switch {
	case other != "":
		t.current = other
	default:
		t.current = first // only the failed one is left: try it again
	}
	return t.current
}

// RoundTrip implements http.RoundTripper.
func (t *APITransport) RoundTrip(req *http.Request) (*http.Response, error) {
	api := t.pick()
	if api == "" {
		return nil, fmt.Errorf("membership: %w", ErrNoServer)
	}
	u, err := url.Parse(api)
	if err != nil {
		return nil, fmt.Errorf("membership: server api tag %q: %w", api, err)
	}
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host, out.Host = u.Scheme, u.Host, u.Host
	resp, err := t.base.RoundTrip(out)
	t.mu.Lock()
	if err != nil {
		t.failed = api
	} else if t.failed == api {
		t.failed = ""
	}
	t.mu.Unlock()
	return resp, err
}
