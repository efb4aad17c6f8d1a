package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/server/servertest"
)

// TestAutoscaleLikeKubectl: wharf autoscale prints what kubectl 1.32
// prints, and the autoscaler it stores has the spec of the one kubectl
// stores from the same flags; bad flags and targets fail with kubectl's
// messages.
func TestAutoscaleLikeKubectl(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	f := filepath.Join(t.TempDir(), "d.yaml")
	if err := os.WriteFile(f, []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: nginx}]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	wharfAt(t, srv.URL, "apply", "-f", f)
	// spec is the stored autoscaler's spec, as JSON.
	spec := func(t *testing.T, name string) string {
		t.Helper()
		var v struct{ Spec json.RawMessage }
		if err := json.Unmarshal([]byte(wharfAt(t, srv.URL, "get", "hpa", name, "-o", "json")), &v); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := json.Compact(&b, v.Spec); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	tests := []struct {
		name string
		args []string // NAME is replaced by each CLI's autoscaler name
		want string   // output, NAME replaced
	}{
		{"min, max and cpu", []string{"autoscale", "deployment/web", "--min=2", "--max=5", "--cpu-percent=70", "--name=NAME"},
			"horizontalpodautoscaler.autoscaling/NAME autoscaled\n"},
		{"max only, KIND NAME form", []string{"autoscale", "deploy", "web", "--max=3", "--name=NAME"},
			"horizontalpodautoscaler.autoscaling/NAME autoscaled\n"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			names := []string{"w" + string(rune('a'+i)), "k" + string(rune('a'+i))}
			for j, run := range []func(*testing.T, string, ...string) cliResult{wharfResult, kubectlResult} {
				args := strings.Split(strings.ReplaceAll(strings.Join(tc.args, "\x00"), "NAME", names[j]), "\x00")
				r := run(t, srv.URL, args...)
				if want := strings.ReplaceAll(tc.want, "NAME", names[j]); !r.ok || r.out != want {
					t.Errorf("%v: %+v, want output %q", args, r, want)
				}
			}
			if w, k := spec(t, names[0]), spec(t, names[1]); w != k {
				t.Errorf("spec after wharf:\n%s\nafter kubectl:\n%s", w, k)
			}
		})
	}

	t.Run("named after the target by default", func(t *testing.T) {
		if out := wharfAt(t, srv.URL, "autoscale", "deployment/web", "--max=2"); out != "horizontalpodautoscaler.autoscaling/web autoscaled\n" {
			t.Errorf("output %q", out)
		}
		if s := spec(t, "web"); !strings.Contains(s, `"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"}`) {
			t.Errorf("spec %s", s)
		}
	})

	t.Run("dry runs", func(t *testing.T) {
		for _, tc := range []struct{ mode, want string }{
			{"client", "horizontalpodautoscaler.autoscaling/dry created (dry run)\n"}, // sic, as kubectl
			{"server", "horizontalpodautoscaler.autoscaling/dry autoscaled (server dry run)\n"},
		} {
			for _, run := range []func(*testing.T, string, ...string) cliResult{wharfResult, kubectlResult} {
				r := run(t, srv.URL, "autoscale", "deployment/web", "--max=2", "--name=dry", "--dry-run="+tc.mode)
				if !r.ok || r.out != tc.want {
					t.Errorf("--dry-run=%s: %+v, want %q", tc.mode, r, tc.want)
				}
			}
		}
		if r := wharfResult(t, srv.URL, "get", "hpa", "dry"); r.ok {
			t.Errorf("a dry run stored the autoscaler: %s", r.out)
		}
		out := wharfAt(t, srv.URL, "autoscale", "deployment/web", "--max=4", "--cpu-percent=60", "--name=dry", "--dry-run=client", "-o", "yaml")
		for _, want := range []string{"apiVersion: autoscaling/v2", "averageUtilization: 60", "type: Utilization", "name: cpu", "maxReplicas: 4"} {
			if !strings.Contains(out, want) {
				t.Errorf("-o yaml has no %q:\n%s", want, out)
			}
		}
	})

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"max below min", []string{"autoscale", "deployment/web", "--min=6", "--max=5", "--name=x"}},
		{"max 0", []string{"autoscale", "deployment/web", "--max=0", "--name=x"}},
		{"target missing", []string{"autoscale", "deployment/nope", "--max=5"}},
		{"already exists", []string{"autoscale", "deployment/web", "--max=5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, k := wharfResult(t, srv.URL, tc.args...), kubectlResult(t, srv.URL, tc.args...)
			if w.ok || k.ok {
				t.Fatalf("wharf %+v, kubectl %+v: want both to fail", w, k)
			}
			// kubectl prints a server's error as "Error from server (REASON): ".
			_, kmsg, _ := strings.Cut(k.errOut, ": ")
			if _, wmsg, _ := strings.Cut(w.errOut, ": "); wmsg != kmsg {
				t.Errorf("wharf's error:\n%s\nkubectl's:\n%s", w.errOut, k.errOut)
			}
		})
	}
	if r := wharfResult(t, srv.URL, "autoscale", "deployment/web", "--name=x"); r.ok || !strings.Contains(r.errOut, `required flag(s) "max" not set`) {
		t.Errorf("without --max: %+v", r)
	}
}
