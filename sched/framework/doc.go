// Package framework is the pure core of Wharf's scheduler: the data a
// scheduling decision is made from and the plugin API that makes it.
//
// A Snapshot (one immutable NodeInfo per node: the Node, what the Pods bound
// or assumed there request, their host ports and labels) goes in, a
// placement or a reason comes out: Profile.Schedule runs the enabled
// PreFilter, Filter, PreScore, Score and NormalizeScore plugins over it and
// returns the chosen node, or a *FitError that sums up why no node fits, in
// the words Kubernetes uses ("0/5 nodes are available: 2 Insufficient
// memory, ..."). Nothing here talks to the API: the scheduler in package
// sched feeds a Cache from informers, takes a Snapshot per cycle and binds
// at the edge.
//
// The built-in plugins live in package sched/plugins; a custom plugin is a
// type with Name and Filter (or Score) registered in a Registry.
package framework
