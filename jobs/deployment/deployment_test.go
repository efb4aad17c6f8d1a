package deployment_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/jobs/controller/controllertest"
	"github.com/wharfhq/wharf/jobs/deployment"
	"github.com/wharfhq/wharf/jobs/replicaset"
	"github.com/wharfhq/wharf/sdk"
)

const ns = "default"

var build = controllertest.Builds(controllertest.Controller(deployment.New), controllertest.Controller(replicaset.New))

func ptr[T any](v T) *T { return &v }

func newDeployment(name string, n int32, image string) *types.Deployment {
	lbl := map[string]string{"app": name}
	return &types.Deployment{
		ObjectMeta: types.ObjectMeta{Name: name, Namespace: ns},
		Spec: types.DeploymentSpec{
			Replicas: ptr(n),
			Selector: &types.LabelSelector{MatchLabels: lbl},
			Template: types.PodTemplateSpec{
				ObjectMeta: types.ObjectMeta{Labels: lbl},
				Spec:       types.PodSpec{Containers: []types.Container{{Name: "c", Image: image}}},
			},
		},
	}
}

func dClient(env *controllertest.Env) *sdk.TypedClient[*types.Deployment] {
	return sdk.Typed[*types.Deployment](env.Client).Namespace(ns)
}

func getD(env *controllertest.Env, name string) *types.Deployment {
	env.T.Helper()
	d, err := dClient(env).Get(context.Background(), name)
	if err != nil {
		env.T.Fatal(err)
	}
	return d
}

// update applies mutate to the Deployment, retrying on conflicts.
func update(env *controllertest.Env, name string, mutate func(d *types.Deployment)) {
	env.T.Helper()
	controllertest.Update(env.T, dClient(env), name, mutate)
}

func replicaSets(env *controllertest.Env, sel string) []*types.ReplicaSet {
	env.T.Helper()
	l, err := sdk.Typed[*types.ReplicaSet](env.Client).Namespace(ns).List(context.Background(), sdk.ListOptions{LabelSelector: sel})
	if err != nil {
		env.T.Fatal(err)
	}
	return l.Items
}

func condition(d *types.Deployment, t types.DeploymentConditionType) *types.DeploymentCondition {
	for i := range d.Status.Conditions {
		if d.Status.Conditions[i].Type == t {
			return &d.Status.Conditions[i]
		}
	}
	return nil
}

// rolledOut is kubectl rollout status's test of a finished rollout.
func rolledOut(d *types.Deployment) bool {
	c := condition(d, types.DeploymentProgressing)
	n := *d.Spec.Replicas
	return d.Status.ObservedGeneration >= d.Generation && d.Status.UpdatedReplicas == n &&
		d.Status.Replicas == n && d.Status.AvailableReplicas == n &&
		c != nil && c.Reason == deployment.ReasonNewRSAvailable
}

// rollOut marks Pods ready (as agents would) until the rollout is done.
func rollOut(env *controllertest.Env, name string) *types.Deployment {
	env.T.Helper()
	var d *types.Deployment
	env.Eventually("rollout of "+name, func() (bool, error) {
		env.MarkAllReady(ns, "app="+name)
		d = getD(env, name)
		return rolledOut(d), fmt.Errorf("status %+v", d.Status)
	})
	return d
}

func TestCreateRollsOut(t *testing.T) {
	env := controllertest.NewEnv(t)
	env.Start(build)
	if _, err := dClient(env).Create(env.Ctx(), newDeployment("web", 3, "nginx:1")); err != nil {
		t.Fatal(err)
	}
	d := rollOut(env, "web")
	if got := d.Annotations[deployment.RevisionAnnotation]; got != "1" {
		t.Errorf("deployment revision %q, want 1", got)
	}
	if c := condition(d, types.DeploymentAvailable); c == nil || c.Status != types.ConditionTrue || c.Reason != "MinimumReplicasAvailable" {
		t.Errorf("Available condition %+v", c)
	}
	rss := replicaSets(env, "app=web")
	if len(rss) != 1 {
		t.Fatalf("%d replicasets, want 1", len(rss))
	}
	rs := rss[0]
	hash := rs.Labels[controller.PodTemplateHashLabel]
	if hash == "" || rs.Name != "web-"+hash || rs.Spec.Selector.MatchLabels[controller.PodTemplateHashLabel] != hash ||
		rs.Spec.Template.Labels[controller.PodTemplateHashLabel] != hash {
		t.Errorf("replicaset %s: hash label %q not on name, selector and template", rs.Name, hash)
	}
	if rs.Annotations[deployment.RevisionAnnotation] != "1" || !types.IsControlledBy(rs, d) {
		t.Errorf("replicaset annotations %v, owners %+v", rs.Annotations, rs.OwnerReferences)
	}
	if d.Status.UnavailableReplicas != 0 || d.Status.ReadyReplicas != 3 {
		t.Errorf("status %+v", d.Status)
	}
}

// TestRollingUpdateSteps follows a rolling update with maxSurge 1 and
// maxUnavailable 0 step by step: at each step the controller may add one
// new Pod, and removes an old one only once a new one is ready.
func TestRollingUpdateSteps(t *testing.T) {
	env := controllertest.NewEnv(t)
	env.Start(build)
	d := newDeployment("api", 4, "app:1")
	d.Spec.Strategy = types.DeploymentStrategy{
		Type:          types.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &types.RollingUpdateDeployment{MaxSurge: ptr(types.FromInt(1)), MaxUnavailable: ptr(types.FromInt(0))},
	}
	if _, err := dClient(env).Create(env.Ctx(), d); err != nil {
		t.Fatal(err)
	}
	rollOut(env, "api")
	update(env, "api", func(d *types.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "app:2" })

	steps := []struct{ newPods, oldPods int }{{1, 4}, {2, 3}, {3, 2}, {4, 1}, {4, 0}}
	for i, s := range steps {
		var pods []types.Pod
		env.Eventually(fmt.Sprintf("step %d: %d new and %d old pods", i, s.newPods, s.oldPods), func() (bool, error) {
			pods = env.LivePods(ns, "app=api")
			n, o := countByImage(pods)
			return n == s.newPods && o == s.oldPods, fmt.Errorf("%d new, %d old", n, o)
		})
		ready := 0
		for _, p := range pods {
			if controller.IsPodReady(&p) {
				ready++
			}
		}
		if len(pods) > 5 || ready < 4 {
			t.Fatalf("step %d: %d pods (max 5 with maxSurge 1), %d ready (min 4 with maxUnavailable 0)", i, len(pods), ready)
		}
		env.MarkAllReady(ns, "app=api")
	}
	d = rollOut(env, "api")
	if got := d.Annotations[deployment.RevisionAnnotation]; got != "2" {
		t.Errorf("revision %q after one update, want 2", got)
	}
	if rss := replicaSets(env, "app=api"); len(rss) != 2 {
		t.Errorf("%d replicasets, want the new one and the old one scaled to 0", len(rss))
	}
}

// countByImage counts Pods of image app:2 (new) and others (old).
func countByImage(pods []types.Pod) (newPods, oldPods int) {
	for _, p := range pods {
		if p.Spec.Containers[0].Image == "app:2" {
			newPods++
		} else {
			oldPods++
		}
	}
	return newPods, oldPods
}

// TestRecreate checks on the watch stream that no new Pod is created
// while an old one exists.
func TestRecreate(t *testing.T) {
	env := controllertest.NewEnv(t)
	env.Start(build)
	d := newDeployment("db", 2, "app:1")
	d.Spec.Strategy = types.DeploymentStrategy{Type: types.RecreateDeploymentStrategyType}
	if _, err := dClient(env).Create(env.Ctx(), d); err != nil {
		t.Fatal(err)
	}
	rollOut(env, "db")
	pods := sdk.Typed[*types.Pod](env.Client).Namespace(ns)
	l, err := pods.List(env.Ctx(), sdk.ListOptions{LabelSelector: "app=db"})
	if err != nil {
		t.Fatal(err)
	}
	w, err := pods.Watch(env.Ctx(), sdk.ListOptions{LabelSelector: "app=db", ResourceVersion: l.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	update(env, "db", func(d *types.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "app:2" })

	old := map[string]bool{}
	for _, p := range l.Items {
		old[p.Name] = true
	}
	newSeen := map[string]bool{}
	for len(newSeen) < 2 {
		ev, ok := <-w.Events()
		if !ok {
			t.Fatalf("watch ended: %v", w.Err())
		}
		p := ev.Object
		switch {
		case ev.Type == types.Deleted:
			delete(old, p.Name)
		case p.Spec.Containers[0].Image == "app:2":
			if len(old) > 0 {
				t.Fatalf("new pod %s created while old pods %v exist", p.Name, old)
			}
			newSeen[p.Name] = true
		}
	}
	rollOut(env, "db")
}

func TestRollbackReusesOldReplicaSet(t *testing.T) {
	env := controllertest.NewEnv(t)
	env.Start(build)
	ctx := env.Ctx()
	if _, err := dClient(env).Create(ctx, newDeployment("svc", 2, "app:1")); err != nil {
		t.Fatal(err)
	}
	rollOut(env, "svc")
	first := replicaSets(env, "app=svc")[0]
	update(env, "svc", func(d *types.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "app:2" })
	rollOut(env, "svc")

	if _, err := deployment.Rollback(ctx, env.Client, ns, "svc", 7); !errors.Is(err, deployment.ErrRevisionNotFound) {
		t.Fatalf("rollback to a missing revision: %v, want ErrRevisionNotFound", err)
	}
	msg, err := deployment.Rollback(ctx, env.Client, ns, "svc", 0)
	if err != nil {
		t.Fatal(err)
	}
	if msg != "deployment.apps/svc rolled back" {
		t.Errorf("message %q", msg)
	}
	d := rollOut(env, "svc")
	if img := d.Spec.Template.Spec.Containers[0].Image; img != "app:1" {
		t.Fatalf("template image %q after undo, want app:1", img)
	}
	env.Eventually("revision 3 on the first replicaset", func() (bool, error) {
		rss := replicaSets(env, "app=svc")
		for _, rs := range rss {
			if rs.UID == first.UID {
				return rs.Annotations[deployment.RevisionAnnotation] == "3" && getD(env, "svc").Annotations[deployment.RevisionAnnotation] == "3" &&
					len(rss) == 2, fmt.Errorf("%d replicasets, first has annotations %v", len(rss), rs.Annotations)
			}
		}
		return false, errors.New("first replicaset gone")
	})
	_, hist, err := deployment.History(ctx, env.Client, ns, "svc")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Revision != 2 || hist[1].Revision != 3 {
		t.Errorf("history %+v, want revisions 2 and 3", hist)
	}
	if first := replicaSets(env, "app=svc"); first[0].Annotations[deployment.RevisionHistoryAnnotation] == "" &&
		first[1].Annotations[deployment.RevisionHistoryAnnotation] == "" {
		t.Errorf("no revision-history annotation on the reused replicaset")
	}
}

func TestPauseHoldsRollout(t *testing.T) {
	env := controllertest.NewEnv(t)
	env.Start(build)
	if _, err := dClient(env).Create(env.Ctx(), newDeployment("p", 2, "app:1")); err != nil {
		t.Fatal(err)
	}
	rollOut(env, "p")
	update(env, "p", func(d *types.Deployment) { d.Spec.Paused = true })
	update(env, "p", func(d *types.Deployment) {
		d.Spec.Template.Spec.Containers[0].Image = "app:2"
		d.Spec.Replicas = ptr(int32(3))
	})
	env.Eventually("paused deployment observed and scaled", func() (bool, error) {
		d := getD(env, "p")
		c := condition(d, types.DeploymentProgressing)
		return d.Status.ObservedGeneration == d.Generation && c != nil && c.Reason == deployment.ReasonPaused &&
			len(env.LivePods(ns, "app=p")) == 3, fmt.Errorf("status %+v", d.Status)
	})
	if rss := replicaSets(env, "app=p"); len(rss) != 1 {
		t.Fatalf("%d replicasets while paused, want 1 (no rollout)", len(rss))
	}
	update(env, "p", func(d *types.Deployment) { d.Spec.Paused = false })
	d := rollOut(env, "p")
	if d.Spec.Template.Spec.Containers[0].Image != "app:2" || len(replicaSets(env, "app=p")) != 2 {
		t.Fatalf("after resume: image %s, %d replicasets", d.Spec.Template.Spec.Containers[0].Image, len(replicaSets(env, "app=p")))
	}
}

func TestRevisionHistoryLimitAndRestart(t *testing.T) {
	env := controllertest.NewEnv(t)
	env.Start(build)
	d := newDeployment("h", 1, "app:1")
	d.Spec.RevisionHistoryLimit = ptr(int32(1))
	if _, err := dClient(env).Create(env.Ctx(), d); err != nil {
		t.Fatal(err)
	}
	rollOut(env, "h")
	for i := range 3 {
		// kubectl rollout restart: a template annotation change.
		update(env, "h", func(d *types.Deployment) {
			if d.Spec.Template.Annotations == nil {
				d.Spec.Template.Annotations = map[string]string{}
			}
			d.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"] = fmt.Sprint("2026-01-01T00:00:0", i, "Z")
		})
		rollOut(env, "h")
	}
	env.Eventually("old replicasets cleaned up", func() (bool, error) {
		rss := replicaSets(env, "app=h")
		return len(rss) == 2, fmt.Errorf("%d replicasets, want 2 (the new one and one old)", len(rss))
	})
	if got := getD(env, "h").Annotations[deployment.RevisionAnnotation]; got != "4" {
		t.Errorf("revision %q after three restarts, want 4", got)
	}
}

func TestProgressDeadlineExceeded(t *testing.T) {
	t.Parallel() // mostly waiting (deadlines, minReadySeconds, kubectl)
	env := controllertest.NewEnv(t)
	env.Start(build)
	d := newDeployment("slow", 1, "app:1")
	d.Spec.ProgressDeadlineSeconds = ptr(int32(1))
	if _, err := dClient(env).Create(env.Ctx(), d); err != nil {
		t.Fatal(err)
	}
	// Nothing marks the Pod ready: the deadline passes.
	env.Eventually("ProgressDeadlineExceeded", func() (bool, error) {
		d := getD(env, "slow")
		c := condition(d, types.DeploymentProgressing)
		return c != nil && c.Status == types.ConditionFalse && c.Reason == deployment.ReasonTimedOut, fmt.Errorf("conditions %+v", d.Status.Conditions)
	})
}

// TestRestartMidRollout stops the controllers, changes the template, and
// starts new ones: one new ReplicaSet, no duplicate Pods, the rollout
// finishes.
func TestRestartMidRollout(t *testing.T) {
	t.Parallel() // mostly waiting (deadlines, minReadySeconds, kubectl)
	env := controllertest.NewEnv(t)
	first := env.Start(build)
	d := newDeployment("rr", 3, "app:1")
	d.Spec.MinReadySeconds = 1 // Pods become available through the delayed re-check
	d.Spec.Strategy.RollingUpdate = &types.RollingUpdateDeployment{MaxSurge: ptr(types.FromString("100%"))}
	if _, err := dClient(env).Create(env.Ctx(), d); err != nil {
		t.Fatal(err)
	}
	rollOut(env, "rr")
	first.Stop()
	update(env, "rr", func(d *types.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "app:2" })
	env.Start(build)
	d = rollOut(env, "rr")
	if rss := replicaSets(env, "app=rr"); len(rss) != 2 {
		t.Fatalf("%d replicasets after a restart mid-rollout, want 2", len(rss))
	}
	if pods := env.LivePods(ns, "app=rr"); len(pods) != 3 {
		t.Fatalf("%d pods, want 3", len(pods))
	}
	if d.Status.AvailableReplicas != 3 || d.Annotations[deployment.RevisionAnnotation] != "2" {
		t.Fatalf("status %+v, annotations %v", d.Status, d.Annotations)
	}
}

// TestReplicaFailure: while Pod creates fail, the ReplicaSet and the
// Deployment carry ReplicaFailure=True; once creates work, it goes.
func TestReplicaFailure(t *testing.T) {
	var refuse atomic.Bool
	refuse.Store(true)
	env := controllertest.NewEnvWith(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if refuse.Load() && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/pods") {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403,"message":"pods are refused by the test"}`)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	env.Start(build)
	if _, err := dClient(env).Create(env.Ctx(), newDeployment("fail", 2, "app:1")); err != nil {
		t.Fatal(err)
	}
	env.Eventually("ReplicaFailure on the deployment", func() (bool, error) {
		d := getD(env, "fail")
		c := condition(d, types.DeploymentReplicaFailure)
		return c != nil && c.Status == types.ConditionTrue && c.Reason == "FailedCreate" && strings.Contains(c.Message, "refused by the test"),
			fmt.Errorf("conditions %+v", d.Status.Conditions)
	})
	refuse.Store(false)
	d := rollOut(env, "fail")
	env.Eventually("ReplicaFailure cleared", func() (bool, error) {
		d = getD(env, "fail")
		return condition(d, types.DeploymentReplicaFailure) == nil, fmt.Errorf("conditions %+v", d.Status.Conditions)
	})
}

// TestProportionalScaling scales a Deployment in the middle of a stalled
// rollout: the extra replicas are shared between the old and the new
// ReplicaSet in proportion to their sizes, as Kubernetes does.
func TestProportionalScaling(t *testing.T) {
	env := controllertest.NewEnv(t)
	env.Start(build)
	d := newDeployment("prop", 10, "app:1")
	d.Spec.Strategy.RollingUpdate = &types.RollingUpdateDeployment{MaxSurge: ptr(types.FromInt(3)), MaxUnavailable: ptr(types.FromInt(2))}
	if _, err := dClient(env).Create(env.Ctx(), d); err != nil {
		t.Fatal(err)
	}
	rollOut(env, "prop")
	update(env, "prop", func(d *types.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "app:2" })
	// New Pods never become ready: the rollout stalls at 8 old + 5 new.
	sizes := func() (oldN, newN int32) {
		for _, rs := range replicaSets(env, "app=prop") {
			if rs.Spec.Template.Spec.Containers[0].Image == "app:2" {
				newN = *rs.Spec.Replicas
			} else {
				oldN = *rs.Spec.Replicas
			}
		}
		return oldN, newN
	}
	env.Eventually("stalled at 8 old and 5 new", func() (bool, error) {
		o, n := sizes()
		return o == 8 && n == 5, fmt.Errorf("old %d new %d", o, n)
	})
	update(env, "prop", func(d *types.Deployment) { d.Spec.Replicas = ptr(int32(20)) })
	// 23 allowed (20 + surge 3): old 8*23/13 = 14, new 5*23/13 = 9.
	env.Eventually("scaled proportionally to 14 old and 9 new", func() (bool, error) {
		o, n := sizes()
		return o == 14 && n == 9, fmt.Errorf("old %d new %d", o, n)
	})
	rollOut(env, "prop")
}

// TestStaleStatusDoesNotBreakMaxUnavailable runs the Deployment
// controller alone, with the ReplicaSets' statuses written by the test: an
// old ReplicaSet scaled from 4 to 3 whose status still says 4 available
// (its controller has not synced yet) must not be scaled down again, or
// the Deployment would go below replicas - maxUnavailable.
func TestStaleStatusDoesNotBreakMaxUnavailable(t *testing.T) {
	env := controllertest.NewEnv(t)
	env.Start(controllertest.Controller(deployment.New))
	d := newDeployment("stale", 4, "app:1")
	d.Spec.Strategy = types.DeploymentStrategy{
		Type:          types.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &types.RollingUpdateDeployment{MaxSurge: ptr(types.FromInt(0)), MaxUnavailable: ptr(types.FromInt(1))},
	}
	if _, err := dClient(env).Create(env.Ctx(), d); err != nil {
		t.Fatal(err)
	}
	rsc := sdk.Typed[*types.ReplicaSet](env.Client).Namespace(ns)
	var old *types.ReplicaSet
	env.Eventually("first replicaset", func() (bool, error) {
		rss := replicaSets(env, "app=stale")
		if len(rss) == 1 {
			old = rss[0]
		}
		return len(rss) == 1, fmt.Errorf("%d replicasets", len(rss))
	})
	// As the ReplicaSet controller would report 4 available Pods.
	controllertest.UpdateStatus(t, rsc, old.Name, func(rs *types.ReplicaSet) {
		rs.Status = types.ReplicaSetStatus{Replicas: 4, FullyLabeledReplicas: 4, ReadyReplicas: 4, AvailableReplicas: 4, ObservedGeneration: rs.Generation}
	})
	env.Eventually("deployment available", func() (bool, error) {
		got := getD(env, "stale")
		return got.Status.AvailableReplicas == 4, fmt.Errorf("status %+v", got.Status)
	})

	update(env, "stale", func(d *types.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "app:2" })
	// maxSurge 0, maxUnavailable 1: the old ReplicaSet goes to 3, then the
	// new one to 1 (4 in all).
	env.Eventually("old scaled to 3 and new to 1", func() (bool, error) {
		var oldN, newN int32 = -1, -1
		for _, rs := range replicaSets(env, "app=stale") {
			if rs.Name == old.Name {
				oldN = *rs.Spec.Replicas
			} else {
				newN = *rs.Spec.Replicas
			}
		}
		return oldN == 3 && newN == 1, fmt.Errorf("old %d, new %d", oldN, newN)
	})
	// The new Pod becomes available; the old ReplicaSet's status is still
	// the stale 4. Available Pods are 3 old + 1 new: one more old Pod may
	// go (old to 2), not two (summing the stale status gives 5 available).
	var newName string
	for _, rs := range replicaSets(env, "app=stale") {
		if rs.Name != old.Name {
			newName = rs.Name
		}
	}
	controllertest.UpdateStatus(t, rsc, newName, func(rs *types.ReplicaSet) {
		rs.Status = types.ReplicaSetStatus{Replicas: 1, FullyLabeledReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1, ObservedGeneration: rs.Generation}
	})
	env.Eventually("old scaled below 3", func() (bool, error) {
		rs, err := rsc.Get(env.Ctx(), old.Name)
		return err == nil && *rs.Spec.Replicas < 3, err
	})
	// Further syncs change nothing while the statuses stay as they are.
	controllertest.Touch(t, dClient(env), "stale")
	env.Eventually("deployment synced after the touch", func() (bool, error) {
		got := getD(env, "stale")
		return got.Status.ObservedGeneration == got.Generation, nil
	})
	if rs, err := rsc.Get(env.Ctx(), old.Name); err != nil {
		t.Fatal(err)
	} else if *rs.Spec.Replicas != 2 {
		t.Fatalf("old replicaset scaled to %d with its status still at 4 available and 1 new available; want 2 (4 - maxUnavailable 1 - 1 new)", *rs.Spec.Replicas)
	}
}
