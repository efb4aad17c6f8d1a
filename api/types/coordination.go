package types

// coordination.k8s.io/v1 Lease: the node heartbeat each agent renews in
// the kube-node-lease namespace (as each kubelet does), and a lock object
// anyone may use for leader election.

// NamespaceNodeLease holds one Lease per Node, named as the Node.
const NamespaceNodeLease = "kube-node-lease"

// Lease is a lock held by HolderIdentity until RenewTime plus
// LeaseDurationSeconds.
type Lease struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitempty"`
	Spec       LeaseSpec `json:"spec,omitempty"`
}

// LeaseList is a list of Leases.
type LeaseList struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata,omitempty"`
	Items    []Lease `json:"items"`
}

// CoordinatedLeaseStrategy names how a coordinated leader election picks
// the next holder.
type CoordinatedLeaseStrategy string

// The only strategy Kubernetes 1.32 defines.
const LeaseStrategyOldestEmulationVersion CoordinatedLeaseStrategy = "OldestEmulationVersion"

// LeaseSpec is the state of a Lease. Every field is optional.
type LeaseSpec struct {
	// HolderIdentity names the current holder.
	HolderIdentity *string `json:"holderIdentity,omitempty"`
	// LeaseDurationSeconds is how long the holder keeps the lease after
	// its last renewal.
	LeaseDurationSeconds *int32 `json:"leaseDurationSeconds,omitempty"`
	// AcquireTime is when the current holder took the lease.
	AcquireTime *MicroTime `json:"acquireTime,omitempty"`
	// RenewTime is when the holder last renewed the lease.
	RenewTime *MicroTime `json:"renewTime,omitempty"`
	// LeaseTransitions counts the changes of holder.
	LeaseTransitions *int32 `json:"leaseTransitions,omitempty"`
	// Strategy is the coordinated leader election strategy.
	Strategy *CoordinatedLeaseStrategy `json:"strategy,omitempty"`
	// PreferredHolder is the holder a coordinated election wants next.
	PreferredHolder *string `json:"preferredHolder,omitempty"`
}

// GetItems implements ObjectList.
func (l *LeaseList) GetItems() []Object { return itemsOf(l.Items) }

// SetItems implements ObjectList.
func (l *LeaseList) SetItems(objs []Object) error { return setItems(&l.Items, objs) }
