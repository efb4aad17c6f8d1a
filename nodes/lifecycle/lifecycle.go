// Package lifecycle is the server-side node lifecycle controller: it notices
// lost nodes and moves their work elsewhere.
//
// A node is lost when its serf member failed or left, or (the fallback,
// e.g. right after a server restart when serf has not seen the member) when
// its agent has not renewed the Ready heartbeat for HeartbeatTimeout (not
// counted during the controller's first HeartbeatTimeout, which gives the
// agents time to reach a restarted server). A lost node gets Ready=Unknown
// (reason NodeStatusUnknown) and the taint
// node.kubernetes.io/unreachable:NoSchedule, whose timeAdded records when
// it was lost. Once GracePeriod has passed since then, it also gets
// node.kubernetes.io/unreachable:NoExecute, and its unfinished Pods (each
// at the end of the grace period, or of its own tolerationSeconds for that
// taint) are marked Failed (reason NodeLost) and deleted at once, so their
// controllers create replacements that the scheduler places on other
// nodes. (NoExecute waits for the grace period because the scheduler's
// taint manager evicts at once the Pods that do not tolerate it, and Wharf
// adds no default tolerations.) A node that comes back loses the taints;
// its agent reports Ready itself. Pods bound to a
// node that has no Node object at all are removed after the grace period
// too, as Kubernetes' Pod garbage collector does.
//
// Everything is recomputed from the objects and the member list on every
// pass (level-triggered), so a restarted server carries on where the last
// one stopped.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/wharfhq/wharf/api/labels"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/nodes/membership"
	"github.com/wharfhq/wharf/sdk"
)

// Defaults of Config.
const (
	DefaultGracePeriod      = 30 * time.Second
	DefaultHeartbeatTimeout = 40 * time.Second
	DefaultResync           = time.Second
)

// Reasons and messages the controller writes.
const (
	// ReasonNodeStatusUnknown is the Ready condition's reason on a lost node.
	ReasonNodeStatusUnknown = "NodeStatusUnknown"
	// ReasonNodeLost is the reason of a Pod evicted from a lost node.
	ReasonNodeLost = "NodeLost"
)

// Members is what the controller needs of serf membership.
type Members interface {
	Members() []membership.Member
	Subscribe() (<-chan struct{}, func())
}

var _ Members = (*membership.Membership)(nil)

// Config configures a Controller.
type Config struct {
	// Client talks to the API server. Required.
	Client *sdk.Client
	// Informers, when set, provides shared Node and Pod informers; the
	// controller makes its own factory otherwise.
	Informers *sdk.InformerFactory
	// Members is the serf membership; when nil only heartbeats count.
	Members Members
	// GracePeriod is how long a node stays lost before its Pods are
	// evicted; DefaultGracePeriod when 0.
	GracePeriod time.Duration
	// HeartbeatTimeout is how old a Ready heartbeat may be before the node
	// counts as lost; DefaultHeartbeatTimeout when 0.
	HeartbeatTimeout time.Duration
	// Resync is the period of a full pass; DefaultResync when 0.
	Resync time.Duration
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// Logger; slog.Default() when nil.
	Logger *slog.Logger
}

// Controller watches Nodes, Pods and serf members. Build it with New.
type Controller struct {
	cfg   Config
	log   *slog.Logger
	nodes *sdk.Informer
	pods  *sdk.Informer
	inf   *sdk.InformerFactory
	kick  chan struct{}

	// orphanSince is when a Pod (by uid) was first seen bound to a node
	// that has no Node object; only Run's goroutine touches it.
	orphanSince map[string]time.Time
	// started is when Run started: heartbeats older than that are not held
	// against a node before HeartbeatTimeout has passed since (the server
	// may have been down longer than the agents).
	started time.Time
}

// New checks cfg and returns a Controller.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil {
		return nil, errors.New("lifecycle: Config.Client is required")
	}
	if cfg.GracePeriod <= 0 {
		cfg.GracePeriod = DefaultGracePeriod
	}
	if cfg.HeartbeatTimeout <= 0 {
		cfg.HeartbeatTimeout = DefaultHeartbeatTimeout
	}
	if cfg.Resync <= 0 {
		cfg.Resync = DefaultResync
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Informers == nil {
		cfg.Informers = sdk.NewInformerFactory(cfg.Client)
	}
	nodeRes, err := sdk.ResourceOf[*types.Node]()
	if err != nil {
		return nil, fmt.Errorf("lifecycle: %w", err)
	}
	podRes, err := sdk.ResourceOf[*types.Pod]()
	if err != nil {
		return nil, fmt.Errorf("lifecycle: %w", err)
	}
	c := &Controller{
		cfg:   cfg,
		log:   cfg.Logger,
		inf:   cfg.Informers,
		nodes: cfg.Informers.Informer(nodeRes, sdk.InformerOptions{}),
		pods: cfg.Informers.Informer(podRes, sdk.InformerOptions{
			Indexers: map[string]sdk.IndexFunc{sdk.IndexNodeName: sdk.NodeNameIndex},
		}),
		kick:        make(chan struct{}, 1),
		orphanSince: map[string]time.Time{},
	}
	wake := sdk.HandlerFuncs{
		AddFunc:    func(types.Object) { c.wake() },
		UpdateFunc: func(types.Object, types.Object) { c.wake() },
		DeleteFunc: func(types.Object) { c.wake() },
	}
	c.nodes.AddEventHandler(wake)
	return c, nil
}

func (c *Controller) wake() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// Run runs the controller until ctx ends; it returns nil then.
func (c *Controller) Run(ctx context.Context) error {
	c.started = c.cfg.Now()
	c.inf.Start(ctx)
	if err := c.inf.WaitForSync(ctx); err != nil {
		return nil //nolint:nilerr // ctx ended
	}
	var changes <-chan struct{}
	if c.cfg.Members != nil {
		ch, cancel := c.cfg.Members.Subscribe()
		defer cancel()
		changes = ch
	}
	t := time.NewTicker(c.cfg.Resync)
	defer t.Stop()
	for {
		c.Sync(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-changes:
		case <-c.kick:
		case <-t.C:
		}
	}
}

// Sync makes one pass over every Node.
func (c *Controller) Sync(ctx context.Context) {
	members := map[string]membership.Member{}
	if c.cfg.Members != nil {
		for _, m := range c.cfg.Members.Members() {
			node := m.Tags[membership.TagNode]
			if node == "" {
				continue
			}
			// Several members may claim a node (a restarted agent under a
			// new member name): an alive one wins.
			if old, ok := members[node]; ok && old.Status == membership.StatusAlive {
				continue
			}
			members[node] = m
		}
	}
	exists := map[string]bool{}
	for _, obj := range c.nodes.Lister().List(labels.Everything()) {
		n, ok := obj.(*types.Node)
		if !ok {
			continue
		}
		exists[n.Name] = true
		m, known := members[n.Name]
		if err := c.syncNode(ctx, n, m, known); err != nil && ctx.Err() == nil {
			c.log.Warn("node lifecycle", "node", n.Name, "err", err)
		}
	}
	c.collectOrphans(ctx, exists)
}

// collectOrphans removes Pods bound to a node that has no Node object
// (deleted by an operator, never registered) once they have been so for
// the grace period, as Kubernetes' Pod garbage collector does. The clock
// starts when this process first sees the orphan.
func (c *Controller) collectOrphans(ctx context.Context, exists map[string]bool) {
	now := c.cfg.Now()
	seen := map[string]bool{}
	for _, obj := range c.pods.Lister().List(labels.Everything()) {
		pod, ok := obj.(*types.Pod)
		if !ok || pod.Spec.NodeName == "" || exists[pod.Spec.NodeName] {
			continue
		}
		seen[pod.UID] = true
		since, ok := c.orphanSince[pod.UID]
		if !ok {
			c.orphanSince[pod.UID] = now
			continue
		}
		if now.Sub(since) < c.cfg.GracePeriod {
			continue
		}
		if err := c.removePod(ctx, pod, pod.Spec.NodeName, true); err != nil && ctx.Err() == nil {
			c.log.Warn("remove pod of a missing node", "pod", pod.Namespace+"/"+pod.Name, "err", err)
		}
	}
	for uid := range c.orphanSince {
		if !seen[uid] {
			delete(c.orphanSince, uid)
		}
	}
}

func readyCondition(n *types.Node) *types.NodeCondition {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == types.NodeReady {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}

// lostReason says why n is lost, or "" when it is not.
func (c *Controller) lostReason(n *types.Node, m membership.Member, known bool) string {
	if known && (m.Status == membership.StatusFailed || m.Status == membership.StatusLeft) {
		return fmt.Sprintf("serf member %q %s", m.Name, m.Status)
	}
	ready := readyCondition(n)
	if ready == nil || ready.LastHeartbeatTime.IsZero() {
		return "" // never reported: nothing to lose yet
	}
	now := c.cfg.Now()
	if now.Sub(c.started) <= c.cfg.HeartbeatTimeout {
		return "" // just started: give the agents time to post a heartbeat
	}
	if age := now.Sub(ready.LastHeartbeatTime.Time); age > c.cfg.HeartbeatTimeout {
		return fmt.Sprintf("no heartbeat for %s", age.Truncate(time.Second))
	}
	return ""
}

// unreachableTaint returns n's node.kubernetes.io/unreachable taint of
// effect e, or nil.
func unreachableTaint(n *types.Node, e types.TaintEffect) *types.Taint {
	for i := range n.Spec.Taints {
		t := &n.Spec.Taints[i]
		if t.Key == types.TaintNodeUnreachable && t.Effect == e {
			return t
		}
	}
	return nil
}

func (c *Controller) syncNode(ctx context.Context, n *types.Node, m membership.Member, known bool) error {
	nodes := sdk.Typed[*types.Node](c.cfg.Client)
	reason := c.lostReason(n, m, known)
	noSchedule := unreachableTaint(n, types.TaintEffectNoSchedule)
	noExecute := unreachableTaint(n, types.TaintEffectNoExecute)
	if reason == "" {
		if noSchedule == nil && noExecute == nil {
			return nil
		}
		// Back: lift the taints. The agent's heartbeat sets Ready itself.
		n = types.Clone(n)
		n.Spec.Taints = slices.DeleteFunc(n.Spec.Taints, func(t types.Taint) bool { return t.Key == types.TaintNodeUnreachable })
		if _, err := nodes.Update(ctx, n); err != nil {
			return fmt.Errorf("remove the unreachable taints: %w", err)
		}
		c.log.Info("node is back", "node", n.Name)
		c.event(ctx, n, "Node", types.EventTypeNormal, ReasonNodeReady, fmt.Sprintf("Node %s is reachable again", n.Name))
		return nil
	}

	now := c.cfg.Now().UTC().Truncate(time.Second)
	if ready := readyCondition(n); ready == nil || ready.Status != types.ConditionUnknown {
		n = types.Clone(n)
		ready := types.NodeCondition{
			Type: types.NodeReady, Status: types.ConditionUnknown,
			LastTransitionTime: types.NewTime(now),
			Reason:             ReasonNodeStatusUnknown,
			Message:            "Wharf agent stopped posting node status: " + reason,
		}
		if old := readyCondition(n); old != nil {
			ready.LastHeartbeatTime = old.LastHeartbeatTime
			*old = ready
		} else {
			n.Status.Conditions = append(n.Status.Conditions, ready)
		}
		updated, err := nodes.UpdateStatus(ctx, n)
		if err != nil {
			return fmt.Errorf("set Ready=Unknown: %w", err)
		}
		n = updated
		c.log.Warn("node lost", "node", n.Name, "reason", reason)
		c.event(ctx, n, "Node", types.EventTypeNormal, ReasonNodeNotReady, fmt.Sprintf("Node %s status is now: NodeNotReady (%s)", n.Name, reason))
	}

	// The NoSchedule taint's timeAdded records when the node was lost
	// (kept in the object, so a restarted server counts from there too).
	since := now
	for _, t := range []*types.Taint{noSchedule, noExecute} {
		if t != nil && t.TimeAdded != nil && t.TimeAdded.Time.Before(since) {
			since = t.TimeAdded.Time
		}
	}
	var add []types.Taint
	if noSchedule == nil {
		at := types.NewTime(since)
		add = append(add, types.Taint{Key: types.TaintNodeUnreachable, Effect: types.TaintEffectNoSchedule, TimeAdded: &at})
	}
	// NoExecute only once the grace period is over: a taint manager
	// (sched/) evicts Pods that do not tolerate it at once.
	if noExecute == nil && !now.Before(since.Add(c.cfg.GracePeriod)) {
		at := types.NewTime(now)
		add = append(add, types.Taint{Key: types.TaintNodeUnreachable, Effect: types.TaintEffectNoExecute, TimeAdded: &at})
	}
	if len(add) > 0 {
		n = types.Clone(n)
		n.Spec.Taints = append(n.Spec.Taints, add...)
		if _, err := nodes.Update(ctx, n); err != nil {
			return fmt.Errorf("add the unreachable taint: %w", err)
		}
	}
	return c.evict(ctx, n.Name, since)
}

// evictAfter is how long after the node was lost pod must go: the grace
// period, or the Pod's tolerationSeconds for the unreachable taint; ok is
// false when the Pod tolerates it for ever.
func (c *Controller) evictAfter(pod *types.Pod) (d time.Duration, ok bool) {
	t := types.Taint{Key: types.TaintNodeUnreachable, Effect: types.TaintEffectNoExecute}
	for _, tol := range pod.Spec.Tolerations {
		if !tolerates(tol, t) {
			continue
		}
		if tol.TolerationSeconds == nil {
			return 0, false
		}
		return time.Duration(max(*tol.TolerationSeconds, 0)) * time.Second, true
	}
	return c.cfg.GracePeriod, true
}

func tolerates(tol types.Toleration, t types.Taint) bool {
	if tol.Effect != "" && tol.Effect != t.Effect {
		return false
	}
	switch tol.Operator {
	case types.TolerationOpExists:
		return tol.Key == "" || tol.Key == t.Key
	default: // Equal
		return tol.Key == t.Key && tol.Value == t.Value
	}
}

// evict fails and deletes the Pods of a node lost since since, each once
// its time has come.
func (c *Controller) evict(ctx context.Context, node string, since time.Time) error {
	objs, err := c.pods.Lister().ByIndex(sdk.IndexNodeName, node)
	if err != nil {
		return fmt.Errorf("pods of the node: %w", err)
	}
	now := c.cfg.Now()
	var errs []error
	for _, obj := range objs {
		pod, ok := obj.(*types.Pod)
		if !ok {
			continue
		}
		after, ok := c.evictAfter(pod)
		if !ok || now.Before(since.Add(after)) {
			continue
		}
		if err := c.evictPod(ctx, pod, node); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (c *Controller) evictPod(ctx context.Context, pod *types.Pod, node string) error {
	return c.removePod(ctx, pod, node, false)
}

// removePod marks an unfinished Pod Failed (NodeLost) and deletes it at
// once. A finished Pod is kept as history (a Job's record) unless it is
// already being deleted, or all is set.
func (c *Controller) removePod(ctx context.Context, pod *types.Pod, node string, all bool) error {
	pods := sdk.Typed[*types.Pod](c.cfg.Client).Namespace(pod.Namespace)
	finished := pod.Status.Phase == types.PodSucceeded || pod.Status.Phase == types.PodFailed
	if finished && pod.DeletionTimestamp == nil && !all {
		return nil
	}
	if !finished {
		p := types.Clone(pod)
		p.Status.Phase = types.PodFailed
		p.Status.Reason = ReasonNodeLost
		p.Status.Message = fmt.Sprintf("Node %s which was running pod %s is unresponsive", node, pod.Name)
		if _, err := pods.UpdateStatus(ctx, p); err != nil && !sdk.IsNotFound(err) {
			return fmt.Errorf("mark pod %s/%s failed: %w", pod.Namespace, pod.Name, err)
		}
	}
	zero := int64(0)
	uid := pod.UID
	err := pods.Delete(ctx, pod.Name, types.DeleteOptions{GracePeriodSeconds: &zero, Preconditions: &types.Preconditions{UID: &uid}})
	if err != nil && !sdk.IsNotFound(err) && !sdk.IsConflict(err) {
		return fmt.Errorf("delete pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	if err == nil {
		c.log.Info("removed pod of a lost node", "pod", pod.Namespace+"/"+pod.Name, "node", node)
		c.event(ctx, pod, "Pod", types.EventTypeWarning, ReasonNodeLost,
			fmt.Sprintf("Node %s which was running pod %s is unresponsive: the pod is deleted so that its controller replaces it", node, pod.Name))
	}
	return nil
}
