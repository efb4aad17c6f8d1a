// Package replicaset is the ReplicaSet controller: it keeps spec.replicas
// Pods matching a ReplicaSet's selector, creating them from the template
// (in slow-start batches) and deleting the least useful first, and reports
// replicas, fullyLabeledReplicas, readyReplicas, availableReplicas and
// observedGeneration in the status.
package replicaset

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/wharfhq/wharf/api/labels"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/sdk"
)

// Name is the controller's name in logs and in the manager.
const Name = "replicaset"

// BurstReplicas caps the Pods created or deleted in one sync, as
// Kubernetes does; the next sync continues.
const BurstReplicas = 500

// GVK is the kind this controller manages.
var GVK = types.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"}

// Controller is the ReplicaSet controller.
type Controller struct {
	*controller.Controller
	client       *sdk.Client
	rsLister     *sdk.TypedLister[*types.ReplicaSet]
	podLister    *sdk.TypedLister[*types.Pod]
	expectations *controller.Expectations
	now          func() time.Time
}

var _ controller.Runner = (*Controller)(nil)

// New returns a ReplicaSet controller over cc's shared informers.
func New(cc *controller.Context) (*Controller, error) {
	rsRes, err := sdk.ResourceOf[*types.ReplicaSet]()
	if err != nil {
		return nil, err
	}
	podRes, err := sdk.ResourceOf[*types.Pod]()
	if err != nil {
		return nil, err
	}
	rsInf := cc.Factory.Informer(rsRes, sdk.InformerOptions{Indexers: controller.ClaimIndexers()})
	podInf := cc.Factory.Informer(podRes, sdk.InformerOptions{Indexers: controller.ClaimIndexers()})
	c := &Controller{
		client:       cc.Client,
		rsLister:     sdk.ListerFor[*types.ReplicaSet](rsInf),
		podLister:    sdk.ListerFor[*types.Pod](podInf),
		expectations: controller.NewExpectations(),
		now:          time.Now,
	}
	c.Controller = controller.New(cc, Name, c.sync)
	c.Watch(rsInf)
	c.WaitFor(podInf)
	podInf.AddEventHandler(&controller.DependentHandler[*types.ReplicaSet]{
		Controller: c.Controller, Owners: c.rsLister, Kind: GVK.Kind, Expectations: c.expectations,
		Selector: func(rs *types.ReplicaSet) (labels.Selector, error) { return labels.FromLabelSelector(rs.Spec.Selector) },
		Updated:  c.podUpdated,
	})
	return c, nil
}

// podUpdated re-checks a ReplicaSet when one of its Pods has just become
// ready and will become available after minReadySeconds.
func (c *Controller) podUpdated(rs *types.ReplicaSet, old, cur types.Object) {
	if d := controller.AvailableIn(cur.(*types.Pod), rs.Spec.MinReadySeconds, c.now()); d > 0 && !controller.IsPodReady(old.(*types.Pod)) {
		c.EnqueueAfter(rs, d)
	}
}

// sync reconciles one ReplicaSet.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name := sdk.SplitKey(key)
	rs, err := c.rsLister.Get(ns, name)
	if sdk.IsNotFound(err) {
		c.expectations.Delete(key)
		return nil
	}
	if err != nil {
		return err
	}
	sel, err := labels.FromLabelSelector(rs.Spec.Selector)
	if err != nil || sel.Empty() {
		// The API validates selectors; an unusable one is not retried.
		c.Logger().Warn("invalid selector", "replicaset", key, "err", err)
		return nil
	}
	needsSync := c.expectations.Satisfied(key)

	all, err := controller.Candidates(c.podLister, rs)
	if err != nil {
		return err
	}
	rm := &controller.RefManager{Client: c.client, Owner: rs, OwnerGVK: GVK, Selector: sel, Fresh: controller.RecheckOwner(c.client, rs)}
	pods, claimErr := controller.Claim(ctx, rm, controller.FilterActivePods(all))

	var manageErr error
	if needsSync && rs.DeletionTimestamp == nil && claimErr == nil {
		var deleted map[string]bool
		deleted, manageErr = c.manage(ctx, key, rs, pods)
		// The Pods just deleted no longer count: a status that still had
		// them available would let a Deployment scale down below its
		// maxUnavailable before this ReplicaSet syncs again.
		pods = slices.DeleteFunc(slices.Clone(pods), func(p *types.Pod) bool { return deleted[p.UID] })
	}
	status := c.status(rs, pods, manageErr)
	if err := c.updateStatus(ctx, rs, status); err != nil {
		return errors.Join(claimErr, manageErr, err)
	}
	if manageErr == nil && claimErr == nil && rs.Spec.MinReadySeconds > 0 &&
		status.ReadyReplicas == replicas(rs) && status.AvailableReplicas != replicas(rs) {
		c.Queue().AddAfter(key, time.Duration(rs.Spec.MinReadySeconds)*time.Second)
	}
	return errors.Join(claimErr, manageErr)
}

func replicas(rs *types.ReplicaSet) int32 {
	if rs.Spec.Replicas == nil {
		return 1
	}
	return *rs.Spec.Replicas
}

// manage creates or deletes Pods to reach spec.replicas. It returns the
// UIDs of the Pods it deleted.
func (c *Controller) manage(ctx context.Context, key string, rs *types.ReplicaSet, pods []*types.Pod) (map[string]bool, error) {
	diff := len(pods) - int(replicas(rs))
	switch {
	case diff < 0:
		n := min(-diff, BurstReplicas)
		c.expectations.ExpectCreations(key, n)
		created, err := controller.SlowStartBatch(ctx, n, controller.SlowStartInitialBatchSize, func(ctx context.Context) error {
			pod := controller.PodFromTemplate(&rs.Spec.Template, rs, GVK, rs.Name)
			out, err := sdk.Typed[*types.Pod](c.client).Namespace(rs.Namespace).Create(ctx, pod)
			if err != nil {
				c.Recorder().Eventf(rs, types.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
				return fmt.Errorf("create pod for replicaset %s: %w", key, err)
			}
			c.Recorder().Eventf(rs, types.EventTypeNormal, "SuccessfulCreate", "Created pod: %s", out.Name)
			return nil
		})
		// Creates that failed or were skipped will never be observed.
		for range n - created {
			c.expectations.CreationObserved(key)
		}
		return nil, err
	case diff > 0:
		n := min(diff, BurstReplicas)
		sorted := append([]*types.Pod(nil), pods...)
		sort.SliceStable(sorted, func(i, j int) bool { return controller.DeletionLess(sorted[i], sorted[j]) })
		victims := sorted[:n]
		uids := make([]string, len(victims))
		for i, p := range victims {
			uids[i] = p.UID
		}
		c.expectations.ExpectDeletions(key, uids)
		var mu sync.Mutex
		var errs []error
		deleted := make(map[string]bool, n)
		var wg sync.WaitGroup
		for _, p := range victims {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := sdk.Typed[*types.Pod](c.client).Namespace(p.Namespace).Delete(ctx, p.Name, types.DeleteOptions{})
				if err == nil || sdk.IsNotFound(err) {
					mu.Lock()
					deleted[p.UID] = true
					mu.Unlock()
				}
				if err == nil {
					c.Recorder().Eventf(rs, types.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %s", p.Name)
				} else {
					c.expectations.DeletionObserved(key, p.UID)
					if !sdk.IsNotFound(err) {
						c.Recorder().Eventf(rs, types.EventTypeWarning, "FailedDelete", "Error deleting: %v", err)
						mu.Lock()
						errs = append(errs, fmt.Errorf("delete pod %s/%s of replicaset %s: %w", p.Namespace, p.Name, key, err))
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		return deleted, errors.Join(errs...)
	}
	return nil, nil
}

// status computes the ReplicaSet's status from its Pods.
func (c *Controller) status(rs *types.ReplicaSet, pods []*types.Pod, manageErr error) types.ReplicaSetStatus {
	st := types.Clone(rs.Status)
	tmplSel := labels.SelectorFromSet(rs.Spec.Template.Labels)
	now := c.now()
	st.Replicas, st.FullyLabeledReplicas, st.ReadyReplicas, st.AvailableReplicas = int32(len(pods)), 0, 0, 0
	for _, p := range pods {
		if tmplSel.Matches(p.Labels) {
			st.FullyLabeledReplicas++
		}
		if controller.IsPodReady(p) {
			st.ReadyReplicas++
			if controller.IsPodAvailable(p, rs.Spec.MinReadySeconds, now) {
				st.AvailableReplicas++
			}
		}
	}
	st.ObservedGeneration = rs.Generation
	st.Conditions = setFailureCondition(st.Conditions, manageErr, len(pods) > int(replicas(rs)))
	return st
}

// setFailureCondition sets ReplicaFailure True while creating or deleting
// Pods fails, and removes it when that works again.
func setFailureCondition(conds []types.ReplicaSetCondition, manageErr error, deleting bool) []types.ReplicaSetCondition {
	var out []types.ReplicaSetCondition
	for _, c := range conds {
		if c.Type != types.ReplicaSetReplicaFailure {
			out = append(out, c)
		}
	}
	if manageErr == nil {
		return out
	}
	reason := "FailedCreate"
	if deleting {
		reason = "FailedDelete"
	}
	for _, c := range conds {
		if c.Type == types.ReplicaSetReplicaFailure && c.Message == manageErr.Error() {
			return append(out, c)
		}
	}
	return append(out, types.ReplicaSetCondition{
		Type: types.ReplicaSetReplicaFailure, Status: types.ConditionTrue,
		LastTransitionTime: types.Now(), Reason: reason, Message: manageErr.Error(),
	})
}

// updateStatus writes status when it changed.
func (c *Controller) updateStatus(ctx context.Context, rs *types.ReplicaSet, status types.ReplicaSetStatus) error {
	if reflect.DeepEqual(rs.Status, status) {
		return nil
	}
	upd := types.Clone(rs)
	upd.Status = status
	_, err := sdk.Typed[*types.ReplicaSet](c.client).Namespace(rs.Namespace).UpdateStatus(ctx, upd)
	if sdk.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("update status of replicaset %s/%s: %w", rs.Namespace, rs.Name, err)
	}
	return nil
}
