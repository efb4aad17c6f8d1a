package agent_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/nodes/agent"
)

// TestDefaultNetNSDirFor: two nodes of one name on one machine (two
// `wharf up` with different data dirs) get different namespace
// directories, since each removes the namespaces it does not know there;
// the same node on the same data dir, however it is spelt, gets the same.
func TestDefaultNetNSDirFor(t *testing.T) {
	a := agent.DefaultNetNSDirFor("vm", "/var/lib/wharf-a")
	b := agent.DefaultNetNSDirFor("vm", "/var/lib/wharf-b")
	if a == b {
		t.Fatalf("two data dirs share %s", a)
	}
	if !strings.HasPrefix(a, agent.DefaultNetNSDir+"/vm-") {
		t.Errorf("dir %s, want it under %s named after the node", a, agent.DefaultNetNSDir)
	}
	if again := agent.DefaultNetNSDirFor("vm", "/var/lib/wharf-a/"); again != a {
		t.Errorf("same data dir: %s then %s", a, again)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if rel, abs := agent.DefaultNetNSDirFor("vm", "data"), agent.DefaultNetNSDirFor("vm", filepath.Join(wd, "data")); rel != abs {
		t.Errorf("relative data dir %s, absolute %s", rel, abs)
	}
}
