package types

// Quantity is written here rather than imported from
// k8s.io/apimachinery/pkg/api/resource: that package drags in the whole
// apimachinery tree (and gopkg.in/inf.v0) for one type. This version keeps
// the Kubernetes text format and canonical form, and stores the value as an
// int64 mantissa with a power-of-ten scale, which covers every quantity a
// machine has (up to about 9.2e18 of the base unit, down to 1n).

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Format is how a Quantity is written back out.
type Format string

// Quantity formats, as in Kubernetes.
const (
	// DecimalExponent writes 1e3, 12e6.
	DecimalExponent Format = "DecimalExponent"
	// BinarySI writes 1Ki, 5Gi.
	BinarySI Format = "BinarySI"
	// DecimalSI writes 100m, 1k, 5G.
	DecimalSI Format = "DecimalSI"
)

// Errors from ParseQuantity.
var (
	// ErrFormatWrong: the text is not a quantity.
	ErrFormatWrong = errors.New("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
	// ErrNumeric: the number part could not be parsed.
	ErrNumeric = errors.New("unable to parse numeric part of quantity")
	// ErrSuffix: the suffix is not one of n u m k M G T P E Ki Mi Gi Ti Pi Ei or an exponent.
	ErrSuffix = errors.New("unable to parse quantity's suffix")
	// ErrQuantityRange: the value does not fit (more than about 9.2e18 of the base unit).
	ErrQuantityRange = errors.New("quantity out of range")
)

// maxQuantityLen bounds the text ParseQuantity accepts; no real quantity
// comes close, and it keeps big-number work on hostile input small.
const maxQuantityLen = 128

// minScale is the finest precision kept: nano. Finer values are rounded
// away from zero, as Kubernetes does.
const minScale = -9

// Quantity is a fixed-point number with a unit-free suffix, as in
// Kubernetes resource requests and limits ("100m", "1.5Gi", "2").
// The zero value is 0. Quantities are values: copy them freely.
// Two quantities with the same value and Format are ==.
type Quantity struct {
	// value * 10^scale is the amount; value carries no trailing decimal
	// zeros (they are folded into scale) so that equal amounts are equal
	// structs.
	value int64
	scale int32
	// Format is how String writes the quantity.
	Format Format
}

// ResourceName names a resource in a ResourceList ("cpu", "memory", ...).
type ResourceName string

// Resource names Wharf understands.
const (
	ResourceCPU              ResourceName = "cpu"
	ResourceMemory           ResourceName = "memory"
	ResourceStorage          ResourceName = "storage"
	ResourceEphemeralStorage ResourceName = "ephemeral-storage"
	ResourcePods             ResourceName = "pods"
)

// ResourceList maps a resource name to an amount.
type ResourceList map[ResourceName]Quantity

// Cpu returns the "cpu" entry (zero if absent).
func (rl ResourceList) Cpu() Quantity { return rl[ResourceCPU] }

// Memory returns the "memory" entry (zero if absent).
func (rl ResourceList) Memory() Quantity { return rl[ResourceMemory] }

// Pods returns the "pods" entry (zero if absent).
func (rl ResourceList) Pods() Quantity { return rl[ResourcePods] }

// Name returns the entry for name (zero if absent).
func (rl ResourceList) Name(name ResourceName) Quantity { return rl[name] }

// NewQuantity returns value (in base units) written in format.
func NewQuantity(value int64, format Format) Quantity {
	return normalize(value, 0, format)
}

// NewMilliQuantity returns milli/1000 written in format.
func NewMilliQuantity(milli int64, format Format) Quantity {
	return normalize(milli, -3, format)
}

// NewScaledQuantity returns value * 10^scale, in DecimalSI.
func NewScaledQuantity(value int64, scale int32) Quantity {
	if scale < minScale {
		q, err := fromBig(big.NewInt(value), scale, DecimalSI)
		if err == nil {
			return q
		}
	}
	return normalize(value, scale, DecimalSI)
}

func normalize(value int64, scale int32, format Format) Quantity {
	if value == 0 {
		return Quantity{Format: format}
	}
	for value%10 == 0 {
		value /= 10
		scale++
	}
	return Quantity{value: value, scale: scale, Format: format}
}

// MustParse parses s and panics if it is not a quantity. For constants in
// code and tests only; never call it on input.
func MustParse(s string) Quantity {
	q, err := ParseQuantity(s)
	if err != nil {
		panic(fmt.Sprintf("types.MustParse(%q): %v", s, err))
	}
	return q
}

var decimalSuffixes = map[string]int32{
	"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18,
}

var binarySuffixes = map[string]int32{
	"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60,
}

// ParseQuantity parses the Kubernetes quantity syntax: an optionally signed
// decimal number followed by a decimal SI suffix (n u m k M G T P E), a
// binary suffix (Ki Mi Gi Ti Pi Ei) or an exponent (e3, E-2). Precision
// finer than 1n is rounded away from zero.
func ParseQuantity(s string) (Quantity, error) {
	if s == "" || len(s) > maxQuantityLen {
		return Quantity{}, ErrFormatWrong
	}
	// Split number and suffix.
	i := 0
	if s[0] == '+' || s[0] == '-' {
		i++
	}
	numStart := i
	intEnd, fracStart, fracEnd := -1, -1, -1
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intEnd = i
	fracStart, fracEnd = i, i
	if i < len(s) && s[i] == '.' {
		i++
		fracStart = i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		fracEnd = i
	}
	if intEnd == numStart && fracEnd == fracStart {
		return Quantity{}, ErrFormatWrong
	}
	digits := s[numStart:intEnd] + s[fracStart:fracEnd]
	suffix := s[i:]

	exp10 := -int32(fracEnd - fracStart)
	var exp2 int32
	format := DecimalSI
	if e, ok := decimalSuffixes[suffix]; ok {
		exp10 += e
	} else if e, ok := binarySuffixes[suffix]; ok {
		exp2 = e
		format = BinarySI
	} else if suffix[0] == 'e' || suffix[0] == 'E' {
		e, err := strconv.ParseInt(suffix[1:], 10, 32)
		if err != nil {
			return Quantity{}, ErrSuffix
		}
		if e > 1000 || e < -1000 {
			return Quantity{}, ErrQuantityRange
		}
		exp10 += int32(e)
		format = DecimalExponent
	} else {
		return Quantity{}, ErrSuffix
	}

	n, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return Quantity{}, ErrNumeric
	}
	if s[0] == '-' {
		n.Neg(n)
	}
	if exp2 > 0 {
		n.Lsh(n, uint(exp2))
	}
	q, err := fromBig(n, exp10, format)
	if err != nil {
		return Quantity{}, err
	}
	return q, nil
}

var bigTen = big.NewInt(10)

// fromBig builds n * 10^exp, rounding away from zero below 1n; the result
// must fit the int64 mantissa.
func fromBig(n *big.Int, exp int32, format Format) (Quantity, error) {
	if n.Sign() == 0 {
		return Quantity{Format: format}, nil
	}
	n = new(big.Int).Set(n)
	if exp < minScale {
		// Divide by 10^(minScale-exp), rounding away from zero.
		if minScale-exp > 40 && n.BitLen() < 64 {
			// Far below nano: the result is ±1n.
			n.SetInt64(int64(n.Sign()))
		} else {
			d := new(big.Int).Exp(bigTen, big.NewInt(int64(minScale-exp)), nil)
			neg := n.Sign() < 0
			n.Abs(n)
			qt, rem := new(big.Int).QuoRem(n, d, new(big.Int))
			if rem.Sign() != 0 {
				qt.Add(qt, big.NewInt(1))
			}
			if neg {
				qt.Neg(qt)
			}
			n = qt
		}
		exp = minScale
	}
	// Fold trailing zeros into the scale.
	r := new(big.Int)
	for n.Sign() != 0 {
		qt, rem := new(big.Int).QuoRem(n, bigTen, r)
		if rem.Sign() != 0 {
			break
		}
		n = qt
		exp++
	}
	if !n.IsInt64() || exp > 1000 {
		return Quantity{}, ErrQuantityRange
	}
	return Quantity{value: n.Int64(), scale: exp, Format: format}, nil
}

// asScale returns q as an integer count of 10^scale units, rounding away
// from zero.
func (q Quantity) asScale(scale int32) *big.Int {
	n := big.NewInt(q.value)
	switch {
	case q.scale > scale:
		n.Mul(n, new(big.Int).Exp(bigTen, big.NewInt(int64(q.scale-scale)), nil))
		return n
	case q.scale < scale:
		return roundToScale(n, q.scale, scale)
	}
	return n
}

func clampInt64(n *big.Int) int64 {
	if n.IsInt64() {
		return n.Int64()
	}
	if n.Sign() < 0 {
		return math.MinInt64
	}
	return math.MaxInt64
}

// Value returns q in base units, rounded away from zero ("100m" is 1),
// saturating at the int64 range.
func (q Quantity) Value() int64 { return q.ScaledValue(0) }

// MilliValue returns q in thousandths, rounded away from zero ("1" is
// 1000), saturating at the int64 range.
func (q Quantity) MilliValue() int64 { return q.ScaledValue(-3) }

// ScaledValue returns q in units of 10^scale, rounded away from zero,
// saturating at the int64 range.
func (q Quantity) ScaledValue(scale int32) int64 {
	if q.scale == scale {
		return q.value
	}
	if q.scale > scale && q.scale-scale < 19 {
		m := int64(1)
		for range q.scale - scale {
			m *= 10
		}
		if v := q.value * m; v/m == q.value {
			return v
		}
	}
	n := q.asScale(scale)
	return clampInt64(n)
}

// AsApproximateFloat64 returns q as a float64, possibly losing precision.
func (q Quantity) AsApproximateFloat64() float64 {
	return float64(q.value) * math.Pow10(int(q.scale))
}

// IsZero reports whether q is 0.
func (q Quantity) IsZero() bool { return q.value == 0 }

// Sign returns -1, 0 or 1.
func (q Quantity) Sign() int {
	switch {
	case q.value < 0:
		return -1
	case q.value > 0:
		return 1
	}
	return 0
}

// Cmp returns -1, 0 or 1 as q is less than, equal to or greater than y.
func (q Quantity) Cmp(y Quantity) int {
	if q.scale == y.scale {
		switch {
		case q.value < y.value:
			return -1
		case q.value > y.value:
			return 1
		}
		return 0
	}
	if q.Sign() != y.Sign() {
		return compareInt(q.Sign(), y.Sign())
	}
	s := min(q.scale, y.scale)
	a := q.asScale(s)
	b := y.asScale(s)
	return a.Cmp(b)
}

func compareInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// CmpInt64 compares q with y base units.
func (q Quantity) CmpInt64(y int64) int { return q.Cmp(NewQuantity(y, DecimalSI)) }

// Equal reports whether q and y are the same amount, whatever their formats.
func (q Quantity) Equal(y Quantity) bool { return q.Cmp(y) == 0 }

// Add sets q to q + y. The format of q is kept (if q is zero, y's).
// A sum that does not fit is clamped to the largest representable amount.
func (q *Quantity) Add(y Quantity) { q.combine(y, false) }

// Sub sets q to q - y, like Add.
func (q *Quantity) Sub(y Quantity) { q.combine(y, true) }

func (q *Quantity) combine(y Quantity, neg bool) {
	format := q.Format
	if q.IsZero() && format == "" {
		format = y.Format
	}
	lo := min(q.scale, y.scale)
	a := q.asScale(lo)
	b := y.asScale(lo)
	if neg {
		a.Sub(a, b)
	} else {
		a.Add(a, b)
	}
	r, err := fromBig(a, lo, format)
	// An int64 holds 18 full decimal digits; start from the scale that
	// leaves about that many (bits * log10(2) estimates the digit count).
	start := lo + 1
	if digits := int32(a.BitLen()*30103/100000) + 1; digits > 19 {
		start = lo + digits - 19
	}
	for s := start; err != nil && s <= 1000; s++ {
		// Too many digits for the mantissa: give up precision, rounding
		// away from zero, until it fits.
		r, err = fromBig(roundToScale(new(big.Int).Set(a), lo, s), s, format)
	}
	if err != nil {
		v := int64(math.MaxInt64)
		if a.Sign() < 0 {
			v = math.MinInt64 + 1
		}
		r = Quantity{value: v, scale: 1000, Format: format}
	}
	*q = r
}

// roundToScale converts n units of 10^from to units of 10^to (to > from),
// rounding away from zero. It reuses n.
func roundToScale(n *big.Int, from, to int32) *big.Int {
	d := new(big.Int).Exp(bigTen, big.NewInt(int64(to-from)), nil)
	neg := n.Sign() < 0
	n.Abs(n)
	qt, rem := n.QuoRem(n, d, new(big.Int))
	if rem.Sign() != 0 {
		qt.Add(qt, big.NewInt(1))
	}
	if neg {
		qt.Neg(qt)
	}
	return qt
}

// Neg sets q to -q.
func (q *Quantity) Neg() {
	if q.value == math.MinInt64 {
		q.value = math.MaxInt64
		return
	}
	q.value = -q.value
}

// Copy returns q (quantities are values; kept for Kubernetes-shaped code).
func (q Quantity) Copy() Quantity { return q }

// DeepCopy returns q (quantities are values; kept for Kubernetes-shaped code).
func (q Quantity) DeepCopy() Quantity { return q }

// String returns the canonical form: the largest suffix that keeps the
// number an integer ("1.5Gi" is "1536Mi", "0.5" is "500m", "1000k" is
// "1M"). Binary quantities smaller than 1Ki, or not whole, are written in
// decimal SI.
func (q Quantity) String() string {
	var b strings.Builder
	q.writeCanonical(&b)
	return b.String()
}

func (q Quantity) writeCanonical(b *strings.Builder) {
	if q.value == 0 {
		b.WriteByte('0')
		return
	}
	format := q.Format
	switch format {
	case DecimalExponent, DecimalSI:
	case BinarySI:
		if q.CmpInt64(-1024) > 0 && q.CmpInt64(1024) < 0 || q.scale < 0 {
			format = DecimalSI
		}
	default:
		format = DecimalExponent
	}
	if format == BinarySI {
		n := q.asScale(0)
		var exp int
		r := new(big.Int)
		k := big.NewInt(1024)
		for exp < 6 {
			qt, rem := new(big.Int).QuoRem(n, k, r)
			if rem.Sign() != 0 {
				break
			}
			n = qt
			exp++
		}
		b.WriteString(n.String())
		b.WriteString([]string{"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"}[exp])
		return
	}
	// Decimal: make the exponent a multiple of three.
	value, exp := q.value, q.scale
	var n *big.Int
	switch ((exp % 3) + 3) % 3 {
	case 1:
		exp--
		n = big.NewInt(value)
		n.Mul(n, bigTen)
	case 2:
		exp -= 2
		n = big.NewInt(value)
		n.Mul(n, big.NewInt(100))
	}
	if n != nil {
		b.WriteString(n.String())
	} else {
		b.WriteString(strconv.FormatInt(value, 10))
	}
	if format == DecimalSI {
		if exp >= -9 && exp <= 18 {
			b.WriteString([]string{"n", "u", "m", "", "k", "M", "G", "T", "P", "E"}[(exp+9)/3])
			return
		}
	}
	if exp != 0 {
		b.WriteByte('e')
		b.WriteString(strconv.FormatInt(int64(exp), 10))
	}
}

// MarshalJSON writes the canonical string.
func (q Quantity) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, q.String()), nil
}

// UnmarshalJSON accepts a JSON string or a JSON number (and null, as 0).
func (q *Quantity) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*q = Quantity{}
		return nil
	}
	if len(s) >= 2 && s[0] == '"' {
		u, err := strconv.Unquote(s)
		if err != nil {
			return fmt.Errorf("quantity %s: %w", s, ErrFormatWrong)
		}
		s = u
	}
	p, err := ParseQuantity(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("quantity %q: %w", s, err)
	}
	*q = p
	return nil
}
