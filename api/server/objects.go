package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/storage"
)

// storageKey is where an object lives in the store.
func storageKey(r *types.Resource, namespace, name string) string {
	return storagePrefix(r, namespace) + name
}

// storagePrefix is the key prefix of a resource's objects, in one
// namespace or (namespace "") in all; it ends with "/".
func storagePrefix(r *types.Resource, namespace string) string {
	g := r.Group
	if g == "" {
		g = "core"
	}
	p := "/registry/" + g + "/" + r.Name + "/"
	if r.Namespaced && namespace != "" {
		p += namespace + "/"
	}
	return p
}

// decodeStored turns a stored value into an object of r, with its
// resourceVersion and type set.
func decodeStored(r *types.Resource, kv storage.KV) (types.Object, error) {
	obj := r.New()
	if err := json.Unmarshal(kv.Value, obj); err != nil {
		return nil, fmt.Errorf("decode stored %s at %q: %w", r.Kind, kv.Key, err)
	}
	setTypeMeta(obj, r)
	obj.GetObjectMeta().ResourceVersion = formatRV(kv.ModRevision)
	return obj, nil
}

// encodeForStore returns the stored form of obj: JSON without
// resourceVersion.
func encodeForStore(obj types.Object) ([]byte, error) {
	m := obj.GetObjectMeta()
	rv := m.ResourceVersion
	m.ResourceVersion = ""
	data, err := json.Marshal(obj)
	m.ResourceVersion = rv
	return data, err
}

func setTypeMeta(obj types.Object, r *types.Resource) {
	tm := obj.GetTypeMeta()
	tm.APIVersion, tm.Kind = r.APIVersion(), r.Kind
}

func formatRV(rev int64) string { return strconv.FormatInt(rev, 10) }

// parseRV parses a resourceVersion; "" is 0.
func parseRV(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	rv, err := strconv.ParseInt(s, 10, 64)
	if err != nil || rv < 0 {
		return 0, errBadRequest("invalid resourceVersion %q: a resourceVersion is a decimal revision number", s)
	}
	return rv, nil
}

// getObject reads one object; a missing one is a NotFound Status.
func (s *Server) getObject(ctx context.Context, r *types.Resource, namespace, name string) (types.Object, int64, error) {
	kv, err := s.store.Get(ctx, storageKey(r, namespace, name))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, 0, errNotFound(r, name)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("get %s %q: %w", qualifiedResource(r), name, err)
	}
	obj, err := decodeStored(r, kv)
	if err != nil {
		return nil, 0, err
	}
	return obj, kv.ModRevision, nil
}

// field returns the exported struct field name of obj (a pointer to a
// struct), if it has one.
func field(obj types.Object, name string) (reflect.Value, bool) {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	f := v.Elem().FieldByName(name)
	return f, f.IsValid() && f.CanSet()
}

// copyField sets dst.name to src.name when both have it.
func copyField(dst, src types.Object, name string) {
	d, ok := field(dst, name)
	if !ok {
		return
	}
	sv, ok := field(src, name)
	if !ok || sv.Type() != d.Type() {
		return
	}
	d.Set(sv)
}

// hasSpec reports whether the kind has a spec (and so a generation).
func hasSpec(obj types.Object) bool {
	_, ok := field(obj, "Spec")
	return ok
}

// specChanged reports whether the specs of two objects of one kind differ.
func specChanged(a, b types.Object) bool {
	av, ok := field(a, "Spec")
	if !ok {
		return false
	}
	bv, _ := field(b, "Spec")
	aj, err1 := json.Marshal(av.Interface())
	bj, err2 := json.Marshal(bv.Interface())
	if err1 != nil || err2 != nil {
		return true
	}
	return !bytes.Equal(aj, bj)
}

// cloneObject deep-copies obj through JSON.
func cloneObject(r *types.Resource, obj types.Object) (types.Object, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	out := r.New()
	if err := json.Unmarshal(data, out); err != nil {
		return nil, err
	}
	return out, nil
}
