package framework

import "sync"

// StateKey names one piece of per-cycle data a plugin stores in the
// CycleState (conventionally "PreFilter" + plugin name).
type StateKey string

// CycleState carries data between the extension points of one scheduling
// cycle of one Pod: a plugin computes something once in PreFilter or
// PreScore and reads it in Filter or Score for every node. It is safe for
// concurrent use (Filter and Score run in parallel over nodes).
type CycleState struct {
	pod      *PodInfo
	snapshot *Snapshot
	data     sync.Map // StateKey -> any
}

// NewCycleState returns the state of a cycle for pod over snapshot.
func NewCycleState(pod *PodInfo, snapshot *Snapshot) *CycleState {
	return &CycleState{pod: pod, snapshot: snapshot}
}

// PodInfo returns the precomputed facts about the Pod being scheduled
// (requests, host ports, parsed affinity terms).
func (c *CycleState) PodInfo() *PodInfo { return c.pod }

// Snapshot returns the cluster snapshot of this cycle.
func (c *CycleState) Snapshot() *Snapshot { return c.snapshot }

// Write stores v under key.
func (c *CycleState) Write(key StateKey, v any) { c.data.Store(key, v) }

// Read returns the value under key.
func (c *CycleState) Read(key StateKey) (any, bool) { return c.data.Load(key) }
