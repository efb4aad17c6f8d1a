package agent_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/nodes/agent"
	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/sdk"
)

func TestGracefulDeletion(t *testing.T) {
	e := newEnv(t)
	rt := newFake("container")
	e.startAgent(t, t.TempDir(), map[string]runtimes.Runtime{"container": rt}, nil)
	p := pod("web", types.RestartPolicyAlways, []string{"serve"})
	p.Spec.Containers[0].Lifecycle = &types.Lifecycle{PreStop: &types.LifecycleHandler{
		Exec: &types.ExecAction{Command: []string{"/bin/drain"}}}}
	created := e.create(t, p)
	e.waitPod(t, "web", "Running", phase(types.PodRunning))

	grace := int64(30)
	if err := e.pods.Delete(t.Context(), "web", types.DeleteOptions{GracePeriodSeconds: &grace}); err != nil {
		t.Fatal(err)
	}
	e.waitPod(t, "web", "gone", func(p *types.Pod) bool { return p == nil })
	if running, exited := rt.count(); running != 0 || exited != 0 {
		t.Errorf("after delete: %d running, %d exited containers left", running, exited)
	}
	rt.mu.Lock()
	execs, stops := slices.Clone(rt.execs), slices.Clone(rt.stops)
	rt.mu.Unlock()
	id := created.UID + "-c0-0"
	if !slices.Contains(execs, id+": /bin/drain") {
		t.Errorf("preStop hook not run; execs %v", execs)
	}
	if !slices.Contains(stops, id) {
		t.Errorf("container not stopped; stops %v", stops)
	}
	e.waitEvent(t, "web", "Normal Killing: Stopping container c0")
}

func TestAdoptionAfterRestart(t *testing.T) {
	e := newEnv(t)
	rt := newFake("container")
	dir := t.TempDir()
	first := e.startAgent(t, dir, map[string]runtimes.Runtime{"container": rt}, nil)
	e.create(t, pod("keep", types.RestartPolicyAlways, []string{"serve"}, []string{"serve"}))
	e.create(t, pod("drop", types.RestartPolicyAlways, []string{"serve"}))
	e.waitPod(t, "keep", "Running", phase(types.PodRunning))
	e.waitPod(t, "drop", "Running", phase(types.PodRunning))
	first.stop(t)

	// While no agent runs, one Pod goes away for good.
	zero := int64(0)
	if err := e.pods.Delete(t.Context(), "drop", types.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	e.waitPod(t, "drop", "gone", func(p *types.Pod) bool { return p == nil })
	if running, _ := rt.count(); running != 3 {
		t.Fatalf("running = %d before restart, want 3 (the agent leaves containers running)", running)
	}

	e.startAgent(t, dir, map[string]runtimes.Runtime{"container": rt}, nil)
	e.waitPod(t, "keep", "still Running", phase(types.PodRunning))
	waitFor(t, "orphan of drop removed", func() bool {
		running, _ := rt.count()
		return running == 2
	})
	if n := rt.created("c0"); n != 2 { // keep/c0 and drop/c0, once each
		t.Errorf("c0 created %d times, want 2: the new agent must adopt, not duplicate", n)
	}
	p, _ := e.pods.Get(t.Context(), "keep")
	for _, cs := range p.Status.ContainerStatuses {
		if cs.RestartCount != 0 || cs.State.Running == nil {
			t.Errorf("%s after adoption: %+v", cs.Name, cs)
		}
	}
}

func TestConfigSources(t *testing.T) {
	e := newEnv(t)
	rt := newFake("container")
	e.startAgent(t, t.TempDir(), map[string]runtimes.Runtime{"container": rt}, nil)

	p := pod("cfg", types.RestartPolicyAlways, []string{"serve", "$(GREETING)", "$$(GREETING)", "$(UNSET)"})
	opt := true
	p.Annotations = map[string]string{"team": "blue"}
	p.Spec.ServiceAccountName = "default"
	p.Spec.Containers[0].Resources.Limits = types.ResourceList{types.ResourceMemory: types.MustParse("64Mi"), types.ResourceCPU: types.MustParse("250m")}
	p.Spec.Containers[0].EnvFrom = []types.EnvFromSource{
		{ConfigMapRef: &types.ConfigMapEnvSource{LocalObjectReference: types.LocalObjectReference{Name: "settings"}}, Prefix: "CFG_"},
		{SecretRef: &types.SecretEnvSource{LocalObjectReference: types.LocalObjectReference{Name: "absent"}, Optional: &opt}},
	}
	p.Spec.Containers[0].Env = []types.EnvVar{
		{Name: "NAME", ValueFrom: &types.EnvVarSource{FieldRef: &types.ObjectFieldSelector{FieldPath: "metadata.name"}}},
		{Name: "NS", ValueFrom: &types.EnvVarSource{FieldRef: &types.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
		{Name: "APP", ValueFrom: &types.EnvVarSource{FieldRef: &types.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}},
		{Name: "TEAM", ValueFrom: &types.EnvVarSource{FieldRef: &types.ObjectFieldSelector{FieldPath: "metadata.annotations['team']"}}},
		{Name: "NODE", ValueFrom: &types.EnvVarSource{FieldRef: &types.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
		{Name: "SA", ValueFrom: &types.EnvVarSource{FieldRef: &types.ObjectFieldSelector{FieldPath: "spec.serviceAccountName"}}},
		{Name: "HOST_IP", ValueFrom: &types.EnvVarSource{FieldRef: &types.ObjectFieldSelector{FieldPath: "status.hostIP"}}},
		{Name: "MEM", ValueFrom: &types.EnvVarSource{ResourceFieldRef: &types.ResourceFieldSelector{Resource: "limits.memory", Divisor: ptr(types.MustParse("1Mi"))}}},
		{Name: "CPU_M", ValueFrom: &types.EnvVarSource{ResourceFieldRef: &types.ResourceFieldSelector{Resource: "limits.cpu", Divisor: ptr(types.MustParse("1m"))}}},
		{Name: "GREETING", ValueFrom: &types.EnvVarSource{ConfigMapKeyRef: &types.ConfigMapKeySelector{
			LocalObjectReference: types.LocalObjectReference{Name: "settings"}, Key: "greeting"}}},
		{Name: "TOKEN", ValueFrom: &types.EnvVarSource{SecretKeyRef: &types.SecretKeySelector{
			LocalObjectReference: types.LocalObjectReference{Name: "creds"}, Key: "token"}}},
		{Name: "OPTIONAL", ValueFrom: &types.EnvVarSource{SecretKeyRef: &types.SecretKeySelector{
			LocalObjectReference: types.LocalObjectReference{Name: "creds"}, Key: "nope", Optional: &opt}}},
		{Name: "MSG", Value: "$(GREETING), $(NAME)!"},
	}
	e.create(t, p)

	// Neither the ConfigMap nor the Secret exists yet: the container waits.
	e.waitPod(t, "cfg", "CreateContainerConfigError", func(p *types.Pod) bool {
		if p == nil || len(p.Status.ContainerStatuses) == 0 {
			return false
		}
		w := p.Status.ContainerStatuses[0].State.Waiting
		return w != nil && w.Reason == "CreateContainerConfigError" && strings.Contains(w.Message, `configmap "settings" not found`)
	})
	e.waitEvent(t, "cfg", `Warning Failed: Error: configmap "settings" not found`)

	ctx := t.Context()
	if _, err := sdk.Typed[*types.ConfigMap](e.client).Namespace("default").Create(ctx, &types.ConfigMap{
		ObjectMeta: types.ObjectMeta{Name: "settings"}, Data: map[string]string{"greeting": "hello", "level": "3"}}); err != nil {
		t.Fatal(err)
	}
	e.waitPod(t, "cfg", "secret missing", func(p *types.Pod) bool {
		w := p.Status.ContainerStatuses[0].State.Waiting
		return w != nil && strings.Contains(w.Message, `secret "creds" not found`)
	})
	if _, err := sdk.Typed[*types.Secret](e.client).Namespace("default").Create(ctx, &types.Secret{
		ObjectMeta: types.ObjectMeta{Name: "creds"}, Data: map[string][]byte{"token": []byte("s3cret")}}); err != nil {
		t.Fatal(err)
	}
	got := e.waitPod(t, "cfg", "Running", phase(types.PodRunning))
	spec, ok := rt.spec("c0")
	if !ok {
		t.Fatal("no c0 container")
	}
	env := map[string]string{}
	for _, v := range spec.Env {
		env[v.Name] = v.Value
	}
	want := map[string]string{
		"CFG_greeting": "hello", "CFG_level": "3", "NAME": "cfg", "NS": "default", "APP": "cfg", "TEAM": "blue",
		"NODE": nodeName, "SA": "default", "HOST_IP": "10.0.0.1", "MEM": "64", "CPU_M": "250",
		"GREETING": "hello", "TOKEN": "s3cret", "MSG": "hello, cfg!",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("env %s = %q, want %q", k, env[k], v)
		}
	}
	if _, ok := env["OPTIONAL"]; ok {
		t.Errorf("optional missing key set: %q", env["OPTIONAL"])
	}
	if wantArgs := []string{"serve", "hello", "$(GREETING)", "$(UNSET)"}; !slices.Equal(spec.Args, wantArgs) {
		t.Errorf("args = %q, want %q", spec.Args, wantArgs)
	}
	if spec.Resources.MemoryLimitBytes != 64<<20 || spec.Resources.CPUMillis != 250 {
		t.Errorf("resources = %+v", spec.Resources)
	}
	if got.Status.QOSClass != types.PodQOSGuaranteed { // requests default to limits
		t.Errorf("qosClass = %q", got.Status.QOSClass)
	}
}

func TestProbes(t *testing.T) {
	e := newEnv(t)
	rt := newFake("container")
	var healthy, ready atomic.Bool
	healthy.Store(true)
	rt.execFunc = func(id string, cmd []string) int {
		switch cmd[0] {
		case "live":
			if healthy.Load() {
				return 0
			}
		case "ready":
			if ready.Load() {
				return 0
			}
		}
		return 1
	}
	e.startAgent(t, t.TempDir(), map[string]runtimes.Runtime{"container": rt}, nil)
	p := pod("probed", types.RestartPolicyAlways, []string{"serve"})
	p.Spec.Containers[0].LivenessProbe = &types.Probe{ProbeHandler: types.ProbeHandler{Exec: &types.ExecAction{Command: []string{"live"}}},
		PeriodSeconds: 1, FailureThreshold: 1}
	p.Spec.Containers[0].ReadinessProbe = &types.Probe{ProbeHandler: types.ProbeHandler{Exec: &types.ExecAction{Command: []string{"ready"}}},
		PeriodSeconds: 1}
	e.create(t, p)

	got := e.waitPod(t, "probed", "Running", phase(types.PodRunning))
	if cond(got, types.PodReady) == types.ConditionTrue {
		t.Fatal("Ready before the readiness probe passed")
	}
	ready.Store(true)
	e.waitPod(t, "probed", "Ready", func(p *types.Pod) bool { return cond(p, types.PodReady) == types.ConditionTrue })
	ready.Store(false)
	e.waitPod(t, "probed", "not Ready", func(p *types.Pod) bool {
		return cond(p, types.PodReady) == types.ConditionFalse && !p.Status.ContainerStatuses[0].Ready
	})

	healthy.Store(false)
	got = e.waitPod(t, "probed", "restarted by liveness", func(p *types.Pod) bool {
		return p.Status.ContainerStatuses[0].RestartCount >= 1
	})
	healthy.Store(true)
	e.waitEvent(t, "probed", "Warning Unhealthy: Liveness probe failed: command \"live\" exited with 1")
	e.waitEvent(t, "probed", "Normal Killing: Container c0 failed liveness probe, will be restarted")
	if last := got.Status.ContainerStatuses[0].LastTerminationState.Terminated; last == nil {
		t.Errorf("lastState after liveness restart = %+v", got.Status.ContainerStatuses[0].LastTerminationState)
	}
}

func TestStartupProbeGatesLiveness(t *testing.T) {
	e := newEnv(t)
	rt := newFake("container")
	var up atomic.Bool
	var livenessRuns atomic.Int32
	rt.execFunc = func(id string, cmd []string) int {
		switch cmd[0] {
		case "startup":
			if up.Load() {
				return 0
			}
			return 1
		case "live":
			livenessRuns.Add(1)
		}
		return 0
	}
	e.startAgent(t, t.TempDir(), map[string]runtimes.Runtime{"container": rt}, nil)
	p := pod("slow", types.RestartPolicyAlways, []string{"serve"})
	p.Spec.Containers[0].StartupProbe = &types.Probe{ProbeHandler: types.ProbeHandler{Exec: &types.ExecAction{Command: []string{"startup"}}},
		PeriodSeconds: 1, FailureThreshold: 100}
	p.Spec.Containers[0].LivenessProbe = &types.Probe{ProbeHandler: types.ProbeHandler{Exec: &types.ExecAction{Command: []string{"live"}}},
		PeriodSeconds: 1}
	e.create(t, p)
	got := e.waitPod(t, "slow", "Running", phase(types.PodRunning))
	if s := got.Status.ContainerStatuses[0].Started; s == nil || *s {
		t.Errorf("started = %v before the startup probe passed", s)
	}
	e.waitEvent(t, "slow", "Startup probe failed")
	if n := livenessRuns.Load(); n != 0 {
		t.Errorf("liveness ran %d times before startup passed", n)
	}
	up.Store(true)
	e.waitPod(t, "slow", "started and ready", func(p *types.Pod) bool {
		cs := p.Status.ContainerStatuses[0]
		return cs.Started != nil && *cs.Started && cs.Ready
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestVolumeSourcesFollowed(t *testing.T) {
	e := newEnv(t)
	rt := newFake("container")
	dir := t.TempDir()
	e.startAgent(t, dir, map[string]runtimes.Runtime{"container": rt}, nil)
	ctx := t.Context()

	p := pod("mnt", types.RestartPolicyAlways, []string{"serve"})
	p.Spec.Volumes = []types.Volume{{Name: "cfg", VolumeSource: types.VolumeSource{ConfigMap: &types.ConfigMapVolumeSource{
		LocalObjectReference: types.LocalObjectReference{Name: "files"}}}}}
	p.Spec.Containers[0].VolumeMounts = []types.VolumeMount{{Name: "cfg", MountPath: "/etc/app"}}
	created := e.create(t, p)

	// Missing ConfigMap: FailedMount, nothing started.
	e.waitEvent(t, "mnt", `Warning FailedMount: MountVolume.SetUp failed for volume "cfg" : configmap "files" not found`)
	got := e.waitPod(t, "mnt", "Pending with a container status", func(p *types.Pod) bool {
		return p != nil && p.Status.Phase == types.PodPending && len(p.Status.ContainerStatuses) == 1
	})
	if w := got.Status.ContainerStatuses[0].State.Waiting; w == nil || w.Reason != "ContainerCreating" {
		t.Errorf("state = %+v, want waiting ContainerCreating", got.Status.ContainerStatuses[0].State)
	}
	if n := rt.created("c0"); n != 0 {
		t.Fatalf("container created %d times before its volume could be set up", n)
	}

	cms := sdk.Typed[*types.ConfigMap](e.client).Namespace("default")
	cm, err := cms.Create(ctx, &types.ConfigMap{ObjectMeta: types.ObjectMeta{Name: "files"}, Data: map[string]string{"app.conf": "one"}})
	if err != nil {
		t.Fatal(err)
	}
	e.waitPod(t, "mnt", "Running", phase(types.PodRunning))
	file := filepath.Join(dir, "pods", created.UID, "volumes", "cfg", "app.conf")
	spec, _ := rt.spec("c0")
	// The volume, then the termination message file.
	if len(spec.Mounts) != 2 || spec.Mounts[0].ContainerPath != "/etc/app" || !spec.Mounts[0].ReadOnly ||
		spec.Mounts[0].HostPath != filepath.Dir(file) || spec.Mounts[1].ContainerPath != "/dev/termination-log" {
		t.Errorf("mounts = %+v", spec.Mounts)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "one" {
		t.Fatalf("app.conf = %q, %v", b, err)
	}

	// The ConfigMap changes: the file follows, the container is not restarted.
	cm.Data["app.conf"] = "two"
	if _, err := cms.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "app.conf updated", func() bool {
		b, _ := os.ReadFile(file)
		return string(b) == "two"
	})
	if n := rt.created("c0"); n != 1 {
		t.Errorf("container created %d times", n)
	}

	// Deleting the Pod removes its volumes.
	if err := e.pods.Delete(ctx, "mnt", types.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitPod(t, "mnt", "gone", func(p *types.Pod) bool { return p == nil })
	if _, err := os.Stat(filepath.Join(dir, "pods", created.UID)); !os.IsNotExist(err) {
		t.Errorf("pod dir after delete: %v", err)
	}
}

func TestPostStartHook(t *testing.T) {
	e := newEnv(t)
	rt := newFake("container")
	rt.execFunc = func(id string, cmd []string) int {
		if cmd[0] == "fail" {
			return 1
		}
		return 0
	}
	e.startAgent(t, t.TempDir(), map[string]runtimes.Runtime{"container": rt}, nil)
	hook := func(cmd string) *types.Lifecycle {
		return &types.Lifecycle{PostStart: &types.LifecycleHandler{Exec: &types.ExecAction{Command: []string{cmd}}}}
	}
	good := pod("hooked", types.RestartPolicyAlways, []string{"serve"})
	good.Spec.Containers[0].Lifecycle = hook("ok")
	bad := pod("badhook", types.RestartPolicyAlways, []string{"serve"})
	bad.Spec.Containers[0].Lifecycle = hook("fail")
	e.create(t, good)
	e.create(t, bad)
	got := e.waitPod(t, "hooked", "Running", phase(types.PodRunning))
	if rc := got.Status.ContainerStatuses[0].RestartCount; rc != 0 {
		t.Errorf("hooked restarted %d times", rc)
	}
	e.waitEvent(t, "badhook", `Warning FailedPostStartHook: PostStartHook failed: command "fail" exited with 1`)
	e.waitPod(t, "badhook", "restarted after its hook failed", func(p *types.Pod) bool {
		return p != nil && len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].RestartCount >= 1
	})
}

func TestImageChangeRestartsContainer(t *testing.T) {
	e := newEnv(t)
	rt := newFake("container")
	e.startAgent(t, t.TempDir(), map[string]runtimes.Runtime{"container": rt}, nil)
	e.create(t, pod("img", types.RestartPolicyAlways, []string{"serve"}))
	e.waitPod(t, "img", "Running", phase(types.PodRunning))
	p, err := e.pods.Get(t.Context(), "img")
	if err != nil {
		t.Fatal(err)
	}
	p.Spec.Containers[0].Image = "example.com/app:v2"
	if _, err := e.pods.Update(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	got := e.waitPod(t, "img", "running v2", func(p *types.Pod) bool {
		cs := p.Status.ContainerStatuses[0]
		return cs.State.Running != nil && cs.ImageID == "example.com/app:v2"
	})
	if cs := got.Status.ContainerStatuses[0]; cs.RestartCount != 1 || cs.Image != "example.com/app:v2" {
		t.Errorf("status = %+v", cs)
	}
	if running, _ := rt.count(); running != 1 {
		t.Errorf("%d containers running, want 1", running)
	}
	e.waitEvent(t, "img", "Normal Killing: Container c0 definition changed, will be restarted")
}

func TestFailedElsewhereIsStopped(t *testing.T) {
	e := newEnv(t)
	rt := newFake("container")
	e.startAgent(t, t.TempDir(), map[string]runtimes.Runtime{"container": rt}, nil)
	e.create(t, pod("evicted", types.RestartPolicyAlways, []string{"serve"}))
	p := e.waitPod(t, "evicted", "Running", phase(types.PodRunning))
	// As the node lifecycle controller does for a lost node's Pods.
	p.Status.Phase, p.Status.Reason = types.PodFailed, "NodeLost"
	if _, err := e.pods.UpdateStatus(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the container stopped", func() bool { running, _ := rt.count(); return running == 0 })
	if got, _ := e.pods.Get(t.Context(), "evicted"); got.Status.Phase != types.PodFailed || got.Status.Reason != "NodeLost" {
		t.Errorf("status rewritten: %s %s", got.Status.Phase, got.Status.Reason)
	}
	if n := rt.created("c0"); n != 1 {
		t.Errorf("c0 created %d times: a finished Pod must not be restarted", n)
	}
}

func TestSlowDeletionsDoNotStallOtherPods(t *testing.T) {
	e := newEnv(t)
	rt := newFake("container")
	e.startAgent(t, t.TempDir(), map[string]runtimes.Runtime{"container": rt}, nil)
	// More stubborn Pods than sync workers (8), each deleted with a grace
	// period far longer than the test waits.
	const n = agent.DefaultWorkers + 2
	for i := range n {
		e.create(t, pod(fmt.Sprintf("stubborn-%d", i), types.RestartPolicyAlways, []string{"ignore-term"}))
	}
	for i := range n {
		e.waitPod(t, fmt.Sprintf("stubborn-%d", i), "Running", phase(types.PodRunning))
	}
	grace := int64(600)
	for i := range n {
		if err := e.pods.Delete(t.Context(), fmt.Sprintf("stubborn-%d", i), types.DeleteOptions{GracePeriodSeconds: &grace}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "every stubborn container asked to stop", func() bool {
		rt.mu.Lock()
		defer rt.mu.Unlock()
		return len(rt.stops) >= n
	})
	e.create(t, pod("fresh", types.RestartPolicyAlways, []string{"serve"}))
	e.waitPod(t, "fresh", "Running while the others are still stopping", phase(types.PodRunning))
}
