package gc_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/jobs/controller/controllertest"
	"github.com/wharfhq/wharf/jobs/gc"
	"github.com/wharfhq/wharf/sdk"
)

const ns = "default"

var build = controllertest.Controller(gc.New)

func ptr[T any](v T) *T { return &v }

var (
	deployGVK = types.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	rsGVK     = types.GroupVersionKind{Group: "apps", Version: "v1", Kind: "ReplicaSet"}
)

func podSpec() types.PodSpec {
	return types.PodSpec{Containers: []types.Container{{Name: "c", Image: "busybox"}}}
}

// chain creates by hand (no workload controllers run) a Deployment, a
// ReplicaSet it controls and n Pods the ReplicaSet controls.
func chain(t *testing.T, env *controllertest.Env, name string, n int) (*types.Deployment, *types.ReplicaSet) {
	t.Helper()
	ctx := context.Background()
	lbl := map[string]string{"app": name}
	d, err := sdk.Typed[*types.Deployment](env.Client).Namespace(ns).Create(ctx, &types.Deployment{
		ObjectMeta: types.ObjectMeta{Name: name, Namespace: ns},
		Spec: types.DeploymentSpec{Replicas: ptr(int32(n)), Selector: &types.LabelSelector{MatchLabels: lbl},
			Template: types.PodTemplateSpec{ObjectMeta: types.ObjectMeta{Labels: lbl}, Spec: podSpec()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := sdk.Typed[*types.ReplicaSet](env.Client).Namespace(ns).Create(ctx, &types.ReplicaSet{
		ObjectMeta: types.ObjectMeta{Name: name + "-rs", Namespace: ns, Labels: lbl,
			OwnerReferences: []types.OwnerReference{*types.NewControllerRef(d, deployGVK)}},
		Spec: types.ReplicaSetSpec{Replicas: ptr(int32(n)), Selector: &types.LabelSelector{MatchLabels: lbl},
			Template: types.PodTemplateSpec{ObjectMeta: types.ObjectMeta{Labels: lbl}, Spec: podSpec()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		pod := controller.PodFromTemplate(&rs.Spec.Template, rs, rsGVK, rs.Name)
		pod.GenerateName, pod.Name = "", fmt.Sprintf("%s-pod-%d", name, i)
		if _, err := sdk.Typed[*types.Pod](env.Client).Namespace(ns).Create(ctx, pod); err != nil {
			t.Fatal(err)
		}
	}
	return d, rs
}

func count[T types.Object](t *testing.T, env *controllertest.Env, sel string) int {
	t.Helper()
	l, err := sdk.Typed[T](env.Client).Namespace(ns).List(context.Background(), sdk.ListOptions{LabelSelector: sel})
	if err != nil {
		t.Fatal(err)
	}
	return len(l.Items)
}

func exists[T types.Object](t *testing.T, env *controllertest.Env, name string) bool {
	t.Helper()
	_, err := sdk.Typed[T](env.Client).Namespace(ns).Get(context.Background(), name)
	if err != nil && !sdk.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

func TestBackgroundDeletesDependents(t *testing.T) {
	env := controllertest.NewEnv(t)
	env.Start(build)
	chain(t, env, "bg", 3)
	if err := sdk.Typed[*types.Deployment](env.Client).Namespace(ns).Delete(env.Ctx(), "bg", types.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	env.Eventually("replicaset and pods collected", func() (bool, error) {
		rs, pods := count[*types.ReplicaSet](t, env, "app=bg"), count[*types.Pod](t, env, "app=bg")
		return rs == 0 && pods == 0, fmt.Errorf("%d replicasets, %d pods left", rs, pods)
	})
}

// deletionRevisions watches resources from rv and returns the revision of
// each DELETED event by name, until want names are seen.
func deletionRevisions(t *testing.T, env *controllertest.Env, rv string, want int, res ...*types.Resource) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := make(chan sdk.Event[types.Object], 100)
	for _, r := range res {
		w, err := env.Client.Resource(r).Namespace(ns).Watch(ctx, sdk.ListOptions{ResourceVersion: rv})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		go func() {
			for ev := range w.Events() {
				select {
				case events <- ev:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	env.Eventually(fmt.Sprintf("%d deletions", want), func() (bool, error) {
		for {
			select {
			case ev := <-events:
				if ev.Type == types.Deleted {
					m := ev.Object.GetObjectMeta()
					n, err := strconv.ParseInt(m.ResourceVersion, 10, 64)
					if err != nil {
						return false, err
					}
					out[m.Name] = n
				}
			default:
				return len(out) >= want, fmt.Errorf("deleted so far: %v", out)
			}
		}
	})
	return out
}

// TestForegroundDeletesDependentsFirst checks on the global revision order
// of the deletions that Pods go before their ReplicaSet, which goes before
// its Deployment.
func TestForegroundDeletesDependentsFirst(t *testing.T) {
	env := controllertest.NewEnv(t)
	run := env.Start(build)
	chain(t, env, "fg", 2)
	l, err := sdk.Typed[*types.Pod](env.Client).Namespace(ns).List(env.Ctx(), sdk.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Foreground deletion orders the dependents the collector knows of
	// (as Kubernetes' does): let its caches see the chain first, or a
	// ReplicaSet it has not seen yet cannot hold the Deployment back.
	for _, c := range []struct {
		res   func() (*types.Resource, error)
		names []string
	}{
		{sdk.ResourceOf[*types.Pod], []string{"fg-pod-0", "fg-pod-1"}},
		{sdk.ResourceOf[*types.ReplicaSet], []string{"fg-rs"}},
		{sdk.ResourceOf[*types.Deployment], []string{"fg"}},
	} {
		r, err := c.res()
		if err != nil {
			t.Fatal(err)
		}
		lister := run.Factory.Informer(r, sdk.InformerOptions{}).Lister()
		env.Eventually("the collector's cache of "+r.Name+" has the chain", func() (bool, error) {
			for _, name := range c.names {
				if _, err := lister.Get(ns, name); err != nil {
					return false, err
				}
			}
			return true, nil
		})
	}
	if err := sdk.Typed[*types.Deployment](env.Client).Namespace(ns).Delete(env.Ctx(), "fg",
		types.DeleteOptions{PropagationPolicy: ptr(types.DeletePropagationForeground)}); err != nil {
		t.Fatal(err)
	}
	var res []*types.Resource
	for _, f := range []func() (*types.Resource, error){sdk.ResourceOf[*types.Pod], sdk.ResourceOf[*types.ReplicaSet], sdk.ResourceOf[*types.Deployment]} {
		r, err := f()
		if err != nil {
			t.Fatal(err)
		}
		res = append(res, r)
	}
	revs := deletionRevisions(t, env, l.ResourceVersion, 4, res...)
	rs, d := revs["fg-rs"], revs["fg"]
	for _, pod := range []string{"fg-pod-0", "fg-pod-1"} {
		if revs[pod] == 0 || revs[pod] > rs {
			t.Errorf("pod %s deleted at revision %d, replicaset at %d: want the pod first", pod, revs[pod], rs)
		}
	}
	if rs == 0 || rs > d {
		t.Errorf("replicaset deleted at revision %d, deployment at %d: want the replicaset first", rs, d)
	}
}

func TestOrphanKeepsDependents(t *testing.T) {
	env := controllertest.NewEnv(t)
	env.Start(build)
	_, rs := chain(t, env, "or", 2)
	rsc := sdk.Typed[*types.ReplicaSet](env.Client).Namespace(ns)
	if err := rsc.Delete(env.Ctx(), rs.Name, types.DeleteOptions{PropagationPolicy: ptr(types.DeletePropagationOrphan)}); err != nil {
		t.Fatal(err)
	}
	env.Eventually("replicaset gone", func() (bool, error) { return !exists[*types.ReplicaSet](t, env, rs.Name), nil })
	for _, p := range env.Pods(ns, "app=or") {
		if len(p.OwnerReferences) != 0 {
			t.Errorf("pod %s still has owner references %+v", p.Name, p.OwnerReferences)
		}
	}
	if n := count[*types.Pod](t, env, "app=or"); n != 2 {
		t.Fatalf("%d pods left, want the 2 orphans", n)
	}
	// The Deployment that owned the ReplicaSet is untouched.
	if !exists[*types.Deployment](t, env, "or") {
		t.Fatal("deployment deleted")
	}
}

// TestCollectsAfterRestart: dependents whose owner vanished while no
// collector ran are collected when one starts; a dependent with another
// live owner only loses the dangling reference.
func TestCollectsAfterRestart(t *testing.T) {
	env := controllertest.NewEnv(t)
	ctx := env.Ctx()
	_, rs := chain(t, env, "rs", 1)
	pods := sdk.Typed[*types.Pod](env.Client).Namespace(ns)
	ghost := types.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "ghost", UID: "00000000-0000-0000-0000-00000000dead"}
	for i, refs := range [][]types.OwnerReference{
		{ghost},
		{ghost, {APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID}},
	} {
		p := &types.Pod{ObjectMeta: types.ObjectMeta{Name: fmt.Sprint("dep-", i), Namespace: ns, OwnerReferences: refs}, Spec: podSpec()}
		if _, err := pods.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	env.Start(build)
	env.Eventually("dangling dependent collected", func() (bool, error) { return !exists[*types.Pod](t, env, "dep-0"), nil })
	env.Eventually("dangling reference dropped", func() (bool, error) {
		p, err := pods.Get(ctx, "dep-1")
		if err != nil {
			return false, err
		}
		return len(p.OwnerReferences) == 1 && p.OwnerReferences[0].UID == rs.UID, fmt.Errorf("refs %+v", p.OwnerReferences)
	})
	if !exists[*types.Pod](t, env, "rs-pod-0") {
		t.Fatal("pod with a live owner collected")
	}
}

// TestForegroundDoesNotWaitForNonBlockingDependents: a dependent whose
// reference does not set blockOwnerDeletion does not hold the owner's
// deletion; it is collected all the same.
func TestForegroundDoesNotWaitForNonBlockingDependents(t *testing.T) {
	env := controllertest.NewEnvWith(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The dependent cannot be deleted: only the owner can go.
			if r.Method == http.MethodDelete && strings.HasSuffix(r.URL.Path, "/pods/loose") {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"InternalError","code":500,"message":"refused by the test"}`)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	ctx := env.Ctx()
	cm, err := sdk.Typed[*types.ConfigMap](env.Client).Namespace(ns).Create(ctx, &types.ConfigMap{ObjectMeta: types.ObjectMeta{Name: "owner", Namespace: ns}})
	if err != nil {
		t.Fatal(err)
	}
	no := false
	ref := types.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: cm.Name, UID: cm.UID, BlockOwnerDeletion: &no}
	p := &types.Pod{ObjectMeta: types.ObjectMeta{Name: "loose", Namespace: ns, OwnerReferences: []types.OwnerReference{ref}}, Spec: podSpec()}
	if _, err := sdk.Typed[*types.Pod](env.Client).Namespace(ns).Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	env.Start(build)
	if err := sdk.Typed[*types.ConfigMap](env.Client).Namespace(ns).Delete(ctx, "owner",
		types.DeleteOptions{PropagationPolicy: ptr(types.DeletePropagationForeground)}); err != nil {
		t.Fatal(err)
	}
	env.Eventually("owner gone while its non-blocking dependent remains", func() (bool, error) {
		return !exists[*types.ConfigMap](t, env, "owner") && exists[*types.Pod](t, env, "loose"), nil
	})
}
