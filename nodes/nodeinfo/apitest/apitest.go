// Package apitest holds test helpers of the nodes/ packages: a real API
// server (api/server over Badger in a temporary directory, on a loopback
// port) and a TestMain with a goroutine-leak check.
package apitest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"testing"

	"github.com/wharfhq/wharf/api/server"
	"github.com/wharfhq/wharf/runtimes/runtimetest"
	"github.com/wharfhq/wharf/sdk"
	"github.com/wharfhq/wharf/storage/badger"
)

// Env is a running API server.
type Env struct {
	// URL is the server's base URL.
	URL string
	// Client talks to it.
	Client *sdk.Client
}

// Options tune Start.
type Options struct {
	// NodeProxy is passed to server.Config.
	NodeProxy server.NodeProxy
	// Wrap, when set, wraps the API handler (e.g. to count requests).
	Wrap func(http.Handler) http.Handler
}

// Start runs an API server until the test ends.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	st, err := badger.Open(t.TempDir())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	srv, err := server.New(server.Config{
		Store:     st,
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		NodeProxy: opts.NodeProxy,
	})
	if err != nil {
		t.Fatalf("new API server: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	bgDone := make(chan struct{})
	go func() {
		defer close(bgDone)
		srv.RunBackground(ctx)
	}()
	var h http.Handler = srv.Handler()
	if opts.Wrap != nil {
		h = opts.Wrap(h)
	}
	hs := httptest.NewServer(h)
	c, err := sdk.New(hs.URL)
	if err != nil {
		t.Fatalf("sdk.New: %v", err)
	}
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
		cancel()
		<-bgDone
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return &Env{URL: hs.URL, Client: c}
}

// Main runs a package's tests and fails the run when goroutines they
// started outlive them (serf members, loops, streams must all stop). Call
// it from TestMain.
func Main(m *testing.M) {
	base := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 {
		if err := runtimetest.CheckGoroutines(base); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}
