package test

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/sdk"
)

// deployBenchWait bounds each phase of BenchmarkDeploy1000; it is a safety
// net against a stuck rollout, not a timed assertion.
const deployBenchWait = 20 * time.Minute

// BenchmarkDeploy1000 measures a Deployment of 1,000 Wasm replicas on one
// `wharf up` (started with --max-pods 1100): from the Deployment's create
// call to all 1,000 Pods available, then from an image change (a copy of
// the module under another path) to all 1,000 updated and available with
// no old Pod left. The floor, measured on the same server just before, is
// 1,000 Pods of the same module created straight through the SDK (16
// requests in flight) with spec.nodeName set, timed to all Ready: no
// controller, no scheduler, only the API, the agent and the runtime.
// Each iteration is one floor, one Deployment life and the teardowns.
// Each phase also reports the CPU the `wharf up` process used (cores), and
// the roll the fewest Ready and most live Pods an informer saw (the
// default RollingUpdate allows no fewer than 75% and no more than 125%).
// WHARF_BENCH_REPLICAS sets another size (--max-pods is 110% of it, or
// WHARF_BENCH_MAX_PODS); with -v the rollout's progress is logged.
//
//	go test -run '^$' -bench BenchmarkDeploy1000 -benchtime 1x -count 3 -timeout 60m ./test/
func BenchmarkDeploy1000(b *testing.B) {
	n := 1000
	if v := os.Getenv("WHARF_BENCH_REPLICAS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("WHARF_BENCH_REPLICAS=%q: want a positive whole number", v)
		}
	}
	maxPods := n + n/10
	if v := os.Getenv("WHARF_BENCH_MAX_PODS"); v != "" {
		var err error
		if maxPods, err = strconv.Atoi(v); err != nil || maxPods < n {
			b.Fatalf("WHARF_BENCH_MAX_PODS=%q: want a whole number of at least %d", v, n)
		}
	}
	s := startServer(b, b.TempDir(), "--max-pods", strconv.Itoa(maxPods), "--runtimes", "wasm", "--log-level", "warn")
	client, err := sdk.New(s.URL)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	v1, v2 := filepath.Join(dir, "sleep-v1.wasm"), filepath.Join(dir, "sleep-v2.wasm")
	for _, p := range []string{v1, v2} {
		if err := os.WriteFile(p, sleepModule(), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := &deployBench{b: b, s: s, client: client, n: n}
	db.waitNodeReady(ctx)
	// One Pod first, so that the module's compilation (cached by digest,
	// the same for both files) is not in the figures.
	db.floor(ctx, "warm", 1, "file://"+v1)

	var floorS, readyS, rollS, floorC, readyC, rollC, rss, minReady, maxLive []float64
	for b.Loop() {
		fl := db.floor(ctx, "floor", n, "file://"+v1)
		r := db.deployment(ctx, "file://"+v1, "file://"+v2)
		floorS, readyS, rollS = append(floorS, fl.wall.Seconds()), append(readyS, r.ready.wall.Seconds()), append(rollS, r.roll.wall.Seconds())
		floorC, readyC, rollC = append(floorC, fl.cores), append(readyC, r.ready.cores), append(rollC, r.roll.cores)
		rss = append(rss, r.rssMiB)
		minReady, maxLive = append(minReady, float64(r.rollMinReady)), append(maxLive, float64(r.rollMaxLive))
		b.Logf("replicas %d: floor %.2fs (%.2f cores), create→available %.2fs (%.2f cores), roll %.2fs (%.2f cores, Pods Ready ≥ %d, live ≤ %d), server RSS %.0f MiB at all available",
			n, fl.wall.Seconds(), fl.cores, r.ready.wall.Seconds(), r.ready.cores, r.roll.wall.Seconds(), r.roll.cores, r.rollMinReady, r.rollMaxLive, r.rssMiB)
	}
	b.ReportMetric(median(floorS), "floor-s")
	b.ReportMetric(median(readyS), "ready-s")
	b.ReportMetric(median(rollS), "roll-s")
	b.ReportMetric(float64(n)/median(readyS), "ready-pods/s")
	b.ReportMetric(float64(n)/median(rollS), "roll-pods/s")
	b.ReportMetric(median(readyS)/median(floorS), "x-floor-ready")
	b.ReportMetric(median(rollS)/median(floorS), "x-floor-roll")
	b.ReportMetric(median(floorC), "floor-cores")
	b.ReportMetric(median(readyC), "ready-cores")
	b.ReportMetric(median(rollC), "roll-cores")
	b.ReportMetric(median(rss), "server-RSS-MiB")
	b.ReportMetric(slices.Min(minReady), "roll-min-ready")
	b.ReportMetric(slices.Max(maxLive), "roll-max-live")
	b.ReportMetric(0, "ns/op") // whole iterations include teardowns: not a figure
}

// phase is one timed part of an iteration: its wall time and the CPU
// the `wharf up` process used meanwhile, in cores (CPU seconds per
// second; the machine has 2).
type phase struct {
	wall  time.Duration
	cores float64
}

// timed runs fn and measures it as a phase.
func (db *deployBench) timed(fn func()) phase {
	pid := db.s.cmd.Process.Pid
	cpu0, start := processCPUSeconds(pid), time.Now()
	fn()
	wall := time.Since(start)
	return phase{wall: wall, cores: (processCPUSeconds(pid) - cpu0) / wall.Seconds()}
}

// deployBench is the state of BenchmarkDeploy1000.
type deployBench struct {
	b      *testing.B
	s      *wharfServer
	client *sdk.Client
	n      int
}

const benchNode = "e2e-node" // startServer's --node-name

func (db *deployBench) waitNodeReady(ctx context.Context) {
	db.waitFor(ctx, "node Ready", func() (bool, string) {
		nd, err := sdk.Typed[*types.Node](db.client).Get(ctx, benchNode)
		if err != nil {
			return false, err.Error()
		}
		for _, c := range nd.Status.Conditions {
			if c.Type == types.NodeReady && c.Status == types.ConditionTrue {
				return true, ""
			}
		}
		return false, "not Ready"
	})
}

// podSpec is the Pod of both measurements: the sleeping module with a
// 1 MiB memory limit (the module has 1 page of 64 KiB).
func podSpec(image string) types.PodSpec {
	wasm := "wasm"
	return types.PodSpec{
		RuntimeClassName: &wasm,
		Containers: []types.Container{{
			Name: "sleep", Image: image,
			Resources: types.ResourceRequirements{Limits: types.ResourceList{types.ResourceMemory: types.MustParse("1Mi")}},
		}},
	}
}

// floor creates n Pods named prefix-N bound to the node, 16 creates in
// flight, and returns the phase from the first create to all Ready; then
// deletes them and waits until they are gone (not timed).
func (db *deployBench) floor(ctx context.Context, prefix string, n int, image string) phase {
	pods := sdk.Typed[*types.Pod](db.client).Namespace("default")
	sel := "bench=" + prefix
	pid := db.s.cmd.Process.Pid
	var (
		start time.Time
		cpu0  float64
		took  phase
		done  = make(chan struct{})
	)
	pt := db.trackPods(ctx, sel, func(pt *podTracker) {
		if (pt.failed != "" || pt.ready == n) && took.wall == 0 {
			took.wall = time.Since(start)
			took.cores = (processCPUSeconds(pid) - cpu0) / took.wall.Seconds()
			close(done)
		}
	})
	defer pt.stop()
	pt.do(func() { cpu0, start = processCPUSeconds(pid), time.Now() })
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		cerr    error
	)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)); i <= n; i = int(next.Add(1)) {
				spec := podSpec(image)
				spec.NodeName = benchNode
				p := &types.Pod{ObjectMeta: types.ObjectMeta{Name: fmt.Sprintf("%s-%d", prefix, i), Labels: map[string]string{"bench": prefix}}, Spec: spec}
				if _, err := pods.Create(ctx, p); err != nil {
					errOnce.Do(func() { cerr = err })
					return
				}
			}
		}()
	}
	select {
	case <-done:
	case <-time.After(deployBenchWait):
		var got int
		pt.do(func() { got = pt.ready })
		db.b.Fatalf("%s: %d of %d Pods Ready after %v\n%s", prefix, got, n, deployBenchWait, db.tail())
	}
	pt.stop()
	var why string
	var elapsed phase
	pt.do(func() { why, elapsed = pt.failed, took })
	if why != "" {
		db.b.Fatalf("%s: %s", prefix, why)
	}
	wg.Wait()
	if cerr != nil {
		db.b.Fatalf("%s: create: %v", prefix, cerr)
	}
	del := time.Now()
	if err := pods.DeleteCollection(ctx, types.DeleteOptions{}, sdk.ListOptions{LabelSelector: sel}); err != nil {
		db.b.Fatalf("%s: delete: %v", prefix, err)
	}
	db.waitGone(ctx, sel)
	if testing.Verbose() {
		db.b.Logf("%s: %d Pods Ready in %.2fs, deleted and gone in %.2fs", prefix, n, elapsed.wall.Seconds(), time.Since(del).Seconds())
	}
	return elapsed
}

// podTracker follows the Pods of one label selector with an informer
// (not a bare watch: it resumes when the server ends a watch that falls
// behind, and 1,000 Pods change several times each) and counts them as
// they are: live (neither finished nor being deleted), and live and Ready.
// It keeps the lowest Ready and highest live counts seen since the last
// resetBounds, to check a rollout against its bounds from the Pods
// themselves rather than from the Deployment's status, which sums
// ReplicaSet statuses written at different times.
type podTracker struct {
	cancel  context.CancelFunc
	stopped chan struct{}

	mu       sync.Mutex
	state    map[string]podState // by name
	live     int
	ready    int
	minReady int
	maxLive  int
	failed   string // the first failed Pod, if any
	changed  func(*podTracker)
}

// podState is what podTracker counts of one Pod.
type podState struct{ live, ready bool }

// trackPods starts a podTracker on the Pods of sel in "default" and waits
// for its first list; changed, if not nil, is called with pt.mu held after
// each change.
func (db *deployBench) trackPods(ctx context.Context, sel string, changed func(*podTracker)) *podTracker {
	res, err := sdk.ResourceOf[*types.Pod]()
	if err != nil {
		db.b.Fatal(err)
	}
	ictx, cancel := context.WithCancel(ctx)
	pt := &podTracker{cancel: cancel, stopped: make(chan struct{}), state: map[string]podState{}, changed: changed}
	pt.resetBounds()
	inf := sdk.NewInformer(db.client, res, sdk.InformerOptions{Namespace: "default", LabelSelector: sel})
	inf.AddEventHandler(sdk.HandlerFuncs{
		AddFunc:    func(o types.Object) { pt.set(o.(*types.Pod), false) },
		UpdateFunc: func(_, o types.Object) { pt.set(o.(*types.Pod), false) },
		DeleteFunc: func(o types.Object) { pt.set(o.(*types.Pod), true) },
	})
	go func() {
		defer close(pt.stopped)
		_ = inf.Run(ictx)
	}()
	if err := inf.WaitForSync(ictx); err != nil {
		pt.stop()
		db.b.Fatal(err)
	}
	return pt
}

// set records a Pod's new state (gone when deleted).
func (pt *podTracker) set(p *types.Pod, deleted bool) {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	old := pt.state[p.Name]
	cur := podState{}
	if !deleted {
		cur.live = controller.IsPodActive(p)
		cur.ready = cur.live && controller.IsPodReady(p)
		pt.state[p.Name] = cur
	} else {
		delete(pt.state, p.Name)
	}
	if p.Status.Phase == types.PodFailed && pt.failed == "" {
		pt.failed = fmt.Sprintf("pod %s failed: %+v", p.Name, p.Status)
	}
	pt.live += b2i(cur.live) - b2i(old.live)
	pt.ready += b2i(cur.ready) - b2i(old.ready)
	pt.minReady, pt.maxLive = min(pt.minReady, pt.ready), max(pt.maxLive, pt.live)
	if pt.changed != nil {
		pt.changed(pt)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// resetBounds starts the lowest Ready and highest live counts afresh.
func (pt *podTracker) resetBounds() {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	pt.minReady, pt.maxLive = pt.ready, pt.live
}

// do runs fn with pt.mu held, to read or set fields shared with changed.
func (pt *podTracker) do(fn func()) {
	pt.mu.Lock()
	defer pt.mu.Unlock()
	fn()
}

// stop ends the informer and waits for it (and its handler) to return.
func (pt *podTracker) stop() {
	pt.cancel()
	<-pt.stopped
}

// deployResult is what one Deployment life measured.
type deployResult struct {
	ready, roll phase   // create→available, image change→rolled out
	rssMiB      float64 // the server's RSS with all v1 Pods available
	// The fewest live Ready Pods and the most live Pods seen (by an
	// informer on the Pods) during the roll.
	rollMinReady, rollMaxLive int
}

// deployment creates the Deployment of n replicas of image v1 and waits
// for all available, then sets image v2 and waits for the rollout, then
// deletes the Deployment and waits for its Pods to go (not timed).
func (db *deployBench) deployment(ctx context.Context, v1, v2 string) (r deployResult) {
	deps := sdk.Typed[*types.Deployment](db.client).Namespace("default")
	const name, sel = "bench", "app=bench"
	replicas := int32(db.n)
	d := &types.Deployment{
		ObjectMeta: types.ObjectMeta{Name: name},
		Spec: types.DeploymentSpec{
			Replicas: &replicas,
			Selector: &types.LabelSelector{MatchLabels: map[string]string{"app": "bench"}},
			Template: types.PodTemplateSpec{
				ObjectMeta: types.ObjectMeta{Labels: map[string]string{"app": "bench"}},
				Spec:       podSpec(v1),
			},
		},
	}
	// The floor follows its Pods with an informer too: the server feeds
	// one watcher of the benchmark's Pods in both measurements.
	pt := db.trackPods(ctx, sel, nil)
	defer pt.stop()
	r.ready = db.timed(func() {
		created, err := deps.Create(ctx, d)
		if err != nil {
			db.b.Fatal(err)
		}
		db.waitRolledOut(ctx, name, created.Generation, v1)
	})
	r.rssMiB = processRSSMiB(db.s.cmd.Process.Pid)
	pt.resetBounds()
	r.roll = db.timed(func() { db.roll(ctx, name, v2) })
	pt.do(func() { r.rollMinReady, r.rollMaxLive = pt.minReady, pt.maxLive })

	if err := deps.Delete(ctx, name, types.DeleteOptions{}); err != nil {
		db.b.Fatal(err)
	}
	db.waitGone(ctx, sel)
	return r
}

// roll sets the Deployment's image and waits for the rollout.
func (db *deployBench) roll(ctx context.Context, name, image string) {
	deps := sdk.Typed[*types.Deployment](db.client).Namespace("default")
	var gen int64
	for {
		cur, err := deps.Get(ctx, name)
		if err != nil {
			db.b.Fatal(err)
		}
		cur.Spec.Template.Spec.Containers[0].Image = image
		up, err := deps.Update(ctx, cur)
		if sdk.IsConflict(err) {
			continue // the controller wrote the status meanwhile
		}
		if err != nil {
			db.b.Fatal(err)
		}
		gen = up.Generation
		break
	}
	db.waitRolledOut(ctx, name, gen, image)
}

// waitRolledOut polls the Deployment (4 times a second: one small object)
// until it has observed generation gen and all its replicas are of the
// current template and available, with none left of an older one, as
// `kubectl rollout status` decides.
func (db *deployBench) waitRolledOut(ctx context.Context, name string, gen int64, image string) {
	deps := sdk.Typed[*types.Deployment](db.client).Namespace("default")
	n := int32(db.n)
	start, logged := time.Now(), time.Now()
	db.waitFor(ctx, fmt.Sprintf("deployment of %s rolled out", image), func() (bool, string) {
		d, err := deps.Get(ctx, name)
		if err != nil {
			return false, err.Error()
		}
		st := d.Status
		done := st.ObservedGeneration >= gen && st.UpdatedReplicas == n && st.Replicas == n && st.AvailableReplicas == n
		if testing.Verbose() && (done || time.Since(logged) >= 2*time.Second) {
			logged = time.Now()
			db.b.Logf("%5.1fs replicas %d updated %d ready %d available %d", time.Since(start).Seconds(),
				st.Replicas, st.UpdatedReplicas, st.ReadyReplicas, st.AvailableReplicas)
		}
		return done, fmt.Sprintf("status %+v", st)
	})
}

// waitGone waits until no Pod matches sel (after a delete; not timed).
func (db *deployBench) waitGone(ctx context.Context, sel string) {
	db.waitFor(ctx, "pods "+sel+" gone", func() (bool, string) {
		l, err := sdk.Typed[*types.Pod](db.client).Namespace("default").List(ctx, sdk.ListOptions{LabelSelector: sel})
		if err != nil {
			return false, err.Error()
		}
		return len(l.Items) == 0, fmt.Sprintf("%d left", len(l.Items))
	})
}

// waitFor calls cond 4 times a second until it holds; after
// deployBenchWait it fails with cond's last description.
func (db *deployBench) waitFor(ctx context.Context, what string, cond func() (bool, string)) {
	db.b.Helper()
	deadline := time.Now().Add(deployBenchWait)
	for {
		ok, desc := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			db.b.Fatalf("%s: not after %v: %s\n%s", what, deployBenchWait, desc, db.tail())
		}
		select {
		case <-ctx.Done():
			db.b.Fatal(ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// tail is the end of the server's log, for a failure message.
func (db *deployBench) tail() string {
	l := db.s.logs()
	if len(l) > 4000 {
		l = l[len(l)-4000:]
	}
	return l
}

// processRSSMiB reads a process's resident memory from /proc (0 if it
// cannot).
func processRSSMiB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kib, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err == nil {
				return kib / 1024
			}
		}
	}
	return 0
}

// processCPUSeconds reads the user plus system CPU time a process has
// used from /proc/PID/stat (0 if it cannot; 100 ticks a second, Linux's
// USER_HZ).
func processCPUSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command's closing parenthesis start at field 3
	// (state); utime and stime are fields 14 and 15.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return (ut + st) / 100
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// sleepModule is a WASI command module whose _start sleeps an hour at a
// time, forever, with poll_oneoff on a relative monotonic clock: a Pod
// that runs until stopped and costs no CPU (the Wasm runtime's sleep ends
// when the container is stopped). wasmtest's hand-written modules import
// only proc_exit and fd_write (its Loop spins a core), and the Go fixture
// in sleep mode starts a Go runtime per instance.
//
//	(import "wasi_snapshot_preview1" "poll_oneoff" (func (param i32 i32 i32 i32) (result i32)))
//	(memory 1) (export "memory" (memory 0))
//	(data (i32.const 0) <one clock subscription: monotonic, 1 h, relative>)
//	(func (export "_start")
//	  (loop (drop (call 0 (i32.const 0) (i32.const 64) (i32.const 1) (i32.const 128))) (br 0)))
func sleepModule() []byte {
	sec := func(b []byte, id byte, content ...byte) []byte {
		// Every section here is under 128 bytes: one-byte LEB128 size.
		return append(append(b, id, byte(len(content))), content...)
	}
	str := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	cat := func(parts ...[]byte) []byte { return slices.Concat(parts...) }

	// A subscription is 48 bytes: userdata u64, tag u8 (0 = clock) padded
	// to 16, then the clock: id u32 (1 = monotonic) padded to 24, timeout
	// u64 in ns, precision u64, flags u16 (0 = relative).
	sub := make([]byte, 48)
	binary.LittleEndian.PutUint32(sub[16:], 1)
	binary.LittleEndian.PutUint64(sub[24:], uint64(time.Hour))

	b := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
	// Types: 0 = (i32 i32 i32 i32) -> i32, 1 = () -> ().
	b = sec(b, 1, 2, 0x60, 4, 0x7f, 0x7f, 0x7f, 0x7f, 1, 0x7f, 0x60, 0, 0)
	b = sec(b, 2, cat([]byte{1}, str("wasi_snapshot_preview1"), str("poll_oneoff"), []byte{0x00, 0})...)
	b = sec(b, 3, 1, 1)       // function 1 has type 1
	b = sec(b, 5, 1, 0x00, 1) // one memory, min 1 page, no max
	b = sec(b, 7, cat([]byte{2}, str("_start"), []byte{0x00, 1}, str("memory"), []byte{0x02, 0})...)
	body := []byte{
		0,          // no locals
		0x03, 0x40, // loop
		0x41, 0, 0x41, 0xc0, 0, 0x41, 1, 0x41, 0x80, 1, // i32.const 0 64 1 128
		0x10, 0, // call poll_oneoff
		0x1a,    // drop the errno
		0x0c, 0, // br 0
		0x0b, 0x0b, // end loop, end function
	}
	b = sec(b, 10, cat([]byte{1, byte(len(body))}, body)...)
	return sec(b, 11, cat([]byte{1, 0x00, 0x41, 0, 0x0b, byte(len(sub))}, sub)...)
}
