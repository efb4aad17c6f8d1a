// Package storage defines Wharf's versioned object store: the one small
// interface the API server keeps every object behind.
//
// The store is built on revisions. Every successful write (create, update,
// delete) is assigned the next value of one global, monotonically increasing
// revision; that revision is the object's resourceVersion. Reads return the
// revision they observed, writes are compare-and-swap on the revision the
// caller last saw, and Watch replays history from any revision still kept,
// answering ErrCompacted for older ones so that the caller relists.
//
// Keys are opaque strings; the API server uses
// "/registry/{group}/{resource}/{namespace}/{name}". Values are opaque bytes.
package storage

import (
	"context"
	"errors"
)

// Sentinel errors. Implementations wrap them with context; callers test with
// errors.Is.
var (
	// ErrNotFound: the key does not exist (or did not at the revision read).
	ErrNotFound = errors.New("not found")
	// ErrExists: Create found the key already present.
	ErrExists = errors.New("already exists")
	// ErrConflict: a compare-and-swap saw a revision other than the expected one.
	ErrConflict = errors.New("revision conflict")
	// ErrCompacted: the requested revision is older than the kept history.
	ErrCompacted = errors.New("revision compacted")
	// ErrFutureRevision: the requested revision has not been written yet.
	ErrFutureRevision = errors.New("revision is in the future")
	// ErrClosed: the store has been closed.
	ErrClosed = errors.New("store closed")
)

// KV is one key at one revision.
type KV struct {
	Key   string
	Value []byte
	// ModRevision is the revision of the write that produced this value:
	// the object's resourceVersion.
	ModRevision int64
	// CreateRevision is the revision at which the key was created.
	CreateRevision int64
}

// EventType says what happened to a key.
type EventType int

const (
	// EventPut is a create or an update. Event.Prev is nil for a create.
	EventPut EventType = iota + 1
	// EventDelete removes the key. Event.KV.Value is empty; Event.Prev holds
	// the last value.
	EventDelete
)

func (t EventType) String() string {
	switch t {
	case EventPut:
		return "PUT"
	case EventDelete:
		return "DELETE"
	}
	return "UNKNOWN"
}

// Event is one change, delivered to watchers in revision order.
type Event struct {
	Type EventType
	// KV is the key after the change; for a delete its ModRevision is the
	// delete's revision.
	KV KV
	// Prev is the value before the change, nil for a create.
	Prev *KV
}

// ListOptions select what List returns.
type ListOptions struct {
	// Revision reads as of this revision; 0 reads the latest.
	Revision int64
	// Limit caps the number of items returned; 0 means no limit.
	Limit int
	// StartAfter resumes a paginated list after this key (exclusive).
	StartAfter string
	// Filter, when set, keeps only the items for which it returns true.
	// Limit counts kept items, so a page is full even when most are dropped.
	Filter func(kv KV) bool
}

// ListResult is one page of a list, read at one consistent revision.
type ListResult struct {
	Items []KV
	// Revision is the revision the list was read at.
	Revision int64
	// More says whether items remain after the last one returned; resume
	// with ListOptions{Revision: Revision, StartAfter: last key}.
	More bool
}

// Store is the versioned object store.
type Store interface {
	// Get returns the current value of key.
	Get(ctx context.Context, key string) (KV, error)
	// List returns the keys under prefix, in key order, at one revision.
	List(ctx context.Context, prefix string, opts ListOptions) (ListResult, error)
	// Create writes key if it does not exist and returns the new revision.
	Create(ctx context.Context, key string, value []byte) (int64, error)
	// Update replaces key if its current ModRevision is expectedRev
	// (ErrConflict otherwise, ErrNotFound if absent) and returns the new
	// revision. expectedRev 0 skips the comparison.
	Update(ctx context.Context, key string, value []byte, expectedRev int64) (int64, error)
	// Delete removes key if its current ModRevision is expectedRev (0 skips
	// the comparison) and returns the delete's revision and the last value.
	Delete(ctx context.Context, key string, expectedRev int64) (int64, KV, error)
	// Watch streams the changes under prefix with revision > fromRev, in
	// revision order, until ctx ends or the watcher falls too far behind
	// (the channel is then closed; see Watcher.Err). fromRev 0 watches from
	// the current revision. A fromRev older than the kept history fails
	// with ErrCompacted.
	Watch(ctx context.Context, prefix string, fromRev int64) (Watcher, error)
	// Revision returns the latest revision written.
	Revision() int64
	// Compact drops history at and below rev: watches from older revisions
	// then fail with ErrCompacted.
	Compact(ctx context.Context, rev int64) error
	// Close releases the store. Open watchers are closed.
	Close() error
}

// Watcher is one watch stream.
type Watcher interface {
	// Events delivers changes in revision order. It is closed when the
	// watch ends.
	Events() <-chan Event
	// Err says why Events was closed: nil after the context ended or Stop,
	// ErrCompacted or another error otherwise.
	Err() error
	// Stop ends the watch and releases its resources.
	Stop()
}
