package badger_test

import (
	"errors"
	"fmt"
	"github.com/wharfhq/wharf/internal/testutil"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	bdb "github.com/dgraph-io/badger/v4"

	"github.com/wharfhq/wharf/storage"
	"github.com/wharfhq/wharf/storage/badger"
	"github.com/wharfhq/wharf/storage/storagetest"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashWriterEnv) != "" {
		os.Exit(crashWriter())
	}
	os.Exit(testutil.CheckLeaks(m.Run(), "wharf/storage/badger.", "dgraph-io/badger"))
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// smallBadger keeps tests light: many stores are open at once.
func smallBadger(o bdb.Options) bdb.Options {
	return o.WithMemTableSize(8 << 20).WithValueThreshold(64 << 10).WithBlockCacheSize(8 << 20).WithValueLogFileSize(16 << 20).WithNumCompactors(2)
}

func open(t *testing.T, dir string, opts ...badger.Option) *badger.Store {
	t.Helper()
	opts = append([]badger.Option{badger.WithLogger(quiet), badger.WithBadgerOptions(smallBadger)}, opts...)
	s, err := badger.Open(dir, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		// A small watch window so that SlowWatcher really overruns it.
		return open(t, t.TempDir(), badger.WithWatchWindow(256))
	})
}

// TestConformanceTinyWindow runs the suite with a ring of 4 events, so that
// resumed watches replay from the event log on disk.
func TestConformanceTinyWindow(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return open(t, t.TempDir(), badger.WithWatchWindow(4))
	})
}

func TestOpenRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		dir  string
		opts []badger.Option
	}{
		{"empty dir", "", nil},
		{"zero watch window", t.TempDir(), []badger.Option{badger.WithWatchWindow(0)}},
		{"negative history", t.TempDir(), []badger.Option{badger.WithHistory(-1, 0)}},
		{"negative interval", t.TempDir(), []badger.Option{badger.WithCompactInterval(-time.Second)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := badger.Open(tt.dir, tt.opts...)
			if err == nil {
				s.Close()
				t.Fatalf("Open succeeded")
			}
		})
	}
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := badger.Open(dir, badger.WithLogger(quiet), badger.WithBadgerOptions(smallBadger))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ctx := t.Context()
	r1, _ := s.Create(ctx, "/a", []byte("1"))
	r2, _ := s.Create(ctx, "/b", []byte("2"))
	r3, err := s.Update(ctx, "/a", []byte("1b"), r1)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	r4, _, err := s.Delete(ctx, "/b", r2)
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	s = open(t, dir)
	if got := s.Revision(); got != r4 {
		t.Fatalf("Revision after reopen = %d, want %d", got, r4)
	}
	kv, err := s.Get(ctx, "/a")
	if err != nil || string(kv.Value) != "1b" || kv.ModRevision != r3 || kv.CreateRevision != r1 {
		t.Fatalf("Get /a after reopen = %+v, %v", kv, err)
	}
	if _, err := s.Get(ctx, "/b"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Get /b after reopen: %v, want ErrNotFound", err)
	}
	// History survives: a list at an old revision and a watch replay.
	res, err := s.List(ctx, "/", storage.ListOptions{Revision: r2})
	if err != nil || len(res.Items) != 2 || string(res.Items[0].Value) != "1" {
		t.Fatalf("List at %d after reopen = %+v, %v", r2, res, err)
	}
	w, err := s.Watch(ctx, "/", 0+r1)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	defer w.Stop()
	var got []string
	for range 3 {
		ev := <-w.Events()
		got = append(got, fmt.Sprintf("%v %s %d", ev.Type, ev.KV.Key, ev.KV.ModRevision))
	}
	want := []string{fmt.Sprintf("PUT /b %d", r2), fmt.Sprintf("PUT /a %d", r3), fmt.Sprintf("DELETE /b %d", r4)}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("replay after reopen = %q, want %q", got, want)
	}
	// New writes continue after the recovered revision.
	r5, err := s.Create(ctx, "/c", nil)
	if err != nil || r5 <= r4 {
		t.Fatalf("Create after reopen = %d, %v; want a revision after %d", r5, err, r4)
	}
}

func TestReopenKeepsCompaction(t *testing.T) {
	dir := t.TempDir()
	s, err := badger.Open(dir, badger.WithLogger(quiet), badger.WithBadgerOptions(smallBadger))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ctx := t.Context()
	var last int64
	for i := range 10 {
		if last, err = s.Update(ctx, "/k", []byte{byte(i)}, 0); errors.Is(err, storage.ErrNotFound) {
			last, err = s.Create(ctx, "/k", []byte{byte(i)})
		}
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	// Compact everything: the event log is then empty, and the revision
	// must still be recovered.
	if err := s.Compact(ctx, last); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	s.Close()

	s = open(t, dir)
	if got := s.Revision(); got != last {
		t.Fatalf("Revision after reopen = %d, want %d", got, last)
	}
	if _, err := s.Watch(ctx, "/", last-1); !errors.Is(err, storage.ErrCompacted) {
		t.Fatalf("Watch below the compacted revision after reopen: %v, want ErrCompacted", err)
	}
	if kv, err := s.Get(ctx, "/k"); err != nil || kv.Value[0] != 9 {
		t.Fatalf("Get after reopen = %+v, %v", kv, err)
	}
}

// TestLaggingWatcherIsClosed: a watcher whose consumer stops reading is
// closed with an error wrapping ErrCompacted once the ring has moved past
// it, while writers carry on.
func TestLaggingWatcherIsClosed(t *testing.T) {
	s := open(t, t.TempDir(), badger.WithWatchWindow(16))
	ctx := t.Context()
	w, err := s.Watch(ctx, "/", 0)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	defer w.Stop()
	// Enough writes to fill the channel buffer and then overrun the ring.
	for i := range 300 {
		if _, err := s.Create(ctx, fmt.Sprintf("/k%d", i), nil); err != nil {
			t.Fatalf("Create: %v", err)
		}
	}
	var n int
	for range w.Events() {
		n++
	}
	if !errors.Is(w.Err(), storage.ErrCompacted) {
		t.Fatalf("lagging watcher ended after %d events with Err = %v, want ErrCompacted", n, w.Err())
	}
	if n >= 300 {
		t.Fatalf("lagging watcher delivered all %d events", n)
	}
}

// TestWatchFromFuture: the store answers ErrFutureRevision.
func TestWatchFromFuture(t *testing.T) {
	s := open(t, t.TempDir())
	if _, err := s.Watch(t.Context(), "/", 5); !errors.Is(err, storage.ErrFutureRevision) {
		t.Fatalf("Watch from 5 on an empty store: %v, want ErrFutureRevision", err)
	}
	if err := s.Compact(t.Context(), 5); !errors.Is(err, storage.ErrFutureRevision) {
		t.Fatalf("Compact at 5 on an empty store: %v, want ErrFutureRevision", err)
	}
}
