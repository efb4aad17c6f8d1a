package controllertest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/jobs/controller/controllertest"
	"github.com/wharfhq/wharf/sdk"
)

// TestPodLogAndMarkReady checks the shared Pod helpers against the API:
// MarkReady makes a Pod ready, LivePods leaves out a Pod being deleted,
// and a PodLog records creation, readiness (once) and deletion in order.
func TestPodLogAndMarkReady(t *testing.T) {
	env := controllertest.NewEnv(t)
	ctx := context.Background()
	pods := sdk.Typed[*types.Pod](env.Client).Namespace("default")
	log := env.WatchPods("default", "app=a", nil)
	newPod := func(name string, finalizers ...string) {
		t.Helper()
		if _, err := pods.Create(ctx, &types.Pod{
			ObjectMeta: types.ObjectMeta{Name: name, Labels: map[string]string{"app": "a"}, Finalizers: finalizers},
			Spec:       types.PodSpec{Containers: []types.Container{{Name: "c", Image: "app"}}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	newPod("p")
	newPod("held", "test/hold")
	env.MarkReady("default", "p")
	if n := env.MarkAllReady("default", "app=a"); n != 1 {
		t.Fatalf("MarkAllReady marked %d pods, want 1 (held; p is ready)", n)
	}
	env.MarkReady("default", "p") // again: logged once
	for _, p := range env.Pods("default", "app=a") {
		if !controller.IsPodReady(&p) || p.Status.StartTime == nil {
			t.Errorf("pod %s not marked ready: %+v", p.Name, p.Status)
		}
	}
	for _, name := range []string{"p", "held"} {
		if err := pods.Delete(ctx, name, types.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if live := env.LivePods("default", "app=a"); len(live) != 0 {
		t.Errorf("live pods %v after both were deleted", live)
	}
	env.Eventually("p's deletion logged", func() (bool, error) {
		return len(log.Of("DELETED")) == 1, fmt.Errorf("log %v", log.Events())
	})
	want := "[ADDED p ADDED held READY p READY held DELETED p]"
	if got := fmt.Sprint(log.Events()); got != want {
		t.Errorf("log %s, want %s", got, want)
	}
	controllertest.Update(t, pods, "held", func(p *types.Pod) { p.Finalizers = nil })
}
