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

// setImageManifests are the objects of TestSetImage: each kind with a pod
// spec, containers "web" and "proxy" and an init container "migrate".
func setImageManifests(name string) string {
	podSpec := func(indent string) string {
		return strings.ReplaceAll(`initContainers:
- name: migrate
  image: example.com/migrate:v1
containers:
- name: web
  image: example.com/web:v1
  resources:
    requests:
      cpu: 100m
- name: proxy
  image: example.com/proxy:v1`, "\n", "\n"+indent)
	}
	labels := "\n  selector:\n    matchLabels:\n      app: " + name + "\n  template:\n    metadata:\n      labels:\n        app: " + name + "\n    spec:\n      "
	return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ` + name + `
  labels:
    app: ` + name + `
spec:` + labels + podSpec("      ") + `
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: ` + name + `
  labels:
    app: ` + name + `
spec:` + labels + podSpec("      ") + `
---
apiVersion: v1
kind: Pod
metadata:
  name: ` + name + `
  labels:
    app: ` + name + `
spec:
  ` + podSpec("  ") + `
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: ` + name + `
  labels:
    app: ` + name + `
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          ` + podSpec("          ") + `
`
}

// TestSetImage: set image changes the named containers' images of the
// pod spec of each kind and nothing else, as kubectl set image does on a
// twin of each object.
func TestSetImage(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	dir := t.TempDir()
	manifest := func(name string) string { return filepath.Join(dir, name+".yaml") }
	for _, name := range []string{"w", "k"} { // wharf's and kubectl's
		if err := os.WriteFile(manifest(name), []byte(setImageManifests(name)), 0o644); err != nil {
			t.Fatal(err)
		}
		wharfAt(t, srv.URL, "apply", "-f", manifest(name))
	}
	// spec returns the pod spec of an object, as JSON to compare.
	spec := func(t *testing.T, kind, name string, path ...string) string {
		t.Helper()
		var v obj
		if err := json.Unmarshal([]byte(wharfAt(t, srv.URL, "get", kind, name, "-o", "json")), &v); err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(v.get(path...))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name, kind string
		path       []string
		args       []string // after the object
		wantOut    string   // for w
		images     []string // of migrate, web, proxy after
	}{
		{"one container of a deployment", "deployment", []string{"spec", "template", "spec"}, []string{"web=example.com/web:v2"},
			"deployment.apps/%s image updated\n", []string{"example.com/migrate:v1", "example.com/web:v2", "example.com/proxy:v1"}},
		{"the same again: no change", "deployment", []string{"spec", "template", "spec"}, []string{"web=example.com/web:v2"},
			"", []string{"example.com/migrate:v1", "example.com/web:v2", "example.com/proxy:v1"}},
		{"an init container and a container of a pod", "pod", []string{"spec"}, []string{"migrate=example.com/migrate:v2", "proxy=example.com/proxy:v2"},
			"pod/%s image updated\n", []string{"example.com/migrate:v2", "example.com/web:v1", "example.com/proxy:v2"}},
		{"every container of a cron job", "cronjob", []string{"spec", "jobTemplate", "spec", "template", "spec"}, []string{"*=example.com/all:v3"},
			"cronjob.batch/%s image updated\n", []string{"example.com/all:v3", "example.com/all:v3", "example.com/all:v3"}},
		{"a container of a daemon set, KIND NAME form", "ds", []string{"spec", "template", "spec"}, []string{"web=example.com/web:v4"},
			"daemonset.apps/%s image updated\n", []string{"example.com/migrate:v1", "example.com/web:v4", "example.com/proxy:v1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj := []string{tc.kind + "/w"}
			if tc.kind == "ds" {
				obj = []string{"ds", "w"}
			}
			got := wharfAt(t, srv.URL, append(append([]string{"set", "image"}, obj...), tc.args...)...)
			if want := strings.ReplaceAll(tc.wantOut, "%s", "w"); got != want {
				t.Errorf("output %q, want %q", got, want)
			}
			var s struct {
				InitContainers, Containers []struct{ Name, Image string }
			}
			w := spec(t, tc.kind, "w", tc.path...)
			if err := json.Unmarshal([]byte(w), &s); err != nil {
				t.Fatal(err)
			}
			var images []string
			for _, c := range append(s.InitContainers, s.Containers...) {
				images = append(images, c.Image)
			}
			if strings.Join(images, " ") != strings.Join(tc.images, " ") {
				t.Errorf("images %v, want %v", images, tc.images)
			}
			if !strings.Contains(w, `"cpu":"100m"`) {
				t.Errorf("the other fields of the containers are lost: %s", w)
			}
			// kubectl on the twin: same output, same pod spec.
			kout := kubectlAt(t, srv.URL, append([]string{"set", "image", tc.kind + "/k"}, tc.args...)...)
			if want := strings.ReplaceAll(tc.wantOut, "%s", "k"); kout != want {
				t.Errorf("kubectl's output %q, want %q", kout, want)
			}
			if k := spec(t, tc.kind, "k", tc.path...); k != w {
				t.Errorf("pod spec after wharf:\n%s\nafter kubectl:\n%s", w, k)
			}
		})
	}
	t.Run("a container found, one not", func(t *testing.T) {
		var out, errOut bytes.Buffer
		code := run(t.Context(), []string{"--server", srv.URL, "set", "image", "pod/w", "nope=x:1", "web=example.com/web:v9"}, strings.NewReader(""), &out, &errOut)
		// As kubectl: the one found is changed, the other is an error.
		if code == 0 || out.String() != "pod/w image updated\n" || errOut.String() != "error: unable to find container named \"nope\"\n" {
			t.Errorf("exit %d, out %q, err %q", code, out.String(), errOut.String())
		}
		if s := spec(t, "pod", "w", "spec"); !strings.Contains(s, "example.com/web:v9") {
			t.Errorf("web not changed: %s", s)
		}
	})
	t.Run("by label, --all and -f", func(t *testing.T) {
		for _, tc := range []struct {
			args    []string
			wantOut string
		}{
			{[]string{"deployments", "-l", "app=w", "web=example.com/web:l"}, "deployment.apps/w image updated\n"},
			{[]string{"deployments", "--all", "proxy=example.com/proxy:all"}, "deployment.apps/k image updated\ndeployment.apps/w image updated\n"},
			{[]string{"-f", manifest("w"), "migrate=example.com/migrate:f"}, "deployment.apps/w image updated\ndaemonset.apps/w image updated\npod/w image updated\ncronjob.batch/w image updated\n"},
		} {
			if got := wharfAt(t, srv.URL, append([]string{"set", "image"}, tc.args...)...); got != tc.wantOut {
				t.Errorf("wharf set image %s: %q, want %q", strings.Join(tc.args, " "), got, tc.wantOut)
			}
		}
		if s := spec(t, "deployment", "w", "spec", "template", "spec"); !strings.Contains(s, "example.com/web:l") ||
			!strings.Contains(s, "example.com/proxy:all") || !strings.Contains(s, "example.com/migrate:f") {
			t.Errorf("deployment w: %s", s)
		}
	})
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"unknown container", []string{"deploy/w", "nope=x:1"}, `error: unable to find container named "nope"`},
		{"kind without containers", []string{"cm/w", "web=x:1"}, "configmaps have no containers"},
		{"* and a name", []string{"deploy/w", "*=x:1", "web=y:1"}, "all containers are already specified by *"},
		{"object after the images", []string{"deploy/w", "web=x:1", "pod/w"}, "all resources must be specified before image changes: pod/w"},
		{"no image", []string{"deploy/w"}, "at least one image update is required"},
		{"no object", []string{"web=x:1", "proxy=y:1"}, "name the objects"},
		{"a kind without names", []string{"deploy", "web=x:1"}, "or give -l SELECTOR or --all"},
		{"names and -l", []string{"deploy/w", "-l", "a=b", "web=x:1"}, "give object names, or --all or -l, not both"},
		{"missing object", []string{"deploy/none", "web=x:1"}, `deployments.apps "none" not found`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(t.Context(), append([]string{"--server", srv.URL, "set", "image"}, tc.args...), strings.NewReader(""), &out, &errOut)
			if code == 0 || !strings.Contains(errOut.String(), tc.wantErr) {
				t.Errorf("exit %d, stderr %q; want an error with %q", code, errOut.String(), tc.wantErr)
			}
		})
	}
}
