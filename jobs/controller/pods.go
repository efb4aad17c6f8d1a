package controller

import (
	"context"
	"sync"
	"time"

	"github.com/wharfhq/wharf/api/types"
)

// IsPodActive reports whether a Pod counts towards a controller's
// replicas: not finished and not being deleted.
func IsPodActive(p *types.Pod) bool {
	return p.Status.Phase != types.PodSucceeded && p.Status.Phase != types.PodFailed && p.DeletionTimestamp == nil
}

// FilterActivePods returns the active Pods of pods.
func FilterActivePods(pods []*types.Pod) []*types.Pod {
	out := make([]*types.Pod, 0, len(pods))
	for _, p := range pods {
		if IsPodActive(p) {
			out = append(out, p)
		}
	}
	return out
}

// podReadyCondition returns the Pod's Ready condition, or nil.
func podReadyCondition(p *types.Pod) *types.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == types.PodReady {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// IsPodReady reports whether the Pod's Ready condition is True.
func IsPodReady(p *types.Pod) bool {
	c := podReadyCondition(p)
	return c != nil && c.Status == types.ConditionTrue
}

// IsPodAvailable reports whether the Pod has been ready for at least
// minReadySeconds at now.
func IsPodAvailable(p *types.Pod, minReadySeconds int32, now time.Time) bool {
	c := podReadyCondition(p)
	if c == nil || c.Status != types.ConditionTrue {
		return false
	}
	if minReadySeconds <= 0 {
		return true
	}
	min := time.Duration(minReadySeconds) * time.Second
	return !c.LastTransitionTime.IsZero() && !c.LastTransitionTime.Add(min).After(now)
}

// AvailableIn returns how long until a ready Pod becomes available (0 when
// it already is or is not ready): the delay to re-check its owner.
func AvailableIn(p *types.Pod, minReadySeconds int32, now time.Time) time.Duration {
	c := podReadyCondition(p)
	if minReadySeconds <= 0 || c == nil || c.Status != types.ConditionTrue || c.LastTransitionTime.IsZero() {
		return 0
	}
	d := c.LastTransitionTime.Add(time.Duration(minReadySeconds) * time.Second).Sub(now)
	if d < 0 {
		return 0
	}
	// A little past the instant, so that the re-check finds it available.
	return d + 50*time.Millisecond
}

// restarts returns the highest container restart count of the Pod.
func restarts(p *types.Pod) int32 {
	var n int32
	for _, c := range p.Status.ContainerStatuses {
		n = max(n, c.RestartCount)
	}
	return n
}

var phaseRank = map[types.PodPhase]int{types.PodPending: 0, types.PodUnknown: 1, types.PodRunning: 2}

// DeletionLess orders Pods from the first to delete to the last, as
// Kubernetes' ActivePods ordering does: unscheduled before scheduled,
// Pending before Unknown before Running, not ready before ready, ready
// for less time before more, more restarts before fewer, newer before
// older.
func DeletionLess(a, b *types.Pod) bool {
	if (a.Spec.NodeName == "") != (b.Spec.NodeName == "") {
		return a.Spec.NodeName == ""
	}
	if ra, rb := phaseRank[a.Status.Phase], phaseRank[b.Status.Phase]; ra != rb {
		return ra < rb
	}
	if IsPodReady(a) != IsPodReady(b) {
		return !IsPodReady(a)
	}
	if IsPodReady(a) {
		ta, tb := podReadyCondition(a).LastTransitionTime, podReadyCondition(b).LastTransitionTime
		if !ta.Equal(tb.Time) {
			return ta.After(tb.Time)
		}
	}
	if ra, rb := restarts(a), restarts(b); ra != rb {
		return ra > rb
	}
	if !a.CreationTimestamp.Equal(b.CreationTimestamp.Time) {
		return a.CreationTimestamp.After(b.CreationTimestamp.Time)
	}
	return a.Name < b.Name
}

// PodFromTemplate returns a new Pod for owner from template: generateName
// "prefix-", the template's labels, annotations and spec, and a controller
// reference to owner (controller and blockOwnerDeletion true).
func PodFromTemplate(template *types.PodTemplateSpec, owner types.Object, ownerGVK types.GroupVersionKind, prefix string) *types.Pod {
	t := types.Clone(template)
	m := owner.GetObjectMeta()
	pod := &types.Pod{
		TypeMeta: types.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: types.ObjectMeta{
			GenerateName:    podPrefix(prefix),
			Namespace:       m.Namespace,
			Labels:          t.Labels,
			Annotations:     t.Annotations,
			OwnerReferences: []types.OwnerReference{*types.NewControllerRef(owner, ownerGVK)},
			Finalizers:      t.Finalizers,
		},
		Spec: t.Spec,
	}
	return pod
}

// maxGeneratedNamePrefix keeps generateName prefixes short enough for the
// server's random suffix to fit in a name of 63 characters.
const maxGeneratedNamePrefix = 58

func podPrefix(prefix string) string {
	p := prefix + "-"
	if len(p) > maxGeneratedNamePrefix {
		p = p[:maxGeneratedNamePrefix]
	}
	return p
}

// SlowStartInitialBatchSize is the first batch of SlowStartBatch.
const SlowStartInitialBatchSize = 1

// SlowStartBatch calls fn count times, in batches that double in size
// (1, 2, 4, ...) while every call of a batch succeeds, running each batch's
// calls in parallel, as Kubernetes controllers create Pods: a template
// that fails (quota, validation) fails once, not count times. It returns
// how many calls succeeded and the first error; calls after a failing
// batch are not made.
func SlowStartBatch(ctx context.Context, count, initial int, fn func(ctx context.Context) error) (int, error) {
	remaining := count
	successes := 0
	for batch := min(remaining, initial); batch > 0; batch = min(2*batch, remaining) {
		errs := make(chan error, batch)
		var wg sync.WaitGroup
		for range batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := fn(ctx); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		successes += batch - len(errs)
		if err, ok := <-errs; ok {
			return successes, err
		}
		remaining -= batch
	}
	return successes, nil
}
