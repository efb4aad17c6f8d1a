package badger

import (
	"sync"

	"github.com/wharfhq/wharf/storage"
)

// eventRing holds the most recent events, one per revision, shared by all
// watchers. Writers only append (and wake waiters by closing notify); each
// watcher copies what it needs under the read lock, so no watcher can hold
// up a writer.
type eventRing struct {
	mu     sync.RWMutex
	buf    []storage.Event // indexed by revision modulo len(buf)
	first  int64           // oldest revision held; first == last+1 when empty
	last   int64           // newest revision held (the store's watermark)
	notify chan struct{}   // closed and replaced on every append
	err    error           // why the ring was closed; nil while open
}

// ringState is a snapshot of the ring's bounds.
type ringState struct {
	first, last int64
	notify      <-chan struct{}
	err         error
}

func newEventRing(size int, rev int64) *eventRing {
	return &eventRing{
		buf:    make([]storage.Event, size),
		first:  rev + 1,
		last:   rev,
		notify: make(chan struct{}),
	}
}

// append adds events with consecutive revisions following last.
func (r *eventRing) append(evs []storage.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return
	}
	size := int64(len(r.buf))
	for _, ev := range evs {
		r.last = ev.KV.ModRevision
		r.buf[r.last%size] = ev
	}
	r.first = max(r.first, r.last-size+1)
	close(r.notify)
	r.notify = make(chan struct{})
}

// close ends the ring for every watcher with err (the first call wins).
func (r *eventRing) close(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return
	}
	r.err = err
	close(r.notify)
}

// read copies the events from revision from on into dst and returns how
// many it copied (0 when from is outside the ring or the ring is closed)
// with the ring's bounds.
func (r *eventRing) read(from int64, dst []storage.Event) (int, ringState) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	st := ringState{first: r.first, last: r.last, notify: r.notify, err: r.err}
	if r.err != nil || from < r.first || from > r.last {
		return 0, st
	}
	size := int64(len(r.buf))
	n := 0
	for rev := from; rev <= r.last && n < len(dst); rev++ {
		dst[n] = r.buf[rev%size]
		n++
	}
	return n, st
}

// state returns the ring's bounds.
func (r *eventRing) state() ringState {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return ringState{first: r.first, last: r.last, notify: r.notify, err: r.err}
}
