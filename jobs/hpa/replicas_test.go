package hpa

import (
	"errors"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
)

func TestReplicaProposal(t *testing.T) {
	s := func(usage, target float64) sample {
		return sample{usage: usage, target: target, ready: true, hasUsage: true}
	}
	missing := sample{target: 100}
	unready := sample{usage: 500, target: 100, hasUsage: true}
	tests := []struct {
		name    string
		current int32
		samples []sample
		want    int32
	}{
		{"at target", 2, []sample{s(100, 100), s(100, 100)}, 2},
		{"within tolerance up", 2, []sample{s(109, 100), s(109, 100)}, 2},
		{"within tolerance down", 2, []sample{s(91, 100), s(91, 100)}, 2},
		{"double", 2, []sample{s(200, 100), s(200, 100)}, 4},
		{"half", 4, []sample{s(50, 100), s(50, 100), s(50, 100), s(50, 100)}, 2},
		{"rounds up", 3, []sample{s(150, 100), s(100, 100), s(100, 100)}, 4},
		{"missing pod counts as at target on scale-down", 3, []sample{s(10, 100), s(10, 100), missing}, 2},
		{"missing pod counts as idle on scale-up", 2, []sample{s(300, 100), missing}, 3},
		{"unready pod counts as idle on scale-up", 2, []sample{s(300, 100), unready}, 3},
		{"unready pod does not block scale-down", 3, []sample{s(10, 100), s(10, 100), unready}, 1},
		{"assumptions cancel the change", 2, []sample{s(115, 100), missing}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := replicaProposal(tt.current, tt.samples); got != tt.want {
				t.Fatalf("replicaProposal = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestStabilize(t *testing.T) {
	now := time.Unix(10000, 0)
	recs := []recommendation{{now.Add(-400 * time.Second), 9}, {now.Add(-200 * time.Second), 6}, {now.Add(-10 * time.Second), 4}}
	tests := []struct {
		name             string
		current, propose int32
		up, down         time.Duration
		want             int32
	}{
		{"scale-down held by the window's highest", 6, 2, 0, 300 * time.Second, 6},
		{"old recommendations expire", 6, 2, 0, 5 * time.Second, 2},
		{"scale-up immediate with no up window", 3, 8, 0, 300 * time.Second, 8},
		{"scale-up held by the up window's lowest", 3, 8, 60 * time.Second, 300 * time.Second, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stabilize(tt.current, tt.propose, recs, tt.up, tt.down, now); got != tt.want {
				t.Fatalf("stabilize = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestScalingPolicies(t *testing.T) {
	now := time.Unix(10000, 0)
	maxSel, minSel := types.MaxChangePolicySelect, types.MinChangePolicySelect
	pods4 := types.HPAScalingPolicy{Type: types.PodsScalingPolicy, Value: 4, PeriodSeconds: 60}
	pct100 := types.HPAScalingPolicy{Type: types.PercentScalingPolicy, Value: 100, PeriodSeconds: 60}
	pct50 := types.HPAScalingPolicy{Type: types.PercentScalingPolicy, Value: 50, PeriodSeconds: 60}
	recent := []scaleEvent{{now.Add(-30 * time.Second), 2}, {now.Add(-120 * time.Second), 10}}
	tests := []struct {
		name   string
		up     bool
		cur    int32
		events []scaleEvent
		rules  types.HPAScalingRules
		want   int32
	}{
		{"up max of pods and percent", true, 2, nil, types.HPAScalingRules{SelectPolicy: &maxSel, Policies: []types.HPAScalingPolicy{pods4, pct100}}, 6},
		{"up min of pods and percent", true, 2, nil, types.HPAScalingRules{SelectPolicy: &minSel, Policies: []types.HPAScalingPolicy{pods4, pct100}}, 4},
		{"up counts changes in the period", true, 4, recent, types.HPAScalingRules{SelectPolicy: &maxSel, Policies: []types.HPAScalingPolicy{pods4}}, 6},
		{"up disabled", true, 4, nil, types.HPAScalingRules{SelectPolicy: ptr(types.DisabledPolicySelect), Policies: []types.HPAScalingPolicy{pods4}}, 4},
		{"down percent", false, 10, nil, types.HPAScalingRules{SelectPolicy: &maxSel, Policies: []types.HPAScalingPolicy{pct50}}, 5},
		{"down counts removals in the period", false, 5, []scaleEvent{{now.Add(-10 * time.Second), -5}}, types.HPAScalingRules{SelectPolicy: &maxSel, Policies: []types.HPAScalingPolicy{pct50}}, 5},
		{"up counts removals in the period too", true, 5, []scaleEvent{{now.Add(-10 * time.Second), -5}}, types.HPAScalingRules{SelectPolicy: &maxSel, Policies: []types.HPAScalingPolicy{pct100}}, 20},
		{"down counts additions in the period too", false, 8, []scaleEvent{{now.Add(-10 * time.Second), 4}}, types.HPAScalingRules{SelectPolicy: &maxSel, Policies: []types.HPAScalingPolicy{pct50}}, 2},
		{"down pods policy min of two", false, 10, nil, types.HPAScalingRules{SelectPolicy: &minSel, Policies: []types.HPAScalingPolicy{{Type: types.PodsScalingPolicy, Value: 1, PeriodSeconds: 60}, pct50}}, 9},
		{"down disabled", false, 10, nil, types.HPAScalingRules{SelectPolicy: ptr(types.DisabledPolicySelect), Policies: []types.HPAScalingPolicy{pct50}}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got int32
			if tt.up {
				got = scaleUpLimit(tt.cur, tt.events, tt.rules, now)
			} else {
				got = scaleDownLimit(tt.cur, tt.events, tt.rules, now)
			}
			if got != tt.want {
				t.Fatalf("limit = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestParseUsage(t *testing.T) {
	tests := []struct {
		in      string
		cpu     int64 // milli
		mem     int64
		wantErr bool
	}{
		{"cpu=120m,memory=30Mi", 120, 30 << 20, false},
		{" cpu=1 , memory=1000", 1000, 1000, false},
		{FormatUsage(250, 4096), 250, 4096, false},
		{"cpu", 0, 0, true},
		{"cpu=lots", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			rl, err := ParseUsage(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrBadUsage) {
					t.Fatalf("err %v, want ErrBadUsage", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cpu, mem := rl[types.ResourceCPU], rl[types.ResourceMemory]
			if cpu.MilliValue() != tt.cpu || mem.Value() != tt.mem {
				t.Fatalf("cpu %dm memory %d, want %dm %d", cpu.MilliValue(), mem.Value(), tt.cpu, tt.mem)
			}
		})
	}
}
