package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/wharfhq/wharf/api/server/servertest"
)

// TestDryRunLikeKubectl: apply, create and delete with --dry-run=client
// and --dry-run=server print what kubectl 1.32 prints on a twin object,
// and store nothing; -o yaml prints the object that would be sent or
// stored.
func TestDryRunLikeKubectl(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	dir := t.TempDir()
	// manifest writes a config map manifest of name with data k=v.
	manifest := func(name, v string) string {
		p := filepath.Join(dir, name+"-"+v+".yaml")
		if err := os.WriteFile(p, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "+name+"\ndata:\n  k: "+v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// stored is the data of the stored config map, "" when there is none.
	stored := func(name string) string {
		r := wharfResult(t, srv.URL, "get", "configmap", name, "-o", "jsonpath={.data.k}")
		if !r.ok {
			return ""
		}
		return r.out
	}
	steps := []struct {
		name   string
		args   []string // "F1" and "F2" are the manifests of v1 and v2, "NAME" the name
		want   string   // output, NAME replaced
		stored string   // the stored value of k after, "" for none
	}{
		{"apply client, absent", []string{"apply", "-f", "F1", "--dry-run=client"}, "configmap/NAME created (dry run)\n", ""},
		{"apply server, absent", []string{"apply", "-f", "F1", "--dry-run=server"}, "configmap/NAME created (server dry run)\n", ""},
		{"create client", []string{"create", "-f", "F1", "--dry-run=client"}, "configmap/NAME created (dry run)\n", ""},
		{"create server", []string{"create", "-f", "F1", "--dry-run=server"}, "configmap/NAME created (server dry run)\n", ""},
		{"create configmap server", []string{"create", "configmap", "NAME", "--from-literal=k=v1", "--dry-run=server"}, "configmap/NAME created (server dry run)\n", ""},
		{"apply", []string{"apply", "-f", "F1"}, "configmap/NAME created\n", "v1"},
		{"apply client, same", []string{"apply", "-f", "F1", "--dry-run=client"}, "configmap/NAME configured (dry run)\n", "v1"},
		{"apply server, same", []string{"apply", "-f", "F1", "--dry-run=server"}, "configmap/NAME unchanged (server dry run)\n", "v1"},
		{"apply client, changed", []string{"apply", "-f", "F2", "--dry-run=client"}, "configmap/NAME configured (dry run)\n", "v1"},
		{"apply server, changed", []string{"apply", "-f", "F2", "--dry-run=server"}, "configmap/NAME configured (server dry run)\n", "v1"},
		{"apply server, -o name", []string{"apply", "-f", "F2", "--dry-run=server", "-o", "name"}, "configmap/NAME\n", "v1"},
		{"delete client, by manifest", []string{"delete", "-f", "F1", "--dry-run=client"}, "configmap \"NAME\" deleted (dry run)\n", "v1"},
		{"delete server, by name", []string{"delete", "configmap", "NAME", "--dry-run=server"}, "configmap \"NAME\" deleted (server dry run)\n", "v1"},
		{"bare --dry-run is client", []string{"apply", "-f", "F2", "--dry-run"}, "configmap/NAME configured (dry run)\n", "v1"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			for _, cli := range []struct {
				name string
				run  func(t *testing.T, url string, args ...string) cliResult
			}{{"w", wharfResult}, {"k", kubectlResult}} {
				f1, f2 := manifest(cli.name, "v1"), manifest(cli.name, "v2")
				args := make([]string, len(st.args))
				for i, a := range st.args {
					args[i] = strings.NewReplacer("F1", f1, "F2", f2, "NAME", cli.name).Replace(a)
				}
				r := cli.run(t, srv.URL, args...)
				if want := strings.ReplaceAll(st.want, "NAME", cli.name); !r.ok || r.out != want {
					t.Errorf("%s %v: %+v, want output %q", cli.name, args, r, want)
				}
				if got := stored(cli.name); got != st.stored {
					t.Errorf("%s %v: stored k=%q after, want %q", cli.name, args, got, st.stored)
				}
			}
		})
	}

	t.Run("-o yaml prints what would be stored", func(t *testing.T) {
		fields := func(t *testing.T, out string) map[string]any {
			t.Helper()
			var v struct {
				Data     map[string]any
				Metadata map[string]any
			}
			if err := yaml.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			return map[string]any{"data": v.Data, "uid": v.Metadata["uid"] != nil,
				"lastApplied": v.Metadata["annotations"].(map[string]any)["kubectl.kubernetes.io/last-applied-configuration"]}
		}
		for _, tc := range []struct {
			name, file, mode string
			wantK            string
			wantUID          bool // a server's answer
		}{
			{"client, absent", "fresh", "client", "v1", false},
			{"server, absent", "fresh", "server", "v1", true},
			{"client, present: the live object", "", "client", "v1", true},
			{"server, present: the patched object", "", "server", "v2", true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var got [2]map[string]any
				for i, name := range []string{"w", "k"} {
					f := manifest(name, tc.wantK)
					if tc.file != "" {
						f = manifest(tc.file+name, tc.wantK)
					}
					run := wharfResult
					if i == 1 {
						run = kubectlResult
					}
					r := run(t, srv.URL, "apply", "-f", f, "--dry-run="+tc.mode, "-o", "yaml")
					if !r.ok {
						t.Fatalf("%s: %+v", name, r)
					}
					got[i] = fields(t, strings.ReplaceAll(r.out, "fresh"+name, "fresh"))
					got[i]["lastApplied"] = strings.ReplaceAll(got[i]["lastApplied"].(string), `"name":"`+name+`"`, `"name":"X"`)
					got[i]["lastApplied"] = strings.ReplaceAll(got[i]["lastApplied"].(string), `"name":"fresh`+name+`"`, `"name":"X"`)
				}
				if got[0]["data"].(map[string]any)["k"] != tc.wantK || got[0]["uid"] != tc.wantUID {
					t.Errorf("wharf printed %v, want k=%s and uid %v", got[0], tc.wantK, tc.wantUID)
				}
				wj, _ := json.Marshal(got[0])
				kj, _ := json.Marshal(got[1])
				if string(wj) != string(kj) {
					t.Errorf("wharf printed %s\nkubectl %s", wj, kj)
				}
			})
		}
		if r := wharfResult(t, srv.URL, "get", "configmap", "freshw"); r.ok {
			t.Errorf("a dry run stored the object: %s", r.out)
		}
	})

	t.Run("server dry run validates, client does not", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.yaml")
		if err := os.WriteFile(bad, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if r := wharfResult(t, srv.URL, "create", "-f", bad, "--dry-run=client"); !r.ok || r.out != "configmap/Bad_Name created (dry run)\n" {
			t.Errorf("client: %+v", r)
		}
		if r := wharfResult(t, srv.URL, "create", "-f", bad, "--dry-run=server"); r.ok || !strings.Contains(r.errOut, "metadata.name: Invalid value") {
			t.Errorf("server: %+v, want the server's validation error", r)
		}
	})

	t.Run("client dry run of create configmap, secret and namespace prints kubectl's manifest", func(t *testing.T) {
		for _, args := range [][]string{
			{"create", "configmap", "x", "--from-literal=a=b", "--from-literal=c=", "--dry-run=client", "-o", "yaml"},
			{"create", "secret", "generic", "x", "--from-literal=a=b", "--type=example.com/t", "-n", "foo", "--dry-run=client", "-o", "json"},
			{"create", "namespace", "x", "--dry-run=client", "-o", "yaml"},
		} {
			w, k := wharfResult(t, srv.URL, args...), kubectlResult(t, srv.URL, args...)
			same := w.out == k.out
			if args[len(args)-1] == "json" { // wharf sorts the keys as in yaml, kubectl does not
				var wv, kv any
				same = json.Unmarshal([]byte(w.out), &wv) == nil && json.Unmarshal([]byte(k.out), &kv) == nil && reflect.DeepEqual(wv, kv)
			}
			if !w.ok || !k.ok || !same {
				t.Errorf("%v: wharf %+v\nkubectl %+v", args, w, k)
			}
		}
	})

	t.Run("bad value", func(t *testing.T) {
		w := wharfResult(t, srv.URL, "apply", "-f", manifest("w", "v1"), "--dry-run=bogus")
		if w.ok || !strings.HasPrefix(w.errOut, `error: invalid dry-run value (bogus). Must be "none", "server", or "client"`) {
			t.Errorf("%+v", w)
		}
	})
}
