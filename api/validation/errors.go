package validation

import (
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/wharfhq/wharf/api/types"
)

// ErrorType says what kind of problem an Error reports. Its value is what
// Kubernetes puts in a Status cause's reason ("FieldValueRequired").
type ErrorType string

// Error types, as in Kubernetes' field package.
const (
	ErrorTypeRequired     ErrorType = "FieldValueRequired"
	ErrorTypeInvalid      ErrorType = "FieldValueInvalid"
	ErrorTypeDuplicate    ErrorType = "FieldValueDuplicate"
	ErrorTypeNotSupported ErrorType = "FieldValueNotSupported"
	ErrorTypeForbidden    ErrorType = "FieldValueForbidden"
	ErrorTypeTooLong      ErrorType = "FieldValueTooLong"
	ErrorTypeTooMany      ErrorType = "FieldValueTooMany"
	ErrorTypeNotFound     ErrorType = "FieldValueNotFound"
)

// String is the human-readable name of the type ("Required value").
func (t ErrorType) String() string {
	switch t {
	case ErrorTypeRequired:
		return "Required value"
	case ErrorTypeInvalid:
		return "Invalid value"
	case ErrorTypeDuplicate:
		return "Duplicate value"
	case ErrorTypeNotSupported:
		return "Unsupported value"
	case ErrorTypeForbidden:
		return "Forbidden"
	case ErrorTypeTooLong:
		return "Too long"
	case ErrorTypeTooMany:
		return "Too many"
	case ErrorTypeNotFound:
		return "Not found"
	}
	return string(t)
}

// Error is one problem with one field of an object.
type Error struct {
	Type ErrorType
	// Field is the JSON path of the field, e.g. "spec.containers[0].image".
	Field string
	// BadValue is the offending value. Messages of Required, Forbidden
	// and TooLong errors do not repeat it.
	BadValue any
	// Detail says what is wrong and, where it helps, what to do.
	Detail string
}

// Error formats the error as Kubernetes does:
// "spec.containers[0].image: Required value".
func (e *Error) Error() string {
	return e.Field + ": " + e.Body()
}

// Body is the message without the field path (a Status cause's message).
func (e *Error) Body() string {
	s := e.Type.String()
	switch e.Type {
	case ErrorTypeRequired, ErrorTypeForbidden, ErrorTypeTooLong:
	default:
		if e.BadValue != nil {
			s += ": " + formatValue(e.BadValue)
		}
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func formatValue(v any) string {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "null"
		}
		rv = rv.Elem()
		v = rv.Interface()
	}
	switch t := v.(type) {
	case string:
		return strconv.Quote(t)
	case fmt.Stringer:
		return t.String()
	}
	switch rv.Kind() {
	case reflect.String:
		return strconv.Quote(rv.String())
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return fmt.Sprint(v)
	}
	return fmt.Sprintf("%#v", v)
}

// ErrorList is every problem found with an object; nil when it is valid.
type ErrorList []*Error

// Error joins the errors: one error as itself, several as "[e1, e2]" (as
// Kubernetes' aggregate does), duplicates once.
func (l ErrorList) Error() string {
	seen := make(map[string]bool, len(l))
	var msgs []string
	for _, e := range l {
		m := e.Error()
		if !seen[m] {
			seen[m] = true
			msgs = append(msgs, m)
		}
	}
	if len(msgs) == 1 {
		return msgs[0]
	}
	return "[" + strings.Join(msgs, ", ") + "]"
}

// Err returns the list as an error, or nil when it is empty (a nil
// ErrorList in an error interface would not compare equal to nil).
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Status turns the list into the 422 Invalid Status the API server
// answers, with a cause per error and the message Kubernetes writes:
// `Pod "web" is invalid: spec.containers[0].image: Required value`.
// Kind is qualified by group for non-core kinds ("Deployment.apps").
func (l ErrorList) Status(group, kind, name string) *types.Status {
	qualified := kind
	if group != "" {
		qualified += "." + group
	}
	causes := make([]types.StatusCause, len(l))
	for i, e := range l {
		causes[i] = types.StatusCause{Type: string(e.Type), Message: e.Body(), Field: e.Field}
	}
	return &types.Status{
		TypeMeta: types.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   "Failure",
		Message:  fmt.Sprintf("%s %q is invalid: %s", qualified, name, l.Error()),
		Reason:   types.StatusReasonInvalid,
		Code:     http.StatusUnprocessableEntity,
		Details:  &types.StatusDetails{Name: name, Group: group, Kind: kind, Causes: causes},
	}
}

// Path is a field path under construction, e.g.
// NewPath("spec").Child("containers").Index(0).Child("image").
type Path string

// NewPath starts a path at name, with optional further children.
func NewPath(name string, more ...string) Path {
	return Path(name).Child("", more...)
}

// Child appends ".name" (and more children) to the path; an empty name is
// skipped.
func (p Path) Child(name string, more ...string) Path {
	for _, n := range append([]string{name}, more...) {
		switch {
		case n == "":
		case p == "":
			p = Path(n)
		default:
			p += Path("." + n)
		}
	}
	return p
}

// Index appends "[i]".
func (p Path) Index(i int) Path { return p + Path("["+strconv.Itoa(i)+"]") }

// Key appends "[key]".
func (p Path) Key(key string) Path { return p + Path("["+key+"]") }

// String returns the path.
func (p Path) String() string { return string(p) }

// Required reports a missing value.
func Required(field Path, detail string) *Error {
	return &Error{Type: ErrorTypeRequired, Field: field.String(), Detail: detail}
}

// Invalid reports a malformed value.
func Invalid(field Path, value any, detail string) *Error {
	return &Error{Type: ErrorTypeInvalid, Field: field.String(), BadValue: value, Detail: detail}
}

// Duplicate reports a value that must be unique and is not.
func Duplicate(field Path, value any) *Error {
	return &Error{Type: ErrorTypeDuplicate, Field: field.String(), BadValue: value}
}

// NotSupported reports a value outside an enumeration, listing the
// supported values.
func NotSupported[T ~string](field Path, value any, supported []T) *Error {
	quoted := make([]string, len(supported))
	for i, s := range supported {
		quoted[i] = strconv.Quote(string(s))
	}
	return &Error{Type: ErrorTypeNotSupported, Field: field.String(), BadValue: value, Detail: "supported values: " + strings.Join(quoted, ", ")}
}

// Forbidden reports a value that may not be set (here, or at all in Wharf).
func Forbidden(field Path, detail string) *Error {
	return &Error{Type: ErrorTypeForbidden, Field: field.String(), Detail: detail}
}

// TooLong reports a value longer than maxLen bytes.
func TooLong(field Path, maxLen int) *Error {
	return &Error{Type: ErrorTypeTooLong, Field: field.String(), Detail: fmt.Sprintf("must have at most %d bytes", maxLen)}
}

// TooMany reports a list with more than maxItems items.
func TooMany(field Path, actual, maxItems int) *Error {
	return &Error{Type: ErrorTypeTooMany, Field: field.String(), BadValue: actual, Detail: fmt.Sprintf("must have at most %d items", maxItems)}
}

// NotFound reports a reference to something that does not exist (a
// volumeMount naming an undeclared volume).
func NotFound(field Path, value any) *Error {
	return &Error{Type: ErrorTypeNotFound, Field: field.String(), BadValue: value}
}
