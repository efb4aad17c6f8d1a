// Package nodeinfo registers an agent's Node with the API server and keeps
// its status current: capacity, labels (arch, os, hostname, runtimes),
// taints given at start, system info, addresses, the agent's endpoint and
// the Ready condition's heartbeat, and the node's Lease in kube-node-lease
// (the cheap heartbeat Kubernetes' kubelet keeps, which kubectl describe
// node shows).
package nodeinfo

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

// Labels and annotations the agent writes on its Node.
const (
	LabelArch     = "kubernetes.io/arch"
	LabelOS       = "kubernetes.io/os"
	LabelHostname = "kubernetes.io/hostname"
	// LabelRuntimes lists the node's runtimes, sorted and dot-separated
	// ("container.wasm"): a label value cannot hold commas.
	LabelRuntimes = "wharf.dev/runtimes"
	// LabelRuntimePrefix + name is "true" for each runtime the node offers
	// (wharf.dev/runtime-wasm=true), for simple node selectors.
	LabelRuntimePrefix = "wharf.dev/runtime-"
	// AnnotationAgentAddress is the agent's HTTP address host:port (logs,
	// exec), which the API server proxies to.
	AnnotationAgentAddress = "wharf.dev/agent-address"
)

// Default values of Config.
const (
	DefaultMaxPods           = 110
	DefaultHeartbeatInterval = 10 * time.Second
	// LeaseDurationSeconds is the node Lease's spec.leaseDurationSeconds,
	// the kubelet's default (--node-lease-duration-seconds).
	LeaseDurationSeconds = 40
)

// ErrMaxPods is returned for a Pod capacity that is not positive.
var ErrMaxPods = errors.New("max pods must be greater than 0")

// Condition reasons the agent reports.
const (
	ReasonKubeletReady = "KubeletReady"
)

// RuntimesLabelValue encodes runtime names as the wharf.dev/runtimes label
// value: sorted and joined with dots.
func RuntimesLabelValue(names []string) string {
	s := slices.Clone(names)
	slices.Sort(s)
	return strings.Join(slices.Compact(s), ".")
}

// ParseRuntimesLabel decodes a wharf.dev/runtimes label value; it accepts
// dots and commas as separators.
func ParseRuntimesLabel(v string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == '.' || r == ',' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Config configures a Registrar.
type Config struct {
	// NodeName names the Node. Required.
	NodeName string
	// Client talks to the API server. Required.
	Client *sdk.Client
	// Labels are added to the well-known ones (and win over them).
	Labels map[string]string
	// Taints are set when the Node is registered (and added at start when
	// missing); later changes by an operator are kept.
	Taints []types.Taint
	// Runtimes are the names of the runtimes the node offers, with their
	// versions ("wasm" -> "wazero v1.12.0"); versions may be empty.
	Runtimes map[string]string
	// InternalIP is the node's address others reach it at.
	InternalIP string
	// AgentAddress is the agent's HTTP address host:port.
	AgentAddress string
	// Version is Wharf's version (nodeInfo.kubeletVersion).
	Version string
	// MaxPods is the node's Pod capacity and allocatable; DefaultMaxPods
	// when 0. New refuses a negative value.
	MaxPods int
	// HeartbeatInterval is how often the Ready condition and the node
	// Lease are renewed; DefaultHeartbeatInterval when 0.
	HeartbeatInterval time.Duration
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// Logger; slog.Default() when nil.
	Logger *slog.Logger
}

// Registrar keeps one Node registered and its heartbeat fresh.
type Registrar struct {
	cfg    Config
	nodes  *sdk.TypedClient[*types.Node]
	leases *sdk.TypedClient[*types.Lease]

	mu sync.Mutex // guards lease; held during a renewal
	// lease is the Lease as last written, renewed with one update and
	// no read while nobody else writes it (as the kubelet does); nil
	// before the first renewal and after a failed one.
	lease *types.Lease
}

// New checks cfg and returns a Registrar.
func New(cfg Config) (*Registrar, error) {
	if cfg.NodeName == "" {
		return nil, errors.New("nodeinfo: Config.NodeName is required")
	}
	if cfg.Client == nil {
		return nil, errors.New("nodeinfo: Config.Client is required")
	}
	if cfg.MaxPods < 0 {
		return nil, fmt.Errorf("nodeinfo: Config.MaxPods %d: %w", cfg.MaxPods, ErrMaxPods)
	}
	if cfg.MaxPods == 0 {
		cfg.MaxPods = DefaultMaxPods
	}
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Registrar{cfg: cfg, nodes: sdk.Typed[*types.Node](cfg.Client),
		leases: sdk.Typed[*types.Lease](cfg.Client).Namespace(types.NamespaceNodeLease)}, nil
}

// Labels returns the labels the agent puts on its Node.
func (r *Registrar) Labels() map[string]string {
	l := map[string]string{
		LabelArch:     runtime.GOARCH,
		LabelOS:       runtime.GOOS,
		LabelHostname: r.cfg.NodeName,
		LabelRuntimes: RuntimesLabelValue(slices.Collect(maps.Keys(r.cfg.Runtimes))),
	}
	for name := range r.cfg.Runtimes {
		l[LabelRuntimePrefix+name] = "true"
	}
	maps.Copy(l, r.cfg.Labels)
	return l
}

// Capacity returns the machine's capacity: cpu from runtime.NumCPU, memory
// from /proc/meminfo, and DefaultMaxPods pods (a Registrar writes its
// Config.MaxPods instead).
func Capacity() types.ResourceList {
	rl := types.ResourceList{
		types.ResourceCPU:  types.NewQuantity(int64(runtime.NumCPU()), types.DecimalSI),
		types.ResourcePods: types.NewQuantity(DefaultMaxPods, types.DecimalSI),
	}
	if mem, err := MemTotal(); err == nil {
		rl[types.ResourceMemory] = types.NewQuantity(mem, types.BinarySI)
	}
	return rl
}

// MemTotal reads the machine's memory in bytes from /proc/meminfo.
func MemTotal() (int64, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, fmt.Errorf("memory size: %w", err)
	}
	return parseMemTotal(b)
}

func parseMemTotal(b []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kib, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("memory size: MemTotal %q: %w", f[1], err)
			}
			return kib * 1024, nil
		}
	}
	return 0, errors.New("memory size: no MemTotal in /proc/meminfo")
}

func kernelVersion() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func osImage() string {
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

func readID(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// applyStatus writes everything the agent owns in the Node's status, and a
// fresh Ready=True heartbeat.
func (r *Registrar) applyStatus(n *types.Node) {
	now := types.NewTime(r.cfg.Now().UTC().Truncate(time.Second))
	st := &n.Status
	st.Capacity = Capacity()
	st.Capacity[types.ResourcePods] = types.NewQuantity(int64(r.cfg.MaxPods), types.DecimalSI)
	st.Allocatable = maps.Clone(st.Capacity)
	var versions []string
	for _, name := range slices.Sorted(maps.Keys(r.cfg.Runtimes)) {
		v := name + "://" + r.cfg.Runtimes[name]
		versions = append(versions, strings.TrimSuffix(v, "://"))
	}
	st.NodeInfo = types.NodeSystemInfo{
		MachineID:               readID("/etc/machine-id"),
		BootID:                  readID("/proc/sys/kernel/random/boot_id"),
		KernelVersion:           kernelVersion(),
		OSImage:                 osImage(),
		ContainerRuntimeVersion: strings.Join(versions, ","),
		KubeletVersion:          r.cfg.Version,
		OperatingSystem:         runtime.GOOS,
		Architecture:            runtime.GOARCH,
	}
	st.Addresses = []types.NodeAddress{{Type: types.NodeHostName, Address: r.cfg.NodeName}}
	if r.cfg.InternalIP != "" {
		st.Addresses = append([]types.NodeAddress{{Type: types.NodeInternalIP, Address: r.cfg.InternalIP}}, st.Addresses...)
	}
	if port := portOf(r.cfg.AgentAddress); port > 0 {
		st.DaemonEndpoints.KubeletEndpoint.Port = port
	}
	ready := types.NodeCondition{
		Type: types.NodeReady, Status: types.ConditionTrue, LastHeartbeatTime: now, LastTransitionTime: now,
		Reason: ReasonKubeletReady, Message: "wharf agent is posting ready status",
	}
	SetCondition(st, ready)
	for _, c := range []struct {
		t      types.NodeConditionType
		reason string
	}{
		{types.NodeMemoryPressure, "KubeletHasSufficientMemory"},
		{types.NodeDiskPressure, "KubeletHasNoDiskPressure"},
		{types.NodePIDPressure, "KubeletHasSufficientPID"},
	} {
		SetCondition(st, types.NodeCondition{Type: c.t, Status: types.ConditionFalse, LastHeartbeatTime: now, LastTransitionTime: now, Reason: c.reason})
	}
}

// SetCondition sets c in st, keeping the old lastTransitionTime when the
// status does not change. Condition order is kept, new ones are appended.
func SetCondition(st *types.NodeStatus, c types.NodeCondition) {
	for i := range st.Conditions {
		old := &st.Conditions[i]
		if old.Type != c.Type {
			continue
		}
		if old.Status == c.Status && !old.LastTransitionTime.IsZero() {
			c.LastTransitionTime = old.LastTransitionTime
		}
		*old = c
		return
	}
	st.Conditions = append(st.Conditions, c)
}

func portOf(addr string) int32 {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return 0
	}
	p, err := strconv.ParseInt(addr[i+1:], 10, 32)
	if err != nil {
		return 0
	}
	return int32(p)
}

// Register creates the Node, or updates the one already there: labels,
// the agent address annotation and missing start-up taints in its spec,
// then its status.
func (r *Registrar) Register(ctx context.Context) (*types.Node, error) {
	n, err := r.nodes.Get(ctx, r.cfg.NodeName)
	switch {
	case sdk.IsNotFound(err):
		n = &types.Node{ObjectMeta: types.ObjectMeta{Name: r.cfg.NodeName}}
		r.applyMeta(n)
		r.applyStatus(n)
		created, err := r.nodes.Create(ctx, n)
		if err == nil {
			r.cfg.Logger.Info("registered node", "node", r.cfg.NodeName)
			r.renewLeaseOrWarn(ctx, created)
			return created, nil
		}
		if !sdk.IsAlreadyExists(err) {
			return nil, fmt.Errorf("register node %q: %w", r.cfg.NodeName, err)
		}
		return r.Register(ctx) // lost a race with another registration
	case err != nil:
		return nil, fmt.Errorf("register node %q: %w", r.cfg.NodeName, err)
	}
	r.applyMeta(n)
	updated, err := r.nodes.Update(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("register node %q: update: %w", r.cfg.NodeName, err)
	}
	r.applyStatus(updated)
	updated, err = r.nodes.UpdateStatus(ctx, updated)
	if err != nil {
		return nil, fmt.Errorf("register node %q: status: %w", r.cfg.NodeName, err)
	}
	r.cfg.Logger.Info("node registration updated", "node", r.cfg.NodeName)
	r.renewLeaseOrWarn(ctx, updated)
	return updated, nil
}

func (r *Registrar) applyMeta(n *types.Node) {
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	maps.Copy(n.Labels, r.Labels())
	if r.cfg.AgentAddress != "" {
		if n.Annotations == nil {
			n.Annotations = map[string]string{}
		}
		n.Annotations[AnnotationAgentAddress] = r.cfg.AgentAddress
	}
	for _, t := range r.cfg.Taints {
		if !slices.ContainsFunc(n.Spec.Taints, func(x types.Taint) bool { return x.Key == t.Key && x.Effect == t.Effect }) {
			n.Spec.Taints = append(n.Spec.Taints, t)
		}
	}
}

// Heartbeat renews the Node's status and then its Lease once
// (re-registering a Node that was deleted).
func (r *Registrar) Heartbeat(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		n, err := r.nodes.Get(ctx, r.cfg.NodeName)
		if sdk.IsNotFound(err) {
			_, err = r.Register(ctx)
			return err
		}
		if err != nil {
			return fmt.Errorf("heartbeat of node %q: %w", r.cfg.NodeName, err)
		}
		r.applyStatus(n)
		updated, err := r.nodes.UpdateStatus(ctx, n)
		if err == nil {
			return r.RenewLease(ctx, updated)
		}
		if !sdk.IsConflict(err) || attempt >= 3 {
			return fmt.Errorf("heartbeat of node %q: %w", r.cfg.NodeName, err)
		}
	}
}

// renewLeaseOrWarn renews the Lease after a registration, whose success
// does not depend on it: the next heartbeat tries again.
func (r *Registrar) renewLeaseOrWarn(ctx context.Context, n *types.Node) {
	if err := r.RenewLease(ctx, n); err != nil && ctx.Err() == nil {
		r.cfg.Logger.Warn("node lease renewal failed", "err", err)
	}
}

// RenewLease creates or renews the Lease kube-node-lease/NODE of node n, as
// the kubelet does: holderIdentity NODE, leaseDurationSeconds
// LeaseDurationSeconds, renewTime now, and an ownerReference to the Node
// (by uid) so that deleting the Node collects its Lease. acquireTime is
// set when the Lease is created or changes holder.
func (r *Registrar) RenewLease(ctx context.Context, n *types.Node) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	name := r.cfg.NodeName
	for attempt := 0; ; attempt++ {
		written, err := r.writeLease(ctx, n)
		if err == nil {
			r.lease = written
			return nil
		}
		r.lease = nil // read it again
		if !(sdk.IsConflict(err) || sdk.IsAlreadyExists(err) || sdk.IsNotFound(err)) || attempt >= 3 {
			return fmt.Errorf("lease of node %q: %w", name, err)
		}
	}
}

// writeLease updates the Lease last written, or reads it and then
// updates it, or creates it.
func (r *Registrar) writeLease(ctx context.Context, n *types.Node) (*types.Lease, error) {
	if r.lease != nil {
		l := types.Clone(r.lease)
		r.applyLease(l, n)
		return r.leases.Update(ctx, l)
	}
	l, err := r.leases.Get(ctx, r.cfg.NodeName)
	switch {
	case sdk.IsNotFound(err):
		l = &types.Lease{ObjectMeta: types.ObjectMeta{Name: r.cfg.NodeName, Namespace: types.NamespaceNodeLease}}
		r.applyLease(l, n)
		return r.leases.Create(ctx, l)
	case err != nil:
		return nil, err
	}
	r.applyLease(l, n)
	return r.leases.Update(ctx, l)
}

// applyLease sets what the agent owns in its node Lease.
func (r *Registrar) applyLease(l *types.Lease, n *types.Node) {
	now := types.MicroTime{Time: r.cfg.Now().UTC().Truncate(time.Microsecond)}
	s := &l.Spec
	if s.HolderIdentity == nil || *s.HolderIdentity != r.cfg.NodeName {
		if s.HolderIdentity != nil {
			s.LeaseTransitions = ptr(deref(s.LeaseTransitions) + 1)
		}
		s.HolderIdentity = ptr(r.cfg.NodeName)
		s.AcquireTime = &now
	}
	s.LeaseDurationSeconds = ptr(int32(LeaseDurationSeconds))
	s.RenewTime = &now
	if n != nil && n.UID != "" {
		// Replace a reference to an earlier Node of this name (deleted and
		// registered again), keep any other.
		l.OwnerReferences = slices.DeleteFunc(l.OwnerReferences, func(o types.OwnerReference) bool {
			return o.APIVersion == "v1" && o.Kind == "Node"
		})
		l.OwnerReferences = append(l.OwnerReferences, types.OwnerReference{APIVersion: "v1", Kind: "Node", Name: n.Name, UID: n.UID})
	}
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p != nil {
		return *p
	}
	return zero
}

// Run registers the Node (retrying with back-off until it succeeds) and
// then renews its heartbeat every HeartbeatInterval until ctx ends.
func (r *Registrar) Run(ctx context.Context) error {
	delay := 500 * time.Millisecond
	for {
		_, err := r.Register(ctx)
		if err == nil {
			break
		}
		r.cfg.Logger.Warn("node registration failed; retrying", "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(2*delay, 10*time.Second)
	}
	t := time.NewTicker(r.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := r.Heartbeat(ctx); err != nil && ctx.Err() == nil {
				r.cfg.Logger.Warn("node heartbeat failed", "err", err)
			}
		}
	}
}
