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
	cycle   int64
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
// priority (spec.priority, higher first) then age, a back-off heap of Pods
// that failed recently (exponential, initial..max per attempt), and the
// unschedulable set of Pods that no node fitted, which a cluster event
// (MoveAllToActive) sends back. A Pod is in at most one of them, or in
// flight between Pop and Done or Requeue. It is safe for concurrent use.
type Queue struct {
	now                 func() time.Time
	initial, maxBackoff time.Duration

	mu            sync.Mutex
	pods          map[string]*QueuedPod
	active        podHeap
	backoff       podHeap
	unschedulable map[string]*QueuedPod
	moveCycle     int64
	lastScan      time.Time // of the unschedulable set
	seq           uint64
	closed        bool
	wake          chan struct{}
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

func backoffLess(a, b *QueuedPod) bool { return a.backoffUntil.Before(b.backoffUntil) }

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
		if qp.where == placeActive {
			heap.Fix(&q.active, qp.index)
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
		heap.Remove(&q.backoff, qp.index)
	case placeUnschedulable:
		delete(q.unschedulable, key)
	}
	delete(q.pods, key)
}

// Pop returns the next Pod to schedule, waiting until there is one or ctx
// ends (then it returns ctx's error) or the queue is closed
// (ErrQueueClosed). The Pod is in flight until Done or Requeue.
func (q *Queue) Pop(ctx context.Context) (*QueuedPod, error) {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return nil, ErrQueueClosed
		}
		wait := q.flushLocked()
		if q.active.Len() > 0 {
			qp := heap.Pop(&q.active).(*QueuedPod)
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
	for q.backoff.Len() > 0 && !q.backoff.items[0].backoffUntil.After(now) {
		qp := heap.Pop(&q.backoff).(*QueuedPod)
		q.pushActive(qp)
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
	if q.backoff.Len() > 0 {
		wait = q.backoff.items[0].backoffUntil.Sub(now)
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

// requeueLocked sends qp to the back-off heap if its back-off is still
// running, else to the active heap.
func (q *Queue) requeueLocked(qp *QueuedPod) {
	if qp.backoffUntil.After(q.now()) {
		qp.where = placeBackoff
		heap.Push(&q.backoff, qp)
		q.signal() // Pop recomputes its wake-up time
		return
	}
	q.pushActive(qp)
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
// unschedulable says no node fitted: the Pod then waits for a cluster
// event (MoveAllToActive) unless one already happened during the attempt.
func (q *Queue) Requeue(qp *QueuedPod, unschedulable bool) {
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
	qp.backoffUntil = now.Add(q.backoffFor(qp.Attempts))
	if unschedulable && q.moveCycle <= qp.cycle {
		qp.where = placeUnschedulable
		qp.unschedSince = now
		q.unschedulable[qp.Key] = qp
		return
	}
	qp.where = placeBackoff
	heap.Push(&q.backoff, qp)
	q.signal()
}

// MoveAllToActive is called on a cluster event that could make
// unschedulable Pods fit (a node added or changed, a Pod deleted or
// finished, labels changed): they go back to the active heap, or to the
// back-off heap while their back-off runs.
func (q *Queue) MoveAllToActive() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.moveCycle++
	for key, qp := range q.unschedulable {
		delete(q.unschedulable, key)
		q.requeueLocked(qp)
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
	Active, Backoff, Unschedulable, InFlight int
}

// Lengths returns the sizes of the queue's parts.
func (q *Queue) Lengths() QueueLengths {
	q.mu.Lock()
	defer q.mu.Unlock()
	l := QueueLengths{Active: q.active.Len(), Backoff: q.backoff.Len(), Unschedulable: len(q.unschedulable)}
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
