package framework_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sched/framework"
	. "github.com/wharfhq/wharf/sched/internal/schedtest"
)

// BenchmarkScheduleCore measures the pure scheduling core, with no API:
// the same cluster and Pods as sched's BenchmarkScheduleThroughput, each
// Pod scheduled on a Snapshot of the Cache and assumed there, as the
// scheduling loop does. One op is one Pod.
func BenchmarkScheduleCore(b *testing.B) {
	for _, numNodes := range []int{1000, 5000} {
		b.Run(fmt.Sprintf("nodes=%d", numNodes), func(b *testing.B) {
			c := framework.NewCache()
			for i := range numNodes {
				c.AddNode(Node(fmt.Sprintf("node-%05d", i)).Capacity("32", "128Gi", "110").Zone(fmt.Sprintf("zone-%d", i%3)).Obj())
			}
			const distinct = 10000
			pods := make([]*types.Pod, distinct)
			for i := range pods {
				pods[i] = Pod(fmt.Sprintf("pod-%05d", i)).
					Req(fmt.Sprintf("%dm", 100+100*(i%5)), fmt.Sprintf("%dMi", 128<<(i%3))).
					Owner(fmt.Sprintf("rs-%03d", i%100)).Label("app", fmt.Sprintf("app-%03d", i%100)).Obj()
			}
			p := defaultProfile(b, framework.ProfileOptions{})
			snap := framework.NewEmptySnapshot()
			ctx := context.Background()
			cpu0 := processCPU()
			b.ResetTimer()
			for i := range b.N {
				pod := pods[i%distinct]
				if i >= distinct && i%distinct == 0 {
					b.StopTimer()
					for _, old := range pods {
						c.RemovePod(old) // forget the previous round's assumptions
					}
					b.StartTimer()
				}
				c.UpdateSnapshot(snap)
				pi := framework.NewPodInfo(pod)
				res, err := p.Schedule(ctx, snap, pi)
				if err != nil {
					b.Fatal(err)
				}
				if err := c.AssumePod(pi, res.Node); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pods/s")
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/pod")
		})
	}
}

// processCPU returns the CPU time (user and system) the process has used:
// on a shared machine, CPU per Pod is steadier than Pods per second.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
