package test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/runtimes/wasm/wasmtest"
	"github.com/wharfhq/wharf/sdk"
)

// ctlWait bounds each wait of the controller tests; a safety net against a
// hang, not a timed assertion.
const ctlWait = 40 * time.Second

// cronWait bounds the wait for a `* * * * *` CronJob's first run: up to a
// minute to the next minute boundary, plus the Job itself.
const cronWait = 75 * time.Second

// TestControllersOnUp drives the workload controllers through one `wharf
// up` with kubectl and the CLI: a Wasm Deployment rolled to a new module
// and back, a Wasm Job with completions 5 and parallelism 2, a Wasm
// StatefulSet scaled and rolled out, a container
// Deployment scaled up and down (root only), and a CronJob that fires. The
// CronJob is created first and checked last, so its wait for the next
// minute overlaps the rest. It runs in parallel with the DaemonSet test
// (after the package's serial tests), which fits in that wait too.
func TestControllersOnUp(t *testing.T) {
	t.Parallel()
	s := startServer(t, t.TempDir())
	k := newKubectl(t, s)
	client, err := sdk.New(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeWorkloads(t, s, k) })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("objects:\n%s", k.run(t, "", "get", "cronjobs,jobs,deployments,replicasets,pods", "-o", "wide").Stdout)
		}
	})

	dir := t.TempDir()
	printMod := filepath.Join(dir, "print.wasm")
	if err := os.WriteFile(printMod, wasmtest.Print("tick\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	created := time.Now()
	s.mustWharf(t, "apply", "-f", writeFile(t, "cron.yaml", ctlCronJob("tick", "file://"+printMod)))

	t.Run("wasm deployment rollout and undo", func(t *testing.T) {
		testWasmRollout(t, s, k, dir)
	})
	t.Run("wasm job completions 5 parallelism 2", func(t *testing.T) {
		testWasmJob(t, s, k, client, "file://"+printMod)
	})
	t.Run("wasm statefulset defaults scale and rollout", func(t *testing.T) {
		testWasmStatefulSet(t, s, k, client)
	})
	t.Run("container deployment scaled up and down", func(t *testing.T) {
		testContainerScale(t, s, k)
	})
	t.Run("cronjob fires", func(t *testing.T) {
		testCronFires(t, s, k, client, created)
	})
}

// ctlCronJob is a CronJob that runs image every minute.
func ctlCronJob(name, image string) string {
	return fmt.Sprintf(`apiVersion: batch/v1
kind: CronJob
metadata: {name: %s}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          runtimeClassName: wasm
          restartPolicy: Never
          containers:
          - {name: c, image: %q}
`, name, image)
}

// ctlWasmDeployment is a Deployment of long-running Wasm Pods (the Go
// fixture's sleep mode) of image.
func ctlWasmDeployment(name, image string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %[1]s}
spec:
  replicas: 2
  selector:
    matchLabels: {app: %[1]s}
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      runtimeClassName: wasm
      containers:
      - {name: s, image: %[2]q, args: [sleep]}
`, name, image)
}

// ctlLivePods returns the Pods matching selector that are not being deleted.
func ctlLivePods(t *testing.T, client *sdk.Client, selector string) []*types.Pod {
	t.Helper()
	l, err := sdk.Typed[*types.Pod](client).Namespace("default").List(context.Background(), sdk.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	var out []*types.Pod
	for _, p := range l.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

// ctlAllOn reports whether there are exactly n Pods of selector, every one
// Running with image.
func ctlAllOn(t *testing.T, client *sdk.Client, selector string, n int, image string) bool {
	t.Helper()
	pods := ctlLivePods(t, client, selector)
	if len(pods) != n {
		return false
	}
	for _, p := range pods {
		if p.Status.Phase != types.PodRunning || len(p.Spec.Containers) != 1 || p.Spec.Containers[0].Image != image {
			return false
		}
	}
	return true
}

// testWasmRollout rolls a Wasm Deployment from one module file to another
// with `kubectl set image`, then back with `kubectl rollout undo`, waiting
// with `kubectl rollout status` each time.
func testWasmRollout(t *testing.T, s *wharfServer, k *kubectl, dir string) {
	app, err := wasmtest.BuildGoApp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(app)
	if err != nil {
		t.Fatal(err)
	}
	v1, v2 := "file://"+filepath.Join(dir, "app-v1.wasm"), "file://"+filepath.Join(dir, "app-v2.wasm")
	for _, p := range []string{v1, v2} {
		if err := os.WriteFile(strings.TrimPrefix(p, "file://"), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	client, err := sdk.New(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	const sel = "app=roll"
	status := func() {
		t.Helper()
		k.must(t, "rollout", "status", "deployment/roll", "--timeout="+ctlWait.String())
	}
	revision := func() string {
		t.Helper()
		return k.must(t, "get", "deployment", "roll", "-o", `jsonpath={.metadata.annotations.deployment\.kubernetes\.io/revision}`).Stdout
	}
	// rsImages maps each ReplicaSet of the Deployment to "image replicas".
	rsImages := func() map[string]string {
		t.Helper()
		out := k.must(t, "get", "replicasets", "-l", sel, "-o",
			`jsonpath={range .items[*]}{.metadata.name} {.spec.template.spec.containers[0].image} {.spec.replicas}{"\n"}{end}`).Stdout
		m := map[string]string{}
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if f := strings.Fields(l); len(f) == 3 {
				m[f[0]] = f[1] + " " + f[2]
			}
		}
		return m
	}

	s.mustWharf(t, "apply", "-f", writeFile(t, "roll.yaml", ctlWasmDeployment("roll", v1)))
	poll(t, ctlWait, "two Pods of v1 Running", func() bool { return ctlAllOn(t, client, sel, 2, v1) })
	status()
	if got := revision(); got != "1" {
		t.Errorf("revision after create = %q, want 1", got)
	}
	first := rsImages()
	if len(first) != 1 {
		t.Fatalf("replica sets after create: %v, want 1", first)
	}

	// RollingUpdate with the default 25% of 2 replicas: maxUnavailable 0
	// and maxSurge 1, so every state has 2 Ready Pods and at most 3.
	surge := func(what string, tr *ctlPodTracker) {
		t.Helper()
		minReady, maxLive := tr.stop(t)
		t.Logf("%s: at least %d Ready Pods, at most %d live", what, minReady, maxLive)
		if minReady < 2 || maxLive > 3 {
			t.Errorf("%s: %d Ready Pods at the fewest and %d live at the most, want at least 2 and at most 3 (maxUnavailable 0, maxSurge 1)", what, minReady, maxLive)
		}
	}
	tr := ctlTrackPods(t, client, sel)
	k.must(t, "set", "image", "deployment/roll", "s="+v2)
	poll(t, ctlWait, "two Pods of v2 Running, none of v1 left", func() bool { return ctlAllOn(t, client, sel, 2, v2) })
	status()
	surge("rollout to v2", tr)
	if got := revision(); got != "2" {
		t.Errorf("revision after set image = %q, want 2", got)
	}
	old := ctlFirstKey(first)
	rs := rsImages()
	var next string
	for name := range rs {
		if name != old {
			next = name
		}
	}
	if len(rs) != 2 || rs[old] != v1+" 0" || rs[next] != v2+" 2" {
		t.Errorf("replica sets after set image: %v, want the first (%s) scaled to 0 and a new one of v2 with 2", rs, old)
	}
	hist := k.must(t, "rollout", "history", "deployment/roll").Stdout
	if !regexp.MustCompile(`(?m)^1\s`).MatchString(hist) || !regexp.MustCompile(`(?m)^2\s`).MatchString(hist) {
		t.Errorf("kubectl rollout history deployment/roll: want revisions 1 and 2:\n%s", hist)
	}

	tr = ctlTrackPods(t, client, sel)
	k.must(t, "rollout", "undo", "deployment/roll")
	poll(t, ctlWait, "two Pods of v1 Running again, none of v2 left", func() bool { return ctlAllOn(t, client, sel, 2, v1) })
	status()
	surge("rollout undo to v1", tr)
	if got := revision(); got != "3" {
		t.Errorf("revision after undo = %q, want 3", got)
	}
	back := rsImages()
	if len(back) != 2 || back[old] != v1+" 2" || back[next] != v2+" 0" {
		t.Errorf("replica sets after undo: %v, want the first one (%s) back to 2 replicas, %s at 0 and no third", back, old, next)
	}
	k.must(t, "delete", "deployment", "roll")
}

// ctlFirstKey returns a key of m (its only one, as used here).
func ctlFirstKey(m map[string]string) string {
	for k := range m {
		return k
	}
	return ""
}

// testWasmJob runs a Job of 5 completions, 2 at a time, of a Wasm module
// that prints and exits, and follows its Pods with a watch: the store's
// sequence of Pod states never has more than 2 unfinished Pods, and
// exactly 5 Pods run, all to success.
func testWasmJob(t *testing.T, s *wharfServer, k *kubectl, client *sdk.Client, image string) {
	ctx, cancel := context.WithTimeout(context.Background(), ctlWait)
	defer cancel()
	w, err := sdk.Typed[*types.Pod](client).Namespace("default").Watch(ctx, sdk.ListOptions{LabelSelector: "batch.kubernetes.io/job-name=five"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	s.mustWharf(t, "apply", "-f", writeFile(t, "job.yaml", fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata: {name: five}
spec:
  completions: 5
  parallelism: 2
  template:
    spec:
      runtimeClassName: wasm
      restartPolicy: Never
      containers:
      - {name: c, image: %q}
`, image)))

	active := map[string]bool{}
	succeeded := map[string]bool{}
	seen := map[string]bool{}
	maxActive := 0
	for len(succeeded) < 5 {
		ev, ok := <-w.Events()
		if !ok {
			t.Fatalf("pod watch ended (%v) after %d succeeded Pods; seen %d", w.Err(), len(succeeded), len(seen))
		}
		if ev.Type == types.Bookmark {
			continue
		}
		p := ev.Object
		seen[p.Name] = true
		finished := p.Status.Phase == types.PodSucceeded || p.Status.Phase == types.PodFailed
		if p.Status.Phase == types.PodSucceeded {
			succeeded[p.Name] = true
		}
		if p.Status.Phase == types.PodFailed {
			t.Errorf("job pod %s failed: %+v", p.Name, p.Status)
		}
		if ev.Type == types.Deleted || finished || p.DeletionTimestamp != nil {
			delete(active, p.Name)
		} else {
			active[p.Name] = true
		}
		maxActive = max(maxActive, len(active))
	}
	t.Logf("at most %d Pods of the Job unfinished at once", maxActive)
	if maxActive > 2 {
		t.Errorf("at most %d Pods of the Job were unfinished at once, want at most parallelism 2", maxActive)
	}
	k.must(t, "wait", "--timeout="+ctlWait.String(), "--for=condition=complete", "job/five")
	got := k.must(t, "get", "job", "five", "-o", "jsonpath={.status.succeeded} {.status.failed} {.status.active}").Stdout
	if strings.TrimSpace(got) != "5" {
		t.Errorf("job five status succeeded/failed/active = %q, want 5 and none failed or active", got)
	}
	r := rows(s.mustWharf(t, "get", "jobs", "five").Stdout)
	if len(r) != 1 || !slices.Contains(r[0], "5/5") {
		t.Errorf("wharf get jobs five: rows %q, want COMPLETIONS 5/5", r)
	}
	if pods := k.names(t, "pods", "-l", "batch.kubernetes.io/job-name=five"); len(pods) != 5 || len(seen) != 5 {
		t.Errorf("pods of job five: listed %q, seen by the watch %d; want 5", pods, len(seen))
	}
	logs := k.must(t, "logs", "-l", "batch.kubernetes.io/job-name=five", "--tail=-1").Stdout
	if n := strings.Count(logs, "tick\n"); n != 5 {
		t.Errorf("logs of the job's Pods: %d lines tick, want 5:\n%s", n, logs)
	}
	k.must(t, "delete", "job", "five")
}

// testContainerScale scales a container Deployment from 1 to 3 with
// kubectl scale (the scale subresource), then down to 1 with wharf scale.
func testContainerScale(t *testing.T, s *wharfServer, k *kubectl) {
	ref := pushAppImage(t) // skips (fails in CI) unless root
	client, err := sdk.New(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	s.mustWharf(t, "apply", "-f", writeFile(t, "scaler.yaml", fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: scaler}
spec:
  replicas: 1
  selector:
    matchLabels: {app: scaler}
  template:
    metadata:
      labels: {app: scaler}
    spec:
      containers:
      - {name: app, image: %q, args: [trap]}
`, ref)))
	status := func() {
		t.Helper()
		k.must(t, "rollout", "status", "deployment/scaler", "--timeout="+ctlWait.String())
	}
	ready := func(want string) {
		t.Helper()
		got := k.must(t, "get", "deployment", "scaler", "-o", "jsonpath={.spec.replicas} {.status.replicas} {.status.readyReplicas} {.status.availableReplicas}").Stdout
		if got != want {
			t.Errorf("deployment scaler spec/status replicas, ready, available = %q, want %q", got, want)
		}
	}
	poll(t, ctlWait, "one scaler Pod Running", func() bool { return ctlAllOn(t, client, "app=scaler", 1, ref) })
	status()

	k.must(t, "scale", "deployment/scaler", "--replicas=3")
	poll(t, ctlWait, "three scaler Pods Running", func() bool { return ctlAllOn(t, client, "app=scaler", 3, ref) })
	status()
	ready("3 3 3 3")
	if rs := k.names(t, "replicasets", "-l", "app=scaler"); len(rs) != 1 {
		t.Errorf("replica sets of scaler after scaling: %q, want still 1", rs)
	}

	s.mustWharf(t, "scale", "deployment/scaler", "--replicas=1")
	poll(t, ctlWait, "scaler back to one Pod, the others gone", func() bool {
		return len(k.names(t, "pods", "-l", "app=scaler")) == 1 && ctlAllOn(t, client, "app=scaler", 1, ref)
	})
	status()
	ready("1 1 1 1")
	k.must(t, "delete", "deployment", "scaler")
}

// testCronFires waits for the every-minute CronJob to create a Job that
// completes, and checks the CronJob's status.
func testCronFires(t *testing.T, s *wharfServer, k *kubectl, client *sdk.Client, created time.Time) {
	var job *types.Job
	poll(t, cronWait, "a Job of cronjob tick completed", func() bool {
		l, err := sdk.Typed[*types.Job](client).Namespace("default").List(context.Background(), sdk.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range l.Items {
			for _, o := range j.OwnerReferences {
				if o.Kind == "CronJob" && o.Name == "tick" && o.Controller != nil && *o.Controller {
					for _, c := range j.Status.Conditions {
						if c.Type == types.JobComplete && c.Status == types.ConditionTrue {
							job = j
							return true
						}
					}
				}
			}
		}
		return false
	})
	// Kubernetes names a CronJob's Job NAME-<scheduled time in minutes>.
	var scheduled time.Time
	if m := regexp.MustCompile(`^tick-(\d+)$`).FindStringSubmatch(job.Name); m == nil {
		t.Errorf("job of cronjob tick named %q, want tick-<minutes>", job.Name)
	} else {
		min, _ := strconv.ParseInt(m[1], 10, 64) // \d+ of a current time: in range
		if scheduled = time.Unix(min*60, 0); scheduled.Before(created) || scheduled.After(time.Now()) {
			t.Errorf("job of cronjob tick named %q: scheduled at %v, want a minute since the CronJob's creation (%v)", job.Name, scheduled, created)
		}
	}
	last := k.must(t, "get", "cronjob", "tick", "-o", "jsonpath={.status.lastScheduleTime}").Stdout
	ts, err := time.Parse(time.RFC3339, last)
	if err != nil || ts.Second() != 0 || ts.Before(scheduled) {
		t.Errorf("cronjob tick status.lastScheduleTime = %q, want a minute boundary, not before the Job's (%v)", last, scheduled)
	}
	out := s.mustWharf(t, "get", "cronjobs", "tick").Stdout
	if h := header(out); !slices.Contains(h, "SCHEDULE") || !slices.Contains(h, "LAST") {
		t.Errorf("wharf get cronjobs: header %q, want SCHEDULE and LAST SCHEDULE", h)
	}
	// job/NAME finds the Pods by the selector the API generated.
	if got := s.mustWharf(t, "logs", "job/"+job.Name).Stdout; got != "tick\n" {
		t.Errorf("wharf logs job/%s = %q, want tick", job.Name, got)
	}
	k.must(t, "delete", "cronjob", "tick")
}

// ctlStartCluster starts a server (node grace period 2 s) and the agents
// named, as separate processes on loopback, and waits for their Nodes to
// be Ready.
func ctlStartCluster(t *testing.T, agents ...string) *clusterEnv {
	t.Helper()
	server := startProc(t, "server", "server", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0",
		"--serf-bind", "127.0.0.1:0", "--node-grace-period", "2s", "--encrypt", gossipKey)
	c := &clusterEnv{server: server, agents: map[string]*proc{}, dirs: map[string]string{}}
	c.srv = &wharfServer{URL: server.await(t, reAPI)}
	c.gossip = server.await(t, reGossip)
	var err error
	if c.client, err = sdk.New(c.srv.URL); err != nil {
		t.Fatal(err)
	}
	for _, a := range agents {
		c.startAgent(t, a)
	}
	poll(t, ctlWait, "Ready nodes "+strings.Join(agents, ", "), func() bool {
		for _, a := range agents {
			if n := c.node(t, a); n == nil || !nodeReady(n) {
				return false
			}
		}
		return true
	})
	return c
}

// TestControllersDaemonSetFollowsAgents runs a Wasm DaemonSet on a server
// with three agents: one Pod Running per node; an agent that leaves keeps
// its Pod (daemons tolerate an unreachable node, as in Kubernetes) and
// none is added elsewhere; once its Node is deleted its Pod goes; when
// the agent joins again its Node gets a Pod again; a new agent gets one
// too.
func TestControllersDaemonSetFollowsAgents(t *testing.T) {
	t.Parallel()
	c := ctlStartCluster(t, "agent-1", "agent-2", "agent-3")
	k := newKubectl(t, c.srv)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("objects:\n%s", k.run(t, "", "get", "nodes,daemonsets,pods", "-o", "wide").Stdout)
		}
	})
	app, err := wasmtest.BuildGoApp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c.srv.mustWharf(t, "apply", "-f", writeFile(t, "ds.yaml", fmt.Sprintf(`apiVersion: apps/v1
kind: DaemonSet
metadata: {name: daemon}
spec:
  # updateStrategy left out: the API defaults it to RollingUpdate, which
  # kubectl rollout status needs.
  selector:
    matchLabels: {app: daemon}
  template:
    metadata:
      labels: {app: daemon}
    spec:
      runtimeClassName: wasm
      containers:
      - {name: d, image: "file://%s", args: [sleep]}
`, app)))

	// placement returns node -> number of live daemon Pods on it, and
	// whether every one of them is Running.
	placement := func() (map[string]int, bool) {
		m := map[string]int{}
		running := true
		for _, p := range ctlLivePods(t, c.client, "app=daemon") {
			m[p.Spec.NodeName]++
			running = running && p.Status.Phase == types.PodRunning
		}
		return m, running
	}
	onePerNode := func(nodes ...string) bool {
		m, running := placement()
		if !running || len(m) != len(nodes) {
			return false
		}
		for _, n := range nodes {
			if m[n] != 1 {
				return false
			}
		}
		return true
	}
	// dsStatus is desired, current, ready and available of the DaemonSet.
	dsStatus := func() string {
		return k.must(t, "get", "daemonset", "daemon", "-o",
			"jsonpath={.status.desiredNumberScheduled} {.status.currentNumberScheduled} {.status.numberReady} {.status.numberAvailable}").Stdout
	}

	poll(t, ctlWait, "one daemon Pod Running on each of the three agents", func() bool {
		return onePerNode("agent-1", "agent-2", "agent-3")
	})
	poll(t, ctlWait, "daemonset status 3 3 3 3", func() bool { return dsStatus() == "3 3 3 3" })
	k.must(t, "rollout", "status", "daemonset/daemon", "--timeout="+ctlWait.String())
	before := map[string]string{} // node -> Pod name
	for _, p := range ctlLivePods(t, c.client, "app=daemon") {
		before[p.Spec.NodeName] = p.Name
	}

	// A plain Pod on agent-2, which does not tolerate the unreachable
	// taint: its eviction shows that the lost-node grace period is over.
	wasmClass := "wasm"
	c.createPod(t, &types.Pod{ObjectMeta: types.ObjectMeta{Name: "witness"}, Spec: types.PodSpec{
		NodeName: "agent-2", RuntimeClassName: &wasmClass,
		Containers: []types.Container{{Name: "w", Image: "file://" + app, Args: []string{"sleep"}}},
	}})
	c.awaitPhase(t, "witness", types.PodRunning)

	// agent-2 leaves: its Node is lost (NoExecute unreachable taint), and
	// once the grace period is over its plain Pod is evicted, but the
	// daemon Pod stays (daemons tolerate the taint, as in Kubernetes) and
	// none is added elsewhere.
	c.agents["agent-2"].stop()
	poll(t, ctlWait, "agent-2 NotReady with the unreachable taint", func() bool {
		n := c.node(t, "agent-2")
		if n == nil || nodeReady(n) {
			return false
		}
		return slices.ContainsFunc(n.Spec.Taints, func(tn types.Taint) bool { return tn.Key == types.TaintNodeUnreachable })
	})
	poll(t, ctlWait, "the plain Pod of the lost agent-2 evicted", func() bool { return c.pod(t, "witness") == nil })
	m, _ := placement()
	if len(m) != 3 || m["agent-1"] != 1 || m["agent-2"] != 1 || m["agent-3"] != 1 {
		t.Errorf("daemon Pods per node after agent-2 left: %v, want still one on each of agent-1..3", m)
	}
	if p := c.pod(t, before["agent-2"]); p == nil || p.DeletionTimestamp != nil {
		t.Errorf("daemon Pod %s of the lost agent-2 was removed: daemons tolerate node.kubernetes.io/unreachable", before["agent-2"])
	}

	// Its Node is deleted (the agent is gone for good): its Pod goes, and
	// the DaemonSet wants two.
	k.must(t, "delete", "node", "agent-2")
	poll(t, ctlWait, "daemon Pods on agent-1 and agent-3 only", func() bool { return onePerNode("agent-1", "agent-3") })
	poll(t, ctlWait, "daemonset status 2 2 2 2", func() bool { return dsStatus() == "2 2 2 2" })
	for _, n := range []string{"agent-1", "agent-3"} {
		if p := c.pod(t, before[n]); p == nil || p.DeletionTimestamp != nil {
			t.Errorf("daemon Pod %s of %s replaced or removed when agent-2 left", before[n], n)
		}
	}

	// agent-2 joins again (same data dir) and a new agent-4 joins: both
	// Nodes get a daemon Pod.
	c.startAgent(t, "agent-2")
	c.startAgent(t, "agent-4")
	poll(t, ctlWait, "one daemon Pod Running on each of the four agents", func() bool {
		return onePerNode("agent-1", "agent-2", "agent-3", "agent-4")
	})
	poll(t, ctlWait, "daemonset status 4 4 4 4", func() bool { return dsStatus() == "4 4 4 4" })
	k.must(t, "rollout", "status", "daemonset/daemon", "--timeout="+ctlWait.String())
	if p := c.pod(t, before["agent-2"]); p != nil {
		t.Errorf("the old daemon Pod %s of agent-2 is back after its Node was deleted", p.Name)
	}
	k.must(t, "delete", "daemonset", "daemon")
	poll(t, ctlWait, "daemon Pods removed with their DaemonSet", func() bool {
		return len(k.names(t, "pods", "-l", "app=daemon")) == 0
	})
}

// ctlPodTracker follows the Pods of a label selector through a watch that
// starts at a list's resourceVersion, so it sees every state the store
// went through, and records the fewest Ready and the most live (not being
// deleted) Pods of any of those states.
type ctlPodTracker struct {
	client *sdk.Client
	sel    string
	w      *sdk.Watcher[*types.Pod]
	done   chan struct{}

	mu                sync.Mutex
	pods              map[string]*types.Pod
	minReady, maxLive int
}

// ctlTrackPods starts a tracker; call stop to read what it recorded.
func ctlTrackPods(t *testing.T, client *sdk.Client, sel string) *ctlPodTracker {
	t.Helper()
	pods := sdk.Typed[*types.Pod](client).Namespace("default")
	l, err := pods.List(context.Background(), sdk.ListOptions{LabelSelector: sel})
	if err != nil {
		t.Fatal(err)
	}
	w, err := pods.Watch(context.Background(), sdk.ListOptions{LabelSelector: sel, ResourceVersion: l.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	tr := &ctlPodTracker{client: client, sel: sel, w: w, done: make(chan struct{}), pods: map[string]*types.Pod{}, minReady: len(l.Items) + 1}
	for _, p := range l.Items {
		tr.pods[p.Name] = p
	}
	tr.record()
	go func() {
		defer close(tr.done)
		for ev := range w.Events() {
			if ev.Type == types.Bookmark {
				continue
			}
			tr.mu.Lock()
			if ev.Type == types.Deleted {
				delete(tr.pods, ev.Object.Name)
			} else {
				tr.pods[ev.Object.Name] = ev.Object
			}
			tr.record()
			tr.mu.Unlock()
		}
	}()
	return tr
}

// record counts the current state; the caller holds mu (or owns tr).
func (tr *ctlPodTracker) record() {
	live, ready := 0, 0
	for _, p := range tr.pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		live++
		if slices.ContainsFunc(p.Status.Conditions, func(c types.PodCondition) bool {
			return c.Type == types.PodReady && c.Status == types.ConditionTrue
		}) {
			ready++
		}
	}
	tr.minReady, tr.maxLive = min(tr.minReady, ready), max(tr.maxLive, live)
}

// stop waits until the tracker has seen the state a fresh list shows,
// ends the watch, and returns the fewest Ready and most live Pods seen.
func (tr *ctlPodTracker) stop(t *testing.T) (minReady, maxLive int) {
	t.Helper()
	poll(t, ctlWait, "the Pod watch of "+tr.sel+" caught up with a list", func() bool {
		l, err := sdk.Typed[*types.Pod](tr.client).Namespace("default").List(context.Background(), sdk.ListOptions{LabelSelector: tr.sel})
		if err != nil {
			t.Fatal(err)
		}
		tr.mu.Lock()
		defer tr.mu.Unlock()
		if len(l.Items) != len(tr.pods) {
			return false
		}
		for _, p := range l.Items {
			if q := tr.pods[p.Name]; q == nil || q.ResourceVersion != p.ResourceVersion {
				return false
			}
		}
		return true
	})
	tr.w.Stop()
	<-tr.done
	if err := tr.w.Err(); err != nil {
		t.Errorf("pod watch of %s: %v", tr.sel, err)
	}
	return tr.minReady, tr.maxLive
}
