package labels

import (
	"errors"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/types"
)

func TestFromLabelSelector(t *testing.T) {
	tests := []struct {
		name    string
		ls      *types.LabelSelector
		want    string
		match   map[string]string
		noMatch map[string]string
	}{
		{name: "nil matches nothing", ls: nil, want: "", noMatch: map[string]string{}},
		{name: "empty matches everything", ls: &types.LabelSelector{}, want: "", match: map[string]string{"x": "y"}},
		{
			name:    "matchLabels",
			ls:      &types.LabelSelector{MatchLabels: map[string]string{"app": "web", "tier": "fe"}},
			want:    "app=web,tier=fe",
			match:   map[string]string{"app": "web", "tier": "fe", "x": "1"},
			noMatch: map[string]string{"app": "web"},
		},
		{
			name: "expressions",
			ls: &types.LabelSelector{
				MatchLabels: map[string]string{"app": "web"},
				MatchExpressions: []types.LabelSelectorRequirement{
					{Key: "env", Operator: types.LabelSelectorOpIn, Values: []string{"prod", "staging"}},
					{Key: "track", Operator: types.LabelSelectorOpNotIn, Values: []string{"canary"}},
					{Key: "owner", Operator: types.LabelSelectorOpExists},
					{Key: "legacy", Operator: types.LabelSelectorOpDoesNotExist},
				},
			},
			want:    "app=web,env in (prod,staging),!legacy,owner,track notin (canary)",
			match:   map[string]string{"app": "web", "env": "prod", "owner": "me"},
			noMatch: map[string]string{"app": "web", "env": "prod", "owner": "me", "legacy": "1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := FromLabelSelector(tt.ls)
			if err != nil {
				t.Fatal(err)
			}
			if got := sel.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if tt.match != nil && !sel.Matches(tt.match) {
				t.Errorf("does not match %v", tt.match)
			}
			if tt.noMatch != nil && sel.Matches(tt.noMatch) {
				t.Errorf("matches %v", tt.noMatch)
			}
		})
	}
	if sel, _ := FromLabelSelector(nil); !sel.MatchesNothing() {
		t.Error("nil selector: want Nothing")
	}
}

func TestFromLabelSelectorErrors(t *testing.T) {
	tests := []struct {
		name    string
		ls      *types.LabelSelector
		wantSub string
	}{
		{"bad operator", &types.LabelSelector{MatchExpressions: []types.LabelSelectorRequirement{{Key: "a", Operator: "Gt", Values: []string{"1"}}}}, `matchExpressions[0]: "Gt" is not a valid label selector operator`},
		{"in without values", &types.LabelSelector{MatchExpressions: []types.LabelSelectorRequirement{{Key: "a", Operator: types.LabelSelectorOpIn}}}, "needs at least one value"},
		{"exists with values", &types.LabelSelector{MatchExpressions: []types.LabelSelectorRequirement{{Key: "a", Operator: types.LabelSelectorOpExists, Values: []string{"x"}}}}, "takes no values"},
		{"bad key", &types.LabelSelector{MatchLabels: map[string]string{"a b": "c"}}, `matchLabels: key "a b"`},
		{"bad value", &types.LabelSelector{MatchLabels: map[string]string{"a": "c d"}}, `value "c d"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromLabelSelector(tt.ls)
			if err == nil || !errors.Is(err, ErrInvalidSelector) || !strings.Contains(err.Error(), tt.wantSub) {
				t.Errorf("err = %v, want ErrInvalidSelector containing %q", err, tt.wantSub)
			}
		})
	}
}
