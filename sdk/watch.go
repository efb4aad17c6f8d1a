package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/wharfhq/wharf/api/types"
)

// Event is one change seen by a watch: Type is types.Added, Modified,
// Deleted or Bookmark (a Bookmark's Object carries only a resourceVersion).
type Event[T any] struct {
	Type   string
	Object T
}

// Watcher is one watch stream. Read Events until it is closed, then Err
// says why; call Stop to end it early (always safe, also twice).
type Watcher[T any] struct {
	ch     chan Event[T]
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	err    error
}

// Events delivers the changes in order. It is closed when the watch ends.
func (w *Watcher[T]) Events() <-chan Event[T] { return w.ch }

// Stop ends the watch and waits for its goroutine to finish.
func (w *Watcher[T]) Stop() {
	w.cancel()
	<-w.done
}

// Err says why Events was closed: nil after Stop, the caller's context
// ending, or the server ending the stream cleanly (resume from the last
// resourceVersion seen); a *types.Status when the server sent an ERROR
// event (IsGone(err): the resourceVersion is too old, relist); another
// error when the stream broke.
func (w *Watcher[T]) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// startWatch opens the stream and decodes its events with decode.
func startWatch[T any](ctx context.Context, c *Client, req request, decode func([]byte) (T, error)) (*Watcher[T], error) {
	ctx, cancel := context.WithCancel(ctx)
	resp, _, err := c.do(ctx, req)
	if err != nil {
		cancel()
		return nil, err
	}
	w := &Watcher[T]{ch: make(chan Event[T]), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		defer close(w.ch)
		defer resp.Body.Close()
		defer cancel()
		err := w.loop(ctx, json.NewDecoder(resp.Body), decode)
		if ctx.Err() != nil {
			err = nil // stopped by the caller
		}
		w.mu.Lock()
		w.err = err
		w.mu.Unlock()
	}()
	return w, nil
}

func (w *Watcher[T]) loop(ctx context.Context, dec *json.Decoder, decode func([]byte) (T, error)) error {
	for {
		var ev types.WatchEvent
		if err := dec.Decode(&ev); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("watch stream: %w", err)
		}
		switch ev.Type {
		case types.Error:
			st := &types.Status{}
			if err := json.Unmarshal(ev.Object, st); err != nil {
				return fmt.Errorf("watch stream: decode ERROR event: %w", err)
			}
			if st.Reason == "" {
				st.Reason = reasonForCode(int(st.Code))
			}
			return st
		case types.Added, types.Modified, types.Deleted, types.Bookmark:
		default:
			return fmt.Errorf("watch stream: unknown event type %q", ev.Type)
		}
		obj, err := decode(ev.Object)
		if err != nil {
			return fmt.Errorf("watch stream: %w", err)
		}
		select {
		case w.ch <- Event[T]{Type: ev.Type, Object: obj}:
		case <-ctx.Done():
			return nil
		}
	}
}
