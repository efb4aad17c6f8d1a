package sdk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestQueueDedupAndOrder(t *testing.T) {
	q := NewQueue()
	defer q.ShutDown()
	for _, k := range []string{"a", "b", "a", "c", "b"} {
		q.Add(k)
	}
	if got := q.Len(); got != 3 {
		t.Fatalf("Len = %d, want 3", got)
	}
	for _, want := range []string{"a", "b", "c"} {
		got, shutdown := q.Get()
		if shutdown || got != want {
			t.Fatalf("Get = %q, %v; want %q, false", got, shutdown, want)
		}
		q.Done(got)
	}
}

func TestQueueReAddWhileProcessing(t *testing.T) {
	q := NewQueue()
	defer q.ShutDown()
	q.Add("a")
	key, _ := q.Get()
	q.Add("a") // while processing: must not be handed out twice
	q.Add("a")
	if got := q.Len(); got != 0 {
		t.Fatalf("Len while processing = %d, want 0", got)
	}
	q.Done(key)
	if got := q.Len(); got != 1 {
		t.Fatalf("Len after Done = %d, want 1 (re-queued once)", got)
	}
	key, _ = q.Get()
	q.Done(key)
	if got := q.Len(); got != 0 {
		t.Fatalf("Len after second Done = %d, want 0", got)
	}
}

func TestQueueBackoff(t *testing.T) {
	q := NewQueue(WithBackoff(time.Millisecond, 8*time.Millisecond))
	defer q.ShutDown()
	want := []time.Duration{1, 2, 4, 8, 8, 8}
	for i, w := range want {
		if got := q.When("k"); got != w*time.Millisecond {
			t.Fatalf("When #%d = %v, want %v", i, got, w*time.Millisecond)
		}
	}
	if got := q.NumRequeues("k"); got != len(want) {
		t.Fatalf("NumRequeues = %d, want %d", got, len(want))
	}
	if got := q.When("other"); got != time.Millisecond {
		t.Fatalf("When(other) = %v, want the base: back-off is per key", got)
	}
	q.Forget("k")
	if got := q.NumRequeues("k"); got != 0 {
		t.Fatalf("NumRequeues after Forget = %d, want 0", got)
	}
	if got := q.When("k"); got != time.Millisecond {
		t.Fatalf("When after Forget = %v, want the base", got)
	}
}

func TestQueueAddAfterAndRateLimited(t *testing.T) {
	q := NewQueue(WithBackoff(time.Microsecond, time.Millisecond))
	defer q.ShutDown()
	q.AddAfter("later", time.Millisecond)
	q.AddRateLimited("limited")
	got := map[string]bool{}
	for range 2 {
		k, shutdown := q.Get() // blocks until the delays pass
		if shutdown {
			t.Fatal("queue shut down unexpectedly")
		}
		got[k] = true
		q.Done(k)
	}
	if !got["later"] || !got["limited"] {
		t.Fatalf("got %v, want both delayed keys", got)
	}
}

func TestQueueShutDownDrains(t *testing.T) {
	q := NewQueue()
	q.Add("a")
	q.AddAfter("never", time.Hour)
	q.ShutDown()
	q.Add("b") // ignored after shutdown
	if k, shutdown := q.Get(); shutdown || k != "a" {
		t.Fatalf("Get = %q, %v; want queued key a first", k, shutdown)
	}
	if k, shutdown := q.Get(); !shutdown {
		t.Fatalf("Get = %q, want shutdown", k)
	}
	if !q.ShuttingDown() {
		t.Fatal("ShuttingDown = false")
	}
}

func TestQueueRunRetriesAndNeverOverlaps(t *testing.T) {
	q := NewQueue(WithBackoff(time.Microsecond, 10*time.Microsecond))
	ctx, cancel := context.WithCancel(context.Background())

	const keys, failures = 20, 2
	var mu sync.Mutex
	inFlight := map[string]bool{}
	calls := map[string]int{}
	succeeded := 0
	var overlap error
	reconcile := func(_ context.Context, key string) error {
		mu.Lock()
		if inFlight[key] {
			overlap = fmt.Errorf("key %s handed to two workers at once", key)
		}
		inFlight[key] = true
		calls[key]++
		n := calls[key]
		mu.Unlock()
		q.Add(key) // a change arriving mid-reconcile: processed again later

		mu.Lock()
		defer mu.Unlock()
		inFlight[key] = false
		if n <= failures {
			return errors.New("transient")
		}
		if n == failures+1 {
			succeeded++
			if succeeded == keys {
				cancel()
			}
		}
		return nil
	}
	for i := range keys {
		q.Add(fmt.Sprintf("ns/k%d", i))
	}
	q.Run(ctx, 4, reconcile)

	if overlap != nil {
		t.Fatal(overlap)
	}
	for i := range keys {
		k := fmt.Sprintf("ns/k%d", i)
		if calls[k] < failures+1 {
			t.Errorf("%s reconciled %d times, want at least %d", k, calls[k], failures+1)
		}
	}
	if !q.ShuttingDown() {
		t.Fatal("Run returned without shutting the queue down")
	}
}
