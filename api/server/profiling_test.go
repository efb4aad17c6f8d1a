package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/server"
)

// TestProfiling: with Profiling the Go profiles are served; without it
// /debug/pprof/ is an unknown path.
func TestProfiling(t *testing.T) {
	on := newEnv(t, func(c *server.Config) { c.Profiling = true })
	r := on.send(t, req{method: http.MethodGet, path: "/debug/pprof/"}).must(t, http.StatusOK)
	if !strings.Contains(string(r.body), "goroutine") {
		t.Errorf("/debug/pprof/ index without the goroutine profile:\n%.300s", r.body)
	}
	r = on.send(t, req{method: http.MethodGet, path: "/debug/pprof/goroutine?debug=1"}).must(t, http.StatusOK)
	if !strings.Contains(string(r.body), "goroutine profile:") {
		t.Errorf("goroutine profile: %.200s", r.body)
	}

	off := newEnv(t)
	off.send(t, req{method: http.MethodGet, path: "/debug/pprof/"}).must(t, http.StatusNotFound)
}
