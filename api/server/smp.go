package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// Strategic merge patch (application/strategic-merge-patch+json), the patch
// type `kubectl apply` and `kubectl edit` send.
//
// Written here rather than imported: the Kubernetes implementation lives in
// k8s.io/apimachinery/pkg/util/strategicpatch, which pulls in the whole
// apimachinery tree (runtime.Scheme, kube-openapi, ...) for one function.
// This one reads the same struct tags (`patchStrategy`, `patchMergeKey`)
// from the Go types of api/types.
//
// Supported: maps merge recursively and a null value deletes a key; lists
// are replaced unless their field has patchStrategy "merge", in which case
// lists of objects merge by patchMergeKey and lists of scalars are unioned;
// the directives `$patch: replace|delete|merge` (on a map and as a list
// element), `$retainKeys`, `$setElementOrder/<field>` and
// `$deleteFromPrimitiveList/<field>`.
//
// Not supported (documented differences from Kubernetes): `$setElementOrder`
// puts the listed elements first in the given order and keeps the others
// after them in their previous order, instead of interleaving them by their
// server-side position; the "replace" strategy of patchMergeKey-less lists of
// objects is treated as a plain replacement. Types that marshal themselves
// (Quantity, IntOrString, Time) are replaced as a whole, as in Kubernetes.

var errSMPDelete = errors.New("$patch: delete")

// jsonMarshalerType identifies types that are opaque to a patch.
var jsonMarshalerType = reflect.TypeFor[json.Marshaler]()

// smpField is what a patch needs to know about one field.
type smpField struct {
	typ      reflect.Type // dereferenced; nil when unknown
	merge    bool         // patchStrategy contains "merge"
	mergeKey string
}

var smpFieldCache sync.Map // reflect.Type -> map[string]smpField

// smpFields returns the JSON fields of struct type t, inline ones flattened.
func smpFields(t reflect.Type) map[string]smpField {
	if v, ok := smpFieldCache.Load(t); ok {
		return v.(map[string]smpField)
	}
	out := map[string]smpField{}
	collectSMPFields(t, out)
	smpFieldCache.Store(t, out)
	return out
}

func collectSMPFields(t reflect.Type, out map[string]smpField) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		ft := deref(f.Type)
		if f.Anonymous && (name == "" || strings.Contains(opts, "inline")) && ft.Kind() == reflect.Struct {
			collectSMPFields(ft, out)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		sf := smpField{typ: ft, mergeKey: f.Tag.Get("patchMergeKey")}
		for _, s := range strings.Split(f.Tag.Get("patchStrategy"), ",") {
			if s == "merge" {
				sf.merge = true
			}
		}
		out[name] = sf
	}
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// opaque reports whether values of t are replaced whole by a patch.
func opaque(t reflect.Type) bool {
	if t == nil {
		return false
	}
	return t.Implements(jsonMarshalerType) || reflect.PointerTo(t).Implements(jsonMarshalerType)
}

// fieldOf returns what is known of key inside a value of type t.
func fieldOf(t reflect.Type, key string) smpField {
	switch {
	case t == nil:
		return smpField{}
	case t.Kind() == reflect.Struct:
		return smpFields(t)[key]
	case t.Kind() == reflect.Map:
		return smpField{typ: deref(t.Elem())}
	}
	return smpField{}
}

// strategicMergePatch applies patch to the JSON document original, whose
// shape is described by the Go type t, and returns the patched document.
func strategicMergePatch(original, patch []byte, t reflect.Type) ([]byte, error) {
	var orig map[string]any
	if err := decodeJSONNumber(original, &orig); err != nil {
		return nil, fmt.Errorf("decode object: %w", err)
	}
	var p map[string]any
	if err := decodeJSONNumber(patch, &p); err != nil {
		return nil, fmt.Errorf("decode strategic merge patch: %w", err)
	}
	if p == nil {
		return nil, errors.New("strategic merge patch must be a JSON object")
	}
	if orig == nil {
		orig = map[string]any{}
	}
	out, err := smpMergeMap(orig, p, deref(t))
	if errors.Is(err, errSMPDelete) {
		return nil, errors.New("a strategic merge patch cannot delete the whole object ($patch: delete at the top level)")
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

func decodeJSONNumber(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// smpMergeMap merges patch into orig (which it may modify). It returns
// errSMPDelete when the patch deletes the map.
func smpMergeMap(orig, patch map[string]any, t reflect.Type) (map[string]any, error) {
	if d, ok := patch["$patch"]; ok {
		switch d {
		case "replace":
			return smpStrip(patch, t)
		case "delete":
			return nil, errSMPDelete
		case "merge":
		default:
			return nil, fmt.Errorf("unknown $patch directive %v (want replace, delete or merge)", d)
		}
	}
	if opaque(t) {
		return smpStrip(patch, nil)
	}
	var orders, deletes map[string][]any
	for key, pv := range patch {
		switch {
		case key == "$patch" || key == "$retainKeys":
			continue
		case strings.HasPrefix(key, "$setElementOrder/"):
			l, ok := pv.([]any)
			if !ok {
				return nil, fmt.Errorf("%s must be a list", key)
			}
			if orders == nil {
				orders = map[string][]any{}
			}
			orders[strings.TrimPrefix(key, "$setElementOrder/")] = l
			continue
		case strings.HasPrefix(key, "$deleteFromPrimitiveList/"):
			l, ok := pv.([]any)
			if !ok {
				return nil, fmt.Errorf("%s must be a list", key)
			}
			if deletes == nil {
				deletes = map[string][]any{}
			}
			deletes[strings.TrimPrefix(key, "$deleteFromPrimitiveList/")] = l
			continue
		case strings.HasPrefix(key, "$"):
			return nil, fmt.Errorf("unknown strategic merge patch directive %q", key)
		}
		if pv == nil {
			delete(orig, key)
			continue
		}
		f := fieldOf(t, key)
		switch v := pv.(type) {
		case map[string]any:
			om, _ := orig[key].(map[string]any)
			if om == nil {
				om = map[string]any{}
			}
			merged, err := smpMergeMap(om, v, f.typ)
			if errors.Is(err, errSMPDelete) {
				delete(orig, key)
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			orig[key] = merged
		case []any:
			ol, _ := orig[key].([]any)
			merged, err := smpMergeList(ol, v, f)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			orig[key] = merged
		default:
			orig[key] = pv
		}
	}
	for key, values := range deletes {
		l, _ := orig[key].([]any)
		kept := l[:0:0]
		for _, e := range l {
			if !containsScalar(values, e) {
				kept = append(kept, e)
			}
		}
		orig[key] = kept
	}
	for key, order := range orders {
		l, ok := orig[key].([]any)
		if !ok {
			continue
		}
		orig[key] = smpOrder(l, order, fieldOf(t, key).mergeKey)
	}
	if rk, ok := patch["$retainKeys"]; ok {
		keys, ok := rk.([]any)
		if !ok {
			return nil, errors.New("$retainKeys must be a list of field names")
		}
		for k := range orig {
			if !containsScalar(keys, k) {
				delete(orig, k)
			}
		}
	}
	return orig, nil
}

// smpMergeList merges the patch list into orig as the field's strategy says.
func smpMergeList(orig, patch []any, f smpField) ([]any, error) {
	var elem reflect.Type
	if f.typ != nil && f.typ.Kind() == reflect.Slice {
		elem = deref(f.typ.Elem())
	}
	// A {"$patch": "replace"} element replaces the whole list.
	for _, e := range patch {
		if m, ok := e.(map[string]any); ok && m["$patch"] == "replace" {
			var out []any
			for _, e := range patch {
				if m, ok := e.(map[string]any); ok && m["$patch"] == "replace" {
					continue
				}
				s, err := smpStripValue(e, elem)
				if err != nil {
					return nil, err
				}
				out = append(out, s)
			}
			return nonNil(out), nil
		}
	}
	if !f.merge {
		out := make([]any, 0, len(patch))
		for _, e := range patch {
			s, err := smpStripValue(e, elem)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	out := append(make([]any, 0, len(orig)+len(patch)), orig...)
	if f.mergeKey == "" {
		for _, e := range patch {
			if _, isMap := e.(map[string]any); isMap {
				return nil, errors.New("a list merged as scalars holds an object (no patchMergeKey)")
			}
			if !containsScalar(out, e) {
				out = append(out, e)
			}
		}
		return out, nil
	}
	for _, e := range patch {
		pm, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("list merged by %q holds a non-object element", f.mergeKey)
		}
		kv, ok := pm[f.mergeKey]
		if !ok {
			return nil, fmt.Errorf("list element does not contain the merge key %q", f.mergeKey)
		}
		idx := -1
		for i, o := range out {
			if om, ok := o.(map[string]any); ok && scalarEqual(om[f.mergeKey], kv) {
				idx = i
				break
			}
		}
		if pm["$patch"] == "delete" {
			if idx >= 0 {
				out = append(out[:idx], out[idx+1:]...)
			}
			continue
		}
		base := map[string]any{}
		if idx >= 0 {
			base, _ = out[idx].(map[string]any)
			if base == nil {
				base = map[string]any{}
			}
		}
		merged, err := smpMergeMap(base, pm, elem)
		if errors.Is(err, errSMPDelete) {
			if idx >= 0 {
				out = append(out[:idx], out[idx+1:]...)
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		if idx >= 0 {
			out[idx] = merged
		} else {
			out = append(out, merged)
		}
	}
	return out, nil
}

// smpOrder reorders l: the elements named by order first, in that order,
// then the rest in their current order.
func smpOrder(l, order []any, mergeKey string) []any {
	id := func(e any) any {
		if m, ok := e.(map[string]any); ok && mergeKey != "" {
			return m[mergeKey]
		}
		return e
	}
	out := make([]any, 0, len(l))
	used := make([]bool, len(l))
	for _, o := range order {
		want := id(o)
		for i, e := range l {
			if !used[i] && scalarEqual(id(e), want) {
				out = append(out, e)
				used[i] = true
				break
			}
		}
	}
	for i, e := range l {
		if !used[i] {
			out = append(out, e)
		}
	}
	return out
}

// smpStrip returns m without patch directives (recursively), for values a
// patch sets rather than merges.
func smpStrip(m map[string]any, t reflect.Type) (map[string]any, error) {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if strings.HasPrefix(k, "$") {
			continue
		}
		s, err := smpStripValue(v, fieldOf(t, k).typ)
		if err != nil {
			return nil, err
		}
		out[k] = s
	}
	return out, nil
}

func smpStripValue(v any, t reflect.Type) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		return smpStrip(v, t)
	case []any:
		var elem reflect.Type
		if t != nil && t.Kind() == reflect.Slice {
			elem = deref(t.Elem())
		}
		out := make([]any, 0, len(v))
		for _, e := range v {
			s, err := smpStripValue(e, elem)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}
	return v, nil
}

func nonNil(l []any) []any {
	if l == nil {
		return []any{}
	}
	return l
}

func containsScalar(l []any, v any) bool {
	for _, e := range l {
		if scalarEqual(e, v) {
			return true
		}
	}
	return false
}

// scalarEqual compares two decoded JSON scalars; objects and lists are
// never equal.
func scalarEqual(a, b any) bool {
	switch a.(type) {
	case map[string]any, []any:
		return false
	}
	switch b.(type) {
	case map[string]any, []any:
		return false
	}
	return a == b
}
