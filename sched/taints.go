package sched

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sched/framework"
	"github.com/wharfhq/wharf/sched/plugins"
	"github.com/wharfhq/wharf/sdk"
)

// taintManagerWorkers is how many Pods the taint manager checks at once.
const taintManagerWorkers = 2

// taintManager evicts (deletes) running Pods from nodes with a NoExecute
// taint they do not tolerate, at once, or once the tolerationSeconds of a
// toleration that does tolerate it have passed since the taint was added
// (its timeAdded, else the first time the manager saw it). Each eviction
// gets an event.
type taintManager struct {
	client   *sdk.Client
	pods     *sdk.TypedLister[*types.Pod]
	nodes    *sdk.TypedLister[*types.Node]
	recorder *recorder
	now      func() time.Time
	log      *slog.Logger
	queue    *sdk.Queue

	mu sync.Mutex
	// seen holds when a NoExecute taint without timeAdded was first seen,
	// by node name and taint key+value.
	seen map[string]map[string]time.Time
}

func newTaintManager(c *sdk.Client, pods *sdk.TypedLister[*types.Pod], nodes *sdk.TypedLister[*types.Node], r *recorder, now func() time.Time, log *slog.Logger) *taintManager {
	return &taintManager{
		client: c, pods: pods, nodes: nodes, recorder: r, now: now, log: log,
		queue: sdk.NewQueue(sdk.WithBackoff(100*time.Millisecond, 10*time.Second)),
		seen:  map[string]map[string]time.Time{},
	}
}

func (m *taintManager) run(ctx context.Context) { m.queue.Run(ctx, taintManagerWorkers, m.sync) }

func hasNoExecute(n *types.Node) bool {
	for _, t := range n.Spec.Taints {
		if t.Effect == types.TaintEffectNoExecute {
			return true
		}
	}
	return false
}

// nodeChanged queues every Pod on node for a check when it has NoExecute
// taints.
func (m *taintManager) nodeChanged(node *types.Node) {
	if !hasNoExecute(node) {
		m.mu.Lock()
		delete(m.seen, node.Name)
		m.mu.Unlock()
		return
	}
	pods, err := m.pods.ByIndex(sdk.IndexNodeName, node.Name)
	if err != nil {
		m.log.Warn("taint manager: list pods of node", "node", node.Name, "err", err)
		return
	}
	for _, p := range pods {
		m.queue.Add(podKey(p))
	}
}

// podChanged queues a bound Pod for a check when its node has NoExecute
// taints (its tolerations may have changed, or it just arrived there).
func (m *taintManager) podChanged(pod *types.Pod) {
	node, err := m.nodes.Get("", pod.Spec.NodeName)
	if err != nil || !hasNoExecute(node) {
		return
	}
	m.queue.Add(podKey(pod))
}

// taintAdded returns when the taint was added.
func (m *taintManager) taintAdded(node string, t *types.Taint) time.Time {
	if t.TimeAdded != nil && !t.TimeAdded.IsZero() {
		return t.TimeAdded.Time
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	byTaint := m.seen[node]
	if byTaint == nil {
		byTaint = map[string]time.Time{}
		m.seen[node] = byTaint
	}
	k := t.Key + "=" + t.Value
	at, ok := byTaint[k]
	if !ok {
		at = m.now()
		byTaint[k] = at
	}
	return at
}

// evictionTime returns when pod must leave node: the zero time for never,
// or a time (possibly past) for an eviction.
func (m *taintManager) evictionTime(pod *types.Pod, node *types.Node) (time.Time, *types.Taint) {
	var at time.Time
	var why *types.Taint
	for i := range node.Spec.Taints {
		t := &node.Spec.Taints[i]
		if t.Effect != types.TaintEffectNoExecute {
			continue
		}
		// The longest-lasting toleration of this taint decides; none at all
		// means now.
		var until time.Time
		tolerated, forever := false, false
		for j := range pod.Spec.Tolerations {
			tol := &pod.Spec.Tolerations[j]
			if !plugins.ToleratesTaint(tol, t) {
				continue
			}
			tolerated = true
			if tol.TolerationSeconds == nil {
				forever = true
				break
			}
			end := m.taintAdded(node.Name, t).Add(time.Duration(max(*tol.TolerationSeconds, 0)) * time.Second)
			if end.After(until) {
				until = end
			}
		}
		switch {
		case forever:
			continue
		case !tolerated:
			until = m.now()
		}
		if at.IsZero() || until.Before(at) {
			at, why = until, t
		}
	}
	return at, why
}

// sync checks one Pod and evicts it when its time has come.
func (m *taintManager) sync(ctx context.Context, key string) error {
	ns, name := sdk.SplitKey(key)
	pod, err := m.pods.Get(ns, name)
	if err != nil || pod.Spec.NodeName == "" || pod.DeletionTimestamp != nil || framework.IsTerminal(pod) {
		return nil
	}
	node, err := m.nodes.Get("", pod.Spec.NodeName)
	if err != nil {
		return nil
	}
	at, taint := m.evictionTime(pod, node)
	if at.IsZero() {
		return nil
	}
	if wait := at.Sub(m.now()); wait > 0 {
		m.queue.AddAfter(key, wait)
		return nil
	}
	uid := pod.UID
	err = sdk.Typed[*types.Pod](m.client).Namespace(ns).Delete(ctx, name, types.DeleteOptions{Preconditions: &types.Preconditions{UID: &uid}})
	if err != nil && !sdk.IsNotFound(err) && !sdk.IsConflict(err) {
		return fmt.Errorf("evict pod %q from node %q: %w", key, node.Name, err)
	}
	if err == nil {
		m.recorder.event(pod, types.EventTypeNormal, ReasonEvicted,
			fmt.Sprintf("Marking for deletion Pod %s: node %s has taint {%s: %s} with effect NoExecute", key, node.Name, taint.Key, taint.Value))
		m.log.Info("evicted pod for NoExecute taint", "pod", key, "node", node.Name, "taint", taint.Key)
	}
	return nil
}
