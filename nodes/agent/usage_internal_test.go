package agent

import (
	"testing"
	"time"
)

func TestCPUMillis(t *testing.T) {
	for _, tc := range []struct {
		name string
		cpu  uint64
		wall time.Duration
		want int64
	}{
		{"one core", uint64(time.Second), time.Second, 1000},
		{"quarter core over 15s", uint64(3750 * time.Millisecond), 15 * time.Second, 250},
		{"rounded to nearest", uint64(1500 * time.Microsecond), time.Second, 2},
		{"two cores", uint64(30 * time.Second), 15 * time.Second, 2000},
		{"idle", 0, time.Second, 0},
		{"no wall time", 5, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cpuMillis(tc.cpu, tc.wall); got != tc.want {
				t.Errorf("cpuMillis(%d, %v) = %d, want %d", tc.cpu, tc.wall, got, tc.want)
			}
		})
	}
}

func TestUsageChanged(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old, cur podUsage
		want     bool
	}{
		{"same", podUsage{400, 80 << 20}, podUsage{400, 80 << 20}, false},
		{"cpu +2.5%", podUsage{400, 80 << 20}, podUsage{410, 80 << 20}, false},
		{"cpu +10%", podUsage{400, 80 << 20}, podUsage{440, 80 << 20}, true},
		{"cpu -10%", podUsage{400, 80 << 20}, podUsage{360, 80 << 20}, true},
		{"idle flicker under the floor", podUsage{0, 80 << 20}, podUsage{3, 80 << 20}, false},
		{"from idle past the floor", podUsage{0, 80 << 20}, podUsage{50, 80 << 20}, true},
		{"memory +1%", podUsage{400, 100 << 20}, podUsage{400, 101 << 20}, false},
		{"memory +20%", podUsage{400, 100 << 20}, podUsage{400, 120 << 20}, true},
		{"small memory under the floor", podUsage{400, 512 << 10}, podUsage{400, 1 << 20}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := usageChanged(tc.old, tc.cur); got != tc.want {
				t.Errorf("usageChanged(%+v, %+v) = %v, want %v", tc.old, tc.cur, got, tc.want)
			}
		})
	}
}
