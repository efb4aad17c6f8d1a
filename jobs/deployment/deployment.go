// Package deployment is the Deployment controller: it rolls a Pod
// template out through ReplicaSets, one per template (named NAME-HASH,
// labelled pod-template-hash), with the RollingUpdate (maxSurge,
// maxUnavailable) and Recreate strategies, revisions and their history
// limit, pause, proportional scaling, and the Available and Progressing
// conditions that `kubectl rollout status` reads.
package deployment

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/wharfhq/wharf/api/labels"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/sdk"
)

// Name is the controller's name in logs and in the manager.
const Name = "deployment"

// GVK is the kind this controller manages.
var GVK = types.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}

var rsGVK = types.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"}

// Controller is the Deployment controller.
type Controller struct {
	*controller.Controller
	client    *sdk.Client
	dLister   *sdk.TypedLister[*types.Deployment]
	rsLister  *sdk.TypedLister[*types.ReplicaSet]
	rsCache   *sdk.Informer
	podLister *sdk.TypedLister[*types.Pod]
	now       func() time.Time
	// writes holds the ReplicaSet writes the cache does not show yet.
	writes *ownWrites
}

var _ controller.Runner = (*Controller)(nil)

// New returns a Deployment controller over cc's shared informers.
func New(cc *controller.Context) (*Controller, error) {
	infs := map[string]*sdk.Informer{}
	for name, res := range map[string]func() (*types.Resource, error){
		"deployments": sdk.ResourceOf[*types.Deployment],
		"replicasets": sdk.ResourceOf[*types.ReplicaSet],
		"pods":        sdk.ResourceOf[*types.Pod],
	} {
		r, err := res()
		if err != nil {
			return nil, err
		}
		infs[name] = cc.Factory.Informer(r, sdk.InformerOptions{Indexers: controller.ClaimIndexers()})
	}
	c := &Controller{
		client:    cc.Client,
		dLister:   sdk.ListerFor[*types.Deployment](infs["deployments"]),
		rsLister:  sdk.ListerFor[*types.ReplicaSet](infs["replicasets"]),
		rsCache:   infs["replicasets"],
		podLister: sdk.ListerFor[*types.Pod](infs["pods"]),
		now:       time.Now,
		writes:    newOwnWrites(time.Now),
	}
	c.Controller = controller.New(cc, Name, c.sync)
	c.Watch(infs["deployments"])
	c.WaitFor(infs["replicasets"])
	c.WaitFor(infs["pods"])
	infs["replicasets"].AddEventHandler(&controller.DependentHandler[*types.Deployment]{
		Controller: c.Controller, Owners: c.dLister, Kind: GVK.Kind,
		Selector: func(d *types.Deployment) (labels.Selector, error) { return labels.FromLabelSelector(d.Spec.Selector) },
	})
	// Recreate waits for the old Pods to be gone.
	infs["pods"].AddEventHandler(sdk.HandlerFuncs{DeleteFunc: c.podDeleted})
	return c, nil
}

func (c *Controller) ownerOf(obj types.Object) (*types.Deployment, bool) {
	return controller.ResolveControllerRef(c.dLister, obj.GetObjectMeta().Namespace, types.GetControllerOf(obj), GVK.Kind)
}

func (c *Controller) podDeleted(obj types.Object) {
	ref := types.GetControllerOf(obj)
	if ref == nil || ref.Kind != rsGVK.Kind {
		return
	}
	rs, ok := controller.ResolveControllerRef(c.rsLister, obj.GetObjectMeta().Namespace, ref, rsGVK.Kind)
	if !ok {
		return
	}
	if d, ok := c.ownerOf(rs); ok && !isRolling(d) {
		c.Enqueue(d)
	}
}

// sync reconciles one Deployment.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name := sdk.SplitKey(key)
	cached, err := c.dLister.Get(ns, name)
	if sdk.IsNotFound(err) {
		c.writes.forget(key)
		return nil
	}
	if err != nil {
		return err
	}
	d := types.Clone(cached)
	sel, err := labels.FromLabelSelector(d.Spec.Selector)
	if err != nil || sel.Empty() {
		c.Logger().Warn("deployment selects nothing or everything; not syncing", "deployment", key, "err", err)
		return nil
	}
	// Read before the ReplicaSets: the cache holds at least this.
	cacheRV := parseRV(c.rsCache.LastSyncResourceVersion())
	rss, err := c.claimReplicaSets(ctx, d, sel)
	if err != nil {
		return err
	}
	return c.reconcile(ctx, d, rss, cacheRV)
}

// reconcile acts on d from rss, the ReplicaSets it controls as the cache
// (at resourceVersion cacheRV or later) shows them. It does nothing while
// the cache does not show the controller's own writes of them yet: the
// informer's event for the write enqueues the Deployment again.
func (c *Controller) reconcile(ctx context.Context, d *types.Deployment, rss []*types.ReplicaSet, cacheRV uint64) error {
	if name, ok := c.writes.behind(sdk.KeyFunc(d), rss, cacheRV); ok {
		c.Logger().Debug("replicaset cache behind this controller's write; waiting for it", "deployment", sdk.KeyFunc(d), "replicaset", name)
		return nil
	}
	if d.DeletionTimestamp != nil {
		return c.syncStatusOnly(ctx, d, rss)
	}
	if err := c.checkPaused(ctx, d); err != nil {
		return err
	}
	if d.Spec.Paused {
		return c.syncScale(ctx, d, rss)
	}
	if c.isScalingEvent(d, rss) {
		return c.syncScale(ctx, d, rss)
	}
	if !isRolling(d) {
		return c.rolloutRecreate(ctx, d, rss)
	}
	return c.rolloutRolling(ctx, d, rss)
}

// claimReplicaSets returns the ReplicaSets the Deployment controls,
// adopting and releasing by selector.
func (c *Controller) claimReplicaSets(ctx context.Context, d *types.Deployment, sel labels.Selector) ([]*types.ReplicaSet, error) {
	all, err := controller.Candidates(c.rsLister, d)
	if err != nil {
		return nil, err
	}
	rm := &controller.RefManager{Client: c.client, Owner: d, OwnerGVK: GVK, Selector: sel, Fresh: controller.RecheckOwner(c.client, d)}
	return controller.Claim(ctx, rm, all)
}

// checkPaused records pause and resume in the Progressing condition.
func (c *Controller) checkPaused(ctx context.Context, d *types.Deployment) error {
	if !hasProgressDeadline(d) {
		return nil
	}
	cond := getCondition(&d.Status, types.DeploymentProgressing)
	pausedCond := cond != nil && cond.Reason == ReasonPaused
	var upd types.DeploymentCondition
	switch {
	case d.Spec.Paused && !pausedCond:
		upd = newCondition(types.DeploymentProgressing, types.ConditionUnknown, ReasonPaused, "Deployment is paused", c.now())
	case !d.Spec.Paused && pausedCond:
		upd = newCondition(types.DeploymentProgressing, types.ConditionUnknown, ReasonResumed, "Deployment is resumed", c.now())
	default:
		return nil
	}
	setCondition(&d.Status, upd)
	return c.writeStatus(ctx, d)
}

// writeStatus writes d.Status and takes the new resourceVersion.
func (c *Controller) writeStatus(ctx context.Context, d *types.Deployment) error {
	out, err := sdk.Typed[*types.Deployment](c.client).Namespace(d.Namespace).UpdateStatus(ctx, d)
	if err != nil {
		return fmt.Errorf("update status of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	d.ResourceVersion = out.ResourceVersion
	return nil
}

// isScalingEvent reports whether spec.replicas changed since the active
// ReplicaSets were last scaled (their desired-replicas annotation).
func (c *Controller) isScalingEvent(d *types.Deployment, rss []*types.ReplicaSet) bool {
	newRS, oldRSs := splitReplicaSets(d, rss)
	want := fmt.Sprint(replicasOf(d.Spec.Replicas))
	for _, rs := range filterActive(append(oldRSs, newRS)) {
		if v, ok := rs.Annotations[DesiredReplicasAnnotation]; ok && v != want {
			return true
		}
	}
	return false
}

// splitReplicaSets returns the new ReplicaSet (the one with the
// Deployment's template, or nil) and the others.
func splitReplicaSets(d *types.Deployment, rss []*types.ReplicaSet) (*types.ReplicaSet, []*types.ReplicaSet) {
	newRS := findNewReplicaSet(d, rss)
	var oldRSs []*types.ReplicaSet
	for _, rs := range rss {
		if newRS == nil || rs.UID != newRS.UID {
			oldRSs = append(oldRSs, rs)
		}
	}
	return newRS, oldRSs
}

// getAllReplicaSets splits rss into the new ReplicaSet (the one with the
// Deployment's template; created when create is set and there is none)
// and the old ones, and brings revisions up to date: the new ReplicaSet
// gets the highest revision, and the Deployment the same annotation.
func (c *Controller) getAllReplicaSets(ctx context.Context, d *types.Deployment, rss []*types.ReplicaSet, create bool) (*types.ReplicaSet, []*types.ReplicaSet, error) {
	existing, oldRSs := splitReplicaSets(d, rss)
	revision := maxRevision(oldRSs) + 1
	var newRS *types.ReplicaSet
	var err error
	switch {
	case existing != nil:
		newRS, err = c.updateNewReplicaSet(ctx, d, existing, revision)
	case create:
		newRS, err = c.createNewReplicaSet(ctx, d, rss, revision)
	}
	if err != nil {
		return nil, nil, err
	}
	if newRS != nil {
		if err := c.setDeploymentRevision(ctx, d, newRS.Annotations[RevisionAnnotation]); err != nil {
			return nil, nil, err
		}
	}
	return newRS, oldRSs, nil
}

// updateNewReplicaSet brings the existing new ReplicaSet's revision,
// annotations and minReadySeconds up to date.
func (c *Controller) updateNewReplicaSet(ctx context.Context, d *types.Deployment, rs *types.ReplicaSet, revision int64) (*types.ReplicaSet, error) {
	cp := types.Clone(rs)
	changed := setNewRSAnnotations(d, cp, revision)
	if !changed && cp.Spec.MinReadySeconds == d.Spec.MinReadySeconds {
		return rs, nil
	}
	cp.Spec.MinReadySeconds = d.Spec.MinReadySeconds
	out, err := sdk.Typed[*types.ReplicaSet](c.client).Namespace(d.Namespace).Update(ctx, cp)
	if err != nil {
		return nil, fmt.Errorf("update replicaset %s/%s: %w", cp.Namespace, cp.Name, err)
	}
	c.writes.record(sdk.KeyFunc(d), out)
	return out, nil
}

// errHashCollision asks for a retry after a ReplicaSet name collision
// (collisionCount was bumped, so the next name differs).
var errHashCollision = errors.New("replicaset name collision")

// createNewReplicaSet creates the ReplicaSet for the Deployment's template.
func (c *Controller) createNewReplicaSet(ctx context.Context, d *types.Deployment, rss []*types.ReplicaSet, revision int64) (*types.ReplicaSet, error) {
	hash := controller.ComputeHash(&d.Spec.Template, d.Status.CollisionCount)
	tmpl := types.Clone(d.Spec.Template)
	if tmpl.Labels == nil {
		tmpl.Labels = map[string]string{}
	}
	tmpl.Labels[controller.PodTemplateHashLabel] = hash
	sel := types.Clone(d.Spec.Selector)
	if sel.MatchLabels == nil {
		sel.MatchLabels = map[string]string{}
	}
	sel.MatchLabels[controller.PodTemplateHashLabel] = hash
	lbls := map[string]string{}
	for k, v := range tmpl.Labels {
		lbls[k] = v
	}
	rs := &types.ReplicaSet{
		TypeMeta: types.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: types.ObjectMeta{
			Name:            d.Name + "-" + hash,
			Namespace:       d.Namespace,
			Labels:          lbls,
			OwnerReferences: []types.OwnerReference{*types.NewControllerRef(d, GVK)},
		},
		Spec: types.ReplicaSetSpec{MinReadySeconds: d.Spec.MinReadySeconds, Selector: sel, Template: tmpl},
	}
	n := newRSNewReplicas(d, rss, nil)
	rs.Spec.Replicas = &n
	setNewRSAnnotations(d, rs, revision)
	setReplicasAnnotations(rs, replicasOf(d.Spec.Replicas), replicasOf(d.Spec.Replicas)+maxSurge(d))

	rc := sdk.Typed[*types.ReplicaSet](c.client).Namespace(d.Namespace)
	out, err := rc.Create(ctx, rs)
	if err == nil {
		c.writes.record(sdk.KeyFunc(d), out)
		c.Recorder().Eventf(d, types.EventTypeNormal, "ScalingReplicaSet", "Scaled up replica set %s from 0 to %d", out.Name, n)
		if hasProgressDeadline(d) {
			setCondition(&d.Status, newCondition(types.DeploymentProgressing, types.ConditionTrue, ReasonNewRSCreated,
				fmt.Sprintf("Created new replica set %q", out.Name), c.now()))
			if err := c.writeStatus(ctx, d); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	if !sdk.IsAlreadyExists(err) {
		if hasProgressDeadline(d) {
			setCondition(&d.Status, newCondition(types.DeploymentProgressing, types.ConditionFalse, ReasonFailedRSCreate, err.Error(), c.now()))
			_ = c.writeStatus(ctx, d) // the create error is what matters
		}
		return nil, fmt.Errorf("create replicaset %s/%s: %w", rs.Namespace, rs.Name, err)
	}
	// The name is taken: by our own ReplicaSet not yet in the cache (use
	// it), or by another object (bump collisionCount and retry).
	cur, gerr := rc.Get(ctx, rs.Name)
	if gerr != nil {
		return nil, fmt.Errorf("get replicaset %s/%s after a name collision: %w", rs.Namespace, rs.Name, gerr)
	}
	if types.IsControlledBy(cur, d) && EqualIgnoreHash(&cur.Spec.Template, &d.Spec.Template) {
		return cur, nil
	}
	cc := int32(0)
	if d.Status.CollisionCount != nil {
		cc = *d.Status.CollisionCount
	}
	cc++
	d.Status.CollisionCount = &cc
	if err := c.writeStatus(ctx, d); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("replicaset %s/%s: %w (collisionCount now %d)", rs.Namespace, rs.Name, errHashCollision, cc)
}

// setDeploymentRevision sets the Deployment's revision annotation.
func (c *Controller) setDeploymentRevision(ctx context.Context, d *types.Deployment, revision string) error {
	if revision == "" || d.Annotations[RevisionAnnotation] == revision {
		return nil
	}
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	d.Annotations[RevisionAnnotation] = revision
	out, err := sdk.Typed[*types.Deployment](c.client).Namespace(d.Namespace).Update(ctx, d)
	if err != nil {
		return fmt.Errorf("set revision of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	d.ResourceVersion = out.ResourceVersion
	d.Generation = out.Generation
	return nil
}

// scaleReplicaSet sets rs's replicas (and replicas annotations).
func (c *Controller) scaleReplicaSet(ctx context.Context, rs *types.ReplicaSet, n int32, d *types.Deployment) (*types.ReplicaSet, error) {
	cp := types.Clone(rs)
	annotations := setReplicasAnnotations(cp, replicasOf(d.Spec.Replicas), replicasOf(d.Spec.Replicas)+maxSurge(d))
	if rsReplicas(rs) == n && !annotations {
		return rs, nil
	}
	cp.Spec.Replicas = &n
	out, err := sdk.Typed[*types.ReplicaSet](c.client).Namespace(cp.Namespace).Update(ctx, cp)
	if err != nil {
		return nil, fmt.Errorf("scale replicaset %s/%s to %d: %w", cp.Namespace, cp.Name, n, err)
	}
	c.writes.record(sdk.KeyFunc(d), out)
	if from := rsReplicas(rs); from != n {
		dir := "up"
		if n < from {
			dir = "down"
		}
		c.Recorder().Eventf(d, types.EventTypeNormal, "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d", dir, rs.Name, from, n)
	}
	return out, nil
}

// calculateStatus computes the Deployment's status from its ReplicaSets.
func (c *Controller) calculateStatus(d *types.Deployment, all []*types.ReplicaSet, newRS *types.ReplicaSet) types.DeploymentStatus {
	st := types.Clone(d.Status)
	st.ObservedGeneration = d.Generation
	st.Replicas, st.ReadyReplicas, st.AvailableReplicas, st.UpdatedReplicas = 0, 0, 0, 0
	for _, rs := range all {
		if rs == nil {
			continue
		}
		st.Replicas += rs.Status.Replicas
		st.ReadyReplicas += rs.Status.ReadyReplicas
		st.AvailableReplicas += rs.Status.AvailableReplicas
	}
	if newRS != nil {
		st.UpdatedReplicas = newRS.Status.Replicas
	}
	want := replicasOf(d.Spec.Replicas)
	st.UnavailableReplicas = max(want-st.AvailableReplicas, 0)
	if st.AvailableReplicas >= want-maxUnavailable(d) {
		setCondition(&st, newCondition(types.DeploymentAvailable, types.ConditionTrue, ReasonMinimumAvailable, "Deployment has minimum availability.", c.now()))
	} else {
		setCondition(&st, newCondition(types.DeploymentAvailable, types.ConditionFalse, ReasonMinimumUnavailabe, "Deployment does not have minimum availability.", c.now()))
	}
	if f := replicaFailure(newRS, all); f != nil {
		setCondition(&st, newCondition(types.DeploymentReplicaFailure, types.ConditionTrue, f.Reason, f.Message, c.now()))
	} else {
		removeCondition(&st, types.DeploymentReplicaFailure)
	}
	return st
}

// replicaFailure returns the ReplicaFailure condition of the new
// ReplicaSet, else of any other, or nil.
func replicaFailure(newRS *types.ReplicaSet, all []*types.ReplicaSet) *types.ReplicaSetCondition {
	for _, rs := range append([]*types.ReplicaSet{newRS}, all...) {
		if rs == nil {
			continue
		}
		for i, c := range rs.Status.Conditions {
			if c.Type == types.ReplicaSetReplicaFailure && c.Status == types.ConditionTrue {
				return &rs.Status.Conditions[i]
			}
		}
	}
	return nil
}

// syncStatus writes the computed status when it changed.
func (c *Controller) syncStatus(ctx context.Context, d *types.Deployment, st types.DeploymentStatus) error {
	if reflect.DeepEqual(d.Status, st) {
		return nil
	}
	d.Status = st
	err := c.writeStatus(ctx, d)
	if sdk.IsNotFound(err) {
		return nil
	}
	return err
}

func (c *Controller) syncStatusOnly(ctx context.Context, d *types.Deployment, rss []*types.ReplicaSet) error {
	newRS, oldRSs, err := c.getAllReplicaSets(ctx, d, rss, false)
	if err != nil {
		return err
	}
	return c.syncStatus(ctx, d, c.calculateStatus(d, append(oldRSs, newRS), newRS))
}
