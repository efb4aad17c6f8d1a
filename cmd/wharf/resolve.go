package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/wharfhq/wharf/api/types"
)

// target is one resource and the object names asked for (none: all).
type target struct {
	res   *types.Resource
	names []string
}

// lookupResource resolves what the user typed ("po", "pods",
// "deployments.apps", "Deployment") or explains what exists.
func lookupResource(s string) (*types.Resource, error) {
	res, ok := types.LookupResource(s)
	if !ok {
		res, ok = lookupServed(s)
	}
	if !ok {
		return nil, fmt.Errorf("the server doesn't have a resource type %q (see the NAME column of \"kubectl api-resources\"; known: %s)", s, knownResources())
	}
	return res, nil
}

func knownResources() string {
	var names []string
	for _, r := range types.Resources() {
		names = append(names, r.Name)
	}
	for _, r := range servedResources {
		names = append(names, r.Name+"."+r.Group)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// servedResources are served by the API server but not stored, so not in
// the types registry: the metrics API (api/server/metricsapi.go), get and
// list only. The singular names are kubectl's (the lower-case kind, as
// metrics-server's discovery gives none).
var servedResources = []*types.Resource{
	{Group: types.GroupMetrics, Version: types.MetricsVersion, Kind: "PodMetrics", Name: "pods", SingularName: "podmetrics",
		Namespaced: true, New: func() types.Object { return &types.PodMetrics{} }},
	{Group: types.GroupMetrics, Version: types.MetricsVersion, Kind: "NodeMetrics", Name: "nodes", SingularName: "nodemetrics",
		New: func() types.Object { return &types.NodeMetrics{} }},
}

// lookupServed finds s among servedResources: "pods.metrics.k8s.io",
// "podmetrics", "PodMetrics". Their plural names are those of Pods and
// Nodes: only with the group.
func lookupServed(s string) (*types.Resource, bool) {
	name, group, _ := strings.Cut(s, ".")
	for _, r := range servedResources {
		if group != "" && group != r.Group {
			continue
		}
		if strings.EqualFold(r.SingularName, name) || strings.EqualFold(r.Kind, name) ||
			(group != "" && strings.EqualFold(r.Name, name)) {
			return r, true
		}
	}
	return nil, false
}

// groupOrder orders API groups as kubectl's discovery lists them, for
// "get all".
var groupOrder = map[string]int{"": 0, "apps": 1, "autoscaling": 2, "batch": 3}

// categoryResources returns the resources in category cat ("all": pods,
// services, daemonsets, deployments, replicasets, statefulsets, HPAs,
// cronjobs and jobs), in kubectl's order; nil when cat names no category.
func categoryResources(cat string) []*types.Resource {
	var rs []*types.Resource
	for _, r := range types.Resources() {
		if slices.Contains(r.Categories, cat) {
			rs = append(rs, r)
		}
	}
	slices.SortStableFunc(rs, func(a, b *types.Resource) int {
		ga, oka := groupOrder[a.Group]
		gb, okb := groupOrder[b.Group]
		switch {
		case !oka && !okb:
			return strings.Compare(a.Group, b.Group)
		case !oka:
			return 1
		case !okb:
			return -1
		case ga != gb:
			return ga - gb
		}
		if a.Group == "" {
			return 0 // core: registration order (pods, then services)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return rs
}

// resolveArgs reads "KIND [NAME...]" or "KIND/NAME..." arguments into
// targets, in the order given.
func resolveArgs(args []string) ([]target, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("you must specify the type of resource, e.g. \"pods\" (known: %s)", knownResources())
	}
	if !strings.Contains(args[0], "/") {
		var targets []target
		for _, kind := range strings.Split(args[0], ",") {
			if cat := categoryResources(kind); len(cat) > 0 {
				for _, res := range cat {
					targets = append(targets, target{res: res})
				}
				continue
			}
			res, err := lookupResource(kind)
			if err != nil {
				return nil, err
			}
			targets = append(targets, target{res: res})
		}
		if len(args) > 1 {
			if len(targets) > 1 {
				return nil, fmt.Errorf("names can only be given with a single resource type, not %q", args[0])
			}
			targets[0].names = args[1:]
		}
		return targets, nil
	}
	var targets []target
	for _, arg := range args {
		kind, name, ok := strings.Cut(arg, "/")
		if !ok || name == "" {
			return nil, fmt.Errorf("%q: mix of KIND NAME and KIND/NAME forms; use KIND/NAME for every argument", arg)
		}
		res, err := lookupResource(kind)
		if err != nil {
			return nil, err
		}
		if n := len(targets); n > 0 && targets[n-1].res == res {
			targets[n-1].names = append(targets[n-1].names, name)
			continue
		}
		targets = append(targets, target{res: res, names: []string{name}})
	}
	return targets, nil
}
