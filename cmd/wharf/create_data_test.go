package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/server/servertest"
	"github.com/wharfhq/wharf/internal/testutil"
)

// cliResult is what a run of wharf or kubectl printed, and whether it
// succeeded.
type cliResult struct {
	out, errOut string
	ok          bool
}

// wharfResult runs the wharf CLI against url.
func wharfResult(t *testing.T, url string, args ...string) cliResult {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(t.Context(), append([]string{"--server", url}, args...), strings.NewReader(""), &out, &errOut)
	return cliResult{out.String(), errOut.String(), code == 0}
}

// kubectlResult runs kubectl against url with a throwaway home and
// kubeconfig, so that no user configuration is read.
func kubectlResult(t *testing.T, url string, args ...string) cliResult {
	t.Helper()
	path, err := exec.LookPath("kubectl")
	if err != nil {
		testutil.Unavailable(t, "kubectl is not on PATH")
	}
	home := t.TempDir()
	cmd := exec.Command(path, append([]string{"--server", url}, args...)...)
	cmd.Env = []string{"HOME=" + home, "KUBECONFIG=" + home + "/config", "PATH=" + os.Getenv("PATH")}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatalf("kubectl %v: %v", args, err)
	}
	return cliResult{out.String(), errOut.String(), err == nil}
}

// storedData returns the fields of a stored object that create
// configmap/secret/namespace fill, as JSON to compare.
func storedData(t *testing.T, url, kind, name string) string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(wharfAt(t, url, "get", kind, name, "-o", "json")), &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]any{"kind": v["kind"], "data": v["data"], "binaryData": v["binaryData"], "type": v["type"], "spec": v["spec"]})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dataFixtures writes the files the create tests read into a new
// directory: a text file, a binary one, a directory of two files and a
// subdirectory, and env files.
func dataFixtures(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"app.properties": "color=blue\nsize=2\n",
		"logo.bin":       "\xff\xfe\x00\x01",
		"conf/a.yaml":    "a: 1\n",
		"conf/b.txt":     "bee",
		"conf/sub/c.txt": "not read: in a subdirectory",
		"good.env":       "\xEF\xBB\xBFA=1\n# a comment\n\n   B=x y  \nC=\nD=with=equals\n",
		"dup.env":        "A=1\nA=2\n",
		"badkey.env":     "B =2\n",
		"bad key.txt":    "x",
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestCreateConfigMapSecretNamespaceLikeKubectl: wharf create configmap,
// secret generic and namespace print what kubectl 1.32 prints and store
// the same object as kubectl does from the same arguments, and fail with
// kubectl's messages.
func TestCreateConfigMapSecretNamespaceLikeKubectl(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	dir := dataFixtures(t)
	in := func(name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		name string
		kind string   // to read back
		args []string // "NAME" is replaced by each CLI's object name
		want string   // wharf's output, NAME replaced
	}{
		{"configmap of literals", "configmap", []string{"create", "configmap", "NAME", "--from-literal=k1=v1", "--from-literal=k2=a=b", "--from-literal=empty="},
			"configmap/NAME created\n"},
		{"configmap of files, keyed and not, and a directory", "configmap", []string{"create", "cm", "NAME", "--from-file=" + in("app.properties"),
			"--from-file=renamed=" + in("conf/b.txt"), "--from-file=" + in("conf"), "--from-literal=lit=1"}, "configmap/NAME created\n"},
		{"configmap with binary data", "configmap", []string{"create", "configmap", "NAME", "--from-file=" + in("logo.bin"), "--from-literal=t=x"},
			"configmap/NAME created\n"},
		{"configmap of an env file", "configmap", []string{"create", "configmap", "NAME", "--from-env-file=" + in("good.env")},
			"configmap/NAME created\n"},
		{"empty configmap", "configmap", []string{"create", "configmap", "NAME"}, "configmap/NAME created\n"},
		{"secret of literals and files", "secret", []string{"create", "secret", "generic", "NAME", "--from-literal=user=admin",
			"--from-file=" + in("logo.bin"), "--from-file=" + in("conf")}, "secret/NAME created\n"},
		{"secret of an env file, with a type", "secret", []string{"create", "secret", "generic", "NAME", "--from-env-file=" + in("good.env"), "--type=example.com/token"},
			"secret/NAME created\n"},
		{"namespace", "namespace", []string{"create", "namespace", "NAME"}, "namespace/NAME created\n"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wName, kName := "w"+string(rune('a'+i)), "k"+string(rune('a'+i))
			with := func(name string) []string {
				args := append([]string(nil), tc.args...)
				for j, a := range args {
					if a == "NAME" {
						args[j] = name
					}
				}
				return args
			}
			w := wharfResult(t, srv.URL, with(wName)...)
			if !w.ok || w.out != strings.ReplaceAll(tc.want, "NAME", wName) {
				t.Fatalf("wharf: %+v, want output %q", w, tc.want)
			}
			k := kubectlResult(t, srv.URL, with(kName)...)
			if !k.ok || k.out != strings.ReplaceAll(tc.want, "NAME", kName) {
				t.Fatalf("kubectl: %+v, want output %q", k, tc.want)
			}
			if wd, kd := storedData(t, srv.URL, tc.kind, wName), storedData(t, srv.URL, tc.kind, kName); wd != kd {
				t.Errorf("stored after wharf:\n%s\nafter kubectl:\n%s", wd, kd)
			}
		})
	}

	errTests := []struct {
		name string
		args []string
	}{
		{"duplicate literal key", []string{"create", "configmap", "bad", "--from-literal=a=1", "--from-literal=a=2"}},
		{"literal and file of the same key", []string{"create", "configmap", "bad", "--from-file=a=" + in("conf/b.txt"), "--from-literal=a=2"}},
		{"binary and file of the same key", []string{"create", "configmap", "bad", "--from-file=a=" + in("logo.bin"), "--from-literal=a=2"}},
		{"invalid key", []string{"create", "configmap", "bad", "--from-literal=a b=1"}},
		{"key ..x", []string{"create", "configmap", "bad", "--from-literal=..x=1"}},
		{"literal without =", []string{"create", "configmap", "bad", "--from-literal=ab"}},
		{"literal without key", []string{"create", "configmap", "bad", "--from-literal==v"}},
		{"file key of a directory", []string{"create", "configmap", "bad", "--from-file=k=" + in("conf")}},
		{"file missing", []string{"create", "configmap", "bad", "--from-file=" + in("nope")}},
		{"file source without key", []string{"create", "configmap", "bad", "--from-file==" + in("conf/b.txt")}},
		{"file source with two =", []string{"create", "configmap", "bad", "--from-file=a=b=c"}},
		{"file whose name is no key", []string{"create", "configmap", "bad", "--from-file=" + in("bad key.txt")}},
		{"env file with literals", []string{"create", "configmap", "bad", "--from-env-file=" + in("good.env"), "--from-literal=a=1"}},
		{"duplicate env key", []string{"create", "configmap", "bad", "--from-env-file=" + in("dup.env")}},
		{"bad env key", []string{"create", "configmap", "bad", "--from-env-file=" + in("badkey.env")}},
		{"secret duplicate key", []string{"create", "secret", "generic", "bad", "--from-literal=a=1", "--from-literal=a=2"}},
		{"secret invalid key", []string{"create", "secret", "generic", "bad", "--from-literal=a b=1"}},
		{"configmap already exists", []string{"create", "configmap", "wa"}},
		{"secret already exists", []string{"create", "secret", "generic", "wf"}},
		{"namespace already exists", []string{"create", "namespace", "wh"}},
		{"invalid name", []string{"create", "configmap", "Bad_Name"}},
	}
	for _, tc := range errTests {
		t.Run(tc.name, func(t *testing.T) {
			w := wharfResult(t, srv.URL, tc.args...)
			k := kubectlResult(t, srv.URL, tc.args...)
			if w.ok || k.ok {
				t.Fatalf("wharf %+v, kubectl %+v: want both to fail", w, k)
			}
			// kubectl prints a server's error on create namespace as
			// "Error from server (REASON): ", wharf as every error.
			if w.errOut != k.errOut && strings.TrimPrefix(w.errOut, "error: ") != strings.TrimPrefix(k.errOut, "Error from server (AlreadyExists): ") {
				t.Errorf("wharf's error:\n%s\nkubectl's:\n%s", w.errOut, k.errOut)
			}
		})
	}
}
