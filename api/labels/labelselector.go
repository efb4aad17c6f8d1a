package labels

import (
	"fmt"
	"slices"

	"github.com/wharfhq/wharf/api/types"
)

// FromLabelSelector converts the structured selector of a workload spec
// (matchLabels and matchExpressions, all of which must hold) to a Selector.
// As in Kubernetes, a nil selector matches nothing and an empty one
// (neither matchLabels nor matchExpressions) matches everything. Errors
// wrap ErrInvalidSelector and name the entry at fault.
func FromLabelSelector(ls *types.LabelSelector) (Selector, error) {
	if ls == nil {
		return Nothing(), nil
	}
	reqs := make([]Requirement, 0, len(ls.MatchLabels)+len(ls.MatchExpressions))
	keys := make([]string, 0, len(ls.MatchLabels))
	for k := range ls.MatchLabels {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the first bad key is reported deterministically
	for _, k := range keys {
		r, err := checkedRequirement(k, Equals, []string{ls.MatchLabels[k]})
		if err != nil {
			return Selector{}, fmt.Errorf("%w: matchLabels: %w", ErrInvalidSelector, err)
		}
		reqs = append(reqs, r)
	}
	for i, e := range ls.MatchExpressions {
		var op Operator
		switch e.Operator {
		case types.LabelSelectorOpIn:
			op = In
		case types.LabelSelectorOpNotIn:
			op = NotIn
		case types.LabelSelectorOpExists:
			op = Exists
		case types.LabelSelectorOpDoesNotExist:
			op = DoesNotExist
		default:
			return Selector{}, fmt.Errorf("%w: matchExpressions[%d]: %q is not a valid label selector operator (use In, NotIn, Exists or DoesNotExist)", ErrInvalidSelector, i, e.Operator)
		}
		r, err := checkedRequirement(e.Key, op, e.Values)
		if err != nil {
			return Selector{}, fmt.Errorf("%w: matchExpressions[%d]: %w", ErrInvalidSelector, i, err)
		}
		reqs = append(reqs, r)
	}
	return NewSelector(reqs...), nil
}
