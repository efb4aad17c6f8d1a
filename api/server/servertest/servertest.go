// Package servertest runs a real Wharf API server for tests of other
// packages: api/server over Badger in t.TempDir, behind httptest on a
// loopback port, with an SDK client. It stops when the test ends.
package servertest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wharfhq/wharf/api/server"
	"github.com/wharfhq/wharf/sdk"
	"github.com/wharfhq/wharf/storage"
	"github.com/wharfhq/wharf/storage/badger"
)

// Options tune Start. The zero value is a plain server.
type Options struct {
	// Config, when set, changes the server's Config (Store and Logger are
	// already filled).
	Config func(*server.Config)
	// Wrap, when set, wraps the API handler (to count, hold or fail
	// requests).
	Wrap func(http.Handler) http.Handler
}

// Server is a running API server.
type Server struct {
	// URL is the server's base URL.
	URL string
	// Client talks to it.
	Client *sdk.Client
	// Store is the server's store (to look under the API).
	Store storage.Store
}

// Start runs an API server until the test ends. Cleanups registered by
// the test after Start run before the server stops (release anything
// that holds requests there).
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	st, err := badger.Open(t.TempDir())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	cfg := server.Config{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if opts.Config != nil {
		opts.Config(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		_ = st.Close()
		t.Fatalf("new API server: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	bgDone := make(chan struct{})
	go func() {
		defer close(bgDone)
		srv.RunBackground(ctx)
	}()
	h := srv.Handler()
	if opts.Wrap != nil {
		h = opts.Wrap(h)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
		cancel()
		<-bgDone
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	c, err := sdk.New(hs.URL)
	if err != nil {
		t.Fatalf("sdk.New: %v", err)
	}
	return &Server{URL: hs.URL, Client: c, Store: st}
}
