package deployment

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

// allOf returns the old ReplicaSets and the new one (when there is one).
func allOf(newRS *types.ReplicaSet, oldRSs []*types.ReplicaSet) []*types.ReplicaSet {
	all := append([]*types.ReplicaSet(nil), oldRSs...)
	if newRS != nil {
		all = append(all, newRS)
	}
	return all
}

// rolloutRolling does one step of a rolling update: scale the new
// ReplicaSet up within maxSurge, or the old ones down within
// maxUnavailable, then report.
func (c *Controller) rolloutRolling(ctx context.Context, d *types.Deployment, rss []*types.ReplicaSet) error {
	newRS, oldRSs, err := c.getAllReplicaSets(ctx, d, rss, true)
	if err != nil {
		return err
	}
	all := allOf(newRS, oldRSs)
	scaledUp, err := c.reconcileNewReplicaSet(ctx, all, newRS, d)
	if err != nil {
		return err
	}
	if scaledUp {
		return c.syncRolloutStatus(ctx, all, newRS, d)
	}
	scaledDown, err := c.reconcileOldReplicaSets(ctx, all, filterActive(oldRSs), newRS, d)
	if err != nil {
		return err
	}
	if scaledDown {
		return c.syncRolloutStatus(ctx, all, newRS, d)
	}
	if st := c.calculateStatus(d, all, newRS); complete(d, &st) {
		if err := c.cleanup(ctx, d, oldRSs); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, all, newRS, d)
}

func (c *Controller) reconcileNewReplicaSet(ctx context.Context, all []*types.ReplicaSet, newRS *types.ReplicaSet, d *types.Deployment) (bool, error) {
	if newRS == nil {
		return false, nil
	}
	want := replicasOf(d.Spec.Replicas)
	cur := rsReplicas(newRS)
	var n int32
	switch {
	case cur == want:
		return false, nil
	case cur > want:
		n = want
	default:
		n = newRSNewReplicas(d, all, newRS)
	}
	if n == cur {
		return false, nil
	}
	_, err := c.scaleReplicaSet(ctx, newRS, n, d)
	return err == nil, err
}

// reconcileOldReplicaSets scales old ReplicaSets down as far as
// maxUnavailable allows: first their unhealthy Pods, then healthy ones.
func (c *Controller) reconcileOldReplicaSets(ctx context.Context, all, oldRSs []*types.ReplicaSet, newRS *types.ReplicaSet, d *types.Deployment) (bool, error) {
	if sumReplicas(oldRSs) == 0 {
		return false, nil
	}
	minAvailable := replicasOf(d.Spec.Replicas) - maxUnavailable(d)
	var newUnavailable int32
	if newRS != nil {
		newUnavailable = rsReplicas(newRS) - newRS.Status.AvailableReplicas
	}
	maxScaledDown := sumReplicas(all) - minAvailable - newUnavailable
	if maxScaledDown <= 0 {
		return false, nil
	}
	oldRSs, cleaned, err := c.cleanupUnhealthy(ctx, oldRSs, d, maxScaledDown)
	if err != nil {
		return false, err
	}
	all = allOf(newRS, oldRSs)
	scaled, err := c.scaleDownOldForRollingUpdate(ctx, all, oldRSs, d)
	if err != nil {
		return false, err
	}
	return cleaned+scaled > 0, nil
}

// cleanupUnhealthy scales old ReplicaSets down by their unavailable Pods,
// up to maxCleanup in all; it returns the ReplicaSets as updated.
func (c *Controller) cleanupUnhealthy(ctx context.Context, oldRSs []*types.ReplicaSet, d *types.Deployment, maxCleanup int32) ([]*types.ReplicaSet, int32, error) {
	sorted := append([]*types.ReplicaSet(nil), oldRSs...)
	sortByCreation(sorted)
	var total int32
	for i, rs := range sorted {
		if total >= maxCleanup {
			break
		}
		unhealthy := rsReplicas(rs) - rs.Status.AvailableReplicas
		if rsReplicas(rs) == 0 || unhealthy <= 0 {
			continue
		}
		n := min(maxCleanup-total, unhealthy)
		out, err := c.scaleReplicaSet(ctx, rs, rsReplicas(rs)-n, d)
		if err != nil {
			return nil, total, err
		}
		sorted[i] = out
		total += n
	}
	return sorted, total, nil
}

// scaleDownOldForRollingUpdate scales old ReplicaSets (oldest first) down
// by as many Pods as are available beyond minAvailable.
func (c *Controller) scaleDownOldForRollingUpdate(ctx context.Context, all, oldRSs []*types.ReplicaSet, d *types.Deployment) (int32, error) {
	minAvailable := replicasOf(d.Spec.Replicas) - maxUnavailable(d)
	// A ReplicaSet keeps at most spec.replicas Pods: when its status still
	// counts Pods it has been scaled below (its controller has not synced
	// since), those are about to go and are not counted. Kubernetes sums
	// the statuses as they are, and can then go below minAvailable.
	var available int32
	for _, rs := range all {
		available += min(rs.Status.AvailableReplicas, rsReplicas(rs))
	}
	if available <= minAvailable {
		return 0, nil
	}
	sorted := append([]*types.ReplicaSet(nil), oldRSs...)
	sortByCreation(sorted)
	budget := available - minAvailable
	var total int32
	for _, rs := range sorted {
		if total >= budget {
			break
		}
		if rsReplicas(rs) == 0 {
			continue
		}
		n := min(rsReplicas(rs), budget-total)
		if _, err := c.scaleReplicaSet(ctx, rs, rsReplicas(rs)-n, d); err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// rolloutRecreate scales every old ReplicaSet to zero, waits for their
// Pods to be gone, then scales the new one up.
func (c *Controller) rolloutRecreate(ctx context.Context, d *types.Deployment, rss []*types.ReplicaSet) error {
	newRS, oldRSs, err := c.getAllReplicaSets(ctx, d, rss, false)
	if err != nil {
		return err
	}
	scaled := false
	for _, rs := range filterActive(oldRSs) {
		if _, err := c.scaleReplicaSet(ctx, rs, 0, d); err != nil {
			return err
		}
		scaled = true
	}
	if scaled {
		return c.syncRolloutStatus(ctx, allOf(newRS, oldRSs), newRS, d)
	}
	if c.oldPodsRunning(newRS, oldRSs) {
		return c.syncRolloutStatus(ctx, allOf(newRS, oldRSs), newRS, d)
	}
	if newRS == nil {
		newRS, oldRSs, err = c.getAllReplicaSets(ctx, d, rss, true)
		if err != nil {
			return err
		}
	}
	if want := replicasOf(d.Spec.Replicas); rsReplicas(newRS) != want {
		out, err := c.scaleReplicaSet(ctx, newRS, want, d)
		if err != nil {
			return err
		}
		newRS = out
	}
	all := allOf(newRS, oldRSs)
	if st := c.calculateStatus(d, all, newRS); complete(d, &st) {
		if err := c.cleanup(ctx, d, oldRSs); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, all, newRS, d)
}

// oldPodsRunning reports whether old ReplicaSets still have Pods that have
// not finished (including Pods being deleted).
func (c *Controller) oldPodsRunning(newRS *types.ReplicaSet, oldRSs []*types.ReplicaSet) bool {
	for _, rs := range oldRSs {
		if rs.Status.Replicas > 0 {
			return true
		}
		pods, _ := c.podLister.ByIndex(sdk.IndexControllerUID, rs.UID)
		for _, p := range pods {
			if p.Status.Phase != types.PodSucceeded && p.Status.Phase != types.PodFailed {
				return true
			}
		}
	}
	return false
}

// syncScale handles a paused Deployment or a change of spec.replicas:
// scale the ReplicaSets (proportionally during a rollout) without
// starting a new rollout.
func (c *Controller) syncScale(ctx context.Context, d *types.Deployment, rss []*types.ReplicaSet) error {
	newRS, oldRSs, err := c.getAllReplicaSets(ctx, d, rss, false)
	if err != nil {
		return err
	}
	if err := c.scale(ctx, d, newRS, oldRSs); err != nil {
		return err
	}
	if d.Spec.Paused {
		if err := c.cleanup(ctx, d, oldRSs); err != nil {
			return err
		}
	}
	// Re-read what scale wrote; the status is computed from ReplicaSet
	// statuses, which the ReplicaSet controller updates.
	all := allOf(newRS, oldRSs)
	return c.syncStatus(ctx, d, c.calculateStatus(d, all, newRS))
}

// scale sets the ReplicaSets' replicas for the Deployment's replicas: the
// one active ReplicaSet takes them all; during a rollout the change is
// spread in proportion to each ReplicaSet's size.
func (c *Controller) scale(ctx context.Context, d *types.Deployment, newRS *types.ReplicaSet, oldRSs []*types.ReplicaSet) error {
	want := replicasOf(d.Spec.Replicas)
	if one := activeOrLatest(newRS, oldRSs); one != nil {
		if rsReplicas(one) == want {
			return nil
		}
		_, err := c.scaleReplicaSet(ctx, one, want, d)
		return err
	}
	// The new ReplicaSet is saturated: the old ones go.
	if newRS != nil && rsReplicas(newRS) == want && newRS.Status.AvailableReplicas == want {
		for _, rs := range filterActive(oldRSs) {
			if _, err := c.scaleReplicaSet(ctx, rs, 0, d); err != nil {
				return err
			}
		}
		return nil
	}
	if !isRolling(d) {
		return nil
	}
	all := filterActive(allOf(newRS, oldRSs))
	current := sumReplicas(all)
	allowed := want
	if want > 0 {
		allowed += maxSurge(d)
	}
	toAdd := allowed - current
	// With nothing to add, Kubernetes still writes each ReplicaSet's
	// replicas annotations, which ends the scaling event (isScalingEvent)
	// so that the rollout goes on.
	if toAdd == 0 && allAnnotated(d, all) {
		return nil
	}
	if ok, err := c.sizesConfirmed(ctx, d, all); err != nil || !ok {
		// The cache is behind: its update of the ReplicaSets will
		// enqueue the Deployment again.
		return err
	}
	// Scale up largest (then newest) first; down smallest (then oldest).
	sort.SliceStable(all, func(i, j int) bool {
		a, b := rsReplicas(all[i]), rsReplicas(all[j])
		if a != b {
			if toAdd > 0 {
				return a > b
			}
			return a < b
		}
		if toAdd > 0 {
			return all[j].CreationTimestamp.Before(all[i].CreationTimestamp.Time)
		}
		return all[i].CreationTimestamp.Before(all[j].CreationTimestamp.Time)
	})
	sizes := make([]int32, len(all))
	var added int32
	for i, rs := range all {
		sizes[i] = rsReplicas(rs)
		if current == 0 {
			continue
		}
		p := proportion(rs, d, toAdd, added, allowed, current)
		sizes[i] += p
		added += p
	}
	if len(all) > 0 {
		sizes[0] = max(sizes[0]+toAdd-added, 0) // leftovers to the first
	}
	for i, rs := range all {
		if _, err := c.scaleReplicaSet(ctx, rs, sizes[i], d); err != nil {
			return err
		}
	}
	return nil
}

// allAnnotated reports whether every ReplicaSet of rss carries d's
// current desired and max replicas annotations.
func allAnnotated(d *types.Deployment, rss []*types.ReplicaSet) bool {
	want := replicasOf(d.Spec.Replicas)
	for _, rs := range rss {
		if !hasReplicasAnnotations(rs, want, want+maxSurge(d)) {
			return false
		}
	}
	return true
}

// proportion is rs's share of toAdd: its fraction of the Deployment's
// previous size (max-replicas annotation) scaled to the new size.
func proportion(rs *types.ReplicaSet, d *types.Deployment, toAdd, added, allowed, current int32) int32 {
	if rsReplicas(rs) == 0 || toAdd == 0 || toAdd == added {
		return 0
	}
	prev, err := strconv.Atoi(rs.Annotations[MaxReplicasAnnotation])
	var share int32
	if err == nil && prev > 0 {
		share = int32(float64(rsReplicas(rs))*float64(allowed)/float64(prev)+0.5) - rsReplicas(rs)
	} else {
		share = int32(float64(rsReplicas(rs)) * float64(toAdd) / float64(current))
	}
	left := toAdd - added
	if toAdd > 0 {
		return min(share, left)
	}
	return max(share, left)
}

// activeOrLatest returns the only active ReplicaSet, or the newest one
// when none is active, or nil when several are active.
func activeOrLatest(newRS *types.ReplicaSet, oldRSs []*types.ReplicaSet) *types.ReplicaSet {
	if newRS == nil && len(oldRSs) == 0 {
		return nil
	}
	active := filterActive(allOf(newRS, oldRSs))
	switch len(active) {
	case 0:
		if newRS != nil {
			return newRS
		}
		sorted := append([]*types.ReplicaSet(nil), oldRSs...)
		sortByCreation(sorted)
		return sorted[len(sorted)-1]
	case 1:
		return active[0]
	}
	return nil
}

// cleanup deletes the oldest old ReplicaSets beyond revisionHistoryLimit
// that have no Pods left.
func (c *Controller) cleanup(ctx context.Context, d *types.Deployment, oldRSs []*types.ReplicaSet) error {
	limit := int32(10)
	if d.Spec.RevisionHistoryLimit != nil {
		limit = *d.Spec.RevisionHistoryLimit
	}
	var alive []*types.ReplicaSet
	for _, rs := range oldRSs {
		if rs.DeletionTimestamp == nil {
			alive = append(alive, rs)
		}
	}
	diff := int32(len(alive)) - limit
	if diff <= 0 {
		return nil
	}
	sort.SliceStable(alive, func(i, j int) bool { return Revision(alive[i]) < Revision(alive[j]) })
	rc := sdk.Typed[*types.ReplicaSet](c.client).Namespace(d.Namespace)
	for _, rs := range alive[:diff] {
		if rs.Status.Replicas != 0 || rsReplicas(rs) != 0 || rs.Generation > rs.Status.ObservedGeneration {
			continue
		}
		err := rc.Delete(ctx, rs.Name, types.DeleteOptions{Preconditions: &types.Preconditions{UID: &rs.UID}})
		if err != nil && !sdk.IsNotFound(err) {
			return fmt.Errorf("delete old replicaset %s/%s: %w", rs.Namespace, rs.Name, err)
		}
	}
	return nil
}

// syncRolloutStatus updates the status and the Progressing condition, and
// requeues the Deployment for its progress deadline.
func (c *Controller) syncRolloutStatus(ctx context.Context, all []*types.ReplicaSet, newRS *types.ReplicaSet, d *types.Deployment) error {
	now := c.now()
	st := c.calculateStatus(d, all, newRS)
	if !hasProgressDeadline(d) {
		removeCondition(&st, types.DeploymentProgressing)
	}
	cur := getCondition(&st, types.DeploymentProgressing)
	isComplete := st.Replicas == st.UpdatedReplicas && cur != nil && cur.Reason == ReasonNewRSAvailable
	if hasProgressDeadline(d) && !isComplete && newRS != nil {
		switch {
		case complete(d, &st):
			setCondition(&st, newCondition(types.DeploymentProgressing, types.ConditionTrue, ReasonNewRSAvailable,
				fmt.Sprintf("ReplicaSet %q has successfully progressed.", newRS.Name), now))
		case progressing(d, &st):
			cond := newCondition(types.DeploymentProgressing, types.ConditionTrue, ReasonRSUpdated,
				fmt.Sprintf("ReplicaSet %q is progressing.", newRS.Name), now)
			if cur != nil && cur.Status == types.ConditionTrue {
				cond.LastTransitionTime = cur.LastTransitionTime
			}
			// Progress refreshes lastUpdateTime even with the same reason.
			removeCondition(&st, types.DeploymentProgressing)
			setCondition(&st, cond)
		case timedOut(d, &st, now):
			setCondition(&st, newCondition(types.DeploymentProgressing, types.ConditionFalse, ReasonTimedOut,
				fmt.Sprintf("ReplicaSet %q has timed out progressing.", newRS.Name), now))
		}
	}
	if err := c.syncStatus(ctx, d, st); err != nil {
		return err
	}
	c.requeueStuck(d, &st, now)
	return nil
}

// requeueStuck re-checks a rollout in progress when its deadline passes.
func (c *Controller) requeueStuck(d *types.Deployment, st *types.DeploymentStatus, now time.Time) {
	cond := getCondition(st, types.DeploymentProgressing)
	if !hasProgressDeadline(d) || cond == nil || complete(d, st) || cond.Reason == ReasonTimedOut || d.Spec.Paused {
		return
	}
	after := cond.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second).Sub(now)
	c.EnqueueAfter(d, max(after+time.Second, 0))
}
