package framework

import (
	"errors"
	"strings"
)

// ClusterEvent is a set of kinds of change in the cluster. The scheduler
// sends a Pod that no node fitted back to its queue only on a change that
// could make it fit (as Kubernetes' QueueingHints): a Pod deleted from a
// node can cure "Too many pods", a Node's labels changing can cure its
// node affinity, a Pod added cures neither.
type ClusterEvent uint32

// The kinds of change the scheduler watches for.
const (
	// NodeAdd: a Node was added.
	NodeAdd ClusterEvent = 1 << iota
	// NodeUpdate: a Node changed in something a plugin reads (labels,
	// taints, unschedulable, allocatable, readiness, platform); heartbeats
	// are not events.
	NodeUpdate
	// AssignedPodAdd: a Pod was bound to a node (or a bound Pod appeared).
	AssignedPodAdd
	// AssignedPodUpdate: the labels of a bound Pod changed.
	AssignedPodUpdate
	// AssignedPodDelete: a bound Pod was deleted or finished: its
	// resources and ports are free and it no longer counts for affinity
	// or spreading.
	AssignedPodDelete

	// EventKinds is the number of kinds: each is a bit below
	// 1<<EventKinds.
	EventKinds = iota
)

// AllEvents is every kind: what a rejection whose cause is unknown waits
// for.
const AllEvents ClusterEvent = 1<<EventKinds - 1

// NodeEvents are the changes of Nodes.
const NodeEvents = NodeAdd | NodeUpdate

var eventNames = []string{"NodeAdd", "NodeUpdate", "AssignedPodAdd", "AssignedPodUpdate", "AssignedPodDelete"}

// String lists the kinds in e, joined with "|".
func (e ClusterEvent) String() string {
	var names []string
	for i, n := range eventNames {
		if e&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "None"
	}
	return strings.Join(names, "|")
}

// EnqueueExtensions is implemented by a plugin that knows which cluster
// events can turn its rejection of a Pod into a fit (Kubernetes'
// EventsToRegister). A Pod rejected by a plugin without it is retried on
// any event.
type EnqueueExtensions interface {
	Plugin
	EventsToRegister() ClusterEvent
}

// eventsOf returns the events that can cure pl's rejections.
func eventsOf(pl Plugin) ClusterEvent {
	if e, ok := pl.(EnqueueExtensions); ok {
		return e.EventsToRegister()
	}
	return AllEvents
}

// RetryEvents returns the cluster events after which a Pod that failed
// with err (from Schedule) is worth trying again: for a *FitError, the
// union of what the rejecting plugins registered (AllEvents for a plugin
// the profile does not know or a status naming none); for
// ErrNoNodesAvailable, NodeAdd; for anything else, AllEvents.
func (p *Profile) RetryEvents(err error) ClusterEvent {
	var fe *FitError
	if !errors.As(err, &fe) {
		if errors.Is(err, ErrNoNodesAvailable) {
			return NodeAdd
		}
		return AllEvents
	}
	if st := fe.Diagnosis.PreFilterStatus; st != nil {
		return p.pluginEvents(st.Plugin())
	}
	var ev ClusterEvent
	last := "\x00"
	for _, st := range fe.Diagnosis.NodeToStatus {
		if st.Plugin() == last {
			continue // most nodes are refused by a few plugins
		}
		last = st.Plugin()
		ev |= p.pluginEvents(last)
		if ev == AllEvents {
			break
		}
	}
	if ev == 0 {
		return AllEvents
	}
	return ev
}

func (p *Profile) pluginEvents(name string) ClusterEvent {
	if e, ok := p.events[name]; ok {
		return e
	}
	return AllEvents
}
