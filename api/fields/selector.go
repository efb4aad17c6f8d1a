// Package fields implements Kubernetes field selectors (`?fieldSelector=`,
// `kubectl --field-selector`): comma-separated `field=value`,
// `field==value` and `field!=value` terms, all of which must hold, over the
// few fields each kind exposes (ObjectFields, SupportedFields).
package fields

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// ErrInvalidSelector is wrapped by every error from Parse and ValidateFor,
// so the API server can answer 400 Bad Request.
var ErrInvalidSelector = errors.New("invalid field selector")

// Fields maps a field path ("spec.nodeName") to its value.
type Fields map[string]string

// Operator is a term's comparison.
type Operator string

// Operators a field selector may use.
const (
	Equals       Operator = "="
	DoubleEquals Operator = "=="
	NotEquals    Operator = "!="
)

// Requirement is one term of a selector.
type Requirement struct {
	Field    string
	Operator Operator
	Value    string
}

// Matches reports whether fields satisfy the term. A missing field has the
// empty value, as in Kubernetes.
func (r Requirement) Matches(fields Fields) bool {
	if r.Operator == NotEquals {
		return fields[r.Field] != r.Value
	}
	return fields[r.Field] == r.Value
}

// String formats the term with its value escaped.
func (r Requirement) String() string {
	return r.Field + string(r.Operator) + EscapeValue(r.Value)
}

// Selector is a conjunction of terms; the zero value selects everything.
type Selector struct {
	reqs []Requirement
}

// Everything returns the selector with no terms.
func Everything() Selector { return Selector{} }

// OneTermEqualSelector returns the selector field=value.
func OneTermEqualSelector(field, value string) Selector {
	return Selector{reqs: []Requirement{{Field: field, Operator: Equals, Value: value}}}
}

// SelectorFromSet returns the selector requiring every field of set to have
// its value.
func SelectorFromSet(set Fields) Selector {
	reqs := make([]Requirement, 0, len(set))
	for f, v := range set {
		reqs = append(reqs, Requirement{Field: f, Operator: Equals, Value: v})
	}
	sortRequirements(reqs)
	return Selector{reqs: reqs}
}

func sortRequirements(reqs []Requirement) {
	sort.SliceStable(reqs, func(i, j int) bool { return reqs[i].Field < reqs[j].Field })
}

// Matches reports whether fields satisfy every term.
func (s Selector) Matches(fields Fields) bool {
	for _, r := range s.reqs {
		if !r.Matches(fields) {
			return false
		}
	}
	return true
}

// Empty reports whether the selector has no terms.
func (s Selector) Empty() bool { return len(s.reqs) == 0 }

// Requirements returns a copy of the terms, sorted by field.
func (s Selector) Requirements() []Requirement { return slices.Clone(s.reqs) }

// RequiresExactMatch returns the value field must equal for the selector to
// match, if an = or == term says so (the API server uses it to narrow a
// list, e.g. Pods by spec.nodeName).
func (s Selector) RequiresExactMatch(field string) (value string, found bool) {
	for _, r := range s.reqs {
		if r.Field == field && r.Operator != NotEquals {
			return r.Value, true
		}
	}
	return "", false
}

// String formats the selector in the syntax Parse reads, terms sorted by
// field and values escaped.
func (s Selector) String() string {
	parts := make([]string, len(s.reqs))
	for i, r := range s.reqs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// Parse reads a field selector. Terms are separated by unescaped commas;
// each is field, then the first of !=, ==, = found, then the value. In a
// value, `\\`, `\,` and `\=` stand for a backslash, comma and equals sign;
// any other escape, or an unescaped '=' or ',' in a value, is an error, as
// in Kubernetes. Empty terms are ignored, so "" selects everything.
// Field names may hold only letters, digits, '.', '-', '_' and '/';
// whether the kind has the field is checked by ValidateFor.
func Parse(s string) (Selector, error) {
	var reqs []Requirement
	for _, term := range splitTerms(s) {
		if strings.TrimSpace(term) == "" {
			continue
		}
		field, op, raw, ok := splitTerm(term)
		if !ok {
			return Selector{}, fmt.Errorf("%w %q: term %q has no operator (use field=value, field==value or field!=value)", ErrInvalidSelector, s, term)
		}
		field = strings.TrimSpace(field)
		if field == "" {
			return Selector{}, fmt.Errorf("%w %q: term %q has no field name", ErrInvalidSelector, s, term)
		}
		if !validFieldName(field) {
			return Selector{}, fmt.Errorf("%w %q: field name %q may hold only letters, digits, '.', '-', '_' and '/'", ErrInvalidSelector, s, field)
		}
		value, err := UnescapeValue(raw)
		if err != nil {
			return Selector{}, fmt.Errorf("%w %q: term %q: %w", ErrInvalidSelector, s, term, err)
		}
		reqs = append(reqs, Requirement{Field: field, Operator: op, Value: value})
	}
	sortRequirements(reqs)
	return Selector{reqs: reqs}, nil
}

func validFieldName(f string) bool {
	for _, c := range []byte(f) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == '/') {
			return false
		}
	}
	return true
}

// splitTerms splits s on commas not preceded by an escaping backslash.
func splitTerms(s string) []string {
	var terms []string
	start, escaped := 0, false
	for i := 0; i < len(s); i++ {
		switch {
		case escaped:
			escaped = false
		case s[i] == '\\':
			escaped = true
		case s[i] == ',':
			terms = append(terms, s[start:i])
			start = i + 1
		}
	}
	return append(terms, s[start:])
}

// splitTerm finds the first operator in term, preferring != and == over =
// at the same position.
func splitTerm(term string) (field string, op Operator, value string, ok bool) {
	for i := 0; i < len(term); i++ {
		for _, o := range []Operator{NotEquals, DoubleEquals, Equals} {
			if strings.HasPrefix(term[i:], string(o)) {
				return term[:i], o, term[i+len(o):], true
			}
		}
	}
	return "", "", "", false
}

// EscapeValue escapes backslashes, commas and equals signs in a value so it
// can be put in a selector string.
func EscapeValue(s string) string {
	return valueEscaper.Replace(s)
}

var valueEscaper = strings.NewReplacer(`\`, `\\`, `,`, `\,`, `=`, `\=`)

// UnescapeValue undoes EscapeValue, rejecting other escapes and unescaped
// commas and equals signs.
func UnescapeValue(s string) (string, error) {
	if !strings.ContainsAny(s, `\,=`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 >= len(s) {
				return "", fmt.Errorf("value %q ends with an unfinished escape '\\'", s)
			}
			i++
			switch s[i] {
			case '\\', ',', '=':
				b.WriteByte(s[i])
			default:
				return "", fmt.Errorf("value %q has an invalid escape sequence '\\%c' (only \\\\, \\, and \\= are allowed)", s, s[i])
			}
		case ',', '=':
			return "", fmt.Errorf("value %q has an unescaped %q (write \\%c)", s, c, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
