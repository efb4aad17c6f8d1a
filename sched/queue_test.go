package sched

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sched/framework"
	. "github.com/wharfhq/wharf/sched/internal/schedtest"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time       { return c.t }
func (c *fakeClock) step(d time.Duration) { c.t = c.t.Add(d) }
func newFakeClock() *fakeClock            { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }
func created(p *types.Pod, sec int) *types.Pod {
	p.CreationTimestamp = types.NewTime(time.Unix(int64(sec), 0))
	return p
}

// popNow pops without waiting: the test has made sure a Pod is active.
func popNow(t *testing.T, q *Queue) *QueuedPod {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q.mu.Lock()
	q.flushLocked()
	n := q.active.Len()
	q.mu.Unlock()
	if n == 0 {
		t.Fatalf("nothing active: %+v", q.Lengths())
	}
	qp, err := q.Pop(ctx)
	if err != nil {
		t.Fatalf("Pop: %v", err)
	}
	return qp
}

func TestQueueOrder(t *testing.T) {
	c := newFakeClock()
	q := NewQueue(c.now, time.Second, 10*time.Second)
	q.Add(created(Pod("old-low").Obj(), 1))
	q.Add(created(Pod("new-high").Priority(100).Obj(), 5))
	q.Add(created(Pod("new-low").Obj(), 3))
	q.Add(created(Pod("same-age-a").Obj(), 3))
	q.Add(created(Pod("old-high").Priority(100).Obj(), 2))
	var got []string
	for range 5 {
		got = append(got, popNow(t, q).Pod.Name)
	}
	want := []string{"old-high", "new-high", "old-low", "new-low", "same-age-a"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
	if l := q.Lengths(); l.InFlight != 5 || l.Active != 0 {
		t.Errorf("lengths %+v", l)
	}
}

func TestQueueBackoffAndUnschedulable(t *testing.T) {
	c := newFakeClock()
	q := NewQueue(c.now, time.Second, 10*time.Second)
	q.Add(Pod("p").Obj())

	// An error: back-off 1s, then active again.
	qp := popNow(t, q)
	q.Requeue(qp, false)
	if l := q.Lengths(); l.Backoff != 1 {
		t.Fatalf("after error: %+v", l)
	}
	q.mu.Lock()
	wait := q.flushLocked()
	q.mu.Unlock()
	if wait != time.Second {
		t.Errorf("wait %v, want 1s", wait)
	}
	c.step(time.Second)
	qp = popNow(t, q)
	if qp.Attempts != 2 {
		t.Errorf("attempts %d", qp.Attempts)
	}

	// Unschedulable: waits for an event; the back-off (2s now) still runs.
	q.Requeue(qp, true)
	if l := q.Lengths(); l.Unschedulable != 1 {
		t.Fatalf("after no fit: %+v", l)
	}
	q.MoveAllToActive()
	if l := q.Lengths(); l.Backoff != 1 {
		t.Fatalf("moved while backing off: %+v", l)
	}
	c.step(2 * time.Second)
	qp = popNow(t, q)

	// A status-only update does not move an unschedulable Pod; a spec or
	// label change does.
	q.Requeue(qp, true)
	c.step(time.Minute / 2)
	withCond := Pod("p").Obj()
	withCond.Status.Conditions = []types.PodCondition{{Type: types.PodScheduled, Status: types.ConditionFalse}}
	q.Update(withCond)
	if l := q.Lengths(); l.Unschedulable != 1 {
		t.Fatalf("status update moved the pod: %+v", l)
	}
	q.Update(Pod("p").Label("x", "y").Obj())
	if l := q.Lengths(); l.Active != 1 {
		t.Fatalf("label change did not move the pod: %+v", l)
	}
	qp = popNow(t, q)

	// An event during the attempt sends the Pod to back-off, not to the
	// unschedulable set, so it cannot miss the change.
	q.MoveAllToActive()
	q.Requeue(qp, true)
	if l := q.Lengths(); l.Backoff != 1 || l.Unschedulable != 0 {
		t.Fatalf("event during attempt: %+v", l)
	}
	c.step(10 * time.Second)
	qp = popNow(t, q)

	// Without any event, the unschedulable Pod is retried after a while.
	q.Requeue(qp, true)
	c.step(unschedulableTimeout)
	qp = popNow(t, q)
	if qp.Attempts != 6 {
		t.Errorf("attempts %d, want 6", qp.Attempts)
	}
	q.Done(qp.Key)
	if l := q.Lengths(); l != (QueueLengths{}) {
		t.Errorf("not empty after Done: %+v", l)
	}
}

func TestQueueBackoffBounds(t *testing.T) {
	q := NewQueue(time.Now, time.Second, 10*time.Second)
	for attempts, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 50: 10 * time.Second} {
		if got := q.backoffFor(attempts); got != want {
			t.Errorf("backoffFor(%d) = %v, want %v", attempts, got, want)
		}
	}
}

func TestQueueDelete(t *testing.T) {
	c := newFakeClock()
	q := NewQueue(c.now, time.Second, 10*time.Second)
	q.Add(Pod("a").Obj())
	q.Add(Pod("b").Obj())
	q.Delete("default/a")
	qp := popNow(t, q)
	if qp.Pod.Name != "b" {
		t.Fatalf("popped %s", qp.Pod.Name)
	}
	// Deleted while in flight: a failed attempt does not bring it back.
	q.Delete("default/b")
	q.Requeue(qp, false)
	if l := q.Lengths(); l != (QueueLengths{}) {
		t.Errorf("lengths %+v, want empty", l)
	}
	q.Add(Pod("c").Obj())
	qp = popNow(t, q)
	q.Requeue(qp, true)
	q.Delete("default/c")
	if l := q.Lengths(); l != (QueueLengths{}) {
		t.Errorf("lengths %+v, want empty", l)
	}
}

func TestQueuePopWaitsAndCloses(t *testing.T) {
	q := NewQueue(time.Now, time.Second, 10*time.Second)
	got := make(chan string, 1)
	go func() {
		qp, err := q.Pop(context.Background())
		if err != nil {
			got <- err.Error()
			return
		}
		got <- qp.Pod.Name
	}()
	q.Add(Pod("late").Obj())
	if n := <-got; n != "late" {
		t.Errorf("Pop returned %q", n)
	}
	go func() {
		_, err := q.Pop(context.Background())
		got <- err.Error()
	}()
	q.Close()
	if msg := <-got; msg != ErrQueueClosed.Error() {
		t.Errorf("Pop after Close: %q", msg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q2 := NewQueue(time.Now, time.Second, time.Second)
	if _, err := q2.Pop(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Pop with a cancelled context: %v", err)
	}
}

// tryPop pops what Pop would return at once, or nil when it would wait.
func tryPop(t *testing.T, q *Queue) *QueuedPod {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	qp, err := q.Pop(ctx)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Pop: %v", err)
		}
		return nil
	}
	return qp
}

// capacity is what a "Too many pods" or "Insufficient cpu" refusal waits
// for (NodeResourcesFit's events).
const capacity = framework.NodeEvents | framework.AssignedPodDelete

func TestQueueRetryAfterCapacityFrees(t *testing.T) {
	tests := []struct {
		name string
		// failure requeues the popped Pod "p" as its attempt failed.
		failure func(q *Queue, qp *QueuedPod)
		// event happens after the failure.
		event framework.ClusterEvent
		// busy adds Pods created after "p" to the active heap.
		busy int
		// want are the names Pop returns at once, in order, before
		// the clock moves ("" ends the list: Pop would wait).
		want []string
		// then is what Pop returns once the back-off is over.
		then []string
	}{
		{
			name:    "capacity freed, nothing active: retried at once",
			failure: func(q *Queue, qp *QueuedPod) { q.RequeueUnschedulable(qp, capacity) },
			event:   framework.AssignedPodDelete,
			want:    []string{"p", ""},
		},
		{
			name:    "capacity freed, busy active queue: the active Pods first, then it",
			failure: func(q *Queue, qp *QueuedPod) { q.RequeueUnschedulable(qp, capacity) },
			event:   framework.AssignedPodDelete,
			busy:    2,
			want:    []string{"busy-0", "busy-1", "p", ""},
		},
		{
			name:    "a Pod added cannot free capacity: stays unschedulable",
			failure: func(q *Queue, qp *QueuedPod) { q.RequeueUnschedulable(qp, capacity) },
			event:   framework.AssignedPodAdd | framework.AssignedPodUpdate,
			want:    []string{""},
			then:    []string{""},
		},
		{
			name:    "a node change can cure anything",
			failure: func(q *Queue, qp *QueuedPod) { q.RequeueUnschedulable(qp, framework.NodeEvents) },
			event:   framework.NodeUpdate,
			want:    []string{"p", ""},
		},
		{
			name:    "an unknown cause waits for any event",
			failure: func(q *Queue, qp *QueuedPod) { q.Requeue(qp, true) },
			event:   framework.AssignedPodAdd,
			want:    []string{"p", ""},
		},
		{
			name:    "an error keeps its back-off even when idle",
			failure: func(q *Queue, qp *QueuedPod) { q.Requeue(qp, false) },
			event:   framework.AssignedPodDelete,
			want:    []string{""},
			then:    []string{"p", ""},
		},
		{
			name:    "an error keeps its back-off behind a busy queue",
			failure: func(q *Queue, qp *QueuedPod) { q.Requeue(qp, false) },
			event:   framework.AllEvents,
			busy:    1,
			want:    []string{"busy-0", ""},
			then:    []string{"p", ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newFakeClock()
			q := NewQueue(c.now, 10*time.Second, 10*time.Second)
			q.Add(created(Pod("p").Obj(), 1))
			qp := popNow(t, q)
			tt.failure(q, qp)
			for i := range tt.busy {
				q.Add(created(Pod(fmt.Sprintf("busy-%d", i)).Obj(), 10+i))
			}
			q.MoveToActive(tt.event)
			pop := func(want []string) {
				t.Helper()
				var got []string
				for {
					qp := tryPop(t, q)
					if qp == nil {
						got = append(got, "")
						break
					}
					got = append(got, qp.Pod.Name)
				}
				if !slices.Equal(got, want) {
					t.Errorf("popped %q, want %q", got, want)
				}
			}
			pop(tt.want)
			if tt.then != nil {
				c.step(10 * time.Second)
				pop(tt.then)
			}
		})
	}
}

func TestQueueEventDuringAttempt(t *testing.T) {
	for _, tt := range []struct {
		name  string
		event framework.ClusterEvent
		want  QueueLengths
	}{
		{"an event that could cure it: back-off, not the unschedulable set", framework.AssignedPodDelete, QueueLengths{Backoff: 1}},
		{"an event that could not: the unschedulable set", framework.AssignedPodAdd, QueueLengths{Unschedulable: 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newFakeClock()
			q := NewQueue(c.now, time.Second, 10*time.Second)
			q.Add(Pod("p").Obj())
			qp := popNow(t, q)
			q.MoveToActive(tt.event)
			q.RequeueUnschedulable(qp, capacity)
			if l := q.Lengths(); l != tt.want {
				t.Errorf("lengths %+v, want %+v", l, tt.want)
			}
		})
	}
}

// TestQueueBackoffOrder: the Pods whose back-off ends in the same window
// leave it by priority and age; an earlier window goes first.
func TestQueueBackoffOrder(t *testing.T) {
	c := newFakeClock()
	q := NewQueue(c.now, time.Second, 10*time.Second)
	c.step(100 * time.Millisecond)
	for _, p := range []*types.Pod{
		created(Pod("young-low").Obj(), 3),
		created(Pod("old-low").Obj(), 1),
		created(Pod("high").Priority(10).Obj(), 5),
	} {
		q.Add(p)
		q.RequeueUnschedulable(popNow(t, q), capacity) // back-off until 00:00:02
	}
	c.step(time.Second) // 00:00:01.1
	q.Add(created(Pod("later-window").Priority(100).Obj(), 0))
	q.RequeueUnschedulable(popNow(t, q), capacity) // until 00:00:03
	q.MoveToActive(framework.AssignedPodDelete)
	want := []string{"high", "old-low", "young-low", "later-window"}
	for i, name := range want {
		if i == 2 {
			c.step(time.Second) // the first window ends: the rest is active
		}
		if qp := tryPop(t, q); qp == nil || qp.Pod.Name != name {
			t.Fatalf("pop %d: %v, want %s", i, qp, name)
		}
	}
}
