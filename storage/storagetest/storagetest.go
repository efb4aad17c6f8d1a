// Package storagetest is the conformance suite every storage.Store
// implementation runs: storagetest.Run(t, newStore).
package storagetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/wharfhq/wharf/storage"
)

// Run runs the conformance suite. newStore returns a new, empty store for
// each subtest and arranges for it to be closed (Close may then be called
// twice: the suite closes some stores itself).
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Store)
	}{
		{"CreateGet", testCreateGet},
		{"Update", testUpdate},
		{"Delete", testDelete},
		{"RevisionOnlyOnSuccess", testRevisionOnlyOnSuccess},
		{"ConcurrentCAS", testConcurrentCAS},
		{"ConcurrentCreate", testConcurrentCreate},
		{"List", testList},
		{"ListAtRevision", testListAtRevision},
		{"ListPagination", testListPagination},
		{"ListFilter", testListFilter},
		{"WatchOrder", testWatchOrder},
		{"WatchResume", testWatchResume},
		{"WatchPrefixIsolation", testWatchPrefixIsolation},
		{"WatchCompacted", testWatchCompacted},
		{"WatchStop", testWatchStop},
		{"SlowWatcher", testSlowWatcher},
		{"CloseClosesWatchers", testCloseClosesWatchers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

// liveness bounds how long a helper waits for something the store must
// deliver, so that a bug fails the test instead of hanging the suite. It is
// not a performance assertion.
const liveness = 30 * time.Second

func create(t *testing.T, s storage.Store, key, value string) int64 {
	t.Helper()
	rev, err := s.Create(t.Context(), key, []byte(value))
	if err != nil {
		t.Fatalf("Create(%q): %v", key, err)
	}
	return rev
}

func update(t *testing.T, s storage.Store, key, value string, expected int64) int64 {
	t.Helper()
	rev, err := s.Update(t.Context(), key, []byte(value), expected)
	if err != nil {
		t.Fatalf("Update(%q, %d): %v", key, expected, err)
	}
	return rev
}

func del(t *testing.T, s storage.Store, key string, expected int64) int64 {
	t.Helper()
	rev, _, err := s.Delete(t.Context(), key, expected)
	if err != nil {
		t.Fatalf("Delete(%q, %d): %v", key, expected, err)
	}
	return rev
}

func get(t *testing.T, s storage.Store, key string) storage.KV {
	t.Helper()
	kv, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return kv
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

func checkKV(t *testing.T, got storage.KV, key, value string, mod, create int64) {
	t.Helper()
	if got.Key != key || string(got.Value) != value || got.ModRevision != mod || got.CreateRevision != create {
		t.Fatalf("got KV{%q, %q, mod %d, create %d}, want KV{%q, %q, mod %d, create %d}",
			got.Key, got.Value, got.ModRevision, got.CreateRevision, key, value, mod, create)
	}
}

// recv reads n events from w, failing if the stream ends first.
func recv(t *testing.T, w storage.Watcher, n int) []storage.Event {
	t.Helper()
	evs := make([]storage.Event, 0, n)
	timer := time.NewTimer(liveness)
	defer timer.Stop()
	for len(evs) < n {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				t.Fatalf("watch closed after %d of %d events: %v", len(evs), n, w.Err())
			}
			evs = append(evs, ev)
		case <-timer.C:
			t.Fatalf("no event within %v after %d of %d events", liveness, len(evs), n)
		}
	}
	return evs
}

// drainClosed reads w until its channel closes and returns what it got.
func drainClosed(t *testing.T, w storage.Watcher) []storage.Event {
	t.Helper()
	var evs []storage.Event
	timer := time.NewTimer(liveness)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				return evs
			}
			evs = append(evs, ev)
		case <-timer.C:
			t.Fatalf("watch not closed within %v (%d events read)", liveness, len(evs))
		}
	}
}

func checkEvent(t *testing.T, ev storage.Event, typ storage.EventType, key, value string, rev int64, prev *string) {
	t.Helper()
	if ev.Type != typ || ev.KV.Key != key || ev.KV.ModRevision != rev || string(ev.KV.Value) != value {
		t.Fatalf("event = %v %q %q rev %d, want %v %q %q rev %d",
			ev.Type, ev.KV.Key, ev.KV.Value, ev.KV.ModRevision, typ, key, value, rev)
	}
	switch {
	case prev == nil && ev.Prev != nil:
		t.Fatalf("event %v %q rev %d: Prev = %q, want nil", typ, key, rev, ev.Prev.Value)
	case prev != nil && ev.Prev == nil:
		t.Fatalf("event %v %q rev %d: Prev = nil, want %q", typ, key, rev, *prev)
	case prev != nil && string(ev.Prev.Value) != *prev:
		t.Fatalf("event %v %q rev %d: Prev = %q, want %q", typ, key, rev, ev.Prev.Value, *prev)
	}
}

func ptr(s string) *string { return &s }

func testCreateGet(t *testing.T, s storage.Store) {
	if got := s.Revision(); got != 0 {
		t.Fatalf("new store Revision() = %d, want 0", got)
	}
	_, err := s.Get(t.Context(), "/a")
	wantErr(t, "Get missing", err, storage.ErrNotFound)

	rev := create(t, s, "/a", "one")
	if rev <= 0 {
		t.Fatalf("Create revision = %d, want > 0", rev)
	}
	if got := s.Revision(); got != rev {
		t.Fatalf("Revision() = %d, want %d", got, rev)
	}
	checkKV(t, get(t, s, "/a"), "/a", "one", rev, rev)

	_, err = s.Create(t.Context(), "/a", []byte("two"))
	wantErr(t, "Create existing", err, storage.ErrExists)
	checkKV(t, get(t, s, "/a"), "/a", "one", rev, rev)

	// Empty and binary values round-trip.
	rev2 := create(t, s, "/empty", "")
	checkKV(t, get(t, s, "/empty"), "/empty", "", rev2, rev2)
	bin := string([]byte{0, 1, 2, 255})
	rev3 := create(t, s, "/bin", bin)
	checkKV(t, get(t, s, "/bin"), "/bin", bin, rev3, rev3)
	if !(rev < rev2 && rev2 < rev3) {
		t.Fatalf("revisions %d, %d, %d not increasing", rev, rev2, rev3)
	}
}

func testUpdate(t *testing.T, s storage.Store) {
	r1 := create(t, s, "/k", "v1")
	tests := []struct {
		name     string
		key      string
		expected func(cur int64) int64
		wantErr  error
	}{
		{"matching revision", "/k", func(cur int64) int64 { return cur }, nil},
		{"stale revision", "/k", func(cur int64) int64 { return cur - 1 }, storage.ErrConflict},
		{"future revision", "/k", func(cur int64) int64 { return cur + 100 }, storage.ErrConflict},
		{"unconditional", "/k", func(int64) int64 { return 0 }, nil},
		{"missing key", "/missing", func(int64) int64 { return 0 }, storage.ErrNotFound},
		{"missing key with revision", "/missing", func(cur int64) int64 { return cur }, storage.ErrNotFound},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := get(t, s, "/k")
			value := fmt.Sprintf("v%d", i+2)
			rev, err := s.Update(t.Context(), tt.key, []byte(value), tt.expected(before.ModRevision))
			if tt.wantErr != nil {
				wantErr(t, "Update", err, tt.wantErr)
				checkKV(t, get(t, s, "/k"), "/k", string(before.Value), before.ModRevision, r1)
				return
			}
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			if rev <= before.ModRevision {
				t.Fatalf("Update revision %d not after %d", rev, before.ModRevision)
			}
			checkKV(t, get(t, s, "/k"), "/k", value, rev, r1)
		})
	}
}

func testDelete(t *testing.T, s storage.Store) {
	r1 := create(t, s, "/d", "v1")
	r2 := update(t, s, "/d", "v2", r1)

	_, _, err := s.Delete(t.Context(), "/d", r1)
	wantErr(t, "Delete stale", err, storage.ErrConflict)
	checkKV(t, get(t, s, "/d"), "/d", "v2", r2, r1)

	rev, last, err := s.Delete(t.Context(), "/d", r2)
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if rev <= r2 {
		t.Fatalf("Delete revision %d not after %d", rev, r2)
	}
	checkKV(t, last, "/d", "v2", r2, r1)
	_, err = s.Get(t.Context(), "/d")
	wantErr(t, "Get deleted", err, storage.ErrNotFound)
	_, _, err = s.Delete(t.Context(), "/d", 0)
	wantErr(t, "Delete deleted", err, storage.ErrNotFound)
	_, err = s.Update(t.Context(), "/d", []byte("x"), 0)
	wantErr(t, "Update deleted", err, storage.ErrNotFound)

	// Re-creating starts a new life with a new create revision.
	r4 := create(t, s, "/d", "v3")
	checkKV(t, get(t, s, "/d"), "/d", "v3", r4, r4)

	// Unconditional delete.
	r5, last, err := s.Delete(t.Context(), "/d", 0)
	if err != nil {
		t.Fatalf("Delete(0): %v", err)
	}
	checkKV(t, last, "/d", "v3", r4, r4)
	if got := s.Revision(); got != r5 {
		t.Fatalf("Revision() = %d after delete at %d", got, r5)
	}
}

func testRevisionOnlyOnSuccess(t *testing.T, s storage.Store) {
	r1 := create(t, s, "/r", "v")
	failures := []struct {
		name string
		op   func() error
		want error
	}{
		{"create existing", func() error { _, err := s.Create(t.Context(), "/r", nil); return err }, storage.ErrExists},
		{"update conflict", func() error { _, err := s.Update(t.Context(), "/r", nil, r1+1); return err }, storage.ErrConflict},
		{"update missing", func() error { _, err := s.Update(t.Context(), "/nope", nil, 0); return err }, storage.ErrNotFound},
		{"delete conflict", func() error { _, _, err := s.Delete(t.Context(), "/r", r1+1); return err }, storage.ErrConflict},
		{"delete missing", func() error { _, _, err := s.Delete(t.Context(), "/nope", 0); return err }, storage.ErrNotFound},
	}
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			wantErr(t, f.name, f.op(), f.want)
			if got := s.Revision(); got != r1 {
				t.Fatalf("Revision() = %d after a failed write, want %d", got, r1)
			}
		})
	}
}

// testConcurrentCAS races writers on one counter key: every successful
// update must have been made against the revision the previous successful
// update produced (one winner per revision), and no increment is lost.
func testConcurrentCAS(t *testing.T, s storage.Store) {
	const writers, perWriter = 8, 15
	create(t, s, "/counter", "0")
	type win struct{ expected, rev int64 }
	var (
		mu   sync.Mutex
		wins []win
	)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Go(func() {
			for done := 0; done < perWriter; {
				kv, err := s.Get(t.Context(), "/counter")
				if err != nil {
					errs <- err
					return
				}
				n, err := strconv.Atoi(string(kv.Value))
				if err != nil {
					errs <- err
					return
				}
				rev, err := s.Update(t.Context(), "/counter", []byte(strconv.Itoa(n+1)), kv.ModRevision)
				if errors.Is(err, storage.ErrConflict) {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				wins = append(wins, win{kv.ModRevision, rev})
				mu.Unlock()
				done++
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("writer: %v", err)
	}
	kv := get(t, s, "/counter")
	if got, want := string(kv.Value), strconv.Itoa(writers*perWriter); got != want {
		t.Fatalf("counter = %s, want %s (lost updates)", got, want)
	}
	slices.SortFunc(wins, func(a, b win) int { return int(a.rev - b.rev) })
	prev := kv.CreateRevision
	for i, w := range wins {
		if w.expected != prev {
			t.Fatalf("win %d at revision %d was made against %d, want %d (the previous win)", i, w.rev, w.expected, prev)
		}
		prev = w.rev
	}
	if prev != kv.ModRevision {
		t.Fatalf("last win %d, key at %d", prev, kv.ModRevision)
	}
}

func testConcurrentCreate(t *testing.T, s storage.Store) {
	const writers, perWriter = 16, 20
	var wg sync.WaitGroup
	revs := make([][]int64, writers)
	errs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				rev, err := s.Create(t.Context(), fmt.Sprintf("/c/%02d/%02d", w, i), []byte("x"))
				if err != nil {
					errs[w] = err
					return
				}
				if len(revs[w]) > 0 && rev <= revs[w][len(revs[w])-1] {
					errs[w] = fmt.Errorf("revision %d after %d from the same writer", rev, revs[w][len(revs[w])-1])
					return
				}
				revs[w] = append(revs[w], rev)
			}
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	var maxRev int64
	for w := range writers {
		if errs[w] != nil {
			t.Fatalf("writer %d: %v", w, errs[w])
		}
		for _, r := range revs[w] {
			if seen[r] {
				t.Fatalf("revision %d assigned twice", r)
			}
			seen[r] = true
			maxRev = max(maxRev, r)
		}
	}
	if got := s.Revision(); got != maxRev {
		t.Fatalf("Revision() = %d, want %d", got, maxRev)
	}
	res, err := s.List(t.Context(), "/c/", storage.ListOptions{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(res.Items) != writers*perWriter {
		t.Fatalf("List: %d items, want %d", len(res.Items), writers*perWriter)
	}

	// Racing creates of one key: exactly one wins.
	var wins, exists int
	var mu sync.Mutex
	for range writers {
		wg.Go(func() {
			_, err := s.Create(t.Context(), "/c/same", []byte("x"))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, storage.ErrExists):
				exists++
			default:
				t.Errorf("Create: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 || exists != writers-1 {
		t.Fatalf("racing creates: %d won, %d ErrExists; want 1 and %d", wins, exists, writers-1)
	}
}

func listKeys(res storage.ListResult) []string {
	keys := make([]string, len(res.Items))
	for i, kv := range res.Items {
		keys[i] = kv.Key
	}
	return keys
}

func testList(t *testing.T, s storage.Store) {
	revs := map[string]int64{}
	for _, k := range []string{"/l/b", "/l/a", "/l/c/x", "/l/c", "/lz", "/m/a", "/k"} {
		revs[k] = create(t, s, k, "v"+k)
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"/l/", []string{"/l/a", "/l/b", "/l/c", "/l/c/x"}},
		{"/l", []string{"/l/a", "/l/b", "/l/c", "/l/c/x", "/lz"}},
		{"/l/c", []string{"/l/c", "/l/c/x"}},
		{"/m/", []string{"/m/a"}},
		{"/none/", nil},
		{"", []string{"/k", "/l/a", "/l/b", "/l/c", "/l/c/x", "/lz", "/m/a"}},
	}
	for _, tt := range tests {
		t.Run("prefix "+tt.prefix, func(t *testing.T) {
			res, err := s.List(t.Context(), tt.prefix, storage.ListOptions{})
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if got := listKeys(res); !slices.Equal(got, tt.want) {
				t.Fatalf("keys = %q, want %q", got, tt.want)
			}
			if res.More {
				t.Fatalf("More = true without a limit")
			}
			if res.Revision != s.Revision() {
				t.Fatalf("Revision = %d, want %d", res.Revision, s.Revision())
			}
			for _, kv := range res.Items {
				checkKV(t, kv, kv.Key, "v"+kv.Key, revs[kv.Key], revs[kv.Key])
			}
		})
	}
}

func testListAtRevision(t *testing.T, s storage.Store) {
	r1 := create(t, s, "/h/1", "a")
	r2 := create(t, s, "/h/2", "b")
	r3 := create(t, s, "/h/3", "c")
	update(t, s, "/h/1", "a2", r1)
	del(t, s, "/h/2", r2)
	r6 := create(t, s, "/h/4", "d")

	old, err := s.List(t.Context(), "/h/", storage.ListOptions{Revision: r3})
	if err != nil {
		t.Fatalf("List at %d: %v", r3, err)
	}
	if old.Revision != r3 {
		t.Fatalf("Revision = %d, want %d", old.Revision, r3)
	}
	if got, want := listKeys(old), []string{"/h/1", "/h/2", "/h/3"}; !slices.Equal(got, want) {
		t.Fatalf("keys at %d = %q, want %q", r3, got, want)
	}
	checkKV(t, old.Items[0], "/h/1", "a", r1, r1)
	checkKV(t, old.Items[1], "/h/2", "b", r2, r2)

	cur, err := s.List(t.Context(), "/h/", storage.ListOptions{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if got, want := listKeys(cur), []string{"/h/1", "/h/3", "/h/4"}; !slices.Equal(got, want) {
		t.Fatalf("keys now = %q, want %q", got, want)
	}
	if cur.Revision != r6 {
		t.Fatalf("Revision = %d, want %d", cur.Revision, r6)
	}
	_, err = s.List(t.Context(), "/h/", storage.ListOptions{Revision: r6 + 1000})
	wantErr(t, "List at a future revision", err, storage.ErrFutureRevision)
}

func testListPagination(t *testing.T, s storage.Store) {
	var all []string
	for i := range 10 {
		k := fmt.Sprintf("/p/%02d", i)
		all = append(all, k)
		create(t, s, k, "v")
	}
	first, err := s.List(t.Context(), "/p/", storage.ListOptions{Limit: 3})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	rev := first.Revision
	// Writes between pages must not show: every page is read at rev.
	create(t, s, "/p/05a", "late")
	update(t, s, "/p/09", "changed", 0)
	del(t, s, "/p/07", 0)

	got := listKeys(first)
	var mores []bool
	res := first
	mores = append(mores, res.More)
	for res.More {
		res, err = s.List(t.Context(), "/p/", storage.ListOptions{Limit: 3, Revision: rev, StartAfter: res.Items[len(res.Items)-1].Key})
		if err != nil {
			t.Fatalf("List page: %v", err)
		}
		if res.Revision != rev {
			t.Fatalf("page Revision = %d, want %d", res.Revision, rev)
		}
		for _, kv := range res.Items {
			if string(kv.Value) != "v" {
				t.Fatalf("page shows %q = %q written after revision %d", kv.Key, kv.Value, rev)
			}
		}
		got = append(got, listKeys(res)...)
		mores = append(mores, res.More)
	}
	if !slices.Equal(got, all) {
		t.Fatalf("paginated keys = %q, want %q", got, all)
	}
	if want := []bool{true, true, true, false}; !slices.Equal(mores, want) {
		t.Fatalf("More per page = %v, want %v", mores, want)
	}

	// Exactly full last page: More is false.
	res, err = s.List(t.Context(), "/p/", storage.ListOptions{Limit: 5, Revision: rev, StartAfter: "/p/04"})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(res.Items) != 5 || res.More {
		t.Fatalf("last full page: %d items, More %v; want 5, false", len(res.Items), res.More)
	}
	// StartAfter a key that does not exist, and one before the prefix.
	res, err = s.List(t.Context(), "/p/", storage.ListOptions{Revision: rev, StartAfter: "/p/035"})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if got, want := listKeys(res), all[4:]; !slices.Equal(got, want) {
		t.Fatalf("after /p/035: %q, want %q", got, want)
	}
	res, err = s.List(t.Context(), "/p/", storage.ListOptions{Revision: rev, StartAfter: "/a"})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if got := listKeys(res); !slices.Equal(got, all) {
		t.Fatalf("after /a: %q, want %q", got, all)
	}
}

func testListFilter(t *testing.T, s storage.Store) {
	for i := range 20 {
		create(t, s, fmt.Sprintf("/f/%02d", i), strconv.Itoa(i%4))
	}
	keep := func(kv storage.KV) bool { return string(kv.Value) == "0" } // 00, 04, 08, 12, 16
	var got []string
	var pages int
	opts := storage.ListOptions{Limit: 2, Filter: keep}
	for {
		res, err := s.List(t.Context(), "/f/", opts)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		pages++
		if res.More && len(res.Items) != 2 {
			t.Fatalf("page %d has %d items with More set: Limit must count kept items", pages, len(res.Items))
		}
		got = append(got, listKeys(res)...)
		if !res.More {
			break
		}
		opts.Revision, opts.StartAfter = res.Revision, res.Items[len(res.Items)-1].Key
	}
	if want := []string{"/f/00", "/f/04", "/f/08", "/f/12", "/f/16"}; !slices.Equal(got, want) {
		t.Fatalf("filtered keys = %q, want %q", got, want)
	}
	if pages != 3 {
		t.Fatalf("%d pages, want 3", pages)
	}
}

func testWatchOrder(t *testing.T, s storage.Store) {
	create(t, s, "/w/before", "x")
	w, err := s.Watch(t.Context(), "/w/", 0)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	defer w.Stop()
	r1 := create(t, s, "/w/a", "1")
	r2 := update(t, s, "/w/a", "2", r1)
	r3 := create(t, s, "/w/b", "3")
	r4 := del(t, s, "/w/a", r2)
	evs := recv(t, w, 4)
	checkEvent(t, evs[0], storage.EventPut, "/w/a", "1", r1, nil)
	checkEvent(t, evs[1], storage.EventPut, "/w/a", "2", r2, ptr("1"))
	checkEvent(t, evs[2], storage.EventPut, "/w/b", "3", r3, nil)
	checkEvent(t, evs[3], storage.EventDelete, "/w/a", "", r4, ptr("2"))
	if evs[1].KV.CreateRevision != r1 || evs[1].Prev.ModRevision != r1 {
		t.Fatalf("update event: create %d, prev mod %d; want %d, %d", evs[1].KV.CreateRevision, evs[1].Prev.ModRevision, r1, r1)
	}
	if evs[3].Prev.ModRevision != r2 {
		t.Fatalf("delete event Prev.ModRevision = %d, want %d", evs[3].Prev.ModRevision, r2)
	}
}

// writes makes n updates under prefix and returns their revisions.
func writes(t *testing.T, s storage.Store, prefix string, n int) []int64 {
	t.Helper()
	revs := make([]int64, n)
	for i := range n {
		key := fmt.Sprintf("%s%d", prefix, i%3)
		if _, err := s.Get(t.Context(), key); errors.Is(err, storage.ErrNotFound) {
			revs[i] = create(t, s, key, strconv.Itoa(i))
		} else {
			revs[i] = update(t, s, key, strconv.Itoa(i), 0)
		}
	}
	return revs
}

func testWatchResume(t *testing.T, s storage.Store) {
	revs := writes(t, s, "/res/", 6)
	type write struct {
		rev        int64
		key, value string
	}
	var hist []write // every write under /res/, in order
	for i, r := range revs {
		hist = append(hist, write{r, fmt.Sprintf("/res/%d", i%3), strconv.Itoa(i)})
	}
	for _, from := range []int{0, 2, 5} {
		t.Run(fmt.Sprintf("after write %d", from), func(t *testing.T) {
			w, err := s.Watch(t.Context(), "/res/", revs[from])
			if err != nil {
				t.Fatalf("Watch(%d): %v", revs[from], err)
			}
			defer w.Stop()
			want := hist[from+1:]
			evs := recv(t, w, len(want))
			for i, ev := range evs {
				if ev.KV.ModRevision != want[i].rev || ev.KV.Key != want[i].key || string(ev.KV.Value) != want[i].value {
					t.Fatalf("replayed event %d = %q %q at %d, want %q %q at %d",
						i, ev.KV.Key, ev.KV.Value, ev.KV.ModRevision, want[i].key, want[i].value, want[i].rev)
				}
				if j := from + 1 + i; j < len(revs) && j >= 3 && (ev.Prev == nil || string(ev.Prev.Value) != strconv.Itoa(j-3)) {
					t.Fatalf("replayed event %d: Prev = %v, want value %d", j, ev.Prev, j-3)
				}
			}
			// Then live events follow with no gap.
			key := fmt.Sprintf("/res/live%d", from)
			live := create(t, s, key, "live")
			hist = append(hist, write{live, key, "live"})
			checkEvent(t, recv(t, w, 1)[0], storage.EventPut, key, "live", live, nil)
		})
	}
	_, err := s.Watch(t.Context(), "/res/", s.Revision()+1000)
	if err == nil {
		t.Fatalf("Watch from a future revision: no error")
	}
}

func testWatchPrefixIsolation(t *testing.T, s storage.Store) {
	w, err := s.Watch(t.Context(), "/iso/a/", 0)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	defer w.Stop()
	create(t, s, "/iso/b/1", "x")
	create(t, s, "/iso/a", "x")
	create(t, s, "/iso/ab/1", "x")
	r := create(t, s, "/iso/a/1", "mine")
	// The first event delivered must be the only one under the prefix.
	checkEvent(t, recv(t, w, 1)[0], storage.EventPut, "/iso/a/1", "mine", r, nil)

	// The same from history.
	w2, err := s.Watch(t.Context(), "/iso/a/", 1)
	if err != nil {
		t.Fatalf("Watch from 1: %v", err)
	}
	defer w2.Stop()
	checkEvent(t, recv(t, w2, 1)[0], storage.EventPut, "/iso/a/1", "mine", r, nil)
}

func testWatchCompacted(t *testing.T, s storage.Store) {
	revs := writes(t, s, "/cmp/", 8)
	at := revs[4]
	if err := s.Compact(t.Context(), at); err != nil {
		t.Fatalf("Compact(%d): %v", at, err)
	}
	_, err := s.Watch(t.Context(), "/cmp/", revs[3])
	wantErr(t, "Watch from before the compacted revision", err, storage.ErrCompacted)
	_, err = s.List(t.Context(), "/cmp/", storage.ListOptions{Revision: revs[3]})
	wantErr(t, "List before the compacted revision", err, storage.ErrCompacted)

	// The compacted revision itself is still readable and watchable.
	res, err := s.List(t.Context(), "/cmp/", storage.ListOptions{Revision: at})
	if err != nil {
		t.Fatalf("List at the compacted revision: %v", err)
	}
	for _, kv := range res.Items {
		n, _ := strconv.Atoi(string(kv.Value))
		if kv.ModRevision > at || n > 4 {
			t.Fatalf("List at %d shows %q = %q at %d", at, kv.Key, kv.Value, kv.ModRevision)
		}
	}
	if len(res.Items) != 3 {
		t.Fatalf("List at %d: %d items, want 3", at, len(res.Items))
	}
	w, err := s.Watch(t.Context(), "/cmp/", at)
	if err != nil {
		t.Fatalf("Watch from the compacted revision: %v", err)
	}
	defer w.Stop()
	for i, ev := range recv(t, w, 3) {
		if ev.KV.ModRevision != revs[5+i] {
			t.Fatalf("event %d at %d, want %d", i, ev.KV.ModRevision, revs[5+i])
		}
	}
	// Compacting again at or below is harmless; the current revision works.
	if err := s.Compact(t.Context(), revs[2]); err != nil {
		t.Fatalf("Compact below the compacted revision: %v", err)
	}
	if err := s.Compact(t.Context(), s.Revision()); err != nil {
		t.Fatalf("Compact at the current revision: %v", err)
	}
	if kv := get(t, s, "/cmp/0"); string(kv.Value) != "6" {
		t.Fatalf("after compaction /cmp/0 = %q, want 6", kv.Value)
	}
	r := update(t, s, "/cmp/0", "after", 0)
	checkEvent(t, recv(t, w, 1)[0], storage.EventPut, "/cmp/0", "after", r, ptr("6"))
}

func testWatchStop(t *testing.T, s storage.Store) {
	t.Run("Stop", func(t *testing.T) {
		w, err := s.Watch(t.Context(), "/", 0)
		if err != nil {
			t.Fatalf("Watch: %v", err)
		}
		w.Stop()
		drainClosed(t, w)
		if err := w.Err(); err != nil {
			t.Fatalf("Err after Stop = %v, want nil", err)
		}
	})
	t.Run("context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		w, err := s.Watch(ctx, "/", 0)
		if err != nil {
			t.Fatalf("Watch: %v", err)
		}
		cancel()
		drainClosed(t, w)
		if err := w.Err(); err != nil {
			t.Fatalf("Err after the context ended = %v, want nil", err)
		}
		w.Stop() // after the end: harmless
	})
}

// testSlowWatcher checks that a watcher nobody reads does not hold up
// writers, and that what it delivers is a gap-free prefix of the writes,
// ended by an error if it was cut short.
func testSlowWatcher(t *testing.T, s storage.Store) {
	const writers, perWriter = 8, 400
	slow, err := s.Watch(t.Context(), "/slow/", 0)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	defer slow.Stop()
	var wg sync.WaitGroup
	revs := make([][]int64, writers)
	errs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				rev, err := s.Create(t.Context(), fmt.Sprintf("/slow/%d/%d", w, i), []byte("x"))
				if err != nil {
					errs[w] = err
					return
				}
				revs[w] = append(revs[w], rev)
			}
		})
	}
	wg.Wait() // returns: the writers were not blocked by the slow watcher
	var all []int64
	for w := range writers {
		if errs[w] != nil {
			t.Fatalf("writer %d: %v", w, errs[w])
		}
		all = append(all, revs[w]...)
	}
	slices.Sort(all)

	var got []storage.Event
	timer := time.NewTimer(liveness)
	defer timer.Stop()
read:
	for len(got) < len(all) {
		select {
		case ev, ok := <-slow.Events():
			if !ok {
				break read
			}
			got = append(got, ev)
		case <-timer.C:
			t.Fatalf("slow watcher neither delivered nor closed within %v", liveness)
		}
	}
	for i, ev := range got {
		if ev.KV.ModRevision != all[i] {
			t.Fatalf("slow watcher event %d at revision %d, want %d (gap or disorder)", i, ev.KV.ModRevision, all[i])
		}
	}
	if len(got) < len(all) && slow.Err() == nil {
		t.Fatalf("slow watcher closed after %d of %d events with a nil Err", len(got), len(all))
	}
	t.Logf("slow watcher delivered %d of %d events, Err = %v", len(got), len(all), slow.Err())
}

func testCloseClosesWatchers(t *testing.T, s storage.Store) {
	w, err := s.Watch(t.Context(), "/", 0)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	r := create(t, s, "/x", "v")
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	evs := drainClosed(t, w)
	if len(evs) > 1 || (len(evs) == 1 && evs[0].KV.ModRevision != r) {
		t.Fatalf("watch delivered %d unexpected events", len(evs))
	}
	_, err = s.Get(t.Context(), "/x")
	wantErr(t, "Get after Close", err, storage.ErrClosed)
	_, err = s.Create(t.Context(), "/y", nil)
	wantErr(t, "Create after Close", err, storage.ErrClosed)
	_, err = s.List(t.Context(), "/", storage.ListOptions{})
	wantErr(t, "List after Close", err, storage.ErrClosed)
	_, err = s.Watch(t.Context(), "/", 0)
	wantErr(t, "Watch after Close", err, storage.ErrClosed)
	w.Stop()
}
