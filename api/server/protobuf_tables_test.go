package server

import (
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/types"
)

// protobufNoProto lists the JSON fields of the decoded kinds' Go types
// that have no protobuf form, by Go type and JSON name, with the reason.
// A field added to api/types must get a table entry (rerun
// protobuf_gen.go) or an entry here; it is empty while every field has a
// proto form.
var protobufNoProto = map[string]string{}

// goTypeForKind returns the Go type of apiVersion/kind: a registered
// resource's or a conversion's.
func goTypeForKind(t *testing.T, gvk string) reflect.Type {
	t.Helper()
	i := strings.LastIndex(gvk, "/")
	apiVersion, kind := gvk[:i], gvk[i+1:]
	if r, ok := types.ResourceForKind(apiVersion, kind); ok {
		return reflect.TypeOf(r.New()).Elem()
	}
	for _, r := range types.Resources() {
		for _, c := range types.ConversionsOf(r) {
			if r.Kind == kind && (r.Group+"/"+c.Version == apiVersion || r.Group == "" && c.Version == apiVersion) {
				return reflect.TypeOf(c.New()).Elem()
			}
		}
	}
	t.Fatalf("%s is decoded from protobuf but is no served kind", gvk)
	return nil
}

// TestProtobufTablesCoverTypes walks the Go types of every kind decoded
// from protobuf together with its message table: every JSON field of the
// types has a table entry of a matching shape, and every table entry names
// a field of the types (strict decoding would refuse any other).
func TestProtobufTablesCoverTypes(t *testing.T) {
	var (
		timeType     = reflect.TypeFor[types.Time]()
		quantityType = reflect.TypeFor[types.Quantity]()
		intstrType   = reflect.TypeFor[types.IntOrString]()
		rawType      = reflect.TypeFor[json.RawMessage]()
		typeMetaType = reflect.TypeFor[types.TypeMeta]()
	)
	var walk func(t *testing.T, gt reflect.Type, m pmsg, path string)
	// check matches one Go field with its table entry.
	check := func(t *testing.T, ft reflect.Type, fd pfield, path string) {
		pointer := ft.Kind() == reflect.Pointer
		if pointer {
			ft = ft.Elem()
		}
		if fd.kind == pSkip {
			return
		}
		isSlice := ft.Kind() == reflect.Slice && ft.Elem().Kind() != reflect.Uint8 && ft != rawType
		if isSlice != fd.rep {
			t.Errorf("%s: Go %v, table repeated=%v", path, ft, fd.rep)
			return
		}
		if isSlice {
			ft = ft.Elem()
		}
		if pointer && !fd.keepZero {
			t.Errorf("%s: a pointer field (set means written, even zero) is not keepZero", path)
		}
		want := map[reflect.Kind]pkind{reflect.String: pString, reflect.Bool: pBool, reflect.Int32: pInt, reflect.Int64: pInt}
		switch {
		case ft == timeType && fd.kind == pTime, ft == quantityType && fd.kind == pQuantity,
			ft == intstrType && fd.kind == pIntOrString:
		case ft.Kind() == reflect.Map:
			switch {
			case ft.Elem() == quantityType && fd.kind == pMapQuantity:
			case ft.Elem().Kind() == reflect.String && fd.kind == pMapString:
			case ft.Elem().Kind() == reflect.Slice && fd.kind == pMapBytes:
			default:
				t.Errorf("%s: Go %v, table kind %d", path, ft, fd.kind)
			}
		case ft.Kind() == reflect.Slice && fd.kind == pBytes:
		case ft.Kind() == reflect.Struct && fd.kind == pMsg:
			walk(t, ft, fd.msg, path)
		case isScalar(want, ft.Kind(), fd.kind):
		default:
			t.Errorf("%s: Go %v, table kind %d", path, ft, fd.kind)
		}
	}
	walk = func(t *testing.T, gt reflect.Type, m pmsg, path string) {
		used := map[uint64]bool{}
		byName := map[string]uint64{}
		for num, fd := range m {
			byName[fd.name] = num
			if fd.kind == pUnsupported {
				used[num] = true // a Kubernetes field Wharf does not model
			}
		}
		for i := 0; i < gt.NumField(); i++ {
			f := gt.Field(i)
			if !f.IsExported() || f.Type == typeMetaType {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if f.Anonymous && (name == "" || strings.Contains(opts, "inline")) {
				found := false
				for num, fd := range m {
					if fd.inline && reflect.DeepEqual(fieldNames(fd.msg), jsonNames(f.Type)) {
						used[num], found = true, true
						walk(t, f.Type, fd.msg, path)
					}
				}
				if !found {
					t.Errorf("%s: inline %v has no inline table entry", path, f.Type)
				}
				continue
			}
			fpath := path + "." + name
			num, ok := byName[name]
			if ok && m[num].kind == pUnsupported {
				t.Errorf("%s (Go %v.%s) is marked unsupported in the protobuf tables: rerun protobuf_gen.go", fpath, gt, f.Name)
				continue
			}
			if !ok {
				if _, allowed := protobufNoProto[gt.Name()+"."+name]; !allowed {
					t.Errorf("%s (Go %v.%s) has no protobuf table entry: rerun protobuf_gen.go", fpath, gt, f.Name)
				}
				continue
			}
			used[num] = true
			check(t, f.Type, m[num], fpath)
		}
		for num, fd := range m {
			if !used[num] {
				t.Errorf("%s: table field %d %q is no JSON field of Go %v", path, num, fd.name, gt)
			}
		}
	}
	kinds := make([]string, 0, len(protobufKinds))
	for k := range protobufKinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, gvk := range kinds {
		t.Run(gvk, func(t *testing.T) {
			walk(t, goTypeForKind(t, gvk), protobufKinds[gvk], gvk)
		})
	}
}

// isScalar reports whether Go kind k is a scalar whose table kind is pk.
func isScalar(want map[reflect.Kind]pkind, k reflect.Kind, pk pkind) bool {
	w, ok := want[k]
	return ok && w == pk
}

// fieldNames returns the sorted JSON names of a table's fields that Wharf
// models.
func fieldNames(m pmsg) []string {
	var out []string
	for _, fd := range m {
		if fd.kind != pUnsupported {
			out = append(out, fd.name)
		}
	}
	sort.Strings(out)
	return out
}

// jsonNames returns the sorted JSON names of a struct's own fields.
func jsonNames(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// TestProtobufDecodeShapes decodes hand-built bodies of the shapes the
// generated tables must get right: a set empty message (emptyDir: {}), a
// pointer scalar set to zero, an inline message (a probe's handler, a
// volume's source), quantities, int-or-strings and the ignored
// managedFields.
func TestProtobufDecodeShapes(t *testing.T) {
	str := func(s string) []byte { return []byte(s) }
	intstr := func(v uint64) pb { return pb{}.varint(1, 0).varint(2, v) }
	probe := pb{}.bytes(1, pb{}.bytes(2, pb{}.bytes(2, intstr(8080)).bytes(1, str("/healthz")))).varint(3, 2)
	container := pb{}.bytes(1, str("c")).bytes(2, str("busybox")).bytes(10, probe).
		bytes(8, pb{}.bytes(1, pb{}.bytes(1, str("cpu")).bytes(2, pb{}.bytes(1, str("500m")))))
	volume := pb{}.bytes(1, str("scratch")).bytes(2, pb{}.bytes(2, nil))
	podSpec := pb{}.bytes(1, volume).bytes(2, container).varint(4, 0).varint(30, 0)
	meta := pb{}.bytes(1, str("j")).bytes(17, pb{}.bytes(1, str("kubectl")))
	body := envelope("batch/v1", "Job", pb{}.bytes(1, meta).bytes(2, pb{}.bytes(6, pb{}.bytes(2, podSpec))))
	got, err := protobufToJSON(body)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j"},"spec":{"template":{"spec":{` +
		`"containers":[{"image":"busybox","livenessProbe":{"httpGet":{"path":"/healthz","port":8080},"timeoutSeconds":2},` +
		`"name":"c","resources":{"limits":{"cpu":"500m"}}}],"enableServiceLinks":false,"terminationGracePeriodSeconds":0,` +
		`"volumes":[{"emptyDir":{},"name":"scratch"}]}}}}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	var job types.Job
	if err := decodeObject(got, &job); err != nil {
		t.Fatalf("the JSON does not decode strictly as a Job: %v", err)
	}
}
