package controllertest

import (
	"os"
	"testing"

	"github.com/wharfhq/wharf/internal/testutil"
)

// Main runs a package's tests (call it from TestMain) and fails the run
// when goroutines running jobs/ or sdk code outlive them: controllers,
// informers, queues and recorders must all stop with their context.
func Main(m *testing.M) {
	os.Exit(testutil.CheckLeaks(m.Run(), "wharf/jobs/", "wharf/sdk."))
}
