package types

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestDecodeGolden decodes every manifest in testdata (*.yaml, *.json) and
// compares the re-encoded JSON of every object it holds with
// testdata/<name>.golden.json.
func TestDecodeGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.*")
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, f := range files {
		if strings.HasSuffix(f, ".golden.json") {
			continue
		}
		n++
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			objs, err := DecodeAll(data)
			if err != nil {
				t.Fatalf("DecodeAll: %v", err)
			}
			// The golden file is a JSON stream: one indented object per
			// decoded object.
			var got []byte
			for _, o := range objs {
				b, err := json.MarshalIndent(o, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				got = append(append(got, b...), '\n')
			}
			golden := strings.TrimSuffix(f, filepath.Ext(f)) + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestDecodeGolden -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("re-encoded %s differs from %s:\n%s", f, golden, got)
			}
			// The re-encoded form decodes again to the same JSON: nothing
			// Wharf writes is rejected by its own strict decoder.
			again, err := DecodeAll(got)
			if err != nil {
				t.Fatalf("decoding the re-encoded form: %v", err)
			}
			if len(again) != len(objs) {
				t.Fatalf("re-decoded %d objects, want %d", len(again), len(objs))
			}
			for i := range objs {
				a, _ := json.Marshal(objs[i])
				b, _ := json.Marshal(again[i])
				if !bytes.Equal(a, b) {
					t.Errorf("object %d changed on a second round trip:\n%s\n%s", i, a, b)
				}
			}
		})
	}
	if n < 15 {
		t.Errorf("only %d manifests in testdata", n)
	}
}

// TestDecodeSingle checks Decode on single-document manifests: the Go type
// and a few fields that must survive.
func TestDecodeSingle(t *testing.T) {
	read := func(t *testing.T, name string) []byte {
		t.Helper()
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	t.Run("deployment", func(t *testing.T) {
		obj, err := Decode(read(t, "deployment.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		d, ok := obj.(*Deployment)
		if !ok {
			t.Fatalf("got %T, want *Deployment", obj)
		}
		if *d.Spec.Replicas != 3 || d.Spec.Strategy.RollingUpdate.MaxSurge.StrVal != "25%" || d.Spec.Strategy.RollingUpdate.MaxUnavailable.IntVal != 1 {
			t.Errorf("spec = %+v", d.Spec)
		}
		c := d.Spec.Template.Spec.Containers[0]
		if got := c.Resources.Limits.Memory(); got.Value() != 1610612736 {
			t.Errorf("memory limit = %v", got.String())
		}
		if c.ReadinessProbe.HTTPGet.Port != FromString("http") || c.LivenessProbe.TCPSocket.Port != FromInt(80) {
			t.Errorf("probe ports = %v, %v", c.ReadinessProbe.HTTPGet.Port, c.LivenessProbe.TCPSocket.Port)
		}
	})
	t.Run("secret", func(t *testing.T) {
		obj, err := Decode(read(t, "secret.json"))
		if err != nil {
			t.Fatal(err)
		}
		s := obj.(*Secret)
		if string(s.Data["username"]) != "admin" {
			t.Errorf("data[username] = %q, want base64-decoded admin", s.Data["username"])
		}
	})
	t.Run("pod octal modes", func(t *testing.T) {
		obj, err := Decode(read(t, "pod-full.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		p := obj.(*Pod)
		if m := *p.Spec.Volumes[2].ConfigMap.DefaultMode; m != 0o644 {
			t.Errorf("defaultMode = %o, want 644 (YAML 1.1 octal)", m)
		}
	})
	t.Run("list is refused", func(t *testing.T) {
		_, err := Decode([]byte(`{"apiVersion":"v1","kind":"List","items":[]}`))
		if !errors.Is(err, ErrIsList) {
			t.Errorf("err = %v, want ErrIsList", err)
		}
	})
	t.Run("several documents are refused", func(t *testing.T) {
		_, err := Decode(read(t, "multi.yaml"))
		if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "DecodeAll") {
			t.Errorf("err = %v, want ErrMalformed pointing at DecodeAll", err)
		}
	})
}

func TestDecodeErrors(t *testing.T) {
	sentinels := map[string]error{
		"bad-quantity.yaml":           ErrSuffix,
		"case-mismatch.yaml":          ErrUnknownField,
		"duplicate-json.json":         ErrDuplicateField,
		"duplicate-yaml.yaml":         ErrDuplicateField,
		"job-pod-failure-policy.yaml": ErrUnknownField,
		"list-typo.yaml":              ErrUnknownField,
		"malformed.yaml":              ErrMalformed,
		"no-kind.yaml":                ErrMalformed,
		"priorityclass.yaml":          ErrUnknownKind,
		"pvc-volume.yaml":             ErrUnknownField,
		"sts-claim-templates.yaml":    ErrUnknownField,
		"two-unknown.yaml":            ErrUnknownField,
		"typo-deploy-template.yaml":   ErrUnknownField,
		"typo-pull-policy.yaml":       ErrUnknownField,
		"unknown-kind.yaml":           ErrUnknownKind,
		"wrong-type.yaml":             ErrMalformed,
		"wrong-version.yaml":          ErrUnknownKind,
	}
	files, err := filepath.Glob("testdata/bad/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".err") {
			continue
		}
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want := expectedError(t, f, data)
			sentinel, ok := sentinels[name]
			if !ok {
				t.Fatalf("no sentinel listed for %s", name)
			}
			_, err = DecodeAll(data)
			if err == nil {
				t.Fatal("decoded without error")
			}
			if !errors.Is(err, sentinel) {
				t.Errorf("error %q does not wrap %v", err, sentinel)
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
		})
	}
	if len(files) < 10 {
		t.Errorf("only %d bad manifests", len(files))
	}
}

// expectedError reads the "# error: ..." first line of a YAML file, or the
// .err file next to a JSON one.
func expectedError(t *testing.T, f string, data []byte) string {
	t.Helper()
	if strings.HasSuffix(f, ".json") {
		e, err := os.ReadFile(strings.TrimSuffix(f, ".json") + ".err")
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(e))
	}
	first, _, _ := strings.Cut(string(data), "\n")
	want, ok := strings.CutPrefix(first, "# error: ")
	if !ok {
		t.Fatalf("%s: first line must be \"# error: <expected text>\"", f)
	}
	return want
}

func TestDecodeInto(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		obj     Object
		wantErr error
	}{
		{"scale without type meta", `{"spec":{"replicas":5}}`, &Scale{}, nil},
		{"binding", `{"apiVersion":"v1","kind":"Binding","metadata":{"name":"p"},"target":{"kind":"Node","name":"n1"}}`, &Binding{}, nil},
		{"pod as yaml", "metadata:\n  name: p\nspec:\n  containers: [{name: c, image: i}]\n", &Pod{}, nil},
		{"kind mismatch", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"p"}}`, &Pod{}, ErrUnknownKind},
		{"unknown field", `{"spec":{"replicas":5,"extra":1}}`, &Scale{}, ErrUnknownField},
		{"unknown inline field", `{"metadata":{"name":"p"},"kindd":"Pod"}`, &Pod{}, ErrUnknownField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := DecodeInto([]byte(tt.doc), tt.obj)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && tt.obj.GetObjectMeta().Name == "" && tt.name != "scale without type meta" {
				t.Errorf("name not decoded: %+v", tt.obj)
			}
		})
	}
	var s Scale
	if err := DecodeInto([]byte(`{"spec":{"replicas":5}}`), &s); err != nil || s.Spec.Replicas != 5 {
		t.Errorf("scale: %v, replicas %d", err, s.Spec.Replicas)
	}
	var opts DeleteOptions
	if err := UnmarshalStrict([]byte(`{"propagationPolicy":"Foreground","gracePeriodSecond":3}`), &opts); !errors.Is(err, ErrUnknownField) || !strings.Contains(err.Error(), `"gracePeriodSecond"`) {
		t.Errorf("UnmarshalStrict: %v, want unknown field gracePeriodSecond", err)
	}
}

func TestSplitDocuments(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"single", "a: 1\n", []string{"a: 1\n"}},
		{"leading separator", "---\na: 1\n", []string{"a: 1\n"}},
		{"empty and comment docs", "# c\n---\n\n---\na: 1\n---\n# only\n---\nb: 2", []string{"a: 1\n", "b: 2"}},
		{"inline start after separator", "a: 1\n--- {b: 2}\n", []string{"a: 1\n", "{b: 2}\n"}},
		{"not a separator", "a: |\n  ----\n  x\n", []string{"a: |\n  ----\n  x\n"}},
		{"crlf", "a: 1\r\n---\r\nb: 2\r\n", []string{"a: 1\r\n", "b: 2\r\n"}},
		{"document end marker", "a: 1\n...\n", []string{"a: 1\n"}},
		{"json stream", "{\"a\":1}\n{\"b\":2} {\"c\":3}", []string{`{"a":1}`, `{"b":2}`, `{"c":3}`}},
		{"nothing", "\n# nothing\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := SplitDocuments(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != len(tt.want) {
				t.Fatalf("got %d documents %q, want %d", len(docs), docs, len(tt.want))
			}
			for i := range docs {
				if string(docs[i]) != tt.want[i] {
					t.Errorf("doc %d = %q, want %q", i, docs[i], tt.want[i])
				}
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c"}]}}`,
		"apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 2\n",
		"apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, err := DecodeAll(data)
		if err != nil {
			return
		}
		for _, o := range objs {
			if _, err := json.Marshal(o); err != nil {
				t.Fatalf("decoded object does not encode: %v", err)
			}
		}
	})
}

// TestKubectlOutputRoundTrips checks that what kubectl writes comes back
// out of decode and encode unchanged (same JSON tree): no field dropped,
// no empty field added, the same omitempty choices as Kubernetes.
func TestKubectlOutputRoundTrips(t *testing.T) {
	for _, name := range []string{"kubectl-create-all.yaml", "kubectl-create-deployment.yaml", "kubectl-create-deployment-json.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		docs, err := SplitDocuments(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		for i, d := range docs {
			t.Run(fmt.Sprintf("%s#%d", name, i+1), func(t *testing.T) {
				j, tree, err := parseDocument(d)
				if err != nil {
					t.Fatal(err)
				}
				var want any
				if err := json.Unmarshal(j, &want); err != nil {
					t.Fatal(err)
				}
				obj, err := decodeTree(j, tree)
				if err != nil {
					t.Fatal(err)
				}
				out, err := json.Marshal(obj)
				if err != nil {
					t.Fatal(err)
				}
				var got any
				if err := json.Unmarshal(out, &got); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("round trip changed the document:\n got %s\nwant %s", out, j)
				}
			})
		}
	}
}
