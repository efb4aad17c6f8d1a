package daemonset_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/jobs/controller/controllertest"
	"github.com/wharfhq/wharf/jobs/daemonset"
	"github.com/wharfhq/wharf/jobs/statefulset/history"
	"github.com/wharfhq/wharf/sdk"
)

const ns = "default"

func ptr[T any](v T) *T { return &v }

var build = controllertest.Controller(daemonset.New)

func nodes(env *controllertest.Env) *sdk.TypedClient[*types.Node] {
	return sdk.Typed[*types.Node](env.Client)
}

func dsClient(env *controllertest.Env) *sdk.TypedClient[*types.DaemonSet] {
	return sdk.Typed[*types.DaemonSet](env.Client).Namespace(ns)
}

func addNode(t *testing.T, env *controllertest.Env, name string, lbl map[string]string, taints ...types.Taint) {
	t.Helper()
	if _, err := nodes(env).Create(context.Background(), &types.Node{
		ObjectMeta: types.ObjectMeta{Name: name, Labels: lbl},
		Spec:       types.NodeSpec{Taints: taints},
	}); err != nil {
		t.Fatalf("create node %s: %v", name, err)
	}
}

func updateNode(t *testing.T, env *controllertest.Env, name string, mutate func(n *types.Node)) {
	t.Helper()
	controllertest.Update(t, nodes(env), name, mutate)
}

func updateDS(t *testing.T, env *controllertest.Env, name string, mutate func(ds *types.DaemonSet)) {
	t.Helper()
	controllertest.Update(t, dsClient(env), name, mutate)
}

func newDS(name string) *types.DaemonSet {
	lbl := map[string]string{"app": name}
	return &types.DaemonSet{
		ObjectMeta: types.ObjectMeta{Name: name, Namespace: ns},
		Spec: types.DaemonSetSpec{
			Selector: &types.LabelSelector{MatchLabels: lbl},
			Template: types.PodTemplateSpec{
				ObjectMeta: types.ObjectMeta{Labels: lbl},
				Spec:       types.PodSpec{Containers: []types.Container{{Name: "c", Image: "agent:1"}}},
			},
		},
	}
}

// podsByNode maps target node to the names of the live Pods of sel.
func podsByNode(t *testing.T, env *controllertest.Env, sel string) map[string][]types.Pod {
	out := map[string][]types.Pod{}
	for _, p := range env.LivePods(ns, sel) {
		n, ok := daemonset.TargetNode(&p)
		if !ok {
			t.Fatalf("pod %s has no target node: affinity %+v", p.Name, p.Spec.Affinity)
		}
		out[n] = append(out[n], p)
	}
	return out
}

// waitNodes waits until the Pods of sel are exactly one on each of want.
func waitNodes(env *controllertest.Env, t *testing.T, sel string, want ...string) map[string][]types.Pod {
	t.Helper()
	sort.Strings(want)
	var got map[string][]types.Pod
	env.Eventually(fmt.Sprintf("one pod on each of %v", want), func() (bool, error) {
		got = podsByNode(t, env, sel)
		var names []string
		for n, ps := range got {
			names = append(names, fmt.Sprintf("%s×%d", n, len(ps)))
		}
		sort.Strings(names)
		exp := make([]string, len(want))
		for i, n := range want {
			exp[i] = n + "×1"
		}
		return fmt.Sprint(names) == fmt.Sprint(exp), fmt.Errorf("have %v", names)
	})
	return got
}

func waitStatus(env *controllertest.Env, name, what string, ok func(s types.DaemonSetStatus) bool) {
	env.T.Helper()
	controllertest.WaitFor(env, dsClient(env), name, what, func(ds *types.DaemonSet) bool { return ok(ds.Status) })
}

func TestFollowsNodes(t *testing.T) {
	env := controllertest.NewEnv(t)
	worker := map[string]string{"role": "worker"}
	addNode(t, env, "n1", worker)
	addNode(t, env, "n2", worker)
	addNode(t, env, "n3", map[string]string{"role": "db"})
	// A NotReady node is tolerated by daemon Pods.
	addNode(t, env, "n4", worker, types.Taint{Key: types.TaintNodeNotReady, Effect: types.TaintEffectNoExecute})
	// A Wasm-only node cannot run the (container) daemon.
	addNode(t, env, "wasm", map[string]string{"role": "worker", "wharf.dev/runtimes": "wasm"})
	env.Start(build)
	ds := newDS("agent")
	ds.Spec.Template.Spec.NodeSelector = worker
	if _, err := dsClient(env).Create(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	got := waitNodes(env, t, "app=agent", "n1", "n2", "n4")
	p := got["n1"][0]
	if p.Spec.NodeName != "" {
		t.Errorf("pod %s bound by the controller to %s; the scheduler binds", p.Name, p.Spec.NodeName)
	}
	tols := map[string]bool{}
	for _, tol := range p.Spec.Tolerations {
		tols[tol.Key+":"+string(tol.Effect)] = tol.Operator == types.TolerationOpExists
	}
	for _, want := range []string{"node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/unreachable:NoExecute",
		"node.kubernetes.io/disk-pressure:NoSchedule", "node.kubernetes.io/memory-pressure:NoSchedule",
		"node.kubernetes.io/pid-pressure:NoSchedule", "node.kubernetes.io/unschedulable:NoSchedule"} {
		if !tols[want] {
			t.Errorf("pod %s lacks toleration %s (has %v)", p.Name, want, tols)
		}
	}
	if p.Labels[history.HashLabel] == "" || p.Labels[daemonset.TemplateGenerationLabel] != "1" {
		t.Errorf("pod labels %v", p.Labels)
	}
	waitStatus(env, "agent", "3 scheduled", func(s types.DaemonSetStatus) bool {
		return s.DesiredNumberScheduled == 3 && s.CurrentNumberScheduled == 3 && s.NumberReady == 0 && s.NumberUnavailable == 3
	})
	env.MarkAllReady(ns, "app=agent")
	waitStatus(env, "agent", "3 ready", func(s types.DaemonSetStatus) bool {
		return s.NumberReady == 3 && s.NumberAvailable == 3 && s.UpdatedNumberScheduled == 3 && s.NumberUnavailable == 0
	})

	// A node joins; a node leaves; a node's labels stop matching.
	addNode(t, env, "n5", worker)
	waitNodes(env, t, "app=agent", "n1", "n2", "n4", "n5")
	if err := nodes(env).Delete(context.Background(), "n2", types.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitNodes(env, t, "app=agent", "n1", "n4", "n5")
	updateNode(t, env, "n5", func(n *types.Node) { n.Labels["role"] = "db" })
	waitNodes(env, t, "app=agent", "n1", "n4")

	// NoSchedule keeps the running Pod (misscheduled), NoExecute evicts it.
	updateNode(t, env, "n1", func(n *types.Node) {
		n.Spec.Taints = []types.Taint{{Key: "dedicated", Value: "x", Effect: types.TaintEffectNoSchedule}}
	})
	waitStatus(env, "agent", "n1 no longer desired", func(s types.DaemonSetStatus) bool {
		return s.DesiredNumberScheduled == 1 && s.NumberMisscheduled == 1
	})
	waitNodes(env, t, "app=agent", "n1", "n4")
	updateNode(t, env, "n1", func(n *types.Node) {
		n.Spec.Taints = []types.Taint{{Key: "dedicated", Value: "x", Effect: types.TaintEffectNoExecute}}
	})
	waitNodes(env, t, "app=agent", "n4")
	// A toleration brings it back.
	updateDS(t, env, "agent", func(ds *types.DaemonSet) {
		ds.Spec.Template.Spec.Tolerations = []types.Toleration{{Key: "dedicated", Operator: types.TolerationOpExists}}
	})
	got = waitNodes(env, t, "app=agent", "n1", "n4")

	// A Pod bound to a node that leaves is deleted outright: no agent
	// is left to end it gracefully.
	bound := got["n4"][0]
	if err := env.Client.Bind(context.Background(), &bound, "n4"); err != nil {
		t.Fatal(err)
	}
	env.MarkReady(ns, bound.Name)
	if err := nodes(env).Delete(context.Background(), "n4", types.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	env.Eventually("bound pod of the deleted node gone", func() (bool, error) {
		_, err := sdk.Typed[*types.Pod](env.Client).Namespace(ns).Get(context.Background(), bound.Name)
		return sdk.IsNotFound(err), err
	})
	waitNodes(env, t, "app=agent", "n1")
}

// hashOf writes a Pod in a PodLog by its revision's hash.
func hashOf(p *types.Pod) string { return p.Labels[history.HashLabel] }

// rollNodes drives a rolling update: it marks every new Pod ready as it
// appears, until every node runs exactly one ready Pod of the new
// revision.
func rollNodes(t *testing.T, env *controllertest.Env, sel, oldHash string, nodeNames ...string) string {
	t.Helper()
	var newHash string
	env.Eventually("every node updated", func() (bool, error) {
		env.MarkAllReady(ns, sel)
		byNode := podsByNode(t, env, sel)
		done := len(byNode) == len(nodeNames)
		for _, n := range nodeNames {
			ps := byNode[n]
			if len(ps) != 1 || ps[0].Labels[history.HashLabel] == oldHash || !controller.IsPodReady(&ps[0]) {
				done = false
				continue
			}
			newHash = ps[0].Labels[history.HashLabel]
		}
		return done, fmt.Errorf("pods %v", byNode)
	})
	return newHash
}

func TestRollingUpdateMaxUnavailable(t *testing.T) {
	env := controllertest.NewEnv(t)
	for _, n := range []string{"a", "b", "c"} {
		addNode(t, env, n, nil)
	}
	log := env.WatchPods(ns, "app=ru", hashOf)
	env.Start(build)
	if _, err := dsClient(env).Create(context.Background(), newDS("ru")); err != nil {
		t.Fatal(err)
	}
	got := waitNodes(env, t, "app=ru", "a", "b", "c")
	env.MarkAllReady(ns, "app=ru")
	waitStatus(env, "ru", "3 available", func(s types.DaemonSetStatus) bool { return s.NumberAvailable == 3 })
	oldHash := got["a"][0].Labels[history.HashLabel]
	from := len(log.Events())
	updateDS(t, env, "ru", func(ds *types.DaemonSet) { ds.Spec.Template.Spec.Containers[0].Image = "agent:2" })
	newHash := rollNodes(t, env, "app=ru", oldHash, "a", "b", "c")
	waitStatus(env, "ru", "updated", func(s types.DaemonSetStatus) bool {
		return s.UpdatedNumberScheduled == 3 && s.NumberAvailable == 3
	})
	env.Eventually("the watch saw 3 old pods deleted", func() (bool, error) {
		n := 0
		for _, e := range log.Events()[from:] {
			if e == "DELETED "+oldHash {
				n++
			}
		}
		return n >= 3, fmt.Errorf("%d", n)
	})
	// maxUnavailable 1: an old Pod is deleted only once the previous
	// replacement is ready.
	unavailable, worst := 0, 0
	for _, e := range log.Events()[from:] {
		switch e {
		case "DELETED " + oldHash:
			unavailable++
		case "READY " + newHash:
			unavailable--
		}
		worst = max(worst, unavailable)
	}
	if worst != 1 {
		t.Fatalf("at worst %d nodes without a ready pod, want 1 (events %v)", worst, log.Events())
	}
	revs, err := sdk.Typed[*types.ControllerRevision](env.Client).Namespace(ns).List(context.Background(), sdk.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(revs.Items) != 2 {
		t.Fatalf("%d controller revisions, want 2", len(revs.Items))
	}
}

func TestRollingUpdateMaxSurge(t *testing.T) {
	env := controllertest.NewEnv(t)
	for _, n := range []string{"a", "b"} {
		addNode(t, env, n, nil)
	}
	log := env.WatchPods(ns, "app=surge", hashOf)
	env.Start(build)
	ds := newDS("surge")
	ds.Spec.UpdateStrategy = types.DaemonSetUpdateStrategy{Type: types.RollingUpdateDaemonSetStrategyType,
		RollingUpdate: &types.RollingUpdateDaemonSet{MaxSurge: ptr(types.FromInt(1)), MaxUnavailable: ptr(types.FromInt(0))}}
	if _, err := dsClient(env).Create(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	got := waitNodes(env, t, "app=surge", "a", "b")
	env.MarkAllReady(ns, "app=surge")
	waitStatus(env, "surge", "2 available", func(s types.DaemonSetStatus) bool { return s.NumberAvailable == 2 })
	oldHash := got["a"][0].Labels[history.HashLabel]
	from := len(log.Events())
	updateDS(t, env, "surge", func(ds *types.DaemonSet) { ds.Spec.Template.Spec.Containers[0].Image = "agent:2" })
	newHash := rollNodes(t, env, "app=surge", oldHash, "a", "b")
	// maxUnavailable 0: every old Pod is deleted after a new one is ready.
	readyNew := 0
	for _, e := range log.Events()[from:] {
		switch e {
		case "READY " + newHash:
			readyNew++
		case "DELETED " + oldHash:
			if readyNew == 0 {
				t.Fatalf("an old pod was deleted before any new pod was ready: %v", log.Events())
			}
			readyNew--
		}
	}
}

func TestOnDeleteAndRestart(t *testing.T) {
	env := controllertest.NewEnv(t)
	addNode(t, env, "a", nil)
	addNode(t, env, "b", nil)
	first := env.Start(build)
	ds := newDS("od")
	ds.Spec.UpdateStrategy.Type = types.OnDeleteDaemonSetStrategyType
	if _, err := dsClient(env).Create(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	got := waitNodes(env, t, "app=od", "a", "b")
	oldHash := got["a"][0].Labels[history.HashLabel]
	updateDS(t, env, "od", func(ds *types.DaemonSet) { ds.Spec.Template.Spec.Containers[0].Image = "agent:2" })
	waitStatus(env, "od", "observed the new template", func(s types.DaemonSetStatus) bool {
		return s.ObservedGeneration == 2 && s.UpdatedNumberScheduled == 0
	})
	first.Stop()
	env.Start(build)
	if err := sdk.Typed[*types.Pod](env.Client).Namespace(ns).Delete(context.Background(), got["b"][0].Name, types.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	env.Eventually("b's pod recreated on the new revision", func() (bool, error) {
		ps := podsByNode(t, env, "app=od")["b"]
		return len(ps) == 1 && ps[0].Labels[history.HashLabel] != oldHash, fmt.Errorf("pods on b: %d", len(ps))
	})
	after := waitNodes(env, t, "app=od", "a", "b")
	if after["a"][0].Name != got["a"][0].Name {
		t.Fatalf("a's pod replaced under OnDelete or after the restart")
	}
	if !strings.HasPrefix(after["b"][0].Name, "od-") {
		t.Fatalf("pod name %s", after["b"][0].Name)
	}
	// A failed daemon Pod is deleted and replaced.
	failed := after["a"][0]
	pods := sdk.Typed[*types.Pod](env.Client).Namespace(ns)
	p, err := pods.Get(context.Background(), failed.Name)
	if err != nil {
		t.Fatal(err)
	}
	p.Status.Phase = types.PodFailed
	if _, err := pods.UpdateStatus(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	env.Eventually("failed pod on a replaced", func() (bool, error) {
		ps := podsByNode(t, env, "app=od")["a"]
		return len(ps) == 1 && ps[0].Name != failed.Name && ps[0].Status.Phase != types.PodFailed, fmt.Errorf("pods on a: %d", len(ps))
	})
}
