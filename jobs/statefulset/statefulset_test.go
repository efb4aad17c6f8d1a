package statefulset_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller/controllertest"
	"github.com/wharfhq/wharf/jobs/statefulset"
	"github.com/wharfhq/wharf/jobs/statefulset/history"
	"github.com/wharfhq/wharf/sdk"
)

const ns = "default"

func ptr[T any](v T) *T { return &v }

var build = controllertest.Controller(statefulset.New)

func newSet(name string, n int32) *types.StatefulSet {
	lbl := map[string]string{"app": name}
	return &types.StatefulSet{
		ObjectMeta: types.ObjectMeta{Name: name, Namespace: ns},
		Spec: types.StatefulSetSpec{
			Replicas:    ptr(n),
			ServiceName: name + "-svc",
			Selector:    &types.LabelSelector{MatchLabels: lbl},
			Template: types.PodTemplateSpec{
				ObjectMeta: types.ObjectMeta{Labels: lbl},
				Spec:       types.PodSpec{Containers: []types.Container{{Name: "c", Image: "db:1"}}},
			},
		},
	}
}

func sets(env *controllertest.Env) *sdk.TypedClient[*types.StatefulSet] {
	return sdk.Typed[*types.StatefulSet](env.Client).Namespace(ns)
}

// podNames returns the names of the Pods of sel not being deleted.
func podNames(env *controllertest.Env, sel string) []string {
	var out []string
	for _, p := range env.LivePods(ns, sel) {
		out = append(out, p.Name)
	}
	sort.Strings(out)
	return out
}

func waitPods(env *controllertest.Env, sel string, want ...string) {
	env.T.Helper()
	env.Eventually(fmt.Sprintf("pods %v", want), func() (bool, error) {
		got := podNames(env, sel)
		return fmt.Sprint(got) == fmt.Sprint(want), fmt.Errorf("have %v", got)
	})
}

func getPod(t *testing.T, env *controllertest.Env, name string) *types.Pod {
	t.Helper()
	p, err := sdk.Typed[*types.Pod](env.Client).Namespace(ns).Get(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func waitStatus(env *controllertest.Env, name, what string, ok func(s types.StatefulSetStatus) bool) types.StatefulSetStatus {
	env.T.Helper()
	return controllertest.WaitFor(env, sets(env), name, what, func(s *types.StatefulSet) bool { return ok(s.Status) }).Status
}

func update(t *testing.T, env *controllertest.Env, name string, mutate func(s *types.StatefulSet)) {
	t.Helper()
	controllertest.Update(t, sets(env), name, mutate)
}

func TestOrderedReadyScaleUpAndDown(t *testing.T) {
	env := controllertest.NewEnv(t)
	ev := env.WatchPods(ns, "app=db", nil)
	env.Start(build)
	if _, err := sets(env).Create(context.Background(), newSet("db", 3)); err != nil {
		t.Fatal(err)
	}
	// Each Pod waits for the one before it to be Running and Ready.
	for i := range 3 {
		want := make([]string, i+1)
		for j := range want {
			want[j] = fmt.Sprintf("db-%d", j)
		}
		waitPods(env, "app=db", want...)
		env.MarkReady(ns, want[i])
	}
	p := getPod(t, env, "db-1")
	if p.Spec.Hostname != "db-1" || p.Spec.Subdomain != "db-svc" || p.Labels[statefulset.PodNameLabel] != "db-1" ||
		p.Labels[statefulset.PodIndexLabel] != "1" || p.Labels[history.HashLabel] == "" {
		t.Fatalf("pod identity: hostname %q subdomain %q labels %v", p.Spec.Hostname, p.Spec.Subdomain, p.Labels)
	}
	st := waitStatus(env, "db", "3 ready", func(s types.StatefulSetStatus) bool {
		return s.Replicas == 3 && s.ReadyReplicas == 3 && s.AvailableReplicas == 3 && s.CurrentReplicas == 3 && s.UpdatedReplicas == 3
	})
	if st.CurrentRevision == "" || st.CurrentRevision != st.UpdateRevision || st.CurrentRevision != "db-"+p.Labels[history.HashLabel] {
		t.Fatalf("revisions current %q update %q, pod hash %q", st.CurrentRevision, st.UpdateRevision, p.Labels[history.HashLabel])
	}
	// Each Pod was created only after the one before it was ready.
	env.Eventually("db-2 ready seen", func() (bool, error) { return len(ev.Of("READY")) == 3, nil })
	seq := strings.Join(ev.Events(), ", ")
	if want := "ADDED db-0, READY db-0, ADDED db-1, READY db-1, ADDED db-2, READY db-2"; seq != want {
		t.Fatalf("events %q, want %q", seq, want)
	}

	// Scale down: highest first, one at a time.
	update(t, env, "db", func(s *types.StatefulSet) { s.Spec.Replicas = ptr(int32(1)) })
	waitPods(env, "app=db", "db-0")
	env.Eventually("both deletions seen by the watch", func() (bool, error) { return len(ev.Of("DELETED")) == 2, nil })
	if got := ev.Of("DELETED"); fmt.Sprint(got) != "[db-2 db-1]" {
		t.Fatalf("deletion order %v, want db-2 then db-1", got)
	}
	waitStatus(env, "db", "1 replica", func(s types.StatefulSetStatus) bool { return s.Replicas == 1 && s.ReadyReplicas == 1 })
}

func TestParallelCreatesAllAtOnce(t *testing.T) {
	env := controllertest.NewEnv(t)
	env.Start(build)
	s := newSet("par", 3)
	s.Spec.PodManagementPolicy = types.ParallelPodManagement
	if _, err := sets(env).Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	waitPods(env, "app=par", "par-0", "par-1", "par-2") // none ready
	update(t, env, "par", func(s *types.StatefulSet) { s.Spec.Replicas = ptr(int32(0)) })
	waitPods(env, "app=par")
}

func TestRollingUpdateWithPartition(t *testing.T) {
	env := controllertest.NewEnv(t)
	ev := env.WatchPods(ns, "app=ru", nil)
	env.Start(build)
	s := newSet("ru", 3)
	s.Spec.UpdateStrategy = types.StatefulSetUpdateStrategy{Type: types.RollingUpdateStatefulSetStrategyType,
		RollingUpdate: &types.RollingUpdateStatefulSetStrategy{Partition: ptr(int32(1))}}
	if _, err := sets(env).Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		name := fmt.Sprintf("ru-%d", i)
		env.Eventually(name+" created", func() (bool, error) {
			_, err := sdk.Typed[*types.Pod](env.Client).Namespace(ns).Get(context.Background(), name)
			return err == nil, err
		})
		env.MarkReady(ns, name)
	}
	old := waitStatus(env, "ru", "3 ready", func(s types.StatefulSetStatus) bool { return s.ReadyReplicas == 3 })
	oldHash := getPod(t, env, "ru-0").Labels[history.HashLabel]
	env.Eventually("3 ready seen", func() (bool, error) { return len(ev.Of("READY")) == 3, nil })
	from := len(ev.Events())

	update(t, env, "ru", func(s *types.StatefulSet) { s.Spec.Template.Spec.Containers[0].Image = "db:2" })
	newHash := func(name string) string {
		var h string
		env.Eventually(name+" on the new revision", func() (bool, error) {
			p, err := sdk.Typed[*types.Pod](env.Client).Namespace(ns).Get(context.Background(), name)
			if err != nil {
				return false, err
			}
			h = p.Labels[history.HashLabel]
			return h != oldHash && p.DeletionTimestamp == nil, fmt.Errorf("hash %s", h)
		})
		return h
	}
	h2 := newHash("ru-2")
	if img := getPod(t, env, "ru-2").Spec.Containers[0].Image; img != "db:2" {
		t.Fatalf("ru-2 image %s", img)
	}
	// ru-1 waits for ru-2 to be ready.
	if h := getPod(t, env, "ru-1").Labels[history.HashLabel]; h != oldHash {
		t.Fatalf("ru-1 updated (hash %s) before ru-2 was ready", h)
	}
	env.MarkReady(ns, "ru-2")
	if h1 := newHash("ru-1"); h1 != h2 {
		t.Fatalf("ru-1 hash %s, ru-2 %s", h1, h2)
	}
	env.MarkReady(ns, "ru-1")
	// From the highest ordinal down, each ready before the next goes.
	env.Eventually("ru-1 ready seen", func() (bool, error) { return len(ev.Of("READY")) == 5, nil })
	if got, want := strings.Join(ev.Events()[from:], ", "), "DELETED ru-2, ADDED ru-2, READY ru-2, DELETED ru-1, ADDED ru-1, READY ru-1"; got != want {
		t.Fatalf("update events %q, want %q", got, want)
	}
	st := waitStatus(env, "ru", "partitioned update", func(s types.StatefulSetStatus) bool {
		return s.UpdatedReplicas == 2 && s.CurrentReplicas == 1 && s.ReadyReplicas == 3
	})
	if st.CurrentRevision != old.CurrentRevision || st.UpdateRevision != "ru-"+h2 {
		t.Fatalf("revisions current %s update %s, want %s and ru-%s", st.CurrentRevision, st.UpdateRevision, old.CurrentRevision, h2)
	}
	if h := getPod(t, env, "ru-0").Labels[history.HashLabel]; h != oldHash {
		t.Fatalf("ru-0 below the partition was updated")
	}
	// The partition down to 0 finishes the update.
	update(t, env, "ru", func(s *types.StatefulSet) { s.Spec.UpdateStrategy.RollingUpdate.Partition = ptr(int32(0)) })
	newHash("ru-0")
	env.MarkReady(ns, "ru-0")
	waitStatus(env, "ru", "update complete", func(s types.StatefulSetStatus) bool {
		return s.CurrentRevision == s.UpdateRevision && s.UpdatedReplicas == 3 && s.CurrentReplicas == 3
	})
	revs, err := sdk.Typed[*types.ControllerRevision](env.Client).Namespace(ns).List(context.Background(), sdk.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, r := range revs.Items {
		got[r.Name] = r.Revision
	}
	if len(got) != 2 || got[old.CurrentRevision] != 1 || got["ru-"+h2] != 2 {
		t.Fatalf("controller revisions %v, want %s=1 and ru-%s=2", got, old.CurrentRevision, h2)
	}
}

func TestOnDeleteAndRestart(t *testing.T) {
	env := controllertest.NewEnv(t)
	first := env.Start(build)
	s := newSet("od", 2)
	s.Spec.PodManagementPolicy = types.ParallelPodManagement
	s.Spec.UpdateStrategy.Type = types.OnDeleteStatefulSetStrategyType
	if _, err := sets(env).Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	waitPods(env, "app=od", "od-0", "od-1")
	env.MarkAllReady(ns, "app=od")
	oldHash := getPod(t, env, "od-1").Labels[history.HashLabel]
	update(t, env, "od", func(s *types.StatefulSet) { s.Spec.Template.Spec.Containers[0].Image = "db:2" })
	waitStatus(env, "od", "new update revision", func(s types.StatefulSetStatus) bool {
		return s.UpdateRevision != "" && s.UpdateRevision != s.CurrentRevision && s.UpdatedReplicas == 0
	})
	// A restarted controller neither duplicates Pods nor replaces them.
	first.Stop()
	env.Start(build)
	p := getPod(t, env, "od-1")
	if err := sdk.Typed[*types.Pod](env.Client).Namespace(ns).Delete(context.Background(), "od-1", types.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	env.Eventually("od-1 recreated on the new revision", func() (bool, error) {
		np, err := sdk.Typed[*types.Pod](env.Client).Namespace(ns).Get(context.Background(), "od-1")
		if err != nil {
			return false, err
		}
		return np.UID != p.UID && np.Labels[history.HashLabel] != oldHash, nil
	})
	if h := getPod(t, env, "od-0").Labels[history.HashLabel]; h != oldHash {
		t.Fatalf("od-0 replaced under OnDelete")
	}
	waitPods(env, "app=od", "od-0", "od-1")

	// A failed Pod is replaced under the same name.
	failed := getPod(t, env, "od-0")
	failed.Status.Phase = types.PodFailed
	if _, err := sdk.Typed[*types.Pod](env.Client).Namespace(ns).UpdateStatus(context.Background(), failed); err != nil {
		t.Fatal(err)
	}
	env.Eventually("od-0 replaced after failing", func() (bool, error) {
		np, err := sdk.Typed[*types.Pod](env.Client).Namespace(ns).Get(context.Background(), "od-0")
		if err != nil {
			return false, err
		}
		return np.UID != failed.UID && np.Status.Phase != types.PodFailed, nil
	})
}
