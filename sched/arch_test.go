package sched_test

import (
	"fmt"
	"testing"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sched"
	. "github.com/wharfhq/wharf/sched/internal/schedtest"
	"github.com/wharfhq/wharf/sched/plugins"
)

// TestSchedulerImageArchitecture places Pods by the platforms their
// images' registry reports, on a cluster of amd64 and arm64 nodes.
func TestSchedulerImageArchitecture(t *testing.T) {
	reg := NewImageRegistry(t)
	arm := reg.PushImage(t, "arm", "linux/arm64")
	s390x := reg.PushImage(t, "s390x", "linux/s390x")
	multi := reg.PushIndex(t, "multi", "linux/amd64", "linux/arm64")
	unreachable := UnreachableRegistry(t) + "/app:v1"

	e := newEnv(t)
	for _, n := range []*types.Node{
		Node("amd1").Obj(),
		Node("amd2").Obj(),
		Node("arm1").Arch("arm64").Obj(),
	} {
		e.createNode(t, n)
	}
	e.start(t, sched.DefaultConfig(), sched.WithImageResolver(plugins.NewRegistryResolver()))

	t.Run("arm64-only image goes to the arm64 node, many Pods with one registry lookup", func(t *testing.T) {
		const pods = 20
		for i := range pods {
			e.createPod(t, Pod(fmt.Sprintf("arm-%d", i)).Images(arm).Obj())
		}
		for i := range pods {
			if got := e.waitBound(t, "default", fmt.Sprintf("arm-%d", i)); got != "arm1" {
				t.Errorf("arm-%d bound to %q, want arm1", i, got)
			}
		}
		if n := reg.ManifestGets("arm"); n != 1 {
			t.Errorf("registry asked %d times for the arm image's manifest, want 1 (cached)", n)
		}
	})

	t.Run("multi-arch image fits every node", func(t *testing.T) {
		// Required anti-affinity to one another spreads them over all three.
		for i := range 3 {
			e.createPod(t, Pod(fmt.Sprintf("multi-%d", i)).Images(multi).Label("app", "multi").
				PodAntiAffinity(Term("app", "multi", "kubernetes.io/hostname")).Obj())
		}
		seen := map[string]bool{}
		for i := range 3 {
			seen[e.waitBound(t, "default", fmt.Sprintf("multi-%d", i))] = true
		}
		if len(seen) != 3 {
			t.Errorf("multi-arch Pods on %v, want all three nodes", seen)
		}
	})

	t.Run("no node of the image's platform: refused with the reason", func(t *testing.T) {
		e.createPod(t, Pod("mainframe").Images(s390x).Obj())
		want := "0/3 nodes are available: 3 " + plugins.ReasonImagePlatforms + " (" + s390x + ": linux/s390x)."
		p := e.waitPod(t, "default", "mainframe", "marked unschedulable", func(p *types.Pod) bool {
			c := scheduledCondition(p)
			return c != nil && c.Status == types.ConditionFalse
		})
		if c := scheduledCondition(p); c.Message != want {
			t.Errorf("condition message %q\nwant %q", c.Message, want)
		}
	})

	t.Run("the annotation wins over the registry", func(t *testing.T) {
		e.createPod(t, Pod("annotated").Images(arm).Platforms("linux/amd64").NodeSelector("kubernetes.io/hostname", "amd1").Obj())
		if got := e.waitBound(t, "default", "annotated"); got != "amd1" {
			t.Errorf("bound to %q, want amd1", got)
		}
	})

	t.Run("registry unreachable: the Pod is not held back", func(t *testing.T) {
		e.createPod(t, Pod("offline").Images(unreachable).NodeSelector("kubernetes.io/hostname", "amd2").Obj())
		if got := e.waitBound(t, "default", "offline"); got != "amd2" {
			t.Errorf("bound to %q, want amd2", got)
		}
	})

	t.Run("image unknown to its registry (loaded by hand): not held back", func(t *testing.T) {
		e.createPod(t, Pod("loaded").Images(reg.Host+"/loaded:v1").NodeSelector("kubernetes.io/arch", "amd64").Obj())
		if got := e.waitBound(t, "default", "loaded"); got != "amd1" && got != "amd2" {
			t.Errorf("bound to %q, want an amd64 node", got)
		}
	})
}
