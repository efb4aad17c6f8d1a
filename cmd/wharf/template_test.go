package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller/controllertest"
	"github.com/wharfhq/wharf/sdk"
)

// TestGetTemplates runs `wharf get -o jsonpath=|jsonpath-file=|
// custom-columns=|custom-columns-file=` against a real API server and
// checks the output against what it must be and, when kubectl is on PATH,
// against kubectl's on the same server.
func TestGetTemplates(t *testing.T) {
	env := controllertest.NewEnv(t)
	ctx := env.Ctx()
	cms := sdk.Typed[*types.ConfigMap](env.Client).Namespace("default")
	for _, cm := range []*types.ConfigMap{
		{ObjectMeta: types.ObjectMeta{Name: "one", Labels: map[string]string{"app": "a"}}, Data: map[string]string{"k": "v"}},
		{ObjectMeta: types.ObjectMeta{Name: "two"}, Data: map[string]string{"k": "w", "size": "3"}},
	} {
		if _, err := cms.Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
	}
	// A large whole number: printed as kubectl does (1000000), not as a
	// float64 (1e+06).
	if _, err := sdk.Typed[*types.Pod](env.Client).Namespace("default").Create(ctx, &types.Pod{
		ObjectMeta: types.ObjectMeta{Name: "web"},
		Spec: types.PodSpec{TerminationGracePeriodSeconds: ptrTo(int64(1000000)),
			Containers: []types.Container{{Name: "c", Image: "nginx"}, {Name: "d", Image: "busybox"}}},
	}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	jpFile := filepath.Join(dir, "names.jsonpath")
	colsFile := filepath.Join(dir, "cols.txt")
	if err := os.WriteFile(jpFile, []byte(`{range .items[*]}{.metadata.name}={.data.k}{"\n"}{end}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(colsFile, []byte("NAME   KEY\n.metadata.name   {.data.k}\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"list items", []string{"get", "cm", "-o", "jsonpath={.items[*].metadata.name}"}, "one two"},
		{"one object", []string{"get", "cm", "one", "-o", `jsonpath={.data.k}{"\n"}`}, "v\n"},
		{"filter", []string{"get", "cm", "-o", `jsonpath={.items[?(@.metadata.name=="two")].data.size}`}, "3"},
		{"missing key", []string{"get", "cm", "one", "-o", "jsonpath=[{.metadata.generation}]"}, "[]"},
		{"whole number", []string{"get", "pod", "web", "-o", "jsonpath={.spec.terminationGracePeriodSeconds}"}, "1000000"},
		{"range over containers", []string{"get", "pods", "-o", `jsonpath={range .items[*].spec.containers[*]}{.name}:{.image} {end}`}, "c:nginx d:busybox "},
		{"jsonpath file", []string{"get", "cm", "-o", "jsonpath-file=" + jpFile}, "one=v\ntwo=w\n"},
		{"custom columns", []string{"get", "cm", "-o", "custom-columns=NAME:.metadata.name,APP:metadata.labels.app,K:{.data.k}"},
			"NAME   APP      K\none    a        v\ntwo    <none>   w\n"},
		{"custom columns of one object, several values", []string{"get", "pod", "web", "-o", "custom-columns=NAME:.metadata.name,IMAGES:.spec.containers[*].image"},
			"NAME   IMAGES\nweb    nginx,busybox\n"},
		{"custom columns without header", []string{"get", "cm", "--no-headers", "-o", "custom-columns=NAME:.metadata.name"}, "one\ntwo\n"},
		{"custom columns file", []string{"get", "cm", "-o", "custom-columns-file=" + colsFile}, "NAME   KEY\none    v\ntwo    w\n"},
	}
	kubectl, kubeErr := exec.LookPath("kubectl")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(ctx, append([]string{"--server", env.URL}, tt.args...), strings.NewReader(""), &out, &errOut)
			if code != 0 || out.String() != tt.want {
				t.Fatalf("wharf %s: exit %d, out %q, err %q; want out %q", strings.Join(tt.args, " "), code, out.String(), errOut.String(), tt.want)
			}
			if kubeErr != nil {
				return
			}
			kout, err := runKubectl(t, kubectl, env.URL, tt.args...)
			if err != nil {
				t.Fatalf("kubectl %s: %v", strings.Join(tt.args, " "), err)
			}
			if kout != out.String() {
				t.Errorf("kubectl %s printed %q, wharf %q", strings.Join(tt.args, " "), kout, out.String())
			}
		})
	}
}

// runKubectl runs kubectl on server with no kubeconfig and returns its
// standard output.
func runKubectl(t *testing.T, bin, server string, args ...string) (string, error) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.CommandContext(t.Context(), bin, append([]string{"--server", server}, args...)...)
	cmd.Env = []string{"HOME=" + home, "KUBECONFIG=" + filepath.Join(home, "none")}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", errors.Join(err, errors.New(errOut.String()))
	}
	return out.String(), nil
}

// TestGetTemplateErrors: a template that cannot be used is refused
// before the server is asked, with what is wrong.
func TestGetTemplateErrors(t *testing.T) {
	tests := []struct {
		output string
		want   string
	}{
		{"jsonpath", "-o jsonpath needs a template"},
		{"jsonpath=", "-o jsonpath needs a template"},
		{"jsonpath={.items[*", "error parsing jsonpath {.items[*"},
		{"custom-columns=NAME", `custom-columns spec "NAME", expected HEADER:JSONPATH`},
		{"custom-columns=NAME:{{x}}", "path \"{{x}}\""},
		{"jsonpath-file=/nonexistent/t", "read the template of -o jsonpath-file"},
		{"go-template={{.x}}", `unknown output format "go-template={{.x}}"`},
	}
	for _, tt := range tests {
		t.Run(tt.output, func(t *testing.T) {
			var out, errOut bytes.Buffer
			// No server listens there: the command must fail before asking one.
			code := run(t.Context(), []string{"get", "pods", "-o", tt.output, "--server", "http://127.0.0.1:1"}, strings.NewReader(""), &out, &errOut)
			if code != 1 || !strings.Contains(errOut.String(), tt.want) || strings.Count(errOut.String(), "\n") != 1 {
				t.Errorf("get -o %s: exit %d, err %q; want exit 1 and one line with %q", tt.output, code, errOut.String(), tt.want)
			}
		})
	}
}

func ptrTo[T any](v T) *T { return &v }
