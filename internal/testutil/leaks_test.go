package testutil

import (
	"strings"
	"testing"
	"time"
)

// parkUntil signals that it runs, then blocks until ch is closed.
func parkUntil(running, ch chan struct{}) {
	close(running)
	<-ch
}

// park starts parkUntil and returns once it is running (a goroutine that
// has not run yet shows no frame of its function).
func park(ch chan struct{}) {
	running := make(chan struct{})
	go parkUntil(running, ch)
	<-running
}

func TestLeakedGoroutines(t *testing.T) {
	defer func(g time.Duration) { leakGrace = g }(leakGrace)
	leakGrace = 300 * time.Millisecond
	markers := []string{"testutil.parkUntil"}

	stuck := make(chan struct{})
	park(stuck)
	got := LeakedGoroutines(markers, nil)
	if !strings.Contains(got, "testutil.parkUntil") {
		t.Fatalf("a parked goroutine was not reported; got %q", got)
	}
	if got := LeakedGoroutines(markers, []string{"parkUntil"}); got != "" {
		t.Errorf("an ignored goroutine was reported:\n%s", got)
	}

	ending := make(chan struct{})
	park(ending)
	time.AfterFunc(100*time.Millisecond, func() { close(ending) })
	close(stuck)
	if got := LeakedGoroutines(markers, nil); got != "" {
		t.Errorf("goroutines that end within the grace period were reported:\n%s", got)
	}
	if code := CheckLeaks(3, markers...); code != 3 {
		t.Errorf("CheckLeaks(3) = %d, want the failing code kept", code)
	}
}
