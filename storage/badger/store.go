// Package badger implements storage.Store on an embedded Badger database,
// always on disk, with every acknowledged write synced.
//
// # Design
//
// Badger runs in managed mode: the commit timestamp of every write is the
// Wharf revision it was assigned. Reading at timestamp r (NewTransactionAt)
// then shows the store exactly as of revision r, which is what List at a
// revision and paginated lists at one revision need, for free, and
// SetDiscardTs(r) is compaction: Badger drops the versions that no read at
// r or later can see. Next to each object write, in the same transaction, a
// small event log entry keyed by the revision records which key changed;
// Watch replays history from it and reads the values back from the
// object's versions.
//
// Writes are sequenced, not serialised: under a short mutex a write checks
// its compare-and-swap condition (against in-flight writes first, then
// Badger), takes the next revision and hands the transaction to Badger's
// write channel (CommitAt with a callback). The mutex is not held across
// the fsync: Badger's single writer goroutine gathers every request queued
// while the previous batch was syncing into one batch and one fsync, which
// is group commit. Requests reach Badger in revision order and are written
// in that order. Callbacks can fire out of order, so a write is
// acknowledged, made visible to reads (the read revision is a watermark)
// and published to watchers only when it and every lower revision are
// durable.
//
// Watchers do not sit between writers and the disk: published events go
// into one in-memory ring shared by all watchers, each watcher's goroutine
// reads it at its own pace, and a watcher that falls more than the ring's
// size behind is closed with an error wrapping storage.ErrCompacted, so its
// client relists. A watch from a revision older than the ring replays the
// event log from disk first.
//
// A failed commit (an I/O error from Badger) leaves the in-memory state
// out of step with the disk, so it poisons the store: later writes fail
// with that error and watchers are closed. Reopening recovers from the disk.
package badger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bdb "github.com/dgraph-io/badger/v4"

	"github.com/wharfhq/wharf/storage"
)

var _ storage.Store = (*Store)(nil)

// Defaults for the options.
const (
	// DefaultHistoryRevisions is how many revisions of history the
	// background compactor keeps at most.
	DefaultHistoryRevisions = 10000
	// DefaultHistoryAge is how old the oldest kept history may be.
	DefaultHistoryAge = 5 * time.Minute
	// DefaultCompactInterval is how often the background compactor runs.
	DefaultCompactInterval = time.Minute
	// DefaultWatchWindow is how many recent events are kept in memory for
	// watchers; a watcher further behind than this is closed.
	DefaultWatchWindow = 4096
)

type config struct {
	logger          *slog.Logger
	historyRevs     int64
	historyAge      time.Duration
	compactInterval time.Duration
	watchWindow     int
	badgerOpts      func(bdb.Options) bdb.Options
}

// Option configures Open.
type Option func(*config)

// WithLogger sets the logger for the store and for Badger (Badger's info
// messages are logged at debug level).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithHistory bounds the history the background compactor keeps: at most
// the last revisions revisions and nothing older than age. Zero for either
// removes that bound; both zero keep all history until Compact is called.
func WithHistory(revisions int64, age time.Duration) Option {
	return func(c *config) { c.historyRevs, c.historyAge = revisions, age }
}

// WithCompactInterval sets how often the background compactor and Badger's
// value-log garbage collection run; 0 disables the background loop.
func WithCompactInterval(d time.Duration) Option {
	return func(c *config) { c.compactInterval = d }
}

// WithWatchWindow sets how many recent events are kept in memory for
// watchers. A watcher that falls further behind is closed with an error
// wrapping storage.ErrCompacted.
func WithWatchWindow(events int) Option {
	return func(c *config) { c.watchWindow = events }
}

// WithBadgerOptions lets the caller adjust Badger's options (memory sizes,
// compression). The store overrides what its correctness depends on:
// synced writes, managed mode, one kept version, no conflict detection.
func WithBadgerOptions(fn func(bdb.Options) bdb.Options) Option {
	return func(c *config) { c.badgerOpts = fn }
}

// Store is a storage.Store on Badger. Construct it with Open.
//
// Lock order: closeMu (shared) before mu before the event ring's lock;
// compactMu is taken with closeMu held shared and never with mu.
type Store struct {
	db  *bdb.DB
	cfg config
	log *slog.Logger

	// closeMu is held shared by every operation that touches db and
	// exclusively by Close.
	closeMu sync.RWMutex
	closed  bool // guarded by closeMu

	mu       sync.Mutex
	next     int64                   // last revision handed out (guarded by mu)
	pending  map[string]pendingState // latest in-flight state per key (guarded by mu)
	inflight []*commit               // revisions (watermark, next] in order (guarded by mu)
	failed   error                   // sticky commit failure (guarded by mu)

	rev        atomic.Int64 // watermark: every revision <= rev is durable and visible
	compactRev atomic.Int64 // history at and below is dropped (reads below fail)
	compactMu  sync.Mutex   // serialises Compact
	samples    []revSample  // (time, revision) seen by the compactor loop

	events   *eventRing
	watchers sync.WaitGroup

	stopCompactor context.CancelFunc
	compactorDone chan struct{}
	closeOnce     sync.Once
	closeErr      error
}

// pendingState is a key's state after a write that is not yet durable.
type pendingState struct {
	kv      storage.KV
	deleted bool
	rev     int64
}

// commit is one write between its hand-off to Badger and its
// acknowledgement.
type commit struct {
	rev      int64
	event    storage.Event
	done     chan struct{} // closed when acknowledged or failed
	finished bool          // Badger called back (guarded by Store.mu)
	acked    bool          // done is closed (guarded by Store.mu)
	err      error         // set before done is closed
}

type revSample struct {
	at  time.Time
	rev int64
}

// Open opens (or creates) the store in dir.
func Open(dir string, opts ...Option) (*Store, error) {
	cfg := config{
		logger:          slog.Default(),
		historyRevs:     DefaultHistoryRevisions,
		historyAge:      DefaultHistoryAge,
		compactInterval: DefaultCompactInterval,
		watchWindow:     DefaultWatchWindow,
	}
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case dir == "":
		return nil, errors.New("open store: empty directory")
	case cfg.watchWindow < 1:
		return nil, fmt.Errorf("open store: watch window %d: must be at least 1", cfg.watchWindow)
	case cfg.historyRevs < 0 || cfg.historyAge < 0 || cfg.compactInterval < 0:
		return nil, errors.New("open store: history bounds and compact interval must not be negative")
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	log := cfg.logger.With("component", "storage", "dir", dir)

	bo := bdb.DefaultOptions(dir).WithLogger(badgerLogger{log})
	if cfg.badgerOpts != nil {
		bo = cfg.badgerOpts(bo)
	}
	bo = bo.WithDir(dir).WithValueDir(dir).
		WithSyncWrites(true).
		WithInMemory(false).
		WithNumVersionsToKeep(1).
		WithDetectConflicts(false)
	db, err := bdb.OpenManaged(bo)
	if err != nil {
		return nil, fmt.Errorf("open store in %q: %w", dir, err)
	}
	rev, compactRev, err := recoverRevisions(db)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store in %q: %w", dir, err)
	}
	db.SetDiscardTs(uint64(compactRev))

	s := &Store{
		db:      db,
		cfg:     cfg,
		log:     log,
		next:    rev,
		pending: make(map[string]pendingState),
		events:  newEventRing(cfg.watchWindow, rev),
	}
	s.rev.Store(rev)
	s.compactRev.Store(compactRev)
	log.Debug("store opened", "revision", rev, "compacted", compactRev)

	if cfg.compactInterval > 0 {
		ctx, cancel := context.WithCancel(context.Background())
		s.stopCompactor = cancel
		s.compactorDone = make(chan struct{})
		go s.compactLoop(ctx)
	}
	return s, nil
}

// recoverRevisions finds the latest revision (the last event log entry, or
// the compacted revision when compaction dropped every entry) and the
// compacted revision.
func recoverRevisions(db *bdb.DB) (rev, compactRev int64, err error) {
	txn := db.NewTransactionAt(math.MaxUint64, false)
	defer txn.Discard()

	item, err := txn.Get(metaCompactKey)
	switch {
	case errors.Is(err, bdb.ErrKeyNotFound):
	case err != nil:
		return 0, 0, fmt.Errorf("read compacted revision: %w", err)
	default:
		v, err := item.ValueCopy(nil)
		if err != nil {
			return 0, 0, fmt.Errorf("read compacted revision: %w", err)
		}
		if compactRev, err = decodeRev(v); err != nil {
			return 0, 0, fmt.Errorf("read compacted revision: %w", err)
		}
	}

	io := bdb.DefaultIteratorOptions
	io.PrefetchValues = false
	io.Reverse = true
	io.Prefix = evPrefixBytes
	it := txn.NewIterator(io)
	defer it.Close()
	it.Seek(evKey(math.MaxInt64))
	if it.Valid() {
		if rev, err = evKeyRev(it.Item().Key()); err != nil {
			return 0, 0, fmt.Errorf("read latest revision: %w", err)
		}
	}
	return max(rev, compactRev), compactRev, nil
}

// Revision returns the latest durable revision.
func (s *Store) Revision() int64 { return s.rev.Load() }

// Get returns the current value of key.
func (s *Store) Get(ctx context.Context, key string) (storage.KV, error) {
	if err := ctx.Err(); err != nil {
		return storage.KV{}, fmt.Errorf("get %q: %w", key, err)
	}
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return storage.KV{}, fmt.Errorf("get %q: %w", key, storage.ErrClosed)
	}
	kv, ok, err := s.getAt(key, s.rev.Load())
	if err != nil {
		return storage.KV{}, fmt.Errorf("get %q: %w", key, err)
	}
	if !ok {
		return storage.KV{}, fmt.Errorf("get %q: %w", key, storage.ErrNotFound)
	}
	return kv, nil
}

// getAt reads key as of rev. The caller holds closeMu shared.
func (s *Store) getAt(key string, rev int64) (storage.KV, bool, error) {
	txn := s.db.NewTransactionAt(uint64(rev), false)
	defer txn.Discard()
	item, err := txn.Get(objKey(key))
	if errors.Is(err, bdb.ErrKeyNotFound) {
		return storage.KV{}, false, nil
	}
	if err != nil {
		return storage.KV{}, false, err
	}
	kv, err := itemKV(key, item)
	return kv, err == nil, err
}

func itemKV(key string, item *bdb.Item) (storage.KV, error) {
	raw, err := item.ValueCopy(nil)
	if err != nil {
		return storage.KV{}, err
	}
	createRev, value, err := decodeObj(raw)
	if err != nil {
		return storage.KV{}, fmt.Errorf("key %q: %w", key, err)
	}
	return storage.KV{
		Key:            key,
		Value:          value,
		ModRevision:    int64(item.Version()),
		CreateRevision: createRev,
	}, nil
}

// List returns the keys under prefix, in key order, at one revision.
func (s *Store) List(ctx context.Context, prefix string, opts storage.ListOptions) (storage.ListResult, error) {
	if err := ctx.Err(); err != nil {
		return storage.ListResult{}, fmt.Errorf("list %q: %w", prefix, err)
	}
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return storage.ListResult{}, fmt.Errorf("list %q: %w", prefix, storage.ErrClosed)
	}
	rev, err := s.readRevision(opts.Revision)
	if err != nil {
		return storage.ListResult{}, fmt.Errorf("list %q: %w", prefix, err)
	}
	if opts.Limit < 0 {
		return storage.ListResult{}, fmt.Errorf("list %q: negative limit %d", prefix, opts.Limit)
	}

	txn := s.db.NewTransactionAt(uint64(rev), false)
	defer txn.Discard()
	io := bdb.DefaultIteratorOptions
	io.Prefix = objKey(prefix)
	if opts.Limit > 0 && opts.Filter == nil {
		io.PrefetchSize = min(opts.Limit+1, 100)
	}
	it := txn.NewIterator(io)
	defer it.Close()

	start := io.Prefix
	if opts.StartAfter != "" && opts.StartAfter >= prefix {
		start = append(objKey(opts.StartAfter), 0) // smallest key after StartAfter
	}
	res := storage.ListResult{Revision: rev}
	n := 0
	for it.Seek(start); it.Valid(); it.Next() {
		if n++; n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return storage.ListResult{}, fmt.Errorf("list %q: %w", prefix, err)
			}
		}
		item := it.Item()
		kv, err := itemKV(string(item.Key()[len(objPrefix):]), item)
		if err != nil {
			return storage.ListResult{}, fmt.Errorf("list %q: %w", prefix, err)
		}
		if opts.Filter != nil && !opts.Filter(kv) {
			continue
		}
		if opts.Limit > 0 && len(res.Items) == opts.Limit {
			res.More = true
			break
		}
		res.Items = append(res.Items, kv)
	}
	// A compaction that overtook this read may have dropped versions it
	// needed while it ran.
	if c := s.compactRev.Load(); rev < c {
		return storage.ListResult{}, fmt.Errorf("list %q at revision %d (compacted at %d): %w", prefix, rev, c, storage.ErrCompacted)
	}
	return res, nil
}

// readRevision resolves a requested read revision (0 is the latest) and
// checks that it is kept and not in the future.
func (s *Store) readRevision(rev int64) (int64, error) {
	cur := s.rev.Load()
	switch {
	case rev == 0:
		return cur, nil
	case rev < 0:
		return 0, fmt.Errorf("revision %d: must not be negative", rev)
	case rev > cur:
		return 0, fmt.Errorf("revision %d (latest %d): %w", rev, cur, storage.ErrFutureRevision)
	}
	if c := s.compactRev.Load(); rev < c {
		return 0, fmt.Errorf("revision %d (compacted at %d): %w", rev, c, storage.ErrCompacted)
	}
	return rev, nil
}

type writeOp int

const (
	opCreate writeOp = iota
	opUpdate
	opDelete
)

func (o writeOp) String() string {
	return [...]string{"create", "update", "delete"}[o]
}

// Create writes key if it does not exist and returns the new revision.
func (s *Store) Create(ctx context.Context, key string, value []byte) (int64, error) {
	c, _, err := s.write(ctx, opCreate, key, value, 0)
	if err != nil {
		return 0, err
	}
	return c.rev, nil
}

// Update replaces key if its current ModRevision is expectedRev (0 skips
// the comparison) and returns the new revision.
func (s *Store) Update(ctx context.Context, key string, value []byte, expectedRev int64) (int64, error) {
	c, _, err := s.write(ctx, opUpdate, key, value, expectedRev)
	if err != nil {
		return 0, err
	}
	return c.rev, nil
}

// Delete removes key if its current ModRevision is expectedRev (0 skips
// the comparison) and returns the delete's revision and the last value.
func (s *Store) Delete(ctx context.Context, key string, expectedRev int64) (int64, storage.KV, error) {
	c, prev, err := s.write(ctx, opDelete, key, nil, expectedRev)
	if err != nil {
		return 0, storage.KV{}, err
	}
	return c.rev, prev, nil
}

// write runs one write and waits until it is durable and visible. Once
// handed to Badger a write is not abandoned when ctx ends: its outcome is
// known to the caller when write returns.
func (s *Store) write(ctx context.Context, op writeOp, key string, value []byte, expectedRev int64) (*commit, storage.KV, error) {
	if err := ctx.Err(); err != nil {
		return nil, storage.KV{}, fmt.Errorf("%s %q: %w", op, key, err)
	}
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return nil, storage.KV{}, fmt.Errorf("%s %q: %w", op, key, storage.ErrClosed)
	}
	c, prev, err := s.enqueue(op, key, value, expectedRev)
	if err != nil {
		return nil, storage.KV{}, fmt.Errorf("%s %q: %w", op, key, err)
	}
	<-c.done
	if c.err != nil {
		return nil, storage.KV{}, fmt.Errorf("%s %q: %w", op, key, c.err)
	}
	return c, prev, nil
}

// enqueue checks the write's condition, assigns its revision and hands it
// to Badger. It returns the previous value of key (for Delete).
func (s *Store) enqueue(op writeOp, key string, value []byte, expectedRev int64) (*commit, storage.KV, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed != nil {
		return nil, storage.KV{}, s.failed
	}
	cur, exists, err := s.currentLocked(key)
	if err != nil {
		return nil, storage.KV{}, err
	}
	switch {
	case op == opCreate && exists:
		return nil, storage.KV{}, storage.ErrExists
	case op != opCreate && !exists:
		return nil, storage.KV{}, storage.ErrNotFound
	case op != opCreate && expectedRev != 0 && cur.ModRevision != expectedRev:
		return nil, storage.KV{}, fmt.Errorf("expected revision %d, current %d: %w", expectedRev, cur.ModRevision, storage.ErrConflict)
	}

	rev := s.next + 1
	ev := storage.Event{Type: storage.EventPut, KV: storage.KV{Key: key, ModRevision: rev, CreateRevision: rev}}
	if exists {
		prev := cur
		ev.Prev = &prev
		ev.KV.CreateRevision = cur.CreateRevision
	}
	txn := s.db.NewTransactionAt(uint64(s.next), true)
	if op == opDelete {
		ev.Type = storage.EventDelete
		ev.KV.CreateRevision = 0
		err = txn.Delete(objKey(key))
	} else {
		var stored []byte
		stored, ev.KV.Value = encodeObj(ev.KV.CreateRevision, value)
		err = txn.Set(objKey(key), stored)
	}
	if err == nil {
		err = txn.Set(evKey(rev), encodeEvent(ev.Type, key))
	}
	if err != nil {
		txn.Discard()
		return nil, storage.KV{}, err
	}

	c := &commit{rev: rev, event: ev, done: make(chan struct{})}
	s.next = rev
	s.inflight = append(s.inflight, c)
	s.pending[key] = pendingState{kv: ev.KV, deleted: op == opDelete, rev: rev}
	// CommitAt with a callback only queues the request; Badger runs the
	// callback on its own goroutine (the synchronous failure path,
	// commitPrecheck, cannot fail for a fresh transaction with a non-zero
	// commit timestamp), so taking s.mu in it does not deadlock.
	if err := txn.CommitAt(uint64(rev), func(err error) { s.committed(c, err) }); err != nil {
		return nil, storage.KV{}, err
	}
	return c, cur, nil
}

// currentLocked returns key's latest state, in-flight writes included.
func (s *Store) currentLocked(key string) (storage.KV, bool, error) {
	if p, ok := s.pending[key]; ok {
		return p.kv, !p.deleted, nil
	}
	return s.getAt(key, s.next)
}

// committed is Badger's callback for c: it advances the watermark over the
// contiguous run of finished commits, publishes their events and
// acknowledges them.
func (s *Store) committed(c *commit, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.finished = true
	if err != nil && s.failed == nil {
		s.failed = fmt.Errorf("store failed at revision %d (reopen to recover): %w", c.rev, err)
		s.log.Error("commit failed; store refuses writes until reopened", "revision", c.rev, "err", err)
		for _, f := range s.inflight {
			f.err, f.acked = s.failed, true
			close(f.done)
		}
		s.inflight = nil
		s.events.close(s.failed)
		return
	}
	if c.acked {
		return // already failed by an earlier commit's failure
	}
	n := 0
	for n < len(s.inflight) && s.inflight[n].finished {
		n++
	}
	if n == 0 {
		return
	}
	ready := s.inflight[:n]
	evs := make([]storage.Event, n)
	for i, r := range ready {
		evs[i] = r.event
		if p, ok := s.pending[r.event.KV.Key]; ok && p.rev == r.rev {
			delete(s.pending, r.event.KV.Key)
		}
	}
	s.events.append(evs)
	s.rev.Store(ready[n-1].rev)
	for _, r := range ready {
		r.acked = true
		close(r.done)
	}
	clear(s.inflight[:n])
	s.inflight = s.inflight[n:]
}

// Close waits for in-flight writes, closes every watcher (their Err is
// storage.ErrClosed) and closes Badger.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.stopCompactor != nil {
			s.stopCompactor()
			<-s.compactorDone
		}
		s.closeMu.Lock()
		s.closed = true
		s.events.close(storage.ErrClosed)
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("close store: %w", err)
		}
		s.closeMu.Unlock()
		s.watchers.Wait()
	})
	return s.closeErr
}

// badgerLogger adapts slog to Badger's logger; Badger's chatty info
// messages go to debug.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any)   { b.logf(slog.LevelError, f, a) }
func (b badgerLogger) Warningf(f string, a ...any) { b.logf(slog.LevelWarn, f, a) }
func (b badgerLogger) Infof(f string, a ...any)    { b.logf(slog.LevelDebug, f, a) }
func (b badgerLogger) Debugf(f string, a ...any)   { b.logf(slog.LevelDebug, f, a) }

func (b badgerLogger) logf(level slog.Level, f string, a []any) {
	if !b.l.Enabled(context.Background(), level) {
		return
	}
	b.l.Log(context.Background(), level, "badger: "+strings.TrimSpace(fmt.Sprintf(f, a...)))
}
