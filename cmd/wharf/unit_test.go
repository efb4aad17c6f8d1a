package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-5 * time.Second, "<invalid>"},
		{0, "0s"},
		{45 * time.Second, "45s"},
		{119 * time.Second, "119s"},
		{3*time.Minute + 20*time.Second, "3m20s"},
		{5 * time.Minute, "5m"},
		{42 * time.Minute, "42m"},
		{5*time.Hour + 7*time.Minute, "5h7m"},
		{30 * time.Hour, "30h"},
		{3*24*time.Hour + 4*time.Hour, "3d4h"},
		{40 * 24 * time.Hour, "40d"},
		{3*365*24*time.Hour + 24*time.Hour, "3y1d"},
		{10 * 365 * 24 * time.Hour, "10y"},
	}
	for _, tt := range tests {
		t.Run(tt.d.String(), func(t *testing.T) {
			if got := humanDuration(tt.d); got != tt.want {
				t.Fatalf("humanDuration(%v) = %q, want %q", tt.d, got, tt.want)
			}
		})
	}
}

func TestFormatCell(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{nil, "<none>"},
		{"Running", "Running"},
		{float64(3), "3"},
		{1.5, "1.5"},
		{true, "true"},
		{[]any{"a", float64(1)}, "a,1"},
		{map[string]any{"a": "b"}, `{"a":"b"}`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.in), func(t *testing.T) {
			if got := formatCell(tt.in); got != tt.want {
				t.Fatalf("formatCell(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestResolveArgs(t *testing.T) {
	tests := []struct {
		args    []string
		want    string // "resource:names;..."
		wantErr string
	}{
		{[]string{"pods"}, "pods:[]", ""},
		{[]string{"po", "a", "b"}, "pods:[a b]", ""},
		{[]string{"deploy/web", "deployment.apps/api", "svc/web"}, "deployments:[web api];services:[web]", ""},
		{[]string{"pods,svc"}, "pods:[];services:[]", ""},
		{[]string{"pods,svc", "x"}, "", "single resource type"},
		{[]string{"all"}, "pods:[];services:[];daemonsets:[];deployments:[];replicasets:[];statefulsets:[];horizontalpodautoscalers:[];cronjobs:[];jobs:[]", ""},
		{[]string{"all,cm"}, "pods:[];services:[];daemonsets:[];deployments:[];replicasets:[];statefulsets:[];horizontalpodautoscalers:[];cronjobs:[];jobs:[];configmaps:[]", ""},
		{[]string{"all", "x"}, "", "single resource type"},
		{[]string{"pod/a", "b"}, "", "KIND/NAME"},
		{[]string{"nosuch"}, "", `resource type "nosuch"`},
		{nil, "", "type of resource"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			targets, err := resolveArgs(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, tg := range targets {
				parts = append(parts, fmt.Sprintf("%s:%v", tg.res.Name, tg.names))
			}
			if got := strings.Join(parts, ";"); got != tt.want {
				t.Fatalf("targets = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestTablePrinter(t *testing.T) {
	tbl := &sdk.Table{
		ColumnDefinitions: []sdk.TableColumnDefinition{
			{Name: "Name"}, {Name: "Ready"}, {Name: "Status"}, {Name: "Node", Priority: 1},
		},
		Rows: []sdk.TableRow{
			{Cells: []any{"web-1", "1/1", "Running", "n1"}, Object: json.RawMessage(`{"metadata":{"name":"web-1","namespace":"shop"}}`)},
			{Cells: []any{"batch-job-long-name", "0/1", "Completed", nil}, Object: json.RawMessage(`{"metadata":{"name":"batch-job-long-name","namespace":"default"}}`)},
		},
	}
	tests := []struct {
		name         string
		wide, withNS bool
		want         string
	}{
		{"plain", false, false, `
NAME                  READY   STATUS
web-1                 1/1     Running
batch-job-long-name   0/1     Completed
`},
		{"wide with namespace", true, true, `
NAMESPACE   NAME                  READY   STATUS      NODE
shop        web-1                 1/1     Running     n1
default     batch-job-long-name   0/1     Completed   <none>
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := &tablePrinter{w: newTabWriter(&buf), wide: tt.wide, withNamespace: tt.withNS}
			if err := p.print(tbl); err != nil {
				t.Fatal(err)
			}
			if got := "\n" + buf.String(); got != tt.want {
				t.Fatalf("output:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestReadManifestsExamples(t *testing.T) {
	a := &app{namespace: "default"}
	ms, err := readManifests(a, []string{"../../examples"}, false)
	if err != nil {
		t.Fatalf("examples do not decode: %v", err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, objectName(m.res, m.obj.GetObjectMeta().Name))
	}
	want := "[cronjob.batch/report deployment.apps/web job.batch/count service/web pod/hello-wasm]"
	if fmt.Sprint(got) != want {
		t.Fatalf("examples = %v, want %s", got, want)
	}
}

func TestReadManifests(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	multi := write("multi.yaml", `
apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: x}
---
# a comment-only document is skipped
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: b, creationTimestamp: null}
- apiVersion: v1
  kind: Namespace
  metadata: {name: ns1}
`)
	typo := write("typo.yaml", `
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: c
    image: x
    imagePullPolicyy: Always
`)
	unknown := write("unknown.yaml", "apiVersion: v9\nkind: Gadget\nmetadata: {name: g}\n")
	noName := write("noname.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n")

	a := &app{namespace: "dflt"}
	ms, err := readManifests(a, []string{multi}, false)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, objectName(m.res, m.obj.GetObjectMeta().Name)+"@"+m.namespace(a))
	}
	if fmt.Sprint(got) != "[configmap/a@x configmap/b@dflt namespace/ns1@]" {
		t.Fatalf("objects = %v", got)
	}
	if meta := ms[1].doc["metadata"].(map[string]any); meta["creationTimestamp"] != nil {
		t.Fatal("null creationTimestamp kept in the applied document")
	}

	for _, tt := range []struct{ file, want string }{
		{typo, "spec.containers[0].imagePullPolicyy"},
		{unknown, "Gadget"},
		{noName, "metadata.name"},
		{filepath.Join(dir, "missing.yaml"), "no such file"},
	} {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			_, err := readManifests(a, []string{tt.file}, false)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one naming %q", err, tt.want)
			}
		})
	}
}

// TestApplyPatch checks the strategic merge patch of apply against the
// shapes kubectl 1.32 sends (recorded with kubectl apply -v=9).
func TestApplyPatch(t *testing.T) {
	deploy := reflect.TypeFor[types.Deployment]()
	cm := reflect.TypeFor[types.ConfigMap]()
	tests := []struct {
		name               string
		t                  reflect.Type
		original, modified string
		want               string
	}{
		{"first apply: the manifest, with list orders", deploy, ``,
			`{"spec":{"template":{"spec":{"containers":[{"name":"a","image":"x"}]}}}}`,
			`{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"a"}],"containers":[{"image":"x","name":"a"}]}}}}`},
		{"strategy switch and an env var dropped, as kubectl", deploy,
			`{"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}},"template":{"spec":{"containers":[{"name":"a","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}]}}}}`,
			`{"spec":{"strategy":{"type":"Recreate"},"template":{"spec":{"containers":[{"name":"a","env":[{"name":"A","value":"1"}]}]}}}}`,
			`{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"},"template":{"spec":{"$setElementOrder/containers":[{"name":"a"}],` +
				`"containers":[{"$setElementOrder/env":[{"name":"A"}],"env":[{"name":"A","value":"1"},{"$patch":"delete","name":"B"}],"name":"a"}]}}}}`},
		{"a container dropped", deploy,
			`{"spec":{"template":{"spec":{"containers":[{"name":"a"},{"name":"b"}]}}}}`,
			`{"spec":{"template":{"spec":{"containers":[{"name":"a"}]}}}}`,
			`{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"a"}],"containers":[{"name":"a"},{"$patch":"delete","name":"b"}]}}}}`},
		{"labels gone as a whole: only the applied keys", cm,
			`{"metadata":{"labels":{"a":"1","b":"2"},"annotations":{}},"data":{"k":"v"}}`,
			`{"metadata":{"annotations":{}},"data":{"k":"v"}}`,
			`{"data":{"k":"v"},"metadata":{"annotations":{},"labels":{"a":null,"b":null}}}`},
		{"a finalizer dropped from a merged list of scalars", cm,
			`{"metadata":{"finalizers":["x","y"]}}`,
			`{"metadata":{"finalizers":["x"]}}`,
			`{"metadata":{"$deleteFromPrimitiveList/finalizers":["y"],"$setElementOrder/finalizers":["x"],"finalizers":["x"]}}`},
		{"a replaced list stays whole", cm,
			`{"binaryData":{"b":"AA=="},"data":{"x":"1"}}`,
			`{"data":{"x":"1"}}`,
			`{"binaryData":{"b":null},"data":{"x":"1"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var orig, mod map[string]any
			if tt.original != "" {
				if err := json.Unmarshal([]byte(tt.original), &orig); err != nil {
					t.Fatal(err)
				}
			}
			if err := json.Unmarshal([]byte(tt.modified), &mod); err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(applyPatch(orig, mod, tt.t))
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSONText(t, string(got), tt.want) {
				t.Errorf("patch\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func sameJSONText(t *testing.T, a, b string) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal([]byte(a), &va); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(b), &vb); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(va, vb)
}

// TestApplyPatchFor: "unchanged" when live holds the manifest (with what
// the server and others added) and the last apply recorded it; a patch
// otherwise.
func TestApplyPatchFor(t *testing.T) {
	res, _ := types.LookupResource("deployments")
	manifest := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"default"},` +
		`"spec":{"selector":{"matchLabels":{"app":"d"}},"template":{"metadata":{"labels":{"app":"d"}},"spec":{"containers":[{"name":"a","image":"x","env":[{"name":"A","value":"1"}]}]}}}}`
	var modified map[string]any
	if err := json.Unmarshal([]byte(manifest), &modified); err != nil {
		t.Fatal(err)
	}
	recorded, err := lastAppliedValue(modified)
	if err != nil {
		t.Fatal(err)
	}
	sent := cloneTree(modified)
	sent["metadata"].(map[string]any)["annotations"] = map[string]any{lastAppliedAnnotation: string(recorded)}

	live := func(lastApplied string, env []types.EnvVar) types.Object {
		d := &types.Deployment{TypeMeta: types.TypeMeta{Kind: "Deployment", APIVersion: "apps/v1"},
			ObjectMeta: types.ObjectMeta{Name: "d", Namespace: "default", UID: "u", ResourceVersion: "9",
				Annotations: map[string]string{"deployment.kubernetes.io/revision": "1"}}}
		if lastApplied != "" {
			d.Annotations[lastAppliedAnnotation] = lastApplied
		}
		d.Spec.Selector = &types.LabelSelector{MatchLabels: map[string]string{"app": "d"}}
		d.Spec.Template.Labels = map[string]string{"app": "d"}
		d.Spec.Template.Spec.Containers = []types.Container{{Name: "a", Image: "x", ImagePullPolicy: "Always", Env: env}}
		return d
	}
	injected := []types.EnvVar{{Name: "A", Value: "1"}, {Name: "INJECTED", Value: "by-someone"}}
	tests := []struct {
		name      string
		live      types.Object
		unchanged bool
	}{
		{"same manifest, server defaults and an env var others added", live(string(recorded), injected), true},
		{"kubectl's record of the same manifest", live(strings.TrimSuffix(string(recorded), "\n"), []types.EnvVar{{Name: "A", Value: "1"}}), true},
		{"no record of a previous apply", live("", []types.EnvVar{{Name: "A", Value: "1"}}), false},
		{"live drifted", live(string(recorded), []types.EnvVar{{Name: "A", Value: "2"}}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			patch, err := applyPatchFor(res, tt.live, sent, modified, recorded)
			if err != nil {
				t.Fatal(err)
			}
			if (patch == nil) != tt.unchanged {
				t.Fatalf("patch = %s, want unchanged %v", patch, tt.unchanged)
			}
		})
	}
}

// TestContainsTyped: merged lists match elements by key and may hold more.
func TestContainsTyped(t *testing.T) {
	pod := reflect.TypeFor[types.Pod]()
	var have any
	_ = json.Unmarshal([]byte(`{"metadata":{"name":"p","labels":{"a":"1","b":"2"}},"spec":{"containers":[`+
		`{"name":"x","image":"i","args":["1","2"],"env":[{"name":"E","value":"1"},{"name":"F","value":"2"}]},{"name":"y","image":"j"}]}}`), &have)
	tests := []struct {
		want string
		ok   bool
	}{
		{`{"metadata":{"labels":{"a":"1"}}}`, true},
		{`{"spec":{"containers":[{"name":"y"}]}}`, true},
		{`{"spec":{"containers":[{"name":"x","env":[{"name":"F","value":"2"}]}]}}`, true},
		{`{"spec":{"containers":[{"name":"x","env":[{"name":"F","value":"3"}]}]}}`, false},
		{`{"spec":{"containers":[{"name":"z"}]}}`, false},
		{`{"spec":{"containers":[{"name":"x","args":["1"]}]}}`, false},
		{`{"metadata":{"labels":{"a":"2"}}}`, false},
		{`{"new":1}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			var w any
			_ = json.Unmarshal([]byte(tt.want), &w)
			if got := containsTyped(have, w, pod); got != tt.ok {
				t.Fatalf("containsTyped = %v, want %v", got, tt.ok)
			}
		})
	}
}

// TestEveryCommandHasExamples walks the command tree: every command a user
// can run has a short description and examples in its --help.
func TestEveryCommandHasExamples(t *testing.T) {
	root := newRootCmd(&app{})
	root.InitDefaultCompletionCmd()
	root.InitDefaultHelpCmd()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden {
			return
		}
		t.Run(c.CommandPath(), func(t *testing.T) {
			if c.Short == "" {
				t.Error("no Short description")
			}
			if c.Runnable() && strings.TrimSpace(c.Example) == "" {
				t.Error("no Example")
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func TestHelpOutput(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"get", "--help"}, {"apply", "-h"}, {"help", "delete"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(t.Context(), args, strings.NewReader(""), &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			if !strings.Contains(out.String(), "Examples:") || !strings.Contains(out.String(), "Usage:") {
				t.Errorf("help lacks Usage or Examples:\n%s", out.String())
			}
		})
	}
}

// TestDescribe checks the kind-specific parts of describe on objects made
// in the test.
func TestDescribe(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	created := types.NewTime(now.Add(-time.Hour))
	meta := func(name string) types.ObjectMeta {
		return types.ObjectMeta{Name: name, Namespace: "default", CreationTimestamp: created,
			Annotations: map[string]string{lastAppliedAnnotation: `{"long":"json"}`, "note": "kept"}}
	}
	type describeCase struct {
		name   string
		obj    types.Object
		events []*types.Event
		want   []string // substrings, runs of spaces compared as one
		not    []string
	}
	tests := []describeCase{
		{"secret sizes, not values", &types.Secret{TypeMeta: types.TypeMeta{Kind: "Secret", APIVersion: "v1"}, ObjectMeta: meta("s"),
			Data: map[string][]byte{"five": []byte("12345"), "one": []byte("x"), "empty": {}}},
			nil, []string{"five: 5 bytes", "one: 1 bytes", "empty: 0 bytes", "Annotations: note: kept"}, []string{"12345", "long"}},
		{"namespace status", &types.Namespace{TypeMeta: types.TypeMeta{Kind: "Namespace", APIVersion: "v1"},
			ObjectMeta: types.ObjectMeta{Name: "team", CreationTimestamp: created}, Status: types.NamespaceStatus{Phase: "Active"}},
			nil, []string{"Status:", "Active"}, []string{"Namespace:"}},
		{"pod command and args one per line", &types.Pod{TypeMeta: types.TypeMeta{Kind: "Pod", APIVersion: "v1"}, ObjectMeta: meta("p"),
			Spec: types.PodSpec{Containers: []types.Container{{Name: "c", Image: "img", Command: []string{"sh", "-c"}, Args: []string{"echo hi"}}}}},
			[]*types.Event{{Reason: "Scheduled", Message: "to node-1", Type: "Normal", Count: 2,
				FirstTimestamp: types.NewTime(now.Add(-10 * time.Minute)), LastTimestamp: types.NewTime(now.Add(-time.Minute)),
				Source: types.EventSource{Component: "scheduler"}}},
			[]string{"\n    Command:\n      sh\n      -c\n    Args:\n      echo hi\n", "Normal Scheduled 60s (x2 over 10m) scheduler to node-1"}, nil},
	}
	tests = append(tests, describeCase{"deployment template containers in full", &types.Deployment{TypeMeta: types.TypeMeta{Kind: "Deployment", APIVersion: "apps/v1"}, ObjectMeta: meta("d"),
		Spec: types.DeploymentSpec{Selector: &types.LabelSelector{MatchLabels: map[string]string{"app": "d"}},
			Template: types.PodTemplateSpec{ObjectMeta: types.ObjectMeta{Labels: map[string]string{"app": "d"}},
				Spec: types.PodSpec{Containers: []types.Container{{Name: "web", Image: "nginx", Args: []string{"-g", "daemon off;"}}}}}}},
		nil, []string{"Selector: app=d", "Pod Template:\n Labels: app=d\n Containers:\n web:\n Image: nginx\n Args:\n -g\n daemon off;\n"}, nil})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := describe(&b, tt.obj, tt.events, now); err != nil {
				t.Fatal(err)
			}
			// Compare with runs of spaces as one: the columns' widths are
			// the tabwriter's business.
			spaces := regexp.MustCompile(` +`)
			out := spaces.ReplaceAllString(b.String(), " ")
			for _, w := range tt.want {
				if !strings.Contains(out, spaces.ReplaceAllString(w, " ")) && !strings.Contains(b.String(), w) {
					t.Errorf("no %q in\n%s", w, b.String())
				}
			}
			for _, n := range tt.not {
				if strings.Contains(b.String(), n) {
					t.Errorf("%q shown in\n%s", n, b.String())
				}
			}
		})
	}
}
