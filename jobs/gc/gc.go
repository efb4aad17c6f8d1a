// Package gc is the garbage collector: it deletes objects whose owners
// (metadata.ownerReferences) are gone, and carries out the foreground and
// orphan deletion the API server asks for with the foregroundDeletion and
// orphan finalizers, as Kubernetes' garbage collector does.
//
// It keeps no graph of its own: shared informers over every namespaced
// kind, indexed by UID and by owner UID, are the graph, so after a restart
// it recomputes everything from the objects (a dependent whose owner UID
// no longer exists is collected whenever it is seen). An owner missing
// from the caches is confirmed missing with a live read before anything
// is deleted, because a dependent can reach its cache before its owner
// reaches another.
package gc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/sdk"
)

// Name is the controller's name in logs and in the manager.
const Name = "garbagecollector"

// indexUID indexes objects by metadata.uid.
const indexUID = "uid"

func uidIndex(obj types.Object) []string { return []string{obj.GetObjectMeta().UID} }

// skipped are namespaced resources not watched: they are never owners and
// rarely dependents, and there are many of them.
var skipped = map[string]bool{"events": true}

// GC is the garbage collector.
type GC struct {
	*controller.Controller
	client *sdk.Client
	// infs maps "group/resource" to its informer.
	infs map[string]*sdk.Informer
	res  map[string]*types.Resource
}

var _ controller.Runner = (*GC)(nil)

// clusterOwners are the cluster-scoped kinds watched as owners: a Node's
// deletion collects its Lease (kube-node-lease/NODE) at once.
var clusterOwners = map[string]bool{"nodes": true}

// New returns a garbage collector over cc's shared informers, one per
// namespaced kind (events excepted) and per kind of clusterOwners.
func New(cc *controller.Context) (*GC, error) {
	g := &GC{client: cc.Client, infs: map[string]*sdk.Informer{}, res: map[string]*types.Resource{}}
	g.Controller = controller.New(cc, Name, g.sync)
	for _, r := range types.Resources() {
		if (!r.Namespaced && !clusterOwners[r.Name]) || skipped[r.Name] {
			continue
		}
		inf := cc.Factory.Informer(r, sdk.InformerOptions{Indexers: map[string]sdk.IndexFunc{
			indexUID:           uidIndex,
			sdk.IndexOwnerUID:  sdk.OwnerUIDIndex,
			sdk.IndexNamespace: sdk.NamespaceIndex,
		}})
		rk := resKey(r)
		g.infs[rk], g.res[rk] = inf, r
		g.WaitFor(inf)
		inf.AddEventHandler(sdk.HandlerFuncs{
			AddFunc:    func(obj types.Object) { g.observe(rk, obj) },
			UpdateFunc: func(old, cur types.Object) { g.changed(rk, old, cur) },
			DeleteFunc: func(obj types.Object) { g.deleted(obj) },
		})
	}
	return g, nil
}

func resKey(r *types.Resource) string { return r.Group + "/" + r.Name }

// itemKey is the queue key of one object: "group/resource|ns/name".
func itemKey(rk string, obj types.Object) string { return rk + "|" + sdk.KeyFunc(obj) }

// observe queues obj when the collector has work on it: it has owners, or
// it is being deleted with a finalizer the collector handles.
func (g *GC) observe(rk string, obj types.Object) {
	m := obj.GetObjectMeta()
	if len(m.OwnerReferences) > 0 || (m.DeletionTimestamp != nil && hasGCFinalizer(m)) {
		g.Queue().Add(itemKey(rk, obj))
	}
}

func hasGCFinalizer(m *types.ObjectMeta) bool {
	return slices.Contains(m.Finalizers, types.FinalizerForeground) || slices.Contains(m.Finalizers, types.FinalizerOrphanDependents)
}

func (g *GC) changed(rk string, old, cur types.Object) {
	g.observe(rk, cur)
	// An owner waiting on its dependents re-checks when one lets go.
	if !slices.Equal(sdk.OwnerUIDIndex(old), sdk.OwnerUIDIndex(cur)) {
		g.enqueueOwners(old)
	}
}

// deleted queues the dependents of a deleted object (now dangling) and
// its owners (which may be waiting for it).
func (g *GC) deleted(obj types.Object) {
	uid := obj.GetObjectMeta().UID
	for rk, inf := range g.infs {
		deps, _ := inf.Lister().ByIndex(sdk.IndexOwnerUID, uid)
		for _, d := range deps {
			g.Queue().Add(itemKey(rk, d))
		}
	}
	g.enqueueOwners(obj)
}

func (g *GC) enqueueOwners(obj types.Object) {
	for _, ref := range obj.GetObjectMeta().OwnerReferences {
		for rk, inf := range g.infs {
			owners, _ := inf.Lister().ByIndex(indexUID, ref.UID)
			for _, o := range owners {
				g.Queue().Add(itemKey(rk, o))
			}
		}
	}
}

// sync handles one object.
func (g *GC) sync(ctx context.Context, key string) error {
	rk, objKey, ok := strings.Cut(key, "|")
	inf := g.infs[rk]
	if !ok || inf == nil {
		return nil
	}
	ns, name := sdk.SplitKey(objKey)
	obj, err := inf.Lister().Get(ns, name)
	if sdk.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	m := obj.GetObjectMeta()
	if m.DeletionTimestamp != nil {
		switch {
		case slices.Contains(m.Finalizers, types.FinalizerOrphanDependents):
			return g.orphanDependents(ctx, rk, obj)
		case slices.Contains(m.Finalizers, types.FinalizerForeground):
			return g.deleteDependentsFirst(ctx, rk, obj)
		}
		return nil
	}
	if len(m.OwnerReferences) > 0 {
		return g.checkOwners(ctx, rk, obj)
	}
	return nil
}

// ownerState is what became of an owner.
type ownerState int

const (
	ownerPresent ownerState = iota
	ownerAbsent
	// ownerWaiting: being deleted in the foreground, waiting for its
	// dependents to go.
	ownerWaiting
)

// stateOf finds the owner ref points at (in namespace ns, for a
// namespaced owner): first in the caches, then, when not cached, with a
// live read.
func (g *GC) stateOf(ctx context.Context, ns string, ref types.OwnerReference) (ownerState, error) {
	res, ok := types.ResourceForKind(ref.APIVersion, ref.Kind)
	if !ok {
		// An owner of a kind Wharf does not know is left alone.
		return ownerPresent, nil
	}
	classify := func(o types.Object) ownerState {
		m := o.GetObjectMeta()
		if m.DeletionTimestamp != nil && slices.Contains(m.Finalizers, types.FinalizerForeground) {
			return ownerWaiting
		}
		return ownerPresent
	}
	if inf := g.infs[resKey(res)]; inf != nil {
		if objs, _ := inf.Lister().ByIndex(indexUID, ref.UID); len(objs) > 0 {
			return classify(objs[0]), nil
		}
	}
	if !res.Namespaced {
		ns = ""
	}
	o, err := g.client.Resource(res).Namespace(ns).Get(ctx, ref.Name)
	if sdk.IsNotFound(err) {
		return ownerAbsent, nil
	}
	if err != nil {
		return ownerPresent, fmt.Errorf("read owner %s %s/%s: %w", ref.Kind, ns, ref.Name, err)
	}
	if o.GetObjectMeta().UID != ref.UID {
		return ownerAbsent, nil // deleted and re-created under the same name
	}
	return classify(o), nil
}

// checkOwners collects obj when none of its owners remains, or drops the
// references to gone owners when others remain.
func (g *GC) checkOwners(ctx context.Context, rk string, obj types.Object) error {
	m := obj.GetObjectMeta()
	var solid int
	var drop []string
	waiting := false
	for _, ref := range m.OwnerReferences {
		st, err := g.stateOf(ctx, m.Namespace, ref)
		if err != nil {
			return err
		}
		switch st {
		case ownerPresent:
			solid++
		case ownerAbsent:
			drop = append(drop, ref.UID)
		case ownerWaiting:
			waiting = true
			drop = append(drop, ref.UID)
		}
	}
	if solid > 0 {
		if len(drop) == 0 {
			return nil
		}
		return g.removeOwnerRefs(ctx, rk, obj, drop)
	}
	policy := types.DeletePropagationBackground
	switch {
	case waiting && g.hasDependents(m.UID):
		// Keep the chain blocking: the owner waits for obj, which
		// waits for its own dependents.
		policy = types.DeletePropagationForeground
	case slices.Contains(m.Finalizers, types.FinalizerOrphanDependents):
		policy = types.DeletePropagationOrphan
	case slices.Contains(m.Finalizers, types.FinalizerForeground):
		policy = types.DeletePropagationForeground
	}
	return g.delete(ctx, rk, obj, policy)
}

func (g *GC) hasDependents(uid string) bool {
	for _, inf := range g.infs {
		if deps, _ := inf.Lister().ByIndex(sdk.IndexOwnerUID, uid); len(deps) > 0 {
			return true
		}
	}
	return false
}

// dependents returns the cached dependents of uid with their resource.
func (g *GC) dependents(uid string) map[string][]types.Object {
	out := map[string][]types.Object{}
	for rk, inf := range g.infs {
		if deps, _ := inf.Lister().ByIndex(sdk.IndexOwnerUID, uid); len(deps) > 0 {
			out[rk] = deps
		}
	}
	return out
}

// deleteDependentsFirst handles an owner deleted in the foreground: its
// dependents are deleted, and its foregroundDeletion finalizer removed
// once no dependent that blocks owner deletion is left. As Kubernetes'
// collector, it knows dependents from its caches: one created a moment
// before the owner's deletion and not yet seen does not hold it back (it
// is collected as an orphan once seen).
func (g *GC) deleteDependentsFirst(ctx context.Context, rk string, owner types.Object) error {
	uid := owner.GetObjectMeta().UID
	blocking := 0
	for drk, deps := range g.dependents(uid) {
		for _, d := range deps {
			for _, ref := range d.GetObjectMeta().OwnerReferences {
				if ref.UID == uid && ref.BlockOwnerDeletion != nil && *ref.BlockOwnerDeletion {
					blocking++
				}
			}
			if d.GetObjectMeta().DeletionTimestamp == nil {
				g.Queue().Add(itemKey(drk, d)) // checkOwners deletes it or lets go
			}
		}
	}
	if blocking > 0 {
		return nil // each dependent's deletion queues the owner again
	}
	return g.removeFinalizer(ctx, rk, owner, types.FinalizerForeground)
}

// orphanDependents handles an owner deleted with the orphan policy: its
// dependents lose their reference to it, then its orphan finalizer goes.
func (g *GC) orphanDependents(ctx context.Context, rk string, owner types.Object) error {
	uid := owner.GetObjectMeta().UID
	var errs []error
	for drk, deps := range g.dependents(uid) {
		for _, d := range deps {
			if err := g.removeOwnerRefs(ctx, drk, d, []string{uid}); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return g.removeFinalizer(ctx, rk, owner, types.FinalizerOrphanDependents)
}

func (g *GC) rc(rk string, obj types.Object) *sdk.ResourceClient {
	return g.client.Resource(g.res[rk]).Namespace(obj.GetObjectMeta().Namespace)
}

// removeOwnerRefs drops the references to uids from obj.
func (g *GC) removeOwnerRefs(ctx context.Context, rk string, obj types.Object, uids []string) error {
	c := types.Clone(obj)
	m := c.GetObjectMeta()
	m.OwnerReferences = slices.DeleteFunc(m.OwnerReferences, func(r types.OwnerReference) bool { return slices.Contains(uids, r.UID) })
	if len(m.OwnerReferences) == 0 {
		m.OwnerReferences = nil
	}
	_, err := g.rc(rk, c).Update(ctx, c)
	if err != nil && !sdk.IsNotFound(err) {
		return fmt.Errorf("remove owner references of %s %s/%s: %w", g.res[rk].Kind, m.Namespace, m.Name, err)
	}
	return nil
}

// removeFinalizer removes finalizer f; the server then deletes the object.
func (g *GC) removeFinalizer(ctx context.Context, rk string, obj types.Object, f string) error {
	c := types.Clone(obj)
	m := c.GetObjectMeta()
	m.Finalizers = slices.DeleteFunc(m.Finalizers, func(s string) bool { return s == f })
	if len(m.Finalizers) == 0 {
		m.Finalizers = nil
	}
	_, err := g.rc(rk, c).Update(ctx, c)
	if err != nil && !sdk.IsNotFound(err) {
		return fmt.Errorf("remove finalizer %s of %s %s/%s: %w", f, g.res[rk].Kind, m.Namespace, m.Name, err)
	}
	return nil
}

// delete deletes obj (only that object: a precondition on its UID).
func (g *GC) delete(ctx context.Context, rk string, obj types.Object, policy string) error {
	m := obj.GetObjectMeta()
	uid := m.UID
	err := g.rc(rk, obj).Delete(ctx, m.Name, types.DeleteOptions{
		PropagationPolicy: &policy,
		Preconditions:     &types.Preconditions{UID: &uid},
	})
	if err == nil || sdk.IsNotFound(err) || sdk.IsConflict(err) {
		return nil // gone, or replaced by a new object of the same name
	}
	return fmt.Errorf("delete %s %s/%s: %w", g.res[rk].Kind, m.Namespace, m.Name, err)
}
