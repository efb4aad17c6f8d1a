// Package apitest holds test helpers of the nodes/ packages: a real API
// server (api/server/servertest, with the agent proxy the nodes/ tests
// need) and a TestMain with a goroutine-leak check.
package apitest

import (
	"fmt"
	"net/http"
	"os"
	"runtime"
	"testing"

	"github.com/wharfhq/wharf/api/server"
	"github.com/wharfhq/wharf/api/server/servertest"
	"github.com/wharfhq/wharf/runtimes/runtimetest"
	"github.com/wharfhq/wharf/sdk"
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
	srv := servertest.Start(t, servertest.Options{
		Config: func(c *server.Config) { c.NodeProxy = opts.NodeProxy },
		Wrap:   opts.Wrap,
	})
	return &Env{URL: srv.URL, Client: srv.Client}
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
