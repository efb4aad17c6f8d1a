package plugins

import (
	"context"
	"testing"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sched/framework"
)

// filterAll runs pl's PreFilter (if any) and Filter on every node of a
// snapshot built from nodes and the bound pods, and returns each node's
// status message ("" when it fits).
func filterAll(t *testing.T, pl framework.FilterPlugin, pod *types.Pod, nodes []*types.Node, pods ...*types.Pod) map[string]string {
	t.Helper()
	ctx := context.Background()
	snap := framework.NewSnapshotFromObjects(nodes, pods)
	state := framework.NewCycleState(framework.NewPodInfo(pod), snap)
	out := map[string]string{}
	if pf, ok := pl.(framework.PreFilterPlugin); ok {
		st := pf.PreFilter(ctx, state, pod, snap)
		switch {
		case st.IsSkip():
			for _, n := range snap.List() {
				out[n.Name] = ""
			}
			return out
		case st.IsRejected():
			for _, n := range snap.List() {
				out[n.Name] = "prefilter: " + st.Message()
			}
			return out
		case !st.IsSuccess():
			t.Fatalf("PreFilter: %v", st.AsError())
		}
	}
	for _, n := range snap.List() {
		st := pl.Filter(ctx, state, pod, n)
		if st.Code() == framework.Error {
			t.Fatalf("Filter on %s: %v", n.Name, st.AsError())
		}
		if !st.IsSuccess() && !st.IsRejected() {
			t.Fatalf("Filter on %s: unexpected code %v", n.Name, st.Code())
		}
		out[n.Name] = st.Message()
	}
	return out
}

// scoreAll runs pl's PreScore (if any), Score and NormalizeScore (if any)
// over every node and returns the final scores by node.
func scoreAll(t *testing.T, pl framework.ScorePlugin, pod *types.Pod, nodes []*types.Node, pods ...*types.Pod) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	snap := framework.NewSnapshotFromObjects(nodes, pods)
	state := framework.NewCycleState(framework.NewPodInfo(pod), snap)
	list := snap.List()
	out := map[string]int64{}
	if ps, ok := pl.(framework.PreScorePlugin); ok {
		st := ps.PreScore(ctx, state, pod, list)
		if st.IsSkip() {
			for _, n := range list {
				out[n.Name] = 0
			}
			return out
		}
		if !st.IsSuccess() {
			t.Fatalf("PreScore: %v", st.AsError())
		}
	}
	scores := make([]framework.NodeScore, len(list))
	for i, n := range list {
		v, st := pl.Score(ctx, state, pod, n)
		if !st.IsSuccess() {
			t.Fatalf("Score on %s: %v", n.Name, st.AsError())
		}
		scores[i] = framework.NodeScore{Name: n.Name, Score: v}
	}
	if ns, ok := pl.(framework.NormalizeScorePlugin); ok {
		if st := ns.NormalizeScore(ctx, state, pod, scores); !st.IsSuccess() {
			t.Fatalf("NormalizeScore: %v", st.AsError())
		}
	}
	for _, s := range scores {
		if s.Score < framework.MinNodeScore || s.Score > framework.MaxNodeScore {
			t.Errorf("score of %s = %d, outside [0, 100]", s.Name, s.Score)
		}
		out[s.Name] = s.Score
	}
	return out
}

// checkFilter compares filterAll's result with want (node -> message,
// "" for fits).
func checkFilter(t *testing.T, got, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d nodes %v, want %d %v", len(got), got, len(want), want)
	}
	for n, w := range want {
		if g, ok := got[n]; !ok || g != w {
			t.Errorf("node %s: got %q, want %q", n, g, w)
		}
	}
}

func nodes(ns ...*types.Node) []*types.Node { return ns }
