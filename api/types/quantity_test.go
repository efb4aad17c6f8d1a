package types

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestParseQuantityCanonical(t *testing.T) {
	tests := []struct {
		in    string
		want  string
		value int64
		milli int64
	}{
		{"0", "0", 0, 0},
		{"1", "1", 1, 1000},
		{"100m", "100m", 1, 100},
		{"0.1", "100m", 1, 100},
		{"1000m", "1", 1, 1000},
		{"1.5", "1500m", 2, 1500},
		{"1500", "1500", 1500, 1500000},
		{"1000k", "1M", 1000000, 1000000000},
		{"100k", "100k", 100000, 100000000},
		{"1Ki", "1Ki", 1024, 1024000},
		{"1.5Gi", "1536Mi", 1610612736, 1610612736000},
		{"0.5Ki", "512", 512, 512000},
		{"1024Mi", "1Gi", 1073741824, 1073741824000},
		{"1025Ki", "1025Ki", 1049600, 1049600000},
		{"0.1Ki", "102400m", 103, 102400},
		{"1e3", "1e3", 1000, 1000000},
		{"1.5e3", "1500", 1500, 1500000},
		{"1E6", "1e6", 1000000, 1000000000},
		{"1e-3", "1e-3", 1, 1},
		{"5E", "5E", 5000000000000000000, 9223372036854775807},
		{"1n", "1n", 1, 1},
		{"1.0000000001", "1000000001n", 2, 1001},
		{"-100m", "-100m", -1, -100},
		{"+2", "2", 2, 2000},
		{".5", "500m", 1, 500},
		{"5.", "5", 5, 5000},
		{"250M", "250M", 250000000, 250000000000},
		{"128974848", "128974848", 128974848, 128974848000},
		{"129e6", "129e6", 129000000, 129000000000},
		{"123Mi", "123Mi", 128974848, 128974848000},
		{"0Gi", "0", 0, 0},
		{"7Ei", "7Ei", 8070450532247928832, 9223372036854775807},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			q, err := ParseQuantity(tt.in)
			if err != nil {
				t.Fatalf("ParseQuantity(%q): %v", tt.in, err)
			}
			if got := q.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if got := q.Value(); got != tt.value {
				t.Errorf("Value() = %d, want %d", got, tt.value)
			}
			if got := q.MilliValue(); got != tt.milli {
				t.Errorf("MilliValue() = %d, want %d", got, tt.milli)
			}
			// The canonical form parses back to the same amount.
			back, err := ParseQuantity(q.String())
			if err != nil {
				t.Fatalf("reparse %q: %v", q.String(), err)
			}
			if back.Cmp(q) != 0 {
				t.Errorf("reparse %q = %v, not equal to %v", q.String(), back, q)
			}
		})
	}
}

func TestParseQuantityErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"", ErrFormatWrong},
		{"abc", ErrFormatWrong},
		{".", ErrFormatWrong},
		{"-", ErrFormatWrong},
		{"1Kb", ErrSuffix},
		{"1K", ErrSuffix},
		{"1e", ErrSuffix},
		{"1ee3", ErrSuffix},
		{"1 Gi", ErrSuffix},
		{"1.2.3", ErrSuffix},
		{"8Ei", ErrQuantityRange},
		{"1e99999", ErrQuantityRange},
		{"99999999999999999999", ErrQuantityRange},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseQuantity(tt.in)
			if !errors.Is(err, tt.want) {
				t.Errorf("ParseQuantity(%q) error = %v, want %v", tt.in, err, tt.want)
			}
		})
	}
}

func TestQuantityArithmetic(t *testing.T) {
	tests := []struct {
		a, b      string
		sum, diff string
		cmp       int
	}{
		{"1", "500m", "1500m", "500m", 1},
		{"1Gi", "512Mi", "1536Mi", "512Mi", 1},
		{"100m", "100m", "200m", "0", 0},
		{"1k", "1000", "2k", "0", 0},
		// Too many digits for the int64 mantissa: precision is given up,
		// rounding away from zero.
		{"1n", "1E", "1000000000000000001", "-1E", -1},
	}
	for _, tt := range tests {
		t.Run(tt.a+"+"+tt.b, func(t *testing.T) {
			a, b := MustParse(tt.a), MustParse(tt.b)
			if got := a.Cmp(b); got != tt.cmp {
				t.Errorf("Cmp = %d, want %d", got, tt.cmp)
			}
			s := a
			s.Add(b)
			if got := s.String(); got != tt.sum {
				t.Errorf("sum = %q, want %q", got, tt.sum)
			}
			d := a
			d.Sub(b)
			if got := d.String(); got != tt.diff {
				t.Errorf("diff = %q, want %q", got, tt.diff)
			}
			if a.String() != MustParse(tt.a).String() {
				t.Errorf("Add changed its argument's copy: %q", a.String())
			}
		})
	}
}

func TestQuantityJSON(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{`"1.5Gi"`, `"1536Mi"`},
		{`2`, `"2"`},
		{`0.5`, `"500m"`},
		{`1e3`, `"1e3"`},
		{`null`, `"0"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var q Quantity
			if err := json.Unmarshal([]byte(tt.in), &q); err != nil {
				t.Fatal(err)
			}
			out, err := json.Marshal(q)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tt.want {
				t.Errorf("got %s, want %s", out, tt.want)
			}
		})
	}
	var q Quantity
	if err := json.Unmarshal([]byte(`"12x"`), &q); !errors.Is(err, ErrSuffix) {
		t.Errorf("bad quantity: err = %v, want ErrSuffix", err)
	}
	if err := json.Unmarshal([]byte(`true`), &q); err == nil {
		t.Errorf("bool accepted as quantity")
	}
}

func TestQuantityEqualAmountsAreEqualStructs(t *testing.T) {
	if MustParse("1000m") != MustParse("1") {
		t.Error(`"1000m" and "1" differ as structs`)
	}
	if MustParse("1k") != MustParse("1000") {
		t.Error(`"1k" and "1000" differ as structs`)
	}
}

func FuzzParseQuantity(f *testing.F) {
	for _, s := range []string{"1", "100m", "1.5Gi", "1e3", "-1E-9", ".5", "7Ei", "1e-1000", "0.0000000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuantity(s)
		if err != nil {
			return
		}
		// Whatever parses must format, and the format must parse back to
		// the same amount.
		back, err := ParseQuantity(q.String())
		if err != nil {
			t.Fatalf("%q formatted as %q, which does not parse: %v", s, q.String(), err)
		}
		if back.Cmp(q) != 0 {
			t.Fatalf("%q formatted as %q, which parses to %q", s, q.String(), back.String())
		}
		_ = q.Value()
		_ = q.MilliValue()
	})
}

func TestQuantityAddExtremes(t *testing.T) {
	tests := []struct {
		a, b, want string
	}{
		// 1e1000 + 1n does not fit the mantissa: precision is given up,
		// rounding away from zero, so the 1n becomes one unit of the
		// 19th digit.
		{"1e1000", "1n", "10000000000000000010e981"},
		{"9E", "1n", "9000000000000000001"},
		{"-9E", "-1n", "-9000000000000000001"},
	}
	for _, tt := range tests {
		t.Run(tt.a+"+"+tt.b, func(t *testing.T) {
			q := MustParse(tt.a)
			q.Add(MustParse(tt.b))
			if got := q.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
