package test

import (
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// kubectlManifest is applied with kubectl; the second document changes
// between the two applies.
const kubectlManifest = `apiVersion: v1
kind: ConfigMap
metadata:
  name: kube-config
  labels:
    tier: kube
data:
  mode: first
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: kube-web
  labels:
    tier: kube
spec:
  replicas: 0
  selector:
    matchLabels:
      app: kube-web
  template:
    metadata:
      labels:
        app: kube-web
    spec:
      containers:
      - name: web
        image: docker.io/library/nginx:1.27-alpine
`

func TestKubectl(t *testing.T) {
	s := startServer(t, t.TempDir())
	k := newKubectl(t, s)

	t.Run("api-resources", func(t *testing.T) {
		r := k.must(t, "api-resources")
		if got := header(r.Stdout); !slices.Equal(got, []string{"NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"}) {
			t.Errorf("header = %q", got)
		}
		for _, want := range []string{"pods", "deployments", "jobs", "cronjobs", "services", "configmaps", "namespaces"} {
			found := false
			for _, row := range rows(r.Stdout) {
				found = found || row[0] == want
			}
			if !found {
				t.Errorf("api-resources lacks %s:\n%s", want, r.Stdout)
			}
		}
	})

	path := writeFile(t, "kube.yaml", kubectlManifest)
	t.Run("apply twice", func(t *testing.T) {
		r := k.must(t, "apply", "-f", path)
		for _, want := range []string{"configmap/kube-config created", "deployment.apps/kube-web created"} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("first apply: no %q in\n%s", want, r.Stdout)
			}
		}
		changed := writeFile(t, "kube.yaml", strings.Replace(kubectlManifest, "mode: first", "mode: second", 1))
		r = k.must(t, "apply", "-f", changed)
		if !strings.Contains(r.Stdout, "configmap/kube-config configured") {
			t.Errorf("second apply: no configured line in\n%s", r.Stdout)
		}
		r = k.must(t, "get", "configmap", "kube-config", "-o", "jsonpath={.data.mode}")
		if r.Stdout != "second" {
			t.Errorf("data.mode after the second apply = %q, want second", r.Stdout)
		}
	})

	t.Run("create", func(t *testing.T) {
		p := writeFile(t, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kube-created\ndata:\n  a: b\n")
		r := k.must(t, "create", "-f", p)
		if strings.TrimSpace(r.Stdout) != "configmap/kube-created created" {
			t.Errorf("create printed %s", r)
		}
		r = k.run(t, "", "create", "-f", p)
		if r.Code == 0 || !strings.Contains(r.Stderr, "AlreadyExists") && !strings.Contains(r.Stderr, "already exists") {
			t.Errorf("second create: %s", r)
		}
	})

	t.Run("get", func(t *testing.T) {
		tests := []struct {
			args   []string
			header []string
			names  []string
		}{
			{[]string{"get", "configmaps", "-l", "tier=kube"}, []string{"NAME", "DATA", "AGE"}, []string{"kube-config"}},
			{[]string{"get", "deployments"}, []string{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"}, []string{"kube-web"}},
			{[]string{"get", "cm", "-A", "-l", "tier=kube"}, []string{"NAMESPACE", "NAME", "DATA", "AGE"}, []string{"default"}},
		}
		for _, tt := range tests {
			t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
				r := k.must(t, tt.args...)
				if got := header(r.Stdout); !slices.Equal(got, tt.header) {
					t.Errorf("header = %q, want %q\n%s", got, tt.header, r.Stdout)
				}
				var first []string
				for _, row := range rows(r.Stdout) {
					first = append(first, row[0])
				}
				if !slices.Equal(first, tt.names) {
					t.Errorf("first column = %q, want %q\n%s", first, tt.names, r.Stdout)
				}
			})
		}
		r := k.must(t, "get", "deploy", "kube-web", "-o", "json")
		var d struct {
			Kind string `json:"kind"`
			Spec struct {
				Replicas int `json:"replicas"`
			} `json:"spec"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &d); err != nil || d.Kind != "Deployment" || d.Spec.Replicas != 0 {
			t.Errorf("-o json: %v %+v\n%s", err, d, r.Stdout)
		}
		// kubectl and wharf agree on what "all" is.
		var kubeAll, wharfAll []string
		agree := sameSnapshot(func() bool {
			kubeAll = strings.Fields(k.must(t, "get", "all", "-o", "name").Stdout)
			wharfAll = strings.Fields(s.mustWharf(t, "get", "all", "-o", "name").Stdout)
			slices.Sort(kubeAll)
			slices.Sort(wharfAll)
			return slices.Equal(kubeAll, wharfAll)
		})
		if !agree || !slices.Contains(kubeAll, "deployment.apps/kube-web") {
			t.Errorf("get all -o name: kubectl %q, wharf %q", kubeAll, wharfAll)
		}
		r = k.must(t, "get", "cm", "-l", "tier=kube", "-o", "name")
		if got := strings.Fields(r.Stdout); !slices.Equal(got, []string{"configmap/kube-config"}) {
			t.Errorf("-o name = %q", got)
		}
	})

	t.Run("describe", func(t *testing.T) {
		r := k.must(t, "describe", "configmap", "kube-config")
		for _, want := range []string{"Name:", "kube-config", "Namespace:", "default", "tier=kube", "mode", "second"} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("describe: no %q in\n%s", want, r.Stdout)
			}
		}
	})

	t.Run("bad manifest", func(t *testing.T) {
		p := writeFile(t, "bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n")
		r := k.run(t, "", "apply", "-f", p)
		if r.Code == 0 || !strings.Contains(r.Stderr, `"Bad_Name" is invalid`) {
			t.Errorf("apply of an invalid name: %s", r)
		}
	})

	t.Run("delete", func(t *testing.T) {
		r := k.must(t, "delete", "-f", path)
		for _, want := range []string{`configmap "kube-config" deleted`, `deployment.apps "kube-web" deleted`} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("delete: no %q in\n%s", want, r.Stdout)
			}
		}
		r = k.run(t, "", "get", "configmap", "kube-config")
		if r.Code == 0 || !strings.Contains(r.Stderr, `configmaps "kube-config" not found`) {
			t.Errorf("get after delete: %s", r)
		}
		// The CLI sees what kubectl did.
		r = s.wharf(t, "get", "deployment", "kube-web")
		if r.Code != 1 || strings.TrimSpace(r.Stderr) != `error: deployments.apps "kube-web" not found` {
			t.Errorf("wharf get after kubectl delete: %s", r)
		}
	})
}

// TestKubectlAndWharfApplyTakeTurns applies one object alternately with
// kubectl and wharf: both read the same last-applied annotation, so a label
// dropped from the manifest goes whoever applies, and labels added by
// others stay.
func TestKubectlAndWharfApplyTakeTurns(t *testing.T) {
	s := startServer(t, t.TempDir())
	k := newKubectl(t, s)
	full := writeFile(t, "full.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: turns\n  labels:\n    a: \"1\"\n    b: \"2\"\ndata:\n  x: \"1\"\n")
	less := writeFile(t, "less.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: turns\n  labels:\n    a: \"1\"\ndata:\n  x: \"1\"\n")
	labels := func() string {
		t.Helper()
		return k.must(t, "get", "cm", "turns", "-o", "jsonpath={.metadata.labels}").Stdout
	}

	steps := []struct {
		tool, file, want, labels string
	}{
		{"kubectl", full, "created", `{"a":"1","b":"2"}`},
		{"wharf", full, "unchanged", `{"a":"1","b":"2"}`},
		{"wharf", less, "configured", `{"a":"1"}`},
		{"kubectl", less, "unchanged", `{"a":"1"}`},
		{"kubectl", full, "configured", `{"a":"1","b":"2"}`},
		{"kubectl", less, "configured", `{"a":"1"}`},
		{"wharf", less, "unchanged", `{"a":"1"}`},
	}
	for i, st := range steps {
		var r result
		if st.tool == "kubectl" {
			r = k.must(t, "apply", "-f", st.file)
		} else {
			r = s.mustWharf(t, "apply", "-f", st.file)
		}
		if got := strings.TrimSpace(r.Stdout); got != "configmap/turns "+st.want {
			t.Errorf("step %d: %s apply printed %q, want %q", i, st.tool, got, st.want)
		}
		if got := labels(); got != st.labels {
			t.Errorf("step %d: labels after %s apply = %s, want %s", i, st.tool, got, st.labels)
		}
	}
	// A label another writer added is not the manifest's to remove.
	k.must(t, "label", "cm", "turns", "extra=kept")
	s.mustWharf(t, "apply", "-f", full)
	s.mustWharf(t, "apply", "-f", less)
	if got := labels(); got != `{"a":"1","extra":"kept"}` {
		t.Errorf("labels = %s, want a and extra", got)
	}
}

// sameSnapshot runs compare, which lists with both tools, up to five
// times until they agree: the controllers of `wharf up` may change an
// object between the two listings, but a difference in how the tools print
// persists.
func sameSnapshot(compare func() bool) bool {
	for range 5 {
		if compare() {
			return true
		}
	}
	return false
}

// ageField matches an AGE cell ("0s", "3m30s", "2d"): the one thing two
// listings a moment apart may print differently.
var ageField = regexp.MustCompile(`^([0-9]+[smhdy])+$`)

// tableFields is a table's lines as fields, without the AGE cells.
func tableFields(out string) [][]string {
	var t [][]string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		var f []string
		for _, c := range strings.Fields(l) {
			if !ageField.MatchString(c) {
				f = append(f, c)
			}
		}
		t = append(t, f)
	}
	return t
}

// TestTablesLikeKubectl prints the same listings with wharf and kubectl
// and compares them cell by cell (ages aside).
func TestTablesLikeKubectl(t *testing.T) {
	s := startServer(t, t.TempDir())
	k := newKubectl(t, s)
	pod := `apiVersion: v1
kind: Pod
metadata:
  name: solo
  labels:
    app: solo
    tier: front
spec:
  runtimeClassName: wasm
  containers:
  - name: main
    image: ghcr.io/wharfhq/examples/hello-wasi:latest
`
	cron := `apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: c
            image: docker.io/library/busybox:1.36
`
	s.mustWharf(t, "apply", "-f", writeFile(t, "all.yaml", appManifest+"---\n"+pod+"---\n"+cron))
	for _, args := range [][]string{
		{"get", "pods", "--show-labels"},
		{"get", "pods", "-L", "app,tier,missing"},
		{"get", "pods", "--no-headers"},
		{"get", "pod", "solo", "-o", "wide"},
		{"get", "deploy,svc,cm"},
		{"get", "cm", "-A", "--show-labels"},
		{"get", "cronjobs", "-o", "wide"},
		{"get", "namespaces"},
		{"get", "deploy", "-o", "name"},
		{"get", "all"},
		{"get", "all", "-A", "-o", "wide"},
		{"get", "nodes"},
		{"get", "nodes", "-o", "wide"},
		{"get", "events", "-A"},
		// Objects as kubectl prints them, byte for byte.
		{"get", "cm", "web-config", "-o", "yaml"},
		{"get", "cm", "web-config", "-o", "json"},
		{"get", "cm,svc", "-o", "json"},
		{"get", "deploy", "-o", "yaml"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var w, kc result
			if !sameSnapshot(func() bool {
				w = s.mustWharf(t, args...)
				kc = k.must(t, args...)
				if slices.Contains(args, "yaml") || slices.Contains(args, "json") {
					return w.Stdout == kc.Stdout
				}
				return reflect.DeepEqual(tableFields(w.Stdout), tableFields(kc.Stdout))
			}) {
				t.Errorf("wharf printed\n%s\nkubectl printed\n%s", w.Stdout, kc.Stdout)
			}
		})
	}
}

// TestApplyMergesLists: apply merges lists of containers and env vars by
// name (what others added stays, what the manifest dropped goes) and a
// Deployment's strategy by its keys, as kubectl apply does; wharf and
// kubectl end with the same object.
func TestApplyMergesLists(t *testing.T) {
	s := startServer(t, t.TempDir())
	k := newKubectl(t, s)
	v1 := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: NAME
spec:
  replicas: 0
  selector:
    matchLabels: {app: NAME}
  template:
    metadata:
      labels: {app: NAME}
    spec:
      containers:
      - name: main
        image: busybox
        env:
        - {name: A, value: "1"}
        - {name: B, value: "2"}
`
	v2 := strings.Replace(strings.Replace(v1, `        - {name: B, value: "2"}`+"\n", "", 1),
		"  replicas: 0\n", "  replicas: 0\n  strategy:\n    type: Recreate\n", 1)
	spec := func(name string) string {
		t.Helper()
		return k.must(t, "get", "deploy", name, "-o", "jsonpath={.spec.strategy} {.spec.template.spec.containers[0].env}").Stdout
	}
	apply := map[string]func(file string) result{
		"wharf":   func(file string) result { return s.mustWharf(t, "apply", "-f", file) },
		"kubectl": func(file string) result { return k.must(t, "apply", "-f", file) },
	}
	results := map[string]string{}
	for tool, do := range apply {
		name := tool + "-app"
		m1 := writeFile(t, "v1.yaml", strings.ReplaceAll(v1, "NAME", name))
		m2 := writeFile(t, "v2.yaml", strings.ReplaceAll(v2, "NAME", name))
		do(m1)
		// Someone else adds an env var; the manifest does not own it.
		k.must(t, "patch", "deploy", name, "--type=strategic", "-p",
			`{"spec":{"template":{"spec":{"containers":[{"name":"main","env":[{"name":"C","value":"3"}]}]}}}}`)
		// (kubectl says "configured" to this re-apply and the next one,
		// its patch holding only list-order directives; wharf finds
		// nothing to change.)
		if r := do(m1); tool == "wharf" && !strings.Contains(r.Stdout, "unchanged") {
			t.Errorf("%s: re-apply after another writer's env var: %s", tool, r)
		}
		if r := do(m2); !strings.Contains(r.Stdout, "configured") {
			t.Errorf("%s: apply of v2: %s", tool, r)
		}
		results[tool] = spec(name)
		if r := do(m2); tool == "wharf" && !strings.Contains(r.Stdout, "unchanged") {
			t.Errorf("%s: re-apply of v2: %s", tool, r)
		}
	}
	want := `{"type":"Recreate"} [{"name":"A","value":"1"},{"name":"C","value":"3"}]`
	for tool, got := range results {
		if got != want {
			t.Errorf("%s: strategy and env after v2 = %s, want %s", tool, got, want)
		}
	}
}
