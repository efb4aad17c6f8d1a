package test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/runtimes/wasm/wasmtest"
	"github.com/wharfhq/wharf/sdk"
)

// TestSchedulerConfigFlag starts `wharf up --scheduler-config FILE` with a
// scheduler named wharf-custom: a Pod asking for it is placed and runs, a
// Pod asking for default-scheduler is left alone. A bad file stops the
// process before it serves, with the file's problem in the message.
func TestSchedulerConfigFlag(t *testing.T) {
	cfg := writeFile(t, "sched.yaml", `schedulerName: wharf-custom
plugins:
  - name: NodeUnschedulable
  - name: NodeRuntime
  - name: NodeResourcesFit
  - name: NodeResourcesLeastAllocated
    weight: 2
`)
	s := startServer(t, t.TempDir(), "--scheduler-config", cfg)
	mod := filepath.Join(t.TempDir(), "hello.wasm")
	if err := os.WriteFile(mod, wasmtest.Print("custom\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pod := func(name, scheduler string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
spec:
  schedulerName: %s
  runtimeClassName: wasm
  restartPolicy: Never
  containers:
  - name: c
    image: file://%s
`, name, scheduler, mod)
	}
	s.mustWharf(t, "apply", "-f", writeFile(t, "a.yaml", pod("custom", "wharf-custom")))
	s.mustWharf(t, "apply", "-f", writeFile(t, "b.yaml", pod("default", "default-scheduler")))
	client, err := sdk.New(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	c := &clusterEnv{client: client}
	if p := c.awaitPhase(t, "custom", types.PodSucceeded); p.Spec.NodeName != "e2e-node" {
		t.Errorf("custom Pod ran on %q, want e2e-node", p.Spec.NodeName)
	}
	// The other Pod names a scheduler that is not running: it stays unbound.
	time.Sleep(500 * time.Millisecond)
	if p := c.pod(t, "default"); p.Spec.NodeName != "" {
		t.Errorf("Pod for default-scheduler was bound to %q by the wharf-custom scheduler", p.Spec.NodeName)
	}

	// A file that does not parse stops the process before it serves; one
	// naming an unknown plugin stops it as the scheduler starts. Both say
	// what is wrong.
	for _, tt := range []struct{ name, body, want string }{
		{"unknown field", "schedulerNmae: x\n", `--scheduler-config`},
		{"unknown plugin", "plugins:\n  - name: NoSuchPlugin\n", `plugin "NoSuchPlugin": not registered`},
	} {
		bad := writeFile(t, "bad.yaml", tt.body)
		r := run(t, nil, "", wharfBin, "up", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0",
			"--node-name", "bad-config", "--scheduler-config", bad)
		if r.Code == 0 || !strings.Contains(r.Stderr, tt.want) {
			t.Errorf("%s: up with a bad scheduler config: %s; want a failure saying %q", tt.name, r, tt.want)
		}
	}
}
