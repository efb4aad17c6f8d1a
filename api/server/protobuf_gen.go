//go:build ignore

// protobuf_gen writes protobuf_tables.go: the field tables protobuf.go
// decodes Kubernetes protobuf bodies with, for every field the Go types of
// api/types model, with the field numbers of Kubernetes' generated.proto
// files. It walks the Go types reflectively (as the test in
// protobuf_tables_test.go does) and fails on a Go field that has no proto
// field of the same JSON name and a compatible type.
//
// Run from the module root, with the k8s.io/api and k8s.io/apimachinery
// modules of the Kubernetes version Wharf follows in the module cache
// (`go mod download k8s.io/api@v0.32.0 k8s.io/apimachinery@v0.32.0` in any
// module; they are not dependencies of Wharf):
//
//	go run api/server/protobuf_gen.go \
//	    -api $(go env GOMODCACHE)/k8s.io/api@v0.32.0 \
//	    -apimachinery $(go env GOMODCACHE)/k8s.io/apimachinery@v0.32.0 \
//	    > api/server/protobuf_tables.go && gofmt -w api/server/protobuf_tables.go
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/wharfhq/wharf/api/types"
)

// roots are the kinds decoded from protobuf: the kinds kubectl creates
// with its typed clients (which send protobuf), and the workloads and
// autoscalers beside them.
var roots = []struct {
	gvk   string // apiVersion/Kind
	goTyp any
	msg   string
}{
	{"v1/Namespace", types.Namespace{}, "k8s.io.api.core.v1.Namespace"},
	{"v1/ConfigMap", types.ConfigMap{}, "k8s.io.api.core.v1.ConfigMap"},
	{"v1/Secret", types.Secret{}, "k8s.io.api.core.v1.Secret"},
	{"v1/ServiceAccount", types.ServiceAccount{}, "k8s.io.api.core.v1.ServiceAccount"},
	{"v1/Service", types.Service{}, "k8s.io.api.core.v1.Service"},
	{"v1/Pod", types.Pod{}, "k8s.io.api.core.v1.Pod"},
	{"apps/v1/Deployment", types.Deployment{}, "k8s.io.api.apps.v1.Deployment"},
	{"apps/v1/ReplicaSet", types.ReplicaSet{}, "k8s.io.api.apps.v1.ReplicaSet"},
	{"apps/v1/StatefulSet", types.StatefulSet{}, "k8s.io.api.apps.v1.StatefulSet"},
	{"apps/v1/DaemonSet", types.DaemonSet{}, "k8s.io.api.apps.v1.DaemonSet"},
	{"batch/v1/Job", types.Job{}, "k8s.io.api.batch.v1.Job"},
	{"batch/v1/CronJob", types.CronJob{}, "k8s.io.api.batch.v1.CronJob"},
	{"networking.k8s.io/v1/Ingress", types.Ingress{}, "k8s.io.api.networking.v1.Ingress"},
	{"autoscaling/v1/HorizontalPodAutoscaler", types.HorizontalPodAutoscalerV1{}, "k8s.io.api.autoscaling.v1.HorizontalPodAutoscaler"},
	{"autoscaling/v2/HorizontalPodAutoscaler", types.HorizontalPodAutoscaler{}, "k8s.io.api.autoscaling.v2.HorizontalPodAutoscaler"},
}

type protoField struct {
	num            int
	name, typ      string // typ fully qualified for messages
	repeated       bool
	mapKey, mapVal string
}

type protoMsg struct {
	full   string
	fields []protoField
}

var (
	msgs    = map[string]*protoMsg{}
	fieldRe = regexp.MustCompile(`^\s*(optional|repeated)\s+(\S+)\s+(\w+)\s*=\s*(\d+);`)
	mapRe   = regexp.MustCompile(`^\s*map<\s*(\S+)\s*,\s*(\S+)\s*>\s+(\w+)\s*=\s*(\d+);`)
)

func parseProto(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var pkg string
	var cur *protoMsg
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "//") || t == "":
		case strings.HasPrefix(t, "package "):
			pkg = strings.TrimSuffix(strings.TrimPrefix(t, "package "), ";")
		case strings.HasPrefix(line, "message "):
			name := strings.Fields(line)[1]
			cur = &protoMsg{full: pkg + "." + name}
			msgs[cur.full] = cur
		case line == "}":
			cur = nil
		case cur != nil:
			qualify := func(typ string) string {
				if strings.HasPrefix(typ, ".") {
					return typ[1:]
				}
				if scalars[typ] {
					return typ
				}
				return pkg + "." + typ
			}
			if m := fieldRe.FindStringSubmatch(line); m != nil {
				var num int
				fmt.Sscan(m[4], &num)
				cur.fields = append(cur.fields, protoField{num: num, name: m[3], typ: qualify(m[2]), repeated: m[1] == "repeated"})
			} else if m := mapRe.FindStringSubmatch(line); m != nil {
				var num int
				fmt.Sscan(m[4], &num)
				cur.fields = append(cur.fields, protoField{num: num, name: m[3], typ: "map", mapKey: m[1], mapVal: qualify(m[2])})
			} else if !strings.HasPrefix(t, "option ") && !strings.HasPrefix(t, "reserved ") {
				return fmt.Errorf("%s: cannot parse %q in message %s", path, line, cur.full)
			}
		}
	}
	return sc.Err()
}

var scalars = map[string]bool{"string": true, "bytes": true, "bool": true, "int32": true, "int64": true,
	"uint32": true, "uint64": true, "double": true, "float": true}

const (
	timeMsg     = "k8s.io.apimachinery.pkg.apis.meta.v1.Time"
	quantityMsg = "k8s.io.apimachinery.pkg.api.resource.Quantity"
	intstrMsg   = "k8s.io.apimachinery.pkg.util.intstr.IntOrString"
)

var (
	timeType     = reflect.TypeFor[types.Time]()
	quantityType = reflect.TypeFor[types.Quantity]()
	intstrType   = reflect.TypeFor[types.IntOrString]()
	rawType      = reflect.TypeFor[json.RawMessage]()
	typeMetaType = reflect.TypeFor[types.TypeMeta]()
)

// generated holds the Go source of each message table by variable name.
var (
	generated = map[string]string{}
	goTypeOf  = map[string]reflect.Type{}
	errs      []string
)

func varName(full string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(full, "k8s.io.api."), "k8s.io.apimachinery.pkg.apis.")
	var b strings.Builder
	b.WriteString("p")
	for _, part := range strings.Split(s, ".") {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func jsonName(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("json")
	name, opts, _ := strings.Cut(tag, ",")
	if name == "-" {
		return "", false
	}
	inline := f.Anonymous && (name == "" || strings.Contains(opts, "inline"))
	return name, inline
}

// gen generates the table of message full for Go struct type t and
// returns its variable name.
func gen(t reflect.Type, full string) string {
	v := varName(full)
	if have, ok := goTypeOf[v]; ok {
		if have != t {
			errs = append(errs, fmt.Sprintf("%s is used for both %v and %v", full, have, t))
		}
		return v
	}
	goTypeOf[v] = t
	m, ok := msgs[full]
	if !ok {
		errs = append(errs, fmt.Sprintf("no proto message %s (for %v)", full, t))
		return v
	}
	var entries []string
	matched := map[int]bool{}
	var walk func(t reflect.Type, path string)
	walk = func(t reflect.Type, path string) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() || f.Type == typeMetaType {
				continue
			}
			name, inline := jsonName(f)
			if inline {
				ft := f.Type
				var pf *protoField
				for j := range m.fields {
					if strings.HasSuffix(m.fields[j].typ, "."+ft.Name()) {
						pf = &m.fields[j]
					}
				}
				if pf == nil {
					errs = append(errs, fmt.Sprintf("%s.%s: inline %s has no proto field of its type", full, path, ft.Name()))
					continue
				}
				sub := gen(ft, pf.typ)
				matched[pf.num] = true
				entries = append(entries, fmt.Sprintf("%d: fi(%q, %s)", pf.num, pf.name, sub))
				continue
			}
			var pf *protoField
			for j := range m.fields {
				if m.fields[j].name == name {
					pf = &m.fields[j]
				}
			}
			if pf == nil {
				errs = append(errs, fmt.Sprintf("%s: Go field %v.%s (json %q) has no proto field", full, t, f.Name, name))
				continue
			}
			matched[pf.num] = true
			entries = append(entries, fmt.Sprintf("%d: %s", pf.num, entry(f.Type, *pf, full)))
		}
	}
	walk(t, "")
	// The fields Wharf does not model, named for the error refusing them.
	for _, pf := range m.fields {
		if !matched[pf.num] {
			entries = append(entries, fmt.Sprintf("%d: fu(%q)", pf.num, pf.name))
		}
	}
	sort.Slice(entries, func(i, j int) bool {
		var a, b int
		fmt.Sscanf(entries[i], "%d", &a)
		fmt.Sscanf(entries[j], "%d", &b)
		return a < b
	})
	generated[v] = fmt.Sprintf("// %s (%v)\n%s = pmsg{%s}", v, t, v, strings.Join(entries, ", "))
	return v
}

// entry is the pfield expression of Go field type ft against proto field pf.
func entry(ft reflect.Type, pf protoField, where string) string {
	pointer := ft.Kind() == reflect.Pointer
	if pointer {
		ft = ft.Elem()
	}
	rep := false
	if ft.Kind() == reflect.Slice && ft.Elem().Kind() != reflect.Uint8 || ft == rawType {
		rep = true
		if ft != rawType {
			ft = ft.Elem()
		}
	}
	bad := func(want string) string {
		errs = append(errs, fmt.Sprintf("%s.%s: Go %v, proto %s (want %s)", where, pf.name, ft, pf.typ, want))
		return "pfield{}"
	}
	if rep != pf.repeated {
		return bad("repeated to match")
	}
	var kind string
	switch {
	case ft == rawType:
		return fmt.Sprintf("fs(%q)", pf.name)
	case ft == timeType:
		if pf.typ != timeMsg {
			return bad(timeMsg)
		}
		kind = "pTime"
	case ft == quantityType:
		if pf.typ != quantityMsg {
			return bad(quantityMsg)
		}
		kind = "pQuantity"
	case ft == intstrType:
		if pf.typ != intstrMsg {
			return bad(intstrMsg)
		}
		kind = "pIntOrString"
	case ft.Kind() == reflect.Map:
		if pf.typ != "map" || pf.mapKey != "string" {
			return bad("map<string, ...>")
		}
		switch {
		case ft.Elem() == quantityType && pf.mapVal == quantityMsg:
			kind = "pMapQuantity"
		case ft.Elem().Kind() == reflect.String && pf.mapVal == "string":
			kind = "pMapString"
		case ft.Elem().Kind() == reflect.Slice && ft.Elem().Elem().Kind() == reflect.Uint8 && pf.mapVal == "bytes":
			kind = "pMapBytes"
		default:
			return bad("a matching map value")
		}
	case ft.Kind() == reflect.Slice:
		if pf.typ != "bytes" {
			return bad("bytes")
		}
		kind = "pBytes"
	case ft.Kind() == reflect.String:
		if pf.typ != "string" {
			return bad("string")
		}
		kind = "pString"
	case ft.Kind() == reflect.Bool:
		if pf.typ != "bool" {
			return bad("bool")
		}
		kind = "pBool"
	case ft.Kind() == reflect.Int32 || ft.Kind() == reflect.Int64:
		if pf.typ != "int32" && pf.typ != "int64" {
			return bad("int32 or int64")
		}
		kind = "pInt"
	case ft.Kind() == reflect.Struct:
		if _, ok := msgs[pf.typ]; !ok {
			return bad("a message")
		}
		sub := gen(ft, pf.typ)
		switch {
		case rep:
			return fmt.Sprintf("fmr(%q, %s)", pf.name, sub)
		case pointer:
			// A set pointer is written even when empty (emptyDir: {}).
			return fmt.Sprintf("fmz(%q, %s)", pf.name, sub)
		}
		return fmt.Sprintf("fm(%q, %s)", pf.name, sub)
	default:
		return bad("a supported Go kind")
	}
	switch {
	case rep:
		return fmt.Sprintf("fr(%q, %s)", pf.name, kind)
	case pointer:
		// A set pointer is written even when zero (replicas: 0).
		return fmt.Sprintf("fz(%q, %s)", pf.name, kind)
	}
	return fmt.Sprintf("f(%q, %s)", pf.name, kind)
}

func main() {
	apiDir := flag.String("api", "", "directory of the k8s.io/api module")
	machDir := flag.String("apimachinery", "", "directory of the k8s.io/apimachinery module")
	flag.Parse()
	files := []string{
		filepath.Join(*machDir, "pkg/apis/meta/v1/generated.proto"),
		filepath.Join(*apiDir, "core/v1/generated.proto"),
		filepath.Join(*apiDir, "apps/v1/generated.proto"),
		filepath.Join(*apiDir, "batch/v1/generated.proto"),
		filepath.Join(*apiDir, "networking/v1/generated.proto"),
		filepath.Join(*apiDir, "autoscaling/v1/generated.proto"),
		filepath.Join(*apiDir, "autoscaling/v2/generated.proto"),
	}
	for _, f := range files {
		if err := parseProto(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	var kinds []string
	for _, r := range roots {
		v := gen(reflect.TypeOf(r.goTyp), r.msg)
		kinds = append(kinds, fmt.Sprintf("%q: %s,", r.gvk, v))
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		fmt.Fprintln(os.Stderr, strings.Join(errs, "\n"))
		os.Exit(1)
	}
	names := make([]string, 0, len(generated))
	for n := range generated {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	b.WriteString("// Code generated by protobuf_gen.go from the generated.proto files of k8s.io/api and k8s.io/apimachinery v0.32.0; DO NOT EDIT.\n\n")
	b.WriteString("package server\n\n")
	b.WriteString("// Message tables: field number to the JSON field of the api/types Go type\n// named in each comment.\nvar (\n")
	for _, n := range names {
		b.WriteString(generated[n] + "\n")
	}
	b.WriteString(")\n\n// protobufKinds are the kinds whose protobuf bodies are decoded, by\n// apiVersion and kind.\nvar protobufKinds = map[string]pmsg{\n")
	b.WriteString(strings.Join(kinds, "\n"))
	b.WriteString("\n}\n")
	out, err := format.Source(b.Bytes())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Stdout.Write(b.Bytes())
		os.Exit(1)
	}
	os.Stdout.Write(out)
}
