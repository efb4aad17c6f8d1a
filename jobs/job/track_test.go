package job

import (
	"testing"

	"github.com/wharfhq/wharf/api/types"
)

func TestTrackCountsEachFinishedPodOnce(t *testing.T) {
	pod := func(uid string, phase types.PodPhase, marked bool) *types.Pod {
		p := &types.Pod{ObjectMeta: types.ObjectMeta{Name: uid, UID: uid}, Status: types.PodStatus{Phase: phase}}
		if marked {
			p.Annotations = map[string]string{CountedAnnotation: "true"}
		}
		return p
	}
	j := &types.Job{}
	st := types.JobStatus{}
	steps := []struct {
		name             string
		pods             []*types.Pod
		succ, fail       int32 // recorded counts after the step
		uncSucc, uncFail int   // uncounted after the step
		effSucc, effFail int32 // counts the decisions use
		toMark           int
	}{
		{"one success seen", []*types.Pod{pod("a", types.PodSucceeded, false), pod("b", types.PodRunning, false)}, 0, 0, 1, 0, 1, 0, 1},
		{"seen again before marking", []*types.Pod{pod("a", types.PodSucceeded, false), pod("b", types.PodFailed, false)}, 0, 0, 1, 1, 1, 1, 2},
		{"marked pods move to the counts", []*types.Pod{pod("a", types.PodSucceeded, true), pod("b", types.PodFailed, true)}, 1, 1, 0, 0, 1, 1, 0},
		{"marked pods are not counted again", []*types.Pod{pod("a", types.PodSucceeded, true), pod("b", types.PodFailed, true), pod("c", types.PodSucceeded, false)}, 1, 1, 1, 0, 2, 1, 1},
		{"a listed pod deleted still counts", []*types.Pod{pod("b", types.PodFailed, true)}, 2, 1, 0, 0, 2, 1, 0},
	}
	for _, s := range steps {
		k := track(j, &st, s.pods)
		var us, uf int
		if st.UncountedTerminatedPods != nil {
			us, uf = len(st.UncountedTerminatedPods.Succeeded), len(st.UncountedTerminatedPods.Failed)
		}
		if st.Succeeded != s.succ || st.Failed != s.fail || us != s.uncSucc || uf != s.uncFail ||
			k.succeeded != s.effSucc || k.failed != s.effFail || len(k.toMark) != s.toMark {
			t.Fatalf("after %q: recorded %d/%d, uncounted %d/%d, effective %d/%d, to mark %d; want %d/%d, %d/%d, %d/%d, %d",
				s.name, st.Succeeded, st.Failed, us, uf, k.succeeded, k.failed, len(k.toMark),
				s.succ, s.fail, s.uncSucc, s.uncFail, s.effSucc, s.effFail, s.toMark)
		}
	}
}
