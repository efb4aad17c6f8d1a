package agent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

// The Node's usage, which the metrics API serves as NodeMetrics (kubectl
// top node): the whole machine's, read from /proc as metrics-server reads
// the node's root cgroup, so that it counts the agent, the system and
// anything else the machine runs, not only the Pods. CPU is the busy share
// of /proc/stat's jiffies between two rounds times the number of CPUs;
// memory is MemTotal minus MemAvailable of /proc/meminfo. Where /proc
// cannot be read (not Linux), the node's usage is the sum of its Pods'.
// Several agents on one machine (tests, demos) each report the machine.

// Write throttling of the Node's usage: wider floors than a Pod's, since a
// whole machine's use moves all the time.
const (
	nodeUsageCPUFloor    = 50       // millicores
	nodeUsageMemoryFloor = 16 << 20 // bytes
)

// procDir is where the machine's statistics are read.
const procDir = "/proc"

// hostCPU is a reading of /proc/stat: jiffies spent busy and in all, and
// the number of CPUs.
type hostCPU struct {
	busy, total uint64
	cpus        int
}

// nodeSampler is the node part of the usage loop's state.
type nodeSampler struct {
	prev     hostCPU
	prevAt   time.Time
	havePrev bool
	written  usageWrite
	wrote    bool
}

// errProcStat is returned for a /proc/stat or /proc/meminfo that does not
// read as Linux writes it.
var errProcStat = errors.New("unexpected /proc format")

// parseProcStat reads the "cpu" and "cpuN" lines of /proc/stat.
func parseProcStat(b []byte) (hostCPU, error) {
	var h hostCPU
	found := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || !strings.HasPrefix(f[0], "cpu") {
			continue
		}
		if f[0] != "cpu" {
			h.cpus++
			continue
		}
		if len(f) < 5 {
			return h, fmt.Errorf("%w: /proc/stat cpu line %q", errProcStat, sc.Text())
		}
		// user nice system idle iowait irq softirq steal (guest time is
		// already counted in user and nice).
		for i, v := range f[1:min(len(f), 9)] {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return h, fmt.Errorf("%w: /proc/stat cpu field %q", errProcStat, v)
			}
			h.total += n
			if i != 3 && i != 4 { // idle, iowait
				h.busy += n
			}
		}
		found = true
	}
	if !found || h.cpus == 0 {
		return h, fmt.Errorf("%w: /proc/stat has no cpu lines", errProcStat)
	}
	return h, nil
}

// parseMemUsed is MemTotal minus MemAvailable of /proc/meminfo, in bytes.
func parseMemUsed(b []byte) (int64, error) {
	var total, avail int64 = -1, -1
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "MemTotal" && k != "MemAvailable") {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("%w: /proc/meminfo %s %q", errProcStat, k, v)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%w: /proc/meminfo %s %q", errProcStat, k, v)
		}
		if k == "MemTotal" {
			total = n << 10
		} else {
			avail = n << 10
		}
	}
	if total < 0 || avail < 0 {
		return 0, fmt.Errorf("%w: /proc/meminfo lacks MemTotal or MemAvailable", errProcStat)
	}
	return total - avail, nil
}

// hostCPUMillis is the machine's CPU use, in millicores, between two
// readings.
func hostCPUMillis(prev, cur hostCPU) (int64, bool) {
	if cur.total <= prev.total || cur.busy < prev.busy {
		return 0, false
	}
	busy, total := cur.busy-prev.busy, cur.total-prev.total
	return int64((busy*uint64(cur.cpus)*1000 + total/2) / total), true
}

// readHost reads the machine's CPU counters and used memory.
func readHost() (hostCPU, int64, error) {
	stat, err := os.ReadFile(procDir + "/stat")
	if err != nil {
		return hostCPU{}, 0, err
	}
	cpu, err := parseProcStat(stat)
	if err != nil {
		return hostCPU{}, 0, err
	}
	mem, err := os.ReadFile(procDir + "/meminfo")
	if err != nil {
		return hostCPU{}, 0, err
	}
	used, err := parseMemUsed(mem)
	return cpu, used, err
}

// sampleNodeUsage measures the machine (or takes podSum, the sum of the
// Pods' usage, when /proc cannot be read; nil when a Pod's is not known
// yet) and writes the Node's usage sample when it moved materially or a
// minute passed.
func (a *Agent) sampleNodeUsage(ctx context.Context, s *nodeSampler, podSum *podUsage, now time.Time) {
	var u podUsage
	var window time.Duration
	cpu, mem, err := readHost()
	switch {
	case err == nil:
		prev, prevAt, ok := s.prev, s.prevAt, s.havePrev
		s.prev, s.prevAt, s.havePrev = cpu, now, true
		if !ok {
			return
		}
		m, ok := hostCPUMillis(prev, cpu)
		if !ok {
			return
		}
		u, window = podUsage{cpuMilli: m, memoryBytes: mem}, now.Sub(prevAt)
	case podSum != nil:
		u, window = *podSum, a.cfg.UsageInterval
	default:
		return
	}
	if s.wrote && now.Sub(s.written.at) < usageRefresh &&
		!moved(s.written.usage.cpuMilli, u.cpuMilli, nodeUsageCPUFloor) &&
		!moved(s.written.usage.memoryBytes, u.memoryBytes, nodeUsageMemoryFloor) {
		return
	}
	sample := &types.UsageSample{Timestamp: types.NewTime(now.UTC().Truncate(time.Second)),
		Window: types.Duration{Duration: window.Round(time.Millisecond)}, Usage: u.resources()}
	patch, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"annotations": map[string]string{types.AnnotationUsageSample: sample.String()}},
	})
	if err != nil {
		return
	}
	_, err = sdk.Typed[*types.Node](a.client).Patch(ctx, a.cfg.NodeName, sdk.MergePatch, patch)
	switch {
	case err == nil:
		s.written, s.wrote = usageWrite{usage: u, at: now}, true
	case sdk.IsNotFound(err): // not registered yet
	case ctx.Err() == nil:
		a.log.Warn("write node usage", "err", err)
	}
}
