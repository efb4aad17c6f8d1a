package sdk

import (
	"fmt"
	"net/http"
	"sort"

	"github.com/wharfhq/wharf/api/labels"
	"github.com/wharfhq/wharf/api/types"
)

// IndexFunc returns the index values of an object (none, one or several).
type IndexFunc func(obj types.Object) []string

// Names of the indexers this package provides.
const (
	// IndexNamespace indexes objects by metadata.namespace.
	IndexNamespace = "namespace"
	// IndexOwnerUID indexes objects by the UIDs of all their owners.
	IndexOwnerUID = "ownerUID"
	// IndexControllerUID indexes objects by the UID of their controller.
	IndexControllerUID = "controllerUID"
)

// NamespaceIndex is an IndexFunc over metadata.namespace.
func NamespaceIndex(obj types.Object) []string {
	return []string{obj.GetObjectMeta().Namespace}
}

// OwnerUIDIndex is an IndexFunc over metadata.ownerReferences[*].uid.
func OwnerUIDIndex(obj types.Object) []string {
	refs := obj.GetObjectMeta().OwnerReferences
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, r.UID)
	}
	return out
}

// ControllerUIDIndex is an IndexFunc over the UID of the owner reference
// marked controller.
func ControllerUIDIndex(obj types.Object) []string {
	for _, r := range obj.GetObjectMeta().OwnerReferences {
		if r.Controller != nil && *r.Controller {
			return []string{r.UID}
		}
	}
	return nil
}

// Lister reads an informer's cache. Reads never touch the network; the
// objects returned are shared with the cache: do not mutate them.
type Lister struct {
	inf *Informer
}

// Lister returns a Lister over the informer's cache.
func (i *Informer) Lister() *Lister { return &Lister{inf: i} }

// Get returns the cached object namespace/name (namespace "" for
// cluster-scoped kinds), or a NotFound *types.Status error.
func (l *Lister) Get(namespace, name string) (types.Object, error) {
	key := name
	if namespace != "" {
		key = namespace + "/" + name
	}
	l.inf.mu.RLock()
	obj, ok := l.inf.items[key]
	l.inf.mu.RUnlock()
	if !ok {
		res := l.inf.rc.res
		return nil, &types.Status{
			TypeMeta: types.TypeMeta{Kind: "Status", APIVersion: "v1"},
			Status:   "Failure",
			Message:  fmt.Sprintf("%s %q not found", qualifiedName(res), name),
			Reason:   types.StatusReasonNotFound,
			Details:  &types.StatusDetails{Name: name, Group: res.Group, Kind: res.Name},
			Code:     http.StatusNotFound,
		}
	}
	return obj, nil
}

// qualifiedName is "pods" or "deployments.apps", as error messages name a
// resource.
func qualifiedName(res *types.Resource) string {
	if res.Group == "" {
		return res.Name
	}
	return res.Name + "." + res.Group
}

// List returns the cached objects in all namespaces whose labels match
// sel (the zero Selector matches everything), sorted by key.
func (l *Lister) List(sel labels.Selector) []types.Object {
	return l.list("", false, sel)
}

// ListNamespace returns the cached objects of one namespace whose labels
// match sel, sorted by key.
func (l *Lister) ListNamespace(namespace string, sel labels.Selector) []types.Object {
	return l.list(namespace, true, sel)
}

func (l *Lister) list(namespace string, oneNS bool, sel labels.Selector) []types.Object {
	l.inf.mu.RLock()
	defer l.inf.mu.RUnlock()
	var out []types.Object
	for _, obj := range l.inf.items {
		m := obj.GetObjectMeta()
		if oneNS && m.Namespace != namespace {
			continue
		}
		if sel.Matches(m.Labels) {
			out = append(out, obj)
		}
	}
	sortByKey(out)
	return out
}

// ByIndex returns the cached objects whose index values include value,
// sorted by key; an unknown index is an error.
func (l *Lister) ByIndex(index, value string) ([]types.Object, error) {
	l.inf.mu.RLock()
	defer l.inf.mu.RUnlock()
	idx, ok := l.inf.indices[index]
	if !ok {
		return nil, fmt.Errorf("informer for %s: no indexer %q", l.inf.rc.res.Name, index)
	}
	out := make([]types.Object, 0, len(idx[value]))
	for key := range idx[value] {
		out = append(out, l.inf.items[key])
	}
	sortByKey(out)
	return out, nil
}

// Len returns the number of cached objects.
func (l *Lister) Len() int {
	l.inf.mu.RLock()
	defer l.inf.mu.RUnlock()
	return len(l.inf.items)
}

func sortByKey(objs []types.Object) {
	sort.Slice(objs, func(a, b int) bool { return KeyFunc(objs[a]) < KeyFunc(objs[b]) })
}

// TypedLister is a Lister that returns concrete types; T is the informer
// resource's object type. Objects of another type (a misconfigured
// informer) are skipped by List and reported by Get.
type TypedLister[T types.Object] struct {
	l *Lister
}

// ListerFor returns a typed lister over inf's cache.
func ListerFor[T types.Object](inf *Informer) *TypedLister[T] {
	return &TypedLister[T]{l: inf.Lister()}
}

// Get returns the cached object, or a NotFound *types.Status error.
func (t *TypedLister[T]) Get(namespace, name string) (T, error) {
	obj, err := t.l.Get(namespace, name)
	return as[T](obj, err)
}

// List returns the cached objects in all namespaces matching sel.
func (t *TypedLister[T]) List(sel labels.Selector) []T { return only[T](t.l.List(sel)) }

// ListNamespace returns the cached objects of namespace matching sel.
func (t *TypedLister[T]) ListNamespace(namespace string, sel labels.Selector) []T {
	return only[T](t.l.ListNamespace(namespace, sel))
}

// ByIndex returns the cached objects whose index values include value.
func (t *TypedLister[T]) ByIndex(index, value string) ([]T, error) {
	objs, err := t.l.ByIndex(index, value)
	if err != nil {
		return nil, err
	}
	return only[T](objs), nil
}

func only[T types.Object](objs []types.Object) []T {
	out := make([]T, 0, len(objs))
	for _, o := range objs {
		if v, ok := o.(T); ok {
			out = append(out, v)
		}
	}
	return out
}
