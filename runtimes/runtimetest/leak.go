package runtimetest

import (
	"fmt"
	"runtime"
	"time"
)

// CheckGoroutines waits (up to a few seconds) for the number of goroutines
// to fall back to base, as counted before the tests started, and returns an
// error with every goroutine's stack if it does not. Call it at the end of
// TestMain in packages whose runtime starts goroutines (a run, a log
// follower).
func CheckGoroutines(base int) error {
	for range 50 {
		if runtime.NumGoroutine() <= base {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	return fmt.Errorf("%d goroutines still running, %d before the tests:\n%s", runtime.NumGoroutine(), base, buf[:n])
}
