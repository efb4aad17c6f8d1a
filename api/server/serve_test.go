package server_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/server"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/storage/badger"
)

// startServe runs Serve of a server of cfg (its Store and Logger set
// here) on a loopback listener until cancel; served receives what Serve
// returned.
func startServe(t *testing.T, cfg server.Config) (st *badger.Store, srv *server.Server, l net.Listener, cancel context.CancelFunc, served chan error) {
	t.Helper()
	st, err := badger.Open(t.TempDir(), badger.WithCompactInterval(0), badger.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg.Store, cfg.Logger = st, slog.New(slog.NewTextHandler(io.Discard, nil))
	if srv, err = server.New(cfg); err != nil {
		t.Fatal(err)
	}
	if l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served = make(chan error, 1)
	go func() { served <- srv.Serve(ctx, l) }()
	return st, srv, l, cancel, served
}

// TestServeShutdownEndsWatches: Serve answers on its listener and, when
// its context ends, closes open watches and returns nil.
func TestServeShutdownEndsWatches(t *testing.T) {
	st, srv, l, cancel, served := startServe(t, server.Config{})
	defer cancel()

	e := &env{url: "http://" + l.Addr().String(), store: st, srv: srv, now: fixedStart}
	e.get(t, "/readyz").must(t, 200)
	w := e.watch(t, cmPath+"?watch=true", "")
	cancel()
	// The watch ends (cleanly, without an event) and Serve returns.
	w.expectEnd()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve returned %v", err)
		}
	case <-time.After(watchWait):
		t.Fatal("Serve did not return after its context ended")
	}
}

// TestServeClosesIdleConnections: a kept-alive connection that sends no
// new request is closed after Config.IdleTimeout (it was held open for
// ever, so that idle clients, even unauthenticated ones, could pile up
// connections).
func TestServeClosesIdleConnections(t *testing.T) {
	_, _, l, cancel, served := startServe(t, server.Config{IdleTimeout: 50 * time.Millisecond})
	t.Cleanup(func() { cancel(); <-served })

	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: wharf\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Close {
		t.Fatalf("GET /healthz: %d, close %v; want 200 on a kept-alive connection", res.StatusCode, res.Close)
	}
	// A safety net, far above the idle timeout: the read ends with EOF
	// when the server closes the connection.
	if err := conn.SetReadDeadline(time.Now().Add(watchWait)); err != nil {
		t.Fatal(err)
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("reading the idle connection: %v, want EOF (closed by the server)", err)
	}
}

// TestNamespaceDeletionResumesOnAnotherServer: the namespace loop is
// level-triggered: a namespace marked Terminating by a server that then
// went away (no loop ran) is emptied and removed by the next server.
func TestNamespaceDeletionResumesOnAnotherServer(t *testing.T) {
	st, err := badger.Open(t.TempDir(), badger.WithCompactInterval(0), badger.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	first, err := server.New(server.Config{Store: st, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(first.Handler()) // no RunBackground: no loop
	t.Cleanup(hs.Close)
	e := &env{url: hs.URL, store: st, srv: first, now: fixedStart}
	e.post(t, "/api/v1/namespaces", map[string]any{"metadata": map[string]any{"name": "gone"}}).must(t, http.StatusCreated)
	e.post(t, "/api/v1/namespaces/gone/configmaps", configMap("a", nil, nil)).must(t, http.StatusCreated)
	e.del(t, "/api/v1/namespaces/gone", nil).must(t, 200)
	e.get(t, "/api/v1/namespaces/gone/configmaps/a").must(t, 200)

	w := e.watch(t, "/api/v1/namespaces?watch=true&fieldSelector=metadata.name%3Dgone&resourceVersion="+itoa(st.Revision()), "")
	second, err := server.New(server.Config{Store: st, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		second.RunBackground(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()
	w.expect(types.Deleted, "gone")
	e.get(t, "/api/v1/namespaces/gone/configmaps/a").status(t, 404, types.StatusReasonNotFound)
}

// TestBodyLimit: MaxBodyBytes applies to bodies without a Content-Length
// (chunked) as well as to declared ones, and nothing is written.
func TestBodyLimit(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.MaxBodyBytes = 1024 })
	big := `{"metadata":{"name":"big"},"data":{"x":"` + strings.Repeat("x", 2048) + `"}}`
	rev := e.store.Revision()
	// A reader of unknown length makes net/http send the body chunked.
	hr, err := http.NewRequest(http.MethodPost, e.url+cmPath, io.MultiReader(strings.NewReader(big)))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	resp{code: res.StatusCode, body: body}.status(t, http.StatusRequestEntityTooLarge, types.StatusReasonRequestTooLarge)
	e.post(t, cmPath, big).status(t, http.StatusRequestEntityTooLarge, types.StatusReasonRequestTooLarge)
	e.patch(t, cmPath+"/x", "application/merge-patch+json", big).status(t, http.StatusRequestEntityTooLarge, types.StatusReasonRequestTooLarge)
	if e.store.Revision() != rev {
		t.Fatal("an oversized request wrote")
	}
	// A body under the limit is fine.
	e.post(t, cmPath, configMap("small", nil, map[string]string{"x": "y"})).must(t, http.StatusCreated)
}
