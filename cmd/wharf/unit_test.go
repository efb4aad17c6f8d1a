package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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

// TestMergeApplied checks the three-way merge of apply on JSON trees: the
// manifest wins, server-owned fields stay, fields dropped from the
// manifest since the last apply go.
func TestMergeApplied(t *testing.T) {
	res, _ := types.LookupResource("configmaps")
	mk := func(lastApplied string, labels map[string]string, data map[string]string) types.Object {
		cm := &types.ConfigMap{
			TypeMeta:   types.TypeMeta{Kind: "ConfigMap", APIVersion: "v1"},
			ObjectMeta: types.ObjectMeta{Name: "c", Namespace: "default", UID: "u1", ResourceVersion: "7", Labels: labels},
			Data:       data,
		}
		if lastApplied != "" {
			cm.Annotations = map[string]string{lastAppliedAnnotation: lastApplied}
		}
		return cm
	}
	manifest := func(s string) (map[string]any, []byte, []byte) {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		sent := cloneTree(m)
		meta := sent["metadata"].(map[string]any)
		meta["annotations"] = map[string]any{lastAppliedAnnotation: s}
		sentJSON, _ := json.Marshal(sent)
		return m, []byte(s), sentJSON
	}
	v1 := `{"apiVersion":"v1","data":{"a":"1","b":"2"},"kind":"ConfigMap","metadata":{"labels":{"x":"y"},"name":"c","namespace":"default"}}`
	v2 := `{"apiVersion":"v1","data":{"a":"1"},"kind":"ConfigMap","metadata":{"labels":{},"name":"c","namespace":"default"}}`

	tests := []struct {
		name       string
		live       types.Object
		manifest   string
		wantResult string
		wantData   string
		wantLabels string
	}{
		{"same as last apply, server added a label", mk(v1, map[string]string{"x": "y", "added": "by-server"}, map[string]string{"a": "1", "b": "2"}), v1, "unchanged", "", ""},
		{"field removed from manifest goes", mk(v1, map[string]string{"x": "y", "added": "by-server"}, map[string]string{"a": "1", "b": "2"}), v2, "configured", "map[a:1]", "map[added:by-server]"},
		{"no last applied: merge only", mk("", map[string]string{"k": "v"}, map[string]string{"a": "0", "z": "9"}), v2, "configured", "map[a:1 z:9]", "map[k:v]"},
		{"labels dropped from the manifest: only the applied ones go",
			mk(v1, map[string]string{"x": "y", "added": "by-server"}, map[string]string{"a": "1", "b": "2"}),
			`{"apiVersion":"v1","data":{"a":"1","b":"2"},"kind":"ConfigMap","metadata":{"name":"c","namespace":"default"}}`,
			"configured", "map[a:1 b:2]", "map[added:by-server]"},
		{"kubectl's last applied with empty annotations is the same manifest",
			mk(`{"apiVersion":"v1","data":{"a":"1"},"kind":"ConfigMap","metadata":{"annotations":{},"name":"c","namespace":"default"}}`, nil, map[string]string{"a": "1"}),
			`{"apiVersion":"v1","data":{"a":"1"},"kind":"ConfigMap","metadata":{"name":"c","namespace":"default"}}`,
			"unchanged", "", ""},
		{"live drifted from manifest", mk(v1, map[string]string{"x": "y"}, map[string]string{"a": "changed", "b": "2"}), v1, "configured", "map[a:1 b:2]", "map[x:y]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, mj, sent := manifest(tt.manifest)
			result, obj, err := mergeApplied(res, tt.live, m, mj, sent)
			if err != nil {
				t.Fatal(err)
			}
			if result != tt.wantResult {
				t.Fatalf("result = %s, want %s", result, tt.wantResult)
			}
			if result == "unchanged" {
				return
			}
			cm := obj.(*types.ConfigMap)
			if got := fmt.Sprint(cm.Data); got != tt.wantData {
				t.Errorf("data = %s, want %s", got, tt.wantData)
			}
			if got := fmt.Sprint(cm.Labels); got != tt.wantLabels {
				t.Errorf("labels = %s, want %s", got, tt.wantLabels)
			}
			if cm.UID != "u1" || cm.ResourceVersion != "7" {
				t.Errorf("uid/resourceVersion = %s/%s, want the live ones kept", cm.UID, cm.ResourceVersion)
			}
			if cm.Annotations[lastAppliedAnnotation] != tt.manifest {
				t.Errorf("last-applied annotation = %s", cm.Annotations[lastAppliedAnnotation])
			}
		})
	}
}

// TestMergeAppliedKeepsOtherAnnotations: the annotations of controllers
// survive an apply whose manifest has none, where the last apply (by
// kubectl) recorded an empty annotations map.
func TestMergeAppliedKeepsOtherAnnotations(t *testing.T) {
	res, _ := types.LookupResource("configmaps")
	last := `{"apiVersion":"v1","data":{"a":"1"},"kind":"ConfigMap","metadata":{"annotations":{},"name":"c","namespace":"default"}}`
	live := &types.ConfigMap{
		TypeMeta: types.TypeMeta{Kind: "ConfigMap", APIVersion: "v1"},
		ObjectMeta: types.ObjectMeta{Name: "c", Namespace: "default", UID: "u1", ResourceVersion: "7",
			Annotations: map[string]string{lastAppliedAnnotation: last, "controller/owned": "yes"}},
		Data: map[string]string{"a": "1"},
	}
	manifest := `{"apiVersion":"v1","data":{"a":"2"},"kind":"ConfigMap","metadata":{"name":"c","namespace":"default"}}`
	var m map[string]any
	if err := json.Unmarshal([]byte(manifest), &m); err != nil {
		t.Fatal(err)
	}
	sent := cloneTree(m)
	sent["metadata"].(map[string]any)["annotations"] = map[string]any{lastAppliedAnnotation: manifest}
	sentJSON, _ := json.Marshal(sent)
	result, obj, err := mergeApplied(res, live, m, []byte(manifest), sentJSON)
	if err != nil || result != "configured" {
		t.Fatalf("mergeApplied = %s, %v", result, err)
	}
	cm := obj.(*types.ConfigMap)
	want := map[string]string{lastAppliedAnnotation: manifest, "controller/owned": "yes"}
	if fmt.Sprint(cm.Annotations) != fmt.Sprint(want) || cm.Data["a"] != "2" {
		t.Errorf("annotations = %v, data = %v", cm.Annotations, cm.Data)
	}
}

func TestContains(t *testing.T) {
	var have any
	_ = json.Unmarshal([]byte(`{"a":{"b":1,"c":[{"x":1,"y":2}]},"d":"e"}`), &have)
	tests := []struct {
		want string
		ok   bool
	}{
		{`{"a":{"b":1}}`, true},
		{`{"a":{"c":[{"x":1}]}}`, true},
		{`{"a":{"c":[{"x":2}]}}`, false},
		{`{"a":{"c":[{"x":1},{"x":1}]}}`, false},
		{`{"d":"f"}`, false},
		{`{"new":{}}`, true},
		{`{"new":1}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			var w any
			_ = json.Unmarshal([]byte(tt.want), &w)
			if got := contains(have, w); got != tt.ok {
				t.Fatalf("contains = %v, want %v", got, tt.ok)
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
