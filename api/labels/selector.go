// Package labels implements Kubernetes label selectors: the string form
// used in `?labelSelector=` and `kubectl -l` (equality- and set-based), the
// structured form in workload specs (types.LabelSelector), and matching
// against an object's labels.
//
// A Selector is an immutable value: the zero Selector (and Everything())
// matches every set of labels, Nothing() matches none.
package labels

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/wharfhq/wharf/api/validation/names"
)

// ErrInvalidSelector is wrapped by every error from Parse, NewRequirement
// and FromLabelSelector, so the API server can answer 400 Bad Request.
var ErrInvalidSelector = errors.New("invalid label selector")

// Operator is a requirement's relation between a key and its values.
type Operator string

// Operators. Equals, DoubleEquals and NotEquals take one value; In and
// NotIn one or more; Exists and DoesNotExist none; GreaterThan and LessThan
// one integer (they appear in node affinity, not in workload selectors).
const (
	Equals       Operator = "="
	DoubleEquals Operator = "=="
	NotEquals    Operator = "!="
	In           Operator = "in"
	NotIn        Operator = "notin"
	Exists       Operator = "exists"
	DoesNotExist Operator = "!"
	GreaterThan  Operator = "gt"
	LessThan     Operator = "lt"
)

// Requirement is one condition on one label key. Build it with
// NewRequirement; the zero Requirement is not valid.
type Requirement struct {
	key      string
	operator Operator
	// values is sorted and free of duplicates.
	values []string
}

// NewRequirement checks key (a qualified name), the number of values the
// operator takes, and each value (a label value, or an integer for
// GreaterThan/LessThan), and returns the requirement.
func NewRequirement(key string, op Operator, values []string) (Requirement, error) {
	r, err := checkedRequirement(key, op, values)
	if err != nil {
		return Requirement{}, fmt.Errorf("%w: %w", ErrInvalidSelector, err)
	}
	return r, nil
}

// checkedRequirement is NewRequirement with errors that do not yet wrap
// ErrInvalidSelector (callers add it with their own context).
func checkedRequirement(key string, op Operator, values []string) (Requirement, error) {
	if msgs := names.IsQualifiedName(key); len(msgs) != 0 {
		return Requirement{}, fmt.Errorf("key %q: %s", key, strings.Join(msgs, "; "))
	}
	switch op {
	case In, NotIn:
		if len(values) == 0 {
			return Requirement{}, fmt.Errorf("key %q: operator %q needs at least one value", key, op)
		}
	case Equals, DoubleEquals, NotEquals:
		if len(values) != 1 {
			return Requirement{}, fmt.Errorf("key %q: operator %q needs exactly one value", key, op)
		}
	case Exists, DoesNotExist:
		if len(values) != 0 {
			return Requirement{}, fmt.Errorf("key %q: operator %q takes no values", key, op)
		}
	case GreaterThan, LessThan:
		if len(values) != 1 {
			return Requirement{}, fmt.Errorf("key %q: operator %q needs exactly one value", key, op)
		}
		if _, err := strconv.ParseInt(values[0], 10, 64); err != nil {
			return Requirement{}, fmt.Errorf("key %q: operator %q needs an integer value, got %q", key, op, values[0])
		}
	default:
		return Requirement{}, fmt.Errorf("key %q: unsupported operator %q (supported: =, ==, !=, in, notin, exists, !, gt, lt)", key, op)
	}
	if op != GreaterThan && op != LessThan {
		for _, v := range values {
			if msgs := names.IsValidLabelValue(v); len(msgs) != 0 {
				return Requirement{}, fmt.Errorf("key %q: value %q: %s", key, v, strings.Join(msgs, "; "))
			}
		}
	}
	return newRequirement(key, op, values), nil
}

// newRequirement builds a requirement without checks.
func newRequirement(key string, op Operator, values []string) Requirement {
	vs := slices.Clone(values)
	slices.Sort(vs)
	return Requirement{key: key, operator: op, values: slices.Compact(vs)}
}

// Key is the label key the requirement is about.
func (r Requirement) Key() string { return r.key }

// Operator is the requirement's operator.
func (r Requirement) Operator() Operator { return r.operator }

// Values returns a sorted copy of the requirement's values.
func (r Requirement) Values() []string { return slices.Clone(r.values) }

// Matches reports whether labels satisfy the requirement. As in
// Kubernetes, NotIn and NotEquals hold for labels that lack the key.
func (r Requirement) Matches(labels map[string]string) bool {
	v, has := labels[r.key]
	switch r.operator {
	case Equals, DoubleEquals, In:
		return has && r.hasValue(v)
	case NotEquals, NotIn:
		return !has || !r.hasValue(v)
	case Exists:
		return has
	case DoesNotExist:
		return !has
	case GreaterThan, LessThan:
		if !has || len(r.values) != 1 {
			return false
		}
		lv, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return false
		}
		rv, err := strconv.ParseInt(r.values[0], 10, 64)
		if err != nil {
			return false
		}
		if r.operator == GreaterThan {
			return lv > rv
		}
		return lv < rv
	}
	return false
}

func (r Requirement) hasValue(v string) bool {
	_, found := slices.BinarySearch(r.values, v)
	return found
}

// String formats the requirement in the selector string syntax.
func (r Requirement) String() string {
	switch r.operator {
	case Exists:
		return r.key
	case DoesNotExist:
		return "!" + r.key
	case In, NotIn:
		return r.key + " " + string(r.operator) + " (" + strings.Join(r.values, ",") + ")"
	case GreaterThan:
		return r.key + ">" + r.firstValue()
	case LessThan:
		return r.key + "<" + r.firstValue()
	default:
		return r.key + string(r.operator) + r.firstValue()
	}
}

func (r Requirement) firstValue() string {
	if len(r.values) == 0 {
		return ""
	}
	return r.values[0]
}

// Selector is a conjunction of requirements. The zero value selects
// everything.
type Selector struct {
	reqs    []Requirement
	nothing bool
}

// Everything returns the selector that matches every set of labels.
func Everything() Selector { return Selector{} }

// Nothing returns the selector that matches no set of labels (what a nil
// *types.LabelSelector means).
func Nothing() Selector { return Selector{nothing: true} }

// NewSelector returns the conjunction of reqs, sorted by key.
func NewSelector(reqs ...Requirement) Selector {
	return Selector{}.Add(reqs...)
}

// Add returns a selector that also requires reqs; s is unchanged.
func (s Selector) Add(reqs ...Requirement) Selector {
	if s.nothing {
		return s
	}
	out := make([]Requirement, 0, len(s.reqs)+len(reqs))
	out = append(append(out, s.reqs...), reqs...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].key < out[j].key })
	return Selector{reqs: out}
}

// Matches reports whether labels satisfy every requirement.
func (s Selector) Matches(labels map[string]string) bool {
	if s.nothing {
		return false
	}
	for _, r := range s.reqs {
		if !r.Matches(labels) {
			return false
		}
	}
	return true
}

// Empty reports whether the selector has no requirements and so matches
// everything. Nothing() is not empty.
func (s Selector) Empty() bool { return !s.nothing && len(s.reqs) == 0 }

// MatchesNothing reports whether the selector is Nothing().
func (s Selector) MatchesNothing() bool { return s.nothing }

// Requirements returns a copy of the selector's requirements, sorted by key
// (none for Everything and Nothing).
func (s Selector) Requirements() []Requirement { return slices.Clone(s.reqs) }

// RequiresExactMatch returns the value key must have for the selector to
// match (from an =, == or single-value in requirement), if there is one.
func (s Selector) RequiresExactMatch(key string) (value string, found bool) {
	for _, r := range s.reqs {
		if r.key != key {
			continue
		}
		switch r.operator {
		case Equals, DoubleEquals, In:
			if len(r.values) == 1 {
				return r.values[0], true
			}
		}
	}
	return "", false
}

// String formats the selector in the string syntax Parse reads, with
// requirements sorted by key. Everything and Nothing both format as "",
// as in Kubernetes.
func (s Selector) String() string {
	parts := make([]string, len(s.reqs))
	for i, r := range s.reqs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// Set is a set of labels; it is how a map of labels is formatted and
// turned into a selector.
type Set map[string]string

// String formats the labels as "k1=v1,k2=v2", sorted by key.
func (ls Set) String() string {
	keys := make([]string, 0, len(ls))
	for k := range ls {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + ls[k]
	}
	return strings.Join(parts, ",")
}

// AsSelector is SelectorFromSet(ls).
func (ls Set) AsSelector() Selector { return SelectorFromSet(ls) }

// SelectorFromSet returns the selector requiring every key of set to have
// its value. An empty or nil set selects everything. Keys and values are
// not checked (labels already stored on an object were validated); use
// ValidatedSelectorFromSet for input.
func SelectorFromSet(set map[string]string) Selector {
	reqs := make([]Requirement, 0, len(set))
	for k, v := range set {
		reqs = append(reqs, Requirement{key: k, operator: Equals, values: []string{v}})
	}
	return NewSelector(reqs...)
}

// ValidatedSelectorFromSet is SelectorFromSet that checks keys and values.
func ValidatedSelectorFromSet(set map[string]string) (Selector, error) {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys) // report the first bad key deterministically
	reqs := make([]Requirement, 0, len(set))
	for _, k := range keys {
		r, err := NewRequirement(k, Equals, []string{set[k]})
		if err != nil {
			return Selector{}, err
		}
		reqs = append(reqs, r)
	}
	return NewSelector(reqs...), nil
}
