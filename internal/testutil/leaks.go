package testutil

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// leakGrace is how long LeakedGoroutines lets goroutines unwind.
var leakGrace = 5 * time.Second

// LeakedGoroutines returns the stacks of the goroutines whose stack
// mentions any of markers (e.g. "wharf/sdk." for the sdk package's code),
// after giving them up to five seconds to end; "" when none is left.
// Stacks mentioning an entry of ignore are never counted.
func LeakedGoroutines(markers, ignore []string) string {
	var leaked []string
	for deadline := time.Now().Add(leakGrace); ; {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		leaked = leaked[:0]
		for g := range strings.SplitSeq(string(buf), "\n\n") {
			if strings.Contains(g, "testutil.LeakedGoroutines") || containsAny(g, ignore) {
				continue
			}
			if containsAny(g, markers) {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 {
			return ""
		}
		if time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// CheckLeaks is for TestMain: given the exit code of m.Run, it returns 1
// when the tests passed but goroutines running code named by markers
// outlived them (printing their stacks), else code. Every package whose
// code starts goroutines (watchers, informers, workers, timers) checks
// that its tests stop them all.
//
//	func TestMain(m *testing.M) {
//		os.Exit(testutil.CheckLeaks(m.Run(), "wharf/sdk."))
//	}
func CheckLeaks(code int, markers ...string) int {
	if code != 0 {
		return code
	}
	if leaked := LeakedGoroutines(markers, nil); leaked != "" {
		fmt.Fprintf(os.Stderr, "goroutines still running after the tests (%s):\n%s\n", strings.Join(markers, ", "), leaked)
		return 1
	}
	return code
}
