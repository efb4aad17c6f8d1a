package deployment

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/wharfhq/wharf/api/labels"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/sdk"
)

// ownWrites remembers the resourceVersion of each ReplicaSet the
// controller last wrote until its informer cache shows that version, so
// that a sync does not compute from sizes its own earlier sync has
// already changed. Kubernetes relies on update conflicts for this, but a
// sync writes several ReplicaSets one after the other: when only the
// later write conflicts, the earlier one stays, computed from a stale
// size (issue 6: a cache still showing the new ReplicaSet at 3 of its 5
// replicas gave all 10 extra replicas of a scale-up to the old one, and
// the annotations then recorded the scale as done).
//
// It compares resourceVersions as numbers: Wharf's API server makes them
// from its store's increasing revisions (api/server formatRV).
type ownWrites struct {
	now func() time.Time

	mu sync.Mutex
	m  map[string]written // by ReplicaSet UID
}

type written struct {
	rv uint64
	at time.Time
}

func newOwnWrites(now func() time.Time) *ownWrites {
	return &ownWrites{now: now, m: map[string]written{}}
}

// record notes that the controller wrote rs (as the API server returned
// it), and forgets writes that have waited past
// controller.ExpectationsTimeout (their ReplicaSet deleted unseen).
func (w *ownWrites) record(rs *types.ReplicaSet) {
	rv, err := strconv.ParseUint(rs.ResourceVersion, 10, 64)
	if err != nil {
		return // not comparable: nothing to wait for
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	for uid, x := range w.m {
		if now.Sub(x.at) > controller.ExpectationsTimeout {
			delete(w.m, uid)
		}
	}
	if x, ok := w.m[rs.UID]; !ok || x.rv < rv {
		w.m[rs.UID] = written{rv: rv, at: now}
	}
}

// behind returns a ReplicaSet of rss (as the cache shows them) that is
// older than the controller's last write of it, or nil; the writes the
// cache has caught up with are forgotten.
func (w *ownWrites) behind(rss []*types.ReplicaSet) *types.ReplicaSet {
	w.mu.Lock()
	defer w.mu.Unlock()
	var stale *types.ReplicaSet
	for _, rs := range rss {
		x, ok := w.m[rs.UID]
		if !ok {
			continue
		}
		rv, err := strconv.ParseUint(rs.ResourceVersion, 10, 64)
		if err != nil || rv >= x.rv || w.now().Sub(x.at) > controller.ExpectationsTimeout {
			delete(w.m, rs.UID)
			continue
		}
		if stale == nil {
			stale = rs
		}
	}
	return stale
}

// sizesConfirmed reports whether the API server holds the active
// ReplicaSets of d that all shows, with the same replicas and
// max-replicas annotations. Proportional scaling writes the ReplicaSets
// one by one and records each share in its annotations, so a share
// computed from a stale size would stay for good; a write made by
// someone else is not in ownWrites, hence this one read before writing.
func (c *Controller) sizesConfirmed(ctx context.Context, d *types.Deployment, all []*types.ReplicaSet) (bool, error) {
	sel, err := labels.FromLabelSelector(d.Spec.Selector)
	if err != nil {
		return false, fmt.Errorf("selector of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	list, err := sdk.Typed[*types.ReplicaSet](c.client).Namespace(d.Namespace).List(ctx, sdk.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return false, fmt.Errorf("list replicasets of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	seen := map[string]*types.ReplicaSet{}
	for _, rs := range all {
		seen[rs.UID] = rs
	}
	live := 0
	for _, rs := range list.Items {
		if !types.IsControlledBy(rs, d) || rsReplicas(rs) == 0 {
			continue
		}
		live++
		v, ok := seen[rs.UID]
		if !ok || rsReplicas(v) != rsReplicas(rs) || v.Annotations[MaxReplicasAnnotation] != rs.Annotations[MaxReplicasAnnotation] {
			return false, nil
		}
	}
	return live == len(all), nil
}
