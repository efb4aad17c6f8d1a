package types

// Every stored kind is registered here, in one table, with the names,
// short names, categories and subresources kubectl expects.

// Compile-time guards: every stored kind is an Object and its list an
// ObjectList.
var (
	_ Object     = (*Pod)(nil)
	_ ObjectList = (*PodList)(nil)
	_ Object     = (*Namespace)(nil)
	_ ObjectList = (*NamespaceList)(nil)
	_ Object     = (*Node)(nil)
	_ ObjectList = (*NodeList)(nil)
	_ Object     = (*Event)(nil)
	_ ObjectList = (*EventList)(nil)
	_ Object     = (*ConfigMap)(nil)
	_ ObjectList = (*ConfigMapList)(nil)
	_ Object     = (*Secret)(nil)
	_ ObjectList = (*SecretList)(nil)
	_ Object     = (*ServiceAccount)(nil)
	_ ObjectList = (*ServiceAccountList)(nil)
	_ Object     = (*Service)(nil)
	_ ObjectList = (*ServiceList)(nil)
	_ Object     = (*Endpoints)(nil)
	_ ObjectList = (*EndpointsList)(nil)
	_ Object     = (*Binding)(nil)
	_ Object     = (*Eviction)(nil)
)

// Well-known group names.
const (
	GroupCore        = ""
	GroupApps        = "apps"
	GroupBatch       = "batch"
	GroupAutoscaling = "autoscaling"
	GroupNetworking  = "networking.k8s.io"
	GroupNode        = "node.k8s.io"
	GroupPolicy      = "policy"
)

var categoryAll = []string{"all"}

func init() {
	core := func(r *Resource) {
		r.Group, r.Version = GroupCore, "v1"
		Register(r)
	}
	core(&Resource{Kind: "Namespace", Name: "namespaces", SingularName: "namespace", ShortNames: []string{"ns"},
		Subresources: []string{"status"},
		New:          func() Object { return &Namespace{} }, NewList: func() ObjectList { return &NamespaceList{} }})
	core(&Resource{Kind: "Node", Name: "nodes", SingularName: "node", ShortNames: []string{"no"},
		Subresources: []string{"status"},
		New:          func() Object { return &Node{} }, NewList: func() ObjectList { return &NodeList{} }})
	core(&Resource{Kind: "Pod", Name: "pods", SingularName: "pod", ShortNames: []string{"po"}, Categories: categoryAll,
		Namespaced: true, Subresources: []string{"status", "binding", "log", "exec", "eviction"},
		New: func() Object { return &Pod{} }, NewList: func() ObjectList { return &PodList{} }})
	core(&Resource{Kind: "Event", Name: "events", SingularName: "event", ShortNames: []string{"ev"},
		Namespaced: true,
		New:        func() Object { return &Event{} }, NewList: func() ObjectList { return &EventList{} }})
	core(&Resource{Kind: "ConfigMap", Name: "configmaps", SingularName: "configmap", ShortNames: []string{"cm"},
		Namespaced: true,
		New:        func() Object { return &ConfigMap{} }, NewList: func() ObjectList { return &ConfigMapList{} }})
	core(&Resource{Kind: "Secret", Name: "secrets", SingularName: "secret",
		Namespaced: true,
		New:        func() Object { return &Secret{} }, NewList: func() ObjectList { return &SecretList{} }})
	core(&Resource{Kind: "ServiceAccount", Name: "serviceaccounts", SingularName: "serviceaccount", ShortNames: []string{"sa"},
		Namespaced: true,
		New:        func() Object { return &ServiceAccount{} }, NewList: func() ObjectList { return &ServiceAccountList{} }})
	core(&Resource{Kind: "Service", Name: "services", SingularName: "service", ShortNames: []string{"svc"}, Categories: categoryAll,
		Namespaced: true, Subresources: []string{"status"},
		New: func() Object { return &Service{} }, NewList: func() ObjectList { return &ServiceList{} }})
	core(&Resource{Kind: "Endpoints", Name: "endpoints", SingularName: "endpoints", ShortNames: []string{"ep"},
		Namespaced: true,
		New:        func() Object { return &Endpoints{} }, NewList: func() ObjectList { return &EndpointsList{} }})
}
