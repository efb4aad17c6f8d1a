package test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wharfhq/wharf/internal/testutil"
)

// exampleWasm is the file:// image the Wasm examples name; the test points
// them at its own build instead, so that it never touches /tmp globally.
const exampleWasm = "file:///tmp/wharf-examples/hello.wasm"

// trapWasm is a WASI command module whose _start executes `unreachable`:
// the smallest module that traps.
var trapWasm = []byte("\x00asm\x01\x00\x00\x00" +
	"\x01\x04\x01\x60\x00\x00" + // type section: one func () -> ()
	"\x03\x02\x01\x00" + // function section: one function of type 0
	"\x07\x0a\x01\x06_start\x00\x00" + // export section: "_start" = func 0
	"\x0a\x05\x01\x03\x00\x00\x0b") // code section: no locals, unreachable, end

// waitFor bounds each wait on a workload; a safety net against a hang, not
// a timed assertion.
const waitFor = 40 * time.Second

// TestWorkloads is a new user's first session against `wharf up`, with real
// workloads: it builds and applies examples/ (a Wasm Pod, a Wasm Job, a
// container Deployment and Service, a CronJob, run at once with wharf create
// job --from), and checks what each one does: logs, completions, rollout,
// exec, a graceful restart of wharf up that adopts the containers, a rolling
// restart, scaling down and garbage collection on the node too; then that bad
// workloads (missing image, Wasm trap, Wasm and container OOM) get clear
// statuses.
func TestWorkloads(t *testing.T) {
	testutil.RequireRoot(t)
	dataDir, exDir := t.TempDir(), t.TempDir()
	buildExamples(t, exDir, dataDir)
	manifests := exampleManifests(t, "file://"+filepath.Join(exDir, "hello.wasm"))

	// A node name of its own, so its Pods are told apart from other test
	// runs' in events and on the host (its namespace directory is
	// /run/wharf/netns/NODE-HASH, removed by the agent when empty).
	node := fmt.Sprintf("e2e-workloads-%d", os.Getpid())
	s := startServer(t, dataDir, "--node-name", node)
	k := newKubectl(t, s)
	tend(t, s, k)

	out := s.mustWharf(t, "apply", "-f", manifests).Stdout
	for _, want := range []string{"pod/hello-wasm created", "job.batch/count created", "deployment.apps/web created", "service/web created", "cronjob.batch/report created"} {
		if !strings.Contains(out, want) {
			t.Errorf("wharf apply -f examples/: no %q in\n%s", want, out)
		}
	}

	got := strings.Fields(s.mustWharf(t, "get", "-f", manifests, "-o", "name").Stdout)
	want := []string{"cronjob.batch/report", "deployment.apps/web", "job.batch/count", "service/web", "pod/hello-wasm"}
	if !slices.Equal(got, want) {
		t.Errorf("wharf get -f examples/ -o name = %q, want %q", got, want)
	}

	t.Run("wasm pod", func(t *testing.T) {
		k.wait(t, "--for=jsonpath={.status.phase}=Succeeded", "pod/hello-wasm")
		const line = `hello from wasm: args=["hello" "from" "wasm"] greeting="hi"`
		if got := s.mustWharf(t, "logs", "hello-wasm").Stdout; !strings.Contains(got, line) {
			t.Errorf("wharf logs hello-wasm = %q, want a line %q", got, line)
		}
		if got := k.must(t, "logs", "hello-wasm").Stdout; !strings.Contains(got, line) {
			t.Errorf("kubectl logs hello-wasm = %q, want a line %q", got, line)
		}
		if st := podStatus(t, s, "hello-wasm"); st != "Completed" {
			t.Errorf("wharf get pods: hello-wasm STATUS %q, want Completed", st)
		}
	})

	t.Run("wasm job", func(t *testing.T) {
		k.wait(t, "--for=condition=complete", "job/count")
		r := rows(s.mustWharf(t, "get", "jobs", "count").Stdout)
		if len(r) != 1 || len(r[0]) < 3 || r[0][1] != "Complete" || r[0][2] != "3/3" {
			t.Errorf("wharf get jobs count: rows %q, want STATUS Complete, COMPLETIONS 3/3", r)
		}
		// Not `kubectl logs job/count`: the API does not default the Job's
		// spec.selector, so kubectl would pick any Pod of the namespace.
		logs := k.must(t, "logs", "-l", "batch.kubernetes.io/job-name=count", "--tail=-1").Stdout
		if !strings.Contains(logs, `args=["count" "10"]`) || !strings.Contains(logs, "\n10\n") {
			t.Errorf("kubectl logs -l batch.kubernetes.io/job-name=count = %q, want the count to 10", logs)
		}
	})

	t.Run("cronjob run now", func(t *testing.T) {
		s.mustWharf(t, "create", "job", "report-now", "--from=cronjob/report")
		k.wait(t, "--for=condition=complete", "job/report-now")
		logs := s.mustWharf(t, "logs", "-l", "batch.kubernetes.io/job-name=report-now").Stdout
		if want := `hello from a container: ["report" "done"]`; !strings.Contains(logs, want) {
			t.Errorf("wharf logs -l batch.kubernetes.io/job-name=report-now = %q, want %q", logs, want)
		}
	})

	t.Run("container deployment", func(t *testing.T) {
		k.must(t, "rollout", "status", "deployment/web", "--timeout="+waitFor.String())
		r := rows(s.mustWharf(t, "get", "deployments", "web").Stdout)
		if len(r) != 1 || len(r[0]) < 4 || r[0][1] != "3/3" || r[0][3] != "3" {
			t.Errorf("wharf get deployments web: rows %q, want READY 3/3, AVAILABLE 3", r)
		}
		pods := k.names(t, "pods", "-l", "app=web")
		if len(pods) != 3 {
			t.Fatalf("pods of app=web: %q, want 3", pods)
		}
		if got := k.must(t, "logs", pods[0]).Stdout; !strings.Contains(got, "listening on :8080") {
			t.Errorf("kubectl logs %s = %q, want the server's start line", pods[0], got)
		}
		got := k.must(t, "exec", pods[0], "--", "/hello", "from", "exec").Stdout
		if want := `hello from a container: ["from" "exec"]`; !strings.Contains(got, want) {
			t.Errorf("kubectl exec %s -- /hello from exec = %q, want %q", pods[0], got, want)
		}
	})

	parent := t
	t.Run("graceful restart keeps containers", func(t *testing.T) {
		pods, containers := k.names(t, "pods", "-l", "app=web"), webContainers(t, s)
		if err := s.stop(); err != nil {
			t.Fatalf("wharf up on SIGTERM: %v", err)
		}
		// The server and its cleanups belong to the whole test.
		s = startServer(parent, dataDir, "--node-name", node)
		k = newKubectl(parent, s)
		tend(parent, s, k)
		k.must(t, "rollout", "status", "deployment/web", "--timeout="+waitFor.String())
		if got := k.names(t, "pods", "-l", "app=web"); !slices.Equal(got, pods) {
			t.Errorf("pods of app=web after the restart: %q, want the same %q", got, pods)
		}
		if got := webContainers(t, s); !slices.Equal(got, containers) {
			t.Errorf("containers after the restart: %q, want the same (adopted, not recreated) %q", got, containers)
		}
		restarts := k.must(t, "get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].status.containerStatuses[0].restartCount}").Stdout
		if strings.Trim(restarts, "0 ") != "" {
			t.Errorf("restart counts after the restart: %q, want 0", restarts)
		}
		got := k.must(t, "exec", pods[0], "--", "/hello", "after", "restart").Stdout
		if want := `hello from a container: ["after" "restart"]`; !strings.Contains(got, want) {
			t.Errorf("kubectl exec %s after the restart = %q, want %q", pods[0], got, want)
		}
	})

	t.Run("rolling restart", func(t *testing.T) {
		old := webContainers(t, s)
		s.mustWharf(t, "rollout", "restart", "deployment/web")
		k.must(t, "rollout", "status", "deployment/web", "--timeout="+waitFor.String())
		poll(t, waitFor, "3 new containers of deployment web, the old ones removed", func() bool {
			now := webContainers(t, s)
			return len(now) == 3 && !slices.ContainsFunc(now, func(c string) bool { return slices.Contains(old, c) })
		})
	})

	t.Run("scale down", func(t *testing.T) {
		s.mustWharf(t, "scale", "deployment/web", "--replicas=1")
		poll(t, waitFor, "deployment web scaled to 1 Pod", func() bool {
			return len(k.names(t, "pods", "-l", "app=web")) == 1
		})
		poll(t, waitFor, "the node keeps 1 container of deployment web", func() bool {
			return len(webContainers(t, s)) == 1
		})
		k.must(t, "rollout", "status", "deployment/web", "--timeout="+waitFor.String())
	})

	t.Run("garbage collection", func(t *testing.T) {
		// The rolling restart left the old ReplicaSet, scaled to 0.
		if rs := k.names(t, "replicasets", "-l", "app=web"); len(rs) != 2 {
			t.Fatalf("replica sets of app=web: %q, want 2", rs)
		}
		s.mustWharf(t, "delete", "deployment", "web")
		poll(t, waitFor, "replica set and Pods of the deleted deployment web removed", func() bool {
			return len(k.names(t, "replicasets,pods", "-l", "app=web")) == 0
		})
		poll(t, waitFor, "the node removes the containers of deployment web", func() bool {
			return len(webContainers(t, s)) == 0
		})
	})

	t.Run("bad workloads", func(t *testing.T) {
		trap := filepath.Join(exDir, "trap.wasm")
		if err := os.WriteFile(trap, trapWasm, 0o644); err != nil {
			t.Fatal(err)
		}
		wasm := "file://" + filepath.Join(exDir, "hello.wasm")
		bad := writeFile(t, "bad.yaml", badPods(wasm, "file://"+trap))
		s.mustWharf(t, "apply", "-f", bad)

		poll(t, waitFor, "missing image shown as ErrImagePull or ImagePullBackOff in get pods", func() bool {
			st := podStatus(t, s, "missing-image")
			return st == "ErrImagePull" || st == "ImagePullBackOff"
		})
		if got := k.must(t, "get", "pod", "missing-image").Stdout; !strings.Contains(got, "ImagePullBackOff") && !strings.Contains(got, "ErrImagePull") {
			t.Errorf("kubectl get pod missing-image:\n%s\nwant STATUS ErrImagePull or ImagePullBackOff", got)
		}

		k.wait(t, "--for=jsonpath={.status.phase}=Failed", "pod/wasm-trap")
		msg := k.must(t, "get", "pod", "wasm-trap", "-o", "jsonpath={.status.containerStatuses[0].state.terminated.message}").Stdout
		if !strings.Contains(msg, "unreachable") {
			t.Errorf("wasm-trap: termination message %q, want the trap (unreachable)", msg)
		}
		if st := podStatus(t, s, "wasm-trap"); st != "Error" {
			t.Errorf("wharf get pods: wasm-trap STATUS %q, want Error", st)
		}

		for _, pod := range []string{"wasm-oom", "container-oom"} {
			k.wait(t, "--for=jsonpath={.status.containerStatuses[0].state.terminated.reason}=OOMKilled", "pod/"+pod)
			if st := podStatus(t, s, pod); st != "OOMKilled" {
				t.Errorf("wharf get pods: %s STATUS %q, want OOMKilled", pod, st)
			}
		}
		desc := s.mustWharf(t, "describe", "-f", bad).Stdout
		if !strings.Contains(desc, "memory limit of 16777216 bytes") {
			t.Errorf("wharf describe -f bad.yaml does not name the Wasm module's memory limit:\n%s", desc)
		}
	})
}

// buildExamples runs `go run ./examples/build` from the repository root, as
// the README says, with its output in out and its image loaded into the
// node store of dataDir.
func buildExamples(t *testing.T, out, dataDir string) {
	t.Helper()
	cmd := exec.Command("go", "run", "./examples/build", "-out", out, "-data-dir", dataDir)
	cmd.Dir = ".."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ./examples/build: %v\n%s", err, b)
	}
}

// exampleManifests copies examples/*.yaml to a temp dir with the Wasm
// image pointed at wasm, and returns the dir.
func exampleManifests(t *testing.T, wasm string) string {
	t.Helper()
	files, err := filepath.Glob("../examples/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples/*.yaml: %v", err)
	}
	dir := t.TempDir()
	rewritten := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), exampleWasm) {
			rewritten++
		}
		b = []byte(strings.ReplaceAll(string(b), exampleWasm, wasm))
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if rewritten < 2 {
		t.Fatalf("%d example manifests name %s, want the Pod and the Job", rewritten, exampleWasm)
	}
	return dir
}

// badPods returns the manifests of four Pods that cannot succeed: a missing
// image, a trapping Wasm module, and a Wasm module and a container that
// outgrow their memory limits.
func badPods(wasm, trap string) string {
	return `apiVersion: v1
kind: Pod
metadata: {name: missing-image}
spec:
  restartPolicy: Never
  containers:
  - {name: c, image: "wharf.local/examples/missing:v1", imagePullPolicy: IfNotPresent}
---
apiVersion: v1
kind: Pod
metadata: {name: wasm-trap}
spec:
  runtimeClassName: wasm
  restartPolicy: Never
  containers:
  - {name: c, image: "` + trap + `"}
---
apiVersion: v1
kind: Pod
metadata: {name: wasm-oom}
spec:
  runtimeClassName: wasm
  restartPolicy: Never
  containers:
  - name: c
    image: "` + wasm + `"
    args: [alloc, "100"]
    resources: {limits: {memory: 16Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: container-oom}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: wharf.local/examples/hello:v1
    imagePullPolicy: IfNotPresent
    args: [alloc, "200"]
    resources: {limits: {memory: 32Mi}}
`
}

// podStatus returns the STATUS column of `wharf get pods NAME`.
func podStatus(t *testing.T, s *wharfServer, name string) string {
	t.Helper()
	out := s.mustWharf(t, "get", "pods", name).Stdout
	col := slices.Index(header(out), "STATUS")
	r := rows(out)
	if col < 0 || len(r) != 1 || len(r[0]) <= col {
		t.Fatalf("wharf get pods %s: no STATUS in\n%s", name, out)
	}
	return r[0][col]
}

// wait runs kubectl wait with the test's bound.
func (k *kubectl) wait(t *testing.T, args ...string) {
	t.Helper()
	k.must(t, append([]string{"wait", "--timeout=" + waitFor.String()}, args...)...)
}

// names returns the kind/name of the objects `kubectl get` lists.
func (k *kubectl) names(t *testing.T, args ...string) []string {
	t.Helper()
	return strings.Fields(k.must(t, append([]string{"get", "-o", "name"}, args...)...).Stdout)
}

// webContainers lists the node's containers of deployment web's Pods
// (named <pod uid>-<container>-<run>).
func webContainers(t *testing.T, s *wharfServer) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(s.DataDir, "runtimes", "container", "containers"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var web []string
	for _, e := range ents {
		if strings.Contains(e.Name(), "-web-") {
			web = append(web, e.Name())
		}
	}
	return web
}

// tend registers, after startServer(s), what must run before s is killed:
// on failure a dump of the Pods and events, then the removal of every
// workload (containers outlive a killed agent). Both skip a server that
// was stopped meanwhile (restarted).
func tend(t *testing.T, s *wharfServer, k *kubectl) {
	t.Helper()
	alive := func() bool {
		select {
		case <-s.done:
			return false
		default:
			return true
		}
	}
	t.Cleanup(func() {
		if alive() {
			removeWorkloads(t, s, k)
		}
	})
	t.Cleanup(func() {
		if !t.Failed() || !alive() {
			return
		}
		t.Logf("pods:\n%s", k.run(t, "", "get", "pods", "-o", "wide").Stdout)
		t.Logf("container states:\n%s", k.run(t, "", "get", "pods", "-o", "custom-columns="+
			"NAME:.metadata.name,WAITING:.status.containerStatuses[*].state.waiting,TERMINATED:.status.containerStatuses[*].state.terminated").Stdout)
		t.Logf("events:\n%s", k.run(t, "", "get", "events").Stdout)
	})
}

// removeWorkloads deletes every workload and Pod of the default namespace
// and waits until the agent has removed their containers, so that killing
// wharf up leaves no container running.
func removeWorkloads(t *testing.T, s *wharfServer, k *kubectl) {
	t.Helper()
	k.run(t, "", "delete", "cronjobs,jobs,deployments,pods", "--all", "--wait=false")
	containers := filepath.Join(s.DataDir, "runtimes", "container", "containers")
	deadline := time.Now().Add(waitFor)
	for {
		pods := strings.Fields(k.run(t, "", "get", "pods", "-o", "name").Stdout)
		left, _ := os.ReadDir(containers)
		if len(pods) == 0 && len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("after deleting every workload, within %v: Pods %q and containers %d remain", waitFor, pods, len(left))
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}
