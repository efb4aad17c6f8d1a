package probe_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/nodes/probe"
)

// serverTarget starts an HTTP server answering code on /ok and returns a
// Target on 127.0.0.1 and the server's port.
func serverTarget(t *testing.T, code *atomic.Int32) (probe.Target, int32) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Probe") != "yes" || r.URL.Path != "/ok" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		w.WriteHeader(int(code.Load()))
		_, _ = w.Write([]byte("body text"))
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	n, _ := strconv.Atoi(port)
	return probe.Target{Host: "127.0.0.1", Ports: map[string]int32{"web": int32(n)}}, int32(n)
}

func TestRun(t *testing.T) {
	var code atomic.Int32
	code.Store(200)
	target, port := serverTarget(t, &code)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := int32(closed.Addr().(*net.TCPAddr).Port)
	closed.Close()
	target.Exec = func(ctx context.Context, cmd []string) (int, error) {
		switch cmd[0] {
		case "ok":
			return 0, nil
		case "slow":
			<-ctx.Done()
			return -1, ctx.Err()
		case "broken":
			return -1, errors.New("no such container")
		}
		return 3, nil
	}
	hdr := []types.HTTPHeader{{Name: "X-Probe", Value: "yes"}}
	tests := []struct {
		name    string
		h       types.ProbeHandler
		code    int32
		want    probe.Result
		wantOut string
	}{
		{"http 200", types.ProbeHandler{HTTPGet: &types.HTTPGetAction{Path: "/ok", Port: types.FromInt32(port), HTTPHeaders: hdr}}, 200, probe.Success, ""},
		{"http named port", types.ProbeHandler{HTTPGet: &types.HTTPGetAction{Path: "ok", Port: types.FromString("web"), HTTPHeaders: hdr}}, 302, probe.Success, ""},
		{"http 503", types.ProbeHandler{HTTPGet: &types.HTTPGetAction{Path: "/ok", Port: types.FromInt32(port), HTTPHeaders: hdr}}, 503, probe.Failure,
			"HTTP probe failed with statuscode: 503: body text"},
		{"http unknown port name", types.ProbeHandler{HTTPGet: &types.HTTPGetAction{Port: types.FromString("nope")}}, 200, probe.Failure, `no container port named "nope"`},
		{"http refused", types.ProbeHandler{HTTPGet: &types.HTTPGetAction{Port: types.FromInt32(closedPort)}}, 200, probe.Failure, "connection refused"},
		{"tcp open", types.ProbeHandler{TCPSocket: &types.TCPSocketAction{Port: types.FromInt32(port)}}, 200, probe.Success, ""},
		{"tcp closed", types.ProbeHandler{TCPSocket: &types.TCPSocketAction{Port: types.FromInt32(closedPort)}}, 200, probe.Failure, "connection refused"},
		{"exec 0", types.ProbeHandler{Exec: &types.ExecAction{Command: []string{"ok"}}}, 200, probe.Success, ""},
		{"exec 3", types.ProbeHandler{Exec: &types.ExecAction{Command: []string{"bad"}}}, 200, probe.Failure, `command "bad" exited with 3`},
		{"exec timeout", types.ProbeHandler{Exec: &types.ExecAction{Command: []string{"slow"}}}, 200, probe.Failure, "timed out after 1s"},
		{"exec error", types.ProbeHandler{Exec: &types.ExecAction{Command: []string{"broken"}}}, 200, probe.Failure, "no such container"},
		{"no handler", types.ProbeHandler{}, 200, probe.Failure, "no handler"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code.Store(tt.code)
			got, out := probe.Run(t.Context(), &types.Probe{ProbeHandler: tt.h, TimeoutSeconds: 1}, target)
			if got != tt.want || !strings.Contains(out, tt.wantOut) {
				t.Errorf("= %v %q, want %v containing %q", got, out, tt.want, tt.wantOut)
			}
		})
	}
	t.Run("exec without an Execer", func(t *testing.T) {
		got, out := probe.Run(t.Context(), &types.Probe{ProbeHandler: types.ProbeHandler{Exec: &types.ExecAction{Command: []string{"ok"}}}}, probe.Target{})
		if got != probe.Failure || !strings.Contains(out, "cannot exec") {
			t.Errorf("= %v %q", got, out)
		}
	})
}

func TestManagerThresholds(t *testing.T) {
	var healthy atomic.Bool
	var runs atomic.Int32
	target := probe.Target{Exec: func(ctx context.Context, cmd []string) (int, error) {
		runs.Add(1)
		if healthy.Load() {
			return 0, nil
		}
		return 1, nil
	}}
	changes := make(chan probe.Change, 10)
	var mu sync.Mutex
	var failures int
	m := probe.NewManager(func(c probe.Change) { changes <- c }, func(probe.Change) { mu.Lock(); failures++; mu.Unlock() })
	defer m.StopAll()
	p := &types.Probe{ProbeHandler: types.ProbeHandler{Exec: &types.ExecAction{Command: []string{"check"}}},
		PeriodSeconds: 1, FailureThreshold: 2, SuccessThreshold: 1}

	m.Ensure("ns/pod", "ctr-1", "c", probe.Readiness, p, target)
	m.Ensure("ns/pod", "ctr-1", "c", probe.Readiness, p, target) // idempotent
	if r, ok := m.Result("ctr-1", probe.Readiness); !ok || r != probe.Failure {
		t.Fatalf("initial readiness = %v %v, want failure (not ready until shown)", r, ok)
	}
	healthy.Store(true)
	c := waitChange(t, changes)
	if c.Result != probe.Success || c.Kind != probe.Readiness || c.Key != "ns/pod" || c.ContainerID != "ctr-1" {
		t.Fatalf("change = %+v", c)
	}
	healthy.Store(false)
	c = waitChange(t, changes)
	if c.Result != probe.Failure || !strings.Contains(c.Output, "exited with 1") {
		t.Fatalf("change = %+v", c)
	}
	mu.Lock()
	if failures < 2 {
		t.Errorf("failure callbacks = %d before the threshold of 2 was crossed", failures)
	}
	mu.Unlock()
	m.Stop("ctr-1")
	if _, ok := m.Result("ctr-1", probe.Readiness); ok {
		t.Error("result kept after Stop")
	}
}

func waitChange(t *testing.T, ch <-chan probe.Change) probe.Change {
	t.Helper()
	select {
	case c := <-ch:
		return c
	case <-time.After(20 * time.Second):
		t.Fatal("no probe result change")
	}
	return probe.Change{}
}
