package badger

import (
	"context"
	"errors"
	"fmt"
	"time"

	bdb "github.com/dgraph-io/badger/v4"

	"github.com/wharfhq/wharf/storage"
)

// Compact drops history below rev: reads at older revisions and watches
// from older revisions then fail with storage.ErrCompacted; rev itself
// stays readable, and Watch(prefix, rev) still replays everything after it.
// Compacting at or below the current compacted revision does nothing.
//
// The compacted revision is persisted first, then the event log entries up
// to rev are deleted and Badger is told it may discard object versions
// that no read at rev or later can see (SetDiscardTs); its own LSM
// compactions and value-log GC reclaim the space later.
func (s *Store) Compact(ctx context.Context, rev int64) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("compact at %d: %w", rev, err)
	}
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return fmt.Errorf("compact at %d: %w", rev, storage.ErrClosed)
	}
	s.compactMu.Lock()
	defer s.compactMu.Unlock()

	if cur := s.rev.Load(); rev > cur {
		return fmt.Errorf("compact at %d (latest %d): %w", rev, cur, storage.ErrFutureRevision)
	}
	if rev <= s.compactRev.Load() {
		return nil
	}
	// Persist before dropping anything: after a crash the recorded
	// compacted revision must never be older than the missing history.
	txn := s.db.NewTransactionAt(uint64(rev), true)
	if err := txn.Set(metaCompactKey, encodeRev(rev)); err != nil {
		txn.Discard()
		return fmt.Errorf("compact at %d: %w", rev, err)
	}
	if err := txn.CommitAt(uint64(rev), nil); err != nil {
		return fmt.Errorf("compact at %d: record revision: %w", rev, err)
	}
	s.compactRev.Store(rev)

	n, err := s.dropEventLog(rev)
	if err != nil {
		return fmt.Errorf("compact at %d: %w", rev, err)
	}
	s.db.SetDiscardTs(uint64(rev))
	s.log.Debug("compacted", "revision", rev, "eventsDropped", n)
	return nil
}

// dropEventLog deletes every event log entry at or below rev. It scans
// from the start of the log, not from the previous compacted revision, so
// entries left by a crash between recording a compaction and finishing it
// are removed too.
func (s *Store) dropEventLog(rev int64) (int, error) {
	txn := s.db.NewTransactionAt(uint64(rev), false)
	defer txn.Discard()
	io := bdb.DefaultIteratorOptions
	io.PrefetchValues = false
	io.Prefix = evPrefixBytes
	it := txn.NewIterator(io)
	defer it.Close()

	wb := s.db.NewWriteBatchAt(uint64(rev))
	defer wb.Cancel()
	n := 0
	for it.Rewind(); it.Valid(); it.Next() {
		k := it.Item().KeyCopy(nil)
		if r, err := evKeyRev(k); err != nil || r > rev {
			break
		}
		if err := wb.Delete(k); err != nil {
			return n, fmt.Errorf("drop event log: %w", err)
		}
		n++
	}
	if err := wb.Flush(); err != nil {
		return n, fmt.Errorf("drop event log: %w", err)
	}
	return n, nil
}

// compactLoop runs the background compactor until ctx ends.
func (s *Store) compactLoop(ctx context.Context) {
	defer close(s.compactorDone)
	t := time.NewTicker(s.cfg.compactInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.maintain(ctx, now)
		}
	}
}

// maintain compacts to the configured history bounds as of now and runs
// Badger's value-log GC.
func (s *Store) maintain(ctx context.Context, now time.Time) {
	if target := s.historyTarget(now, s.rev.Load()); target > s.compactRev.Load() {
		if err := s.Compact(ctx, target); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Warn("background compaction failed", "revision", target, "err", err)
		}
	}
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return
	}
	// Each successful run rewrites one value-log file; stop at the first
	// "nothing to collect" (bdb.ErrNoRewrite) or after a few files.
	for range 8 {
		if ctx.Err() != nil || s.db.RunValueLogGC(0.5) != nil {
			return
		}
	}
}

// historyTarget records (now, cur) and returns the revision to compact at
// so that at most historyRevs revisions and nothing older than historyAge
// is kept. Only the compactor loop calls it.
func (s *Store) historyTarget(now time.Time, cur int64) int64 {
	var target int64
	if s.cfg.historyRevs > 0 {
		target = cur - s.cfg.historyRevs
	}
	if s.cfg.historyAge > 0 {
		s.samples = append(s.samples, revSample{at: now, rev: cur})
		cutoff := now.Add(-s.cfg.historyAge)
		// The newest sample taken at or before cutoff: everything written
		// up to its revision is older than historyAge.
		i := 0
		for i+1 < len(s.samples) && !s.samples[i+1].at.After(cutoff) {
			i++
		}
		if !s.samples[i].at.After(cutoff) {
			target = max(target, s.samples[i].rev)
		}
		s.samples = s.samples[i:]
	}
	return max(target, 0)
}
