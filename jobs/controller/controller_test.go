package controller

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
)

func TestExpectations(t *testing.T) {
	e := NewExpectations()
	now := time.Unix(1000, 0)
	e.now = func() time.Time { return now }
	if !e.Satisfied("a") {
		t.Fatal("unknown key not satisfied")
	}
	e.ExpectCreations("a", 2)
	e.ExpectDeletions("a", []string{"u1"})
	steps := []struct {
		name string
		do   func()
		want bool
	}{
		{"nothing observed", func() {}, false},
		{"one create", func() { e.CreationObserved("a") }, false},
		{"two creates", func() { e.CreationObserved("a") }, false},
		{"delete of another uid", func() { e.DeletionObserved("a", "u2") }, false},
		{"the delete", func() { e.DeletionObserved("a", "u1") }, true},
		{"extra create", func() { e.CreationObserved("a") }, true},
		{"new expectation", func() { e.ExpectCreations("a", 1) }, false},
		{"expired", func() { now = now.Add(ExpectationsTimeout + time.Second) }, true},
		{"deleted key", func() { e.ExpectCreations("a", 1); e.Delete("a") }, true},
	}
	for _, s := range steps {
		s.do()
		if got := e.Satisfied("a"); got != s.want {
			t.Fatalf("after %s: satisfied %v, want %v", s.name, got, s.want)
		}
	}
}

func TestComputeHash(t *testing.T) {
	a := &types.PodTemplateSpec{Spec: types.PodSpec{Containers: []types.Container{{Name: "c", Image: "nginx:1"}}}}
	b := types.Clone(a)
	b.Spec.Containers[0].Image = "nginx:2"
	one := int32(1)
	tests := []struct {
		name string
		x, y string
		same bool
	}{
		{"stable", ComputeHash(a, nil), ComputeHash(types.Clone(a), nil), true},
		{"template change", ComputeHash(a, nil), ComputeHash(b, nil), false},
		{"collision count", ComputeHash(a, nil), ComputeHash(a, &one), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (tt.x == tt.y) != tt.same {
				t.Fatalf("hashes %q and %q: same=%v, want %v", tt.x, tt.y, tt.x == tt.y, tt.same)
			}
			for _, r := range tt.x {
				if !containsRune(safeAlphabet, r) {
					t.Fatalf("hash %q has %q outside the safe alphabet", tt.x, r)
				}
			}
		})
	}
}

func containsRune(s string, r rune) bool {
	for _, c := range s {
		if c == r {
			return true
		}
	}
	return false
}

func TestDeletionLess(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ready := func(at time.Time) []types.PodCondition {
		return []types.PodCondition{{Type: types.PodReady, Status: types.ConditionTrue, LastTransitionTime: types.NewTime(at)}}
	}
	pod := func(name, node string, phase types.PodPhase, conds []types.PodCondition, created time.Time) *types.Pod {
		return &types.Pod{
			ObjectMeta: types.ObjectMeta{Name: name, CreationTimestamp: types.NewTime(created)},
			Spec:       types.PodSpec{NodeName: node},
			Status:     types.PodStatus{Phase: phase, Conditions: conds},
		}
	}
	tests := []struct {
		name        string
		first, last *types.Pod
	}{
		{"unscheduled first", pod("a", "", types.PodPending, nil, t0), pod("b", "n", types.PodPending, nil, t0)},
		{"pending before running", pod("a", "n", types.PodPending, nil, t0), pod("b", "n", types.PodRunning, nil, t0)},
		{"not ready before ready", pod("a", "n", types.PodRunning, nil, t0), pod("b", "n", types.PodRunning, ready(t0), t0)},
		{"ready for less time first", pod("a", "n", types.PodRunning, ready(t0.Add(time.Minute)), t0), pod("b", "n", types.PodRunning, ready(t0), t0)},
		{"newer first", pod("a", "n", types.PodRunning, nil, t0.Add(time.Hour)), pod("b", "n", types.PodRunning, nil, t0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !DeletionLess(tt.first, tt.last) || DeletionLess(tt.last, tt.first) {
				t.Fatalf("%s should sort before %s", tt.first.Name, tt.last.Name)
			}
		})
	}
}

func TestSlowStartBatch(t *testing.T) {
	tests := []struct {
		name      string
		count     int
		failAt    int32 // call number that fails (0: none)
		wantOK    int
		wantCalls int32
	}{
		{"all succeed", 10, 0, 10, 10},
		{"first fails", 10, 1, 0, 1},
		// Batches 1, 2, 4: call 3 fails inside the second batch, which
		// still completes; nothing after it runs.
		{"fails in second batch", 10, 3, 2, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			ok, err := SlowStartBatch(context.Background(), tt.count, 1, func(context.Context) error {
				if n := calls.Add(1); n == tt.failAt {
					return errors.New("boom")
				}
				return nil
			})
			if ok != tt.wantOK || calls.Load() != tt.wantCalls || (err != nil) != (tt.failAt != 0) {
				t.Fatalf("ok=%d calls=%d err=%v, want ok=%d calls=%d", ok, calls.Load(), err, tt.wantOK, tt.wantCalls)
			}
		})
	}
}
