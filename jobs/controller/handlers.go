package controller

import (
	"maps"

	"github.com/wharfhq/wharf/api/labels"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

// DependentHandler routes the events of a dependent informer (usually
// Pods) to the owners that control them, as every Pod-owning controller of
// Kubernetes does:
//
//   - a dependent added or changed is enqueued under its controller;
//     an add counts as an observed creation in Expectations;
//   - a dependent with a deletionTimestamp, or deleted, counts as an
//     observed deletion (once, by UID) and enqueues its controller;
//   - when a dependent's controllerRef changes, the former controller is
//     enqueued too;
//   - an orphan enqueues every owner whose selector matches it, so one of
//     them adopts it.
type DependentHandler[T types.Object] struct {
	// Controller receives the owner keys.
	Controller *Controller
	// Owners lists the owner kind; its informer needs the namespace index
	// (sdk.IndexNamespace) when Selector is set.
	Owners *sdk.TypedLister[T]
	// Kind is the owner kind named in controllerRefs ("ReplicaSet").
	Kind string
	// Expectations, when set, are told of observed creations and
	// deletions under the owner's key.
	Expectations *Expectations
	// Selector returns an owner's selector over dependents; nil means
	// orphans are never adopted (and not routed).
	Selector func(owner T) (labels.Selector, error)
	// Updated, when set, is called after a controlled dependent changed
	// (e.g. to re-check availability after minReadySeconds).
	Updated func(owner T, old, cur types.Object)
}

var _ sdk.EventHandler = (*DependentHandler[*types.ReplicaSet])(nil)

func (h *DependentHandler[T]) ownerOf(obj types.Object, ref *types.OwnerReference) (T, bool) {
	return ResolveControllerRef(h.Owners, obj.GetObjectMeta().Namespace, ref, h.Kind)
}

// enqueueMatching enqueues the owners whose selector matches an orphan.
func (h *DependentHandler[T]) enqueueMatching(obj types.Object) {
	if h.Selector == nil {
		return
	}
	m := obj.GetObjectMeta()
	owners, _ := h.Owners.ByIndex(sdk.IndexNamespace, m.Namespace)
	for _, o := range owners {
		sel, err := h.Selector(o)
		if err == nil && !sel.Empty() && sel.Matches(m.Labels) {
			h.Controller.Enqueue(o)
		}
	}
}

// OnAdd implements sdk.EventHandler.
func (h *DependentHandler[T]) OnAdd(obj types.Object) {
	if obj.GetObjectMeta().DeletionTimestamp != nil {
		h.OnDelete(obj) // seen on restart with a deletion in progress
		return
	}
	ref := types.GetControllerOf(obj)
	if o, ok := h.ownerOf(obj, ref); ok {
		if h.Expectations != nil {
			h.Expectations.CreationObserved(sdk.KeyFunc(o))
		}
		h.Controller.Enqueue(o)
		return
	}
	if ref == nil {
		h.enqueueMatching(obj)
	}
}

// OnUpdate implements sdk.EventHandler.
func (h *DependentHandler[T]) OnUpdate(old, cur types.Object) {
	om, cm := old.GetObjectMeta(), cur.GetObjectMeta()
	labelsChanged := !maps.Equal(om.Labels, cm.Labels)
	if cm.DeletionTimestamp != nil {
		h.OnDelete(cur)
		if labelsChanged {
			h.enqueueMatching(cur)
		}
		return
	}
	oldRef, curRef := types.GetControllerOf(old), types.GetControllerOf(cur)
	if oldRef != nil && (curRef == nil || oldRef.UID != curRef.UID) {
		if o, ok := h.ownerOf(old, oldRef); ok {
			h.Controller.Enqueue(o)
		}
	}
	if o, ok := h.ownerOf(cur, curRef); ok {
		h.Controller.Enqueue(o)
		if h.Updated != nil {
			h.Updated(o, old, cur)
		}
		return
	}
	if curRef == nil && (labelsChanged || oldRef != nil) {
		h.enqueueMatching(cur)
	}
}

// OnDelete implements sdk.EventHandler.
func (h *DependentHandler[T]) OnDelete(obj types.Object) {
	o, ok := h.ownerOf(obj, types.GetControllerOf(obj))
	if !ok {
		return
	}
	if h.Expectations != nil {
		h.Expectations.DeletionObserved(sdk.KeyFunc(o), obj.GetObjectMeta().UID)
	}
	h.Controller.Enqueue(o)
}
