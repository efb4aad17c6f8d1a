package types

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// IntOrStringType says which member of an IntOrString is set.
type IntOrStringType int

// IntOrString types.
const (
	// Int: IntVal is set.
	Int IntOrStringType = iota
	// String: StrVal is set.
	String
)

// IntOrString holds an int32 or a string, as Kubernetes' intstr.IntOrString
// does: JSON 8080 or "http", 1 or "25%".
type IntOrString struct {
	Type   IntOrStringType
	IntVal int32
	StrVal string
}

// ErrNotPercent: the value is neither an integer nor a "N%" string.
var ErrNotPercent = errors.New("not an integer or a percentage")

// FromInt returns an IntOrString holding i (clamped to int32).
func FromInt(i int) IntOrString {
	if i > math.MaxInt32 {
		i = math.MaxInt32
	} else if i < math.MinInt32 {
		i = math.MinInt32
	}
	return IntOrString{Type: Int, IntVal: int32(i)}
}

// FromInt32 returns an IntOrString holding i.
func FromInt32(i int32) IntOrString { return IntOrString{Type: Int, IntVal: i} }

// FromString returns an IntOrString holding s.
func FromString(s string) IntOrString { return IntOrString{Type: String, StrVal: s} }

// ParseIntOrString returns an Int if s is a decimal int32, else a String.
func ParseIntOrString(s string) IntOrString {
	if i, err := strconv.ParseInt(s, 10, 32); err == nil {
		return FromInt32(int32(i))
	}
	return FromString(s)
}

// String returns the value as text.
func (v IntOrString) String() string {
	if v.Type == String {
		return v.StrVal
	}
	return strconv.Itoa(int(v.IntVal))
}

// IntValue returns IntVal, or StrVal parsed as an int (0 if it is not one).
func (v IntOrString) IntValue() int {
	if v.Type == String {
		i, _ := strconv.Atoi(v.StrVal)
		return i
	}
	return int(v.IntVal)
}

// MarshalJSON writes a JSON number or string.
func (v IntOrString) MarshalJSON() ([]byte, error) {
	if v.Type == String {
		return json.Marshal(v.StrVal)
	}
	return strconv.AppendInt(nil, int64(v.IntVal), 10), nil
}

// UnmarshalJSON reads a JSON number (int32) or string.
func (v *IntOrString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		v.Type = String
		v.IntVal = 0
		return json.Unmarshal(b, &v.StrVal)
	}
	var i int32
	if err := json.Unmarshal(b, &i); err != nil {
		return fmt.Errorf("int or string: %s is neither an int32 nor a string", b)
	}
	*v = FromInt32(i)
	return nil
}

// GetScaledValueFromIntOrPercent resolves v against total: an Int is
// returned as is; a "N%" string is N percent of total, rounded up when
// roundUp is set and down otherwise. A nil v is an error.
func GetScaledValueFromIntOrPercent(v *IntOrString, total int, roundUp bool) (int, error) {
	if v == nil {
		return 0, fmt.Errorf("nil value for int or percent: %w", ErrNotPercent)
	}
	return v.ScaledValue(total, roundUp)
}

// ScaledValue is GetScaledValueFromIntOrPercent as a method.
func (v IntOrString) ScaledValue(total int, roundUp bool) (int, error) {
	if v.Type == Int {
		return int(v.IntVal), nil
	}
	s, ok := strings.CutSuffix(v.StrVal, "%")
	if !ok {
		return 0, fmt.Errorf("%q: %w", v.StrVal, ErrNotPercent)
	}
	p, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", v.StrVal, ErrNotPercent)
	}
	num := int64(p) * int64(total)
	if roundUp {
		// Ceiling division, correct for negative numerators too.
		q := num / 100
		if num%100 != 0 && num > 0 {
			q++
		}
		return int(q), nil
	}
	q := num / 100
	if num%100 != 0 && num < 0 {
		q--
	}
	return int(q), nil
}
