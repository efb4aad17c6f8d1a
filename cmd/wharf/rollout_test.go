package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs"
	"github.com/wharfhq/wharf/jobs/controller/controllertest"
	"github.com/wharfhq/wharf/sdk"
)

// TestScaleAndRollout drives scale and every rollout subcommand against a
// real API server with the controllers running; the test marks Pods ready
// as agents would.
func TestScaleAndRollout(t *testing.T) {
	env := controllertest.NewEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = jobs.Run(ctx, env.Client, jobs.Options{})
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })

	wharf := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		code := run(ctx, append([]string{"--server", env.URL}, args...), strings.NewReader(""), &out, &errOut)
		if code != 0 {
			return out.String(), fmt.Errorf("wharf %s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
		}
		return out.String(), nil
	}
	must := func(want string, args ...string) string {
		t.Helper()
		out, err := wharf(args...)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, want) {
			t.Fatalf("wharf %s: output %q, want it to contain %q", strings.Join(args, " "), out, want)
		}
		return out
	}
	dc := sdk.Typed[*types.Deployment](env.Client).Namespace("default")
	one := int32(1)
	lbl := map[string]string{"app": "cli"}
	if _, err := dc.Create(ctx, &types.Deployment{
		ObjectMeta: types.ObjectMeta{Name: "cli", Namespace: "default"},
		Spec: types.DeploymentSpec{Replicas: &one, Selector: &types.LabelSelector{MatchLabels: lbl},
			Template: types.PodTemplateSpec{ObjectMeta: types.ObjectMeta{Labels: lbl},
				Spec: types.PodSpec{Containers: []types.Container{{Name: "c", Image: "busybox"}}}}},
	}); err != nil {
		t.Fatal(err)
	}
	rolledOut := func() {
		t.Helper()
		env.Eventually("rolled out", func() (bool, error) {
			env.MarkAllReady("default", "app=cli")
			out, err := wharf("rollout", "status", "deployment/cli", "--watch=false")
			return err == nil && strings.Contains(out, `deployment "cli" successfully rolled out`), fmt.Errorf("%q %v", out, err)
		})
	}
	rolledOut()

	must("deployment.apps/cli scaled", "scale", "deployment/cli", "--replicas=2")
	if _, err := wharf("scale", "deploy", "cli", "--current-replicas=5", "--replicas=1"); err == nil || !strings.Contains(err.Error(), "expected replicas to be 5, was 2") {
		t.Fatalf("scale with a wrong --current-replicas: %v", err)
	}
	if _, err := wharf("scale", "pod/x", "--replicas=1"); err == nil || !strings.Contains(err.Error(), "no scale subresource") {
		t.Fatalf("scale of a pod: %v", err)
	}
	env.Eventually("two pods", func() (bool, error) { return len(env.Pods("default", "app=cli")) == 2, nil })
	rolledOut()

	must("deployment.apps/cli paused", "rollout", "pause", "deployment/cli")
	must("already paused", "rollout", "pause", "deployment/cli")
	if _, err := wharf("rollout", "restart", "deployment/cli"); err == nil || !strings.Contains(err.Error(), "paused") {
		t.Fatalf("restart of a paused deployment: %v", err)
	}
	must("deployment.apps/cli resumed", "rollout", "resume", "deployment/cli")
	must("deployment.apps/cli restarted", "rollout", "restart", "deployment/cli")
	d, err := dc.Get(ctx, "cli")
	if err != nil {
		t.Fatal(err)
	}
	if d.Spec.Template.Annotations[RestartedAtAnnotation] == "" {
		t.Fatalf("restart did not set %s: %v", RestartedAtAnnotation, d.Spec.Template.Annotations)
	}
	rolledOut()
	must("REVISION  CHANGE-CAUSE\n1         <none>\n2         <none>", "rollout", "history", "deployment/cli")
	must("deployment.apps/cli with revision #1", "rollout", "history", "deployment/cli", "--revision=1")
	must("deployment.apps/cli rolled back", "rollout", "undo", "deployment/cli")
	rolledOut()
	d, err = dc.Get(ctx, "cli")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Spec.Template.Annotations[RestartedAtAnnotation]; ok {
		t.Fatalf("undo kept the restart annotation: %v", d.Spec.Template.Annotations)
	}
	must("skipped rollback", "rollout", "undo", "deployment/cli", "--to-revision=3")
	if _, err := wharf("rollout", "status", "pod/x"); err == nil || !strings.Contains(err.Error(), "does not support pods") {
		t.Fatalf("rollout of a pod: %v", err)
	}
}

func TestStatusOfDaemonSetsAndStatefulSets(t *testing.T) {
	two := int32(2)
	one := int32(1)
	tests := []struct {
		name string
		obj  types.Object
		msg  string
		done bool
		err  bool
	}{
		{"ds not observed", &types.DaemonSet{ObjectMeta: types.ObjectMeta{Name: "d", Generation: 2}, Status: types.DaemonSetStatus{ObservedGeneration: 1}},
			"Waiting for daemon set spec update to be observed...", false, false},
		{"ds updating", &types.DaemonSet{ObjectMeta: types.ObjectMeta{Name: "d", Generation: 1}, Status: types.DaemonSetStatus{ObservedGeneration: 1, DesiredNumberScheduled: 3, UpdatedNumberScheduled: 1}},
			`Waiting for daemon set "d" rollout to finish: 1 out of 3 new pods have been updated...`, false, false},
		{"ds available", &types.DaemonSet{ObjectMeta: types.ObjectMeta{Name: "d", Generation: 1}, Status: types.DaemonSetStatus{ObservedGeneration: 1, DesiredNumberScheduled: 3, UpdatedNumberScheduled: 3, NumberAvailable: 2}},
			`Waiting for daemon set "d" rollout to finish: 2 of 3 updated pods are available...`, false, false},
		{"ds done", &types.DaemonSet{ObjectMeta: types.ObjectMeta{Name: "d", Generation: 1}, Status: types.DaemonSetStatus{ObservedGeneration: 1, DesiredNumberScheduled: 3, UpdatedNumberScheduled: 3, NumberAvailable: 3}},
			`daemon set "d" successfully rolled out`, true, false},
		{"ds on delete", &types.DaemonSet{Spec: types.DaemonSetSpec{UpdateStrategy: types.DaemonSetUpdateStrategy{Type: types.OnDeleteDaemonSetStrategyType}}}, "", false, true},
		{"sts not ready", &types.StatefulSet{ObjectMeta: types.ObjectMeta{Name: "s", Generation: 1}, Spec: types.StatefulSetSpec{Replicas: &two}, Status: types.StatefulSetStatus{ObservedGeneration: 1, ReadyReplicas: 1}},
			"Waiting for 1 pods to be ready...", false, false},
		{"sts rolling", &types.StatefulSet{ObjectMeta: types.ObjectMeta{Name: "s", Generation: 1}, Spec: types.StatefulSetSpec{Replicas: &two},
			Status: types.StatefulSetStatus{ObservedGeneration: 1, ReadyReplicas: 2, UpdatedReplicas: 1, CurrentRevision: "s-1", UpdateRevision: "s-2"}},
			"waiting for statefulset rolling update to complete 1 pods at revision s-2...", false, false},
		{"sts partition", &types.StatefulSet{ObjectMeta: types.ObjectMeta{Name: "s", Generation: 1}, Spec: types.StatefulSetSpec{Replicas: &two,
			UpdateStrategy: types.StatefulSetUpdateStrategy{RollingUpdate: &types.RollingUpdateStatefulSetStrategy{Partition: &one}}},
			Status: types.StatefulSetStatus{ObservedGeneration: 1, ReadyReplicas: 2, UpdatedReplicas: 1}},
			"partitioned roll out complete: 1 new pods have been updated...", true, false},
		{"sts done", &types.StatefulSet{ObjectMeta: types.ObjectMeta{Name: "s", Generation: 1}, Spec: types.StatefulSetSpec{Replicas: &two},
			Status: types.StatefulSetStatus{ObservedGeneration: 1, ReadyReplicas: 2, CurrentReplicas: 2, CurrentRevision: "s-2", UpdateRevision: "s-2"}},
			"statefulset rolling update complete 2 pods at revision s-2...", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, done, err := statusOf(tt.obj)
			if msg != tt.msg || done != tt.done || (err != nil) != tt.err {
				t.Fatalf("got (%q, %v, %v), want (%q, %v, error %v)", msg, done, err, tt.msg, tt.done, tt.err)
			}
		})
	}
}
