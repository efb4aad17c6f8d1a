// Package testutil holds small helpers shared by Wharf's tests.
package testutil

import (
	"os"
	"testing"
)

// InCI reports whether the tests run under CI (.ci/run sets CI=true and
// WHARF_REQUIRE_PRIVILEGED=1): there, tests that need privileges must run.
func InCI() bool {
	return os.Getenv("WHARF_REQUIRE_PRIVILEGED") == "1"
}

// RequireRoot skips the test with a reason when the process is not root,
// and fails it instead when WHARF_REQUIRE_PRIVILEGED=1, so that a CI run
// never passes by silently skipping the container tests.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	Unavailable(t, "needs root (namespaces, cgroups, mounts)")
}

// Unavailable skips (outside CI) or fails (in CI) a test whose
// prerequisite is missing, saying which.
func Unavailable(t testing.TB, why string) {
	t.Helper()
	if InCI() {
		t.Fatalf("prerequisite missing in CI: %s", why)
	}
	t.Skipf("skipped: %s (set WHARF_REQUIRE_PRIVILEGED=1 to make this a failure)", why)
}
