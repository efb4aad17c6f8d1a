package badger

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	bdb "github.com/dgraph-io/badger/v4"

	"github.com/wharfhq/wharf/storage"
)

const (
	// watchBuffer is the capacity of a watcher's channel.
	watchBuffer = 128
	// watchBatch is how many events a watcher takes from the ring, or
	// replays from disk, at a time.
	watchBatch = 256
	// replayScan bounds the event log entries one disk replay step reads,
	// so a watcher on a rarely written prefix still makes steady progress.
	replayScan = 4096
)

// errWatchEnded ends a watch without an error (context ended or Stop).
var errWatchEnded = errors.New("watch ended")

// Watch streams the changes under prefix with revision > fromRev.
//
// The events' Value and Prev.Value slices are shared between watchers and
// must not be modified.
func (s *Store) Watch(ctx context.Context, prefix string, fromRev int64) (storage.Watcher, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("watch %q: %w", prefix, err)
	}
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return nil, fmt.Errorf("watch %q: %w", prefix, storage.ErrClosed)
	}
	if fromRev != 0 {
		if _, err := s.readRevision(fromRev); err != nil {
			return nil, fmt.Errorf("watch %q from %w", prefix, err)
		}
	} else {
		fromRev = s.rev.Load()
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &watcher{
		s:      s,
		prefix: prefix,
		ch:     make(chan storage.Event, watchBuffer),
		ctx:    ctx,
		cancel: cancel,
		done:   make(chan struct{}),
	}
	s.watchers.Add(1)
	go w.run(fromRev)
	return w, nil
}

// watcher is one watch stream, fed by its own goroutine.
type watcher struct {
	s      *Store
	prefix string
	ch     chan storage.Event
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when run returns

	mu  sync.Mutex
	err error
}

var _ storage.Watcher = (*watcher)(nil)

// Events delivers changes in revision order.
func (w *watcher) Events() <-chan storage.Event { return w.ch }

// Err says why Events was closed.
func (w *watcher) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Stop ends the watch and waits for its goroutine to exit.
func (w *watcher) Stop() {
	w.cancel()
	<-w.done
}

func (w *watcher) run(fromRev int64) {
	defer w.s.watchers.Done()
	defer close(w.done)
	err := w.loop(fromRev + 1)
	if errors.Is(err, errWatchEnded) {
		err = nil
	}
	w.mu.Lock()
	w.err = err
	w.mu.Unlock()
	close(w.ch)
	w.cancel()
}

// loop delivers events from revision next on: from the ring when it holds
// them, else from the event log on disk. A watcher that has read from the
// ring ("live") and then falls out of it is too slow and is ended.
func (w *watcher) loop(next int64) error {
	live := false
	buf := make([]storage.Event, watchBatch)
	for {
		n, st := w.s.events.read(next, buf)
		switch {
		case st.err != nil:
			return fmt.Errorf("watch %q: %w", w.prefix, st.err)
		case n > 0:
			live = true
			end := next + int64(n) - 1
			for i := range buf[:n] {
				if strings.HasPrefix(buf[i].KV.Key, w.prefix) {
					if err := w.send(buf[i], end+1, live); err != nil {
						return err
					}
				}
			}
			clear(buf[:n])
			next = end + 1
		case next < st.first:
			if live {
				return w.behind(next)
			}
			evs, upTo, err := w.s.readHistory(w.ctx, w.prefix, next, st.first-1)
			if err != nil {
				return fmt.Errorf("watch %q: %w", w.prefix, err)
			}
			for _, ev := range evs {
				if err := w.send(ev, upTo+1, live); err != nil {
					return err
				}
			}
			next = upTo + 1
		default: // nothing new yet
			select {
			case <-st.notify:
			case <-w.ctx.Done():
				return errWatchEnded
			}
		}
	}
}

// send delivers ev. While the consumer is not taking events it keeps
// checking whether the events from next on are still in the ring; when a
// live watcher has lost them it ends.
func (w *watcher) send(ev storage.Event, next int64, live bool) error {
	select {
	case w.ch <- ev:
		return nil
	default:
	}
	for {
		st := w.s.events.state()
		switch {
		case st.err != nil:
			return fmt.Errorf("watch %q: %w", w.prefix, st.err)
		case live && next < st.first:
			return w.behind(next)
		}
		select {
		case w.ch <- ev:
			return nil
		case <-st.notify:
		case <-w.ctx.Done():
			return errWatchEnded
		}
	}
}

func (w *watcher) behind(next int64) error {
	return fmt.Errorf("watch %q: fell more than %d events behind at revision %d, re-watch or relist: %w",
		w.prefix, w.s.cfg.watchWindow, next-1, storage.ErrCompacted)
}

// readHistory reads the events under prefix with revisions in [from, to]
// from the event log, at most watchBatch of them, scanning at most
// replayScan entries. It returns them with the last revision it covered.
func (s *Store) readHistory(ctx context.Context, prefix string, from, to int64) ([]storage.Event, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, errWatchEnded
	}
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return nil, 0, storage.ErrClosed
	}
	if c := s.compactRev.Load(); from-1 < c {
		return nil, 0, fmt.Errorf("replay from revision %d (compacted at %d): %w", from-1, c, storage.ErrCompacted)
	}

	txn := s.db.NewTransactionAt(uint64(to), false)
	defer txn.Discard()
	io := bdb.DefaultIteratorOptions
	io.Prefix = evPrefixBytes
	io.PrefetchSize = 256
	it := txn.NewIterator(io)
	defer it.Close()

	var evs []storage.Event
	expect := from
	for it.Seek(evKey(from)); it.Valid() && expect <= to; it.Next() {
		item := it.Item()
		rev, err := evKeyRev(item.Key())
		if err != nil {
			return nil, 0, err
		}
		if rev != expect {
			return nil, 0, fmt.Errorf("replay: event log has no revision %d: %w", expect, storage.ErrCompacted)
		}
		var t storage.EventType
		var key string
		if err := item.Value(func(v []byte) error {
			t, key, err = decodeEvent(v)
			return err
		}); err != nil {
			return nil, 0, fmt.Errorf("replay revision %d: %w", rev, err)
		}
		expect++
		if strings.HasPrefix(key, prefix) {
			ev, err := s.eventAt(t, key, rev)
			if err != nil {
				return nil, 0, fmt.Errorf("replay revision %d: %w", rev, err)
			}
			evs = append(evs, ev)
		}
		if len(evs) == watchBatch || expect-from == replayScan {
			break
		}
	}
	if expect == from {
		return nil, 0, fmt.Errorf("replay: event log has no revision %d: %w", from, storage.ErrCompacted)
	}
	if c := s.compactRev.Load(); from-1 < c {
		return nil, 0, fmt.Errorf("replay from revision %d (compacted at %d): %w", from-1, c, storage.ErrCompacted)
	}
	return evs, expect - 1, nil
}

// eventAt rebuilds the event of revision rev on key from the object's
// versions at rev and rev-1. The caller holds closeMu shared.
func (s *Store) eventAt(t storage.EventType, key string, rev int64) (storage.Event, error) {
	ev := storage.Event{Type: t, KV: storage.KV{Key: key, ModRevision: rev}}
	if t == storage.EventPut {
		kv, ok, err := s.getAt(key, rev)
		if err != nil {
			return ev, err
		}
		if !ok || kv.ModRevision != rev {
			return ev, fmt.Errorf("key %q has no version at revision %d", key, rev)
		}
		ev.KV = kv
	}
	prev, ok, err := s.getAt(key, rev-1)
	if err != nil {
		return ev, err
	}
	if ok {
		ev.Prev = &prev
	} else if t == storage.EventDelete {
		return ev, fmt.Errorf("delete of %q at revision %d has no previous version", key, rev)
	}
	return ev, nil
}
