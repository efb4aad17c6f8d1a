package test

import (
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestWatch runs `get -w` with the CLI and with kubectl, then creates,
// changes and deletes an object: each watcher prints a row for it.
func TestWatch(t *testing.T) {
	s := startServer(t, t.TempDir())
	s.mustWharf(t, "create", "-f", writeFile(t, "old.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: old\n"))

	watchers := map[string]*watchProc{
		"wharf":     startWatch(t, []string{"WHARF_SERVER=" + s.URL}, wharfBin, "get", "configmaps", "-w"),
		"wharfName": startWatch(t, []string{"WHARF_SERVER=" + s.URL}, wharfBin, "get", "configmaps", "-w", "-o", "name"),
	}
	k := newKubectl(t, s)
	watchers["kubectl"] = startWatch(t, k.env, k.bin, "get", "configmaps", "-w")

	// Each watcher lists first: once the existing object is printed, the
	// watch is open from the list's resourceVersion.
	for name, w := range watchers {
		if name != "wharfName" {
			if got := w.waitLine(t, "NAME"); !strings.Contains(got, "DATA") {
				t.Errorf("%s: header %q", name, got)
			}
		}
		w.waitLine(t, "old")
	}

	s.mustWharf(t, "create", "-f", writeFile(t, "new.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fresh\ndata:\n  a: b\n"))
	for name, w := range watchers {
		l := w.waitLine(t, "fresh")
		if name == "wharfName" {
			if l != "configmap/fresh" {
				t.Errorf("%s printed %q", name, l)
			}
			continue
		}
		if f := strings.Fields(l); len(f) != 3 || f[0] != "fresh" || f[1] != "1" {
			t.Errorf("%s printed row %q, want fresh 1 AGE", name, l)
		}
	}

	s.mustWharf(t, "delete", "configmap", "old")
	for _, w := range watchers {
		w.waitLine(t, "old")
	}
}

// TestWatchEmpty: watching an empty listing prints nothing until the first
// object, then the header with its row, as kubectl does.
func TestWatchEmpty(t *testing.T) {
	s := startServer(t, t.TempDir())
	k := newKubectl(t, s)
	before := openWatches(t, s, "configmaps")
	watchers := map[string]*watchProc{
		"wharf":   startWatch(t, []string{"WHARF_SERVER=" + s.URL}, wharfBin, "get", "configmaps", "-l", "e2e=late", "-w"),
		"kubectl": startWatch(t, k.env, k.bin, "get", "configmaps", "-l", "e2e=late", "-w"),
	}
	// Nothing is printed for the empty listing: the server's count of open
	// watches says when both watch. (Should a component open a watch of
	// its own meanwhile, the object may come with a listing instead, which
	// prints the same.)
	deadline := time.Now().Add(startTimeout)
	for openWatches(t, s, "configmaps") < before+2 {
		if time.Now().After(deadline) {
			t.Fatalf("the watches did not open within %v", startTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.mustWharf(t, "create", "-f", writeFile(t, "late.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: late\n  labels:\n    e2e: late\n"))
	for name, w := range watchers {
		var lines []string
		for len(lines) < 2 {
			select {
			case l, ok := <-w.lines:
				if !ok {
					t.Fatalf("%s: watch ended after %q", name, lines)
				}
				lines = append(lines, l)
			case <-time.After(startTimeout):
				t.Fatalf("%s: printed only %q", name, lines)
			}
		}
		if !slices.Equal(strings.Fields(lines[0]), []string{"NAME", "DATA", "AGE"}) || strings.Fields(lines[1])[0] != "late" {
			t.Errorf("%s printed %q, want the header then late", name, lines)
		}
	}
}

// openWatches reads the API server's count of open watches of resource
// from its metrics.
func openWatches(t testing.TB, s *wharfServer, resource string) int {
	t.Helper()
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	prefix := `wharf_apiserver_open_watches{resource="` + resource + `"} `
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, prefix); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %q: %v", l, err)
			}
			return int(n)
		}
	}
	return 0
}
