package agent_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/internal/testutil"
	"github.com/wharfhq/wharf/nodes/agent"
	"github.com/wharfhq/wharf/runtimes"
)

// TestNetNSDirRemoved: the node's directory of Pod network namespaces
// goes once its last namespace is gone, and at agent shutdown when it is
// empty; it stays while a Pod's namespace is in it.
func TestNetNSDirRemoved(t *testing.T) {
	testutil.RequireRoot(t) // unshare and bind mounts
	e := newEnv(t)
	dir := dataDir(t)
	netns := filepath.Join(dir, "netns")
	gone := func() bool { _, err := os.Stat(netns); return errors.Is(err, fs.ErrNotExist) }
	// A fake container runtime with Pod namespaces on: the agent makes one
	// per Pod, though nothing runs in it.
	withNetNS := func(c *agent.Config) { c.DisablePodNetNS = false }

	// Left empty by an earlier agent: removed when this one ends.
	if err := os.MkdirAll(netns, 0o700); err != nil {
		t.Fatal(err)
	}
	first := e.startAgent(t, dir, map[string]runtimes.Runtime{"container": newFake("container")}, withNetNS)
	first.stop(t)
	if !gone() {
		t.Errorf("empty %s left after the agent ended", netns)
	}

	r := e.startAgent(t, dir, map[string]runtimes.Runtime{"container": newFake("container")}, withNetNS)
	e.create(t, pod("a", types.RestartPolicyAlways, []string{"serve"}))
	e.create(t, pod("b", types.RestartPolicyAlways, []string{"serve"}))
	e.waitPod(t, "a", "Running", phase(types.PodRunning))
	e.waitPod(t, "b", "Running", phase(types.PodRunning))
	if ents, err := os.ReadDir(netns); err != nil || len(ents) != 2 {
		t.Fatalf("%s holds %d entries (%v), want the 2 Pods' namespaces", netns, len(ents), err)
	}
	if err := e.pods.Delete(t.Context(), "a", types.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitPod(t, "a", "gone", func(p *types.Pod) bool { return p == nil })
	if ents, err := os.ReadDir(netns); err != nil || len(ents) != 1 {
		t.Fatalf("after one Pod went, %s holds %d entries (%v), want 1", netns, len(ents), err)
	}
	if err := e.pods.Delete(t.Context(), "b", types.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitPod(t, "b", "gone", func(p *types.Pod) bool { return p == nil })
	waitFor(t, netns+" removed with the last Pod namespace", gone)

	// A Pod left running keeps its namespace, and the directory, when the
	// agent ends (the next agent adopts it).
	e.create(t, pod("c", types.RestartPolicyAlways, []string{"serve"}))
	e.waitPod(t, "c", "Running", phase(types.PodRunning))
	r.stop(t)
	if ents, err := os.ReadDir(netns); err != nil || len(ents) != 1 {
		t.Errorf("after shutdown with a Pod left, %s holds %d entries (%v), want 1", netns, len(ents), err)
	}
}
