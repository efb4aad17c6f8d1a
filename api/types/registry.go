package types

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Resource describes one REST resource: its kind, where it is served, and
// how to make an empty object of it. The API server, the SDK and the CLI all
// work from this table, so a kind is added in one place.
type Resource struct {
	Group   string // "" for core
	Version string
	Kind    string
	// Name is the plural, lower-case REST name ("pods").
	Name         string
	SingularName string
	ShortNames   []string
	Categories   []string
	Namespaced   bool
	// Subresources served besides the object itself ("status", "scale",
	// "binding", "log", "exec", "eviction").
	Subresources []string
	// New returns an empty object of the kind.
	New func() Object
	// NewList returns an empty list of the kind.
	NewList func() ObjectList
}

// APIVersion returns "group/version", or "version" for the core group.
func (r *Resource) APIVersion() string {
	if r.Group == "" {
		return r.Version
	}
	return r.Group + "/" + r.Version
}

// HasSubresource reports whether the resource serves sub.
func (r *Resource) HasSubresource(sub string) bool {
	for _, s := range r.Subresources {
		if s == sub {
			return true
		}
	}
	return false
}

var (
	registryMu sync.RWMutex
	registry   []*Resource
)

// Register adds a resource to the table. It is called from init functions
// of this package; registering the same group and name twice panics (a
// programming error, not input).
func Register(r *Resource) {
	registryMu.Lock()
	defer registryMu.Unlock()
	for _, e := range registry {
		if e.Group == r.Group && e.Name == r.Name {
			panic(fmt.Sprintf("types: resource %s/%s registered twice", r.Group, r.Name))
		}
	}
	registry = append(registry, r)
	sort.Slice(registry, func(i, j int) bool {
		if registry[i].Group != registry[j].Group {
			return registry[i].Group < registry[j].Group
		}
		return registry[i].Name < registry[j].Name
	})
}

// Resources returns every registered resource, sorted by group then name.
func Resources() []*Resource {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return append([]*Resource(nil), registry...)
}

// ResourceFor finds a resource by group and plural name.
func ResourceFor(group, name string) (*Resource, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	for _, r := range registry {
		if r.Group == group && r.Name == name {
			return r, true
		}
	}
	return nil, false
}

// ResourceForKind finds a resource by apiVersion and kind.
func ResourceForKind(apiVersion, kind string) (*Resource, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	for _, r := range registry {
		if r.Kind == kind && r.APIVersion() == apiVersion {
			return r, true
		}
	}
	return nil, false
}

// LookupResource resolves what a user typed on a command line ("pods",
// "pod", "po", "Pod", "deployments.apps", "deploy") to a resource.
func LookupResource(s string) (*Resource, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	name, group, _ := strings.Cut(s, ".")
	for _, r := range registry {
		if group != "" && r.Group != group {
			continue
		}
		if strings.EqualFold(r.Name, name) || strings.EqualFold(r.SingularName, name) || strings.EqualFold(r.Kind, name) {
			return r, true
		}
		for _, sn := range r.ShortNames {
			if strings.EqualFold(sn, name) {
				return r, true
			}
		}
	}
	return nil, false
}

// Conversion serves a resource in a version other than the one it is
// stored in, as Kubernetes serves autoscaling/v1 and autoscaling/v2
// HorizontalPodAutoscalers from one storage: objects of Version are
// converted to the stored version on the way in and back on the way out.
// The Resource of the stored version stays the one registered (Resources,
// ResourceFor and storage keys know only it); conversions are found with
// ConversionFor and ConversionsOf.
type Conversion struct {
	// Version is the served version ("v1").
	Version string
	// New returns an empty object of the version.
	New func() Object
	// NewList returns an empty list of the version.
	NewList func() ObjectList
	// ToStored converts an object of the version to the stored version
	// (an object of the Resource's New type), sharing nothing with it.
	ToStored func(Object) (Object, error)
	// FromStored converts an object of the stored version to the
	// version, sharing nothing with it.
	FromStored func(Object) (Object, error)
}

var conversions = map[[2]string][]*Conversion{}

// RegisterConversion adds a served version to the resource of group and
// plural name (which may be registered before or after). It is called from
// init functions of this package; a version registered twice panics (a
// programming error, not input).
func RegisterConversion(group, name string, c *Conversion) {
	registryMu.Lock()
	defer registryMu.Unlock()
	k := [2]string{group, name}
	for _, e := range conversions[k] {
		if e.Version == c.Version {
			panic(fmt.Sprintf("types: conversion %s/%s %s registered twice", group, name, c.Version))
		}
	}
	conversions[k] = append(conversions[k], c)
}

// ConversionFor returns the conversion serving r in version, if any (none
// for r's own version).
func ConversionFor(r *Resource, version string) (*Conversion, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	for _, c := range conversions[[2]string{r.Group, r.Name}] {
		if c.Version == version && version != r.Version {
			return c, true
		}
	}
	return nil, false
}

// ConversionsOf returns the other versions r is served in.
func ConversionsOf(r *Resource) []*Conversion {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return append([]*Conversion(nil), conversions[[2]string{r.Group, r.Name}]...)
}
