package replicaset_test

import (
	"fmt"
	"testing"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller/controllertest"
	"github.com/wharfhq/wharf/jobs/replicaset"
	"github.com/wharfhq/wharf/sdk"
)

const ns = "default"

var build = controllertest.Controller(replicaset.New)

func ptr[T any](v T) *T { return &v }

func newRS(name string, n int32, minReady int32) *types.ReplicaSet {
	lbl := map[string]string{"app": name}
	return &types.ReplicaSet{
		ObjectMeta: types.ObjectMeta{Name: name, Namespace: ns},
		Spec: types.ReplicaSetSpec{
			Replicas:        ptr(n),
			MinReadySeconds: minReady,
			Selector:        &types.LabelSelector{MatchLabels: lbl},
			Template: types.PodTemplateSpec{
				ObjectMeta: types.ObjectMeta{Labels: lbl},
				Spec:       types.PodSpec{Containers: []types.Container{{Name: "c", Image: "busybox"}}},
			},
		},
	}
}

func rsClient(env *controllertest.Env) *sdk.TypedClient[*types.ReplicaSet] {
	return sdk.Typed[*types.ReplicaSet](env.Client).Namespace(ns)
}

// waitPods waits until exactly n active Pods match sel.
func waitPods(env *controllertest.Env, sel string, n int) []types.Pod {
	env.T.Helper()
	var pods []types.Pod
	env.Eventually(fmt.Sprintf("%d pods %s", n, sel), func() (bool, error) {
		pods = env.LivePods(ns, sel)
		return len(pods) == n, fmt.Errorf("have %d", len(pods))
	})
	return pods
}

func waitStatus(env *controllertest.Env, name string, ok func(s types.ReplicaSetStatus, rs *types.ReplicaSet) bool) {
	env.T.Helper()
	controllertest.WaitFor(env, rsClient(env), name, "status", func(rs *types.ReplicaSet) bool { return ok(rs.Status, rs) })
}

func TestCreatesPodsWithOwnerAndStatus(t *testing.T) {
	env := controllertest.NewEnv(t)
	ctx := env.Ctx()
	env.Start(build)
	rs, err := rsClient(env).Create(ctx, newRS("web", 3, 0))
	if err != nil {
		t.Fatal(err)
	}
	pods := waitPods(env, "app=web", 3)
	for _, p := range pods {
		ref := types.GetControllerOf(&p)
		if ref == nil || ref.UID != rs.UID || ref.Kind != "ReplicaSet" || ref.APIVersion != "apps/v1" ||
			ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
			t.Fatalf("pod %s: controller ref %+v, want ReplicaSet web uid %s with blockOwnerDeletion", p.Name, ref, rs.UID)
		}
		if p.GenerateName != "web-" {
			t.Errorf("pod %s: generateName %q, want web-", p.Name, p.GenerateName)
		}
	}
	waitStatus(env, "web", func(s types.ReplicaSetStatus, rs *types.ReplicaSet) bool {
		return s.Replicas == 3 && s.FullyLabeledReplicas == 3 && s.ReadyReplicas == 0 && s.ObservedGeneration == rs.Generation
	})
	if n := env.MarkAllReady(ns, "app=web"); n != 3 {
		t.Fatalf("marked %d pods ready, want 3", n)
	}
	waitStatus(env, "web", func(s types.ReplicaSetStatus, _ *types.ReplicaSet) bool {
		return s.ReadyReplicas == 3 && s.AvailableReplicas == 3
	})
	env.Eventually("SuccessfulCreate events", func() (bool, error) {
		l, err := sdk.Typed[*types.Event](env.Client).Namespace(ns).List(ctx, sdk.ListOptions{})
		if err != nil {
			return false, err
		}
		n := 0
		for _, ev := range l.Items {
			if ev.Reason == "SuccessfulCreate" && ev.InvolvedObject.UID == rs.UID && ev.InvolvedObject.Kind == "ReplicaSet" {
				n++
			}
		}
		return n == 3, fmt.Errorf("%d SuccessfulCreate events", n)
	})
}

func TestScaleDownPrefersNotReadyAndReplacesDeleted(t *testing.T) {
	env := controllertest.NewEnv(t)
	ctx := env.Ctx()
	env.Start(build)
	if _, err := rsClient(env).Create(ctx, newRS("api", 4, 0)); err != nil {
		t.Fatal(err)
	}
	pods := waitPods(env, "app=api", 4)
	ready := map[string]bool{pods[0].Name: true, pods[1].Name: true}
	for name := range ready {
		env.MarkReady(ns, name)
	}
	waitStatus(env, "api", func(s types.ReplicaSetStatus, _ *types.ReplicaSet) bool { return s.ReadyReplicas == 2 })

	rs, err := rsClient(env).Get(ctx, "api")
	if err != nil {
		t.Fatal(err)
	}
	rs.Spec.Replicas = ptr(int32(2))
	if _, err := rsClient(env).Update(ctx, rs); err != nil {
		t.Fatal(err)
	}
	left := waitPods(env, "app=api", 2)
	for _, p := range left {
		if !ready[p.Name] {
			t.Errorf("pod %s kept on scale-down, but it was not ready and ready ones were deleted", p.Name)
		}
	}

	// A deleted Pod is replaced.
	pc := sdk.Typed[*types.Pod](env.Client).Namespace(ns)
	if err := pc.Delete(ctx, left[0].Name, types.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	env.Eventually("replacement pod", func() (bool, error) {
		now := env.LivePods(ns, "app=api")
		if len(now) != 2 {
			return false, fmt.Errorf("%d pods", len(now))
		}
		for _, p := range now {
			if p.Name == left[0].Name {
				return false, nil
			}
		}
		return true, nil
	})
}

func TestAdoptsOrphansAndReleasesNonMatching(t *testing.T) {
	env := controllertest.NewEnv(t)
	ctx := env.Ctx()
	pc := sdk.Typed[*types.Pod](env.Client).Namespace(ns)
	// An orphan that matches before the ReplicaSet exists.
	orphan := &types.Pod{
		ObjectMeta: types.ObjectMeta{Name: "orphan", Namespace: ns, Labels: map[string]string{"app": "db"}},
		Spec:       types.PodSpec{Containers: []types.Container{{Name: "c", Image: "busybox"}}},
	}
	if _, err := pc.Create(ctx, orphan); err != nil {
		t.Fatal(err)
	}
	env.Start(build)
	rs, err := rsClient(env).Create(ctx, newRS("db", 2, 0))
	if err != nil {
		t.Fatal(err)
	}
	waitPods(env, "app=db", 2)
	got, err := pc.Get(ctx, "orphan")
	if err != nil {
		t.Fatal(err)
	}
	if !types.IsControlledBy(got, rs) {
		t.Fatalf("orphan not adopted: owner refs %+v", got.OwnerReferences)
	}

	// Relabel the adopted Pod: it is released and replaced.
	got.Labels = map[string]string{"app": "other"}
	if _, err := pc.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	env.Eventually("orphan released", func() (bool, error) {
		p, err := pc.Get(ctx, "orphan")
		if err != nil {
			return false, err
		}
		return len(p.OwnerReferences) == 0, fmt.Errorf("owner refs %+v", p.OwnerReferences)
	})
	waitPods(env, "app=db", 2)
}

func TestRestartDoesNotDuplicatePods(t *testing.T) {
	env := controllertest.NewEnv(t)
	ctx := env.Ctx()
	first := env.Start(build)
	if _, err := rsClient(env).Create(ctx, newRS("batch", 5, 0)); err != nil {
		t.Fatal(err)
	}
	waitPods(env, "app=batch", 5)
	waitStatus(env, "batch", func(s types.ReplicaSetStatus, _ *types.ReplicaSet) bool { return s.Replicas == 5 })
	first.Stop()

	second := env.Start(build)
	// Touch the ReplicaSet so the new controller certainly syncs it, and
	// wait for it to report the change it saw.
	rs, err := rsClient(env).Get(ctx, "batch")
	if err != nil {
		t.Fatal(err)
	}
	rs.Spec.MinReadySeconds = 1
	if _, err := rsClient(env).Update(ctx, rs); err != nil {
		t.Fatal(err)
	}
	waitStatus(env, "batch", func(s types.ReplicaSetStatus, rs *types.ReplicaSet) bool {
		return s.ObservedGeneration == rs.Generation && rs.Generation > 1
	})
	second.Stop()
	if pods := env.Pods(ns, "app=batch"); len(pods) != 5 {
		t.Fatalf("%d pods after a restart, want 5", len(pods))
	}
}

// TestOverlappingSelectorsDoNotSteal: a ReplicaSet never takes Pods
// another one controls, even when its selector matches them.
func TestOverlappingSelectorsDoNotSteal(t *testing.T) {
	env := controllertest.NewEnv(t)
	ctx := env.Ctx()
	env.Start(build)
	a, err := rsClient(env).Create(ctx, newRS("a", 2, 0))
	if err != nil {
		t.Fatal(err)
	}
	waitPods(env, "app=a", 2)
	b := newRS("b", 1, 0)
	b.Spec.Selector.MatchLabels = map[string]string{"app": "a"}
	b.Spec.Template.Labels = map[string]string{"app": "a", "owner": "b"}
	bb, err := rsClient(env).Create(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(env, "b", func(s types.ReplicaSetStatus, _ *types.ReplicaSet) bool { return s.Replicas == 1 })
	waitStatus(env, "a", func(s types.ReplicaSetStatus, _ *types.ReplicaSet) bool { return s.Replicas == 2 })
	byOwner := map[string]int{}
	for _, p := range env.LivePods(ns, "app=a") {
		byOwner[types.GetControllerOf(&p).UID]++
	}
	if byOwner[a.UID] != 2 || byOwner[bb.UID] != 1 || len(byOwner) != 2 {
		t.Fatalf("pods by owner %v, want 2 of a and 1 of b", byOwner)
	}
}

// TestScaleDownStatusLeavesOutDeletedPods watches the ReplicaSet's status
// writes during a scale-down: none of the new generation counts a Pod the
// controller has deleted (a Deployment reading such a status would see
// more available Pods than there are and scale another ReplicaSet down
// too far).
func TestScaleDownStatusLeavesOutDeletedPods(t *testing.T) {
	env := controllertest.NewEnv(t)
	ctx := env.Ctx()
	env.Start(build)
	if _, err := rsClient(env).Create(ctx, newRS("down", 4, 0)); err != nil {
		t.Fatal(err)
	}
	waitPods(env, "app=down", 4)
	env.MarkAllReady(ns, "app=down")
	waitStatus(env, "down", func(s types.ReplicaSetStatus, _ *types.ReplicaSet) bool { return s.AvailableReplicas == 4 })

	w, err := rsClient(env).Watch(ctx, sdk.ListOptions{FieldSelector: "metadata.name=down"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	rs := controllertest.Update(t, rsClient(env), "down", func(rs *types.ReplicaSet) { rs.Spec.Replicas = ptr(int32(1)) })
	for {
		ev, ok := <-w.Events()
		if !ok {
			t.Fatalf("watch ended: %v", w.Err())
		}
		got := ev.Object
		if got == nil || got.Status.ObservedGeneration < rs.Generation {
			continue
		}
		if got.Status.Replicas > 1 || got.Status.AvailableReplicas > 1 {
			t.Fatalf("status of generation %d after the scale to 1: replicas %d, available %d; want at most 1 (deleted Pods counted)",
				rs.Generation, got.Status.Replicas, got.Status.AvailableReplicas)
		}
		if got.Status.AvailableReplicas == 1 {
			break
		}
	}
	waitPods(env, "app=down", 1)
}
