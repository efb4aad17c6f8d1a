package agent_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/internal/testutil"
	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/container"
	"github.com/wharfhq/wharf/runtimes/image"
	"github.com/wharfhq/wharf/runtimes/image/imagetest"
	"github.com/wharfhq/wharf/sdk"
)

// appBinary builds testdata/app (a static Go program) once per test binary.
var appBinary = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "wharf-agent-app-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "app")
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "./testdata/app")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build fixture: %v\n%s", err, b)
	}
	return os.ReadFile(out)
})

// ctrEnv is a real container runtime with the fixture image pushed to an
// in-process registry.
type ctrEnv struct {
	rt    *container.Runtime
	ref   string
	root  string
	store *image.Store
}

// newCtrEnv needs root (namespaces, cgroups, mounts).
func newCtrEnv(t testing.TB) *ctrEnv {
	t.Helper()
	testutil.RequireRoot(t)
	bin, err := appBinary()
	if err != nil {
		t.Fatal(err)
	}
	host := imagetest.Registry(t)
	ref := host + "/agent-app:v1"
	cfg := v1.ConfigFile{OS: "linux", Architecture: runtime.GOARCH, Config: v1.Config{Entrypoint: []string{"/app"}}}
	imagetest.Push(t, ref, imagetest.Image(t, cfg, imagetest.Layer(t,
		imagetest.File("app", string(bin), 0o755), imagetest.Dir("tmp"), imagetest.Dir("etc"),
		imagetest.File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0o644),
	)))
	store, err := image.NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	rt := newContainerRuntime(t, root, store)
	return &ctrEnv{rt: rt, ref: ref, root: root, store: store}
}

// newContainerRuntime opens (or reopens, adopting) a runtime on root.
func newContainerRuntime(t testing.TB, root string, store *image.Store) *container.Runtime {
	t.Helper()
	rt, err := container.New(root, store, container.WithCgroupParent("/wharf-agent-test"))
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// cleanupContainers stops and removes whatever the test left behind.
func cleanupContainers(t testing.TB, rt runtimes.Runtime) {
	t.Cleanup(func() {
		ctx := context.Background()
		infos, _ := rt.List(ctx)
		for _, i := range infos {
			_ = rt.Stop(ctx, i.ID, 0)
			_ = rt.Remove(ctx, i.ID)
		}
	})
}

// ctrPod is a Pod of the fixture image, one container per args list.
func (c *ctrEnv) pod(name string, policy types.RestartPolicy, containers ...[]string) *types.Pod {
	p := pod(name, policy, containers...)
	for i := range p.Spec.Containers {
		p.Spec.Containers[i].Image = c.ref
	}
	return p
}

func TestContainerRunToCompletion(t *testing.T) {
	c := newCtrEnv(t)
	e := newEnv(t)
	cleanupContainers(t, c.rt)
	e.startAgent(t, dataDir(t), map[string]runtimes.Runtime{"container": c.rt}, nil)

	e.create(t, c.pod("ok", types.RestartPolicyNever, []string{"exit", "0"}))
	e.create(t, c.pod("bad", types.RestartPolicyNever, []string{"exit", "7"}))
	p := e.waitPod(t, "ok", "Succeeded", phase(types.PodSucceeded))
	cs := p.Status.ContainerStatuses[0]
	if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0 || cs.State.Terminated.Reason != "Completed" ||
		!strings.HasPrefix(cs.ContainerID, "container://") || cs.ImageID == "" {
		t.Errorf("ok: %+v", cs)
	}
	p = e.waitPod(t, "bad", "Failed", phase(types.PodFailed))
	cs = p.Status.ContainerStatuses[0]
	if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 7 || cs.State.Terminated.Reason != "Error" {
		t.Errorf("bad: %+v", cs)
	}
}

// logs returns the whole log of a Pod's container instance.
func (c *ctrEnv) logs(t testing.TB, uid, name string, restart int) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rc, err := c.rt.Logs(ctx, fmt.Sprintf("%s-%s-%d", uid, name, restart), runtimes.LogOptions{Follow: true})
	if err != nil {
		t.Fatalf("logs: %v", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("logs: %v", err)
	}
	return string(b)
}

func TestContainerPods(t *testing.T) {
	c := newCtrEnv(t)
	e := newEnv(t)
	cleanupContainers(t, c.rt)
	e.startAgent(t, dataDir(t), map[string]runtimes.Runtime{"container": c.rt}, nil)
	ctx := t.Context()

	t.Run("volumes and env", func(t *testing.T) {
		if _, err := sdk.Typed[*types.ConfigMap](e.client).Namespace("default").Create(ctx, &types.ConfigMap{
			ObjectMeta: types.ObjectMeta{Name: "conf"}, Data: map[string]string{"app.conf": "v1", "other": "x"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := sdk.Typed[*types.Secret](e.client).Namespace("default").Create(ctx, &types.Secret{
			ObjectMeta: types.ObjectMeta{Name: "tls"}, Data: map[string][]byte{"key": []byte("k3y")}}); err != nil {
			t.Fatal(err)
		}
		host := t.TempDir()
		if err := os.WriteFile(filepath.Join(host, "h.txt"), []byte("from host"), 0o644); err != nil {
			t.Fatal(err)
		}
		p := c.pod("vols", types.RestartPolicyNever, []string{"touch", "/scratch/made-by-init"}, nil)
		p.Spec.InitContainers = []types.Container{p.Spec.Containers[0]}
		p.Spec.InitContainers[0].Name = "init"
		p.Spec.Containers = []types.Container{{
			Name: "main", Image: c.ref,
			Args: []string{"cat", "/conf/app.conf", "/sec/key", "/scratch/made-by-init", "/host/h.txt", "/info/name", "/info/labels"},
			VolumeMounts: []types.VolumeMount{{Name: "conf", MountPath: "/conf"}, {Name: "sec", MountPath: "/sec"},
				{Name: "scratch", MountPath: "/scratch"}, {Name: "host", MountPath: "/host"}, {Name: "info", MountPath: "/info"}},
		}}
		p.Spec.InitContainers[0].VolumeMounts = []types.VolumeMount{{Name: "scratch", MountPath: "/scratch"}}
		p.Spec.Volumes = []types.Volume{
			{Name: "conf", VolumeSource: types.VolumeSource{ConfigMap: &types.ConfigMapVolumeSource{
				LocalObjectReference: types.LocalObjectReference{Name: "conf"}, Items: []types.KeyToPath{{Key: "app.conf", Path: "app.conf"}}}}},
			{Name: "sec", VolumeSource: types.VolumeSource{Secret: &types.SecretVolumeSource{SecretName: "tls"}}},
			{Name: "scratch", VolumeSource: types.VolumeSource{EmptyDir: &types.EmptyDirVolumeSource{}}},
			{Name: "host", VolumeSource: types.VolumeSource{HostPath: &types.HostPathVolumeSource{Path: host}}},
			{Name: "info", VolumeSource: types.VolumeSource{DownwardAPI: &types.DownwardAPIVolumeSource{Items: []types.DownwardAPIVolumeFile{
				{Path: "name", FieldRef: &types.ObjectFieldSelector{FieldPath: "metadata.name"}},
				{Path: "labels", FieldRef: &types.ObjectFieldSelector{FieldPath: "metadata.labels"}},
			}}}},
		}
		created := e.create(t, p)
		got := e.waitPod(t, "vols", "Succeeded", phase(types.PodSucceeded))
		out := c.logs(t, created.UID, "main", 0)
		for _, want := range []string{"/conf/app.conf: v1", "/sec/key: k3y", "/scratch/made-by-init: \n", "/host/h.txt: from host",
			"/info/name: vols", `/info/labels: app="vols"`} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if cs := got.Status.InitContainerStatuses; len(cs) != 1 || cs[0].State.Terminated == nil || cs[0].State.Terminated.ExitCode != 0 {
			t.Errorf("init status = %+v", cs)
		}
	})

	t.Run("env", func(t *testing.T) {
		p := c.pod("env", types.RestartPolicyNever, []string{"env", "POD", "MSG"})
		p.Spec.Containers[0].Env = []types.EnvVar{
			{Name: "POD", ValueFrom: &types.EnvVarSource{FieldRef: &types.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "MSG", Value: "hi $(POD)"},
		}
		created := e.create(t, p)
		e.waitPod(t, "env", "Succeeded", phase(types.PodSucceeded))
		if out := c.logs(t, created.UID, "c0", 0); !strings.Contains(out, "POD=env\nMSG=hi env\n") {
			t.Errorf("output:\n%s", out)
		}
	})

	t.Run("httpGet probes inside the pod network namespace", func(t *testing.T) {
		p := c.pod("web", types.RestartPolicyAlways, []string{"serve", "127.0.0.1:8080"})
		p.Spec.Containers[0].Ports = []types.ContainerPort{{Name: "http", ContainerPort: 8080}}
		p.Spec.Containers[0].ReadinessProbe = &types.Probe{ProbeHandler: types.ProbeHandler{
			HTTPGet: &types.HTTPGetAction{Path: "/healthz", Port: types.FromString("http")}}, PeriodSeconds: 1}
		p.Spec.Containers[0].LivenessProbe = &types.Probe{ProbeHandler: types.ProbeHandler{
			TCPSocket: &types.TCPSocketAction{Port: types.FromInt32(8080)}}, PeriodSeconds: 1}
		// A sidecar reaches the server on localhost: one netns per Pod.
		p.Spec.Containers = append(p.Spec.Containers, types.Container{Name: "side", Image: c.ref, Args: []string{"trap"},
			ReadinessProbe: &types.Probe{ProbeHandler: types.ProbeHandler{
				HTTPGet: &types.HTTPGetAction{Path: "/healthz", Port: types.FromInt32(8080)}}, PeriodSeconds: 1}})
		created := e.create(t, p)
		e.waitPod(t, "web", "Ready", func(p *types.Pod) bool { return p != nil && cond(p, types.PodReady) == types.ConditionTrue })

		// Make /healthz fail: readiness drops, liveness (TCP) holds.
		ex := runtimes.Execer(c.rt)
		if code, err := ex.Exec(ctx, created.UID+"-c0-0", runtimes.ExecOptions{Command: []string{"/app", "touch", "/tmp/unhealthy"},
			Stdout: io.Discard, Stderr: io.Discard}); err != nil || code != 0 {
			t.Fatalf("exec: %d %v", code, err)
		}
		got := e.waitPod(t, "web", "not Ready", func(p *types.Pod) bool { return cond(p, types.PodReady) == types.ConditionFalse })
		if rc := got.Status.ContainerStatuses[0].RestartCount; rc != 0 {
			t.Errorf("restarted %d times though liveness holds", rc)
		}
		e.waitEvent(t, "web", "Warning Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 500")

		// Graceful delete: the server traps SIGTERM and exits 0.
		if err := e.pods.Delete(ctx, "web", types.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		e.waitPod(t, "web", "gone", func(p *types.Pod) bool { return p == nil })
		infos, _ := c.rt.List(ctx)
		for _, i := range infos {
			if i.Labels["wharf.dev/pod-uid"] == created.UID {
				t.Errorf("container %s left after delete", i.ID)
			}
		}
	})

	t.Run("host network", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		p := c.pod("hostnet", types.RestartPolicyAlways, []string{"serve", addr})
		p.Spec.HostNetwork = true
		_, port, _ := net.SplitHostPort(addr)
		n, _ := strconv.Atoi(port)
		p.Spec.Containers[0].ReadinessProbe = &types.Probe{ProbeHandler: types.ProbeHandler{
			HTTPGet: &types.HTTPGetAction{Path: "/healthz", Port: types.FromInt(n)}}, PeriodSeconds: 1}
		e.create(t, p)
		got := e.waitPod(t, "hostnet", "Ready", func(p *types.Pod) bool { return p != nil && cond(p, types.PodReady) == types.ConditionTrue })
		if got.Status.PodIP != got.Status.HostIP {
			t.Errorf("podIP %q, hostIP %q: a host-network Pod has the node's address", got.Status.PodIP, got.Status.HostIP)
		}
		// Reachable from the host itself.
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			t.Fatalf("from the host: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("from the host: %s", resp.Status)
		}
		zero := int64(0)
		if err := e.pods.Delete(ctx, "hostnet", types.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("termination messages", func(t *testing.T) {
		file := c.pod("msgfile", types.RestartPolicyNever, []string{"write-exit", "/dev/termination-log", "it broke", "4"})
		logs := c.pod("msglog", types.RestartPolicyNever, []string{"cat", "/nonexistent"})
		logs.Spec.Containers[0].TerminationMessagePolicy = types.TerminationMessageFallbackToLogsOnError
		e.create(t, file)
		e.create(t, logs)
		got := e.waitPod(t, "msgfile", "Failed", phase(types.PodFailed))
		if term := got.Status.ContainerStatuses[0].State.Terminated; term == nil || term.ExitCode != 4 || term.Message != "it broke" {
			t.Errorf("msgfile: %+v", got.Status.ContainerStatuses[0].State)
		}
		got = e.waitPod(t, "msglog", "Failed", phase(types.PodFailed))
		if term := got.Status.ContainerStatuses[0].State.Terminated; term == nil || !strings.Contains(term.Message, "read failed: open /nonexistent") {
			t.Errorf("msglog: %+v", got.Status.ContainerStatuses[0].State)
		}
	})

	t.Run("image pull failure", func(t *testing.T) {
		p := c.pod("nopull", types.RestartPolicyAlways, []string{"exit", "0"})
		p.Spec.Containers[0].Image = strings.Replace(c.ref, "agent-app", "nope", 1)
		e.create(t, p)
		e.waitPod(t, "nopull", "ImagePullBackOff", func(p *types.Pod) bool {
			if p == nil || len(p.Status.ContainerStatuses) == 0 {
				return false
			}
			w := p.Status.ContainerStatuses[0].State.Waiting
			return w != nil && w.Reason == "ImagePullBackOff" && strings.Contains(w.Message, "nope")
		})
	})
}

func TestContainerAdoption(t *testing.T) {
	c := newCtrEnv(t)
	e := newEnv(t)
	cleanupContainers(t, c.rt)
	dir := dataDir(t)
	first := e.startAgent(t, dir, map[string]runtimes.Runtime{"container": c.rt}, nil)
	created := e.create(t, c.pod("long", types.RestartPolicyAlways, []string{"trap"}))
	e.waitPod(t, "long", "Running", phase(types.PodRunning))
	first.stop(t)

	// A new agent process: a new runtime on the same root adopts the
	// running container, and the new agent must not start a second one.
	rt2 := newContainerRuntime(t, c.root, c.store)
	cleanupContainers(t, rt2)
	e.startAgent(t, dir, map[string]runtimes.Runtime{"container": rt2}, nil)
	// A Pod created now is queued after "long", so once it has run the
	// new agent has synced "long" too.
	e.create(t, c.pod("later", types.RestartPolicyNever, []string{"exit", "0"}))
	e.waitPod(t, "later", "Succeeded", phase(types.PodSucceeded))
	mine := func() (n int, running int) {
		infos, _ := rt2.List(t.Context())
		for _, i := range infos {
			if i.Labels["wharf.dev/pod-uid"] == created.UID {
				n++
				if i.State == runtimes.StateRunning {
					running++
				}
			}
		}
		return n, running
	}
	if n, running := mine(); n != 1 || running != 1 {
		t.Fatalf("after adoption: %d containers (%d running), want exactly 1 running", n, running)
	}
	p, _ := e.pods.Get(t.Context(), "long")
	if cs := p.Status.ContainerStatuses[0]; cs.RestartCount != 0 || cs.State.Running == nil {
		t.Errorf("after adoption: %+v", cs)
	}
	if err := e.pods.Delete(t.Context(), "long", types.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitPod(t, "long", "gone", func(p *types.Pod) bool { return p == nil })
	infos, _ := rt2.List(t.Context())
	for _, i := range infos {
		if i.Labels["wharf.dev/pod-uid"] == created.UID {
			t.Errorf("container %s left", i.ID)
		}
	}
}
