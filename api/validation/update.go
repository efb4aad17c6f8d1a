package validation

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/api/validation/names"
)

// jsonEqual compares two values as their JSON forms, so nil and empty
// collections, or 1000m and 1 CPU, compare as the API shows them.
func jsonEqual(a, b any) bool {
	return len(changedPaths(a, b, "", 1)) == 0
}

// changedPaths lists up to limit JSON paths (under prefix) where a and b
// differ, to tell the user what an update tried to change.
func changedPaths(a, b any, prefix string, limit int) []string {
	ga, gb := generic(a), generic(b)
	var out []string
	diffGeneric(ga, gb, prefix, &out, limit)
	return out
}

func generic(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		// Every Wharf type marshals; fall back to the value itself so
		// reflect.DeepEqual still compares something meaningful.
		return v
	}
	var g any
	if err := json.Unmarshal(b, &g); err != nil {
		return v
	}
	return g
}

func diffGeneric(a, b any, p string, out *[]string, limit int) {
	if len(*out) >= limit {
		return
	}
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			break
		}
		keys := make([]string, 0, len(av)+len(bv))
		for k := range av {
			keys = append(keys, k)
		}
		for k := range bv {
			if _, dup := av[k]; !dup {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			diffGeneric(av[k], bv[k], NewPath(p).Child(k).String(), out, limit)
		}
		return
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			break
		}
		for i := range av {
			diffGeneric(av[i], bv[i], Path(p).Index(i).String(), out, limit)
		}
		return
	}
	if !reflect.DeepEqual(a, b) {
		*out = append(*out, p)
	}
}

const podUpdateForbidden = "pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds` or `spec.tolerations` (only additions to existing tolerations)"

func validatePodUpdate(pod, old *types.Pod) ErrorList {
	var errs ErrorList
	sp := NewPath("spec")
	if old.Spec.ActiveDeadlineSeconds != nil {
		switch n := pod.Spec.ActiveDeadlineSeconds; {
		case n == nil:
			errs = append(errs, Invalid(sp.Child("activeDeadlineSeconds"), nil, "must not update from a positive integer to nil value"))
		case *n > *old.Spec.ActiveDeadlineSeconds:
			errs = append(errs, Invalid(sp.Child("activeDeadlineSeconds"), *n, "must be less than or equal to previous value"))
		}
	}
	for _, t := range old.Spec.Tolerations {
		if !slices.ContainsFunc(pod.Spec.Tolerations, func(n types.Toleration) bool { return jsonEqual(n, t) }) {
			errs = append(errs, Forbidden(sp.Child("tolerations"), "existing toleration can not be modified or removed; only additions are allowed"))
			break
		}
	}
	// Compare the specs with the fields that may change taken from old.
	munged := types.Clone(pod.Spec)
	munged.ActiveDeadlineSeconds = old.Spec.ActiveDeadlineSeconds
	munged.Tolerations = old.Spec.Tolerations
	if len(munged.Containers) == len(old.Spec.Containers) {
		for i := range munged.Containers {
			munged.Containers[i].Image = old.Spec.Containers[i].Image
		}
	}
	if len(munged.InitContainers) == len(old.Spec.InitContainers) {
		for i := range munged.InitContainers {
			munged.InitContainers[i].Image = old.Spec.InitContainers[i].Image
		}
	}
	if changed := changedPaths(munged, old.Spec, "spec", 5); len(changed) > 0 {
		errs = append(errs, Forbidden(sp, podUpdateForbidden+"; changed: "+strings.Join(changed, ", ")))
	}
	return errs
}

var (
	podPhases        = []types.PodPhase{types.PodPending, types.PodRunning, types.PodSucceeded, types.PodFailed, types.PodUnknown}
	conditionStatus  = []types.ConditionStatus{types.ConditionTrue, types.ConditionFalse, types.ConditionUnknown}
	podQOSClasses    = []types.PodQOSClass{types.PodQOSGuaranteed, types.PodQOSBurstable, types.PodQOSBestEffort}
	statusPath       = NewPath("status")
	conditionsPath   = statusPath.Child("conditions")
	containerSPath   = statusPath.Child("containerStatuses")
	initContainerSPs = statusPath.Child("initContainerStatuses")
)

func validatePodStatus(pod *types.Pod) ErrorList {
	s := &pod.Status
	var errs ErrorList
	if s.Phase != "" {
		errs = append(errs, validateEnum(s.Phase, podPhases, statusPath.Child("phase"))...)
	}
	if s.QOSClass != "" {
		errs = append(errs, validateEnum(s.QOSClass, podQOSClasses, statusPath.Child("qosClass"))...)
	}
	errs = append(errs, optionalName(s.PodIP, names.IsValidIP, statusPath.Child("podIP"))...)
	errs = append(errs, optionalName(s.HostIP, names.IsValidIP, statusPath.Child("hostIP"))...)
	for i, ip := range s.PodIPs {
		errs = append(errs, optionalName(ip.IP, names.IsValidIP, statusPath.Child("podIPs").Index(i).Child("ip"))...)
	}
	if len(s.PodIPs) > 0 && s.PodIP != "" && s.PodIPs[0].IP != s.PodIP {
		errs = append(errs, Invalid(statusPath.Child("podIPs").Index(0).Child("ip"), s.PodIPs[0].IP, "must match `podIP`"))
	}
	for i, ip := range s.HostIPs {
		errs = append(errs, optionalName(ip.IP, names.IsValidIP, statusPath.Child("hostIPs").Index(i).Child("ip"))...)
	}
	for i, c := range s.Conditions {
		cp := conditionsPath.Index(i)
		if c.Type == "" {
			errs = append(errs, Required(cp.Child("type"), ""))
		}
		errs = append(errs, validateEnum(c.Status, conditionStatus, cp.Child("status"))...)
	}
	errs = append(errs, validateContainerStatuses(s.ContainerStatuses, pod.Spec.Containers, containerSPath)...)
	errs = append(errs, validateContainerStatuses(s.InitContainerStatuses, pod.Spec.InitContainers, initContainerSPs)...)
	return errs
}

func validateContainerStatuses(statuses []types.ContainerStatus, containers []types.Container, p Path) ErrorList {
	var errs ErrorList
	seen := map[string]bool{}
	for i, cs := range statuses {
		cp := p.Index(i)
		if !slices.ContainsFunc(containers, func(c types.Container) bool { return c.Name == cs.Name }) {
			errs = append(errs, NotFound(cp.Child("name"), cs.Name))
		}
		if seen[cs.Name] {
			errs = append(errs, Duplicate(cp.Child("name"), cs.Name))
		}
		seen[cs.Name] = true
		errs = append(errs, nonNegative(int64(cs.RestartCount), cp.Child("restartCount"))...)
		states := 0
		for _, set := range []bool{cs.State.Waiting != nil, cs.State.Running != nil, cs.State.Terminated != nil} {
			if set {
				states++
			}
		}
		if states > 1 {
			errs = append(errs, Invalid(cp.Child("state"), "", fmt.Sprintf("may hold only one of waiting, running and terminated, found %d", states)))
		}
	}
	return errs
}

// PrepareForUpdate carries over from old what a client may leave out of
// an update without meaning to change it, as Kubernetes' API server does
// before validating: metadata.uid, creationTimestamp, deletionTimestamp,
// deletionGracePeriodSeconds and generation (the server owns it), and a
// Service's allocated clusterIP(s) and nodePorts. Call it before Default so
// that defaults computed from the uid (a Job's selector) come out the same.
func PrepareForUpdate(obj, old types.Object) {
	m, om := obj.GetObjectMeta(), old.GetObjectMeta()
	if m.UID == "" {
		m.UID = om.UID
	}
	if m.CreationTimestamp.IsZero() {
		m.CreationTimestamp = om.CreationTimestamp
	}
	if m.DeletionTimestamp == nil && om.DeletionTimestamp != nil {
		t := *om.DeletionTimestamp
		m.DeletionTimestamp = &t
	}
	if m.DeletionGracePeriodSeconds == nil && om.DeletionGracePeriodSeconds != nil {
		m.DeletionGracePeriodSeconds = ptr(*om.DeletionGracePeriodSeconds)
	}
	m.Generation = om.Generation
	s, ok := obj.(*types.Service)
	os, okOld := old.(*types.Service)
	if !ok || !okOld || s.Spec.Type == types.ServiceTypeExternalName || os.Spec.Type == types.ServiceTypeExternalName {
		return
	}
	if s.Spec.ClusterIP == "" && len(s.Spec.ClusterIPs) == 0 {
		s.Spec.ClusterIP = os.Spec.ClusterIP
		s.Spec.ClusterIPs = slices.Clone(os.Spec.ClusterIPs)
	}
	if s.Spec.Type == types.ServiceTypeNodePort || s.Spec.Type == types.ServiceTypeLoadBalancer {
		for i := range s.Spec.Ports {
			port := &s.Spec.Ports[i]
			if port.NodePort != 0 {
				continue
			}
			for _, op := range os.Spec.Ports {
				if op.Port == port.Port && (op.Protocol == port.Protocol || port.Protocol == "") {
					port.NodePort = op.NodePort
				}
			}
		}
	}
}
