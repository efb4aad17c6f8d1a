package test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wharfhq/wharf/runtimes/wasm/wasmtest"
)

// topWait bounds the wait for the first usage of a Pod: the agent measures
// every 15s and needs two measures for a CPU rate.
const topWait = 90 * time.Second

// TestTopOnUp runs kubectl top and wharf top against `wharf up`: a Wasm Pod
// that spins shows most of a core, one that sleeps next to nothing, per
// container too, and top node shows the node's share of its allocatable
// CPU and memory.
func TestTopOnUp(t *testing.T) {
	s := startServer(t, filepath.Join(t.TempDir(), "data"))
	k := newKubectl(t, s)
	dir := t.TempDir()
	spin, sleep := filepath.Join(dir, "spin.wasm"), filepath.Join(dir, "sleep.wasm")
	if err := os.WriteFile(spin, wasmtest.Loop(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sleep, sleepModule(), 0o644); err != nil {
		t.Fatal(err)
	}
	manifest := ""
	for _, p := range []struct{ name, module string }{{"spinner", spin}, {"sleeper", sleep}} {
		manifest += fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s, labels: {app: top}}
spec:
  runtimeClassName: wasm
  containers:
  - {name: main, image: "file://%s"}
---
`, p.name, p.module)
	}
	k.must(t, "apply", "-f", writeFile(t, "pods.yaml", manifest))

	// kubectl top pod says "metrics not available yet" until the agent
	// published both Pods' usage.
	var out string
	poll(t, topWait, "kubectl top pod shows both pods", func() bool {
		r := k.run(t, "", "top", "pod", "-l", "app=top")
		out = r.Stdout
		return r.Code == 0 && len(rows(out)) == 2
	})
	t.Logf("kubectl top pod:\n%s", out)
	if h := header(out); !slices.Equal(h, []string{"NAME", "CPU(cores)", "MEMORY(bytes)"}) {
		t.Fatalf("header %v", h)
	}
	cpu := topCPU(t, out)
	// The spinner has a core to itself at best (about 1000m on an idle
	// machine); a busy 2-core machine gives it less, but far more than the
	// 200m floor of the agent's own Wasm usage test, and the sleeper
	// next to nothing.
	if cpu["spinner"] < 200 || cpu["sleeper"] > 100 {
		t.Errorf("spinner %dm, sleeper %dm; want over 200m and under 100m", cpu["spinner"], cpu["sleeper"])
	}

	t.Run("containers", func(t *testing.T) {
		out := k.must(t, "top", "pod", "spinner", "--containers").Stdout
		r := rows(out)
		if h := header(out); !slices.Equal(h, []string{"POD", "NAME", "CPU(cores)", "MEMORY(bytes)"}) || len(r) != 1 ||
			r[0][0] != "spinner" || r[0][1] != "main" {
			t.Errorf("kubectl top pod spinner --containers:\n%s", out)
		}
	})
	t.Run("wharf top pod", func(t *testing.T) {
		out := s.mustWharf(t, "top", "pod", "-A", "--sort-by=cpu").Stdout
		r := rows(out)
		if h := header(out); !slices.Equal(h, []string{"NAMESPACE", "NAME", "CPU(cores)", "MEMORY(bytes)"}) ||
			len(r) != 2 || r[0][1] != "spinner" || r[1][1] != "sleeper" {
			t.Errorf("wharf top pod -A --sort-by=cpu:\n%s", out)
		}
	})
	t.Run("a pod without metrics", func(t *testing.T) {
		r := k.run(t, "", "top", "pod", "nothing")
		if r.Code == 0 || !strings.Contains(r.Stderr, `podmetrics.metrics.k8s.io "default/nothing" not found`) {
			t.Errorf("kubectl top pod nothing: %s", r)
		}
	})
	t.Run("top node", func(t *testing.T) {
		var out string
		poll(t, topWait, "kubectl top node shows the node's usage", func() bool {
			out = k.must(t, "top", "node").Stdout
			r := rows(out)
			return len(r) == 1 && r[0][1] != "<unknown>"
		})
		t.Logf("kubectl top node:\n%s", out)
		r := rows(out)
		if h := header(out); !slices.Equal(h, []string{"NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"}) ||
			r[0][0] != "e2e-node" || !strings.HasSuffix(r[0][2], "%") || !strings.HasSuffix(r[0][4], "%") {
			t.Fatalf("kubectl top node:\n%s", out)
		}
		// The node's use is the machine's, the spinner included.
		if m := milli(t, r[0][1]); m < 200 {
			t.Errorf("node CPU %dm, want at least the spinner's", m)
		}
		wharfOut := s.mustWharf(t, "top", "node").Stdout
		if h := header(wharfOut); !slices.Equal(h, header(out)) || len(rows(wharfOut)) != 1 || rows(wharfOut)[0][0] != "e2e-node" {
			t.Errorf("wharf top node:\n%s\nkubectl's:\n%s", wharfOut, out)
		}
	})
}

// topCPU reads the CPU column of a top pod table, by Pod name.
func topCPU(t *testing.T, out string) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	for _, r := range rows(out) {
		m[r[0]] = milli(t, r[1])
	}
	return m
}

// milli reads "250m".
func milli(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(strings.TrimSuffix(s, "m"), 10, 64)
	if err != nil || !strings.HasSuffix(s, "m") {
		t.Fatalf("CPU %q is not millicores", s)
	}
	return n
}
