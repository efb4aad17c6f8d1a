package agent_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/jobs/deployment"
	"github.com/wharfhq/wharf/jobs/hpa"
	"github.com/wharfhq/wharf/jobs/replicaset"
	"github.com/wharfhq/wharf/nodes/agent"
	"github.com/wharfhq/wharf/nodes/nodeinfo/apitest"
	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/sdk"
)

// statsRuntime is the fake runtime whose Stats grow on a virtual clock:
// each call advances the container's clock by one second and its CPU time
// by its rate (millicores of its container name, or the default), so the
// rates the agent computes are exact whatever the real timing.
type statsRuntime struct {
	*fakeRuntime

	mu       sync.Mutex
	rates    map[string]int64 // millicores by container name
	rate     int64            // millicores of the others
	memory   uint64           // bytes per container
	ctrs     map[string]*virtualStats
	allCalls int
	lists    int // List calls
}

type virtualStats struct {
	cpu   uint64
	at    time.Time
	calls int
}

var _ runtimes.Runtime = (*statsRuntime)(nil)

func newStatsRuntime(rate int64, memory uint64) *statsRuntime {
	return &statsRuntime{fakeRuntime: newFake(agent.RuntimeContainer), rates: map[string]int64{},
		rate: rate, memory: memory, ctrs: map[string]*virtualStats{}}
}

func (s *statsRuntime) Stats(ctx context.Context, id string) (runtimes.Stats, error) {
	info, err := s.Inspect(ctx, id)
	if err != nil {
		return runtimes.Stats{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.ctrs[id]
	if v == nil {
		v = &virtualStats{at: time.Unix(1_000_000, 0)}
		s.ctrs[id] = v
	}
	rate, ok := s.rates[info.Labels[agent.LabelContainer]]
	if !ok {
		rate = s.rate
	}
	v.at = v.at.Add(time.Second)
	v.cpu += uint64(rate) * uint64(time.Millisecond) // rate m for one second
	v.calls++
	s.allCalls++
	return runtimes.Stats{CPUNanos: v.cpu, MemoryBytes: s.memory, Timestamp: v.at}, nil
}

func (s *statsRuntime) List(ctx context.Context) ([]runtimes.Info, error) {
	s.mu.Lock()
	s.lists++
	s.mu.Unlock()
	return s.fakeRuntime.List(ctx)
}

// waitLists waits for n more List calls.
func (s *statsRuntime) waitLists(t *testing.T, n int) {
	t.Helper()
	s.mu.Lock()
	want := s.lists + n
	s.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.mu.Lock()
		got := s.lists
		s.mu.Unlock()
		if got >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("runtime listed %d times, want %d", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// setRates sets the CPU rates of containers by name.
func (s *statsRuntime) setRates(rates map[string]int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range rates {
		s.rates[k] = v
	}
}

// calls returns how many Stats calls were answered.
func (s *statsRuntime) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.allCalls
}

// waitRounds waits until every running container was sampled n more
// times (so the agent has finished at least n-1 full rounds).
func (s *statsRuntime) waitRounds(t *testing.T, containers, n int) {
	t.Helper()
	want := s.calls() + containers*n
	deadline := time.Now().Add(30 * time.Second)
	for s.calls() < want {
		if time.Now().After(deadline) {
			t.Fatalf("stats sampled %d times, want %d", s.calls(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// offsetClock is the real time shifted by an adjustable offset.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) Now() time.Time { return time.Now().Add(time.Duration(c.off.Load())) }

func usageOf(p *types.Pod) string {
	if p == nil {
		return ""
	}
	return p.Annotations[hpa.UsageAnnotation]
}

func TestUsageAnnotation(t *testing.T) {
	var patches atomic.Int64
	api := apitest.Start(t, apitest.Options{Wrap: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPatch && strings.Contains(r.URL.Path, "/pods/") {
				patches.Add(1)
			}
			h.ServeHTTP(w, r)
		})
	}})
	e := &env{client: api.Client, pods: sdk.Typed[*types.Pod](api.Client).Namespace("default")}
	rt := newStatsRuntime(0, 40<<20)
	rt.setRates(map[string]int64{"c0": 250, "c1": 150})
	clk := &offsetClock{}
	e.startAgent(t, dataDir(t), map[string]runtimes.Runtime{agent.RuntimeContainer: rt}, func(c *agent.Config) {
		c.DisablePodNetNS = true
		c.UsageInterval = 100 * time.Millisecond
		c.Now = clk.Now
	})
	e.create(t, pod("web", types.RestartPolicyAlways, []string{"serve"}, []string{"serve"}))

	// Two containers: 250m + 150m of CPU, 40 MiB each.
	want := hpa.FormatUsage(400, 80<<20)
	p := e.waitPod(t, "web", "usage "+want, func(p *types.Pod) bool { return usageOf(p) == want })
	got, err := hpa.AnnotationSource{}.PodUsage(context.Background(), []*types.Pod{p})
	if err != nil {
		t.Fatalf("PodUsage: %v", err)
	}
	if cpu := got["web"][types.ResourceCPU]; cpu.MilliValue() != 400 {
		t.Errorf("cpu %v, want 400m", cpu.String())
	}
	if mem := got["web"][types.ResourceMemory]; mem.Value() != 80<<20 {
		t.Errorf("memory %v, want %d", mem.String(), 80<<20)
	}

	t.Run("a change under 5% is not written", func(t *testing.T) {
		before := patches.Load()
		rt.setRates(map[string]int64{"c0": 255, "c1": 155}) // 410m: +2.5%
		rt.waitRounds(t, 2, 4)
		if n := patches.Load() - before; n != 0 {
			t.Errorf("%d usage patches for a 2.5%% change, want none", n)
		}
		if p := e.waitPod(t, "web", "any", func(*types.Pod) bool { return true }); usageOf(p) != want {
			t.Errorf("usage %q, want %q kept", usageOf(p), want)
		}
	})

	t.Run("a larger change is written", func(t *testing.T) {
		rt.setRates(map[string]int64{"c0": 500, "c1": 300})
		want := hpa.FormatUsage(800, 80<<20)
		e.waitPod(t, "web", "usage "+want, func(p *types.Pod) bool { return usageOf(p) == want })
	})

	t.Run("an unchanged usage is rewritten after a minute", func(t *testing.T) {
		rt.waitRounds(t, 2, 2) // the 800m write is done
		before := patches.Load()
		clk.off.Store(int64(61 * time.Second))
		deadline := time.Now().Add(30 * time.Second)
		for patches.Load() == before {
			if time.Now().After(deadline) {
				t.Fatal("usage not rewritten after a minute")
			}
			time.Sleep(10 * time.Millisecond)
		}
		rt.waitRounds(t, 2, 3)
		if n := patches.Load() - before; n != 1 {
			t.Errorf("%d rewrites after a minute, want 1", n)
		}
	})
}

func TestUsageDisabled(t *testing.T) {
	e := newEnv(t)
	rt := newStatsRuntime(300, 1<<20)
	e.startAgent(t, dataDir(t), map[string]runtimes.Runtime{agent.RuntimeContainer: rt}, func(c *agent.Config) {
		c.DisablePodNetNS = true
		c.UsageInterval = -1
	})
	e.create(t, pod("idle", types.RestartPolicyAlways, []string{"serve"}))
	e.waitPod(t, "idle", "Ready", func(p *types.Pod) bool { return p != nil && cond(p, types.PodReady) == types.ConditionTrue })
	// While the agent lists the runtime a dozen more times (its syncs and
	// its housekeeping every second), a loop at the 100ms of the other
	// tests would have sampled the running container several times.
	rt.waitLists(t, 12)
	p := e.waitPod(t, "idle", "any", func(*types.Pod) bool { return true })
	if n := rt.calls(); n != 0 || usageOf(p) != "" {
		t.Errorf("usage disabled: %d Stats calls, annotation %q; want none", n, usageOf(p))
	}
}

// TestAutoscalerScalesOnAgentUsage runs the whole loop: the agent's usage
// of a Deployment's Pods drives the HorizontalPodAutoscaler, which scales
// the Deployment from 1 to maxReplicas, and the agent runs the new Pods.
func TestAutoscalerScalesOnAgentUsage(t *testing.T) {
	e := newEnv(t)
	rt := newStatsRuntime(400, 16<<20) // 400m per Pod against 100m requested
	e.startAgent(t, dataDir(t), map[string]runtimes.Runtime{agent.RuntimeContainer: rt}, func(c *agent.Config) {
		c.DisablePodNetNS = true
		c.UsageInterval = 100 * time.Millisecond
	})
	startControllers(t, e.client)

	ctx := context.Background()
	lbl := map[string]string{"app": "web"}
	one, minR := int32(1), int32(1)
	target := int32(50)
	dep := &types.Deployment{
		ObjectMeta: types.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: types.DeploymentSpec{
			Replicas: &one,
			Selector: &types.LabelSelector{MatchLabels: lbl},
			Template: types.PodTemplateSpec{
				ObjectMeta: types.ObjectMeta{Labels: lbl},
				Spec: types.PodSpec{NodeName: nodeName, Containers: []types.Container{{
					Name: "c", Image: "example.com/app:v1", Args: []string{"serve"},
					Resources: types.ResourceRequirements{Requests: types.ResourceList{types.ResourceCPU: types.MustParse("100m")}},
				}}},
			},
		},
	}
	deps := sdk.Typed[*types.Deployment](e.client).Namespace("default")
	if _, err := deps.Create(ctx, dep); err != nil {
		t.Fatal(err)
	}
	hpas := sdk.Typed[*types.HorizontalPodAutoscaler](e.client).Namespace("default")
	if _, err := hpas.Create(ctx, &types.HorizontalPodAutoscaler{
		ObjectMeta: types.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: types.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: types.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MinReplicas:    &minR, MaxReplicas: 3,
			Metrics: []types.MetricSpec{{Type: types.ResourceMetricSourceType, Resource: &types.ResourceMetricSource{
				Name: types.ResourceCPU, Target: types.MetricTarget{Type: types.UtilizationMetricType, AverageUtilization: &target}}}},
		},
	}); err != nil {
		t.Fatal(err)
	}

	// 400% of the request against a 50% target: 8 replicas wanted, 3 allowed.
	deadline := time.Now().Add(60 * time.Second)
	for {
		d, err := deps.Get(ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		h, err := hpas.Get(ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		pods, err := e.pods.List(ctx, sdk.ListOptions{LabelSelector: "app=web"})
		if err != nil {
			t.Fatal(err)
		}
		measured := 0
		for _, p := range pods.Items {
			if p.Status.Phase == types.PodRunning && usageOf(p) == hpa.FormatUsage(400, 16<<20) {
				measured++
			}
		}
		m := h.Status.CurrentMetrics
		if *d.Spec.Replicas == 3 && d.Status.ReadyReplicas == 3 && measured == 3 && h.Status.DesiredReplicas == 3 &&
			len(m) == 1 && m[0].Resource != nil && m[0].Resource.Current.AverageUtilization != nil &&
			*m[0].Resource.Current.AverageUtilization == 400 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deployment replicas %d ready %d, %d Pods running with their usage; hpa status %+v",
				*d.Spec.Replicas, d.Status.ReadyReplicas, measured, h.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if running, _ := rt.count(); running != 3 {
		t.Errorf("%d containers running on the agent, want 3", running)
	}
}

// startControllers runs the Deployment, ReplicaSet and autoscaler
// controllers (the autoscaler every 100ms) until the test ends.
func startControllers(t *testing.T, client *sdk.Client) {
	t.Helper()
	f := sdk.NewInformerFactory(client)
	cc := &controller.Context{Client: client, Factory: f, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Workers: 2}
	d, err := deployment.New(cc)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := replicaset.New(cc)
	if err != nil {
		t.Fatal(err)
	}
	h, err := hpa.NewWithOptions(cc, hpa.Options{SyncPeriod: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	f.Start(ctx)
	for _, r := range []controller.Runner{d, rs, h} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Run(ctx); err != nil && ctx.Err() == nil {
				t.Errorf("%T: %v", r, err)
			}
		}()
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		f.Wait()
	})
}

// TestContainerUsage reads real cgroup stats: a container spinning on a
// core shows a large CPU use and a non-zero working set.
func TestContainerUsage(t *testing.T) {
	c := newCtrEnv(t)
	e := newEnv(t)
	cleanupContainers(t, c.rt)
	e.startAgent(t, dataDir(t), map[string]runtimes.Runtime{agent.RuntimeContainer: c.rt}, func(cfg *agent.Config) {
		cfg.UsageInterval = 200 * time.Millisecond
	})
	e.create(t, c.pod("spin", types.RestartPolicyAlways, []string{"spin"}))
	// A spinning process gets most of a core even on a busy 2-core
	// machine: 100m is a floor far below that and far above an idle one.
	p := e.waitPod(t, "spin", "cpu ≥ 100m and memory > 0", func(p *types.Pod) bool {
		if usageOf(p) == "" {
			return false
		}
		rl, err := hpa.ParseUsage(usageOf(p))
		if err != nil {
			t.Fatalf("usage %q: %v", usageOf(p), err)
		}
		cpu, mem := rl[types.ResourceCPU], rl[types.ResourceMemory]
		return cpu.MilliValue() >= 100 && mem.Value() > 0
	})
	t.Logf("usage of a spinning container: %s", usageOf(p))
}
