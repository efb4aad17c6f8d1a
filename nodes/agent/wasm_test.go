package agent_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/nodes/agent"
	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/image/imagetest"
	"github.com/wharfhq/wharf/runtimes/wasm"
	"github.com/wharfhq/wharf/runtimes/wasm/wasmtest"
)

// wasmEnv is a real Wasm runtime and a directory of test modules.
type wasmEnv struct {
	rt   *wasm.Runtime
	root string
	mods string
}

func newWasmEnv(t testing.TB) *wasmEnv {
	t.Helper()
	root := t.TempDir()
	return &wasmEnv{rt: openWasm(t, root), root: root, mods: t.TempDir()}
}

// openWasm opens (or reopens) a Wasm runtime on root, closed at the end.
func openWasm(t testing.TB, root string) *wasm.Runtime {
	t.Helper()
	rt, err := wasm.New(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	return rt
}

// module writes a module and returns its file:// URL.
func (w *wasmEnv) module(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(w.mods, name+".wasm")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return "file://" + p
}

// wasmPod is a Wasm Pod running the module at url.
func wasmPod(name string, policy types.RestartPolicy, url string) *types.Pod {
	p := pod(name, policy, nil)
	p.Spec.Containers[0].Image = url
	rc := "wasm"
	p.Spec.RuntimeClassName = &rc
	return p
}

func TestWasmPods(t *testing.T) {
	w := newWasmEnv(t)
	e := newEnv(t)
	e.startAgent(t, dataDir(t), map[string]runtimes.Runtime{"wasm": w.rt}, nil)

	t.Run("run to completion", func(t *testing.T) {
		e.create(t, wasmPod("hello", types.RestartPolicyNever, w.module(t, "hello", wasmtest.Print("hello\n"))))
		p := e.waitPod(t, "hello", "Succeeded", phase(types.PodSucceeded))
		cs := p.Status.ContainerStatuses[0]
		if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0 || !strings.HasPrefix(cs.ContainerID, "wasm://") {
			t.Errorf("status = %+v", cs)
		}
	})
	t.Run("exit code", func(t *testing.T) {
		e.create(t, wasmPod("exit3", types.RestartPolicyNever, w.module(t, "exit3", wasmtest.Exit(3))))
		p := e.waitPod(t, "exit3", "Failed", phase(types.PodFailed))
		if term := p.Status.ContainerStatuses[0].State.Terminated; term == nil || term.ExitCode != 3 {
			t.Errorf("state = %+v", p.Status.ContainerStatuses[0].State)
		}
	})
	t.Run("trap message in status", func(t *testing.T) {
		e.create(t, wasmPod("trap", types.RestartPolicyNever, w.module(t, "trap", wasmtest.Unreachable())))
		p := e.waitPod(t, "trap", "Failed", phase(types.PodFailed))
		term := p.Status.ContainerStatuses[0].State.Terminated
		if term == nil || term.Reason != "Error" || !strings.Contains(term.Message, "unreachable") {
			t.Errorf("state = %+v", p.Status.ContainerStatuses[0].State)
		}
	})
	t.Run("missing module", func(t *testing.T) {
		e.create(t, wasmPod("nomod", types.RestartPolicyAlways, "file://"+filepath.Join(w.mods, "absent.wasm")))
		e.waitPod(t, "nomod", "ErrImagePull or ImagePullBackOff", func(p *types.Pod) bool {
			if p == nil || len(p.Status.ContainerStatuses) == 0 {
				return false
			}
			st := p.Status.ContainerStatuses[0].State.Waiting
			return st != nil && (st.Reason == "ErrImagePull" || st.Reason == "ImagePullBackOff") && strings.Contains(st.Message, "absent.wasm")
		})
	})
	t.Run("graceful delete of a running module", func(t *testing.T) {
		e.create(t, wasmPod("loop", types.RestartPolicyAlways, w.module(t, "loop", wasmtest.Loop())))
		e.waitPod(t, "loop", "Running", phase(types.PodRunning))
		if err := e.pods.Delete(t.Context(), "loop", types.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		e.waitPod(t, "loop", "gone", func(p *types.Pod) bool { return p == nil })
		infos, _ := w.rt.List(t.Context())
		for _, i := range infos {
			if i.Labels["wharf.dev/pod-name"] == "loop" {
				t.Errorf("container %s of the deleted pod left (%s)", i.ID, i.State)
			}
		}
	})
}

// TestWasmPodWrongImage: a Wasm Pod given an ordinary container image
// (the pull works; the content is an ELF executable) waits as
// CreateContainerError, never as an image pull failure, with a message
// that says what the image holds and what to do, in its status and in a
// Failed event; it is retried (the image may be pushed again).
func TestWasmPodWrongImage(t *testing.T) {
	bin, err := appBinary()
	if err != nil {
		t.Fatal(err)
	}
	host := imagetest.Registry(t)
	ref := host + "/hello:v1"
	cfg := v1.ConfigFile{OS: "linux", Architecture: runtime.GOARCH, Config: v1.Config{Entrypoint: []string{"/app"}}}
	imagetest.Push(t, ref, imagetest.Image(t, cfg, imagetest.Layer(t, imagetest.File("app", string(bin), 0o755))))
	w := newWasmEnv(t)
	e := newEnv(t)
	e.startAgent(t, dataDir(t), map[string]runtimes.Runtime{"wasm": w.rt}, nil)

	e.create(t, wasmPod("elf", types.RestartPolicyAlways, ref))
	want := "image " + ref + " has no Wasm module: its entrypoint /app is an ELF " + runtime.GOARCH + " executable; " +
		`a Wasm image is FROM scratch with COPY app.wasm / and ENTRYPOINT ["/app.wasm"], or drop runtimeClassName: wasm to run it as a container`
	var reasons []string
	e.waitPod(t, "elf", "CreateContainerError with the hint", func(p *types.Pod) bool {
		if p == nil || len(p.Status.ContainerStatuses) == 0 {
			return false
		}
		st := p.Status.ContainerStatuses[0].State.Waiting
		if st == nil {
			return false
		}
		reasons = append(reasons, st.Reason)
		return st.Reason == "CreateContainerError" && st.Message == want
	})
	e.waitEvent(t, "elf", "Warning Failed: Error: "+want)
	// Retried with back-off: the same event again.
	waitFor(t, "the start retried", func() bool {
		for _, ev := range e.events(t, "elf") {
			if strings.Contains(ev, want) && !strings.HasSuffix(ev, "(x1)") {
				return true
			}
		}
		return false
	})
	p, err := e.pods.Get(t.Context(), "elf")
	if err != nil {
		t.Fatal(err)
	}
	if st := p.Status.ContainerStatuses[0].State.Waiting; st == nil || st.Reason != "CreateContainerError" {
		t.Errorf("after retries: %+v", p.Status.ContainerStatuses[0].State)
	}
	for _, r := range reasons {
		if r == "ErrImagePull" || r == "ImagePullBackOff" {
			t.Errorf("shown as %s: the pull worked", r)
		}
	}
	for _, ev := range e.events(t, "elf") {
		if strings.Contains(ev, "BackOff") && strings.Contains(ev, "pulling") {
			t.Errorf("event %q: the pull worked", ev)
		}
	}
}

// TestLocalImageNotLoaded: a wharf.local image that is not in the node's
// store waits as ErrImagePull with the load hint naming the node and its
// data directory; no registry is tried (no Pulling event, no lookup).
func TestLocalImageNotLoaded(t *testing.T) {
	w := newWasmEnv(t)
	e := newEnv(t)
	dir := dataDir(t)
	e.startAgent(t, dir, map[string]runtimes.Runtime{"wasm": w.rt}, func(c *agent.Config) { c.NodeDataDir = "/var/lib/wharf-node" })

	e.create(t, wasmPod("local", types.RestartPolicyAlways, "wharf.local/examples/absent:v1"))
	want := "image wharf.local/examples/absent:v1 is not loaded on node " + nodeName +
		"; load it with `wharf image load --data-dir /var/lib/wharf-node FILE` on that node (local images are not pulled from a registry)"
	e.waitPod(t, "local", "ErrImagePull with the load hint", func(p *types.Pod) bool {
		if p == nil || len(p.Status.ContainerStatuses) == 0 {
			return false
		}
		st := p.Status.ContainerStatuses[0].State.Waiting
		return st != nil && (st.Reason == "ErrImagePull" || st.Reason == "ImagePullBackOff") && st.Message == want
	})
	e.waitEvent(t, "local", `Warning Failed: Failed to pull image "wharf.local/examples/absent:v1": `+want)
	for _, ev := range e.events(t, "local") {
		if strings.Contains(ev, "Pulling") || strings.Contains(ev, "lookup") || strings.Contains(ev, "dial") {
			t.Errorf("event %q: a local image is not pulled", ev)
		}
	}
}
