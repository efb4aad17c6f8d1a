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
	_ Object     = (*Deployment)(nil)
	_ ObjectList = (*DeploymentList)(nil)
	_ Object     = (*ReplicaSet)(nil)
	_ ObjectList = (*ReplicaSetList)(nil)
	_ Object     = (*StatefulSet)(nil)
	_ ObjectList = (*StatefulSetList)(nil)
	_ Object     = (*DaemonSet)(nil)
	_ ObjectList = (*DaemonSetList)(nil)
	_ Object     = (*ControllerRevision)(nil)
	_ ObjectList = (*ControllerRevisionList)(nil)
	_ Object     = (*Job)(nil)
	_ ObjectList = (*JobList)(nil)
	_ Object     = (*CronJob)(nil)
	_ ObjectList = (*CronJobList)(nil)
	_ Object     = (*HorizontalPodAutoscaler)(nil)
	_ ObjectList = (*HorizontalPodAutoscalerList)(nil)
	_ Object     = (*Scale)(nil)
	_ Object     = (*Ingress)(nil)
	_ ObjectList = (*IngressList)(nil)
	_ Object     = (*RuntimeClass)(nil)
	_ ObjectList = (*RuntimeClassList)(nil)
	_ Object     = (*Lease)(nil)
	_ ObjectList = (*LeaseList)(nil)
)

// Well-known group names.
const (
	GroupCore         = ""
	GroupApps         = "apps"
	GroupBatch        = "batch"
	GroupAutoscaling  = "autoscaling"
	GroupNetworking   = "networking.k8s.io"
	GroupNode         = "node.k8s.io"
	GroupPolicy       = "policy"
	GroupCoordination = "coordination.k8s.io"
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

	reg := func(group, version string, r *Resource) {
		r.Group, r.Version = group, version
		Register(r)
	}
	statusScale := []string{"status", "scale"}
	status := []string{"status"}
	reg(GroupApps, "v1", &Resource{Kind: "Deployment", Name: "deployments", SingularName: "deployment", ShortNames: []string{"deploy"},
		Categories: categoryAll, Namespaced: true, Subresources: statusScale,
		New: func() Object { return &Deployment{} }, NewList: func() ObjectList { return &DeploymentList{} }})
	reg(GroupApps, "v1", &Resource{Kind: "ReplicaSet", Name: "replicasets", SingularName: "replicaset", ShortNames: []string{"rs"},
		Categories: categoryAll, Namespaced: true, Subresources: statusScale,
		New: func() Object { return &ReplicaSet{} }, NewList: func() ObjectList { return &ReplicaSetList{} }})
	reg(GroupApps, "v1", &Resource{Kind: "StatefulSet", Name: "statefulsets", SingularName: "statefulset", ShortNames: []string{"sts"},
		Categories: categoryAll, Namespaced: true, Subresources: statusScale,
		New: func() Object { return &StatefulSet{} }, NewList: func() ObjectList { return &StatefulSetList{} }})
	reg(GroupApps, "v1", &Resource{Kind: "DaemonSet", Name: "daemonsets", SingularName: "daemonset", ShortNames: []string{"ds"},
		Categories: categoryAll, Namespaced: true, Subresources: status,
		New: func() Object { return &DaemonSet{} }, NewList: func() ObjectList { return &DaemonSetList{} }})
	reg(GroupApps, "v1", &Resource{Kind: "ControllerRevision", Name: "controllerrevisions", SingularName: "controllerrevision",
		Namespaced: true,
		New:        func() Object { return &ControllerRevision{} }, NewList: func() ObjectList { return &ControllerRevisionList{} }})
	reg(GroupBatch, "v1", &Resource{Kind: "Job", Name: "jobs", SingularName: "job",
		Categories: categoryAll, Namespaced: true, Subresources: status,
		New: func() Object { return &Job{} }, NewList: func() ObjectList { return &JobList{} }})
	reg(GroupBatch, "v1", &Resource{Kind: "CronJob", Name: "cronjobs", SingularName: "cronjob", ShortNames: []string{"cj"},
		Categories: categoryAll, Namespaced: true, Subresources: status,
		New: func() Object { return &CronJob{} }, NewList: func() ObjectList { return &CronJobList{} }})
	reg(GroupAutoscaling, "v2", &Resource{Kind: "HorizontalPodAutoscaler", Name: "horizontalpodautoscalers", SingularName: "horizontalpodautoscaler",
		ShortNames: []string{"hpa"}, Categories: categoryAll, Namespaced: true, Subresources: status,
		New: func() Object { return &HorizontalPodAutoscaler{} }, NewList: func() ObjectList { return &HorizontalPodAutoscalerList{} }})
	reg(GroupNetworking, "v1", &Resource{Kind: "Ingress", Name: "ingresses", SingularName: "ingress", ShortNames: []string{"ing"},
		Namespaced: true, Subresources: status,
		New: func() Object { return &Ingress{} }, NewList: func() ObjectList { return &IngressList{} }})
	reg(GroupNode, "v1", &Resource{Kind: "RuntimeClass", Name: "runtimeclasses", SingularName: "runtimeclass",
		New: func() Object { return &RuntimeClass{} }, NewList: func() ObjectList { return &RuntimeClassList{} }})
	reg(GroupCoordination, "v1", &Resource{Kind: "Lease", Name: "leases", SingularName: "lease",
		Namespaced: true,
		New:        func() Object { return &Lease{} }, NewList: func() ObjectList { return &LeaseList{} }})
}
