package sched

import (
	"container/heap"
	"context"
	"errors"
	"maps"
	"reflect"
	"sync"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sched/framework"
)

// ErrQueueClosed: Pop on a closed queue.
var ErrQueueClosed = errors.New("scheduling queue closed")

// unschedulableTimeout is how long a Pod waits in the unschedulable set
// without a cluster event before it is tried again anyway: a safety net for
// a change the scheduler has no event for.
const unschedulableTimeout = 60 * time.Second

// unschedulableScan is how often the unschedulable set is scanned for
// Pods past unschedulableTimeout.
const unschedulableScan = 5 * time.Second

// backoffWindow is the granularity of back-off ends after an unschedulable
// attempt: ends are rounded up to it, so that the Pods whose back-off ends
// in the same window leave it together and in the active heap's order
// (priority, then age), and a Pop from the back-off heap (when there is
// nothing active) also takes them in that order, as Kubernetes' backoffQ
// ordering window does.
const backoffWindow = time.Second

// QueuedPod is a Pod waiting in (or popped from) the scheduling queue.
type QueuedPod struct {
	// Pod is the latest version of the Pod the queue has seen.
	Pod *types.Pod
	// Key is "namespace/name".
	Key string
	// Attempts counts the scheduling attempts, this one included once
	// popped.
	Attempts int

	priority     int32
	created      time.Time
	seq          uint64
	backoffUntil time.Time
	unschedSince time.Time
	// cycle is the queue's move cycle when the Pod was popped: a cluster
	// event after it means the attempt may have missed a change.
	cycle int64
	// retryOn is what can cure the last failure (RequeueUnschedulable);
	// errored says the last failure was an error, whose back-off is kept.
	retryOn framework.ClusterEvent
	errored bool
	index   int // in the heap it is in, or -1
	where   place
	deleted bool // deleted while in flight
}

type place int

const (
	placeNone place = iota
	placeActive
	placeBackoff
	placeUnschedulable
	placeInFlight
)

// Queue holds the Pods waiting to be scheduled: an active heap ordered by
// priority (spec.priority, higher first) then age; two back-off heaps of
// Pods that failed recently (exponential, initial..max per attempt), one
// for Pods no node fitted and one for Pods whose attempt failed with an
// error; and the unschedulable set of Pods that no node fitted, which a
// cluster event that could cure their failure (MoveToActive) sends back.
// A Pod is in at most one of them, or in flight between Pop and Done or
// Requeue.
//
// When nothing is active, Pop takes a Pod from the unschedulable back-off
// heap before its back-off ends (Kubernetes 1.33's SchedulerPopFromBackoffQ):
// the back-off keeps a busy scheduler from retrying the same Pods, and an
// idle one has nothing better to do. Pods that failed with an error wait
// their back-off. It is safe for concurrent use.
type Queue struct {
	now                 func() time.Time
	initial, maxBackoff time.Duration

	mu            sync.Mutex
	pods          map[string]*QueuedPod
	active        podHeap
	backoff       podHeap // unschedulable attempts
	errBackoff    podHeap // attempts that failed with an error
	unschedulable map[string]*QueuedPod
	moveCycle     int64
	// eventCycle holds, for each kind of framework.ClusterEvent (by bit),
	// the move cycle of its last occurrence.
	eventCycle [framework.EventKinds]int64
	lastScan   time.Time // of the unschedulable set
	seq        uint64
	closed     bool
	wake       chan struct{}
}

// NewQueue returns an empty queue with the given back-off bounds; now is
// the clock (time.Now in production, a fake one in tests).
func NewQueue(now func() time.Time, initialBackoff, maxBackoff time.Duration) *Queue {
	return &Queue{
		now:           now,
		initial:       initialBackoff,
		maxBackoff:    maxBackoff,
		pods:          map[string]*QueuedPod{},
		active:        podHeap{less: activeLess},
		backoff:       podHeap{less: backoffLess},
		errBackoff:    podHeap{less: backoffLess},
		unschedulable: map[string]*QueuedPod{},
		wake:          make(chan struct{}, 1),
	}
}

func activeLess(a, b *QueuedPod) bool {
	if a.priority != b.priority {
		return a.priority > b.priority
	}
	if !a.created.Equal(b.created) {
		return a.created.Before(b.created)
	}
	return a.seq < b.seq
}

// backoffLess orders by the end of the back-off, then as the active heap
// (back-off ends after an unschedulable attempt are rounded up to
// backoffWindow, so Pods of one window are ordered by priority and age).
func backoffLess(a, b *QueuedPod) bool {
	if !a.backoffUntil.Equal(b.backoffUntil) {
		return a.backoffUntil.Before(b.backoffUntil)
	}
	return activeLess(a, b)
}

func podKey(pod *types.Pod) string { return pod.Namespace + "/" + pod.Name }

func priorityOf(pod *types.Pod) int32 {
	if pod.Spec.Priority != nil {
		return *pod.Spec.Priority
	}
	return 0
}

// signal wakes a waiting Pop; q.mu is held.
func (q *Queue) signal() {
	if q.closed {
		return
	}
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Add queues pod to be scheduled (or, if already queued or in flight,
// records its latest version as Update does).
func (q *Queue) Add(pod *types.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if qp := q.pods[podKey(pod)]; qp != nil {
		q.updateLocked(qp, pod)
		return
	}
	q.addLocked(pod)
}

func (q *Queue) addLocked(pod *types.Pod) {
	key := podKey(pod)
	q.seq++
	qp := &QueuedPod{Pod: pod, Key: key, priority: priorityOf(pod), created: pod.CreationTimestamp.Time, seq: q.seq, index: -1}
	q.pods[key] = qp
	q.pushActive(qp)
}

// Update records a new version of a queued Pod; when something the
// scheduler looks at changed (spec, labels, annotations), an
// unschedulable Pod is tried again. A status-only change (such as the
// scheduler's own PodScheduled condition) does not move it.
func (q *Queue) Update(pod *types.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if qp := q.pods[podKey(pod)]; qp != nil {
		q.updateLocked(qp, pod)
		return
	}
	q.addLocked(pod)
}

func (q *Queue) updateLocked(qp *QueuedPod, pod *types.Pod) {
	old := qp.Pod
	qp.Pod = pod
	if qp.where == placeInFlight {
		qp.deleted = false
		return
	}
	if p := priorityOf(pod); p != qp.priority {
		qp.priority = p
		switch qp.where {
		case placeActive:
			heap.Fix(&q.active, qp.index)
		case placeBackoff:
			heap.Fix(q.backoffHeap(qp), qp.index)
		}
	}
	if qp.where == placeUnschedulable && schedulingRelevantChange(old, pod) {
		delete(q.unschedulable, qp.Key)
		q.requeueLocked(qp)
	}
}

// schedulingRelevantChange reports whether the Pod changed in a way that
// could change where it fits.
func schedulingRelevantChange(old, pod *types.Pod) bool {
	return !maps.Equal(old.Labels, pod.Labels) || !maps.Equal(old.Annotations, pod.Annotations) ||
		!reflect.DeepEqual(old.Spec, pod.Spec)
}

// Delete drops the Pod with key (deleted, bound elsewhere, or no longer
// ours). A Pod in flight is dropped when it comes back.
func (q *Queue) Delete(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	qp := q.pods[key]
	if qp == nil {
		return
	}
	switch qp.where {
	case placeInFlight:
		qp.deleted = true
		return
	case placeActive:
		heap.Remove(&q.active, qp.index)
	case placeBackoff:
		heap.Remove(q.backoffHeap(qp), qp.index)
	case placeUnschedulable:
		delete(q.unschedulable, key)
	}
	delete(q.pods, key)
}

// Pop returns the next Pod to schedule, waiting until there is one or ctx
// ends (then it returns ctx's error) or the queue is closed
// (ErrQueueClosed). The next Pod is the first of the active heap or, when
// that is empty, the first of the unschedulable back-off heap, whose
// back-off is cut short. The Pod is in flight until Done or Requeue.
func (q *Queue) Pop(ctx context.Context) (*QueuedPod, error) {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return nil, ErrQueueClosed
		}
		wait := q.flushLocked()
		var from *podHeap
		switch {
		case q.active.Len() > 0:
			from = &q.active
		case q.backoff.Len() > 0:
			from = &q.backoff
		}
		if from != nil {
			qp := heap.Pop(from).(*QueuedPod)
			qp.where = placeInFlight
			qp.Attempts++
			qp.cycle = q.moveCycle
			q.mu.Unlock()
			return qp, nil
		}
		q.mu.Unlock()
		var timer *time.Timer
		var fire <-chan time.Time
		if wait > 0 {
			timer = time.NewTimer(wait)
			fire = timer.C
		}
		select {
		case <-ctx.Done():
		case <-q.wake:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// flushLocked moves Pods whose back-off is over to the active heap, and
// Pods unschedulable for longer than unschedulableTimeout back; it
// returns how long until the next back-off ends (0: none pending).
func (q *Queue) flushLocked() time.Duration {
	now := q.now()
	for _, h := range []*podHeap{&q.backoff, &q.errBackoff} {
		for h.Len() > 0 && !h.items[0].backoffUntil.After(now) {
			q.pushActive(heap.Pop(h).(*QueuedPod))
		}
	}
	// The unschedulable set is scanned at most every unschedulableScan,
	// not on every Pop: it can hold many Pods.
	if len(q.unschedulable) > 0 && now.Sub(q.lastScan) >= unschedulableScan {
		q.lastScan = now
		for key, qp := range q.unschedulable {
			if now.Sub(qp.unschedSince) >= unschedulableTimeout {
				delete(q.unschedulable, key)
				q.requeueLocked(qp)
			}
		}
	}
	var wait time.Duration
	for _, h := range []*podHeap{&q.backoff, &q.errBackoff} {
		if h.Len() > 0 {
			if d := h.items[0].backoffUntil.Sub(now); wait == 0 || d < wait {
				wait = d
			}
		}
	}
	if len(q.unschedulable) > 0 && (wait == 0 || wait > unschedulableScan) {
		wait = unschedulableScan
	}
	return wait
}

func (q *Queue) pushActive(qp *QueuedPod) {
	qp.where = placeActive
	heap.Push(&q.active, qp)
	q.signal()
}

// requeueLocked sends qp to its back-off heap if its back-off is still
// running, else to the active heap.
func (q *Queue) requeueLocked(qp *QueuedPod) {
	if qp.backoffUntil.After(q.now()) {
		q.pushBackoff(qp)
		return
	}
	q.pushActive(qp)
}

// backoffHeap returns the back-off heap qp belongs in.
func (q *Queue) backoffHeap(qp *QueuedPod) *podHeap {
	if qp.errored {
		return &q.errBackoff
	}
	return &q.backoff
}

func (q *Queue) pushBackoff(qp *QueuedPod) {
	qp.where = placeBackoff
	heap.Push(q.backoffHeap(qp), qp)
	q.signal() // Pop recomputes its wake-up time, or pops it
}

// backoffFor returns the back-off after attempts failed attempts.
func (q *Queue) backoffFor(attempts int) time.Duration {
	d := q.initial
	for i := 1; i < attempts && d < q.maxBackoff; i++ {
		d *= 2
	}
	return min(d, q.maxBackoff)
}

// Done says a popped Pod is finished with (bound, or dropped).
func (q *Queue) Done(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if qp := q.pods[key]; qp != nil && qp.where == placeInFlight {
		delete(q.pods, key)
	}
}

// Requeue puts back a popped Pod whose attempt failed, after its back-off.
// unschedulable says no node fitted, for a reason any cluster event could
// cure (RequeueUnschedulable with framework.AllEvents); otherwise the
// attempt failed with an error, and the Pod waits its whole back-off.
func (q *Queue) Requeue(qp *QueuedPod, unschedulable bool) {
	if unschedulable {
		q.RequeueUnschedulable(qp, framework.AllEvents)
		return
	}
	q.requeue(qp, true, 0)
}

// RequeueUnschedulable puts back a popped Pod that no node fitted; retryOn
// is the cluster events that could cure that (framework.Profile's
// RetryEvents). The Pod waits in the unschedulable set for one of them
// (MoveToActive), unless one already happened during the attempt: then it
// goes to back-off at once.
func (q *Queue) RequeueUnschedulable(qp *QueuedPod, retryOn framework.ClusterEvent) {
	q.requeue(qp, false, retryOn)
}

func (q *Queue) requeue(qp *QueuedPod, errored bool, retryOn framework.ClusterEvent) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.pods[qp.Key] != qp || qp.where != placeInFlight {
		return
	}
	if qp.deleted {
		delete(q.pods, qp.Key)
		return
	}
	now := q.now()
	qp.errored, qp.retryOn = errored, retryOn
	qp.backoffUntil = now.Add(q.backoffFor(qp.Attempts))
	if errored {
		q.pushBackoff(qp)
		return
	}
	qp.backoffUntil = alignUp(qp.backoffUntil, backoffWindow)
	if !q.happenedSinceLocked(retryOn, qp.cycle) {
		qp.where = placeUnschedulable
		qp.unschedSince = now
		q.unschedulable[qp.Key] = qp
		return
	}
	q.pushBackoff(qp)
}

// alignUp rounds t up to a multiple of d.
func alignUp(t time.Time, d time.Duration) time.Time {
	if a := t.Truncate(d); a.Before(t) {
		return a.Add(d)
	}
	return t
}

// happenedSinceLocked reports whether an event of a kind in ev happened
// after move cycle cycle.
func (q *Queue) happenedSinceLocked(ev framework.ClusterEvent, cycle int64) bool {
	for i := range framework.EventKinds {
		if ev&(1<<i) != 0 && q.eventCycle[i] > cycle {
			return true
		}
	}
	return false
}

// MoveAllToActive is MoveToActive(framework.AllEvents): every
// unschedulable Pod is tried again.
func (q *Queue) MoveAllToActive() { q.MoveToActive(framework.AllEvents) }

// MoveToActive is called on a cluster event ev (one or more kinds) that
// could make unschedulable Pods fit: those whose failure ev could cure go
// back to the active heap, or to the back-off heap while their back-off
// runs; the others stay (until an event that concerns them, or
// unschedulableTimeout).
func (q *Queue) MoveToActive(ev framework.ClusterEvent) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.moveCycle++
	for i := range framework.EventKinds {
		if ev&(1<<i) != 0 {
			q.eventCycle[i] = q.moveCycle
		}
	}
	for key, qp := range q.unschedulable {
		if qp.retryOn&ev != 0 {
			delete(q.unschedulable, key)
			q.requeueLocked(qp)
		}
	}
}

// Close wakes every Pop, which then returns ErrQueueClosed.
func (q *Queue) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		close(q.wake)
	}
}

// QueueLengths are the sizes of the queue's parts.
type QueueLengths struct {
	// Backoff counts both back-off heaps; ErrorBackoff, of those, the
	// Pods whose last attempt failed with an error.
	Active, Backoff, Unschedulable, InFlight int
	ErrorBackoff                             int
}

// Lengths returns the sizes of the queue's parts.
func (q *Queue) Lengths() QueueLengths {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := QueueLengths{Active: q.active.Len(), Backoff: q.backoff.Len() + q.errBackoff.Len(),
		Unschedulable: len(q.unschedulable), ErrorBackoff: q.errBackoff.Len()}
	l.InFlight = len(q.pods) - l.Active - l.Backoff - l.Unschedulable
	return l
}

// podHeap is a container/heap of QueuedPods keeping each one's index.
type podHeap struct {
	items []*QueuedPod
	less  func(a, b *QueuedPod) bool
}

// Len, Less, Swap, Push and Pop implement heap.Interface.
func (h *podHeap) Len() int           { return len(h.items) }
func (h *podHeap) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h *podHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].index, h.items[j].index = i, j
}
func (h *podHeap) Push(x any) {
	qp := x.(*QueuedPod)
	qp.index = len(h.items)
	h.items = append(h.items, qp)
}
func (h *podHeap) Pop() any {
	n := len(h.items)
	qp := h.items[n-1]
	h.items[n-1] = nil
	h.items = h.items[:n-1]
	qp.index = -1
	return qp
}
