package sdk

import (
	"context"
	"sync"
	"time"
)

// Default per-key back-off of AddRateLimited.
const (
	DefaultQueueBackoffBase = 5 * time.Millisecond
	DefaultQueueBackoffMax  = 5 * time.Minute
)

// Queue is a work queue of string keys (usually KeyFunc's "ns/name") for
// level-triggered loops, with the semantics of client-go's rate-limited
// work queue:
//
//   - a key added several times before a worker takes it is processed once;
//   - a key is never handed to two workers at once: added while being
//     processed, it is queued again when the worker calls Done;
//   - AddRateLimited re-adds a failed key after a per-key exponential
//     back-off (base, 2*base, 4*base, ... up to max) until Forget;
//   - AddAfter adds a key later (requeue for a deadline or a poll).
//
// There is no overall rate limit: the per-key back-off is what keeps a
// failing key from spinning.
type Queue struct {
	base, max time.Duration

	mu         sync.Mutex
	cond       *sync.Cond
	queue      []string
	dirty      map[string]struct{} // queued or to be re-queued on Done
	processing map[string]struct{}
	failures   map[string]int
	waiting    map[string]*delayed
	shutdown   bool
}

type delayed struct {
	at    time.Time
	timer *time.Timer
}

// QueueOption configures a Queue.
type QueueOption func(*Queue)

// WithBackoff sets the per-key back-off of AddRateLimited.
func WithBackoff(base, max time.Duration) QueueOption {
	return func(q *Queue) { q.base, q.max = base, max }
}

// NewQueue returns an empty queue.
func NewQueue(opts ...QueueOption) *Queue {
	q := &Queue{
		base:       DefaultQueueBackoffBase,
		max:        DefaultQueueBackoffMax,
		dirty:      map[string]struct{}{},
		processing: map[string]struct{}{},
		failures:   map[string]int{},
		waiting:    map[string]*delayed{},
	}
	q.cond = sync.NewCond(&q.mu)
	for _, o := range opts {
		o(q)
	}
	return q
}

// Add queues key unless it is already queued (after shutdown it is a
// no-op).
func (q *Queue) Add(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.addLocked(key)
}

func (q *Queue) addLocked(key string) {
	if q.shutdown {
		return
	}
	if _, ok := q.dirty[key]; ok {
		return
	}
	q.dirty[key] = struct{}{}
	if _, ok := q.processing[key]; ok {
		return // Done re-queues it
	}
	q.queue = append(q.queue, key)
	q.cond.Signal()
}

// AddAfter queues key after d (at once when d <= 0). A key already
// waiting keeps the earlier of the two times.
func (q *Queue) AddAfter(key string, d time.Duration) {
	if d <= 0 {
		q.Add(key)
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shutdown {
		return
	}
	at := time.Now().Add(d)
	if w, ok := q.waiting[key]; ok {
		if !at.Before(w.at) {
			return
		}
		w.timer.Stop()
	}
	w := &delayed{at: at}
	w.timer = time.AfterFunc(d, func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		if q.waiting[key] == w {
			delete(q.waiting, key)
			q.addLocked(key)
		}
	})
	q.waiting[key] = w
}

// AddRateLimited queues key after its back-off, which doubles with each
// call until Forget.
func (q *Queue) AddRateLimited(key string) {
	q.AddAfter(key, q.When(key))
}

// When returns the back-off for key's next retry and counts a failure.
func (q *Queue) When(key string) time.Duration {
	q.mu.Lock()
	n := q.failures[key]
	q.failures[key] = n + 1
	q.mu.Unlock()
	d := q.base
	for i := 0; i < n && d < q.max; i++ {
		d *= 2
	}
	return min(d, q.max)
}

// Forget resets key's back-off (call it when the key succeeded).
func (q *Queue) Forget(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.failures, key)
}

// NumRequeues returns how many times key was rate-limited since Forget.
func (q *Queue) NumRequeues(key string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.failures[key]
}

// Get blocks until a key is available and returns it; shutdown is true
// (and key "") once the queue is shut down and drained. Call Done(key)
// when finished with it.
func (q *Queue) Get() (key string, shutdown bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.queue) == 0 && !q.shutdown {
		q.cond.Wait()
	}
	if len(q.queue) == 0 {
		return "", true
	}
	key = q.queue[0]
	q.queue[0] = ""
	q.queue = q.queue[1:]
	q.processing[key] = struct{}{}
	delete(q.dirty, key)
	return key, false
}

// Done marks key processed; if it was added meanwhile it is queued again.
func (q *Queue) Done(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.processing, key)
	if _, ok := q.dirty[key]; ok {
		q.queue = append(q.queue, key)
		q.cond.Signal()
	}
}

// Len returns the number of keys waiting to be processed (not counting
// delayed keys and keys being processed).
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queue)
}

// ShutDown stops the queue: pending delays are dropped, Add becomes a
// no-op, and Get returns shutdown once the queued keys are drained.
func (q *Queue) ShutDown() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shutdown = true
	for k, w := range q.waiting {
		w.timer.Stop()
		delete(q.waiting, k)
	}
	q.cond.Broadcast()
}

// ShuttingDown reports whether ShutDown was called.
func (q *Queue) ShuttingDown() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.shutdown
}

// Run processes keys with workers goroutines until ctx ends, then shuts
// the queue down and returns once the workers have finished. A key whose
// reconcile fails is retried with back-off; a success forgets its
// back-off. reconcile must be safe for concurrent calls on different keys.
func (q *Queue) Run(ctx context.Context, workers int, reconcile func(ctx context.Context, key string) error) {
	if workers < 1 {
		workers = 1
	}
	stop := context.AfterFunc(ctx, q.ShutDown)
	defer stop()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				key, shutdown := q.Get()
				if shutdown {
					return
				}
				if ctx.Err() != nil {
					q.Done(key)
					continue // drain without working after cancellation
				}
				if err := reconcile(ctx, key); err != nil {
					q.AddRateLimited(key)
				} else {
					q.Forget(key)
				}
				q.Done(key)
			}
		}()
	}
	wg.Wait()
}
