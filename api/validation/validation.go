// Package validation fills Kubernetes' defaults into Wharf objects and
// checks them before they are stored, with Kubernetes' rules and messages,
// so that the API server can answer a bad object with a 422 Status naming
// every field at fault.
//
// The API server calls, for a create: (set uid and creationTimestamp),
// Default, Validate; for an update: PrepareForUpdate, Default,
// ValidateUpdate; for a write to the status subresource:
// ValidateStatusUpdate. Validate expects a defaulted object: a field that
// Default fills (restartPolicy, imagePullPolicy, a port's protocol, ...) is
// reported as required when it is empty.
//
// Every function takes the object by pointer (as types.Object) and
// dispatches on its Go type; kinds without rules of their own get the
// metadata checks only.
package validation

import (
	"fmt"

	"github.com/wharfhq/wharf/api/types"
)

// Default fills, in place, the defaults Kubernetes' API server would: see
// the defaults of each kind in this package (Pod: restartPolicy Always,
// dnsPolicy ClusterFirst, terminationGracePeriodSeconds 30, imagePullPolicy
// by tag, probe timings, ...). It never overrides a value that is set.
func Default(obj types.Object) {
	switch o := obj.(type) {
	case *types.Pod:
		defaultPod(o)
	case *types.Service:
		defaultService(o)
	case *types.Secret:
		defaultSecret(o)
	case *types.Namespace:
		defaultNamespace(o)
	default:
		defaultWorkload(obj)
	}
}

// Validate checks a whole object (metadata and spec) as for a create.
func Validate(obj types.Object) ErrorList {
	errs := validateObjectMeta(obj)
	switch o := obj.(type) {
	case *types.Pod:
		errs = append(errs, validatePod(o)...)
	case *types.Service:
		errs = append(errs, validateService(o)...)
	case *types.ConfigMap:
		errs = append(errs, validateConfigMap(o)...)
	case *types.Secret:
		errs = append(errs, validateSecret(o)...)
	case *types.Namespace:
		errs = append(errs, validateNamespace(o)...)
	case *types.Node:
		errs = append(errs, validateNode(o)...)
	case *types.Event:
		errs = append(errs, validateEvent(o)...)
	case *types.Endpoints:
		errs = append(errs, validateEndpoints(o)...)
	case *types.ServiceAccount:
		errs = append(errs, validateServiceAccount(o)...)
	default:
		errs = append(errs, validateWorkload(obj)...)
	}
	return errs
}

// ValidateUpdate checks obj as Validate does, and that the update from old
// changes nothing immutable: metadata.name, namespace, uid and
// creationTimestamp for every kind, and per kind: a Pod's spec except
// container images, activeDeadlineSeconds (set or lowered) and added
// tolerations; the selector of Deployments, ReplicaSets, DaemonSets and
// StatefulSets; a Job's selector, completions and (unless suspended)
// template; the data of an immutable ConfigMap or Secret, and a Secret's
// type; a Service's clusterIP once set; a StatefulSet's spec except
// replicas, template, updateStrategy, minReadySeconds, ordinals and
// persistentVolumeClaimRetentionPolicy.
func ValidateUpdate(obj, old types.Object) ErrorList {
	if errs := sameType(obj, old); errs != nil {
		return errs
	}
	errs := Validate(obj)
	errs = append(errs, validateObjectMetaUpdate(obj.GetObjectMeta(), old.GetObjectMeta())...)
	switch o := obj.(type) {
	case *types.Pod:
		errs = append(errs, validatePodUpdate(o, old.(*types.Pod))...)
	case *types.Service:
		errs = append(errs, validateServiceUpdate(o, old.(*types.Service))...)
	case *types.ConfigMap:
		oc := old.(*types.ConfigMap)
		errs = append(errs, validateImmutableData(o.Immutable, oc.Immutable, jsonEqual(o.Data, oc.Data) && jsonEqual(o.BinaryData, oc.BinaryData))...)
	case *types.Secret:
		os := old.(*types.Secret)
		errs = append(errs, validateImmutableData(o.Immutable, os.Immutable, jsonEqual(o.Data, os.Data) && len(o.StringData) == 0)...)
		if o.Type != os.Type {
			errs = append(errs, immutable(NewPath("type"), o.Type))
		}
	default:
		errs = append(errs, validateWorkloadUpdate(obj, old)...)
	}
	return errs
}

// ValidateStatusUpdate checks a write to the status subresource: the
// metadata must be unchanged (only resourceVersion may differ) and the new
// status well formed. The spec is not checked: the server keeps the stored
// spec on a status write.
func ValidateStatusUpdate(obj, old types.Object) ErrorList {
	if errs := sameType(obj, old); errs != nil {
		return errs
	}
	errs := validateMetadataUnchanged(obj.GetObjectMeta(), old.GetObjectMeta())
	switch o := obj.(type) {
	case *types.Pod:
		errs = append(errs, validatePodStatus(o)...)
	case *types.Node:
		errs = append(errs, validateNodeStatus(&o.Status)...)
	case *types.Namespace:
		if o.Status.Phase != "" {
			errs = append(errs, validateEnum(o.Status.Phase, []types.NamespacePhase{types.NamespaceActive, types.NamespaceTerminating}, NewPath("status", "phase"))...)
		}
	default:
		errs = append(errs, validateWorkloadStatus(obj)...)
	}
	return errs
}

func sameType(obj, old types.Object) ErrorList {
	if fmt.Sprintf("%T", obj) != fmt.Sprintf("%T", old) {
		return ErrorList{Invalid(NewPath("kind"), obj.GetTypeMeta().Kind, fmt.Sprintf("an object of type %T cannot replace one of type %T", obj, old))}
	}
	return nil
}
