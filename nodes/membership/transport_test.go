package membership

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestAPITransportFollowsTheServers(t *testing.T) {
	api := func(name string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, name) }))
		t.Cleanup(s.Close)
		return s
	}
	apiA, apiB := api("A"), api("B")
	srvA := start(t, Config{Name: "server-a", Tags: map[string]string{TagRole: RoleServer, TagAPI: apiA.URL}})
	srvB := start(t, Config{Name: "server-b", Tags: map[string]string{TagRole: RoleServer, TagAPI: apiB.URL}})
	agent := start(t, Config{Name: "agent", Tags: map[string]string{TagRole: RoleAgent}})
	ctx := context.Background()
	for _, m := range []*Membership{srvB, agent} {
		if _, err := m.Join(ctx, []string{srvA.Addr()}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, agent, "both servers alive", func(ms []Member) bool {
		return status(ms, "server-a") == StatusAlive && status(ms, "server-b") == StatusAlive
	})

	hc := &http.Client{Transport: agent.APITransport(nil)}
	get := func() (string, error) {
		resp, err := hc.Get("http://wharf-api.invalid/version")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	first, err := get()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := get(); again != first {
		t.Errorf("the transport moved from %s to %s with both servers up", first, again)
	}

	// The server in use goes away (its API closes, its member crashes):
	// at most one request fails, then the transport uses the other.
	gone, goneAPI, other := srvA, apiA, "B"
	if first == "B" {
		gone, goneAPI, other = srvB, apiB, "A"
	}
	goneAPI.Close()
	if err := gone.Shutdown(); err != nil {
		t.Fatal(err)
	}
	_, _ = get() // may fail, if the membership has not noticed yet
	got, err := get()
	if err != nil || got != other {
		t.Errorf("after the loss: %q, %v; want %q", got, err, other)
	}

	// No server at all: a clear error.
	lonely := start(t, Config{Name: "lonely"})
	_, err = (&http.Client{Transport: lonely.APITransport(nil)}).Get("http://x/")
	if !errors.Is(err, ErrNoServer) {
		t.Errorf("no server: err = %v, want ErrNoServer", err)
	}
}
