package test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// appManifest is a multi-document manifest: a ConfigMap, a Deployment and
// a Service. The Deployment asks for no replicas: these tests are about
// the CLI and the API, not about the pods controllers would make.
const appManifest = `apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  labels:
    app: web
data:
  greeting: hello
  target: world
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 0
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: docker.io/library/nginx:1.27-alpine
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - name: http
    port: 80
`

func TestCLIApplyGetDescribeDelete(t *testing.T) {
	s := startServer(t, t.TempDir())
	path := writeFile(t, "app.yaml", appManifest)

	r := s.mustWharf(t, "apply", "-f", path)
	for _, want := range []string{"configmap/web-config created", "deployment.apps/web created", "service/web created"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("first apply: no %q in\n%s", want, r.Stdout)
		}
	}
	r = s.mustWharf(t, "apply", "-f", path)
	for _, want := range []string{"configmap/web-config unchanged", "deployment.apps/web unchanged", "service/web unchanged"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("second apply: no %q in\n%s", want, r.Stdout)
		}
	}
	changed := strings.Replace(appManifest, "greeting: hello", "greeting: bonjour", 1)
	r = s.wharfIn(t, changed, "apply", "-f", "-")
	if r.Code != 0 || !strings.Contains(r.Stdout, "configmap/web-config configured") {
		t.Errorf("apply of a changed manifest from stdin: %s", r)
	}

	t.Run("get tables", func(t *testing.T) {
		tests := []struct {
			args   []string
			header []string
			names  []string
		}{
			{[]string{"get", "configmaps"}, []string{"NAME", "DATA", "AGE"}, []string{"web-config"}},
			{[]string{"get", "deploy"}, []string{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"}, []string{"web"}},
			{[]string{"get", "deployments", "-o", "wide"}, []string{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"}, []string{"web"}},
			{[]string{"get", "svc"}, []string{"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"}, []string{"web"}},
			{[]string{"get", "cm", "-A"}, []string{"NAMESPACE", "NAME", "DATA", "AGE"}, []string{"default"}},
			{[]string{"get", "cm", "-l", "app=web"}, []string{"NAME", "DATA", "AGE"}, []string{"web-config"}},
			{[]string{"get", "configmap/web-config"}, []string{"NAME", "DATA", "AGE"}, []string{"web-config"}},
		}
		for _, tt := range tests {
			t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
				r := s.mustWharf(t, tt.args...)
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
	})

	t.Run("get empty", func(t *testing.T) {
		r := s.mustWharf(t, "get", "cm", "-l", "app=none")
		if r.Stdout != "" || strings.TrimSpace(r.Stderr) != "No resources found in default namespace." {
			t.Errorf("empty list: %s", r)
		}
	})

	t.Run("get output formats", func(t *testing.T) {
		r := s.mustWharf(t, "get", "cm", "web-config", "-o", "yaml")
		var cm struct {
			APIVersion string            `json:"apiVersion"`
			Kind       string            `json:"kind"`
			Data       map[string]string `json:"data"`
			Metadata   struct {
				Name            string `json:"name"`
				UID             string `json:"uid"`
				ResourceVersion string `json:"resourceVersion"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(r.Stdout), &cm); err != nil {
			t.Fatalf("-o yaml is not YAML: %v\n%s", err, r.Stdout)
		}
		if cm.Kind != "ConfigMap" || cm.APIVersion != "v1" || cm.Metadata.Name != "web-config" ||
			cm.Metadata.UID == "" || cm.Metadata.ResourceVersion == "" || cm.Data["greeting"] != "bonjour" {
			t.Errorf("-o yaml decoded to %+v", cm)
		}

		r = s.mustWharf(t, "get", "deploy", "-o", "json")
		var list struct {
			Kind  string `json:"kind"`
			Items []struct {
				Kind     string `json:"kind"`
				Metadata struct {
					Name string `json:"name"`
				} `json:"metadata"`
				Spec struct {
					Replicas int `json:"replicas"`
				} `json:"spec"`
			} `json:"items"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil {
			t.Fatalf("-o json is not JSON: %v\n%s", err, r.Stdout)
		}
		if list.Kind != "List" || len(list.Items) != 1 || list.Items[0].Kind != "Deployment" ||
			list.Items[0].Metadata.Name != "web" || list.Items[0].Spec.Replicas != 0 {
			t.Errorf("-o json decoded to %+v", list)
		}

		r = s.mustWharf(t, "get", "cm,svc", "-o", "name", "-l", "app=web")
		if got := strings.Fields(r.Stdout); !slices.Equal(got, []string{"configmap/web-config"}) {
			t.Errorf("-o name = %q", got)
		}
	})

	t.Run("describe", func(t *testing.T) {
		r := s.mustWharf(t, "describe", "deployment", "web")
		for _, want := range []string{"Name:", "web", "Namespace:", "default", "Labels:", "app=web", "Replicas:", "Events:"} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("describe: no %q in\n%s", want, r.Stdout)
			}
		}
		// Without a name, as kubectl: every object of the kind (or of -l).
		r = s.mustWharf(t, "describe", "configmaps", "-l", "app=web")
		if strings.Count(r.Stdout, "Name:") != 1 || !strings.Contains(r.Stdout, "web-config") {
			t.Errorf("describe configmaps -l app=web:\n%s", r.Stdout)
		}
		r = s.mustWharf(t, "describe", "configmaps", "-l", "app=none")
		if r.Stdout != "" || strings.TrimSpace(r.Stderr) != "No resources found in default namespace." {
			t.Errorf("describe of nothing: %s", r)
		}
	})

	t.Run("delete", func(t *testing.T) {
		r := s.mustWharf(t, "delete", "configmap", "web-config")
		if strings.TrimSpace(r.Stdout) != `configmap "web-config" deleted` {
			t.Errorf("delete printed %s", r)
		}
		r = s.wharf(t, "get", "configmap", "web-config")
		if r.Code != 1 || strings.TrimSpace(r.Stderr) != `error: configmaps "web-config" not found` {
			t.Errorf("get after delete: %s", r)
		}
		// Like kubectl: the others are deleted, the missing one is an
		// error and the exit code is 1.
		r = s.wharf(t, "delete", "-f", path)
		if r.Code != 1 || !strings.Contains(r.Stdout, `deployment.apps "web" deleted`) ||
			!strings.Contains(r.Stdout, `service "web" deleted`) ||
			strings.TrimSpace(r.Stderr) != `error: configmaps "web-config" not found` {
			t.Errorf("delete -f: %s", r)
		}
		r = s.mustWharf(t, "delete", "-f", path, "--ignore-not-found")
		if r.Stdout != "" || r.Stderr != "" {
			t.Errorf("delete -f --ignore-not-found of deleted objects: %s", r)
		}
		s.mustWharf(t, "apply", "-f", path)
		r = s.wharf(t, "delete", "configmaps")
		if r.Code != 1 || !strings.Contains(r.Stderr, "--all") {
			t.Errorf("delete of a type without names: %s", r)
		}
		// No --wait: the pods of the deployment are the agent's to stop.
		r = s.mustWharf(t, "delete", "all,cm", "--all", "--wait=false")
		for _, want := range []string{`configmap "web-config" deleted`, `service "web" deleted`, `deployment.apps "web" deleted`} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("delete all,cm --all: no %q in\n%s", want, r.Stdout)
			}
		}
		r = s.mustWharf(t, "get", "cm,svc,deploy", "-o", "name")
		if r.Stdout != "" {
			t.Errorf("left after delete --all:\n%s", r.Stdout)
		}
	})
}

func TestCLIBadManifests(t *testing.T) {
	s := startServer(t, t.TempDir())
	tests := []struct {
		name     string
		manifest string
		want     []string // substrings of the one error line
	}{
		{"unknown field", `apiVersion: v1
kind: ConfigMap
metadata:
  name: ok
datum:
  a: b
`, []string{"error:", `: unknown field "datum"`}},
		{"invalid name", `apiVersion: v1
kind: ConfigMap
metadata:
  name: Bad_Name
`, []string{"error:", `"Bad_Name" is invalid`, "metadata.name"}},
		{"unknown kind", `apiVersion: v1
kind: Gadget
metadata:
  name: g
`, []string{"error:", "Gadget"}},
		{"not yaml", "kind: [\n", []string{"error:"}},
	}
	for _, tt := range tests {
		for _, verb := range []string{"apply", "create"} {
			t.Run(verb+" "+tt.name, func(t *testing.T) {
				path := writeFile(t, "bad.yaml", tt.manifest)
				r := s.wharf(t, verb, "-f", path)
				if r.Code != 1 {
					t.Errorf("exit code %d, want 1: %s", r.Code, r)
				}
				lines := strings.Split(strings.TrimRight(r.Stderr, "\n"), "\n")
				if len(lines) != 1 {
					t.Errorf("want one error line, got %d: %q", len(lines), r.Stderr)
				}
				if n := strings.Count(r.Stderr, "unknown field"); n > 1 {
					t.Errorf("stderr says \"unknown field\" %d times: %q", n, r.Stderr)
				}
				for _, w := range tt.want {
					if !strings.Contains(r.Stderr, w) {
						t.Errorf("stderr lacks %q: %q", w, r.Stderr)
					}
				}
			})
		}
	}
}

// TestCLIGetAll lists the "all" category like kubectl: a table per type
// with objects, names prefixed by the type, blank lines between tables.
func TestCLIGetAll(t *testing.T) {
	s := startServer(t, t.TempDir())
	r := s.mustWharf(t, "get", "all")
	if r.Stdout != "" || strings.TrimSpace(r.Stderr) != "No resources found in default namespace." {
		t.Errorf("get all on an empty namespace: %s", r)
	}
	// --server takes HOST:PORT without a scheme, as kubectl does.
	if r := run(t, nil, "", wharfBin, "--server", strings.TrimPrefix(s.URL, "http://"), "get", "all"); r.Code != 0 {
		t.Errorf("--server HOST:PORT: %s", r)
	}
	job := `apiVersion: batch/v1
kind: Job
metadata:
  name: once
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: c
        image: docker.io/library/busybox:1.36
`
	s.mustWharf(t, "apply", "-f", writeFile(t, "app.yaml", appManifest+"---\n"+job))

	r = s.mustWharf(t, "get", "all")
	tables := strings.Split(strings.TrimRight(r.Stdout, "\n"), "\n\n")
	headers := map[string][]string{
		"service/web":         {"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"},
		"deployment.apps/web": {"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"},
		"job.batch/once":      {"NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"},
	}
	found := map[string]bool{}
	for _, tbl := range tables {
		hdr := header(tbl)
		for _, row := range rows(tbl) {
			want, ok := headers[row[0]]
			if !ok {
				continue // objects made by controllers (replicasets, pods)
			}
			found[row[0]] = true
			if !slices.Equal(hdr, want) {
				t.Errorf("%s: header %q, want %q", row[0], hdr, want)
			}
		}
		if kind, _, _ := strings.Cut(rows(tbl)[0][0], "/"); kind == "configmap" {
			t.Errorf("get all lists configmaps:\n%s", tbl)
		}
	}
	for name := range headers {
		if !found[name] {
			t.Errorf("get all lacks %s:\n%s", name, r.Stdout)
		}
	}

	r = s.mustWharf(t, "get", "all,cm", "-o", "name")
	for _, want := range []string{"service/web", "deployment.apps/web", "job.batch/once", "configmap/web-config"} {
		if !slices.Contains(strings.Fields(r.Stdout), want) {
			t.Errorf("get all,cm -o name lacks %s:\n%s", want, r.Stdout)
		}
	}
	r = s.mustWharf(t, "get", "svc,cm", "-o", "json")
	var list struct {
		Kind  string `json:"kind"`
		Items []struct {
			Kind string `json:"kind"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil || list.Kind != "List" || len(list.Items) != 2 {
		t.Errorf("get svc,cm -o json is not one List of 2: %v\n%s", err, r.Stdout)
	}
}

// TestCLINamespaces: -n picks the namespace of manifests without one, and
// a manifest of another namespace than an explicit -n is an error.
func TestCLINamespaces(t *testing.T) {
	s := startServer(t, t.TempDir())
	s.mustWharf(t, "create", "-f", writeFile(t, "ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n"))
	plain := writeFile(t, "plain.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n")
	inTeam := writeFile(t, "team.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: in-team\n  namespace: team\n")

	s.mustWharf(t, "-n", "team", "apply", "-f", plain)
	s.mustWharf(t, "apply", "-f", inTeam)
	r := s.wharf(t, "-n", "default", "apply", "-f", inTeam)
	if r.Code != 1 || !strings.Contains(r.Stderr, `pass --namespace=team`) || strings.Count(r.Stderr, "\n") != 1 {
		t.Errorf("apply of a team manifest with -n default: %s", r)
	}
	r = s.mustWharf(t, "get", "cm", "-n", "team", "-o", "name")
	if got := strings.Fields(r.Stdout); !slices.Equal(got, []string{"configmap/in-team", "configmap/plain"}) {
		t.Errorf("configmaps in team = %q", got)
	}
	r = s.wharf(t, "get", "cm")
	if r.Code != 0 || r.Stdout != "" || strings.TrimSpace(r.Stderr) != "No resources found in default namespace." {
		t.Errorf("configmaps in default: %s", r)
	}
	r = s.mustWharf(t, "get", "cm", "-A")
	var ns []string
	for _, row := range rows(r.Stdout) {
		ns = append(ns, row[0]+"/"+row[1])
	}
	if !slices.Equal(ns, []string{"team/in-team", "team/plain"}) {
		t.Errorf("get cm -A rows %q", ns)
	}
}

// TestDescribeEvents: describe lists the events whose involvedObject is
// the object (by UID), with wharf and with kubectl.
func TestDescribeEvents(t *testing.T) {
	s := startServer(t, t.TempDir())
	cm := writeFile(t, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: watched\ndata:\n  a: b\n")
	s.mustWharf(t, "apply", "-f", cm)
	var obj struct {
		Metadata struct {
			UID string `json:"uid"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal([]byte(s.mustWharf(t, "get", "cm", "watched", "-o", "json").Stdout), &obj); err != nil {
		t.Fatal(err)
	}
	event := func(name, uid, reason string) string {
		return "apiVersion: v1\nkind: Event\nmetadata:\n  name: " + name + "\ninvolvedObject:\n  apiVersion: v1\n  kind: ConfigMap\n" +
			"  name: watched\n  namespace: default\n  uid: " + uid + "\nreason: " + reason + "\nmessage: " + reason + " happened\n" +
			"type: Warning\ncount: 3\nfirstTimestamp: \"2026-01-01T10:00:00Z\"\nlastTimestamp: \"2026-01-01T10:05:00Z\"\nsource:\n  component: e2e\n"
	}
	s.mustWharf(t, "create", "-f", writeFile(t, "ev.yaml", event("watched.1", obj.Metadata.UID, "Probed")+"---\n"+
		event("watched.2", "some-other-uid", "OlderObject")))

	check := func(tool, out string) {
		t.Helper()
		_, events, ok := strings.Cut(out, "Events:")
		if !ok {
			t.Fatalf("%s describe: no Events section:\n%s", tool, out)
		}
		if got := header(strings.TrimLeft(events, "\n")); !slices.Equal(got, []string{"Type", "Reason", "Age", "From", "Message"}) {
			t.Errorf("%s describe: events header %q:\n%s", tool, got, out)
		}
		if !strings.Contains(events, "Warning") || !strings.Contains(events, "Probed happened") ||
			!strings.Contains(events, "(x3 over") || !strings.Contains(events, "e2e") {
			t.Errorf("%s describe: event missing:\n%s", tool, out)
		}
		if strings.Contains(events, "OlderObject") {
			t.Errorf("%s describe lists an event of another object (other UID):\n%s", tool, out)
		}
	}
	check("wharf", s.mustWharf(t, "describe", "configmap", "watched").Stdout)
	check("kubectl", newKubectl(t, s).must(t, "describe", "configmap", "watched").Stdout)
}

// TestCLIPodTables checks the pod and namespace tables against kubectl's
// columns, in both tools.
func TestCLIPodTables(t *testing.T) {
	s := startServer(t, t.TempDir())
	s.mustWharf(t, "apply", "-f", writeFile(t, "pod.yaml", `apiVersion: v1
kind: Pod
metadata:
  name: solo
spec:
  runtimeClassName: wasm
  restartPolicy: Never
  containers:
  - name: main
    image: ghcr.io/wharfhq/examples/hello-wasi:latest
`))
	k := newKubectl(t, s)
	tests := []struct {
		args   []string
		header []string
		first  string
	}{
		{[]string{"get", "pod", "solo"}, []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE"}, "solo"},
		{[]string{"get", "pod", "solo", "-o", "wide"}, []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE", "READINESS", "GATES"}, "solo"},
		{[]string{"get", "namespace", "default"}, []string{"NAME", "STATUS", "AGE"}, "default"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			for tool, r := range map[string]result{"wharf": s.mustWharf(t, tt.args...), "kubectl": k.must(t, tt.args...)} {
				if got := header(r.Stdout); !slices.Equal(got, tt.header) {
					t.Errorf("%s: header = %q, want %q", tool, got, tt.header)
				}
				if rs := rows(r.Stdout); len(rs) != 1 || rs[0][0] != tt.first {
					t.Errorf("%s: rows %q, want one named %s", tool, rs, tt.first)
				}
			}
		})
	}
}

// TestVersion: wharf and kubectl report the same server version.
func TestVersion(t *testing.T) {
	s := startServer(t, t.TempDir())
	serverLine := func(out string) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "Server Version: ") {
				return l
			}
		}
		return ""
	}
	w := s.mustWharf(t, "version")
	if !strings.HasPrefix(w.Stdout, "Client Version: ") || serverLine(w.Stdout) == "" {
		t.Fatalf("wharf version: %s", w)
	}
	if got := serverLine(newKubectl(t, s).must(t, "version").Stdout); got != serverLine(w.Stdout) {
		t.Errorf("kubectl says %q, wharf says %q", got, serverLine(w.Stdout))
	}
	r := run(t, []string{"WHARF_SERVER=http://127.0.0.1:1"}, "", wharfBin, "version", "--client")
	if r.Code != 0 || serverLine(r.Stdout) != "" || !strings.HasPrefix(r.Stdout, "Client Version: ") {
		t.Errorf("version --client without a server: %s", r)
	}
}

// TestCLIPartialFailures: with several names, the found objects are
// printed as one aligned table and each missing one is an error line
// (exit 1); an unreachable server is one error line, not one per name.
func TestCLIPartialFailures(t *testing.T) {
	s := startServer(t, t.TempDir())
	s.mustWharf(t, "apply", "-f", writeFile(t, "cms.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n"+
		"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a-much-longer-name\ndata:\n  k: v\n"))

	r := s.wharf(t, "get", "configmaps", "a", "nope", "a-much-longer-name")
	lines := strings.Split(strings.TrimRight(r.Stdout, "\n"), "\n")
	if r.Code != 1 || len(lines) != 3 || strings.TrimSpace(r.Stderr) != `error: configmaps "nope" not found` {
		t.Fatalf("get with a missing name: %s", r)
	}
	col := strings.Index(lines[0], "DATA")
	for _, l := range lines[1:] {
		if len(l) <= col || l[col-1] != ' ' || l[col] == ' ' {
			t.Errorf("DATA column not at %d in %q:\n%s", col, l, r.Stdout)
		}
	}

	// A mistyped command or a missing kind is one line too.
	for args, want := range map[string]string{
		"gett pods": `error: unknown command "gett" for "wharf" (did you mean`,
		"get":       `error: you must specify the type of resource`,
		"describe":  `error: you must specify the type of resource`,
	} {
		r := s.wharf(t, strings.Fields(args)...)
		if r.Code != 1 || strings.Count(r.Stderr, "\n") != 1 || !strings.HasPrefix(r.Stderr, want) {
			t.Errorf("wharf %s: %s", args, r)
		}
	}

	for _, args := range [][]string{
		{"get", "cm", "a", "b", "c"},
		{"describe", "cm", "a", "b"},
		{"delete", "cm", "a", "b"},
		{"apply", "-f", writeFile(t, "two.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x1\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y1\n")},
	} {
		r := run(t, []string{"WHARF_SERVER=http://127.0.0.1:1"}, "", wharfBin, args...)
		if r.Code != 1 || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, "refused") {
			t.Errorf("%s with no server: %s", strings.Join(args, " "), r)
		}
	}
}
