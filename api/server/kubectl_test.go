package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"testing"

	"github.com/wharfhq/wharf/internal/testutil"
)

// kubectl runs kubectl against e with a throwaway home and kubeconfig, so
// that no user configuration is read.
func (e *env) kubectl(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	path, err := exec.LookPath("kubectl")
	if err != nil {
		testutil.Unavailable(t, "kubectl is not on PATH")
	}
	home := t.TempDir()
	cmd := exec.Command(path, append([]string{"--server", e.url}, args...)...)
	cmd.Env = []string{"HOME=" + home, "KUBECONFIG=" + home + "/config", "PATH=" + os.Getenv("PATH")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("kubectl %v: %w: %s", args, err, stderr.Bytes())
	}
	return out, nil
}

// TestKubectlCreateProtobuf: `kubectl create <kind>` sends protobuf bodies
// from its typed clients; every field kubectl sets (as its own
// --dry-run=client -o json shows) is stored.
func TestKubectlCreateProtobuf(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		kind, name string
		args       []string // after "create"; the command after "--" if any
		command    []string
	}{
		{"namespace", "ns1", []string{"namespace", "ns1"}, nil},
		{"configmap", "cm1", []string{"configmap", "cm1", "--from-literal=a=b", "--from-literal=c=d"}, nil},
		{"secret", "s1", []string{"secret", "generic", "s1", "--from-literal=user=admin"}, nil},
		{"serviceaccount", "sa1", []string{"serviceaccount", "sa1"}, nil},
		{"service", "svc1", []string{"service", "clusterip", "svc1", "--tcp=80:8080"}, nil},
		{"service", "svc2", []string{"service", "nodeport", "svc2", "--tcp=443:8443", "--node-port=30443"}, nil},
		{"service", "svc3", []string{"service", "externalname", "svc3", "--external-name=example.com"}, nil},
		{"deployment", "dep1", []string{"deployment", "dep1", "--image=nginx:1.27", "--replicas=3", "--port=80"}, nil},
		{"deployment", "dep0", []string{"deployment", "dep0", "--image=nginx:1.27", "--replicas=0"}, nil},
		{"job", "job1", []string{"job", "job1", "--image=busybox"}, []string{"echo", "hi"}},
		{"cronjob", "cj1", []string{"cronjob", "cj1", "--image=busybox", "--schedule=*/5 * * * *"}, []string{"date"}},
		{"ingress", "ing1", []string{"ingress", "ing1", "--class=wharf", "--rule=example.com/app*=svc1:80,tls=mysecret"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.kind+"/"+tc.name, func(t *testing.T) {
			withCmd := func(extra ...string) []string {
				a := append(append([]string{"create"}, tc.args...), extra...)
				if tc.command != nil {
					a = append(append(a, "--"), tc.command...)
				}
				return a
			}
			dry, err := e.kubectl(t, withCmd("--dry-run=client", "-o", "json")...)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.kubectl(t, withCmd()...); err != nil {
				t.Fatal(err)
			}
			got, err := e.kubectl(t, "get", tc.kind, tc.name, "-o", "json")
			if err != nil {
				t.Fatal(err)
			}
			var want, have any
			if err := json.Unmarshal(dry, &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(got, &have); err != nil {
				t.Fatal(err)
			}
			for _, l := range leaves(want, "") {
				if l.path == ".status" || len(l.path) > 7 && l.path[:8] == ".status." {
					continue
				}
				if v := lookup(have, l.keys); !reflect.DeepEqual(v, l.value) {
					t.Errorf("%s = %v, kubectl sent %v", l.path, v, l.value)
				}
			}
		})
	}
}

type leaf struct {
	path  string
	keys  []any
	value any
}

// leaves lists the non-empty scalar values of a JSON document.
func leaves(x any, path string, keys ...any) []leaf {
	switch v := x.(type) {
	case map[string]any:
		var out []leaf
		for k, c := range v {
			out = append(out, leaves(c, path+"."+k, append(slices.Clone(keys), k)...)...)
		}
		return out
	case []any:
		var out []leaf
		for i, c := range v {
			out = append(out, leaves(c, fmt.Sprintf("%s[%d]", path, i), append(slices.Clone(keys), i)...)...)
		}
		return out
	case nil:
		return nil
	}
	return []leaf{{path: path, keys: keys, value: x}}
}

func lookup(x any, keys []any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := x.(map[string]any)
			if !ok {
				return "<missing>"
			}
			if x, ok = m[k]; !ok {
				return "<missing>"
			}
		case int:
			l, ok := x.([]any)
			if !ok || k >= len(l) {
				return "<missing>"
			}
			x = l[k]
		}
	}
	return x
}
