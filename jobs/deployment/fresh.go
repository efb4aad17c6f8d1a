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

// ownWrites remembers the ReplicaSets the controller wrote for each
// Deployment, with the resourceVersions the API server gave the writes,
// until its informer cache shows them, so that a sync does not compute
// from sizes its own earlier sync has already changed. Kubernetes relies
// on update conflicts for this, but a sync writes several ReplicaSets one
// after the other: when only the later write conflicts, the earlier one
// stays, computed from a stale size (issue 6: a cache still showing the
// new ReplicaSet at 3 of its 5 replicas gave all 10 extra replicas of a
// scale-up to the old one, and its annotations then recorded the scale as
// done).
//
// It compares resourceVersions as numbers: Wharf's API server makes them
// from its store's increasing revisions (api/server formatRV), and an
// informer's watch delivers events in that order.
type ownWrites struct {
	now func() time.Time

	mu sync.Mutex
	m  map[string]map[string]written // Deployment key -> ReplicaSet UID -> last write
}

type written struct {
	name string
	rv   uint64
	at   time.Time
}

func newOwnWrites(now func() time.Time) *ownWrites {
	return &ownWrites{now: now, m: map[string]map[string]written{}}
}

// parseRV returns a resourceVersion as a number (0 when it is not one).
func parseRV(rv string) uint64 {
	n, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// record notes that the controller wrote rs for the Deployment key (rs
// as the API server returned it), and forgets writes that have waited
// past controller.ExpectationsTimeout.
func (w *ownWrites) record(key string, rs *types.ReplicaSet) {
	rv := parseRV(rs.ResourceVersion)
	if rv == 0 {
		return // not comparable: nothing to wait for
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	for k, byUID := range w.m {
		for uid, x := range byUID {
			if now.Sub(x.at) > controller.ExpectationsTimeout {
				delete(byUID, uid)
			}
		}
		if len(byUID) == 0 {
			delete(w.m, k)
		}
	}
	byUID := w.m[key]
	if byUID == nil {
		byUID = map[string]written{}
		w.m[key] = byUID
	}
	if x, ok := byUID[rs.UID]; !ok || x.rv < rv {
		byUID[rs.UID] = written{name: rs.Name, rv: rv, at: now}
	}
}

// behind returns the name of a ReplicaSet the controller wrote for key
// that the view rss does not show as written: rss has an older version
// of it, or does not have it while the informer (at cacheRV, read before
// rss) has not yet seen the write. Writes the cache shows are forgotten.
func (w *ownWrites) behind(key string, rss []*types.ReplicaSet, cacheRV uint64) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	byUID := w.m[key]
	if len(byUID) == 0 {
		return "", false
	}
	inView := make(map[string]uint64, len(rss))
	for _, rs := range rss {
		inView[rs.UID] = parseRV(rs.ResourceVersion)
	}
	now := w.now()
	var stale string
	for uid, x := range byUID {
		if rv, ok := inView[uid]; cacheRV >= x.rv || (ok && rv >= x.rv) || now.Sub(x.at) > controller.ExpectationsTimeout {
			delete(byUID, uid)
			continue
		}
		stale = x.name
	}
	if len(byUID) == 0 {
		delete(w.m, key)
	}
	return stale, stale != ""
}

// forget drops the writes for a Deployment that is gone.
func (w *ownWrites) forget(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.m, key)
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
