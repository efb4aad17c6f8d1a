// Package statefulset is the StatefulSet controller (apps/v1): Pods
// NAME-0..NAME-(N-1) with stable names, hostnames and subdomain
// (spec.serviceName), created in order with each Running and Ready before
// the next and removed in reverse one at a time (OrderedReady), or all at
// once (Parallel); RollingUpdate from the highest ordinal down to
// spec.updateStrategy.rollingUpdate.partition, each Pod Ready before the
// next, or OnDelete; ControllerRevisions for the templates and the
// controller-revision-hash label on Pods. volumeClaimTemplates are not
// supported.
//
// Pods have fixed names, so the controller needs no expectations: a
// create the cache does not show yet fails with AlreadyExists, a repeated
// delete is a no-op (deletes carry the Pod's UID as precondition).
package statefulset

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wharfhq/wharf/api/labels"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/jobs/statefulset/history"
	"github.com/wharfhq/wharf/sdk"
)

// Name is the controller's name in logs and in the manager.
const Name = "statefulset"

// Pod labels the controller sets.
const (
	// PodNameLabel carries the Pod's own name (a Service can select one).
	PodNameLabel = "statefulset.kubernetes.io/pod-name"
	// PodIndexLabel carries the Pod's ordinal.
	PodIndexLabel = "apps.kubernetes.io/pod-index"
)

// DefaultRevisionHistoryLimit is spec.revisionHistoryLimit when unset.
const DefaultRevisionHistoryLimit = 10

// GVK is the kind this controller manages.
var GVK = types.GroupVersionKind{Group: "apps", Version: "v1", Kind: "StatefulSet"}

// Controller is the StatefulSet controller.
type Controller struct {
	*controller.Controller
	client    *sdk.Client
	setLister *sdk.TypedLister[*types.StatefulSet]
	podLister *sdk.TypedLister[*types.Pod]
	revLister *sdk.TypedLister[*types.ControllerRevision]
	now       func() time.Time
}

var _ controller.Runner = (*Controller)(nil)

// New returns a StatefulSet controller over cc's shared informers.
func New(cc *controller.Context) (*Controller, error) {
	setRes, err := sdk.ResourceOf[*types.StatefulSet]()
	if err != nil {
		return nil, err
	}
	podRes, err := sdk.ResourceOf[*types.Pod]()
	if err != nil {
		return nil, err
	}
	revRes, err := sdk.ResourceOf[*types.ControllerRevision]()
	if err != nil {
		return nil, err
	}
	nsIdx := sdk.InformerOptions{Indexers: map[string]sdk.IndexFunc{sdk.IndexNamespace: sdk.NamespaceIndex}}
	setInf := cc.Factory.Informer(setRes, nsIdx)
	podInf := cc.Factory.Informer(podRes, nsIdx)
	revInf := cc.Factory.Informer(revRes, sdk.InformerOptions{Indexers: map[string]sdk.IndexFunc{sdk.IndexControllerUID: sdk.ControllerUIDIndex}})
	c := &Controller{
		client:    cc.Client,
		setLister: sdk.ListerFor[*types.StatefulSet](setInf),
		podLister: sdk.ListerFor[*types.Pod](podInf),
		revLister: sdk.ListerFor[*types.ControllerRevision](revInf),
		now:       time.Now,
	}
	c.Controller = controller.New(cc, Name, c.sync)
	c.Watch(setInf)
	c.WaitFor(podInf)
	c.WaitFor(revInf)
	podInf.AddEventHandler(sdk.HandlerFuncs{
		AddFunc:    c.podChanged,
		UpdateFunc: func(old, cur types.Object) { c.podChanged(old); c.podChanged(cur) },
		DeleteFunc: c.podChanged,
	})
	return c, nil
}

// podChanged enqueues the Pod's StatefulSet, or the sets that may adopt
// it.
func (c *Controller) podChanged(obj types.Object) {
	pod := obj.(*types.Pod)
	if ref := types.GetControllerOf(pod); ref != nil {
		if set, ok := controller.ResolveControllerRef(c.setLister, pod.Namespace, ref, GVK.Kind); ok {
			c.Enqueue(set)
		}
		return
	}
	sets, _ := c.setLister.ByIndex(sdk.IndexNamespace, pod.Namespace)
	for _, set := range sets {
		if sel, err := labels.FromLabelSelector(set.Spec.Selector); err == nil && !sel.Empty() && sel.Matches(pod.Labels) {
			c.Enqueue(set)
		}
	}
}

// ordinal returns the ordinal of a Pod named SET-N of set.
func ordinal(set *types.StatefulSet, pod *types.Pod) (int, bool) {
	rest, ok := strings.CutPrefix(pod.Name, set.Name+"-")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 || strconv.Itoa(n) != rest {
		return 0, false
	}
	return n, true
}

func replicas(set *types.StatefulSet) int {
	if set.Spec.Replicas == nil {
		return 1
	}
	return int(*set.Spec.Replicas)
}

func startOrdinal(set *types.StatefulSet) int {
	if set.Spec.Ordinals == nil {
		return 0
	}
	return int(set.Spec.Ordinals.Start)
}

func partition(set *types.StatefulSet) int {
	ru := set.Spec.UpdateStrategy.RollingUpdate
	if ru == nil || ru.Partition == nil {
		return 0
	}
	return int(*ru.Partition)
}

func parallel(set *types.StatefulSet) bool {
	return set.Spec.PodManagementPolicy == types.ParallelPodManagement
}

func onDelete(set *types.StatefulSet) bool {
	return set.Spec.UpdateStrategy.Type == types.OnDeleteStatefulSetStrategyType
}

// revisionOf returns the controller-revision-hash label of a Pod as a
// revision name.
func revisionOf(set *types.StatefulSet, pod *types.Pod) string {
	h := pod.Labels[history.HashLabel]
	if h == "" {
		return ""
	}
	return set.Name + "-" + h
}

// healthy: Running and Ready, not being deleted.
func healthy(p *types.Pod) bool {
	return p.DeletionTimestamp == nil && p.Status.Phase == types.PodRunning && controller.IsPodReady(p)
}

func finished(p *types.Pod) bool {
	return p.Status.Phase == types.PodFailed || p.Status.Phase == types.PodSucceeded
}

// sync reconciles one StatefulSet.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name := sdk.SplitKey(key)
	set, err := c.setLister.Get(ns, name)
	if sdk.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	sel, err := labels.FromLabelSelector(set.Spec.Selector)
	if err != nil || sel.Empty() {
		c.Logger().Warn("invalid selector", "statefulset", key, "err", err)
		return nil
	}
	all, err := c.podLister.ByIndex(sdk.IndexNamespace, ns)
	if err != nil {
		return err
	}
	rm := &controller.RefManager{Client: c.client, Owner: set, OwnerGVK: GVK, Selector: sel, Fresh: controller.RecheckOwner(c.client, set)}
	pods, err := controller.Claim(ctx, rm, all)
	if err != nil {
		return err
	}
	if set.DeletionTimestamp != nil {
		return nil
	}
	revs, err := c.revLister.ByIndex(sdk.IndexControllerUID, set.UID)
	if err != nil {
		return err
	}
	h := &history.History{Client: c.client, Owner: set, OwnerGVK: GVK, Labels: set.Spec.Selector.MatchLabels}
	update, owned, err := h.Current(ctx, revs, &set.Spec.Template, set.Status.CollisionCount)
	if errors.Is(err, history.ErrHashCollision) {
		st := types.Clone(set.Status)
		st.CollisionCount = history.NextCollisionCount(st.CollisionCount)
		return errors.Join(err, c.updateStatus(ctx, set, st))
	}
	if err != nil {
		return err
	}
	current := update
	for _, r := range owned {
		if r.Name == set.Status.CurrentRevision {
			current = r
		}
	}
	manageErr := c.manage(ctx, set, pods, current, update)
	st := c.status(set, pods, current, update)
	live := map[string]bool{current.Name: true, update.Name: true}
	for _, p := range pods {
		live[revisionOf(set, p)] = true
	}
	limit := int32(DefaultRevisionHistoryLimit)
	if set.Spec.RevisionHistoryLimit != nil {
		limit = *set.Spec.RevisionHistoryLimit
	}
	truncErr := h.Truncate(ctx, owned, live, limit)
	return errors.Join(manageErr, truncErr, c.updateStatus(ctx, set, st))
}

// manage creates, deletes and updates Pods, in order.
func (c *Controller) manage(ctx context.Context, set *types.StatefulSet, pods []*types.Pod, current, update *types.ControllerRevision) error {
	start, n := startOrdinal(set), replicas(set)
	replicaPods := make([]*types.Pod, n)
	var condemned []*types.Pod // outside [start, start+n), highest first
	for _, p := range pods {
		ord, ok := ordinal(set, p)
		switch {
		case !ok:
			continue
		case ord >= start && ord < start+n:
			replicaPods[ord-start] = p
		default:
			condemned = append(condemned, p)
		}
	}
	sortDesc(set, condemned)
	monotonic := !parallel(set)

	// Create missing Pods and replace finished ones, lowest ordinal first.
	var errs []error
	for i, p := range replicaPods {
		ord := start + i
		if p == nil {
			rev := update
			if current.Name != update.Name && !onDelete(set) && ord < start+partition(set) {
				rev = current
			}
			if err := c.createPod(ctx, set, ord, rev); err != nil {
				errs = append(errs, err)
			}
			if monotonic {
				return errors.Join(errs...)
			}
			continue
		}
		if finished(p) && p.DeletionTimestamp == nil {
			if err := c.deletePod(ctx, set, p); err != nil {
				errs = append(errs, err)
			}
			if monotonic {
				return errors.Join(errs...)
			}
			continue
		}
		if monotonic && !healthy(p) {
			return nil // each Pod Running and Ready before the next
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	// Remove the Pods beyond the replicas, highest first.
	for _, p := range condemned {
		if p.DeletionTimestamp != nil {
			if monotonic {
				return nil
			}
			continue
		}
		if monotonic && !allHealthy(replicaPods) {
			return nil
		}
		if err := c.deletePod(ctx, set, p); err != nil {
			errs = append(errs, err)
		}
		if monotonic {
			return errors.Join(errs...)
		}
	}
	if len(errs) > 0 || onDelete(set) {
		return errors.Join(errs...)
	}

	// Rolling update: from the highest ordinal down to the partition, one
	// Pod at a time, each Running and Ready before the next.
	for i := len(replicaPods) - 1; i >= partition(set); i-- {
		p := replicaPods[i]
		if p == nil {
			return nil
		}
		if revisionOf(set, p) != update.Name {
			if p.DeletionTimestamp != nil {
				return nil
			}
			return c.deletePod(ctx, set, p)
		}
		if !healthy(p) {
			return nil
		}
	}
	return nil
}

func allHealthy(pods []*types.Pod) bool {
	for _, p := range pods {
		if p == nil || !healthy(p) {
			return false
		}
	}
	return true
}

func sortDesc(set *types.StatefulSet, pods []*types.Pod) {
	sort.Slice(pods, func(i, j int) bool {
		a, _ := ordinal(set, pods[i])
		b, _ := ordinal(set, pods[j])
		return a > b
	})
}

// NewPod returns the Pod of ordinal ord made from revision rev's template.
func NewPod(set *types.StatefulSet, ord int, template *types.PodTemplateSpec, hash string) *types.Pod {
	name := fmt.Sprintf("%s-%d", set.Name, ord)
	pod := controller.PodFromTemplate(template, set, GVK, set.Name)
	pod.GenerateName = ""
	pod.Name = name
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[PodNameLabel] = name
	pod.Labels[PodIndexLabel] = strconv.Itoa(ord)
	pod.Labels[history.HashLabel] = hash
	pod.Spec.Hostname = name
	pod.Spec.Subdomain = set.Spec.ServiceName
	return pod
}

func (c *Controller) createPod(ctx context.Context, set *types.StatefulSet, ord int, rev *types.ControllerRevision) error {
	tmpl, err := history.Template(rev)
	if err != nil {
		return err
	}
	pod := NewPod(set, ord, tmpl, strings.TrimPrefix(rev.Name, set.Name+"-"))
	_, err = sdk.Typed[*types.Pod](c.client).Namespace(set.Namespace).Create(ctx, pod)
	switch {
	case err == nil:
		c.Recorder().Eventf(set, types.EventTypeNormal, "SuccessfulCreate", "create Pod %s in StatefulSet %s successful", pod.Name, set.Name)
	case !sdk.IsAlreadyExists(err):
		c.Recorder().Eventf(set, types.EventTypeWarning, "FailedCreate", "create Pod %s in StatefulSet %s failed error: %v", pod.Name, set.Name, err)
		return fmt.Errorf("create pod %s of statefulset %s/%s: %w", pod.Name, set.Namespace, set.Name, err)
	}
	return nil
}

func (c *Controller) deletePod(ctx context.Context, set *types.StatefulSet, p *types.Pod) error {
	err := sdk.Typed[*types.Pod](c.client).Namespace(p.Namespace).Delete(ctx, p.Name,
		types.DeleteOptions{Preconditions: &types.Preconditions{UID: &p.UID}})
	switch {
	case err == nil:
		c.Recorder().Eventf(set, types.EventTypeNormal, "SuccessfulDelete", "delete Pod %s in StatefulSet %s successful", p.Name, set.Name)
	case !sdk.IsNotFound(err) && !sdk.IsConflict(err):
		c.Recorder().Eventf(set, types.EventTypeWarning, "FailedDelete", "delete Pod %s in StatefulSet %s failed error: %v", p.Name, set.Name, err)
		return fmt.Errorf("delete pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	return nil
}

// status computes the StatefulSet's status.
func (c *Controller) status(set *types.StatefulSet, pods []*types.Pod, current, update *types.ControllerRevision) types.StatefulSetStatus {
	st := types.Clone(set.Status)
	st.ObservedGeneration = set.Generation
	st.Replicas, st.ReadyReplicas, st.AvailableReplicas, st.CurrentReplicas, st.UpdatedReplicas = 0, 0, 0, 0, 0
	now := c.now()
	for _, p := range pods {
		if _, ok := ordinal(set, p); !ok || p.DeletionTimestamp != nil {
			continue
		}
		st.Replicas++
		if healthy(p) {
			st.ReadyReplicas++
			if controller.IsPodAvailable(p, set.Spec.MinReadySeconds, now) {
				st.AvailableReplicas++
			} else if d := controller.AvailableIn(p, set.Spec.MinReadySeconds, now); d > 0 {
				c.EnqueueAfter(set, d)
			}
		}
		if revisionOf(set, p) == current.Name {
			st.CurrentReplicas++
		}
		if revisionOf(set, p) == update.Name {
			st.UpdatedReplicas++
		}
	}
	st.CurrentRevision, st.UpdateRevision = current.Name, update.Name
	// The update is complete once every replica runs it and is ready.
	if n := int32(replicas(set)); st.UpdatedReplicas == n && st.ReadyReplicas == n && st.Replicas == n {
		st.CurrentRevision = update.Name
		st.CurrentReplicas = st.UpdatedReplicas
	}
	return st
}

// updateStatus writes status when it changed.
func (c *Controller) updateStatus(ctx context.Context, set *types.StatefulSet, status types.StatefulSetStatus) error {
	if reflect.DeepEqual(set.Status, status) {
		return nil
	}
	upd := types.Clone(set)
	upd.Status = status
	_, err := sdk.Typed[*types.StatefulSet](c.client).Namespace(set.Namespace).UpdateStatus(ctx, upd)
	if sdk.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("update status of statefulset %s/%s: %w", set.Namespace, set.Name, err)
	}
	return nil
}
