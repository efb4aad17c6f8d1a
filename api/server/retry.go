package server

import (
	"context"
	"time"
)

// Read-modify-write loops (update, patch, delete, namespace finalization)
// read an object with Store.Get and write it back with a compare-and-swap
// on its revision. A store may refuse that write because of a write that
// is accepted but not yet visible to reads (storage/badger compares with
// in-flight writes while Get reads up to the durable revision): rereading
// at once returns the same stale revision, and a loop that only counted
// attempts would give up within microseconds and answer 409 to a request
// that asked for no precondition. retrier waits for the store's visible
// revision to move before each retry, and counts only retries that read a
// newer revision (real contention, where another writer made progress)
// apart from the stale ones; as Kubernetes' GuaranteedUpdate, it retries
// contention until it wins, within maxRetryTime.
type retrier struct {
	s *Server
	// seen is the store revision just before the last read.
	seen int64
	// lastRev is the object revision the last read returned.
	lastRev int64
	// stale counts retries that read the same object revision again.
	stale int
	// start is when the loop began.
	start time.Time
}

// maxStaleRetries bounds the retries that reread an unchanged object: each
// waits up to visibilityWait for the store's visible revision to move.
// maxRetryTime bounds a whole loop.
const (
	maxStaleRetries = 100
	visibilityWait  = time.Second
	maxRetryTime    = 30 * time.Second
)

func (s *Server) newRetrier() *retrier { return &retrier{s: s, start: time.Now()} }

// beforeRead notes the store revision before the loop reads the object.
func (r *retrier) beforeRead() { r.seen = r.s.store.Revision() }

// retry reports whether to try again after a conflict on an object read at
// objRev; it first waits until the store shows writes newer than the read.
func (r *retrier) retry(ctx context.Context, objRev int64) bool {
	if objRev == r.lastRev {
		r.stale++
	}
	r.lastRev = objRev
	if r.stale > maxStaleRetries || time.Since(r.start) > maxRetryTime {
		return false
	}
	r.s.awaitRevision(ctx, r.seen)
	return ctx.Err() == nil
}

// awaitRevision waits until the store's visible revision is above rev, ctx
// ends or visibilityWait passes.
func (s *Server) awaitRevision(ctx context.Context, rev int64) {
	delay := 50 * time.Microsecond
	deadline := time.Now().Add(visibilityWait)
	for s.store.Revision() <= rev && time.Now().Before(deadline) {
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(delay*2, 5*time.Millisecond)
	}
}
