package controller

import (
	"sync"
	"time"
)

// ExpectationsTimeout is how long expectations are trusted: after it a
// controller acts again even if the cache never showed what it waited
// for (a lost watch event must not stall a controller for ever).
const ExpectationsTimeout = 5 * time.Minute

// Expectations record, per controller key, the creates and deletes a
// controller has issued but not yet seen in its informer cache, as
// kube-controller-manager's ControllerExpectations and
// UIDTrackingControllerExpectations do. A controller syncs a key only when
// its expectations are satisfied, so it does not create Pods twice while
// its first creates are still on their way to the cache.
//
// Creations are counted (the names are not known before the create
// returns); deletions are tracked by UID, so that a Pod seen first with a
// deletionTimestamp and then deleted is counted once.
type Expectations struct {
	now func() time.Time

	mu sync.Mutex
	m  map[string]*expectation
}

type expectation struct {
	adds    int
	deletes map[string]struct{}
	at      time.Time
}

// NewExpectations returns empty expectations.
func NewExpectations() *Expectations {
	return &Expectations{now: time.Now, m: map[string]*expectation{}}
}

// Satisfied reports whether key may be synced: nothing is expected, or
// the expectations are older than ExpectationsTimeout.
func (e *Expectations) Satisfied(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.m[key]
	if !ok {
		return true
	}
	if x.adds <= 0 && len(x.deletes) == 0 {
		return true
	}
	return e.now().Sub(x.at) > ExpectationsTimeout
}

// ExpectCreations records that n creates were issued for key (replacing
// earlier expectations of creates).
func (e *Expectations) ExpectCreations(key string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.get(key)
	x.adds = n
	x.at = e.now()
}

// ExpectDeletions records that the objects with these UIDs are being
// deleted for key.
func (e *Expectations) ExpectDeletions(key string, uids []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := e.get(key)
	for _, u := range uids {
		x.deletes[u] = struct{}{}
	}
	x.at = e.now()
}

// CreationObserved counts one create of key as seen (or as failed: a
// create that returned an error will never be seen).
func (e *Expectations) CreationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok && x.adds > 0 {
		x.adds--
	}
}

// DeletionObserved marks the delete of uid for key as seen (or failed).
func (e *Expectations) DeletionObserved(key, uid string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		delete(x.deletes, uid)
	}
}

// Delete forgets key (its object is gone).
func (e *Expectations) Delete(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}

// get returns key's expectation, creating it; e.mu is held.
func (e *Expectations) get(key string) *expectation {
	x, ok := e.m[key]
	if !ok {
		x = &expectation{deletes: map[string]struct{}{}}
		e.m[key] = x
	}
	return x
}
