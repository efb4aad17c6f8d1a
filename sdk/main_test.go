package sdk_test

import (
	"context"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/server/servertest"
	"github.com/wharfhq/wharf/internal/testutil"
	"github.com/wharfhq/wharf/sdk"
	"github.com/wharfhq/wharf/storage"
)

// TestMain fails the run when goroutines of this package outlive the
// tests: informers, watchers and queues must all stop.
func TestMain(m *testing.M) {
	os.Exit(testutil.CheckLeaks(m.Run(), "wharf/sdk."))
}

// testEnv is a real API server (api/server over Badger in a temp dir)
// behind httptest, with a gate in front to end and hold watches.
type testEnv struct {
	client *sdk.Client
	store  storage.Store
	gate   *gate
	url    string
}

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	var g *gate
	srv := servertest.Start(t, servertest.Options{Wrap: func(h http.Handler) http.Handler {
		g = newGate(h)
		return g
	}})
	// Registered after Start, so it runs first: held watches let go
	// before the server closes.
	t.Cleanup(g.release)
	return &testEnv{client: srv.Client, store: srv.Store, gate: g, url: srv.URL}
}

// gate sits in front of the API handler. It counts list requests, can end
// every open watch cleanly (as a server does when a watch times out), and
// can hold new watches until released.
type gate struct {
	next http.Handler

	mu      sync.Mutex
	hold    chan struct{}
	cancels map[*http.Request]context.CancelFunc
	// watches receives the resourceVersion of every watch that reaches the
	// API (buffered; never blocks the gate).
	watches chan string
	lists   atomic.Int32
}

func newGate(next http.Handler) *gate {
	return &gate{next: next, cancels: map[*http.Request]context.CancelFunc{}, watches: make(chan string, 100)}
}

func isWatch(r *http.Request) bool {
	w := r.URL.Query().Get("watch")
	return w == "true" || w == "1"
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !isWatch(r) {
		if r.Method == http.MethodGet && r.URL.Query().Has("limit") {
			g.lists.Add(1) // informers list with a page size
		}
		g.next.ServeHTTP(w, r)
		return
	}
	g.mu.Lock()
	hold := g.hold
	g.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	g.mu.Lock()
	g.cancels[r] = cancel
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.cancels, r)
		g.mu.Unlock()
	}()
	select {
	case g.watches <- r.URL.Query().Get("resourceVersion"):
	default:
	}
	g.next.ServeHTTP(w, r.WithContext(ctx))
}

// holdWatches makes new watches wait until release.
func (g *gate) holdWatches() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.hold == nil {
		g.hold = make(chan struct{})
	}
}

func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.hold != nil {
		close(g.hold)
		g.hold = nil
	}
}

// endWatches ends every open watch; the API handler returns and the
// response ends cleanly.
func (g *gate) endWatches() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, cancel := range g.cancels {
		cancel()
	}
}

// waitWatch waits for the next watch to reach the API and returns its
// resourceVersion.
func (g *gate) waitWatch(t *testing.T) string {
	t.Helper()
	select {
	case rv := <-g.watches:
		return rv
	case <-time.After(30 * time.Second):
		t.Fatal("no watch reached the server within 30s")
		return ""
	}
}

// ctx returns a context ended at the end of the test.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}
