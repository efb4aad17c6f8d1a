package badger_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/wharfhq/wharf/storage"
	"github.com/wharfhq/wharf/storage/badger"
)

// TestBackgroundCompactionBoundsHistory: with history bounded to 5
// revisions and the compactor running every few milliseconds, reads and
// watches at old revisions soon answer ErrCompacted, recent ones still
// work, and the current objects are untouched.
func TestBackgroundCompactionBoundsHistory(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir(), badger.WithHistory(5, 0), badger.WithCompactInterval(5*time.Millisecond))
	var first int64
	for i := range 20 {
		rev, err := s.Create(ctx, fmt.Sprintf("/k/%02d", i), []byte("v"))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = rev
		}
	}
	cur := s.Revision()

	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := s.List(ctx, "/k/", storage.ListOptions{Revision: first})
		if errors.Is(err, storage.ErrCompacted) {
			break
		}
		if err != nil {
			t.Fatalf("List at revision %d: %v, want ErrCompacted or success", first, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("revision %d of %d still readable after 5s: the background compactor did not run", first, cur)
		}
		time.Sleep(10 * time.Millisecond)
	}

	w, err := s.Watch(ctx, "/k/", first)
	if err == nil {
		select {
		case _, ok := <-w.Events():
			if ok {
				t.Fatalf("watch from compacted revision %d delivered an event", first)
			}
			err = w.Err()
		case <-time.After(5 * time.Second):
			t.Fatal("watch from a compacted revision neither failed nor closed")
		}
		w.Stop()
	}
	if !errors.Is(err, storage.ErrCompacted) {
		t.Fatalf("Watch from compacted revision %d: %v, want ErrCompacted", first, err)
	}

	res, err := s.List(ctx, "/k/", storage.ListOptions{Revision: cur - 2})
	if err != nil {
		t.Fatalf("List at recent revision %d: %v", cur-2, err)
	}
	if len(res.Items) != 18 {
		t.Errorf("List at revision %d = %d items, want 18", cur-2, len(res.Items))
	}
	res, err = s.List(ctx, "/k/", storage.ListOptions{})
	if err != nil || len(res.Items) != 20 {
		t.Fatalf("List now = %d items, %v; want all 20", len(res.Items), err)
	}
}
