package labels

import (
	"errors"
	"strings"
	"testing"
)

func TestParseCanonicalString(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"   ", ""},
		{"a=b", "a=b"},
		{"a==b", "a==b"},
		{"a!=b", "a!=b"},
		{" a = b , c != d ", "a=b,c!=d"},
		{"z=1,a=2", "a=2,z=1"},
		{"env in (prod,staging)", "env in (prod,staging)"},
		{"env in (staging, prod, prod)", "env in (prod,staging)"},
		{"tier notin (x)", "tier notin (x)"},
		{"key", "key"},
		{"!key", "!key"},
		{"! key", "!key"},
		{"a=", "a="},
		{"a in ()", "a in ()"},
		{"a in (,b)", "a in (,b)"},
		{"a in (in,notin)", "a in (in,notin)"},
		{"a=in", "a=in"},
		{"example.com/app=web,k8s.io/x", "example.com/app=web,k8s.io/x"},
		{"n>5,m<-3", "m<-3,n>5"},
		{"z in (1),!y,x", "x,!y,z in (1)"},
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
			again, err := Parse(sel.String())
			if err != nil {
				t.Fatalf("re-Parse(%q): %v", sel.String(), err)
			}
			if again.String() != sel.String() {
				t.Errorf("round trip: %q != %q", again.String(), sel.String())
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in, wantSub string
	}{
		{"a=b,", "expected a requirement after ','"},
		{",a", `found "," at position 0, expected a key`},
		{"a b", `found "b" at position 2 after key "a"`},
		{"a in b", `key "a": found "b" at position 5, expected '('`},
		{"a in (b", "found end of string, expected a value, ',' or ')'"},
		{"a in (b c)", `found "c" at position 8, expected ',' or ')'`},
		{"a in (b", `invalid label selector "a in (b"`},
		{"!", "expected a key after '!'"},
		{"!a=b", `found "=" at position 2, expected ',' or end of string`},
		{"a=(b)", `found "(" at position 2 after "a=", expected a value`},
		{"a=b=c", `found "=" at position 3`},
		{"-a=b", `key "-a"`},
		{"a/b/c=d", `key "a/b/c"`},
		{"Bad_Prefix/x=y", "prefix part"},
		{strings.Repeat("k", 64) + "=v", "name part must be no more than 63 characters"},
		{"a=" + strings.Repeat("v", 64), "must be no more than 63 characters"},
		{"a=-v", `value "-v"`},
		{"a>b", `operator "gt" needs an integer value, got "b"`},
		{"a in", "expected '('"},
		{"in=a", `found "in" at position 0, expected a key`},
		{"a notin ()x", "expected ',' or end of string"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want error containing %q", tt.in, tt.wantSub)
			}
			if !errors.Is(err, ErrInvalidSelector) {
				t.Errorf("error %v does not wrap ErrInvalidSelector", err)
			}
			if !strings.Contains(err.Error(), tt.wantSub) {
				t.Errorf("error %q does not contain %q", err, tt.wantSub)
			}
		})
	}
}

func TestMatches(t *testing.T) {
	labels := map[string]string{"app": "web", "env": "prod", "empty": "", "n": "7"}
	tests := []struct {
		sel  string
		want bool
	}{
		{"", true},
		{"app=web", true},
		{"app==web", true},
		{"app=db", false},
		{"app!=db", true},
		{"app!=web", false},
		{"missing!=x", true},
		{"missing=x", false},
		{"env in (prod,staging)", true},
		{"env in (dev)", false},
		{"missing in (x)", false},
		{"env notin (prod)", false},
		{"env notin (dev)", true},
		{"missing notin (dev)", true},
		{"app", true},
		{"missing", false},
		{"!app", false},
		{"!missing", true},
		{"empty=", true},
		{"empty", true},
		{"empty in ()", true},
		{"app=", false},
		{"n>5", true},
		{"n>7", false},
		{"n<8", true},
		{"app>1", false},
		{"missing<1", false},
		{"app=web,env=prod", true},
		{"app=web,env=dev", false},
	}
	for _, tt := range tests {
		t.Run(tt.sel, func(t *testing.T) {
			sel, err := Parse(tt.sel)
			if err != nil {
				t.Fatal(err)
			}
			if got := sel.Matches(labels); got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEverythingNothing(t *testing.T) {
	labels := map[string]string{"a": "b"}
	var zero Selector
	for name, s := range map[string]Selector{"zero": zero, "Everything": Everything(), "SelectorFromSet(nil)": SelectorFromSet(nil)} {
		if !s.Empty() || !s.Matches(labels) || !s.Matches(nil) || s.MatchesNothing() {
			t.Errorf("%s: want empty and matching everything", name)
		}
	}
	n := Nothing()
	if n.Empty() || n.Matches(labels) || n.Matches(nil) || !n.MatchesNothing() {
		t.Error("Nothing: want non-empty and matching nothing")
	}
	if n.Add(newRequirement("a", Exists, nil)).Matches(labels) {
		t.Error("Nothing().Add(...) must still match nothing")
	}
}

func TestSelectorFromSet(t *testing.T) {
	set := Set{"b": "2", "a": "1"}
	sel := SelectorFromSet(set)
	if got, want := sel.String(), "a=1,b=2"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if set.String() != "a=1,b=2" {
		t.Errorf("Set.String() = %q", set.String())
	}
	if !sel.Matches(map[string]string{"a": "1", "b": "2", "c": "3"}) {
		t.Error("want match on superset")
	}
	if sel.Matches(map[string]string{"a": "1"}) {
		t.Error("want no match on subset")
	}
	if v, ok := sel.RequiresExactMatch("b"); !ok || v != "2" {
		t.Errorf("RequiresExactMatch(b) = %q, %v", v, ok)
	}
	if _, ok := sel.RequiresExactMatch("c"); ok {
		t.Error("RequiresExactMatch(c) found a value")
	}
	if _, err := ValidatedSelectorFromSet(map[string]string{"ok": "x", "bad key": "y"}); !errors.Is(err, ErrInvalidSelector) || !strings.Contains(err.Error(), `"bad key"`) {
		t.Errorf("ValidatedSelectorFromSet: err = %v", err)
	}
}

func TestNewRequirement(t *testing.T) {
	tests := []struct {
		name    string
		key     string
		op      Operator
		values  []string
		wantErr string
	}{
		{"in ok", "a", In, []string{"x", "y"}, ""},
		{"in empty", "a", In, nil, "needs at least one value"},
		{"equals two", "a", Equals, []string{"x", "y"}, "needs exactly one value"},
		{"exists with value", "a", Exists, []string{"x"}, "takes no values"},
		{"unknown op", "a", Operator("~"), nil, "unsupported operator"},
		{"bad value", "a", NotIn, []string{"ok", "not ok"}, `value "not ok"`},
		{"lt ok", "a", LessThan, []string{"-3"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRequirement(tt.key, tt.op, tt.values)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if r.Key() != tt.key || r.Operator() != tt.op || len(r.Values()) != len(tt.values) {
					t.Errorf("got %v", r)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalidSelector) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "a=b", "a in (b,c),!d", "x notin ()", "a>1,b<2", "a==b,c!=d", "k8s.io/a", "=", "((", "a in (b", "!", "a,,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidSelector) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrInvalidSelector", s, err)
			}
			return
		}
		// What parses must format to something that parses to the same thing.
		again, err := Parse(sel.String())
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its String %q does not parse: %v", s, sel.String(), err)
		}
		if again.String() != sel.String() {
			t.Fatalf("round trip of %q: %q != %q", s, again.String(), sel.String())
		}
		sel.Matches(map[string]string{"a": "b", "k8s.io/a": "1"})
	})
}
