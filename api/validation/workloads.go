package validation

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/api/validation/names"
)

// This file holds the dispatch for the apps, batch, autoscaling,
// networking and node kinds, and the apps/v1 kinds' rules (Kubernetes'
// pkg/apis/apps/v1/defaults.go and pkg/apis/apps/validation). The other
// kinds are in workloads_*.go.

// defaultWorkload fills the defaults of the apps, batch, autoscaling,
// networking and node kinds.
func defaultWorkload(obj types.Object) {
	switch o := obj.(type) {
	case *types.Deployment:
		defaultDeployment(o)
	case *types.ReplicaSet:
		defaultReplicaSet(o)
	case *types.StatefulSet:
		defaultStatefulSet(o)
	case *types.DaemonSet:
		defaultDaemonSet(o)
	case *types.Job:
		defaultJob(o)
	case *types.CronJob:
		defaultCronJob(o)
	case *types.HorizontalPodAutoscaler:
		defaultHPA(o)
	}
}

// validateWorkload checks the spec of the apps, batch, autoscaling,
// networking and node kinds (the metadata is checked by the caller).
func validateWorkload(obj types.Object) ErrorList {
	switch o := obj.(type) {
	case *types.Deployment:
		return validateDeploymentSpec(&o.Spec, specPath)
	case *types.ReplicaSet:
		return validateReplicaSetSpec(&o.Spec, specPath)
	case *types.StatefulSet:
		return append(validateStatefulSetName(o.Name), validateStatefulSetSpec(&o.Spec, specPath)...)
	case *types.DaemonSet:
		return validateDaemonSetSpec(&o.Spec, specPath)
	case *types.Job:
		return validateJob(o)
	case *types.CronJob:
		return validateCronJob(o)
	case *types.HorizontalPodAutoscaler:
		return validateHPASpec(&o.Spec, specPath)
	case *types.Ingress:
		return validateIngressSpec(&o.Spec, specPath)
	case *types.RuntimeClass:
		return validateRuntimeClass(o)
	case *types.Lease:
		return validateLease(o)
	}
	return nil
}

// validateWorkloadUpdate checks what may not change in an update of the
// apps, batch, autoscaling, networking and node kinds (obj has already
// been checked as for a create, and defaulted).
//
// The comparison is with old as defaulted now: a Wharf before these kinds
// had defaults stored them with fields unset that obj, defaulted, has set
// (a Job's completions and generated selector, a StatefulSet's
// podManagementPolicy, the template's Pod defaults), and Kubernetes, which
// defaults every object it reads from storage, never sees such a
// difference. Defaulting only fills unset fields, so this hides no change.
func validateWorkloadUpdate(obj, old types.Object) ErrorList {
	old = types.Clone(old)
	Default(old)
	switch o := obj.(type) {
	case *types.Deployment:
		return validateSelectorUnchanged(o.Spec.Selector, old.(*types.Deployment).Spec.Selector)
	case *types.ReplicaSet:
		return validateSelectorUnchanged(o.Spec.Selector, old.(*types.ReplicaSet).Spec.Selector)
	case *types.DaemonSet:
		return validateSelectorUnchanged(o.Spec.Selector, old.(*types.DaemonSet).Spec.Selector)
	case *types.StatefulSet:
		return validateStatefulSetUpdate(o, old.(*types.StatefulSet))
	case *types.Job:
		return validateJobUpdate(o, old.(*types.Job))
	case *types.RuntimeClass:
		if oc := old.(*types.RuntimeClass); o.Handler != oc.Handler {
			return ErrorList{immutable(NewPath("handler"), o.Handler)}
		}
	}
	return nil
}

// validateWorkloadStatus checks a status write of the apps and batch
// kinds and of HorizontalPodAutoscalers: counters are never negative and
// conditions are well formed. Kubernetes also checks relations between
// the counters (ready <= replicas, ...); those are left out so that a
// controller's status write in the middle of a change is never refused.
func validateWorkloadStatus(obj types.Object) ErrorList {
	var counters []counter
	var conds []condition
	switch o := obj.(type) {
	case *types.Deployment:
		s := &o.Status
		counters = []counter{{"observedGeneration", s.ObservedGeneration}, {"replicas", int64(s.Replicas)}, {"updatedReplicas", int64(s.UpdatedReplicas)},
			{"readyReplicas", int64(s.ReadyReplicas)}, {"availableReplicas", int64(s.AvailableReplicas)}, {"unavailableReplicas", int64(s.UnavailableReplicas)}}
		if s.CollisionCount != nil {
			counters = append(counters, counter{"collisionCount", int64(*s.CollisionCount)})
		}
		for _, c := range s.Conditions {
			conds = append(conds, condition{string(c.Type), c.Status})
		}
	case *types.ReplicaSet:
		s := &o.Status
		counters = []counter{{"observedGeneration", s.ObservedGeneration}, {"replicas", int64(s.Replicas)}, {"fullyLabeledReplicas", int64(s.FullyLabeledReplicas)},
			{"readyReplicas", int64(s.ReadyReplicas)}, {"availableReplicas", int64(s.AvailableReplicas)}}
		for _, c := range s.Conditions {
			conds = append(conds, condition{string(c.Type), c.Status})
		}
	case *types.StatefulSet:
		s := &o.Status
		counters = []counter{{"observedGeneration", s.ObservedGeneration}, {"replicas", int64(s.Replicas)}, {"readyReplicas", int64(s.ReadyReplicas)},
			{"currentReplicas", int64(s.CurrentReplicas)}, {"updatedReplicas", int64(s.UpdatedReplicas)}, {"availableReplicas", int64(s.AvailableReplicas)}}
		if s.CollisionCount != nil {
			counters = append(counters, counter{"collisionCount", int64(*s.CollisionCount)})
		}
		for _, c := range s.Conditions {
			conds = append(conds, condition{string(c.Type), c.Status})
		}
	case *types.DaemonSet:
		s := &o.Status
		counters = []counter{{"currentNumberScheduled", int64(s.CurrentNumberScheduled)}, {"numberMisscheduled", int64(s.NumberMisscheduled)},
			{"desiredNumberScheduled", int64(s.DesiredNumberScheduled)}, {"numberReady", int64(s.NumberReady)}, {"observedGeneration", s.ObservedGeneration},
			{"updatedNumberScheduled", int64(s.UpdatedNumberScheduled)}, {"numberAvailable", int64(s.NumberAvailable)}, {"numberUnavailable", int64(s.NumberUnavailable)}}
		if s.CollisionCount != nil {
			counters = append(counters, counter{"collisionCount", int64(*s.CollisionCount)})
		}
		for _, c := range s.Conditions {
			conds = append(conds, condition{string(c.Type), c.Status})
		}
	case *types.Job:
		s := &o.Status
		counters = []counter{{"active", int64(s.Active)}, {"succeeded", int64(s.Succeeded)}, {"failed", int64(s.Failed)}}
		if s.Ready != nil {
			counters = append(counters, counter{"ready", int64(*s.Ready)})
		}
		for _, c := range s.Conditions {
			conds = append(conds, condition{string(c.Type), c.Status})
		}
	case *types.HorizontalPodAutoscaler:
		s := &o.Status
		counters = []counter{{"currentReplicas", int64(s.CurrentReplicas)}, {"desiredReplicas", int64(s.DesiredReplicas)}}
		if s.ObservedGeneration != nil {
			counters = append(counters, counter{"observedGeneration", *s.ObservedGeneration})
		}
		for _, c := range s.Conditions {
			conds = append(conds, condition{string(c.Type), c.Status})
		}
	}
	var errs ErrorList
	for _, c := range counters {
		errs = append(errs, nonNegative(c.value, statusPath.Child(c.field))...)
	}
	for i, c := range conds {
		cp := conditionsPath.Index(i)
		if c.typ == "" {
			errs = append(errs, Required(cp.Child("type"), ""))
		}
		errs = append(errs, validateEnum(c.status, conditionStatus, cp.Child("status"))...)
	}
	return errs
}

type counter struct {
	field string
	value int64
}

type condition struct {
	typ    string
	status types.ConditionStatus
}

var (
	specPath     = NewPath("spec")
	templatePath = specPath.Child("template")
	// percent is what Kubernetes' IsValidPercent accepts.
	percent = regexp.MustCompile(`^[0-9]+%$`)
)

const percentMsg = "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"

// defaultDeployment fills what Kubernetes' apps/v1 defaulting does:
// replicas 1, strategy RollingUpdate with maxUnavailable and maxSurge 25%,
// revisionHistoryLimit 10, progressDeadlineSeconds 600, and the Pod
// template's defaults.
func defaultDeployment(d *types.Deployment) {
	s := &d.Spec
	if s.Replicas == nil {
		s.Replicas = ptr(int32(1))
	}
	if s.Strategy.Type == "" {
		s.Strategy.Type = types.RollingUpdateDeploymentStrategyType
	}
	if s.Strategy.Type == types.RollingUpdateDeploymentStrategyType {
		if s.Strategy.RollingUpdate == nil {
			s.Strategy.RollingUpdate = &types.RollingUpdateDeployment{}
		}
		if s.Strategy.RollingUpdate.MaxUnavailable == nil {
			s.Strategy.RollingUpdate.MaxUnavailable = ptr(types.FromString("25%"))
		}
		if s.Strategy.RollingUpdate.MaxSurge == nil {
			s.Strategy.RollingUpdate.MaxSurge = ptr(types.FromString("25%"))
		}
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = ptr(int32(10))
	}
	if s.ProgressDeadlineSeconds == nil {
		s.ProgressDeadlineSeconds = ptr(int32(600))
	}
	defaultPodSpec(&s.Template.Spec)
}

// defaultReplicaSet fills replicas 1 and the Pod template's defaults.
func defaultReplicaSet(r *types.ReplicaSet) {
	if r.Spec.Replicas == nil {
		r.Spec.Replicas = ptr(int32(1))
	}
	defaultPodSpec(&r.Spec.Template.Spec)
}

// defaultStatefulSet fills replicas 1, podManagementPolicy OrderedReady,
// updateStrategy RollingUpdate with partition 0, revisionHistoryLimit 10
// and the Pod template's defaults. maxUnavailable stays unset, as in
// Kubernetes without the alpha MaxUnavailableStatefulSet gate.
func defaultStatefulSet(ss *types.StatefulSet) {
	s := &ss.Spec
	if s.Replicas == nil {
		s.Replicas = ptr(int32(1))
	}
	if s.PodManagementPolicy == "" {
		s.PodManagementPolicy = types.OrderedReadyPodManagement
	}
	if s.UpdateStrategy.Type == "" {
		s.UpdateStrategy.Type = types.RollingUpdateStatefulSetStrategyType
		if s.UpdateStrategy.RollingUpdate == nil {
			s.UpdateStrategy.RollingUpdate = &types.RollingUpdateStatefulSetStrategy{}
		}
	}
	if s.UpdateStrategy.Type == types.RollingUpdateStatefulSetStrategyType && s.UpdateStrategy.RollingUpdate != nil &&
		s.UpdateStrategy.RollingUpdate.Partition == nil {
		s.UpdateStrategy.RollingUpdate.Partition = ptr(int32(0))
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = ptr(int32(10))
	}
	defaultPodSpec(&s.Template.Spec)
}

// defaultDaemonSet fills updateStrategy RollingUpdate with maxUnavailable
// 1 and maxSurge 0, revisionHistoryLimit 10 and the Pod template's
// defaults.
func defaultDaemonSet(ds *types.DaemonSet) {
	s := &ds.Spec
	if s.UpdateStrategy.Type == "" {
		s.UpdateStrategy.Type = types.RollingUpdateDaemonSetStrategyType
	}
	if s.UpdateStrategy.Type == types.RollingUpdateDaemonSetStrategyType {
		if s.UpdateStrategy.RollingUpdate == nil {
			s.UpdateStrategy.RollingUpdate = &types.RollingUpdateDaemonSet{}
		}
		if s.UpdateStrategy.RollingUpdate.MaxUnavailable == nil {
			s.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr(types.FromInt32(1))
		}
		if s.UpdateStrategy.RollingUpdate.MaxSurge == nil {
			s.UpdateStrategy.RollingUpdate.MaxSurge = ptr(types.FromInt32(0))
		}
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = ptr(int32(10))
	}
	defaultPodSpec(&s.Template.Spec)
}

// validateSelector checks a controller's selector: required, well formed,
// not empty (an empty selector would adopt every Pod of the namespace) and
// matching the template's labels (or the controller would create Pods it
// does not own, forever).
func validateSelector(sel *types.LabelSelector, tmpl *types.PodTemplateSpec, kind string, p Path) ErrorList {
	sp := p.Child("selector")
	if sel == nil {
		return ErrorList{Required(sp, "")}
	}
	errs := validateLabelSelector(sel, sp)
	if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
		return append(errs, Invalid(sp, sel, "empty selector is invalid for "+kind))
	}
	s, ok := selectorFor(sel)
	switch {
	case !ok:
		if len(errs) == 0 {
			errs = append(errs, Invalid(sp, sel, "invalid label selector"))
		}
	case !s.Matches(tmpl.Labels):
		errs = append(errs, Invalid(p.Child("template", "metadata", "labels"), tmpl.Labels, "`selector` does not match template `labels`"))
	}
	return errs
}

// validateAlwaysRestart checks the template of a controller whose Pods
// run forever: restartPolicy Always and no activeDeadlineSeconds.
// forbidDeadline chooses Kubernetes' error type (Forbidden for ReplicaSets
// and StatefulSets, Invalid for DaemonSets).
func validateAlwaysRestart(spec *types.PodSpec, kind string, forbidDeadline bool, p Path) ErrorList {
	var errs ErrorList
	// An empty restartPolicy was reported by validatePodSpec.
	if spec.RestartPolicy != "" && spec.RestartPolicy != types.RestartPolicyAlways {
		errs = append(errs, NotSupported(p.Child("spec", "restartPolicy"), spec.RestartPolicy, []types.RestartPolicy{types.RestartPolicyAlways}))
	}
	if spec.ActiveDeadlineSeconds != nil {
		dp := p.Child("spec", "activeDeadlineSeconds")
		msg := "activeDeadlineSeconds in " + kind + " is not Supported"
		if forbidDeadline {
			errs = append(errs, Forbidden(dp, msg))
		} else {
			errs = append(errs, Invalid(dp, *spec.ActiveDeadlineSeconds, msg))
		}
	}
	return errs
}

func validateDeploymentSpec(s *types.DeploymentSpec, p Path) ErrorList {
	var errs ErrorList
	if s.Replicas != nil {
		errs = append(errs, nonNegative(int64(*s.Replicas), p.Child("replicas"))...)
	}
	errs = append(errs, validateSelector(s.Selector, &s.Template, "deployment", p)...)
	errs = append(errs, validatePodTemplate(&s.Template, p.Child("template"))...)
	errs = append(errs, validateAlwaysRestart(&s.Template.Spec, "ReplicaSet", true, p.Child("template"))...)
	errs = append(errs, validateDeploymentStrategy(&s.Strategy, p.Child("strategy"))...)
	errs = append(errs, nonNegative(int64(s.MinReadySeconds), p.Child("minReadySeconds"))...)
	if s.RevisionHistoryLimit != nil {
		errs = append(errs, nonNegative(int64(*s.RevisionHistoryLimit), p.Child("revisionHistoryLimit"))...)
	}
	if d := s.ProgressDeadlineSeconds; d != nil {
		errs = append(errs, nonNegative(int64(*d), p.Child("progressDeadlineSeconds"))...)
		if *d <= s.MinReadySeconds {
			errs = append(errs, Invalid(p.Child("progressDeadlineSeconds"), *d, "must be greater than minReadySeconds"))
		}
	}
	return errs
}

func validateDeploymentStrategy(s *types.DeploymentStrategy, p Path) ErrorList {
	switch s.Type {
	case types.RecreateDeploymentStrategyType:
		if s.RollingUpdate != nil {
			return ErrorList{Forbidden(p.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")}
		}
	case types.RollingUpdateDeploymentStrategyType:
		ru := s.RollingUpdate
		if ru == nil {
			return ErrorList{Required(p.Child("rollingUpdate"), "this should be defaulted and never be nil")}
		}
		rp := p.Child("rollingUpdate")
		errs := validateIntOrPercent(ru.MaxUnavailable, rp.Child("maxUnavailable"))
		errs = append(errs, validateIntOrPercent(ru.MaxSurge, rp.Child("maxSurge"))...)
		if intOrPercentValue(ru.MaxUnavailable) == 0 && intOrPercentValue(ru.MaxSurge) == 0 {
			errs = append(errs, Invalid(rp.Child("maxUnavailable"), ru.MaxUnavailable, "may not be 0 when `maxSurge` is 0"))
		}
		return append(errs, notMoreThan100Percent(ru.MaxUnavailable, rp.Child("maxUnavailable"))...)
	case "":
		return ErrorList{Required(p.Child("type"), "")}
	default:
		return ErrorList{NotSupported(p.Child("type"), s.Type, []types.DeploymentStrategyType{types.RecreateDeploymentStrategyType, types.RollingUpdateDeploymentStrategyType})}
	}
	return nil
}

func validateReplicaSetSpec(s *types.ReplicaSetSpec, p Path) ErrorList {
	var errs ErrorList
	if s.Replicas != nil {
		errs = append(errs, nonNegative(int64(*s.Replicas), p.Child("replicas"))...)
	}
	errs = append(errs, nonNegative(int64(s.MinReadySeconds), p.Child("minReadySeconds"))...)
	errs = append(errs, validateSelector(s.Selector, &s.Template, "replicaset", p)...)
	errs = append(errs, validatePodTemplate(&s.Template, p.Child("template"))...)
	return append(errs, validateAlwaysRestart(&s.Template.Spec, "ReplicaSet", true, p.Child("template"))...)
}

// validateStatefulSetName checks that a StatefulSet's name is a DNS-1123
// label, as Kubernetes does: each Pod is named <name>-<ordinal> and gets
// that name as its hostname. A name that is not even a DNS-1123 subdomain
// was reported by validateObjectMeta already.
func validateStatefulSetName(name string) ErrorList {
	if name == "" || len(names.IsDNS1123Subdomain(name)) > 0 {
		return nil
	}
	return optionalName(name, names.IsDNS1123Label, metadataPath.Child("name"))
}

var podManagementPolicies = []types.PodManagementPolicyType{types.OrderedReadyPodManagement, types.ParallelPodManagement}

func validateStatefulSetSpec(s *types.StatefulSetSpec, p Path) ErrorList {
	errs := validateEnum(s.PodManagementPolicy, podManagementPolicies, p.Child("podManagementPolicy"))
	up := p.Child("updateStrategy")
	switch s.UpdateStrategy.Type {
	case "":
		errs = append(errs, Required(up.Child("type"), ""))
	case types.OnDeleteStatefulSetStrategyType:
		if s.UpdateStrategy.RollingUpdate != nil {
			errs = append(errs, Invalid(up.Child("rollingUpdate"), s.UpdateStrategy.RollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"))
		}
	case types.RollingUpdateStatefulSetStrategyType:
		if ru := s.UpdateStrategy.RollingUpdate; ru != nil {
			rp := up.Child("rollingUpdate")
			if ru.Partition != nil {
				errs = append(errs, nonNegative(int64(*ru.Partition), rp.Child("partition"))...)
			}
			if mu := ru.MaxUnavailable; mu != nil {
				errs = append(errs, validateIntOrPercent(mu, rp.Child("maxUnavailable"))...)
				if intOrPercentValue(mu) == 0 {
					errs = append(errs, Invalid(rp.Child("maxUnavailable"), mu, "cannot be 0"))
				}
				errs = append(errs, notMoreThan100Percent(mu, rp.Child("maxUnavailable"))...)
			}
		}
	default:
		errs = append(errs, NotSupported(up.Child("type"), s.UpdateStrategy.Type, []types.StatefulSetUpdateStrategyType{types.RollingUpdateStatefulSetStrategyType, types.OnDeleteStatefulSetStrategyType}))
	}
	if s.RevisionHistoryLimit != nil {
		errs = append(errs, nonNegative(int64(*s.RevisionHistoryLimit), p.Child("revisionHistoryLimit"))...)
	}
	if s.Replicas != nil {
		errs = append(errs, nonNegative(int64(*s.Replicas), p.Child("replicas"))...)
	}
	errs = append(errs, nonNegative(int64(s.MinReadySeconds), p.Child("minReadySeconds"))...)
	if s.Ordinals != nil {
		errs = append(errs, nonNegative(int64(s.Ordinals.Start), p.Child("ordinals", "start"))...)
	}
	// The service name becomes the Pods' DNS subdomain.
	errs = append(errs, optionalName(s.ServiceName, names.IsDNS1123Label, p.Child("serviceName"))...)
	errs = append(errs, validateSelector(s.Selector, &s.Template, "statefulset", p)...)
	errs = append(errs, validatePodTemplate(&s.Template, p.Child("template"))...)
	return append(errs, validateAlwaysRestart(&s.Template.Spec, "StatefulSet", true, p.Child("template"))...)
}

var daemonSetStrategies = []types.DaemonSetUpdateStrategyType{types.RollingUpdateDaemonSetStrategyType, types.OnDeleteDaemonSetStrategyType}

func validateDaemonSetSpec(s *types.DaemonSetSpec, p Path) ErrorList {
	errs := validateSelector(s.Selector, &s.Template, "daemonset", p)
	errs = append(errs, validatePodTemplate(&s.Template, p.Child("template"))...)
	errs = append(errs, validateAlwaysRestart(&s.Template.Spec, "DaemonSet", false, p.Child("template"))...)
	errs = append(errs, nonNegative(int64(s.MinReadySeconds), p.Child("minReadySeconds"))...)
	up := p.Child("updateStrategy")
	switch s.UpdateStrategy.Type {
	case types.OnDeleteDaemonSetStrategyType:
	case types.RollingUpdateDaemonSetStrategyType:
		ru := s.UpdateStrategy.RollingUpdate
		if ru == nil {
			errs = append(errs, Required(up.Child("rollingUpdate"), ""))
			break
		}
		rp := up.Child("rollingUpdate")
		errs = append(errs, validateIntOrPercent(ru.MaxUnavailable, rp.Child("maxUnavailable"))...)
		errs = append(errs, validateIntOrPercent(ru.MaxSurge, rp.Child("maxSurge"))...)
		errs = append(errs, notMoreThan100Percent(ru.MaxUnavailable, rp.Child("maxUnavailable"))...)
		errs = append(errs, notMoreThan100Percent(ru.MaxSurge, rp.Child("maxSurge"))...)
		hasUnavailable, hasSurge := intOrPercentValue(ru.MaxUnavailable) != 0, intOrPercentValue(ru.MaxSurge) != 0
		switch {
		case hasUnavailable && hasSurge:
			errs = append(errs, Invalid(rp.Child("maxSurge"), ru.MaxSurge, "may not be set when maxUnavailable is non-zero"))
		case !hasUnavailable && !hasSurge:
			errs = append(errs, Required(rp.Child("maxUnavailable"), "cannot be 0 when maxSurge is 0"))
		}
	case "":
		errs = append(errs, Required(up.Child("type"), ""))
	default:
		errs = append(errs, NotSupported(up.Child("type"), s.UpdateStrategy.Type, daemonSetStrategies))
	}
	if s.RevisionHistoryLimit != nil {
		errs = append(errs, nonNegative(int64(*s.RevisionHistoryLimit), p.Child("revisionHistoryLimit"))...)
	}
	return errs
}

// validateSelectorUnchanged reports a change to an apps/v1 selector, which
// is immutable: a controller with a new selector would orphan its Pods.
func validateSelectorUnchanged(sel, old *types.LabelSelector) ErrorList {
	if jsonEqual(sel, old) {
		return nil
	}
	return ErrorList{immutable(specPath.Child("selector"), sel)}
}

// validateStatefulSetUpdate allows changes to replicas, ordinals,
// template, updateStrategy, revisionHistoryLimit and minReadySeconds only.
func validateStatefulSetUpdate(ss, old *types.StatefulSet) ErrorList {
	munged := types.Clone(ss.Spec)
	munged.Replicas = old.Spec.Replicas
	munged.Template = old.Spec.Template
	munged.UpdateStrategy = old.Spec.UpdateStrategy
	munged.MinReadySeconds = old.Spec.MinReadySeconds
	munged.Ordinals = old.Spec.Ordinals
	munged.RevisionHistoryLimit = old.Spec.RevisionHistoryLimit
	if changed := changedPaths(munged, old.Spec, "spec", 5); len(changed) > 0 {
		return ErrorList{Forbidden(specPath, "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden; changed: "+strings.Join(changed, ", "))}
	}
	return nil
}

// validateIntOrPercent checks a non-negative integer or a "N%" string.
func validateIntOrPercent(v *types.IntOrString, p Path) ErrorList {
	if v == nil {
		return nil
	}
	if v.Type == types.String {
		if !percent.MatchString(v.StrVal) {
			return ErrorList{Invalid(p, v, percentMsg)}
		}
		return nil
	}
	return nonNegative(int64(v.IntVal), p)
}

// intOrPercentValue is the number in v (a percentage's number), 0 when v
// is unset or malformed, as Kubernetes' getIntOrPercentValue.
func intOrPercentValue(v *types.IntOrString) int {
	if v == nil {
		return 0
	}
	if v.Type == types.Int {
		return int(v.IntVal)
	}
	n, err := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%"))
	if err != nil {
		return 0
	}
	return n
}

func notMoreThan100Percent(v *types.IntOrString, p Path) ErrorList {
	if v == nil || v.Type != types.String || !percent.MatchString(v.StrVal) || intOrPercentValue(v) <= 100 {
		return nil
	}
	return ErrorList{Invalid(p, v, "must not be greater than 100%")}
}
