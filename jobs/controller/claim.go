package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/wharfhq/wharf/api/labels"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

// ErrCannotAdopt is returned when an owner may not adopt: it has been
// deleted, replaced by another object of the same name, or is being
// deleted.
var ErrCannotAdopt = errors.New("owner cannot adopt")

// RefManager adopts and releases the dependents of one owner by their
// controllerRef, as Kubernetes' ControllerRefManager does: an orphan whose
// labels match the selector is adopted, a dependent the owner controls
// whose labels no longer match is released, and dependents of other
// controllers are left alone.
type RefManager struct {
	// Client writes the dependents' metadata.
	Client *sdk.Client
	// Owner is the controller object; OwnerGVK its kind.
	Owner    types.Object
	OwnerGVK types.GroupVersionKind
	// Selector is the owner's selector over dependents' labels.
	Selector labels.Selector
	// Fresh reads the owner from the API (not the cache). It is called
	// once, before the first adoption, so that a deleted or deleting owner
	// adopts nothing (see RecheckOwner).
	Fresh func(ctx context.Context) (types.Object, error)

	once     sync.Once
	adoptErr error
}

// Claim returns the objects of objs the owner controls after adopting
// matching orphans and releasing non-matching dependents. Objects not
// controlled (or released) are left out. Errors on individual objects are
// joined; the objects claimed so far are still returned.
func Claim[T types.Object](ctx context.Context, m *RefManager, objs []T) ([]T, error) {
	owner := m.Owner.GetObjectMeta()
	var claimed []T
	var errs []error
	for _, obj := range objs {
		meta := obj.GetObjectMeta()
		matches := m.Selector.Matches(meta.Labels)
		ref := types.GetControllerOf(obj)
		switch {
		case ref != nil && ref.UID == owner.UID:
			if matches {
				claimed = append(claimed, obj)
				continue
			}
			if owner.DeletionTimestamp != nil {
				continue // a deleting owner releases nothing
			}
			if err := m.release(ctx, obj); err != nil {
				errs = append(errs, err)
			}
		case ref != nil:
			// Controlled by someone else.
		default:
			if !matches || owner.DeletionTimestamp != nil || meta.DeletionTimestamp != nil {
				continue
			}
			adopted, err := m.adopt(ctx, obj)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if adopted != nil {
				claimed = append(claimed, adopted.(T))
			}
		}
	}
	return claimed, errors.Join(errs...)
}

// RecheckOwner returns a Fresh func for RefManager that re-reads the
// owner through client; it is what makes adoption safe against an owner
// deleted (or deleted and re-created) after the cache was read.
func RecheckOwner(client *sdk.Client, owner types.Object) func(ctx context.Context) (types.Object, error) {
	return func(ctx context.Context) (types.Object, error) {
		res, ok := types.ResourceForObject(owner)
		if !ok {
			return nil, fmt.Errorf("owner of type %T: %w", owner, types.ErrUnknownKind)
		}
		m := owner.GetObjectMeta()
		return client.Resource(res).Namespace(m.Namespace).Get(ctx, m.Name)
	}
}

func (m *RefManager) canAdopt(ctx context.Context) error {
	m.once.Do(func() {
		if m.Fresh == nil {
			return
		}
		om := m.Owner.GetObjectMeta()
		fresh, err := m.Fresh(ctx)
		if err != nil {
			m.adoptErr = fmt.Errorf("%s %s/%s: %w: %w", m.OwnerGVK.Kind, om.Namespace, om.Name, ErrCannotAdopt, err)
			return
		}
		fm := fresh.GetObjectMeta()
		if fm.UID != om.UID {
			m.adoptErr = fmt.Errorf("%s %s/%s: %w: uid %s is now %s", m.OwnerGVK.Kind, om.Namespace, om.Name, ErrCannotAdopt, om.UID, fm.UID)
		} else if fm.DeletionTimestamp != nil {
			m.adoptErr = fmt.Errorf("%s %s/%s: %w: being deleted", m.OwnerGVK.Kind, om.Namespace, om.Name, ErrCannotAdopt)
		}
	})
	return m.adoptErr
}

// adopt adds the owner's controllerRef to obj and returns the updated
// object, or nil when obj is gone.
func (m *RefManager) adopt(ctx context.Context, obj types.Object) (types.Object, error) {
	if err := m.canAdopt(ctx); err != nil {
		return nil, err
	}
	c := types.Clone(obj)
	cm := c.GetObjectMeta()
	cm.OwnerReferences = append(cm.OwnerReferences, *types.NewControllerRef(m.Owner, m.OwnerGVK))
	out, err := m.update(ctx, c)
	if sdk.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("adopt %s/%s: %w", cm.Namespace, cm.Name, err)
	}
	return out, nil
}

// release removes the owner's references from obj.
func (m *RefManager) release(ctx context.Context, obj types.Object) error {
	uid := m.Owner.GetObjectMeta().UID
	c := types.Clone(obj)
	cm := c.GetObjectMeta()
	cm.OwnerReferences = slices.DeleteFunc(cm.OwnerReferences, func(r types.OwnerReference) bool { return r.UID == uid })
	if len(cm.OwnerReferences) == 0 {
		cm.OwnerReferences = nil
	}
	_, err := m.update(ctx, c)
	if sdk.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("release %s/%s: %w", cm.Namespace, cm.Name, err)
	}
	return nil
}

func (m *RefManager) update(ctx context.Context, obj types.Object) (types.Object, error) {
	res, ok := types.ResourceForObject(obj)
	if !ok {
		return nil, fmt.Errorf("dependent of type %T: %w", obj, types.ErrUnknownKind)
	}
	return m.Client.Resource(res).Namespace(obj.GetObjectMeta().Namespace).Update(ctx, obj)
}

// ResolveControllerRef returns the owner ref names in namespace from
// lister when it is of kind and has the same UID, else nil (the owner is
// gone or was re-created: the dependent is an orphan to it).
func ResolveControllerRef[T types.Object](lister *sdk.TypedLister[T], namespace string, ref *types.OwnerReference, kind string) (T, bool) {
	var zero T
	if ref == nil || ref.Kind != kind {
		return zero, false
	}
	owner, err := lister.Get(namespace, ref.Name)
	if err != nil || owner.GetObjectMeta().UID != ref.UID {
		return zero, false
	}
	return owner, true
}

// IndexOrphanNamespace indexes objects that have no controller by their
// namespace: with sdk.IndexControllerUID it gives an owner the objects it
// may claim without scanning its whole namespace (see Candidates).
const IndexOrphanNamespace = "orphanNamespace"

// OrphanNamespaceIndex is the IndexFunc of IndexOrphanNamespace.
func OrphanNamespaceIndex(obj types.Object) []string {
	if types.GetControllerOf(obj) != nil {
		return nil
	}
	return []string{obj.GetObjectMeta().Namespace}
}

// ClaimIndexers returns the indexers Candidates needs on the dependents'
// informer (plus the namespace index DependentHandler uses on owners').
func ClaimIndexers() map[string]sdk.IndexFunc {
	return map[string]sdk.IndexFunc{
		sdk.IndexNamespace:     sdk.NamespaceIndex,
		sdk.IndexControllerUID: sdk.ControllerUIDIndex,
		IndexOrphanNamespace:   OrphanNamespaceIndex,
	}
}

// Candidates returns the cached objects owner may claim: those it
// controls and the orphans of its namespace. Objects controlled by others
// are never claimed, so they are not read.
func Candidates[T types.Object](l *sdk.TypedLister[T], owner types.Object) ([]T, error) {
	m := owner.GetObjectMeta()
	owned, err := l.ByIndex(sdk.IndexControllerUID, m.UID)
	if err != nil {
		return nil, err
	}
	orphans, err := l.ByIndex(IndexOrphanNamespace, m.Namespace)
	if err != nil {
		return nil, err
	}
	return append(owned, orphans...), nil
}
