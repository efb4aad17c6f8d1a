package membership

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func start(t *testing.T, cfg Config) *Membership {
	t.Helper()
	if cfg.BindAddr == "" {
		cfg.BindAddr = "127.0.0.1:0"
	}
	cfg.Fast = true
	cfg.Logger = quiet()
	m, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%s): %v", cfg.Name, err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

// waitFor polls m's member list (woken by its change signal) until cond
// holds or the test's deadline nears.
func waitFor(t *testing.T, m *Membership, what string, cond func([]Member) bool) {
	t.Helper()
	ch, cancel := m.Subscribe()
	defer cancel()
	ctx, stop := context.WithTimeout(context.Background(), 20*time.Second)
	defer stop()
	for !cond(m.Members()) {
		select {
		case <-ch:
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			t.Fatalf("%s: never happened; members: %+v", what, m.Members())
		}
	}
}

func status(ms []Member, name string) string {
	for _, m := range ms {
		if m.Name == name {
			return m.Status
		}
	}
	return ""
}

func TestJoinTagsAndServerDiscovery(t *testing.T) {
	srv := start(t, Config{Name: "server-1", Tags: map[string]string{TagRole: RoleServer, TagAPI: "http://127.0.0.1:6443"}})
	ag := start(t, Config{Name: "node-a", Tags: map[string]string{TagRole: RoleAgent, TagNode: "node-a", TagAgent: "127.0.0.1:10250"}})

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n, err := ag.Join(ctx, []string{srv.Addr()})
	if err != nil || n != 1 {
		t.Fatalf("Join = %d, %v; want 1, nil", n, err)
	}
	api, err := ag.WaitForServer(ctx)
	if err != nil {
		t.Fatalf("WaitForServer: %v", err)
	}
	if api != "http://127.0.0.1:6443" {
		t.Errorf("API from the server's tags = %q", api)
	}
	waitFor(t, srv, "server sees the agent", func(ms []Member) bool { return status(ms, "node-a") == StatusAlive })
	for _, m := range srv.Members() {
		if m.Name == "node-a" && (m.Role() != RoleAgent || m.Tags[TagAgent] != "127.0.0.1:10250") {
			t.Errorf("agent tags as the server sees them: %v", m.Tags)
		}
	}

	// A tag change is gossiped.
	tags := ag.Tags()
	tags[TagRuntimes] = "wasm"
	if err := ag.SetTags(tags); err != nil {
		t.Fatal(err)
	}
	waitFor(t, srv, "tag update", func(ms []Member) bool {
		for _, m := range ms {
			if m.Name == "node-a" && m.Tags[TagRuntimes] == "wasm" {
				return true
			}
		}
		return false
	})
}

func TestFailureAndLeave(t *testing.T) {
	tests := []struct {
		name string
		stop func(*Membership) error
		want string
	}{
		{"crash is failed", (*Membership).Shutdown, StatusFailed},
		{"leave is left", (*Membership).Leave, StatusLeft},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := start(t, Config{Name: "a"})
			b := start(t, Config{Name: "b"})
			if _, err := b.Join(context.Background(), []string{a.Addr()}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, a, "b alive", func(ms []Member) bool { return status(ms, "b") == StatusAlive })
			if err := tt.stop(b); err != nil {
				t.Fatal(err)
			}
			waitFor(t, a, "b "+tt.want, func(ms []Member) bool { return status(ms, "b") == tt.want })
		})
	}
}

func TestEncryption(t *testing.T) {
	key := "aGVsbG8td2hhcmYtZ29zc2lwLWtleS0zMi1ieXRlcyE=" // 32 bytes
	a := start(t, Config{Name: "a", EncryptKey: key})
	b := start(t, Config{Name: "b", EncryptKey: key})
	if _, err := b.Join(context.Background(), []string{a.Addr()}); err != nil {
		t.Fatalf("same key: %v", err)
	}
	waitFor(t, a, "b alive", func(ms []Member) bool { return status(ms, "b") == StatusAlive })

	plain := start(t, Config{Name: "plain"})
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if _, err := plain.Join(ctx, []string{a.Addr()}); err == nil {
		t.Error("a member without the key joined an encrypted cluster")
	}

	for _, bad := range []string{"not base64!", "c2hvcnQ="} {
		if _, err := New(Config{Name: "x", BindAddr: "127.0.0.1:0", EncryptKey: bad, Logger: quiet()}); !errors.Is(err, ErrBadKey) {
			t.Errorf("key %q: err = %v, want ErrBadKey", bad, err)
		}
	}
}

func TestSnapshotRejoin(t *testing.T) {
	a := start(t, Config{Name: "a"})
	snap := filepath.Join(t.TempDir(), "serf.snapshot")
	b, err := New(Config{Name: "b", BindAddr: "127.0.0.1:0", SnapshotPath: snap, Fast: true, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Join(context.Background(), []string{a.Addr()}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, a, "b alive", func(ms []Member) bool { return status(ms, "b") == StatusAlive })
	if err := b.Shutdown(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, a, "b failed", func(ms []Member) bool { return status(ms, "b") == StatusFailed })

	// Restarted with the same snapshot and no join address, b finds a.
	b2 := start(t, Config{Name: "b", SnapshotPath: snap})
	waitFor(t, b2, "b rejoined a", func(ms []Member) bool { return status(ms, "a") == StatusAlive })
	waitFor(t, a, "a sees b again", func(ms []Member) bool { return status(ms, "b") == StatusAlive })
}
