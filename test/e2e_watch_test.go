package test

import (
	"strings"
	"testing"
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
