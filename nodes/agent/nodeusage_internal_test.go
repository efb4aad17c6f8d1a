package agent

import (
	"errors"
	"testing"
)

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    hostCPU
		wantErr bool
	}{
		{"two cpus", "cpu  100 5 50 800 20 1 2 3 40 0\ncpu0 50 2 25 400 10 0 1 1 20 0\ncpu1 50 3 25 400 10 1 1 2 20 0\nintr 1 2\n",
			hostCPU{busy: 100 + 5 + 50 + 1 + 2 + 3, total: 100 + 5 + 50 + 800 + 20 + 1 + 2 + 3, cpus: 2}, false},
		{"old kernel, four fields", "cpu 10 0 10 80\ncpu0 10 0 10 80\n", hostCPU{busy: 20, total: 100, cpus: 1}, false},
		{"no cpu lines", "intr 1\n", hostCPU{}, true},
		{"bad number", "cpu x 0 0 0\ncpu0 1 1 1 1\n", hostCPU{}, true},
		{"short line", "cpu 1 2\ncpu0 1 2\n", hostCPU{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseProcStat([]byte(tc.in))
			if tc.wantErr {
				if !errors.Is(err, errProcStat) {
					t.Fatalf("err %v, want errProcStat", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestParseMemUsed(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int64
		wantErr bool
	}{
		{"linux", "MemTotal:       24684084 kB\nMemFree:         1000 kB\nMemAvailable:   23540776 kB\n", (24684084 - 23540776) << 10, false},
		{"no MemAvailable", "MemTotal: 100 kB\nMemFree: 50 kB\n", 0, true},
		{"other unit", "MemTotal: 100 MB\nMemAvailable: 50 kB\n", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseMemUsed([]byte(tc.in))
			if tc.wantErr {
				if !errors.Is(err, errProcStat) {
					t.Fatalf("err %v, want errProcStat", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

func TestHostCPUMillis(t *testing.T) {
	tests := []struct {
		name      string
		prev, cur hostCPU
		want      int64
		wantOK    bool
	}{
		{"one core of two busy", hostCPU{busy: 100, total: 1000, cpus: 2}, hostCPU{busy: 200, total: 1200, cpus: 2}, 1000, true},
		{"idle", hostCPU{busy: 100, total: 1000, cpus: 4}, hostCPU{busy: 100, total: 1400, cpus: 4}, 0, true},
		{"all busy", hostCPU{busy: 0, total: 0, cpus: 2}, hostCPU{busy: 50, total: 50, cpus: 2}, 2000, true},
		{"no time passed", hostCPU{busy: 1, total: 10, cpus: 2}, hostCPU{busy: 1, total: 10, cpus: 2}, 0, false},
		{"counters went back", hostCPU{busy: 10, total: 100, cpus: 2}, hostCPU{busy: 5, total: 200, cpus: 2}, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := hostCPUMillis(tc.prev, tc.cur)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("got %d %v, want %d %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}
