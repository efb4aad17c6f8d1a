package agentapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/nodes/nodeinfo"
	"github.com/wharfhq/wharf/nodes/nodeinfo/apitest"
	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/logs"
	"github.com/wharfhq/wharf/sdk"
)

// testRuntime is a runtime whose containers are log files written by the
// test (read with the real runtimes/logs reader) and whose exec runs a few
// built-in commands: "cat" copies stdin to stdout, "head1" prints the first
// byte of stdin, "exit N" exits with N,
// "echo ARGS" prints to stdout and "warn ARGS" to stderr.
type testRuntime struct {
	dir string
	mu  sync.Mutex
	cs  map[string]runtimes.Info
}

var (
	_ runtimes.Runtime = (*testRuntime)(nil)
	_ runtimes.Execer  = (*testRuntime)(nil)
)

func (r *testRuntime) Name() string { return "container" }
func (r *testRuntime) Pull(context.Context, *runtimes.Spec, func(runtimes.PullProgress)) error {
	return nil
}
func (r *testRuntime) Create(context.Context, string, *runtimes.Spec) error { return nil }
func (r *testRuntime) Start(context.Context, string) error                  { return nil }
func (r *testRuntime) Wait(context.Context, string) (runtimes.ExitStatus, error) {
	return runtimes.ExitStatus{}, nil
}
func (r *testRuntime) Stop(context.Context, string, time.Duration) error { return nil }
func (r *testRuntime) Remove(context.Context, string) error              { return nil }
func (r *testRuntime) Stats(context.Context, string) (runtimes.Stats, error) {
	return runtimes.Stats{}, nil
}
func (r *testRuntime) Inspect(_ context.Context, id string) (runtimes.Info, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cs[id], nil
}
func (r *testRuntime) List(context.Context) ([]runtimes.Info, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []runtimes.Info
	for _, c := range r.cs {
		out = append(out, c)
	}
	return out, nil
}
func (r *testRuntime) Logs(ctx context.Context, id string, opts runtimes.LogOptions) (io.ReadCloser, error) {
	return logs.Open(ctx, filepath.Join(r.dir, id+".log"), opts)
}
func (r *testRuntime) Exec(ctx context.Context, _ string, opts runtimes.ExecOptions) (int, error) {
	switch opts.Command[0] {
	case "cat":
		_, err := io.Copy(opts.Stdout, opts.Stdin)
		return 0, err
	case "exit":
		return strconv.Atoi(opts.Command[1])
	case "head1": // print the first byte of stdin, leave the rest unread
		b := make([]byte, 1)
		if _, err := io.ReadFull(opts.Stdin, b); err != nil {
			return -1, err
		}
		_, err := opts.Stdout.Write(b)
		return 0, err
	case "echo":
		fmt.Fprintln(opts.Stdout, strings.Join(opts.Command[1:], " "))
		return 0, nil
	case "warn":
		fmt.Fprintln(opts.Stderr, strings.Join(opts.Command[1:], " "))
		return 0, nil
	case "winsize": // with a terminal: print the first size received
		if !opts.TTY || opts.Resize == nil {
			return -1, errors.New("winsize: no terminal")
		}
		select {
		case sz := <-opts.Resize:
			fmt.Fprintf(opts.Stdout, "%dx%d\n", sz.Width, sz.Height)
			return 0, nil
		case <-ctx.Done():
			return -1, ctx.Err()
		}
	}
	return -1, fmt.Errorf("no such command %q", opts.Command[0])
}

// add records a container instance and writes its log lines.
func (r *testRuntime) add(t *testing.T, pod, uid, container string, restart int, state runtimes.State, created time.Time, lines ...string) {
	t.Helper()
	id := fmt.Sprintf("%s-%s-%d", uid, container, restart)
	w, err := logs.NewWriter(filepath.Join(r.dir, id+".log"), logs.WithClock(func() time.Time { return created }))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		fmt.Fprintln(w.Stdout(), l)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if state != runtimes.StateExited { // still writing: no done marker
		if err := os.Remove(filepath.Join(r.dir, id+".log.done")); err != nil {
			t.Fatal(err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cs[id] = runtimes.Info{ID: id, State: state, CreatedAt: created, Labels: map[string]string{
		LabelPodNamespace: "default", LabelPodName: pod, LabelPodUID: uid, LabelContainer: container,
		LabelRestartCount: strconv.Itoa(restart),
	}}
}

// cluster is an API server whose node proxy reaches one agent API.
type cluster struct {
	api   *apitest.Env
	rt    *testRuntime
	agent string // the agent API's URL
}

func newCluster(t *testing.T) *cluster { return newClusterWithTokens(t, "", "") }

// newClusterWithTokens runs an agent API requiring agentToken behind an
// API server whose proxy sends proxyToken.
func newClusterWithTokens(t *testing.T, agentToken, proxyToken string) *cluster {
	t.Helper()
	rt := &testRuntime{dir: t.TempDir(), cs: map[string]runtimes.Info{}}
	srv, err := New(Config{Runtimes: map[string]runtimes.Runtime{"container": rt}, Token: agentToken,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	agent := httptest.NewServer(srv)
	t.Cleanup(agent.Close)
	proxy := NewProxy(nil, WithToken(proxyToken))
	env := apitest.Start(t, apitest.Options{NodeProxy: proxy})
	proxy.SetNodes(NodesFromClient(env.Client))

	ctx := context.Background()
	reg, err := nodeinfo.New(nodeinfo.Config{NodeName: "node-a", Client: env.Client, AgentAddress: strings.TrimPrefix(agent.URL, "http://"),
		Runtimes: map[string]string{"container": ""}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Register(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*types.Pod{
		{ObjectMeta: types.ObjectMeta{Name: "web", Namespace: "default"}, Spec: types.PodSpec{Containers: []types.Container{{Name: "app", Image: "x"}}}},
		{ObjectMeta: types.ObjectMeta{Name: "two", Namespace: "default"}, Spec: types.PodSpec{Containers: []types.Container{{Name: "a", Image: "x"}, {Name: "b", Image: "x"}}}},
	} {
		created, err := sdk.Typed[*types.Pod](env.Client).Namespace("default").Create(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Client.Bind(ctx, created, "node-a"); err != nil {
			t.Fatal(err)
		}
	}
	return &cluster{api: env, rt: rt, agent: agent.URL}
}

func (c *cluster) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(c.api.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestLogsThroughTheAPIServer(t *testing.T) {
	c := newCluster(t)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// An older Pod of the same name (another uid) must not be picked.
	c.rt.add(t, "web", "old-uid", "app", 0, runtimes.StateExited, t0.Add(-time.Hour), "stale")
	c.rt.add(t, "web", "uid-1", "app", 0, runtimes.StateExited, t0, "first run 1", "first run 2")
	c.rt.add(t, "web", "uid-1", "app", 1, runtimes.StateExited, t0.Add(time.Minute), "line 1", "line 2", "line 3")

	tests := []struct {
		name, query string
		code        int
		want        string
	}{
		{"current", "", 200, "line 1\nline 2\nline 3\n"},
		{"named container", "?container=app", 200, "line 1\nline 2\nline 3\n"},
		{"tail", "?tailLines=2", 200, "line 2\nline 3\n"},
		{"tail zero", "?tailLines=0", 200, ""},
		{"previous", "?previous=true", 200, "first run 1\nfirst run 2\n"},
		{"timestamps", "?tailLines=1&timestamps=true", 200, t0.Add(time.Minute).Format(time.RFC3339Nano) + " line 3\n"},
		{"limitBytes", "?limitBytes=4", 200, "line"},
		{"bad tail", "?tailLines=x", 400, "tailLines"},
		{"unknown container", "?container=nope", 400, "not valid for pod"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := c.get(t, "/api/v1/namespaces/default/pods/web/log"+tt.query)
			if code != tt.code {
				t.Fatalf("code %d, want %d; body %s", code, tt.code, body)
			}
			if tt.code == 200 && body != tt.want || tt.code != 200 && !strings.Contains(body, tt.want) {
				t.Errorf("body %q, want %q", body, tt.want)
			}
		})
	}

	t.Run("pod with two containers needs a name", func(t *testing.T) {
		code, body := c.get(t, "/api/v1/namespaces/default/pods/two/log")
		if code != 400 || !strings.Contains(body, "choose one of: [a b]") {
			t.Errorf("%d %s", code, body)
		}
	})
	t.Run("no previous instance", func(t *testing.T) {
		c.rt.add(t, "two", "uid-2", "a", 0, runtimes.StateRunning, t0, "x")
		code, body := c.get(t, "/api/v1/namespaces/default/pods/two/log?container=a&previous=1")
		if code != 400 || !strings.Contains(body, "previous terminated container") {
			t.Errorf("%d %s", code, body)
		}
	})
	// As the kubelet: 400, and why the container waits (from the Pod's
	// status), rather than "container not found".
	t.Run("container not started yet", func(t *testing.T) {
		code, body := c.get(t, "/api/v1/namespaces/default/pods/two/log?container=b")
		if want := `container \"b\" in pod \"two\" is waiting to start - no logs yet`; code != 400 || !strings.Contains(body, want) {
			t.Errorf("%d %s, want 400 %s", code, body, want)
		}
	})
	t.Run("container waiting with a reason", func(t *testing.T) {
		pods := sdk.Typed[*types.Pod](c.api.Client).Namespace("default")
		for _, tt := range []struct{ reason, want string }{
			{"CreateContainerError", "is waiting to start: CreateContainerError"},
			{"ImagePullBackOff", "is waiting to start: trying and failing to pull image"},
		} {
			p, err := pods.Get(context.Background(), "two")
			if err != nil {
				t.Fatal(err)
			}
			p.Status.ContainerStatuses = []types.ContainerStatus{
				{Name: "a", State: types.ContainerState{Running: &types.ContainerStateRunning{}}},
				{Name: "b", State: types.ContainerState{Waiting: &types.ContainerStateWaiting{Reason: tt.reason}}},
			}
			if _, err := pods.UpdateStatus(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			code, body := c.get(t, "/api/v1/namespaces/default/pods/two/log?container=b")
			if code != 400 || !strings.Contains(body, tt.want) || !strings.Contains(body, `"reason":"BadRequest"`) {
				t.Errorf("%s: %d %s, want 400 %q", tt.reason, code, body, tt.want)
			}
		}
	})
}

func TestFollowStreamsNewLines(t *testing.T) {
	c := newCluster(t)
	now := time.Now()
	id := "uid-1-app-0"
	path := filepath.Join(c.rt.dir, id+".log")
	c.rt.add(t, "web", "uid-1", "app", 0, runtimes.StateRunning, now, "hello")

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.api.URL+"/api/v1/namespaces/default/pods/web/log?follow=true", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 64)
	n, err := io.ReadAtLeast(resp.Body, buf, len("hello\n"))
	if err != nil || string(buf[:n]) != "hello\n" {
		t.Fatalf("first line: %q, %v", buf[:n], err)
	}
	// A line written later arrives on the open stream; closing the
	// writer (the container's end) ends it.
	w, err := logs.NewWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(w.Stdout(), "later")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	n, err = io.ReadAtLeast(resp.Body, buf, len("later\n"))
	if err != nil || string(buf[:n]) != "later\n" {
		t.Fatalf("followed line: %q, %v", buf[:n], err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(resp.Body)
	if err != nil || len(rest) != 0 {
		t.Errorf("after the end: %q, %v", rest, err)
	}
}

func TestExecThroughTheAPIServer(t *testing.T) {
	c := newCluster(t)
	c.rt.add(t, "web", "uid-1", "app", 0, runtimes.StateRunning, time.Now())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	execURL := func(stdin bool, cmd ...string) string {
		q := "container=app&stdout=true&stderr=true"
		if stdin {
			q += "&stdin=true"
		}
		for _, a := range cmd {
			q += "&command=" + a
		}
		return c.api.URL + "/api/v1/namespaces/default/pods/web/exec?" + q
	}
	tests := []struct {
		name           string
		cmd            []string
		stdin          string
		code           int
		stdout, stderr string
	}{
		{"stdout", []string{"echo", "hi", "there"}, "", 0, "hi there\n", ""},
		{"stderr", []string{"warn", "careful"}, "", 0, "", "careful\n"},
		{"exit code", []string{"exit", "3"}, "", 3, "", ""},
		{"stdin", []string{"cat"}, "some input\nmore\n", 0, "some input\nmore\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			req := ExecRequest{URL: execURL(tt.stdin != "", tt.cmd...), Stdout: &out, Stderr: &errOut}
			if tt.stdin != "" {
				req.Stdin = strings.NewReader(tt.stdin)
			}
			code, err := Exec(ctx, req)
			if err != nil {
				t.Fatalf("Exec: %v", err)
			}
			if code != tt.code || out.String() != tt.stdout || errOut.String() != tt.stderr {
				t.Errorf("code %d stdout %q stderr %q; want %d %q %q", code, out.String(), errOut.String(), tt.code, tt.stdout, tt.stderr)
			}
		})
	}
	t.Run("not running", func(t *testing.T) {
		c.rt.add(t, "two", "uid-2", "a", 0, runtimes.StateExited, time.Now())
		_, err := Exec(ctx, ExecRequest{URL: c.api.URL + "/api/v1/namespaces/default/pods/two/exec?container=a&command=echo", Stdout: io.Discard})
		if err == nil || !strings.Contains(err.Error(), "is not running") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestAgentToken(t *testing.T) {
	key := "aGVsbG8td2hhcmYtZ29zc2lwLWtleS0zMi1ieXRlcyE="
	if TokenFromKey("") != "" || TokenFromKey(key) == "" || TokenFromKey(key) == TokenFromKey("b3RoZXI=") {
		t.Fatal("TokenFromKey: want empty for no key, distinct tokens for distinct keys")
	}
	tests := []struct {
		name        string
		proxyToken  string
		wantThrough int
	}{
		{"proxy with the token", TokenFromKey(key), 200},
		{"proxy without it", "", 401},
		{"proxy with another", TokenFromKey("b3RoZXI="), 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClusterWithTokens(t, TokenFromKey(key), tt.proxyToken)
			c.rt.add(t, "web", "uid-1", "app", 0, runtimes.StateExited, time.Now(), "secret line")
			code, body := c.get(t, "/api/v1/namespaces/default/pods/web/log")
			if code != tt.wantThrough {
				t.Errorf("through the API: %d %s", code, body)
			}
			// Straight to the agent: only /healthz without the token.
			for path, want := range map[string]int{"/healthz": 200, "/pods/default/web/containers/app/log": 401} {
				resp, err := http.Get(c.agent + path)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Errorf("GET %s on the agent: %d, want %d", path, resp.StatusCode, want)
				}
			}
		})
	}
}
