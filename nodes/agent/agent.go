// Package agent is the node agent's Pod sync loop: it watches the Pods bound
// to its node (through the SDK informer), and turns each into containers or
// Wasm modules through the runtimes.Runtime interface, writing what it
// observes back as the Pod's status.
//
// The loop is level-triggered. Every sync of a Pod recomputes what should
// run from the Pod object and compares it with what the runtimes report
// (runtime.List), so a restarted agent adopts what is running. Everything
// the agent needs to recover is in the containers' labels: the Pod's
// namespace, name and uid, the container's name, whether it is an init
// container and its restart count. Crash-loop back-off is derived from
// the restart count and the last exit time, so it survives a restart too.
//
// Container IDs are "<pod uid>-<container name>-<restart count>": a
// container that restarts gets a new ID, and the previous instance is kept
// (for `logs --previous` and lastState) until the next restart.
//
// What is not derived from the runtimes lives in memory only and is
// rebuilt as the loop runs: the waiting reason of a container whose start
// failed (with its retry back-off), probe results, and whether a
// container was stopped by the agent for failing a probe or hook. After a
// restart, a container killed for failing its liveness probe that exited
// 0 therefore counts as a success under restartPolicy OnFailure.
//
// A Wasm module runs inside the agent's process, so it does not survive
// an agent restart: the runtime reports it exited with reason Unknown, and
// the restart policy applies.
//
// Every Config.UsageInterval the agent samples the Stats of the running
// containers and writes each Pod's CPU (millicores, from the CPU time used
// between two samples) and memory working set in the wharf.dev/usage
// annotation the HorizontalPodAutoscaler reads (jobs/hpa), only when it
// moved by more than 5% or a minute has passed.
//
// Files: agent.go (config, run loop, housekeeping), sync.go (one Pod's
// reconcile), status.go (status and phase), spec.go (runtime spec and
// env), sources.go (ConfigMaps and Secrets), mounts.go and termination.go
// (volumes, termination messages), hooks.go (probes, postStart/preStop),
// netns.go (the Pod network namespace), events.go (event recorder),
// labels.go (container labels and IDs), usage.go (the usage annotation).
package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/wharfhq/wharf/api/labels"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/nodes/probe"
	"github.com/wharfhq/wharf/nodes/volumes"
	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/sdk"
)

// Defaults of Config fields left zero.
const (
	// DefaultBackoffBase and DefaultBackoffMax are the kubelet's crash-loop
	// back-off: 10s doubling to 5 minutes.
	DefaultBackoffBase = 10 * time.Second
	DefaultBackoffMax  = 5 * time.Minute
	// DefaultResync is how often every Pod is synced again and the
	// runtimes are scanned for orphans.
	DefaultResync = 30 * time.Second
	// DefaultWorkers is how many Pods are synced at once.
	DefaultWorkers = 8
	// Component is the events' source.component.
	Component = "wharf-agent"
)

// Runtime names, as used in Config.Runtimes and in a RuntimeClass handler.
const (
	RuntimeWasm      = "wasm"
	RuntimeContainer = "container"
)

// Sentinel errors.
var (
	// ErrConfig: a Config field is missing or wrong.
	ErrConfig = errors.New("invalid agent config")
	// ErrNoRuntime: the Pod asks for a runtime this node does not have.
	ErrNoRuntime = errors.New("runtime not available on this node")
)

// Config configures an Agent.
type Config struct {
	// NodeName is the Node this agent runs the Pods of. Required.
	NodeName string
	// Client talks to the API server. Required.
	Client *sdk.Client
	// Runtimes are keyed "wasm" and "container"; at least one is required.
	Runtimes map[string]runtimes.Runtime
	// DataDir holds the Pods' volumes (DataDir/pods/<uid>/volumes) and
	// termination message files (DataDir/pods/<uid>/termination).
	// Required.
	DataDir string
	// NodeDataDir is the node's data directory as given to `wharf up` or
	// `wharf agent` (--data-dir), named in the hint for a local image that
	// is not loaded (`wharf image load --data-dir DIR FILE`). When empty,
	// the parent of DataDir, as cmd/wharf lays them out (DIR/agent).
	NodeDataDir string
	// Logger gets the agent's messages; slog.Default() when nil.
	Logger *slog.Logger
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// HostIP is the node's address reported as status.hostIP; the first
	// non-loopback IPv4 address of the machine (or 127.0.0.1) when empty.
	HostIP string
	// PodIP returns the address reported as a Pod's status.podIP; the
	// host IP when nil (Wasm Pods and host-network Pods are reached on the
	// node's address).
	PodIP func(pod *types.Pod) string
	// BackoffBase and BackoffMax bound the crash-loop back-off
	// (DefaultBackoffBase, DefaultBackoffMax when zero); tests make them
	// small.
	BackoffBase, BackoffMax time.Duration
	// Resync is the period of the full resync (DefaultResync when zero).
	Resync time.Duration
	// Workers is how many Pods are synced in parallel (DefaultWorkers when
	// zero).
	Workers int
	// DisablePodNetNS turns off the per-Pod network namespace the agent
	// creates for container Pods when it runs as root (see netns.go); each
	// container then gets its own.
	DisablePodNetNS bool
	// NetNSDir is where Pod network namespaces are bind-mounted
	// (DefaultNetNSDir/<node name>-<hash of DataDir> when empty: the
	// agent removes namespaces there that it does not know, so two nodes
	// on one machine, even of one name, must not share it). It is kept out of DataDir
	// on purpose: a bind mount outlives the agent (its containers keep
	// running), and one inside DataDir would make the directory
	// impossible to remove while it is mounted.
	NetNSDir string
	// UsageInterval is how often the running containers' Stats are
	// sampled to publish each Pod's CPU and memory use in its
	// wharf.dev/usage annotation, for the HorizontalPodAutoscaler (see
	// usage.go): DefaultUsageInterval when zero, never when negative.
	UsageInterval time.Duration
}

// DefaultNetNSDir is the parent of the default Config.NetNSDir, as
// `ip netns` uses /run/netns.
const DefaultNetNSDir = "/run/wharf/netns"

// DefaultNetNSDirFor is the default Config.NetNSDir of a node: under
// DefaultNetNSDir, named after the node and its data directory, so that
// the same node restarted on its data directory finds its namespaces again
// and another node on the machine never sees them.
func DefaultNetNSDirFor(node, dataDir string) string {
	if abs, err := filepath.Abs(dataDir); err == nil {
		dataDir = abs
	}
	sum := sha256.Sum256([]byte(dataDir))
	return filepath.Join(DefaultNetNSDir, node+"-"+hex.EncodeToString(sum[:4]))
}

// Agent runs the Pods bound to one node.
type Agent struct {
	cfg     Config
	log     *slog.Logger
	client  *sdk.Client
	pods    *sdk.Informer
	sources *sources // ConfigMaps and Secrets of the Pods' namespaces
	rcs     *sdk.Informer
	sas     *sdk.Informer // ServiceAccounts, for their imagePullSecrets
	queue   *sdk.Queue
	vols    *volumes.Manager
	events  *recorder
	probes  *probe.Manager

	mu      sync.Mutex
	states  map[string]*podState // by pod uid
	waiters map[string]bool      // container IDs with a Wait goroutine
	written map[string]written   // last status written, by pod uid
	// terminating marks the uids of Pods being stopped for deletion.
	terminating map[string]bool
	// failedOut marks "<container id>/<kind>" probes past their failure
	// threshold (a startup probe that has not succeeded yet is not).
	failedOut map[string]bool
	runCtx    context.Context
	wg        sync.WaitGroup

	// netnsMu orders the creation of a Pod network namespace's file with
	// the removal of the node's emptied namespace directory (netns.go).
	netnsMu sync.Mutex
}

// written remembers a status write so that a sync that runs before the
// informer has seen it does not write the same status again.
type written struct {
	status []byte
	rv     string
}

// New checks cfg and returns an agent; start it with Run.
func New(cfg Config) (*Agent, error) {
	switch {
	case cfg.NodeName == "":
		return nil, fmt.Errorf("%w: NodeName is required", ErrConfig)
	case cfg.Client == nil:
		return nil, fmt.Errorf("%w: Client is required", ErrConfig)
	case len(cfg.Runtimes) == 0:
		return nil, fmt.Errorf("%w: at least one runtime is required", ErrConfig)
	case cfg.DataDir == "":
		return nil, fmt.Errorf("%w: DataDir is required", ErrConfig)
	}
	for name, rt := range cfg.Runtimes {
		if rt == nil {
			return nil, fmt.Errorf("%w: runtime %q is nil", ErrConfig, name)
		}
	}
	// Volumes and termination files are bind-mounted into containers,
	// whose mounts must have absolute sources.
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("%w: DataDir %s: %v", ErrConfig, cfg.DataDir, err)
	}
	cfg.DataDir = dataDir
	if cfg.NodeDataDir == "" {
		cfg.NodeDataDir = filepath.Dir(dataDir)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HostIP == "" {
		cfg.HostIP = defaultHostIP()
	}
	if cfg.BackoffBase <= 0 {
		cfg.BackoffBase = DefaultBackoffBase
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = DefaultBackoffMax
	}
	if cfg.BackoffMax < cfg.BackoffBase {
		cfg.BackoffMax = cfg.BackoffBase
	}
	if cfg.Resync <= 0 {
		cfg.Resync = DefaultResync
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.UsageInterval == 0 {
		cfg.UsageInterval = DefaultUsageInterval
	}
	if cfg.NetNSDir == "" {
		cfg.NetNSDir = DefaultNetNSDirFor(cfg.NodeName, cfg.DataDir)
	}
	podsDir := filepath.Join(cfg.DataDir, "pods")
	if err := os.MkdirAll(podsDir, 0o700); err != nil {
		return nil, fmt.Errorf("agent data dir: %w", err)
	}
	vols, err := volumes.New(podsDir)
	if err != nil {
		return nil, fmt.Errorf("agent volumes: %w", err)
	}
	log := cfg.Logger.With("component", Component, "node", cfg.NodeName)
	a := &Agent{
		cfg:     cfg,
		log:     log,
		client:  cfg.Client,
		queue:   sdk.NewQueue(sdk.WithBackoff(50*time.Millisecond, 10*time.Second)),
		vols:    vols,
		states:  map[string]*podState{},
		waiters: map[string]bool{},
		written: map[string]written{},

		failedOut:   map[string]bool{},
		terminating: map[string]bool{},
	}
	a.probes = probe.NewManager(a.probeChanged, a.probeFailed)
	a.events = newRecorder(cfg.Client, cfg.NodeName, cfg.Now, log)
	var res [5]*types.Resource
	for i, obj := range []types.Object{&types.Pod{}, &types.ConfigMap{}, &types.Secret{}, &types.RuntimeClass{}, &types.ServiceAccount{}} {
		r, ok := types.ResourceForObject(obj)
		if !ok {
			return nil, fmt.Errorf("%w: %T is not a registered kind", ErrConfig, obj)
		}
		res[i] = r
	}
	a.pods = sdk.NewInformer(cfg.Client, res[0], sdk.InformerOptions{
		FieldSelector: "spec.nodeName=" + cfg.NodeName, Logger: log,
		Indexers: map[string]sdk.IndexFunc{indexUID: uidIndex},
	})
	a.sources = newSources(cfg.Client, res[1], res[2], sdk.HandlerFuncs{
		AddFunc:    a.sourceChanged,
		UpdateFunc: func(_, obj types.Object) { a.sourceChanged(obj) },
		DeleteFunc: a.sourceChanged,
	}, sdk.InformerOptions{Logger: log})
	a.rcs = sdk.NewInformer(cfg.Client, res[3], sdk.InformerOptions{Logger: log})
	a.sas = sdk.NewInformer(cfg.Client, res[4], sdk.InformerOptions{Logger: log})
	return a, nil
}

// indexUID indexes Pods by metadata.uid.
const indexUID = "metadata.uid"

func uidIndex(obj types.Object) []string { return []string{obj.GetObjectMeta().UID} }

// defaultHostIP is the first non-loopback IPv4 address, or 127.0.0.1.
func defaultHostIP() string {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

// Run syncs Pods until ctx ends, then stops its loops (the Pods' containers
// keep running, to be adopted by the next agent) and returns.
func (a *Agent) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.mu.Lock()
	if a.runCtx != nil {
		a.mu.Unlock()
		return errors.New("agent: already running")
	}
	a.runCtx = ctx
	a.mu.Unlock()
	// Last: the node's network namespace directory, if no Pod's is left.
	defer a.removeNetNSDir()

	enqueue := sdk.EnqueueHandler(a.queue)
	a.pods.AddEventHandler(enqueue)
	a.rcs.AddEventHandler(sdk.HandlerFuncs{UpdateFunc: func(_, _ types.Object) { a.enqueueAll() }})

	var infs sync.WaitGroup
	a.sources.start(ctx)
	defer a.sources.wait()
	for _, inf := range []*sdk.Informer{a.pods, a.rcs, a.sas} {
		infs.Add(1)
		go func() {
			defer infs.Done()
			if err := inf.Run(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("informer stopped", "resource", inf.Resource().Name, "err", err)
			}
		}()
	}
	defer infs.Wait()
	for _, inf := range []*sdk.Informer{a.pods, a.rcs, a.sas} {
		if err := inf.WaitForSync(ctx); err != nil {
			return nil // ctx ended before the caches filled
		}
	}
	a.log.Info("agent started", "runtimes", len(a.cfg.Runtimes))

	a.wg.Add(2)
	go func() {
		defer a.wg.Done()
		a.events.run(ctx)
	}()
	go func() {
		defer a.wg.Done()
		a.housekeeping(ctx)
		t := time.NewTicker(a.cfg.Resync)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				a.housekeeping(ctx)
			}
		}
	}()
	a.startUsage(ctx)
	a.queue.Run(ctx, a.cfg.Workers, a.sync)
	a.probes.StopAll()
	a.wg.Wait()
	return nil
}

// sourceChanged re-syncs the Pods of a ConfigMap's or Secret's namespace,
// so env and volumes follow the object.
func (a *Agent) sourceChanged(obj types.Object) {
	ns := obj.GetObjectMeta().Namespace
	for _, p := range a.pods.Lister().ListNamespace(ns, labels.Everything()) {
		a.queue.Add(sdk.KeyFunc(p))
	}
}

// enqueueAll queues every Pod of this node.
func (a *Agent) enqueueAll() {
	for _, p := range a.pods.Lister().List(labels.Everything()) {
		a.queue.Add(sdk.KeyFunc(p))
	}
}

// housekeeping queues every Pod, and the keys of containers and volume
// dirs whose Pod is gone, so that sync removes them.
func (a *Agent) housekeeping(ctx context.Context) {
	a.enqueueAll()
	for _, c := range a.listAll(ctx) {
		uid := c.info.Labels[LabelPodUID]
		if objs, _ := a.pods.Lister().ByIndex(indexUID, uid); len(objs) == 0 {
			a.queue.Add(c.info.Labels[LabelPodNamespace] + "/" + c.info.Labels[LabelPodName])
		} else {
			a.ensureWaiter(c.rt, c.info, sdk.KeyFunc(objs[0]))
		}
	}
	// Volume dirs of Pods with no containers left and no Pod object.
	uids, err := a.vols.PodUIDs()
	if err != nil {
		a.log.Warn("list volume dirs", "err", err)
		return
	}
	live := map[string]bool{}
	for _, c := range a.listAll(ctx) {
		live[c.info.Labels[LabelPodUID]] = true
	}
	for _, uid := range uids {
		if objs, _ := a.pods.Lister().ByIndex(indexUID, uid); len(objs) == 0 && !live[uid] {
			if err := a.vols.TearDown(uid); err != nil {
				a.log.Warn("remove volumes of a gone pod", "uid", uid, "err", err)
			}
		}
	}
	a.releaseSources()
	// In-memory state of Pods that are gone.
	a.mu.Lock()
	var stale []string
	for uid := range a.states {
		if objs, _ := a.pods.Lister().ByIndex(indexUID, uid); len(objs) == 0 {
			stale = append(stale, uid)
		}
	}
	a.mu.Unlock()
	for _, uid := range stale {
		a.forget(uid)
	}
	for _, uid := range a.netnsUIDs() {
		if objs, _ := a.pods.Lister().ByIndex(indexUID, uid); len(objs) == 0 && !live[uid] {
			if err := a.removeNetNS(uid); err != nil {
				a.log.Warn("remove network namespace of a gone pod", "uid", uid, "err", err)
			}
		}
	}
}

// podNetNS reports whether container Pods get a shared network namespace
// made by the agent (it needs root).
func (a *Agent) podNetNS() bool {
	_, ok := a.cfg.Runtimes[RuntimeContainer]
	return ok && !a.cfg.DisablePodNetNS && os.Geteuid() == 0
}

// ensureWaiter starts, once per container ID, a goroutine that waits for
// the container to exit and then queues its Pod.
func (a *Agent) ensureWaiter(rt runtimes.Runtime, info runtimes.Info, key string) {
	if info.State == runtimes.StateExited {
		return
	}
	a.mu.Lock()
	ctx := a.runCtx
	if ctx == nil || a.waiters[info.ID] {
		a.mu.Unlock()
		return
	}
	a.waiters[info.ID] = true
	a.wg.Add(1)
	a.mu.Unlock()
	go func() {
		defer a.wg.Done()
		_, err := rt.Wait(ctx, info.ID)
		a.mu.Lock()
		delete(a.waiters, info.ID)
		a.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		if err != nil && !errors.Is(err, runtimes.ErrNotFound) {
			a.log.Warn("wait for container", "id", info.ID, "err", err)
		}
		a.queue.Add(key)
	}()
}
