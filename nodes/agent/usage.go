package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/hpa"
	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/sdk"
)

// DefaultUsageInterval is how often the running containers' Stats are
// sampled for the Pods' usage annotation (Config.UsageInterval).
const DefaultUsageInterval = 15 * time.Second

// Write throttling of the usage annotation: a Pod's usage is written when
// a value moved by more than usageChange of the last written one (and by
// more than the floors, so that an idle Pod flickering between 0m and 2m
// is not rewritten every interval), and at least every usageRefresh.
const (
	usageChange      = 0.05
	usageRefresh     = 60 * time.Second
	usageCPUFloor    = 5       // millicores
	usageMemoryFloor = 1 << 20 // bytes
)

// cpuSample is a container's cumulative CPU time at an instant.
type cpuSample struct {
	nanos uint64
	at    time.Time
}

// podUsage is a Pod's summed use: CPU in millicores, memory in bytes.
type podUsage struct {
	cpuMilli, memoryBytes int64
}

// add adds u to the sum.
func (p *podUsage) add(u podUsage) {
	p.cpuMilli += u.cpuMilli
	p.memoryBytes += u.memoryBytes
}

// resources is the usage as a ResourceList (metrics.k8s.io's usage).
func (p podUsage) resources() types.ResourceList {
	return types.ResourceList{
		types.ResourceCPU:    types.NewMilliQuantity(p.cpuMilli, types.DecimalSI),
		types.ResourceMemory: types.NewQuantity(p.memoryBytes, types.BinarySI),
	}
}

// podSample is one round's usage of a Pod: its total, each running
// container's (by container name) and the longest CPU rate window.
type podSample struct {
	total      podUsage
	containers map[string]podUsage
	window     time.Duration
}

// usageWrite is the last usage written on a Pod.
type usageWrite struct {
	usage      podUsage
	containers int
	at         time.Time
}

// usageSampler is the state of the usage loop; only its goroutine uses it.
type usageSampler struct {
	cpu     map[string]cpuSample  // last sample, by container ID
	written map[string]usageWrite // by Pod uid
	node    nodeSampler
}

// startUsage runs the usage loop until ctx ends (not at all when
// Config.UsageInterval is negative): every interval it samples the
// running containers' Stats and publishes each Pod's usage in the
// hpa.UsageAnnotation, which the HorizontalPodAutoscaler reads.
func (a *Agent) startUsage(ctx context.Context) {
	if a.cfg.UsageInterval < 0 {
		return
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		s := &usageSampler{cpu: map[string]cpuSample{}, written: map[string]usageWrite{}}
		t := time.NewTicker(a.cfg.UsageInterval)
		defer t.Stop()
		a.sampleUsage(ctx, s) // the first CPU samples, to take rates from
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				a.sampleUsage(ctx, s)
			}
		}
	}()
}

// sampleUsage takes one round of Stats of every running container and
// writes the usage of the Pods whose every running container has a CPU
// rate (two samples) and whose usage changed materially; then the Node's
// (nodeusage.go).
func (a *Agent) sampleUsage(ctx context.Context, s *usageSampler) {
	pods := map[string]*podSample{} // by uid
	partial := map[string]bool{}    // a running container has no CPU rate yet
	seen := map[string]bool{}
	for _, c := range a.listAll(ctx) {
		if c.info.State != runtimes.StateRunning {
			continue
		}
		uid, id := c.info.Labels[LabelPodUID], c.info.ID
		u := pods[uid]
		if u == nil {
			u = &podSample{containers: map[string]podUsage{}}
			pods[uid] = u
		}
		st, err := c.rt.Stats(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !errors.Is(err, runtimes.ErrNotFound) {
				a.log.Debug("container stats", "id", id, "err", err)
			}
			partial[uid] = true
			continue
		}
		if st.Timestamp.IsZero() {
			st.Timestamp = a.cfg.Now()
		}
		seen[id] = true
		prev, ok := s.cpu[id]
		s.cpu[id] = cpuSample{nanos: st.CPUNanos, at: st.Timestamp}
		if !ok || !st.Timestamp.After(prev.at) || st.CPUNanos < prev.nanos {
			partial[uid] = true
			continue
		}
		wall := st.Timestamp.Sub(prev.at)
		cu := podUsage{cpuMilli: cpuMillis(st.CPUNanos-prev.nanos, wall), memoryBytes: int64(st.MemoryBytes)}
		u.total.add(cu)
		name := c.info.Labels[LabelContainer]
		sum := u.containers[name] // two instances of a name: a restart overlapping its predecessor
		sum.add(cu)
		u.containers[name] = sum
		u.window = max(u.window, wall)
	}
	for id := range s.cpu {
		if !seen[id] {
			delete(s.cpu, id)
		}
	}
	for uid := range s.written {
		if _, ok := pods[uid]; !ok {
			delete(s.written, uid)
		}
	}
	now := a.cfg.Now()
	var node podUsage // the sum of the Pods, for a node without /proc
	nodeComplete := true
	for uid, u := range pods {
		if partial[uid] {
			nodeComplete = false
			continue
		}
		node.add(u.total)
		if w, ok := s.written[uid]; ok && now.Sub(w.at) < usageRefresh && !usageChanged(w.usage, u.total) &&
			w.containers == len(u.containers) {
			continue
		}
		objs, _ := a.pods.Lister().ByIndex(indexUID, uid)
		if len(objs) == 0 {
			continue
		}
		pod, ok := objs[0].(*types.Pod)
		if !ok || pod.DeletionTimestamp != nil {
			continue
		}
		if err := a.writeUsage(ctx, pod, u, now); err != nil {
			if ctx.Err() == nil {
				a.log.Warn("write pod usage", "pod", sdk.KeyFunc(pod), "err", err)
			}
			continue
		}
		s.written[uid] = usageWrite{usage: u.total, containers: len(u.containers), at: now}
	}
	var podSum *podUsage
	if nodeComplete {
		podSum = &node
	}
	a.sampleNodeUsage(ctx, &s.node, podSum, now)
}

// cpuMillis is the CPU rate, in millicores, of cpu nanoseconds of CPU
// time used over wall time, rounded to the nearest millicore.
func cpuMillis(cpu uint64, wall time.Duration) int64 {
	if wall <= 0 {
		return 0
	}
	return int64((cpu*1000 + uint64(wall)/2) / uint64(wall))
}

// usageChanged reports whether cur differs materially from the last
// written usage old.
func usageChanged(old, cur podUsage) bool {
	return moved(old.cpuMilli, cur.cpuMilli, usageCPUFloor) ||
		moved(old.memoryBytes, cur.memoryBytes, usageMemoryFloor)
}

// moved reports whether cur is more than floor and more than usageChange
// (relative) away from old.
func moved(old, cur, floor int64) bool {
	d := cur - old
	if d < 0 {
		d = -d
	}
	return d > floor && float64(d) > usageChange*float64(old)
}

// writeUsage sets the Pod's usage annotations with a merge patch of its
// metadata: the total in hpa.UsageAnnotation, which the autoscaler reads,
// and each container's in types.AnnotationUsageSample, which the metrics
// API serves (kubectl top). The patch has no resourceVersion (a status
// write in between does not make it fail) but carries the uid as a
// precondition, so that a Pod re-created under the same name is left
// alone.
func (a *Agent) writeUsage(ctx context.Context, pod *types.Pod, u *podSample, now time.Time) error {
	sample := &types.UsageSample{Timestamp: types.NewTime(now.UTC().Truncate(time.Second)),
		Window: types.Duration{Duration: u.window.Round(time.Millisecond)}}
	// In the Pod's order (init containers first, as they start), then any
	// name the Pod no longer has.
	for _, c := range append(slices.Clone(pod.Spec.InitContainers), pod.Spec.Containers...) {
		if cu, ok := u.containers[c.Name]; ok {
			sample.Containers = append(sample.Containers, types.ContainerMetrics{Name: c.Name, Usage: cu.resources()})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(u.containers)) {
		if !slices.ContainsFunc(sample.Containers, func(c types.ContainerMetrics) bool { return c.Name == name }) {
			sample.Containers = append(sample.Containers, types.ContainerMetrics{Name: name, Usage: u.containers[name].resources()})
		}
	}
	patch, err := json.Marshal(map[string]any{
		"metadata": map[string]any{
			"uid": pod.UID,
			"annotations": map[string]string{
				hpa.UsageAnnotation:         hpa.FormatUsage(u.total.cpuMilli, u.total.memoryBytes),
				types.AnnotationUsageSample: sample.String(),
			},
		},
	})
	if err != nil {
		return fmt.Errorf("encode usage patch: %w", err)
	}
	_, err = sdk.Typed[*types.Pod](a.client).Namespace(pod.Namespace).Patch(ctx, pod.Name, sdk.MergePatch, patch)
	if err != nil && !sdk.IsNotFound(err) && !sdk.IsConflict(err) {
		return fmt.Errorf("patch usage of pod %q in namespace %q: %w", pod.Name, pod.Namespace, err)
	}
	return nil
}
