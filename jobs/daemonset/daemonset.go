// Package daemonset is the DaemonSet controller (apps/v1): one Pod on
// every node that fits the template (nodeSelector, required node
// affinity, taints against tolerations, with the tolerations Kubernetes
// adds to daemon Pods), added when a node joins or starts to fit and
// removed when it leaves or stops fitting; RollingUpdate with
// maxUnavailable and maxSurge, or OnDelete; ControllerRevisions for the
// templates; the status counts of Kubernetes.
//
// Like Kubernetes, the controller does not bind Pods: each Pod is pinned
// to its node by a required node affinity on the field metadata.name and
// the scheduler places it. The node a Pod is for is its spec.nodeName, or
// that affinity while it is unbound.
package daemonset

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wharfhq/wharf/api/labels"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/jobs/statefulset/history"
	"github.com/wharfhq/wharf/sched/framework"
	"github.com/wharfhq/wharf/sched/plugins"
	"github.com/wharfhq/wharf/sdk"
)

// Name is the controller's name in logs and in the manager.
const Name = "daemonset"

// TemplateGenerationLabel carries the DaemonSet generation a Pod was made
// at (pod-template-generation, as Kubernetes sets it).
const TemplateGenerationLabel = "pod-template-generation"

// DefaultRevisionHistoryLimit is spec.revisionHistoryLimit when unset.
const DefaultRevisionHistoryLimit = 10

// Taint keys of the default daemon tolerations not in api/types.
const (
	taintDiskPressure       = "node.kubernetes.io/disk-pressure"
	taintMemoryPressure     = "node.kubernetes.io/memory-pressure"
	taintPIDPressure        = "node.kubernetes.io/pid-pressure"
	taintNetworkUnavailable = "node.kubernetes.io/network-unavailable"
)

// GVK is the kind this controller manages.
var GVK = types.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DaemonSet"}

// Controller is the DaemonSet controller.
type Controller struct {
	*controller.Controller
	client       *sdk.Client
	dsLister     *sdk.TypedLister[*types.DaemonSet]
	podLister    *sdk.TypedLister[*types.Pod]
	nodeLister   *sdk.TypedLister[*types.Node]
	revLister    *sdk.TypedLister[*types.ControllerRevision]
	expectations *controller.Expectations
	now          func() time.Time
}

var _ controller.Runner = (*Controller)(nil)

// New returns a DaemonSet controller over cc's shared informers.
func New(cc *controller.Context) (*Controller, error) {
	res := map[string]*types.Resource{}
	for name, f := range map[string]func() (*types.Resource, error){
		"ds": sdk.ResourceOf[*types.DaemonSet], "pod": sdk.ResourceOf[*types.Pod],
		"node": sdk.ResourceOf[*types.Node], "rev": sdk.ResourceOf[*types.ControllerRevision],
	} {
		r, err := f()
		if err != nil {
			return nil, err
		}
		res[name] = r
	}
	nsIdx := sdk.InformerOptions{Indexers: map[string]sdk.IndexFunc{sdk.IndexNamespace: sdk.NamespaceIndex}}
	dsInf := cc.Factory.Informer(res["ds"], nsIdx)
	podInf := cc.Factory.Informer(res["pod"], nsIdx)
	nodeInf := cc.Factory.Informer(res["node"], sdk.InformerOptions{})
	revInf := cc.Factory.Informer(res["rev"], sdk.InformerOptions{Indexers: map[string]sdk.IndexFunc{sdk.IndexControllerUID: sdk.ControllerUIDIndex}})
	c := &Controller{
		client:       cc.Client,
		dsLister:     sdk.ListerFor[*types.DaemonSet](dsInf),
		podLister:    sdk.ListerFor[*types.Pod](podInf),
		nodeLister:   sdk.ListerFor[*types.Node](nodeInf),
		revLister:    sdk.ListerFor[*types.ControllerRevision](revInf),
		expectations: controller.NewExpectations(),
		now:          time.Now,
	}
	c.Controller = controller.New(cc, Name, c.sync)
	c.Watch(dsInf)
	c.WaitFor(podInf)
	c.WaitFor(nodeInf)
	c.WaitFor(revInf)
	podInf.AddEventHandler(sdk.HandlerFuncs{AddFunc: c.addPod, UpdateFunc: c.updatePod, DeleteFunc: c.deletePod})
	nodeInf.AddEventHandler(sdk.HandlerFuncs{
		AddFunc: func(types.Object) { c.enqueueAll() },
		UpdateFunc: func(oldObj, newObj types.Object) {
			old, cur := oldObj.(*types.Node), newObj.(*types.Node)
			if !reflect.DeepEqual(old.Labels, cur.Labels) || !reflect.DeepEqual(old.Spec.Taints, cur.Spec.Taints) ||
				old.Spec.Unschedulable != cur.Spec.Unschedulable {
				c.enqueueAll()
			}
		},
		DeleteFunc: func(types.Object) { c.enqueueAll() },
	})
	return c, nil
}

func (c *Controller) enqueueAll() {
	for _, ds := range c.dsLister.List(labels.Everything()) {
		c.Enqueue(ds)
	}
}

func (c *Controller) ownerOf(pod *types.Pod) (*types.DaemonSet, bool) {
	return controller.ResolveControllerRef(c.dsLister, pod.Namespace, types.GetControllerOf(pod), GVK.Kind)
}

func (c *Controller) enqueueMatching(pod *types.Pod) {
	sets, _ := c.dsLister.ByIndex(sdk.IndexNamespace, pod.Namespace)
	for _, ds := range sets {
		if sel, err := labels.FromLabelSelector(ds.Spec.Selector); err == nil && !sel.Empty() && sel.Matches(pod.Labels) {
			c.Enqueue(ds)
		}
	}
}

func (c *Controller) addPod(obj types.Object) {
	pod := obj.(*types.Pod)
	if pod.DeletionTimestamp != nil {
		c.deletePod(pod)
		return
	}
	if ds, ok := c.ownerOf(pod); ok {
		c.expectations.CreationObserved(sdk.KeyFunc(ds))
		c.Enqueue(ds)
	} else if types.GetControllerOf(pod) == nil {
		c.enqueueMatching(pod)
	}
}

func (c *Controller) updatePod(oldObj, newObj types.Object) {
	old, cur := oldObj.(*types.Pod), newObj.(*types.Pod)
	if cur.DeletionTimestamp != nil {
		c.deletePod(cur)
		return
	}
	if ref := types.GetControllerOf(old); ref != nil {
		if ds, ok := controller.ResolveControllerRef(c.dsLister, old.Namespace, ref, GVK.Kind); ok {
			c.Enqueue(ds)
		}
	}
	if ds, ok := c.ownerOf(cur); ok {
		c.Enqueue(ds)
		if d := controller.AvailableIn(cur, ds.Spec.MinReadySeconds, c.now()); d > 0 && !controller.IsPodReady(old) {
			c.EnqueueAfter(ds, d)
		}
	} else if types.GetControllerOf(cur) == nil {
		c.enqueueMatching(cur)
	}
}

func (c *Controller) deletePod(obj types.Object) {
	pod := obj.(*types.Pod)
	if ds, ok := c.ownerOf(pod); ok {
		c.expectations.DeletionObserved(sdk.KeyFunc(ds), pod.UID)
		c.Enqueue(ds)
	}
}

// DefaultTolerations are the tolerations Kubernetes adds to every daemon
// Pod, so that daemons run on nodes that are not ready, unreachable,
// under pressure or cordoned; network-unavailable is added for
// hostNetwork Pods.
func DefaultTolerations(hostNetwork bool) []types.Toleration {
	ex := types.TolerationOpExists
	out := []types.Toleration{
		{Key: types.TaintNodeNotReady, Operator: ex, Effect: types.TaintEffectNoExecute},
		{Key: types.TaintNodeUnreachable, Operator: ex, Effect: types.TaintEffectNoExecute},
		{Key: taintDiskPressure, Operator: ex, Effect: types.TaintEffectNoSchedule},
		{Key: taintMemoryPressure, Operator: ex, Effect: types.TaintEffectNoSchedule},
		{Key: taintPIDPressure, Operator: ex, Effect: types.TaintEffectNoSchedule},
		{Key: types.TaintNodeUnschedulable, Operator: ex, Effect: types.TaintEffectNoSchedule},
	}
	if hostNetwork {
		out = append(out, types.Toleration{Key: taintNetworkUnavailable, Operator: ex, Effect: types.TaintEffectNoSchedule})
	}
	return out
}

// addTolerations adds the default daemon tolerations a Pod lacks.
func addTolerations(spec *types.PodSpec) {
	for _, t := range DefaultTolerations(spec.HostNetwork) {
		found := false
		for _, have := range spec.Tolerations {
			if have.Key == t.Key && have.Effect == t.Effect && have.Operator == t.Operator {
				found = true
				break
			}
		}
		if !found {
			spec.Tolerations = append(spec.Tolerations, t)
		}
	}
}

// NewPod returns ds's Pod for node: the template with the default daemon
// tolerations, the revision hash and generation labels, and a required
// node affinity on metadata.name that replaces the template's required
// terms (the controller has checked them already).
func NewPod(ds *types.DaemonSet, template *types.PodTemplateSpec, hash, node string) *types.Pod {
	pod := controller.PodFromTemplate(template, ds, GVK, ds.Name)
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[history.HashLabel] = hash
	pod.Labels[TemplateGenerationLabel] = strconv.FormatInt(ds.Generation, 10)
	addTolerations(&pod.Spec)
	if pod.Spec.Affinity == nil {
		pod.Spec.Affinity = &types.Affinity{}
	}
	if pod.Spec.Affinity.NodeAffinity == nil {
		pod.Spec.Affinity.NodeAffinity = &types.NodeAffinity{}
	}
	pod.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = &types.NodeSelector{
		NodeSelectorTerms: []types.NodeSelectorTerm{{MatchFields: []types.NodeSelectorRequirement{{
			Key: "metadata.name", Operator: types.NodeSelectorOpIn, Values: []string{node},
		}}}},
	}
	return pod
}

// TargetNode returns the node a daemon Pod is for: its spec.nodeName, or
// the node its metadata.name affinity names.
func TargetNode(pod *types.Pod) (string, bool) {
	if pod.Spec.NodeName != "" {
		return pod.Spec.NodeName, true
	}
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return "", false
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, f := range term.MatchFields {
			if f.Key == "metadata.name" && f.Operator == types.NodeSelectorOpIn && len(f.Values) == 1 {
				return f.Values[0], true
			}
		}
	}
	return "", false
}

// fits reports whether ds should run a Pod on node (shouldRun), and
// whether a Pod already there may stay (continueRunning: it tolerates
// the node's NoExecute taints and the node still matches its selector
// and affinity), as Kubernetes' nodeShouldRunDaemonPod. A node without
// the Pod's runtime (wharf.dev/runtimes: wasm or container) fits
// neither way: the scheduler would never place the Pod there.
func fits(ds *types.DaemonSet, node *types.Node) (shouldRun, continueRunning bool) {
	pod := &types.Pod{ObjectMeta: types.ObjectMeta{Namespace: ds.Namespace}, Spec: *types.Clone(&ds.Spec.Template.Spec)}
	addTolerations(&pod.Spec)
	ni := framework.NewNodeInfo(node)
	state := framework.NewCycleState(framework.NewPodInfo(pod), nil)
	if !(plugins.NodeAffinity{}).Filter(context.Background(), state, pod, ni).IsSuccess() ||
		!(plugins.NodeRuntime{}).Filter(context.Background(), state, pod, ni).IsSuccess() {
		return false, false
	}
	if _, untolerated := plugins.FindUntoleratedTaint(node.Spec.Taints, pod.Spec.Tolerations, types.TaintEffectNoExecute); untolerated {
		return false, false
	}
	_, untolerated := plugins.FindUntoleratedTaint(node.Spec.Taints, pod.Spec.Tolerations, types.TaintEffectNoSchedule)
	return !untolerated, true
}

// sync reconciles one DaemonSet.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name := sdk.SplitKey(key)
	ds, err := c.dsLister.Get(ns, name)
	if sdk.IsNotFound(err) {
		c.expectations.Delete(key)
		return nil
	}
	if err != nil {
		return err
	}
	sel, err := labels.FromLabelSelector(ds.Spec.Selector)
	if err != nil || sel.Empty() {
		c.Logger().Warn("invalid selector", "daemonset", key, "err", err)
		return nil
	}
	all, err := c.podLister.ByIndex(sdk.IndexNamespace, ns)
	if err != nil {
		return err
	}
	rm := &controller.RefManager{Client: c.client, Owner: ds, OwnerGVK: GVK, Selector: sel, Fresh: controller.RecheckOwner(c.client, ds)}
	pods, err := controller.Claim(ctx, rm, all)
	if err != nil {
		return err
	}
	if ds.DeletionTimestamp != nil {
		return nil
	}
	revs, err := c.revLister.ByIndex(sdk.IndexControllerUID, ds.UID)
	if err != nil {
		return err
	}
	h := &history.History{Client: c.client, Owner: ds, OwnerGVK: GVK, Labels: ds.Spec.Selector.MatchLabels}
	cur, owned, err := h.Current(ctx, revs, &ds.Spec.Template, ds.Status.CollisionCount)
	if errors.Is(err, history.ErrHashCollision) {
		st := types.Clone(ds.Status)
		st.CollisionCount = history.NextCollisionCount(st.CollisionCount)
		return errors.Join(err, c.updateStatus(ctx, ds, st))
	}
	if err != nil {
		return err
	}
	hash := strings.TrimPrefix(cur.Name, ds.Name+"-")
	nodes := c.nodeLister.List(labels.Everything())
	byNode := map[string][]*types.Pod{}
	var lost []*types.Pod // for nodes that no longer exist
	known := map[string]bool{}
	for _, n := range nodes {
		known[n.Name] = true
	}
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		n, ok := TargetNode(p)
		switch {
		case !ok || !known[n]:
			lost = append(lost, p)
		default:
			byNode[n] = append(byNode[n], p)
		}
	}

	var manageErr error
	if c.expectations.Satisfied(key) {
		manageErr = c.manage(ctx, key, ds, cur, hash, nodes, byNode, lost)
	}
	st := c.status(ds, hash, nodes, byNode)
	live := map[string]bool{cur.Name: true}
	for _, p := range pods {
		live[ds.Name+"-"+p.Labels[history.HashLabel]] = true
	}
	limit := int32(DefaultRevisionHistoryLimit)
	if ds.Spec.RevisionHistoryLimit != nil {
		limit = *ds.Spec.RevisionHistoryLimit
	}
	return errors.Join(manageErr, h.Truncate(ctx, owned, live, limit), c.updateStatus(ctx, ds, st))
}

// manage creates the missing daemon Pods, deletes those that should not
// run (wrong node, gone node, failed, duplicates) and rolls Pods of old
// revisions.
func (c *Controller) manage(ctx context.Context, key string, ds *types.DaemonSet, cur *types.ControllerRevision, hash string,
	nodes []*types.Node, byNode map[string][]*types.Pod, lost []*types.Pod) error {
	var create []string
	del := append([]*types.Pod(nil), lost...)
	for _, node := range nodes {
		shouldRun, keep := fits(ds, node)
		var running []*types.Pod
		for _, p := range byNode[node.Name] {
			if p.Status.Phase == types.PodFailed {
				del = append(del, p) // recreated by a later sync
				continue
			}
			running = append(running, p)
		}
		switch {
		case shouldRun && len(running) == 0:
			create = append(create, node.Name)
		case !keep:
			del = append(del, running...)
		case len(running) > 1 && !surging(ds):
			// Keep the oldest; extra Pods are duplicates.
			sort.SliceStable(running, func(i, j int) bool { return running[i].CreationTimestamp.Before(running[j].CreationTimestamp.Time) })
			del = append(del, running[1:]...)
		}
	}
	if !onDelete(ds) {
		upCreate, upDel, err := c.rollingUpdate(ds, hash, nodes, byNode)
		if err != nil {
			return err
		}
		create = append(create, upCreate...)
		del = append(del, upDel...)
	}
	tmpl, err := history.Template(cur)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	unique := del[:0]
	for _, p := range del {
		if !seen[p.UID] {
			seen[p.UID] = true
			unique = append(unique, p)
		}
	}
	// Pods of nodes that are gone have no agent to stop them: delete them
	// at once rather than leave them terminating for ever.
	force := map[string]bool{}
	for _, p := range lost {
		force[p.UID] = true
	}
	return errors.Join(c.createPods(ctx, key, ds, tmpl, hash, create), c.deletePods(ctx, key, ds, unique, force))
}

func onDelete(ds *types.DaemonSet) bool {
	return ds.Spec.UpdateStrategy.Type == types.OnDeleteDaemonSetStrategyType
}

func surging(ds *types.DaemonSet) bool {
	if onDelete(ds) {
		return false
	}
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ru == nil || ru.MaxSurge == nil {
		return false
	}
	v, err := types.GetScaledValueFromIntOrPercent(ru.MaxSurge, 1, true)
	return err == nil && v > 0
}

// budgets returns maxSurge and maxUnavailable over desired nodes, as
// Kubernetes (maxUnavailable 1 by default; at least one of them > 0).
func budgets(ds *types.DaemonSet, desired int) (surge, unavailable int, err error) {
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ru != nil && ru.MaxSurge != nil {
		if surge, err = types.GetScaledValueFromIntOrPercent(ru.MaxSurge, desired, true); err != nil {
			return 0, 0, fmt.Errorf("maxSurge: %w", err)
		}
	}
	unavailable = 1
	if ru != nil && ru.MaxUnavailable != nil {
		if unavailable, err = types.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, desired, false); err != nil {
			return 0, 0, fmt.Errorf("maxUnavailable: %w", err)
		}
	}
	if surge == 0 && unavailable == 0 {
		unavailable = 1
	}
	return surge, unavailable, nil
}

// rollingUpdate returns the nodes to create an updated Pod on (surge)
// and the old Pods to delete, within maxSurge and maxUnavailable.
func (c *Controller) rollingUpdate(ds *types.DaemonSet, hash string, nodes []*types.Node, byNode map[string][]*types.Pod) ([]string, []*types.Pod, error) {
	now := c.now()
	available := func(p *types.Pod) bool { return controller.IsPodAvailable(p, ds.Spec.MinReadySeconds, now) }
	type nodePods struct {
		node     string
		old, new *types.Pod
	}
	var desired []nodePods
	for _, node := range nodes {
		if _, keep := fits(ds, node); !keep {
			continue
		}
		np := nodePods{node: node.Name}
		for _, p := range byNode[node.Name] {
			if p.Status.Phase == types.PodFailed {
				continue
			}
			if p.Labels[history.HashLabel] == hash {
				np.new = p
			} else if np.old == nil {
				np.old = p
			}
		}
		desired = append(desired, np)
	}
	maxSurge, maxUnavailable, err := budgets(ds, len(desired))
	if err != nil {
		return nil, nil, err
	}
	var create []string
	var del []*types.Pod
	if maxSurge == 0 {
		unavailable := 0
		var candidates []*types.Pod
		for _, np := range desired {
			switch {
			case np.old == nil && (np.new == nil || !available(np.new)):
				unavailable++
			case np.old != nil && np.new == nil:
				if !available(np.old) {
					del = append(del, np.old) // not serving anyway
					unavailable++
				} else {
					candidates = append(candidates, np.old)
				}
			}
		}
		for _, p := range candidates {
			if unavailable >= maxUnavailable {
				break
			}
			del = append(del, p)
			unavailable++
		}
		return nil, del, nil
	}
	surged := 0
	for _, np := range desired {
		if np.old != nil && np.new != nil {
			surged++
		}
	}
	for _, np := range desired {
		switch {
		case np.old == nil:
		case np.new != nil:
			if available(np.new) {
				del = append(del, np.old)
			}
		case !available(np.old):
			del = append(del, np.old) // replaced by manage on a later sync
		case surged < maxSurge:
			create = append(create, np.node)
			surged++
		}
	}
	return create, del, nil
}

func (c *Controller) createPods(ctx context.Context, key string, ds *types.DaemonSet, tmpl *types.PodTemplateSpec, hash string, nodes []string) error {
	if len(nodes) == 0 {
		return nil
	}
	c.expectations.ExpectCreations(key, len(nodes))
	var mu sync.Mutex
	next := 0
	created, err := controller.SlowStartBatch(ctx, len(nodes), controller.SlowStartInitialBatchSize, func(ctx context.Context) error {
		mu.Lock()
		node := nodes[next]
		next++
		mu.Unlock()
		out, err := sdk.Typed[*types.Pod](c.client).Namespace(ds.Namespace).Create(ctx, NewPod(ds, tmpl, hash, node))
		if err != nil {
			c.Recorder().Eventf(ds, types.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
			return fmt.Errorf("create pod on node %s for daemonset %s: %w", node, key, err)
		}
		c.Recorder().Eventf(ds, types.EventTypeNormal, "SuccessfulCreate", "Created pod: %s", out.Name)
		return nil
	})
	for range len(nodes) - created {
		c.expectations.CreationObserved(key)
	}
	return err
}

// deletePods deletes pods, those in force with a grace period of 0.
func (c *Controller) deletePods(ctx context.Context, key string, ds *types.DaemonSet, pods []*types.Pod, force map[string]bool) error {
	if len(pods) == 0 {
		return nil
	}
	uids := make([]string, len(pods))
	for i, p := range pods {
		uids[i] = p.UID
	}
	c.expectations.ExpectDeletions(key, uids)
	var errs []error
	for _, p := range pods {
		opts := types.DeleteOptions{Preconditions: &types.Preconditions{UID: &p.UID}}
		if force[p.UID] {
			opts.GracePeriodSeconds = new(int64)
		}
		err := sdk.Typed[*types.Pod](c.client).Namespace(p.Namespace).Delete(ctx, p.Name, opts)
		if err == nil {
			c.Recorder().Eventf(ds, types.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %s", p.Name)
		} else {
			c.expectations.DeletionObserved(key, p.UID)
			if !sdk.IsNotFound(err) && !sdk.IsConflict(err) {
				errs = append(errs, fmt.Errorf("delete pod %s/%s of daemonset %s: %w", p.Namespace, p.Name, key, err))
			}
		}
	}
	return errors.Join(errs...)
}

// status computes the DaemonSet's status over the nodes.
func (c *Controller) status(ds *types.DaemonSet, hash string, nodes []*types.Node, byNode map[string][]*types.Pod) types.DaemonSetStatus {
	st := types.Clone(ds.Status)
	st.DesiredNumberScheduled, st.CurrentNumberScheduled, st.NumberMisscheduled = 0, 0, 0
	st.NumberReady, st.NumberAvailable, st.UpdatedNumberScheduled, st.NumberUnavailable = 0, 0, 0, 0
	now := c.now()
	for _, node := range nodes {
		shouldRun, _ := fits(ds, node)
		pods := byNode[node.Name]
		if shouldRun {
			st.DesiredNumberScheduled++
		}
		if len(pods) == 0 {
			continue
		}
		if !shouldRun {
			st.NumberMisscheduled++
			continue
		}
		st.CurrentNumberScheduled++
		var ready, avail, updated bool
		for _, p := range pods {
			if controller.IsPodReady(p) {
				ready = true
				avail = avail || controller.IsPodAvailable(p, ds.Spec.MinReadySeconds, now)
			}
			updated = updated || p.Labels[history.HashLabel] == hash
		}
		if ready {
			st.NumberReady++
		}
		if avail {
			st.NumberAvailable++
		}
		if updated {
			st.UpdatedNumberScheduled++
		}
	}
	st.NumberUnavailable = max(st.DesiredNumberScheduled-st.NumberAvailable, 0)
	st.ObservedGeneration = ds.Generation
	return st
}

// updateStatus writes status when it changed.
func (c *Controller) updateStatus(ctx context.Context, ds *types.DaemonSet, status types.DaemonSetStatus) error {
	if reflect.DeepEqual(ds.Status, status) {
		return nil
	}
	upd := types.Clone(ds)
	upd.Status = status
	_, err := sdk.Typed[*types.DaemonSet](c.client).Namespace(ds.Namespace).UpdateStatus(ctx, upd)
	if sdk.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("update status of daemonset %s/%s: %w", ds.Namespace, ds.Name, err)
	}
	return nil
}
