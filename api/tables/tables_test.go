package tables_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/wharfhq/wharf/api/tables"
	"github.com/wharfhq/wharf/api/types"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// now is the clock of every test; objects are created at created.
var (
	now     = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	created = now.Add(-(3*time.Minute + 20*time.Second))
)

// decodePod reads a Pod whose status is given as YAML.
func decodePod(t *testing.T, spec, status string) *types.Pod {
	t.Helper()
	doc := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  creationTimestamp: \"" + created.Format(time.RFC3339) + "\"\n" +
		"spec:\n" + indent(spec) + "status:\n" + indent(status)
	obj, err := types.Decode([]byte(doc))
	if err != nil {
		t.Fatalf("decode pod: %v\n%s", err, doc)
	}
	return obj.(*types.Pod)
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

const oneContainer = `containers: [{name: app, image: nginx}]`

// TestPodStatus checks the READY, STATUS and RESTARTS cells against what
// kubectl 1.32's printPod shows for the same Pods.
func TestPodStatus(t *testing.T) {
	finished := now.Add(-90 * time.Second).Format(time.RFC3339)
	tests := []struct {
		name, spec, status string
		deleting           bool
		ready, want, rest  string
	}{
		{"pending", oneContainer, `phase: Pending`, false, "0/1", "Pending", "0"},
		{"container creating", oneContainer, `{phase: Pending, containerStatuses: [{name: app, image: nginx, imageID: "", ready: false, restartCount: 0, state: {waiting: {reason: ContainerCreating}}}]}`,
			false, "0/1", "ContainerCreating", "0"},
		{"running ready", oneContainer, `{phase: Running, conditions: [{type: Ready, status: "True"}], containerStatuses: [{name: app, image: nginx, imageID: "", ready: true, restartCount: 0, state: {running: {}}}]}`,
			false, "1/1", "Running", "0"},
		{"running not ready", oneContainer, `{phase: Running, containerStatuses: [{name: app, image: nginx, imageID: "", ready: false, restartCount: 0, state: {running: {}}}]}`,
			false, "0/1", "Running", "0"},
		{"crash loop", oneContainer, `{phase: Running, containerStatuses: [{name: app, image: nginx, imageID: "", ready: false, restartCount: 4,
			state: {waiting: {reason: CrashLoopBackOff}}, lastState: {terminated: {exitCode: 1, reason: Error, finishedAt: "` + finished + `"}}}]}`,
			false, "0/1", "CrashLoopBackOff", "4 (90s ago)"},
		{"image pull", oneContainer, `{phase: Pending, containerStatuses: [{name: app, image: nginx, imageID: "", ready: false, restartCount: 0, state: {waiting: {reason: ErrImagePull}}}]}`,
			false, "0/1", "ErrImagePull", "0"},
		{"completed", oneContainer, `{phase: Succeeded, containerStatuses: [{name: app, image: nginx, imageID: "", ready: false, restartCount: 0, state: {terminated: {exitCode: 0, reason: Completed}}}]}`,
			false, "0/1", "Completed", "0"},
		{"error", oneContainer, `{phase: Failed, containerStatuses: [{name: app, image: nginx, imageID: "", ready: false, restartCount: 0, state: {terminated: {exitCode: 2, reason: Error}}}]}`,
			false, "0/1", "Error", "0"},
		{"exit code without reason", oneContainer, `{phase: Failed, containerStatuses: [{name: app, image: nginx, imageID: "", ready: false, restartCount: 0, state: {terminated: {exitCode: 3}}}]}`,
			false, "0/1", "ExitCode:3", "0"},
		{"signal", oneContainer, `{phase: Failed, containerStatuses: [{name: app, image: nginx, imageID: "", ready: false, restartCount: 0, state: {terminated: {exitCode: 137, signal: 9}}}]}`,
			false, "0/1", "Signal:9", "0"},
		{"oom killed", oneContainer, `{phase: Running, containerStatuses: [{name: app, image: nginx, imageID: "", ready: false, restartCount: 1, state: {terminated: {exitCode: 137, reason: OOMKilled}}}]}`,
			false, "0/1", "OOMKilled", "1"},
		{"one of two completed, one running, pod not ready", `containers: [{name: a, image: x}, {name: b, image: busybox}]`,
			`{phase: Running, containerStatuses: [
				{name: a, image: x, imageID: "", ready: false, restartCount: 0, state: {terminated: {exitCode: 0, reason: Completed}}},
				{name: b, image: busybox, imageID: "", ready: true, restartCount: 0, state: {running: {}}}]}`,
			false, "1/2", "NotReady", "0"},
		{"init waiting", `{initContainers: [{name: init, image: x}], containers: [{name: app, image: nginx}]}`,
			`{phase: Pending, initContainerStatuses: [{name: init, image: x, imageID: "", ready: false, restartCount: 0, state: {running: {}}}]}`,
			false, "0/1", "Init:0/1", "0"},
		{"init image pull", `{initContainers: [{name: init, image: x}], containers: [{name: app, image: nginx}]}`,
			`{phase: Pending, initContainerStatuses: [{name: init, image: x, imageID: "", ready: false, restartCount: 0, state: {waiting: {reason: ErrImagePull}}}]}`,
			false, "0/1", "Init:ErrImagePull", "0"},
		{"init failed", `{initContainers: [{name: i1, image: x}, {name: i2, image: x}], containers: [{name: app, image: nginx}]}`,
			`{phase: Pending, initContainerStatuses: [
				{name: i1, image: x, imageID: "", ready: false, restartCount: 0, state: {terminated: {exitCode: 0, reason: Completed}}},
				{name: i2, image: x, imageID: "", ready: false, restartCount: 2, state: {terminated: {exitCode: 1}}}]}`,
			false, "0/1", "Init:ExitCode:1", "2"},
		{"init crash loop", `{initContainers: [{name: init, image: x}], containers: [{name: app, image: nginx}]}`,
			`{phase: Pending, initContainerStatuses: [{name: init, image: x, imageID: "", ready: false, restartCount: 3, state: {waiting: {reason: CrashLoopBackOff}}}]}`,
			false, "0/1", "Init:CrashLoopBackOff", "3"},
		{"terminating", oneContainer, `{phase: Running, containerStatuses: [{name: app, image: nginx, imageID: "", ready: true, restartCount: 0, state: {running: {}}}]}`,
			true, "1/1", "Terminating", "0"},
		{"finished pods being deleted are not Terminating", oneContainer, `{phase: Succeeded, containerStatuses: [{name: app, image: nginx, imageID: "", ready: false, restartCount: 0, state: {terminated: {exitCode: 0, reason: Completed}}}]}`,
			true, "0/1", "Completed", "0"},
		{"evicted", oneContainer, `{phase: Failed, reason: Evicted, message: "low on memory"}`, false, "0/1", "Evicted", "0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := decodePod(t, tc.spec, tc.status)
			if tc.deleting {
				ts := types.NewTime(now)
				p.DeletionTimestamp = &ts
			}
			cells := tables.Cells(p, now)
			got := fmt.Sprintf("%v|%v|%v|%v", cells[1], cells[2], cells[3], cells[4])
			want := tc.ready + "|" + tc.want + "|" + tc.rest + "|3m20s"
			if got != want {
				t.Fatalf("READY|STATUS|RESTARTS|AGE = %s, want %s", got, want)
			}
		})
	}
}

func TestPodRowConditions(t *testing.T) {
	p := decodePod(t, oneContainer, `phase: Succeeded`)
	tbl, err := tables.New("Pod", []types.Object{p}, now, tables.IncludeNone, types.ListMeta{})
	if err != nil {
		t.Fatal(err)
	}
	if c := tbl.Rows[0].Conditions; len(c) != 1 || c[0].Type != "Completed" || c[0].Status != "True" {
		t.Fatalf("conditions %+v", c)
	}
	if tbl.Rows[0].Object != nil {
		t.Fatalf("IncludeNone row carries %s", tbl.Rows[0].Object)
	}
}

// TestHumanDuration uses the cases of Kubernetes' duration.HumanDuration
// tests.
func TestHumanDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-2 * time.Second, "<invalid>"},
		{-time.Second + time.Millisecond, "0s"},
		{time.Second, "1s"},
		{70 * time.Second, "70s"},
		{190 * time.Second, "3m10s"},
		{5 * time.Minute, "5m"},
		{70 * time.Minute, "70m"},
		{3*time.Hour + 30*time.Minute, "3h30m"},
		{5 * time.Hour, "5h"},
		{47 * time.Hour, "47h"},
		{49 * time.Hour, "2d1h"},
		{(8*24 + 2) * time.Hour, "8d"},
		{367 * 24 * time.Hour, "367d"},
		{(365*2*24 + 25) * time.Hour, "2y1d"},
		{(365*8*24 + 2) * time.Hour, "8y"},
	}
	for _, tc := range tests {
		t.Run(tc.d.String(), func(t *testing.T) {
			if got := tables.HumanDuration(tc.d); got != tc.want {
				t.Fatalf("HumanDuration(%v) = %q, want %q", tc.d, got, tc.want)
			}
		})
	}
	if got := tables.Age(types.Time{}, now); got != "<unknown>" {
		t.Fatalf("Age of the zero time = %q", got)
	}
}

func TestParseInclude(t *testing.T) {
	for in, want := range map[string]tables.Include{"": tables.IncludeMetadata, "None": tables.IncludeNone, "Object": tables.IncludeObject} {
		if got, err := tables.ParseInclude(in); err != nil || got != want {
			t.Errorf("ParseInclude(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := tables.ParseInclude("Everything"); err == nil {
		t.Error("ParseInclude accepted Everything")
	}
}

// TestGolden prints the objects of testdata/objects.yaml, grouped by kind,
// as kubectl get -o wide shows them (all columns, upper-case headers) and
// compares with testdata/golden/<kind>.txt (go test -update rewrites them).
func TestGolden(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "objects.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := types.DecodeAll(data)
	if err != nil {
		t.Fatalf("decode objects: %v", err)
	}
	byKind := map[string][]types.Object{}
	var kinds []string
	for _, o := range objs {
		k := o.GetTypeMeta().Kind
		if byKind[k] == nil {
			kinds = append(kinds, k)
		}
		byKind[k] = append(byKind[k], o)
	}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			tbl, err := tables.New(kind, byKind[kind], now, tables.IncludeMetadata, types.ListMeta{})
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range tbl.Rows {
				if len(r.Cells) != len(tbl.ColumnDefinitions) {
					t.Fatalf("row %d has %d cells for %d columns", i, len(r.Cells), len(tbl.ColumnDefinitions))
				}
				var meta struct {
					Kind     string           `json:"kind"`
					Metadata types.ObjectMeta `json:"metadata"`
				}
				if err := json.Unmarshal(r.Object, &meta); err != nil || meta.Kind != "PartialObjectMetadata" || meta.Metadata.Name == "" {
					t.Fatalf("row %d object %s", i, r.Object)
				}
			}
			got := render(tbl)
			path := filepath.Join("testdata", "golden", strings.ToLower(kind)+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s differs:\n--- got\n%s--- want\n%s", path, got, want)
			}
		})
	}
}

// render prints a Table as kubectl does: upper-case headers, columns
// separated by three spaces; wide-only columns are marked with "*".
func render(tbl *tables.Table) []byte {
	var b bytes.Buffer
	w := tabwriter.NewWriter(&b, 0, 8, 3, ' ', 0)
	var head []string
	for _, c := range tbl.ColumnDefinitions {
		h := strings.ToUpper(c.Name)
		if c.Priority > 0 {
			h += "*"
		}
		head = append(head, h)
	}
	fmt.Fprintln(w, strings.Join(head, "\t"))
	for _, r := range tbl.Rows {
		cells := make([]string, len(r.Cells))
		for i, c := range r.Cells {
			cells[i] = fmt.Sprint(c)
		}
		fmt.Fprintln(w, strings.Join(cells, "\t"))
	}
	_ = w.Flush()
	return b.Bytes()
}
