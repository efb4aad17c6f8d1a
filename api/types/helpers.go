package types

import (
	"fmt"
	"reflect"
	"sync"
)

// GroupVersionKind names a kind in a versioned API group.
type GroupVersionKind struct {
	Group   string
	Version string
	Kind    string
}

// APIVersion returns "group/version", or "version" for the core group.
func (g GroupVersionKind) APIVersion() string {
	if g.Group == "" {
		return g.Version
	}
	return g.Group + "/" + g.Version
}

// String returns "group/version, Kind=kind".
func (g GroupVersionKind) String() string {
	return g.APIVersion() + ", Kind=" + g.Kind
}

// GroupVersionKind returns the resource's group, version and kind.
func (r *Resource) GroupVersionKind() GroupVersionKind {
	return GroupVersionKind{Group: r.Group, Version: r.Version, Kind: r.Kind}
}

// GroupVersionKind returns the group, version and kind set in t.
func (t *TypeMeta) GroupVersionKind() GroupVersionKind {
	g, v := t.GroupVersion()
	return GroupVersionKind{Group: g, Version: v, Kind: t.Kind}
}

// SetGroupVersionKind sets apiVersion and kind from gvk.
func (t *TypeMeta) SetGroupVersionKind(gvk GroupVersionKind) {
	t.APIVersion = gvk.APIVersion()
	t.Kind = gvk.Kind
}

// ConditionStatus is "True", "False" or "Unknown".
type ConditionStatus string

// Condition statuses.
const (
	ConditionTrue    ConditionStatus = "True"
	ConditionFalse   ConditionStatus = "False"
	ConditionUnknown ConditionStatus = "Unknown"
)

// Condition is the generic condition of meta/v1 (used by Service status).
type Condition struct {
	Type               string          `json:"type"`
	Status             ConditionStatus `json:"status"`
	ObservedGeneration int64           `json:"observedGeneration,omitempty"`
	LastTransitionTime Time            `json:"lastTransitionTime"`
	Reason             string          `json:"reason"`
	Message            string          `json:"message"`
}

// LabelSelector selects objects by labels: every matchLabels pair and
// every matchExpressions requirement must hold. An empty selector selects
// everything; a nil one selects nothing (as in Kubernetes).
type LabelSelector struct {
	MatchLabels      map[string]string          `json:"matchLabels,omitempty"`
	MatchExpressions []LabelSelectorRequirement `json:"matchExpressions,omitempty"`
}

// LabelSelectorOperator is In, NotIn, Exists or DoesNotExist.
type LabelSelectorOperator string

// Label selector operators.
const (
	LabelSelectorOpIn           LabelSelectorOperator = "In"
	LabelSelectorOpNotIn        LabelSelectorOperator = "NotIn"
	LabelSelectorOpExists       LabelSelectorOperator = "Exists"
	LabelSelectorOpDoesNotExist LabelSelectorOperator = "DoesNotExist"
)

// LabelSelectorRequirement is one matchExpressions entry.
type LabelSelectorRequirement struct {
	Key      string                `json:"key" patchStrategy:"merge" patchMergeKey:"key"`
	Operator LabelSelectorOperator `json:"operator"`
	Values   []string              `json:"values,omitempty"`
}

// ObjectReference points at any object (events, service account secrets,
// endpoints targets, binding targets).
type ObjectReference struct {
	Kind            string `json:"kind,omitempty"`
	Namespace       string `json:"namespace,omitempty"`
	Name            string `json:"name,omitempty"`
	UID             string `json:"uid,omitempty"`
	APIVersion      string `json:"apiVersion,omitempty"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
	FieldPath       string `json:"fieldPath,omitempty"`
}

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	Name string `json:"name,omitempty"`
}

// GetControllerOf returns the owner reference of obj marked controller,
// or nil.
func GetControllerOf(obj Object) *OwnerReference {
	refs := obj.GetObjectMeta().OwnerReferences
	for i := range refs {
		if refs[i].Controller != nil && *refs[i].Controller {
			r := refs[i]
			return &r
		}
	}
	return nil
}

// IsControlledBy reports whether obj's controller reference points at
// owner (by UID).
func IsControlledBy(obj, owner Object) bool {
	ref := GetControllerOf(obj)
	return ref != nil && ref.UID == owner.GetObjectMeta().UID
}

// NewControllerRef returns a controller owner reference to owner, with
// blockOwnerDeletion set, as Kubernetes controllers make them.
func NewControllerRef(owner Object, gvk GroupVersionKind) *OwnerReference {
	t := true
	m := owner.GetObjectMeta()
	return &OwnerReference{
		APIVersion:         gvk.APIVersion(),
		Kind:               gvk.Kind,
		Name:               m.Name,
		UID:                m.UID,
		Controller:         &t,
		BlockOwnerDeletion: &t,
	}
}

// ResourceForObject finds the registered resource whose New makes objects
// of obj's Go type (TypeMeta may be empty on objects built in code).
func ResourceForObject(obj Object) (*Resource, bool) {
	t := reflect.TypeOf(obj)
	registryMu.RLock()
	defer registryMu.RUnlock()
	for _, r := range registry {
		if reflect.TypeOf(r.New()) == t {
			return r, true
		}
	}
	return nil, false
}

// GVKForObject returns the group, version and kind of obj, from its Go
// type if registered, else from its TypeMeta.
func GVKForObject(obj Object) (GroupVersionKind, error) {
	if r, ok := ResourceForObject(obj); ok {
		return r.GroupVersionKind(), nil
	}
	gvk := obj.GetTypeMeta().GroupVersionKind()
	if gvk.Kind == "" || gvk.Version == "" {
		return gvk, fmt.Errorf("object of type %T: %w", obj, ErrUnknownKind)
	}
	return gvk, nil
}

// Clone returns a deep copy of obj: nothing reachable from the copy is
// shared with obj. Clone of a nil pointer is nil.
func Clone[T any](obj T) T {
	v := reflect.ValueOf(&obj).Elem()
	out := reflect.New(v.Type()).Elem()
	deepCopy(out, v)
	return out.Interface().(T)
}

// deepCopy copies src into dst (settable, same type). It is written on
// reflect rather than as a JSON round trip: controllers clone cached
// objects on every sync and this is several times faster (see
// BenchmarkClone), and it cannot fail.
func deepCopy(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(src.Type().Elem())
		deepCopy(p.Elem(), src.Elem())
		dst.Set(p)
	case reflect.Interface:
		if src.IsNil() {
			return
		}
		e := reflect.New(src.Elem().Type()).Elem()
		deepCopy(e, src.Elem())
		dst.Set(e)
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		if isFlat(src.Type().Elem()) {
			reflect.Copy(s, src)
		} else {
			for i := range src.Len() {
				deepCopy(s.Index(i), src.Index(i))
			}
		}
		dst.Set(s)
	case reflect.Map:
		if src.IsNil() {
			return
		}
		m := reflect.MakeMapWithSize(src.Type(), src.Len())
		flat := isFlat(src.Type().Elem())
		it := src.MapRange()
		for it.Next() {
			if flat {
				m.SetMapIndex(it.Key(), it.Value())
				continue
			}
			e := reflect.New(src.Type().Elem()).Elem()
			deepCopy(e, it.Value())
			m.SetMapIndex(it.Key(), e)
		}
		dst.Set(m)
	case reflect.Struct:
		// Whole-value copy first: it carries unexported fields (Quantity,
		// time.Time), which hold no mutable references.
		dst.Set(src)
		if isFlat(src.Type()) {
			return
		}
		for i := range src.NumField() {
			if src.Type().Field(i).IsExported() {
				deepCopy(dst.Field(i), src.Field(i))
			}
		}
	case reflect.Array:
		for i := range src.Len() {
			deepCopy(dst.Index(i), src.Index(i))
		}
	default:
		dst.Set(src)
	}
}

// flatTypes caches isFlat for struct types (reflect.Type -> bool).
var flatTypes sync.Map

// isFlat reports whether values of t hold no exported references, so
// that assignment is a deep copy.
func isFlat(t reflect.Type) bool {
	if t.Kind() == reflect.Struct {
		if v, ok := flatTypes.Load(t); ok {
			return v.(bool)
		}
		f := isFlatUncached(t)
		flatTypes.Store(t, f)
		return f
	}
	return isFlatUncached(t)
}

func isFlatUncached(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return false
	case reflect.Array:
		return isFlat(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if f.IsExported() && !isFlat(f.Type) {
				return false
			}
		}
		return true
	}
	return true
}
