package main

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// The strategic merge patch `wharf apply` sends, as `kubectl apply` does:
// the manifest, plus the removal of what the last applied manifest set and
// this one no longer sets, plus the directives the Go types of api/types
// ask for through their struct tags:
//
//   - lists tagged patchStrategy "merge" merge by patchMergeKey on the
//     server, so that fields others set in an element (a port's nodePort, a
//     container's defaults) stay; an element the last apply set and the
//     manifest dropped goes with {"$patch": "delete", key: value}, a scalar
//     with "$deleteFromPrimitiveList/<field>"; "$setElementOrder/<field>"
//     keeps the manifest's order;
//   - maps tagged patchStrategy "retainKeys" (a Deployment's strategy, the
//     elements of a Pod's volumes) send "$retainKeys", so that switching to
//     Recreate drops rollingUpdate;
//   - other lists are replaced, maps merge key by key.
//
// Written here rather than imported: the Kubernetes implementation
// (k8s.io/apimachinery/pkg/util/strategicpatch) pulls in the whole
// apimachinery tree; api/server has the server half (applying a patch).

// patchField is what apply needs to know about one field.
type patchField struct {
	typ        reflect.Type // dereferenced; nil when unknown
	merge      bool         // patchStrategy contains "merge"
	mergeKey   string
	retainKeys bool // patchStrategy contains "retainKeys"
}

var (
	patchFieldCache sync.Map // reflect.Type -> map[string]patchField
	jsonMarshaler   = reflect.TypeFor[json.Marshaler]()
)

// patchFieldOf describes the value under key in a JSON object of Go type t
// (a struct, or a map whose values are all of one type).
func patchFieldOf(t reflect.Type, key string) patchField {
	if t == nil || opaqueType(t) {
		return patchField{}
	}
	switch t.Kind() {
	case reflect.Map:
		return patchField{typ: derefType(t.Elem())}
	case reflect.Struct:
	default:
		return patchField{}
	}
	if v, ok := patchFieldCache.Load(t); ok {
		return v.(map[string]patchField)[key]
	}
	fields := map[string]patchField{}
	collectPatchFields(t, fields)
	patchFieldCache.Store(t, fields)
	return fields[key]
}

func collectPatchFields(t reflect.Type, out map[string]patchField) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		ft := derefType(f.Type)
		if f.Anonymous && (name == "" || strings.Contains(opts, "inline")) && ft.Kind() == reflect.Struct {
			collectPatchFields(ft, out)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		strategy := strings.Split(f.Tag.Get("patchStrategy"), ",")
		out[name] = patchField{typ: ft, merge: slices.Contains(strategy, "merge"),
			mergeKey: f.Tag.Get("patchMergeKey"), retainKeys: slices.Contains(strategy, "retainKeys")}
	}
}

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// opaqueType reports types that marshal themselves (Quantity, Time,
// IntOrString): a patch replaces them whole.
func opaqueType(t reflect.Type) bool {
	return t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler)
}

// elemType is the type of the elements of a list field.
func (f patchField) elemType() reflect.Type {
	if f.typ == nil || f.typ.Kind() != reflect.Slice {
		return nil
	}
	return derefType(f.typ.Elem())
}

// applyPatch returns the strategic merge patch that makes an object of Go
// type t match modified, original being the manifest applied last (nil if
// none).
func applyPatch(original, modified map[string]any, t reflect.Type) map[string]any {
	out := make(map[string]any, len(modified))
	for k, mv := range modified {
		f := patchFieldOf(t, k)
		switch m := mv.(type) {
		case map[string]any:
			if f.typ != nil && opaqueType(f.typ) {
				out[k] = m
				continue
			}
			om, _ := original[k].(map[string]any)
			p := applyPatch(om, m, f.typ)
			if f.retainKeys {
				p["$retainKeys"] = sortedKeys(m) // drops the other keys
				for pk := range p {
					if _, set := m[pk]; !set && !strings.HasPrefix(pk, "$") {
						delete(p, pk)
					}
				}
			}
			out[k] = p
		case []any:
			if !f.merge {
				out[k] = m // replaced whole
				continue
			}
			ol, _ := original[k].([]any)
			if f.mergeKey == "" {
				out[k] = m // merged as a set on the server
				out["$setElementOrder/"+k] = m
				var gone []any
				for _, o := range ol {
					if !slices.ContainsFunc(m, func(v any) bool { return reflect.DeepEqual(v, o) }) {
						gone = append(gone, o)
					}
				}
				if len(gone) > 0 {
					out["$deleteFromPrimitiveList/"+k] = gone
				}
				continue
			}
			out[k], out["$setElementOrder/"+k] = mergeListPatch(ol, m, f)
		default:
			out[k] = mv
		}
	}
	for k, ov := range original {
		if _, kept := modified[k]; kept {
			continue
		}
		f := patchFieldOf(t, k)
		if om, ok := ov.(map[string]any); ok && (f.typ == nil || !opaqueType(f.typ)) {
			// The map is gone as a whole: remove only the keys the last
			// apply set in it, not those others added (labels,
			// annotations of controllers).
			if p := applyPatch(om, map[string]any{}, f.typ); len(p) > 0 {
				out[k] = p
			}
			continue
		}
		if ol, ok := ov.([]any); ok && f.merge && f.mergeKey != "" {
			// Likewise for the elements of a merged list.
			if p, _ := mergeListPatch(ol, nil, f); len(p) > 0 {
				out[k] = p
			}
			continue
		}
		out[k] = nil
	}
	return out
}

// mergeListPatch is the patch of a list merged by f.mergeKey: the
// elements of modified (each a patch against the element of original with
// the same key), then a delete directive for each element of original
// whose key modified no longer has; and the element order to keep.
func mergeListPatch(original, modified []any, f patchField) (patch, order []any) {
	key := f.mergeKey
	patch, order = []any{}, []any{}
	for _, mv := range modified {
		m, ok := mv.(map[string]any)
		if !ok {
			patch = append(patch, mv) // not an object: let the server say so
			continue
		}
		var om map[string]any
		for _, ov := range original {
			if o, ok := ov.(map[string]any); ok && reflect.DeepEqual(o[key], m[key]) {
				om = o
			}
		}
		p := applyPatch(om, m, f.elemType())
		p[key] = m[key]
		if f.retainKeys {
			p["$retainKeys"] = sortedKeys(m) // a volume's other sources go
		}
		patch = append(patch, p)
		order = append(order, map[string]any{key: m[key]})
	}
	for _, ov := range original {
		o, ok := ov.(map[string]any)
		if !ok || o[key] == nil {
			continue
		}
		if !slices.ContainsFunc(modified, func(mv any) bool {
			m, ok := mv.(map[string]any)
			return ok && reflect.DeepEqual(m[key], o[key])
		}) {
			patch = append(patch, map[string]any{"$patch": "delete", key: o[key]})
		}
	}
	return patch, order
}

// hasRemovals reports whether a patch removes anything: a null, a delete
// directive or a list of scalars to delete.
func hasRemovals(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case map[string]any:
		if v["$patch"] == "delete" {
			return true
		}
		for k, e := range v {
			if strings.HasPrefix(k, "$deleteFromPrimitiveList/") {
				return true
			}
			if strings.HasPrefix(k, "$") {
				continue
			}
			if hasRemovals(e) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if m, ok := e.(map[string]any); ok && hasRemovals(m) {
				return true
			}
		}
	}
	return false
}

// containsTyped reports whether live holds every value of want (a
// manifest) for an object of Go type t: maps may have more keys, merged
// lists more elements (matched by key), other lists the same length
// element by element.
func containsTyped(have, want any, t reflect.Type) bool {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return len(w) == 0 && have == nil
		}
		for k, wv := range w {
			f := patchFieldOf(t, k)
			wl, isList := wv.([]any)
			if !isList || !f.merge {
				if !containsTyped(h[k], wv, f.typ) {
					return false
				}
				continue
			}
			hl, _ := h[k].([]any)
			for _, we := range wl {
				if !slices.ContainsFunc(hl, func(he any) bool {
					if f.mergeKey == "" {
						return reflect.DeepEqual(he, we)
					}
					wm, _ := we.(map[string]any)
					hm, _ := he.(map[string]any)
					return wm != nil && hm != nil && reflect.DeepEqual(hm[f.mergeKey], wm[f.mergeKey]) &&
						containsTyped(hm, wm, f.elemType())
				}) {
					return false
				}
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok {
			return len(w) == 0 && have == nil
		}
		if len(h) != len(w) {
			return false
		}
		var et reflect.Type
		if t != nil && t.Kind() == reflect.Slice {
			et = derefType(t.Elem())
		}
		for i := range w {
			if !containsTyped(h[i], w[i], et) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(have, want)
}

// sortedKeys returns m's keys in order, as a JSON list.
func sortedKeys(m map[string]any) []any {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out
}
