package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/server"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/storage/badger"
)

// env is a real API server over a real Badger store in a temp dir, served
// by httptest, with a settable clock.
type env struct {
	t     *testing.T
	url   string
	store *badger.Store
	srv   *server.Server

	mu  sync.Mutex
	now time.Time
}

// fixedStart is the clock of every test server unless advanced.
var fixedStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// newEnv starts a server; adjust, when given, changes its Config.
func newEnv(t testing.TB, adjust ...func(*server.Config)) *env {
	t.Helper()
	st, err := badger.Open(t.TempDir(), badger.WithCompactInterval(0),
		badger.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	e := &env{store: st, now: fixedStart}
	if tt, ok := t.(*testing.T); ok {
		e.t = tt
	}
	cfg := server.Config{
		Store:   st,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:     e.clock,
		Version: "v0.0.0-test",
		// Tests do not wait for the resync: deletes kick the loop.
		NamespaceResync: 50 * time.Millisecond,
	}
	for _, a := range adjust {
		a(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	e.srv = srv
	ctx, cancel := context.WithCancel(context.Background())
	bgDone := make(chan struct{})
	go func() {
		defer close(bgDone)
		srv.RunBackground(ctx)
	}()
	hs := httptest.NewServer(srv.Handler())
	e.url = hs.URL
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
		cancel()
		<-bgDone
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return e
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

// resp is one HTTP answer.
type resp struct {
	code   int
	body   []byte
	header http.Header
}

// req is one request to send.
type req struct {
	method, path string
	ctype        string
	accept       string
	body         any // string, []byte or a value marshalled as JSON
}

func (e *env) send(t testing.TB, r req) resp {
	t.Helper()
	var body io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal body: %v", err)
		}
		body = bytes.NewReader(data)
	}
	hr, err := http.NewRequest(r.method, e.url+r.path, body)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if r.ctype != "" {
		hr.Header.Set("Content-Type", r.ctype)
	} else if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if r.accept != "" {
		hr.Header.Set("Accept", r.accept)
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", r.method, r.path, err)
	}
	return resp{code: res.StatusCode, body: data, header: res.Header}
}

func (e *env) get(t testing.TB, path string) resp {
	t.Helper()
	return e.send(t, req{method: http.MethodGet, path: path})
}

func (e *env) post(t testing.TB, path string, body any) resp {
	t.Helper()
	return e.send(t, req{method: http.MethodPost, path: path, body: body})
}

func (e *env) put(t testing.TB, path string, body any) resp {
	t.Helper()
	return e.send(t, req{method: http.MethodPut, path: path, body: body})
}

func (e *env) patch(t testing.TB, path, ctype string, body any) resp {
	t.Helper()
	return e.send(t, req{method: http.MethodPatch, path: path, ctype: ctype, body: body})
}

func (e *env) del(t testing.TB, path string, body any) resp {
	t.Helper()
	return e.send(t, req{method: http.MethodDelete, path: path, body: body})
}

// must fails the test unless the answer has code want; it returns r.
func (r resp) must(t testing.TB, want int) resp {
	t.Helper()
	if r.code != want {
		t.Fatalf("code %d, want %d; body: %s", r.code, want, r.body)
	}
	return r
}

// into decodes the body into v.
func (r resp) into(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// status decodes the body as a Status and checks its kind, code and
// reason.
func (r resp) status(t testing.TB, code int, reason types.StatusReason) types.Status {
	t.Helper()
	var st types.Status
	r.into(t, &st)
	if r.code != code || st.Code != int32(code) || st.Reason != reason || st.Kind != "Status" || st.APIVersion != "v1" || st.Status != "Failure" {
		t.Fatalf("got HTTP %d, Status{kind %q apiVersion %q status %q code %d reason %q}, want %d %s; body: %s",
			r.code, st.Kind, st.APIVersion, st.Status, st.Code, st.Reason, code, reason, r.body)
	}
	return st
}

// configMap returns a ConfigMap body.
func configMap(name string, labels map[string]string, data map[string]string) map[string]any {
	meta := map[string]any{"name": name}
	if labels != nil {
		meta["labels"] = labels
	}
	return map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}
}

// pod returns a minimal valid Pod body.
func pod(name string, labels map[string]string) map[string]any {
	meta := map[string]any{"name": name}
	if labels != nil {
		meta["labels"] = labels
	}
	return map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": meta,
		"spec": map[string]any{"containers": []any{map[string]any{"name": "app", "image": "nginx:1.27"}}}}
}

// deployment returns a valid Deployment body.
func deployment(name string, replicas int) map[string]any {
	lbl := map[string]any{"app": name}
	return map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": name},
		"spec": map[string]any{
			"replicas": replicas,
			"selector": map[string]any{"matchLabels": lbl},
			"template": map[string]any{
				"metadata": map[string]any{"labels": lbl},
				"spec":     map[string]any{"containers": []any{map[string]any{"name": "app", "image": "nginx:1.27"}}},
			},
		}}
}

const (
	cmPath  = "/api/v1/namespaces/default/configmaps"
	podPath = "/api/v1/namespaces/default/pods"
	depPath = "/apis/apps/v1/namespaces/default/deployments"
)

// names returns the metadata.name of a list's items, in order.
func names(t testing.TB, r resp) []string {
	t.Helper()
	var l struct {
		Items []struct {
			Metadata types.ObjectMeta `json:"metadata"`
		} `json:"items"`
	}
	r.into(t, &l)
	out := []string{}
	for _, it := range l.Items {
		out = append(out, it.Metadata.Name)
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func ptr32(n int32) *int32 { return &n }

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
