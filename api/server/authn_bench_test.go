package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/server"
)

// authnBenchUsers is how many users the benchmark's token file lists:
// every request is compared with each of them.
const authnBenchUsers = 20

// newAuthnBenchEnvs starts two servers, one without authentication and
// one with a token file of authnBenchUsers users, and returns them with
// the token of the last user listed.
func newAuthnBenchEnvs(b *testing.B) (off, on *env, token string) {
	var lines strings.Builder
	for i := range authnBenchUsers {
		token = fmt.Sprintf("bench-token-%02d-0123456789abcdef", i)
		fmt.Fprintf(&lines, "%s,user-%d,%d,\"dev,ops\"\n", token, i, i)
	}
	tokens, err := server.ParseTokenFile(strings.NewReader(lines.String()))
	if err != nil {
		b.Fatal(err)
	}
	return newEnv(b), newEnv(b, func(c *server.Config) { c.Authenticator = tokens }), token
}

// benchAuthn runs op against off and on, interleaved in chunks of 256
// from benchClients clients each (so that both see the same disk and
// machine), and reports each one's rate and the ratio on/off.
func benchAuthn(b *testing.B, unit string, off, on func() error) {
	const chunk = 256
	var offTime, onTime time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; done += chunk {
		n := min(chunk, b.N-done)
		offTime += runParallel(b, n, off)
		onTime += runParallel(b, n, on)
	}
	b.StopTimer()
	offRate := float64(b.N) / offTime.Seconds()
	onRate := float64(b.N) / onTime.Seconds()
	b.ReportMetric(offRate, unit+"/s-off")
	b.ReportMetric(onRate, unit+"/s-authn")
	b.ReportMetric(onRate/offRate, "authn/off")
	b.ReportMetric(0, "ns/op")
}

// sendBench sends one request, with the bearer token when not empty, and
// checks its code.
func sendBench(client *http.Client, method, url, token string, body []byte, want int) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: code %d, want %d", method, url, res.StatusCode, want)
	}
	return nil
}

// BenchmarkAPICreateAuthn measures ConfigMap creates per second over real
// HTTP from 16 parallel clients against a server without authentication
// (creates/s-off, the floor) and one with a token file of 20 users, the
// token being the last listed (creates/s-authn), and their ratio
// (authn/off). Creates are fsync-bound: see BenchmarkAPIGetAuthn for the
// cost on a cheap request.
func BenchmarkAPICreateAuthn(b *testing.B) {
	off, on, token := newAuthnBenchEnvs(b)
	client := benchClient()
	var n atomic.Int64
	create := func(e *env, token string) func() error {
		return func() error {
			body, _ := json.Marshal(configMap("cm-"+strconv.FormatInt(n.Add(1), 10),
				map[string]string{"app": "bench"}, map[string]string{"key": "value"}))
			return sendBench(client, http.MethodPost, e.url+cmPath, token, body, http.StatusCreated)
		}
	}
	benchAuthn(b, "creates", create(off, ""), create(on, token))
}

// BenchmarkAPIGetAuthn is BenchmarkAPICreateAuthn for GETs of one
// ConfigMap (gets/s-off, gets/s-authn, authn/off): no disk write, so the
// authentication's share of a request shows.
func BenchmarkAPIGetAuthn(b *testing.B) {
	off, on, token := newAuthnBenchEnvs(b)
	client := benchClient()
	body, _ := json.Marshal(configMap("cm", nil, map[string]string{"key": "value"}))
	for _, e := range []struct {
		e     *env
		token string
	}{{off, ""}, {on, token}} {
		if err := sendBench(client, http.MethodPost, e.e.url+cmPath, e.token, body, http.StatusCreated); err != nil {
			b.Fatal(err)
		}
	}
	get := func(e *env, token string) func() error {
		return func() error { return sendBench(client, http.MethodGet, e.url+cmPath+"/cm", token, nil, http.StatusOK) }
	}
	benchAuthn(b, "gets", get(off, ""), get(on, token))
}

// BenchmarkAuthenticateToken measures one token lookup (ns/op) in token
// files of 20 and 1000 users, the token being the last listed: every
// entry is compared whatever matches, so the cost grows with the file.
func BenchmarkAuthenticateToken(b *testing.B) {
	for _, users := range []int{20, 1000} {
		b.Run(strconv.Itoa(users)+"-users", func(b *testing.B) {
			var lines strings.Builder
			var token string
			for i := range users {
				token = fmt.Sprintf("bench-token-%04d-0123456789abcdef", i)
				fmt.Fprintf(&lines, "%s,user-%d,%d\n", token, i, i)
			}
			tokens, err := server.ParseTokenFile(strings.NewReader(lines.String()))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := tokens.AuthenticateToken(ctx, token); !ok {
					b.Fatal("token not accepted")
				}
			}
		})
	}
}

// BenchmarkHandlerGetAuthn measures the server's own cost of a GET of one
// ConfigMap, called in process (no network, no client), without and with
// authentication (20-user file), alternating 256 calls of each
// (ns-off/op, ns-authn/op, authn/off).
func BenchmarkHandlerGetAuthn(b *testing.B) {
	off, on, token := newAuthnBenchEnvs(b)
	client := benchClient()
	body, _ := json.Marshal(configMap("cm", nil, map[string]string{"key": "value"}))
	call := func(e *env, token string) func() time.Duration {
		h := e.srv.Handler()
		req := httptest.NewRequest(http.MethodGet, cmPath+"/cm", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return func() time.Duration {
			start := time.Now()
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("code %d: %s", w.Code, w.Body)
			}
			return time.Since(start)
		}
	}
	for _, e := range []struct {
		e     *env
		token string
	}{{off, ""}, {on, token}} {
		if err := sendBench(client, http.MethodPost, e.e.url+cmPath, e.token, body, http.StatusCreated); err != nil {
			b.Fatal(err)
		}
	}
	offCall, onCall := call(off, ""), call(on, token)
	var offTime, onTime time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; done += 256 {
		n := min(256, b.N-done)
		for range n {
			offTime += offCall()
		}
		for range n {
			onTime += onCall()
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(offTime.Nanoseconds())/float64(b.N), "ns-off/op")
	b.ReportMetric(float64(onTime.Nanoseconds())/float64(b.N), "ns-authn/op")
	b.ReportMetric(float64(onTime)/float64(offTime), "authn/off")
	b.ReportMetric(0, "ns/op")
}
