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
// WHARF_BENCH_REPLICAS sets another size (--max-pods is 110% of it).
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
	s := startServer(b, b.TempDir(), "--max-pods", strconv.Itoa(n+n/10), "--runtimes", "wasm", "--log-level", "warn")
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

	var floorS, readyS, rollS, rss []float64
	for b.Loop() {
		floorS = append(floorS, db.floor(ctx, "floor", n, "file://"+v1).Seconds())
		ready, roll, mem := db.deployment(ctx, "file://"+v1, "file://"+v2)
		readyS, rollS, rss = append(readyS, ready.Seconds()), append(rollS, roll.Seconds()), append(rss, mem)
		b.Logf("replicas %d: floor %.2fs, create→available %.2fs, roll %.2fs, server RSS %.0f MiB at all available",
			n, floorS[len(floorS)-1], ready.Seconds(), roll.Seconds(), mem)
	}
	b.ReportMetric(median(floorS), "floor-s")
	b.ReportMetric(median(readyS), "ready-s")
	b.ReportMetric(median(rollS), "roll-s")
	b.ReportMetric(float64(n)/median(readyS), "ready-pods/s")
	b.ReportMetric(float64(n)/median(rollS), "roll-pods/s")
	b.ReportMetric(median(readyS)/median(floorS), "x-floor-ready")
	b.ReportMetric(median(rollS)/median(floorS), "x-floor-roll")
	b.ReportMetric(median(rss), "server-RSS-MiB")
	b.ReportMetric(0, "ns/op") // whole iterations include teardowns: not a figure
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
// flight, and returns the time from the first create to all Ready; then
// deletes them and waits until they are gone (not timed).
func (db *deployBench) floor(ctx context.Context, prefix string, n int, image string) time.Duration {
	pods := sdk.Typed[*types.Pod](db.client).Namespace("default")
	sel := "bench=" + prefix
	w, err := pods.Watch(ctx, sdk.ListOptions{LabelSelector: sel})
	if err != nil {
		db.b.Fatal(err)
	}
	defer w.Stop()
	start := time.Now()
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
	ready := map[string]bool{}
	var took time.Duration
	timeout := time.After(deployBenchWait)
	for took == 0 {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				db.b.Fatalf("%s: pod watch ended (%v) with %d of %d Ready", prefix, w.Err(), len(ready), n)
			}
			if ev.Type == types.Bookmark {
				continue
			}
			if ev.Object.Status.Phase == types.PodFailed {
				db.b.Fatalf("%s: pod %s failed: %+v", prefix, ev.Object.Name, ev.Object.Status)
			}
			if ev.Type != types.Deleted && controller.IsPodReady(ev.Object) {
				ready[ev.Object.Name] = true
			}
			if len(ready) == n {
				took = time.Since(start)
			}
		case <-timeout:
			db.b.Fatalf("%s: %d of %d Pods Ready after %v\n%s", prefix, len(ready), n, deployBenchWait, db.tail())
		}
	}
	wg.Wait()
	if cerr != nil {
		db.b.Fatalf("%s: create: %v", prefix, cerr)
	}
	if err := pods.DeleteCollection(ctx, types.DeleteOptions{}, sdk.ListOptions{LabelSelector: sel}); err != nil {
		db.b.Fatalf("%s: delete: %v", prefix, err)
	}
	db.waitGone(ctx, sel)
	return took
}

// deployment creates the Deployment of n replicas of image v1 and waits
// for all available, then sets image v2 and waits for the rollout; it
// returns both times and the server's RSS in MiB with all v1 Pods
// available, then deletes the Deployment and waits for its Pods to go.
func (db *deployBench) deployment(ctx context.Context, v1, v2 string) (ready, roll time.Duration, rssMiB float64) {
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
	start := time.Now()
	created, err := deps.Create(ctx, d)
	if err != nil {
		db.b.Fatal(err)
	}
	db.waitRolledOut(ctx, name, created.Generation, v1)
	ready = time.Since(start)
	rssMiB = processRSSMiB(db.s.cmd.Process.Pid)

	start = time.Now()
	var gen int64
	for {
		cur, err := deps.Get(ctx, name)
		if err != nil {
			db.b.Fatal(err)
		}
		cur.Spec.Template.Spec.Containers[0].Image = v2
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
	db.waitRolledOut(ctx, name, gen, v2)
	roll = time.Since(start)

	if err := deps.Delete(ctx, name, types.DeleteOptions{}); err != nil {
		db.b.Fatal(err)
	}
	db.waitGone(ctx, sel)
	return ready, roll, rssMiB
}

// waitRolledOut polls the Deployment (4 times a second: one small object)
// until it has observed generation gen and all its replicas are of the
// current template and available, with none left of an older one, as
// `kubectl rollout status` decides.
func (db *deployBench) waitRolledOut(ctx context.Context, name string, gen int64, image string) {
	deps := sdk.Typed[*types.Deployment](db.client).Namespace("default")
	n := int32(db.n)
	db.waitFor(ctx, fmt.Sprintf("deployment of %s rolled out", image), func() (bool, string) {
		d, err := deps.Get(ctx, name)
		if err != nil {
			return false, err.Error()
		}
		st := d.Status
		done := st.ObservedGeneration >= gen && st.UpdatedReplicas == n && st.Replicas == n && st.AvailableReplicas == n
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
