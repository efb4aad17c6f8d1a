package sched

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"sync"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sched/framework"
	"github.com/wharfhq/wharf/sched/plugins"
	"github.com/wharfhq/wharf/sdk"
)

// recorderWorkers is how many goroutines write conditions and events.
const recorderWorkers = 4

// Option configures a Scheduler.
type Option func(*Scheduler)

// WithLogger sets the logger (slog.Default() otherwise).
func WithLogger(l *slog.Logger) Option { return func(s *Scheduler) { s.log = l } }

// WithClock sets the clock used for back-off, event and condition times
// (time.Now otherwise).
func WithClock(now func() time.Time) Option { return func(s *Scheduler) { s.now = now } }

// WithPlugins adds custom plugin factories to the built-in registry, so
// that Config.Plugins can enable them by name.
func WithPlugins(reg framework.Registry) Option {
	return func(s *Scheduler) { s.extra = reg }
}

// WithImageResolver sets how the NodeArchitecture filter finds the
// platforms of a Pod's images when the Pod has no
// wharf.dev/image-platforms annotation, instead of the one
// Config.ImagePlatforms describes (a plugins.RegistryResolver, which asks
// the images' registries); nil turns lookups off, leaving the annotation
// only.
func WithImageResolver(r plugins.PlatformResolver) Option {
	return func(s *Scheduler) { s.resolver, s.resolverSet = r, true }
}

// WithInformerFactory takes the Pod, Node and Namespace informers from a
// factory shared with the other components of the process (so each is
// listed and watched once); Run starts the factory's informers that are
// not running yet.
func WithInformerFactory(f *sdk.InformerFactory) Option {
	return func(s *Scheduler) { s.factory = f }
}

// Scheduler places every Pod that has no node and names this scheduler:
// informers feed a Cache of nodes and bound Pods and a Queue of pending
// Pods; a loop takes one Pod at a time, runs the Profile's plugins over a
// Snapshot of the Cache, assumes the Pod onto the chosen node and hands
// the binding to a pool of workers, so the next Pod is scheduled while
// the binding is in flight. Everything is recomputed from the API objects
// after a restart.
type Scheduler struct {
	client *sdk.Client
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	extra  framework.Registry
	// resolver finds image platforms for NodeArchitecture (nil: none).
	resolver    plugins.PlatformResolver
	resolverSet bool
	// factory, when set, supplies shared informers.
	factory *sdk.InformerFactory

	profile  *framework.Profile
	cache    *framework.Cache
	snapshot *framework.Snapshot
	queue    *Queue

	podInf, nodeInf, nsInf *sdk.Informer
	pods                   *sdk.TypedLister[*types.Pod]
	nodes                  *sdk.TypedLister[*types.Node]
	recorder               *recorder
	taints                 *taintManager

	binds chan bindTask
}

type bindTask struct {
	qp   *QueuedPod
	pi   *framework.PodInfo
	node string
}

// New returns a scheduler that works through client with cfg (missing
// fields take their defaults; plugins are built, and their arguments
// checked, now).
func New(client *sdk.Client, cfg Config, opts ...Option) (*Scheduler, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Scheduler{client: client, cfg: cfg, log: slog.Default(), now: time.Now}
	for _, o := range opts {
		o(s)
	}
	if !s.resolverSet {
		s.resolver = cfg.ImagePlatforms.resolver()
	}
	reg := plugins.NewRegistry(plugins.WithPlatformResolver(s.resolver))
	if err := reg.Merge(s.extra); err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	p, err := framework.NewProfile(reg, cfg.Plugins, framework.ProfileOptions{
		PercentageOfNodesToScore: cfg.PercentageOfNodesToScore,
		Parallelism:              cfg.Parallelism,
	})
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w: %w", ErrInvalidConfig, err)
	}
	s.profile = p
	s.cache = framework.NewCache()
	s.snapshot = framework.NewEmptySnapshot()
	s.queue = NewQueue(s.now, time.Duration(cfg.PodInitialBackoffSeconds)*time.Second, time.Duration(cfg.PodMaxBackoffSeconds)*time.Second)

	podRes, err := sdk.ResourceOf[*types.Pod]()
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	nodeRes, err := sdk.ResourceOf[*types.Node]()
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	nsRes, err := sdk.ResourceOf[*types.Namespace]()
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	newInformer := func(res *types.Resource, opts sdk.InformerOptions) *sdk.Informer {
		if s.factory != nil {
			return s.factory.Informer(res, opts)
		}
		return sdk.NewInformer(client, res, opts)
	}
	s.podInf = newInformer(podRes, sdk.InformerOptions{
		Logger:   s.log,
		Indexers: map[string]sdk.IndexFunc{sdk.IndexNodeName: sdk.NodeNameIndex},
		PageSize: 5000,
	})
	s.nodeInf = newInformer(nodeRes, sdk.InformerOptions{Logger: s.log, PageSize: 5000})
	s.nsInf = newInformer(nsRes, sdk.InformerOptions{Logger: s.log})
	s.pods = sdk.ListerFor[*types.Pod](s.podInf)
	s.nodes = sdk.ListerFor[*types.Node](s.nodeInf)
	s.recorder = newRecorder(client, s.pods, s.now, s.log, cfg.SchedulerName)
	s.taints = newTaintManager(client, s.pods, s.nodes, s.recorder, s.now, s.log)

	s.podInf.AddEventHandler(sdk.HandlerFuncs{AddFunc: s.onPodAdd, UpdateFunc: s.onPodUpdate, DeleteFunc: s.onPodDelete})
	s.nodeInf.AddEventHandler(sdk.HandlerFuncs{AddFunc: s.onNodeAdd, UpdateFunc: s.onNodeUpdate, DeleteFunc: s.onNodeDelete})
	s.nsInf.AddEventHandler(sdk.HandlerFuncs{
		AddFunc:    func(o types.Object) { s.cache.SetNamespace(o.(*types.Namespace)) },
		UpdateFunc: func(_, o types.Object) { s.cache.SetNamespace(o.(*types.Namespace)) },
		DeleteFunc: func(o types.Object) { s.cache.RemoveNamespace(o.(*types.Namespace).Name) },
	})
	return s, nil
}

// Cache returns the scheduler's cache (for tests and metrics).
func (s *Scheduler) Cache() *framework.Cache { return s.cache }

// Queue returns the scheduler's queue (for tests and metrics).
func (s *Scheduler) Queue() *Queue { return s.queue }

// DroppedEvents returns how many events were dropped because the API did
// not keep up (events are best effort; conditions and bindings are not).
func (s *Scheduler) DroppedEvents() int64 { return s.recorder.dropped.Load() }

// Run schedules until ctx ends, then waits for its goroutines and returns
// nil; it fails only if the caches cannot sync. Run it once.
func (s *Scheduler) Run(ctx context.Context) error {
	// Deferred in this order so that, on the way out, the queue closes and
	// ctx is cancelled before the goroutines are waited for.
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer s.queue.Close()
	if s.factory != nil {
		s.factory.Start(ctx) // the process waits for them (factory.Wait)
	} else {
		for _, inf := range []*sdk.Informer{s.nsInf, s.nodeInf, s.podInf} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = inf.Run(ctx) // returns nil when ctx ends
			}()
		}
	}
	for _, inf := range []*sdk.Informer{s.nsInf, s.nodeInf, s.podInf} {
		if err := inf.WaitForSync(ctx); err != nil {
			if ctx.Err() != nil && errors.Is(err, context.Canceled) {
				return nil
			}
			return fmt.Errorf("scheduler: %w", err)
		}
	}
	wg.Add(2)
	go func() { defer wg.Done(); s.recorder.run(ctx, recorderWorkers) }()
	go func() { defer wg.Done(); s.taints.run(ctx) }()

	s.binds = make(chan bindTask, s.cfg.BindWorkers)
	var binders sync.WaitGroup
	for range max(s.cfg.BindWorkers, 1) {
		binders.Add(1)
		go func() {
			defer binders.Done()
			for t := range s.binds {
				s.bind(ctx, t)
			}
		}()
	}
	s.log.Info("scheduler running", "schedulerName", s.cfg.SchedulerName)
	for ctx.Err() == nil {
		if err := s.scheduleOne(ctx); err != nil {
			break
		}
	}
	close(s.binds)
	binders.Wait()
	return nil
}

// responsible reports whether pod is this scheduler's to place.
func (s *Scheduler) responsible(pod *types.Pod) bool {
	n := pod.Spec.SchedulerName
	return n == s.cfg.SchedulerName || (n == "" && s.cfg.SchedulerName == DefaultSchedulerName)
}

// pending reports whether pod waits for this scheduler.
func (s *Scheduler) pending(pod *types.Pod) bool {
	return pod.Spec.NodeName == "" && pod.DeletionTimestamp == nil && !framework.IsTerminal(pod) && s.responsible(pod)
}

func (s *Scheduler) onPodAdd(obj types.Object) {
	pod := obj.(*types.Pod)
	switch {
	case pod.Spec.NodeName != "":
		if !framework.IsTerminal(pod) {
			s.cache.AddPod(pod)
			s.queue.MoveToActive(framework.AssignedPodAdd) // affinity and spreading may change
		}
		s.taints.podChanged(pod)
	case s.pending(pod):
		s.prefetchImages(pod)
		s.queue.Add(pod)
	}
}

// prefetchImages starts the platform lookups of a pending Pod's images
// (when the resolver can), so that its PreFilter finds them done and
// Pods of different images do not wait for one another's registries.
func (s *Scheduler) prefetchImages(pod *types.Pod) {
	p, ok := s.resolver.(plugins.PlatformPrefetcher)
	if !ok || pod.Annotations[framework.AnnotationImagePlatforms] != "" ||
		(pod.Spec.RuntimeClassName != nil && *pod.Spec.RuntimeClassName == framework.RuntimeWasm) {
		return
	}
	for _, img := range plugins.PodImages(pod) {
		p.Prefetch(img)
	}
}

func (s *Scheduler) onPodUpdate(oldObj, newObj types.Object) {
	old, pod := oldObj.(*types.Pod), newObj.(*types.Pod)
	key := podKey(pod)
	switch {
	case pod.Spec.NodeName != "":
		if old.Spec.NodeName == "" {
			s.queue.Delete(key)
		}
		if framework.IsTerminal(pod) {
			s.cache.RemovePod(pod)
			if !framework.IsTerminal(old) {
				s.queue.MoveToActive(framework.AssignedPodDelete) // its resources are free
			}
			return
		}
		s.cache.UpdatePod(old, pod)
		var ev framework.ClusterEvent
		if old.Spec.NodeName == "" {
			ev |= framework.AssignedPodAdd
		}
		if !maps.Equal(old.Labels, pod.Labels) {
			ev |= framework.AssignedPodUpdate
		}
		if ev != 0 {
			s.queue.MoveToActive(ev) // affinity and spreading may change
		}
		s.taints.podChanged(pod)
	case s.pending(pod):
		s.queue.Update(pod)
	default:
		s.queue.Delete(key)
	}
}

func (s *Scheduler) onPodDelete(obj types.Object) {
	pod := obj.(*types.Pod)
	key := podKey(pod)
	s.queue.Delete(key)
	s.recorder.forget(key)
	if pod.Spec.NodeName != "" || s.cache.IsAssumed(key) {
		s.cache.RemovePod(pod)
		s.queue.MoveToActive(framework.AssignedPodDelete)
	}
}

func (s *Scheduler) onNodeAdd(obj types.Object) {
	node := obj.(*types.Node)
	s.cache.AddNode(node)
	s.queue.MoveToActive(framework.NodeAdd)
	s.taints.nodeChanged(node)
}

func (s *Scheduler) onNodeUpdate(oldObj, newObj types.Object) {
	old, node := oldObj.(*types.Node), newObj.(*types.Node)
	if !nodeSchedulingChanged(old, node) {
		return // a heartbeat: nothing the plugins look at
	}
	s.cache.UpdateNode(node)
	s.queue.MoveToActive(framework.NodeUpdate)
	s.taints.nodeChanged(node)
}

func (s *Scheduler) onNodeDelete(obj types.Object) {
	s.cache.RemoveNode(obj.(*types.Node).Name)
}

// nodeSchedulingChanged reports whether a Node update changes anything a
// plugin reads: labels, taints, unschedulable, allocatable, readiness.
func nodeSchedulingChanged(old, n *types.Node) bool {
	if !maps.Equal(old.Labels, n.Labels) || old.Spec.Unschedulable != n.Spec.Unschedulable ||
		!reflect.DeepEqual(old.Spec.Taints, n.Spec.Taints) || !reflect.DeepEqual(old.Status.Allocatable, n.Status.Allocatable) ||
		old.Status.NodeInfo.Architecture != n.Status.NodeInfo.Architecture ||
		old.Status.NodeInfo.OperatingSystem != n.Status.NodeInfo.OperatingSystem {
		return true
	}
	return readyOf(old) != readyOf(n)
}

func readyOf(n *types.Node) types.ConditionStatus {
	for _, c := range n.Status.Conditions {
		if c.Type == types.NodeReady {
			return c.Status
		}
	}
	return ""
}

// scheduleOne takes the next Pod and schedules it; it returns an error
// only when the queue is closed or ctx ends.
func (s *Scheduler) scheduleOne(ctx context.Context) error {
	qp, err := s.queue.Pop(ctx)
	if err != nil {
		return err
	}
	pod := qp.Pod
	if _, ok := s.cache.PodNode(qp.Key); ok {
		s.queue.Done(qp.Key) // already assumed or bound
		return nil
	}
	s.cache.UpdateSnapshot(s.snapshot)
	pi := framework.NewPodInfo(pod)
	res, err := s.profile.Schedule(ctx, s.snapshot, pi)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var fe *framework.FitError
		switch {
		case errors.As(err, &fe):
			s.queue.RequeueUnschedulable(qp, s.profile.RetryEvents(fe))
			s.recorder.failed(pod, ConditionReasonUnschedulable, fe.Error())
		case errors.Is(err, framework.ErrNoNodesAvailable):
			s.queue.RequeueUnschedulable(qp, s.profile.RetryEvents(err))
			s.recorder.failed(pod, ConditionReasonUnschedulable, "0/0 nodes are available: no nodes registered.")
		default:
			s.log.Warn("scheduling failed", "pod", qp.Key, "err", err)
			s.queue.Requeue(qp, false)
			s.recorder.failed(pod, ConditionReasonSchedulerError, err.Error())
		}
		return nil
	}
	if err := s.cache.AssumePod(pi, res.Node); err != nil {
		s.log.Warn("assume failed", "pod", qp.Key, "err", err)
		s.queue.Requeue(qp, false)
		return nil
	}
	select {
	case s.binds <- bindTask{qp: qp, pi: pi, node: res.Node}:
	case <-ctx.Done():
		_ = s.cache.ForgetPod(qp.Key)
		return ctx.Err()
	}
	return nil
}

// bind writes the binding of an assumed Pod; on failure the assumption is
// forgotten.
func (s *Scheduler) bind(ctx context.Context, t bindTask) {
	key := t.qp.Key
	err := s.client.Bind(ctx, t.qp.Pod, t.node)
	if err == nil {
		s.cache.FinishBinding(key)
		s.queue.Done(key)
		s.recorder.scheduled(t.qp.Pod)
		s.recorder.event(t.qp.Pod, types.EventTypeNormal, ReasonScheduled,
			fmt.Sprintf("Successfully assigned %s to %s", key, t.node))
		return
	}
	if ferr := s.cache.ForgetPod(key); ferr != nil {
		s.log.Debug("forget after failed binding", "pod", key, "err", ferr)
	} else {
		// The room it held is free again, as if a Pod had left the node.
		s.queue.MoveToActive(framework.AssignedPodDelete)
	}
	switch {
	case sdk.IsNotFound(err), sdk.IsConflict(err):
		// Gone, already bound, being deleted, or replaced by a Pod of the
		// same name: the informer brings the truth, and a new Pod is
		// queued from it.
		s.queue.Done(key)
	case ctx.Err() != nil:
		s.queue.Done(key)
	default:
		s.log.Warn("binding failed", "pod", key, "node", t.node, "err", err)
		s.queue.Requeue(t.qp, false)
	}
}
