package test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/internal/testutil"
	"github.com/wharfhq/wharf/runtimes/image/imagetest"
	"github.com/wharfhq/wharf/runtimes/wasm/wasmtest"
	"github.com/wharfhq/wharf/sdk"
)

// proc is a wharf process (server or agent) whose stderr is kept and
// searched.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}

	mu     sync.Mutex
	stderr bytes.Buffer
	seen   chan struct{} // closed and replaced on every new line
}

// startProc starts wharf with args; it is killed when the test ends and
// its log is printed if the test failed.
func startProc(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, done: make(chan struct{}), seen: make(chan struct{})}
	p.cmd = exec.Command(wharfBin, args...)
	pr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			p.mu.Lock()
			p.stderr.WriteString(sc.Text() + "\n")
			close(p.seen)
			p.seen = make(chan struct{})
			p.mu.Unlock()
		}
		_ = p.cmd.Wait()
	}()
	t.Cleanup(func() {
		p.kill()
		if strings.Contains(p.logs(), "WARNING: DATA RACE") { // WHARF_E2E_RACE=1
			t.Errorf("%s reported a data race", name)
		}
		if t.Failed() {
			t.Logf("%s logged:\n%s", name, p.logs())
		}
	})
	return p
}

func (p *proc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// await returns the first submatch of re in the process's log, waiting
// for it to appear.
func (p *proc) await(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.After(startTimeout)
	for {
		p.mu.Lock()
		m := re.FindStringSubmatch(p.stderr.String())
		seen := p.seen
		p.mu.Unlock()
		if m != nil {
			return m[1]
		}
		select {
		case <-seen:
		case <-p.done:
			t.Fatalf("%s exited before logging %v:\n%s", p.name, re, p.logs())
		case <-deadline:
			t.Fatalf("%s did not log %v within %v:\n%s", p.name, re, startTimeout, p.logs())
		}
	}
}

// stop sends SIGTERM and waits for the process to be gone.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.done
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// gossipKey encrypts the test cluster's gossip, and so also makes the
// agents require the API server's token.
const gossipKey = "aGVsbG8td2hhcmYtZ29zc2lwLWtleS0zMi1ieXRlcyE="

var (
	reAPI    = regexp.MustCompile(`wharf API listening on (http://\S+)`)
	reGossip = regexp.MustCompile(`cluster member started.*gossip=(\S+)`)
)

// poll calls cond until it holds, failing the test after timeout (a safety
// net against a hang, not a timed assertion).
func poll(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if os.Getenv("WHARF_E2E_RACE") == "1" {
		timeout *= 5 // everything, wazero's compiler first, is much slower
	}
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type clusterEnv struct {
	server *proc
	srv    *wharfServer // for the CLI helpers (URL only)
	client *sdk.Client
	gossip string
	agents map[string]*proc
	dirs   map[string]string
}

func (c *clusterEnv) startAgent(t *testing.T, name string) {
	t.Helper()
	if c.dirs[name] == "" {
		c.dirs[name] = t.TempDir()
	}
	args := []string{"agent", "--join", c.gossip, "--node-name", name, "--data-dir", c.dirs[name],
		"--serf-bind", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--encrypt", gossipKey}
	if name == "agent-3" {
		args = append(args, "--runtimes", "wasm", "--labels", "zone=edge") // a Wasm-only node
	}
	c.agents[name] = startProc(t, name, args...)
}

// deleteAllPods deletes the Deployments and Pods of the default namespace
// and waits (up to 30 s) until the agents have removed the Pods.
func (c *clusterEnv) deleteAllPods(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = sdk.Typed[*types.Deployment](c.client).Namespace("default").Dynamic().DeleteCollection(ctx, types.DeleteOptions{}, sdk.ListOptions{})
	pods := sdk.Typed[*types.Pod](c.client).Namespace("default")
	_ = c.client.Resource(pods.Dynamic().Resource()).Namespace("default").DeleteCollection(ctx, types.DeleteOptions{}, sdk.ListOptions{})
	for ctx.Err() == nil {
		l, err := pods.List(ctx, sdk.ListOptions{})
		if err == nil && len(l.Items) == 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if ctx.Err() != nil {
		t.Errorf("pods not removed within 30 s of their deletion")
		return
	}
	// The agents remove the containers of Pods that are gone.
	var left []string
	for ctx.Err() == nil {
		left = left[:0]
		for name, d := range c.dirs {
			ents, _ := os.ReadDir(filepath.Join(d, "runtimes", "container", "containers"))
			for _, e := range ents {
				left = append(left, name+": "+e.Name())
			}
		}
		if len(left) == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Errorf("containers left after their Pods were deleted: %v", left)
}

func nodeReady(n *types.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == types.NodeReady {
			return c.Status == types.ConditionTrue
		}
	}
	return false
}

func (c *clusterEnv) node(t *testing.T, name string) *types.Node {
	t.Helper()
	n, err := sdk.Typed[*types.Node](c.client).Get(context.Background(), name)
	if err != nil && !sdk.IsNotFound(err) {
		t.Fatal(err)
	}
	return n
}

func (c *clusterEnv) pod(t *testing.T, name string) *types.Pod {
	t.Helper()
	p, err := sdk.Typed[*types.Pod](c.client).Namespace("default").Get(context.Background(), name)
	if err != nil {
		if sdk.IsNotFound(err) {
			return nil
		}
		t.Fatal(err)
	}
	return p
}

func (c *clusterEnv) createPod(t *testing.T, p *types.Pod) {
	t.Helper()
	p.Namespace = "default"
	if _, err := sdk.Typed[*types.Pod](c.client).Namespace("default").Create(context.Background(), p); err != nil {
		t.Fatalf("create pod %s: %v", p.Name, err)
	}
}

func (c *clusterEnv) awaitPhase(t *testing.T, name string, phase types.PodPhase) *types.Pod {
	t.Helper()
	var p *types.Pod
	poll(t, 60*time.Second, "pod "+name+" "+string(phase), func() bool {
		p = c.pod(t, name)
		return p != nil && p.Status.Phase == phase
	})
	return p
}

// TestClusterOfThreeAgents runs one server and three agents as separate
// processes on loopback: Pods of both runtimes run on the agents and their
// logs are read through the API (wharf logs, kubectl logs, exec); an agent
// restart neither loses nor repeats what ran; kill -9 of an agent makes
// its Node NotReady and its Deployment's Pods come back on the others.
func TestClusterOfThreeAgents(t *testing.T) {
	serverDir := t.TempDir()
	serverArgs := []string{"server", "--data-dir", serverDir, "--listen", "127.0.0.1:0",
		"--serf-bind", "127.0.0.1:0", "--node-grace-period", "2s", "--encrypt", gossipKey}
	server := startProc(t, "server", serverArgs...)
	c := &clusterEnv{server: server, agents: map[string]*proc{}, dirs: map[string]string{}}
	c.srv = &wharfServer{URL: server.await(t, reAPI)}
	c.gossip = server.await(t, reGossip)
	var err error
	if c.client, err = sdk.New(c.srv.URL); err != nil {
		t.Fatal(err)
	}
	agents := []string{"agent-1", "agent-2", "agent-3"}
	for _, a := range agents {
		c.startAgent(t, a)
	}
	// Containers outlive their agent (as with the kubelet): delete the
	// Pods, so the agents stop and remove their containers, before the
	// processes are killed and the data dirs removed (a deferred call runs
	// before every Cleanup, including those of agents restarted later).
	defer c.deleteAllPods(t)
	poll(t, 60*time.Second, "three Ready nodes", func() bool {
		for _, a := range agents {
			if n := c.node(t, a); n == nil || !nodeReady(n) {
				return false
			}
		}
		return true
	})
	wantRuntimes := "wasm"
	if ok, _ := canRunContainersHere(); ok {
		wantRuntimes = "container.wasm"
	}
	for name, want := range map[string]map[string]string{
		"agent-1": {"wharf.dev/runtimes": wantRuntimes, "kubernetes.io/hostname": "agent-1", "kubernetes.io/os": "linux"},
		"agent-3": {"wharf.dev/runtimes": "wasm", "wharf.dev/runtime-wasm": "true", "wharf.dev/runtime-container": "", "zone": "edge"},
	} {
		l := c.node(t, name).Labels
		for k, v := range want {
			if l[k] != v {
				t.Errorf("node %s label %s = %q, want %q", name, k, l[k], v)
			}
		}
	}
	out := c.srv.mustWharf(t, "get", "nodes").Stdout
	for _, a := range agents {
		if !regexp.MustCompile(`(?m)^` + a + `\s+Ready`).MatchString(out) {
			t.Errorf("wharf get nodes does not show %s Ready:\n%s", a, out)
		}
	}

	// Wasm Pods, one per agent, run to completion; logs through the API.
	mod := filepath.Join(t.TempDir(), "hello.wasm")
	if err := os.WriteFile(mod, wasmtest.Print("hello from wasm\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wasmClass := "wasm"
	for _, a := range agents {
		c.createPod(t, &types.Pod{ObjectMeta: types.ObjectMeta{Name: "hello-" + a}, Spec: types.PodSpec{
			NodeName: a, RuntimeClassName: &wasmClass, RestartPolicy: types.RestartPolicyNever,
			Containers: []types.Container{{Name: "hello", Image: "file://" + mod}},
		}})
	}
	kc := newKubectl(t, c.srv)
	for _, a := range agents {
		name := "hello-" + a
		c.awaitPhase(t, name, types.PodSucceeded)
		if got := c.srv.mustWharf(t, "logs", name).Stdout; got != "hello from wasm\n" {
			t.Errorf("wharf logs %s = %q", name, got)
		}
		if got := kc.must(t, "logs", name).Stdout; got != "hello from wasm\n" {
			t.Errorf("kubectl logs %s = %q", name, got)
		}
	}
	if r := c.srv.wharf(t, "logs", "hello-agent-1", "-c", "nope"); r.Code == 0 || !strings.Contains(r.Stderr, "not valid for pod") {
		t.Errorf("logs of a missing container: %s", r)
	}

	// Containers (root only): run to completion with logs, and exec into a
	// running one with wharf and with kubectl (WebSocket).
	containerPods := os.Geteuid() == 0
	if containerPods {
		ref := pushAppImage(t)
		c.createPod(t, &types.Pod{ObjectMeta: types.ObjectMeta{Name: "echo"}, Spec: types.PodSpec{
			NodeName: "agent-2", RestartPolicy: types.RestartPolicyNever,
			Containers: []types.Container{{Name: "app", Image: ref, Args: []string{"echo", "from-container"}}},
		}})
		c.createPod(t, &types.Pod{ObjectMeta: types.ObjectMeta{Name: "sleeper"}, Spec: types.PodSpec{
			NodeName:   "agent-1",
			Containers: []types.Container{{Name: "app", Image: ref, Args: []string{"sleep", "1h"}}},
		}})
		c.awaitPhase(t, "echo", types.PodSucceeded)
		if got := c.srv.mustWharf(t, "logs", "echo").Stdout; !strings.Contains(got, "from-container") {
			t.Errorf("wharf logs echo = %q", got)
		}
		c.awaitPhase(t, "sleeper", types.PodRunning)
		if got := c.srv.mustWharf(t, "exec", "sleeper", "--", "/app", "echo", "via-exec").Stdout; !strings.Contains(got, "via-exec") {
			t.Errorf("wharf exec stdout = %q", got)
		}
		if r := c.srv.wharf(t, "exec", "sleeper", "--", "/app", "exit", "7"); r.Code != 7 {
			t.Errorf("wharf exec exit 7: %s", r)
		}
		if got := kc.must(t, "exec", "sleeper", "--", "/app", "echo", "via-kubectl").Stdout; !strings.Contains(got, "via-kubectl") {
			t.Errorf("kubectl exec stdout = %q", got)
		}
		// stdin, closed at its end (v5 close signal).
		if r := kc.run(t, "typed-into-kubectl\n", "exec", "-i", "sleeper", "--", "/app", "cat", "/dev/stdin"); r.Code != 0 || r.Stdout != "typed-into-kubectl\n" {
			t.Errorf("kubectl exec -i: %s", r)
		}
		if r := run(t, []string{"WHARF_SERVER=" + c.srv.URL}, "typed-into-wharf\n", wharfBin, "exec", "-i", "sleeper", "--", "/app", "cat", "/dev/stdin"); r.Code != 0 || r.Stdout != "typed-into-wharf\n" {
			t.Errorf("wharf exec -i: %s", r)
		}
	} else {
		t.Log("container Pods skipped: not root")
	}

	// Restart agent-1 (SIGTERM, then again on the same data dir): what
	// finished stays finished and is not run again; a running container
	// is adopted, not duplicated. (The lost-node step below kills an agent
	// with SIGKILL and brings it back.)
	var before *types.Pod
	if containerPods {
		before = c.pod(t, "sleeper")
	}
	c.agents["agent-1"].stop()
	c.startAgent(t, "agent-1")
	c.agents["agent-1"].await(t, regexp.MustCompile(`(registered node|node registration updated)`))
	poll(t, 30*time.Second, "agent-1 Ready again", func() bool { n := c.node(t, "agent-1"); return n != nil && nodeReady(n) })
	if p := c.pod(t, "hello-agent-1"); p.Status.Phase != types.PodSucceeded {
		t.Errorf("finished Pod after the agent restart: phase %s", p.Status.Phase)
	}
	if got := c.srv.mustWharf(t, "logs", "hello-agent-1").Stdout; got != "hello from wasm\n" {
		t.Errorf("logs after the agent restart = %q (run again?)", got)
	}
	if containerPods {
		// Let the restarted agent sync once more, then compare.
		poll(t, 30*time.Second, "sleeper still Running", func() bool {
			p := c.pod(t, "sleeper")
			return p.Status.Phase == types.PodRunning && len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Running != nil
		})
		after := c.pod(t, "sleeper")
		b, a := before.Status.ContainerStatuses[0], after.Status.ContainerStatuses[0]
		if a.ContainerID != b.ContainerID || a.RestartCount != b.RestartCount {
			t.Errorf("container across the agent restart: %s (restarts %d) -> %s (restarts %d)", b.ContainerID, b.RestartCount, a.ContainerID, a.RestartCount)
		}
	}

	// kill -9 of an agent: its Node goes NotReady and its Pods are
	// replaced on the others.
	testLostNode(t, c)

	// kill -9 of the server, restarted on its data dir but on new ports:
	// its serf snapshot names the agents, whose clients follow its new API
	// address; the Nodes stay Ready and new Pods run.
	c.server.kill()
	restarted := time.Now().Truncate(time.Second)
	c.server = startProc(t, "server (restarted)", serverArgs...)
	c.srv = &wharfServer{URL: c.server.await(t, reAPI)}
	if c.client, err = sdk.New(c.srv.URL); err != nil {
		t.Fatal(err)
	}
	poll(t, 60*time.Second, "the agents' heartbeats reach the restarted server", func() bool {
		for _, a := range agents {
			n := c.node(t, a)
			if n == nil || !nodeReady(n) {
				return false
			}
			for _, cond := range n.Status.Conditions {
				if cond.Type == types.NodeReady && cond.LastHeartbeatTime.Before(restarted) {
					return false
				}
			}
		}
		return true
	})
	c.createPod(t, &types.Pod{ObjectMeta: types.ObjectMeta{Name: "after-restart"}, Spec: types.PodSpec{
		RuntimeClassName: &wasmClass, RestartPolicy: types.RestartPolicyNever,
		Containers: []types.Container{{Name: "hello", Image: "file://" + mod}},
	}})
	c.awaitPhase(t, "after-restart", types.PodSucceeded)
	if got := c.srv.mustWharf(t, "logs", "after-restart").Stdout; got != "hello from wasm\n" {
		t.Errorf("logs after the server restart = %q", got)
	}
}

// testLostNode runs a Deployment of long-running Wasm Pods, kills the
// agent of one of them and waits for the Deployment to be whole again on
// the other nodes.
func testLostNode(t *testing.T, c *clusterEnv) {
	goApp, err := wasmtest.BuildGoApp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	manifest := fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: sleepers
spec:
  replicas: 3
  selector:
    matchLabels: {app: sleepers}
  template:
    metadata:
      labels: {app: sleepers}
    spec:
      runtimeClassName: wasm
      containers:
      - name: s
        image: file://%s
        args: ["sleep"]
`, goApp)
	c.srv.mustWharf(t, "apply", "-f", writeFile(t, "deploy.yaml", manifest))
	defer func() {
		if t.Failed() {
			t.Logf("objects at the failure:\n%s", c.srv.wharf(t, "get", "deploy,rs,pods,nodes", "-o", "wide"))
		}
	}()
	pods := func() []*types.Pod {
		l, err := sdk.Typed[*types.Pod](c.client).Namespace("default").List(context.Background(), sdk.ListOptions{LabelSelector: "app=sleepers"})
		if err != nil {
			t.Fatal(err)
		}
		return l.Items
	}
	// When no scheduler runs in the server yet, the test binds the Pods
	// itself (round robin over the Ready nodes), as a scheduler would.
	manual := true
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && manual {
		for _, p := range pods() {
			if p.Spec.NodeName != "" {
				manual = false
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if manual {
		t.Log("no scheduler placed the Deployment's Pods: the test binds them itself")
	}
	next := 0
	bindPending := func(exclude string) {
		if !manual {
			return
		}
		var ready []string
		for _, a := range []string{"agent-1", "agent-2", "agent-3"} {
			if n := c.node(t, a); a != exclude && n != nil && nodeReady(n) {
				ready = append(ready, a)
			}
		}
		for _, p := range pods() {
			if p.Spec.NodeName == "" && p.DeletionTimestamp == nil && len(ready) > 0 {
				if err := c.client.Bind(context.Background(), p, ready[next%len(ready)]); err == nil {
					next++
				}
			}
		}
	}
	poll(t, 60*time.Second, "three sleepers Running", func() bool {
		bindPending("")
		n := 0
		for _, p := range pods() {
			if p.Status.Phase == types.PodRunning {
				n++
			}
		}
		return n == 3
	})
	// Logs by owner and by selector.
	poll(t, 30*time.Second, "the sleepers said so", func() bool {
		return strings.Contains(c.srv.wharf(t, "logs", "deploy/sleepers").Stdout, "sleeping")
	})
	poll(t, 30*time.Second, "every sleeper said so", func() bool {
		out := c.srv.wharf(t, "logs", "-l", "app=sleepers", "--prefix").Stdout
		return strings.Count(out, "] sleeping") == 3 && strings.Count(out, "[pod/sleepers-") == 3
	})
	victim := pods()[0].Spec.NodeName
	c.agents[victim].kill()

	hasTaint := func(n *types.Node, e types.TaintEffect) bool {
		for _, tn := range n.Spec.Taints {
			if tn.Key == types.TaintNodeUnreachable && tn.Effect == e {
				return true
			}
		}
		return false
	}
	poll(t, 30*time.Second, victim+" NotReady with the unreachable:NoSchedule taint", func() bool {
		n := c.node(t, victim)
		return n != nil && !nodeReady(n) && hasTaint(n, types.TaintEffectNoSchedule)
	})
	if r := c.srv.mustWharf(t, "get", "node", victim); !strings.Contains(r.Stdout, "NotReady") {
		t.Errorf("wharf get node %s:\n%s", victim, r.Stdout)
	}
	poll(t, 60*time.Second, "three sleepers Running on the other nodes", func() bool {
		bindPending(victim)
		n := 0
		for _, p := range pods() {
			if p.Spec.NodeName == victim {
				return false // not yet removed from the lost node
			}
			if p.Status.Phase == types.PodRunning {
				n++
			}
		}
		return n == 3
	})

	if n := c.node(t, victim); !hasTaint(n, types.TaintEffectNoExecute) {
		t.Errorf("%s after the grace period: taints %+v, want unreachable:NoExecute too", victim, n.Spec.Taints)
	}

	// The lost node comes back: Ready again, the taints lifted, and what it
	// left behind cleaned up.
	c.startAgent(t, victim)
	poll(t, 30*time.Second, victim+" Ready again without the taint", func() bool {
		n := c.node(t, victim)
		if n == nil || !nodeReady(n) {
			return false
		}
		for _, tn := range n.Spec.Taints {
			if tn.Key == types.TaintNodeUnreachable {
				return false
			}
		}
		return true
	})
}

// pushAppImage pushes the container runtime's test program as an image to
// a registry in this process and returns its reference.
func pushAppImage(t *testing.T) string {
	t.Helper()
	testutil.RequireRoot(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "app")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "../runtimes/container/testdata/app")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the app: %v\n%s", err, b)
	}
	body, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	img := imagetest.Image(t, v1.ConfigFile{OS: "linux", Architecture: runtime.GOARCH, Config: v1.Config{Entrypoint: []string{"/app"}}},
		imagetest.Layer(t, imagetest.File("app", string(body), 0o755), imagetest.Dir("tmp"), imagetest.Dir("etc"),
			imagetest.File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0o644)))
	ref := imagetest.Registry(t) + "/app:v1"
	imagetest.Push(t, ref, img)
	return ref
}

// TestUpIsAWholeCluster checks that `wharf up` alone runs Pods: its own
// node registers, the scheduler places a Wasm Pod there, it runs to
// completion and its logs come back through the API.
func TestUpIsAWholeCluster(t *testing.T) {
	s := startServer(t, t.TempDir())
	mod := filepath.Join(t.TempDir(), "hello.wasm")
	if err := os.WriteFile(mod, wasmtest.Print("hello from up\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.mustWharf(t, "apply", "-f", writeFile(t, "pod.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: hello
spec:
  runtimeClassName: wasm
  restartPolicy: Never
  containers:
  - name: hello
    image: file://%s
`, mod)))
	client, err := sdk.New(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	c := &clusterEnv{client: client}
	p := c.awaitPhase(t, "hello", types.PodSucceeded)
	if p.Spec.NodeName != "e2e-node" {
		t.Errorf("pod ran on %q, want the up node e2e-node", p.Spec.NodeName)
	}
	if got := s.mustWharf(t, "logs", "hello").Stdout; got != "hello from up\n" {
		t.Errorf("wharf logs = %q", got)
	}
	if got := s.mustWharf(t, "logs", "-f", "hello", "--timestamps").Stdout; !strings.HasSuffix(got, " hello from up\n") {
		t.Errorf("wharf logs -f --timestamps = %q", got)
	}
	if got := newKubectl(t, s).must(t, "logs", "-f", "hello").Stdout; got != "hello from up\n" {
		t.Errorf("kubectl logs -f = %q", got)
	}
	if r := s.wharf(t, "exec", "hello", "--", "ls"); r.Code == 0 || !strings.Contains(r.Stderr, "cannot exec") {
		t.Errorf("exec into a Wasm Pod: %s", r)
	}
}

// canRunContainersHere mirrors the agent's default: containers need root
// and cgroup controllers.
func canRunContainersHere() (bool, string) {
	if os.Geteuid() != 0 {
		return false, "not root"
	}
	for _, p := range []string{"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cgroup.controllers"} {
		if _, err := os.Stat(p); err == nil {
			return true, ""
		}
	}
	return false, "no cgroup controllers"
}
