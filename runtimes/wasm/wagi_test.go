package wasm

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/logs"
	"github.com/wharfhq/wharf/runtimes/wasm/wasmtest"
)

func handler(t testing.TB, r *Runtime, spec *runtimes.Spec) *Function {
	t.Helper()
	h, err := r.HTTPHandler(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	f := h.(*Function)
	t.Cleanup(func() { f.Close() })
	return f
}

func TestWAGI(t *testing.T) {
	r := newRuntime(t)
	srv := httptest.NewServer(handler(t, r, &runtimes.Spec{
		Image: "file://" + goApp,
		Args:  []string{"wagi"},
		Env:   []runtimes.EnvVar{{Name: "GREETING", Value: "hi"}, {Name: "REQUEST_METHOD", Value: "spoofed"}},
	}))
	defer srv.Close()
	port := srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]

	tests := []struct {
		name     string
		method   string
		path     string
		body     string
		header   map[string]string
		code     int
		contains []string
	}{
		{"get with query", "GET", "/hello/world?a=1&b=two", "", map[string]string{"X-Test": "yes"}, 200, []string{
			"REQUEST_METHOD=GET\n", "PATH_INFO=/hello/world\n", "QUERY_STRING=a=1&b=two\n",
			"SERVER_NAME=127.0.0.1\n", "SERVER_PORT=" + port + "\n", "SERVER_PROTOCOL=HTTP/1.1\n",
			"SCRIPT_NAME=\n", "X_FULL_URL=" + srv.URL + "/hello/world?a=1&b=two\n", "HTTP_X_TEST=yes\n",
			"GREETING=hi\n", "remote=true\n", "body=\n",
		}},
		{"post body", "POST", "/submit", "name=wharf", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 200, []string{
			"REQUEST_METHOD=POST\n", "CONTENT_TYPE=application/x-www-form-urlencoded\n", "CONTENT_LENGTH=10\n",
			"body=name=wharf\n",
		}},
		{"status header", "GET", "/missing", "", map[string]string{"X-Status": "404 Not Found"}, 404, []string{"PATH_INFO=/missing\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.code, b)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/plain" {
				t.Errorf("content type %q", ct)
			}
			if m := resp.Header.Get("X-Method"); m != tc.method {
				t.Errorf("X-Method header %q", m)
			}
			if resp.Header.Get("Status") != "" {
				t.Error("the Status pseudo-header was passed through")
			}
			for _, c := range tc.contains {
				if !bytes.Contains(b, []byte(c)) {
					t.Errorf("body lacks %q:\n%s", c, b)
				}
			}
		})
	}
	if n := r.Compiles(); n != 1 {
		t.Fatalf("compiled %d times for %d requests, want once", n, len(tests))
	}
}

func TestWAGIStderrGoesToLog(t *testing.T) {
	r := newRuntime(t)
	f := handler(t, r, &runtimes.Spec{Image: "file://" + goApp, Args: []string{"wagi"}})
	rec := httptest.NewRecorder()
	f.ServeHTTP(rec, httptest.NewRequest("GET", "/logged", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	var buf bytes.Buffer
	if err := logs.Read(context.Background(), f.LogPath(), runtimes.LogOptions{Stream: "stderr"}, &buf); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "served /logged\n" {
		t.Fatalf("function log %q", buf.String())
	}
}

func TestWAGIFailures(t *testing.T) {
	r := newRuntime(t)
	tests := []struct {
		name     string
		spec     runtimes.Spec
		code     int
		contains string
		header   [2]string
	}{
		{"trap", runtimes.Spec{Image: writeModule(t, wasmtest.Unreachable())}, 500, "wasm error: unreachable", [2]string{}},
		{"exit code", runtimes.Spec{Image: writeModule(t, wasmtest.Exit(3))}, 500, "exited with code 3", [2]string{}},
		{"go panic", runtimes.Spec{Image: "file://" + goApp, Args: []string{"panic"}}, 500, "exited with code 2", [2]string{}},
		{"endless loop", runtimes.Spec{Image: writeModule(t, wasmtest.Loop()), Deadline: 50 * time.Millisecond}, 504, "timed out", [2]string{}},
		{"memory bomb", runtimes.Spec{Image: writeModule(t, wasmtest.GrowForever(16)),
			Resources: runtimes.Resources{MemoryLimitBytes: 1 << 20}}, 500, "OOMKilled", [2]string{}},
		{"no blank line", runtimes.Spec{Image: writeModule(t, wasmtest.Print("Content-Type: text/plain\n"))}, 500, "malformed", [2]string{}},
		{"redirect", runtimes.Spec{Image: "file://" + goApp, Args: []string{"redirect"}}, 302, "", [2]string{"Location", "/elsewhere"}},
		{"minimal", runtimes.Spec{Image: writeModule(t, wasmtest.Print("Content-Type: text/plain\r\n\r\nhello\n"))}, 200, "hello\n", [2]string{"Content-Type", "text/plain"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := handler(t, r, &tc.spec)
			// Twice: a failed request leaves the handler usable.
			for range 2 {
				rec := httptest.NewRecorder()
				f.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
				if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.contains) {
					t.Fatalf("status %d body %q, want %d with %q", rec.Code, rec.Body.String(), tc.code, tc.contains)
				}
				if tc.header[0] != "" && rec.Header().Get(tc.header[0]) != tc.header[1] {
					t.Fatalf("header %s = %q", tc.header[0], rec.Header().Get(tc.header[0]))
				}
			}
		})
	}
}

func TestWAGIConcurrent(t *testing.T) {
	r := newRuntime(t)
	f := handler(t, r, &runtimes.Spec{Image: "file://" + goApp, Args: []string{"wagi"}})
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for i := range 16 {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			path := "/req/" + string(rune('a'+i))
			f.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), "PATH_INFO="+path+"\n") {
				errs <- rec.Body.String()
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("bad response: %q", e)
	}
}

func TestWAGIScriptName(t *testing.T) {
	r := newRuntime(t)
	f := handler(t, r, &runtimes.Spec{Image: "file://" + goApp, Args: []string{"wagi"}})
	srv := httptest.NewServer(http.StripPrefix("/fn", f))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/fn/a%20b/c?q=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"SCRIPT_NAME=/fn\n", "PATH_INFO=/a b/c\n", "QUERY_STRING=q=1\n", "X_FULL_URL=" + srv.URL + "/fn/a%20b/c?q=1\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("body lacks %q:\n%s", want, b)
		}
	}
}

func TestWAGIConcurrencyCap(t *testing.T) {
	tests := []struct {
		name      string
		queueWait time.Duration
		cancel    bool // the waiting request's context is already done
		want      int  // code of the second request while the first runs
	}{
		{"no wait: 503 at once", 0, false, http.StatusServiceUnavailable},
		{"client gone while waiting: 503", time.Hour, true, http.StatusServiceUnavailable},
		{"waits for the slot: 200", time.Hour, false, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRuntime(t, WithMaxConcurrentRequests(1), WithQueueWait(tt.queueWait))
			f := handler(t, r, &runtimes.Spec{Image: "file://" + goApp, Args: []string{"wagi"}})
			// The first request's instance holds the only slot while it
			// reads a body that does not end until pw is closed.
			pr, pw := io.Pipe()
			first := make(chan int, 1)
			go func() {
				rec := httptest.NewRecorder()
				f.ServeHTTP(rec, httptest.NewRequest("POST", "/first", pr))
				first <- rec.Code
			}()
			for len(f.slots) == 0 {
				time.Sleep(time.Millisecond)
			}
			req := httptest.NewRequest("GET", "/second", nil)
			if tt.cancel {
				ctx, cancel := context.WithCancel(req.Context())
				cancel()
				req = req.WithContext(ctx)
			}
			second := make(chan *httptest.ResponseRecorder, 1)
			go func() {
				rec := httptest.NewRecorder()
				f.ServeHTTP(rec, req)
				second <- rec
			}()
			if tt.want == http.StatusServiceUnavailable {
				rec := <-second
				if rec.Code != tt.want || rec.Header().Get("Retry-After") == "" {
					t.Errorf("second request: %d, Retry-After %q, want %d with Retry-After", rec.Code, rec.Header().Get("Retry-After"), tt.want)
				}
			}
			pw.Close()
			if code := <-first; code != http.StatusOK {
				t.Errorf("first request: %d, want 200", code)
			}
			if tt.want == http.StatusOK {
				if rec := <-second; rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "PATH_INFO=/second\n") {
					t.Errorf("second request: %d %q, want 200 after the first", rec.Code, rec.Body.String())
				}
			}
			if n := len(f.slots); n != 0 {
				t.Errorf("%d slots still held after both requests", n)
			}
		})
	}
}

// TestWAGIFunctionsShareTheirLog: two Functions of one image and label
// set write one log through one writer: when one rotates the file, the
// other's lines still go to the current file (with a writer each, they
// went on into the rotated one, which Logs does not read), and the log is
// marked done only when the last is closed.
func TestWAGIFunctionsShareTheirLog(t *testing.T) {
	r := newRuntime(t, WithLogRotation(logs.Rotation{MaxSize: 300, MaxFiles: 2}))
	spec := &runtimes.Spec{Image: "file://" + goApp, Args: []string{"wagi"}}
	f1, f2 := handler(t, r, spec), handler(t, r, spec)
	if f1.LogPath() != f2.LogPath() {
		t.Fatalf("log paths %s and %s, want one", f1.LogPath(), f2.LogPath())
	}
	serve := func(f *Function, path string) {
		t.Helper()
		rec := httptest.NewRecorder()
		f.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 200 {
			t.Fatalf("%s: status %d", path, rec.Code)
		}
	}
	for i := range 20 { // past the size a few times: f1 rotates
		serve(f1, fmt.Sprintf("/f1-%02d", i))
	}
	serve(f2, "/f2")
	rotated, err := logs.RotatedFiles(f1.LogPath())
	if err != nil || len(rotated) == 0 {
		t.Fatalf("rotated files %v, %v; want some", rotated, err)
	}
	read := func() string {
		var buf bytes.Buffer
		if err := logs.Read(context.Background(), f1.LogPath(), runtimes.LogOptions{}, &buf); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	if got := read(); !strings.HasSuffix(got, "served /f2\n") {
		t.Fatalf("current log %q does not end with f2's line", got)
	}
	if err := f1.Close(); err != nil {
		t.Fatal(err)
	}
	if logs.IsDone(f1.LogPath()) {
		t.Fatal("log marked done while f2 still serves")
	}
	serve(f2, "/f2-after")
	if got := read(); !strings.HasSuffix(got, "served /f2-after\n") {
		t.Fatalf("current log %q does not end with f2's last line", got)
	}
	if err := f2.Close(); err != nil {
		t.Fatal(err)
	}
	if !logs.IsDone(f1.LogPath()) {
		t.Fatal("log not marked done after the last Function closed")
	}
}
