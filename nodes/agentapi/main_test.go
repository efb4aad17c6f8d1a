package agentapi

import (
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/wharfhq/wharf/runtimes/runtimetest"
)

// TestMain fails the run when goroutines started by the tests outlive
// them (serf members, loops, streams must all stop).
func TestMain(m *testing.M) {
	base := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 {
		if err := runtimetest.CheckGoroutines(base); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}
