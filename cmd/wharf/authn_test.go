package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestAgentTokenFlags checks that `wharf agent` refuses --token together
// with --token-file as a command-line mistake. The context is already
// cancelled, so that an agent started by mistake stops at once.
func TestAgentTokenFlags(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"agent", "--token", "t", "--token-file", "f", "--serf-bind", "127.0.0.1:0",
		"--listen", "127.0.0.1:0", "--data-dir", t.TempDir()}, strings.NewReader(""), &out, &errOut)
	want := "error: give the API token with --token or --token-file, not both\n"
	if code != 1 || !strings.HasPrefix(errOut.String(), want) || !strings.Contains(errOut.String(), "Usage:") {
		t.Fatalf("exit %d, stderr:\n%s\nwant the line %q then the usage", code, errOut.String(), want)
	}
}

// TestTokenFromEnv checks that WHARF_TOKEN is sent as --token is, and
// that it is never printed: it was the --token flag's default, which
// --help and the usage after a command-line mistake print.
func TestTokenFromEnv(t *testing.T) {
	const secret = "env-secret-token-0123"
	t.Setenv("WHARF_TOKEN", secret)
	var seen []string
	var mu sync.Mutex
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`)
	}))
	defer ts.Close()
	for _, tc := range []struct {
		name      string
		args      []string
		wantCode  int
		wantAuth  string
		wantError string
	}{
		{"help", []string{"get", "--help"}, 0, "", ""},
		{"usage after a bad flag", []string{"get", "pods", "--bogus"}, 1, "", "error: unknown flag: --bogus"},
		{"request with the env token", []string{"--server", ts.URL, "get", "pods"}, 1, "Bearer " + secret,
			"error: Unauthorized: the server does not accept the token: check --token or WHARF_TOKEN"},
		{"--token wins over the env", []string{"--server", ts.URL, "--token", "flag-token", "get", "pods"}, 1, "Bearer flag-token",
			"error: Unauthorized: the server does not accept the token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			seen = nil
			mu.Unlock()
			var out, errOut bytes.Buffer
			code := run(context.Background(), tc.args, strings.NewReader(""), &out, &errOut)
			if code != tc.wantCode || !strings.HasPrefix(errOut.String(), tc.wantError) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and stderr starting %q", code, errOut.String(), tc.wantCode, tc.wantError)
			}
			if strings.Contains(out.String()+errOut.String(), secret) {
				t.Errorf("the token was printed:\nstdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
			}
			mu.Lock()
			defer mu.Unlock()
			if tc.wantAuth != "" && (len(seen) == 0 || seen[0] != tc.wantAuth) {
				t.Errorf("the server saw Authorization %q, want %q", seen, tc.wantAuth)
			}
		})
	}
}
