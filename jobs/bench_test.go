package jobs_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs"
	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/jobs/controller/controllertest"
	"github.com/wharfhq/wharf/jobs/deployment"
	"github.com/wharfhq/wharf/sdk"
)

const benchReplicas = 1000

// readyDriver stands in for the agents: it marks every Pod it sees
// Running and Ready through the status subresource, from an informer and
// a work queue (8 workers), and keeps a count of active Pods by app label
// and image from the same events (so that polling the count costs the
// controllers under test next to nothing).
type readyDriver struct {
	client *sdk.Client
	inf    *sdk.Informer
	queue  *sdk.Queue

	mu   sync.Mutex
	pods map[string]podInfo // by key, active Pods only
}

type podInfo struct{ app, image string }

func (d *readyDriver) track(obj types.Object) {
	p := obj.(*types.Pod)
	d.mu.Lock()
	defer d.mu.Unlock()
	if p.DeletionTimestamp != nil {
		delete(d.pods, sdk.KeyFunc(p))
		return
	}
	d.pods[sdk.KeyFunc(p)] = podInfo{app: p.Labels["app"], image: p.Spec.Containers[0].Image}
}

func (d *readyDriver) untrack(obj types.Object) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.pods, sdk.KeyFunc(obj))
}

func startReadyDriver(ctx context.Context, b *testing.B, c *sdk.Client, wg *sync.WaitGroup) *readyDriver {
	d := &readyDriver{client: c, inf: controllertest.PodInformer(b, c), queue: sdk.NewQueue(), pods: map[string]podInfo{}}
	d.inf.AddEventHandler(sdk.EnqueueHandler(d.queue))
	d.inf.AddEventHandler(sdk.HandlerFuncs{AddFunc: d.track, UpdateFunc: func(_, cur types.Object) { d.track(cur) }, DeleteFunc: d.untrack})
	controllertest.Drive(ctx, b, wg, d.inf, d.queue, 8, d.markReady)
	return d
}

func (d *readyDriver) markReady(ctx context.Context, key string) error {
	ns, name := sdk.SplitKey(key)
	p, err := sdk.ListerFor[*types.Pod](d.inf).Get(ns, name)
	if sdk.IsNotFound(err) || (err == nil && (controller.IsPodReady(p) || p.DeletionTimestamp != nil || p.Labels[floorLabel] != "")) {
		return nil // the floor marks its own Pods
	}
	if err != nil {
		return err
	}
	p = types.Clone(p)
	controllertest.SetReady(p, types.Now())
	_, err = sdk.Typed[*types.Pod](d.client).Namespace(ns).UpdateStatus(ctx, p)
	if sdk.IsNotFound(err) {
		return nil
	}
	return err
}

// count returns the active Pods with label app=app, and how many of them
// run image.
func (d *readyDriver) count(app, image string) (all, withImage int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range d.pods {
		if p.app != app {
			continue
		}
		all++
		if p.image == image {
			withImage++
		}
	}
	return all, withImage
}

// BenchmarkDeployment1000 measures, for a Deployment of 1,000 replicas on
// a real in-process API server over Badger, with every controller of
// jobs.Run and a driver marking Pods ready as agents would: the time from
// create to 1,000 Pods created, to 1,000 available, and the time to roll
// all of them to a new template (25% surge and unavailable); each
// iteration first measures the floor (see floor) on the same server, and
// the x-floor-* metrics are the ratios.
func BenchmarkDeployment1000(b *testing.B) {
	env := controllertest.NewEnv(b)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	wg.Add(1)
	go func() { defer wg.Done(); _ = jobs.Run(ctx, env.Client, jobs.Options{}) }()
	driver := startReadyDriver(ctx, b, env.Client, &wg)
	dc := sdk.Typed[*types.Deployment](env.Client).Namespace("default")
	dres, err := sdk.ResourceOf[*types.Deployment]()
	if err != nil {
		b.Fatal(err)
	}
	dinf := sdk.NewInformer(env.Client, dres, sdk.InformerOptions{})
	wg.Add(1)
	go func() { defer wg.Done(); _ = dinf.Run(ctx) }()
	deployments := sdk.ListerFor[*types.Deployment](dinf)

	var created, available, rolled, floorCreated, floorReady time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fc, fr := floor(b, ctx, env.Client, driver, i)
		floorCreated += fc
		floorReady += fr
		name := fmt.Sprint("bench-", i)
		n := int32(benchReplicas)
		lbl := map[string]string{"app": name}
		start := time.Now()
		if _, err := dc.Create(ctx, &types.Deployment{
			ObjectMeta: types.ObjectMeta{Name: name, Namespace: "default"},
			Spec: types.DeploymentSpec{Replicas: &n, Selector: &types.LabelSelector{MatchLabels: lbl},
				Template: types.PodTemplateSpec{ObjectMeta: types.ObjectMeta{Labels: lbl},
					Spec: types.PodSpec{Containers: []types.Container{{Name: "c", Image: "app:1"}}}}},
		}); err != nil {
			b.Fatal(err)
		}
		created += controllertest.Until(b, start, "pods created", func() bool { all, _ := driver.count(name, ""); return all >= benchReplicas })
		available += controllertest.Until(b, start, "pods available", func() bool { return deploymentDone(deployments, name) })

		start = time.Now()
		if _, err := controllertest.TryUpdate(ctx, dc, name, func(d *types.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "app:2" }); err != nil {
			b.Fatal(err)
		}
		rolled += controllertest.Until(b, start, "rolled to app:2", func() bool {
			all, updated := driver.count(name, "app:2")
			return all == benchReplicas && updated == all && deploymentDone(deployments, name)
		})
		b.StopTimer()
		if err := dc.Delete(ctx, name, types.DeleteOptions{}); err != nil {
			b.Fatal(err)
		}
		controllertest.Until(b, time.Now(), "collected", func() bool { all, _ := driver.count(name, ""); return all == 0 })
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(created.Seconds()/n, "s-to-created")
	b.ReportMetric(available.Seconds()/n, "s-to-available")
	b.ReportMetric(rolled.Seconds()/n, "s-to-rolled")
	b.ReportMetric(floorCreated.Seconds()/n, "floor-s-created")
	b.ReportMetric(floorReady.Seconds()/n, "floor-s-ready")
	b.ReportMetric(created.Seconds()/floorCreated.Seconds(), "x-floor-created")
	b.ReportMetric(available.Seconds()/floorReady.Seconds(), "x-floor-available")
	b.ReportMetric(rolled.Seconds()/floorReady.Seconds(), "x-floor-rolled")
}

func deploymentDone(l *sdk.TypedLister[*types.Deployment], name string) bool {
	d, err := l.Get("default", name)
	if err != nil {
		return false
	}
	_, done, err := deployment.RolloutStatus(d)
	return err == nil && done
}

// floorLabel marks the Pods of the floor measurement.
const floorLabel = "floor"

// floor measures what the controllers are compared with, on the same API
// server just before each Deployment: 1,000 Pods created straight from
// the SDK (16 at a time), then each marked Ready once. The Pods are
// deleted afterwards, off the clock.
func floor(b *testing.B, ctx context.Context, c *sdk.Client, driver *readyDriver, i int) (created, ready time.Duration) {
	pc := sdk.Typed[*types.Pod](c).Namespace("default")
	app := fmt.Sprint("floor-", i)
	start := time.Now()
	pods := make([]*types.Pod, benchReplicas)
	parallel(b, benchReplicas, func(j int) error {
		p, err := pc.Create(ctx, &types.Pod{
			ObjectMeta: types.ObjectMeta{Name: fmt.Sprintf("%s-%d", app, j), Namespace: "default", Labels: map[string]string{"app": app, floorLabel: "1"}},
			Spec:       types.PodSpec{Containers: []types.Container{{Name: "c", Image: "app:1"}}},
		})
		pods[j] = p
		return err
	})
	created = time.Since(start)
	parallel(b, benchReplicas, func(j int) error {
		p := pods[j]
		controllertest.SetReady(p, types.Now())
		_, err := pc.UpdateStatus(ctx, p)
		return err
	})
	ready = time.Since(start)
	b.StopTimer()
	if err := pc.DeleteCollection(ctx, types.DeleteOptions{}, sdk.ListOptions{LabelSelector: "app=" + app}); err != nil {
		b.Fatal(err)
	}
	controllertest.Until(b, time.Now(), "floor pods deleted", func() bool { all, _ := driver.count(app, ""); return all == 0 })
	b.StartTimer()
	return created, ready
}

// parallel runs fn(0..n-1) 16 at a time and fails b on the first error.
func parallel(b *testing.B, n int, fn func(j int) error) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	errs := make(chan error, n)
	for j := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(j); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err, ok := <-errs; ok {
		b.Fatal(err)
	}
}
