package job_test

// Benchmarks of the batch and per-node controllers (Job, DaemonSet,
// StatefulSet) against a floor measured in the same iteration on the same
// API server. They live in one file so that they share one driver
// standing in for the agents; figures and commands are in
// docs/benchmarks/controllers-batch.md.

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/jobs/controller/controllertest"
	"github.com/wharfhq/wharf/jobs/daemonset"
	"github.com/wharfhq/wharf/jobs/job"
	"github.com/wharfhq/wharf/jobs/statefulset"
	"github.com/wharfhq/wharf/sdk"
)

// benchMode is the label telling the driver what to do with a Pod:
// "succeed" (a Job's Pod runs to completion) or "ready" (a server Pod
// becomes Running and Ready).
const benchMode = "bench-mode"

// podDriver stands in for the agents: from its own informer and 8
// workers it moves every new Pod to the state its bench-mode label asks
// for, and counts Pods it finished by that label's value.
type podDriver struct {
	client *sdk.Client
	inf    *sdk.Informer

	mu    sync.Mutex
	moved *sync.Cond
	done  int // Pods moved
}

// count returns how many Pods the driver has moved.
func (d *podDriver) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.done
}

// waitCount blocks until the driver has moved n Pods (no polling: the
// floor's one-at-a-time shapes would otherwise pay a poll per Pod).
func (d *podDriver) waitCount(n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for d.done < n {
		d.moved.Wait()
	}
}

func startDriver(ctx context.Context, b *testing.B, c *sdk.Client, wg *sync.WaitGroup) *podDriver {
	d := &podDriver{client: c, inf: controllertest.PodInformer(b, c)}
	d.moved = sync.NewCond(&d.mu)
	q := sdk.NewQueue()
	d.inf.AddEventHandler(sdk.HandlerFuncs{AddFunc: func(obj types.Object) { q.Add(sdk.KeyFunc(obj)) }})
	controllertest.Drive(ctx, b, wg, d.inf, q, 8, d.move)
	return d
}

func (d *podDriver) move(ctx context.Context, key string) error {
	ns, name := sdk.SplitKey(key)
	p, err := sdk.ListerFor[*types.Pod](d.inf).Get(ns, name)
	if sdk.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	p = types.Clone(p)
	now := types.Now()
	switch p.Labels[benchMode] {
	case "succeed":
		p.Status.Phase = types.PodSucceeded
		p.Status.ContainerStatuses = []types.ContainerStatus{{Name: "c", State: types.ContainerState{
			Terminated: &types.ContainerStateTerminated{FinishedAt: now, Reason: "Completed"}}}}
	case "ready":
		controllertest.SetReady(p, now)
	default:
		return nil
	}
	_, err = sdk.Typed[*types.Pod](d.client).Namespace(ns).UpdateStatus(ctx, p)
	if sdk.IsNotFound(err) {
		return nil
	}
	if err == nil {
		d.mu.Lock()
		d.done++
		d.moved.Broadcast()
		d.mu.Unlock()
	}
	return err
}

// benchEnv is one API server with the controllers of build and a driver.
type benchEnv struct {
	env    *controllertest.Env
	driver *podDriver
	ctx    context.Context
}

func newBenchEnv(b *testing.B, build controllertest.Build) *benchEnv {
	env := controllertest.NewEnv(b)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	b.Cleanup(func() { cancel(); wg.Wait() })
	d := startDriver(ctx, b, env.Client, &wg)
	env.Start(build)
	return &benchEnv{env: env, driver: d, ctx: ctx}
}

// floor creates n Pods straight from the SDK, each moved by the driver
// to mode, and returns the time until the driver has moved them all: the
// API cost of what the controller under test does, without the
// controller. At most inFlight creates are in flight; with untilMoved, at
// most inFlight Pods are created and not yet moved (a Job's parallelism,
// OrderedReady's one at a time).
func (e *benchEnv) floor(b *testing.B, prefix string, n, inFlight int, mode string, untilMoved bool) time.Duration {
	pc := sdk.Typed[*types.Pod](e.env.Client).Namespace("default")
	before := e.driver.count()
	start := time.Now()
	sem := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	var failed atomic.Value
	for i := range n {
		sem <- struct{}{}
		if untilMoved {
			e.driver.waitCount(before + i - inFlight + 1)
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			_, err := pc.Create(e.ctx, &types.Pod{
				ObjectMeta: types.ObjectMeta{Name: fmt.Sprintf("%s-%d", prefix, i), Namespace: "default",
					Labels: map[string]string{benchMode: mode}},
				Spec: types.PodSpec{RestartPolicy: types.RestartPolicyNever, Containers: []types.Container{{Name: "c", Image: "app"}}},
			})
			if err != nil {
				failed.Store(err)
			}
		}()
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		b.Fatal(err)
	}
	e.driver.waitCount(before + n)
	return time.Since(start)
}

func report(b *testing.B, measured, floor time.Duration, unit string) {
	n := float64(b.N)
	b.ReportMetric(measured.Seconds()/n, "s-"+unit)
	b.ReportMetric(floor.Seconds()/n, "floor-s")
	b.ReportMetric(measured.Seconds()/floor.Seconds(), "x-floor")
}

func int32p(v int32) *int32 { return &v }

// BenchmarkJob500 runs a Job of 500 completions, parallelism 50, whose
// Pods the driver completes as soon as they appear: create to Complete.
// Floor: 500 Pods created from the SDK with at most 50 not yet completed,
// each completed by the driver.
func BenchmarkJob500(b *testing.B) {
	e := newBenchEnv(b, func(cc *controller.Context) ([]controller.Runner, error) {
		c, err := job.New(cc)
		return []controller.Runner{c}, err
	})
	jc := sdk.Typed[*types.Job](e.env.Client).Namespace("default")
	var measured, floor time.Duration
	b.ResetTimer()
	for i := range b.N {
		floor += e.floor(b, fmt.Sprint("floor-", i), 500, 50, "succeed", true)
		name := fmt.Sprint("bench-", i)
		start := time.Now()
		if _, err := jc.Create(e.ctx, &types.Job{
			ObjectMeta: types.ObjectMeta{Name: name, Namespace: "default"},
			Spec: types.JobSpec{Completions: int32p(500), Parallelism: int32p(50), Template: types.PodTemplateSpec{
				ObjectMeta: types.ObjectMeta{Labels: map[string]string{benchMode: "succeed"}},
				Spec:       types.PodSpec{RestartPolicy: types.RestartPolicyNever, Containers: []types.Container{{Name: "c", Image: "app"}}},
			}},
		}); err != nil {
			b.Fatal(err)
		}
		measured += controllertest.Until(b, start, "job complete", func() bool {
			j, err := jc.Get(e.ctx, name)
			if err != nil {
				b.Fatal(err)
			}
			ct, done := job.IsFinished(j)
			if done && ct != types.JobComplete {
				b.Fatalf("job finished %s: %+v", ct, j.Status)
			}
			return done
		})
	}
	report(b, measured, floor, "complete")
}

// BenchmarkDaemonSet200Nodes creates a DaemonSet over 200 nodes: create
// to a ready Pod on every node (numberReady 200). Floor: 200 Pods created
// from the SDK 16 at a time, each marked ready.
func BenchmarkDaemonSet200Nodes(b *testing.B) {
	const nodes = 200
	e := newBenchEnv(b, func(cc *controller.Context) ([]controller.Runner, error) {
		c, err := daemonset.New(cc)
		return []controller.Runner{c}, err
	})
	for i := range nodes {
		if _, err := sdk.Typed[*types.Node](e.env.Client).Create(e.ctx, &types.Node{ObjectMeta: types.ObjectMeta{Name: fmt.Sprint("node-", i)}}); err != nil {
			b.Fatal(err)
		}
	}
	dc := sdk.Typed[*types.DaemonSet](e.env.Client).Namespace("default")
	var measured, floor time.Duration
	b.ResetTimer()
	for i := range b.N {
		floor += e.floor(b, fmt.Sprint("floor-", i), nodes, 16, "ready", false)
		name := fmt.Sprint("bench-", i)
		lbl := map[string]string{"app": name, benchMode: "ready"}
		start := time.Now()
		if _, err := dc.Create(e.ctx, &types.DaemonSet{
			ObjectMeta: types.ObjectMeta{Name: name, Namespace: "default"},
			Spec: types.DaemonSetSpec{Selector: &types.LabelSelector{MatchLabels: lbl}, Template: types.PodTemplateSpec{
				ObjectMeta: types.ObjectMeta{Labels: lbl},
				Spec:       types.PodSpec{Containers: []types.Container{{Name: "c", Image: "app"}}},
			}},
		}); err != nil {
			b.Fatal(err)
		}
		measured += controllertest.Until(b, start, "daemon pods ready", func() bool {
			ds, err := dc.Get(e.ctx, name)
			if err != nil {
				b.Fatal(err)
			}
			return ds.Status.NumberReady == nodes
		})
	}
	report(b, measured, floor, "ready")
}

// BenchmarkStatefulSet100 creates a StatefulSet of 100 replicas: create
// to readyReplicas 100, with OrderedReady (each Pod waits for the one
// before it to be ready) and Parallel. Floor: 100 Pods created from the
// SDK, one at a time each marked ready before the next (OrderedReady's
// shape) or 16 creates in flight (Parallel's), each marked ready.
func BenchmarkStatefulSet100(b *testing.B) {
	const replicas = 100
	for _, tc := range []struct {
		policy   types.PodManagementPolicyType
		inFlight int
	}{{types.OrderedReadyPodManagement, 1}, {types.ParallelPodManagement, 16}} {
		b.Run(string(tc.policy), func(b *testing.B) {
			e := newBenchEnv(b, func(cc *controller.Context) ([]controller.Runner, error) {
				c, err := statefulset.New(cc)
				return []controller.Runner{c}, err
			})
			sc := sdk.Typed[*types.StatefulSet](e.env.Client).Namespace("default")
			var measured, floor time.Duration
			b.ResetTimer()
			for i := range b.N {
				floor += e.floor(b, fmt.Sprint("floor-", i), replicas, tc.inFlight, "ready", tc.policy == types.OrderedReadyPodManagement)
				name := fmt.Sprint("bench-", i)
				lbl := map[string]string{"app": name, benchMode: "ready"}
				start := time.Now()
				if _, err := sc.Create(e.ctx, &types.StatefulSet{
					ObjectMeta: types.ObjectMeta{Name: name, Namespace: "default"},
					Spec: types.StatefulSetSpec{Replicas: int32p(replicas), PodManagementPolicy: tc.policy,
						Selector: &types.LabelSelector{MatchLabels: lbl}, Template: types.PodTemplateSpec{
							ObjectMeta: types.ObjectMeta{Labels: lbl},
							Spec:       types.PodSpec{Containers: []types.Container{{Name: "c", Image: "app"}}},
						}},
				}); err != nil {
					b.Fatal(err)
				}
				measured += controllertest.Until(b, start, "statefulset ready", func() bool {
					s, err := sc.Get(e.ctx, name)
					if err != nil {
						b.Fatal(err)
					}
					return s.Status.ReadyReplicas == replicas
				})
			}
			report(b, measured, floor, "ready")
		})
	}
}
