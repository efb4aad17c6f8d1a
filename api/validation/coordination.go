package validation

import "github.com/wharfhq/wharf/api/types"

// validateLease checks a coordination.k8s.io/v1 Lease's spec as
// Kubernetes' pkg/apis/coordination/validation does: a positive duration,
// no negative transition count, a known strategy, and a preferred holder
// only with a strategy.
func validateLease(l *types.Lease) ErrorList {
	var errs ErrorList
	s := &l.Spec
	if d := s.LeaseDurationSeconds; d != nil && *d <= 0 {
		errs = append(errs, Invalid(specPath.Child("leaseDurationSeconds"), *d, "must be greater than 0"))
	}
	if n := s.LeaseTransitions; n != nil && *n < 0 {
		errs = append(errs, Invalid(specPath.Child("leaseTransitions"), *n, "must be greater than or equal to 0"))
	}
	if st := s.Strategy; st != nil && *st != types.LeaseStrategyOldestEmulationVersion {
		errs = append(errs, NotSupported(specPath.Child("strategy"), *st, []types.CoordinatedLeaseStrategy{types.LeaseStrategyOldestEmulationVersion}))
	}
	if p := s.PreferredHolder; p != nil && *p != "" && (s.Strategy == nil || *s.Strategy == "") {
		errs = append(errs, Forbidden(specPath.Child("preferredHolder"), "may only be specified if `strategy` is defined"))
	}
	return errs
}
