package plugins

import (
	"github.com/wharfhq/wharf/sched/framework"
)

// Names of the built-in plugins, as used in the scheduler config.
const (
	NameNodeUnschedulable  = "NodeUnschedulable"
	NameNodeReady          = "NodeReady"
	NameNodeRuntime        = "NodeRuntime"
	NameNodeArchitecture   = "NodeArchitecture"
	NameNodeAffinity       = "NodeAffinity"
	NameTaintToleration    = "TaintToleration"
	NameNodePorts          = "NodePorts"
	NameNodeResourcesFit   = "NodeResourcesFit"
	NamePodTopologySpread  = "PodTopologySpread"
	NameInterPodAffinity   = "InterPodAffinity"
	NameLeastAllocated     = "NodeResourcesLeastAllocated"
	NameBalancedAllocation = "NodeResourcesBalancedAllocation"
)

// RegistryOption configures the plugins NewRegistry makes.
type RegistryOption func(*registryOptions)

type registryOptions struct {
	resolver PlatformResolver
}

// WithPlatformResolver gives NodeArchitecture a resolver of image
// platforms (without one it reads the wharf.dev/image-platforms
// annotation only).
func WithPlatformResolver(r PlatformResolver) RegistryOption {
	return func(o *registryOptions) { o.resolver = r }
}

// NewRegistry returns a registry of every built-in plugin.
func NewRegistry(opts ...RegistryOption) framework.Registry {
	var o registryOptions
	for _, f := range opts {
		f(&o)
	}
	return framework.Registry{
		NameNodeUnschedulable:  framework.PluginFactory(func() framework.Plugin { return NodeUnschedulable{} }),
		NameNodeReady:          framework.PluginFactory(func() framework.Plugin { return NodeReady{} }),
		NameNodeRuntime:        framework.PluginFactory(func() framework.Plugin { return NodeRuntime{} }),
		NameNodeArchitecture:   framework.PluginFactory(func() framework.Plugin { return NodeArchitecture{Resolver: o.resolver} }),
		NameNodeAffinity:       framework.PluginFactory(func() framework.Plugin { return NodeAffinity{} }),
		NameTaintToleration:    framework.PluginFactory(func() framework.Plugin { return TaintToleration{} }),
		NameNodePorts:          framework.PluginFactory(func() framework.Plugin { return NodePorts{} }),
		NameNodeResourcesFit:   framework.PluginFactory(func() framework.Plugin { return NodeResourcesFit{} }),
		NamePodTopologySpread:  framework.PluginFactory(func() framework.Plugin { return PodTopologySpread{} }),
		NameInterPodAffinity:   framework.PluginFactory(func() framework.Plugin { return InterPodAffinity{} }),
		NameLeastAllocated:     framework.PluginFactory(func() framework.Plugin { return LeastAllocated{} }),
		NameBalancedAllocation: framework.PluginFactory(func() framework.Plugin { return BalancedAllocation{} }),
	}
}

// DefaultPlugins is the default profile: filters cheapest first (the first
// refusal ends a node's check, so cheap, common refusals come early), and
// score weights as Kubernetes' defaults.
func DefaultPlugins() []framework.PluginSpec {
	return []framework.PluginSpec{
		{Name: NameNodeUnschedulable},
		{Name: NameNodeReady},
		{Name: NameNodeRuntime},
		{Name: NameNodeArchitecture},
		{Name: NameNodeAffinity, Weight: 2},
		{Name: NameTaintToleration, Weight: 3},
		{Name: NameNodePorts},
		{Name: NameNodeResourcesFit},
		{Name: NamePodTopologySpread, Weight: 2},
		{Name: NameInterPodAffinity, Weight: 2},
		{Name: NameLeastAllocated, Weight: 1},
		{Name: NameBalancedAllocation, Weight: 1},
	}
}
