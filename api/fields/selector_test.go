package fields

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{",", ""},
		{"a=b", "a=b"},
		{"a==b", "a==b"},
		{"a!=b", "a!=b"},
		{"status.phase=Running,spec.nodeName=n1", "spec.nodeName=n1,status.phase=Running"},
		{"a=", "a="},
		{`a=x\,y\=z\\`, `a=x\,y\=z\\`},
		{"a=b,,c=d", "a=b,c=d"},
		{" a =b", "a=b"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			sel, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := sel.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseEscapedValue(t *testing.T) {
	sel, err := Parse(`metadata.name=a\,b\=c\\d,x!=1`)
	if err != nil {
		t.Fatal(err)
	}
	reqs := sel.Requirements()
	if len(reqs) != 2 {
		t.Fatalf("got %d requirements, want 2", len(reqs))
	}
	want := Requirement{Field: "metadata.name", Operator: Equals, Value: `a,b=c\d`}
	if reqs[0] != want {
		t.Errorf("requirement = %+v, want %+v", reqs[0], want)
	}
	if EscapeValue(want.Value) != `a\,b\=c\\d` {
		t.Errorf("EscapeValue = %q", EscapeValue(want.Value))
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in, wantSub string
	}{
		{"abc", `term "abc" has no operator`},
		{"=b", `term "=b" has no field name`},
		{"a=b=c", `unescaped '='`},
		{`a=b\`, "unfinished escape"},
		{`a=b\n`, `invalid escape sequence '\n'`},
		{"a=b,c", `term "c" has no operator`},
		{"! =", `field name "!"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded", tt.in)
			}
			if !errors.Is(err, ErrInvalidSelector) || !strings.Contains(err.Error(), tt.wantSub) {
				t.Errorf("err = %v, want ErrInvalidSelector containing %q", err, tt.wantSub)
			}
		})
	}
}

func TestMatches(t *testing.T) {
	f := Fields{"metadata.name": "web", "status.phase": "Running", "spec.nodeName": ""}
	tests := []struct {
		sel  string
		want bool
	}{
		{"", true},
		{"metadata.name=web", true},
		{"metadata.name==web", true},
		{"metadata.name=db", false},
		{"metadata.name!=db", true},
		{"metadata.name!=web", false},
		{"spec.nodeName=", true},
		{"spec.nodeName!=", false},
		{"missing=", true},
		{"missing!=x", true},
		{"metadata.name=web,status.phase=Running", true},
		{"metadata.name=web,status.phase=Pending", false},
	}
	for _, tt := range tests {
		t.Run(tt.sel, func(t *testing.T) {
			sel, err := Parse(tt.sel)
			if err != nil {
				t.Fatal(err)
			}
			if got := sel.Matches(f); got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRequiresExactMatch(t *testing.T) {
	sel, err := Parse("spec.nodeName=n1,status.phase!=Failed")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := sel.RequiresExactMatch("spec.nodeName"); !ok || v != "n1" {
		t.Errorf("spec.nodeName: %q %v", v, ok)
	}
	if _, ok := sel.RequiresExactMatch("status.phase"); ok {
		t.Error("status.phase: != must not count as an exact match")
	}
	if got := OneTermEqualSelector("a", "x,y").String(); got != `a=x\,y` {
		t.Errorf("OneTermEqualSelector String = %q", got)
	}
	if got := SelectorFromSet(Fields{"b": "1", "a": "2"}).String(); got != "a=2,b=1" {
		t.Errorf("SelectorFromSet String = %q", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "a=b", `a=b\,c`, "a!=b,c==d", `\`, "a=b=c", "==", "!=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidSelector) {
				t.Fatalf("error %v does not wrap ErrInvalidSelector", err)
			}
			return
		}
		again, err := Parse(sel.String())
		if err != nil {
			t.Fatalf("Parse(%q) ok but its String %q does not parse: %v", s, sel.String(), err)
		}
		if again.String() != sel.String() {
			t.Fatalf("round trip of %q: %q != %q", s, again.String(), sel.String())
		}
	})
}
