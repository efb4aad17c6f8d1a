package sched

import (
	"testing"

	"github.com/wharfhq/wharf/api/types"
	. "github.com/wharfhq/wharf/sched/internal/schedtest"
)

func TestHasCondition(t *testing.T) {
	withCond := func(status types.ConditionStatus, reason, msg string) *types.Pod {
		p := Pod("p").Obj()
		p.Status.Conditions = []types.PodCondition{{Type: types.PodReady, Status: types.ConditionFalse},
			{Type: types.PodScheduled, Status: status, Reason: reason, Message: msg}}
		return p
	}
	unsched := &failure{status: types.ConditionFalse, reason: ConditionReasonUnschedulable, message: "0/1 nodes are available: 1 Insufficient cpu."}
	scheduled := &failure{status: types.ConditionTrue}
	tests := []struct {
		name string
		pod  *types.Pod
		f    *failure
		want bool
	}{
		{"same message already there (after a restart)", withCond(types.ConditionFalse, ConditionReasonUnschedulable, unsched.message), unsched, true},
		{"new message", withCond(types.ConditionFalse, ConditionReasonUnschedulable, "0/2 nodes are available."), unsched, false},
		{"no condition yet", Pod("p").Obj(), unsched, false},
		{"True wanted, False there", withCond(types.ConditionFalse, ConditionReasonUnschedulable, unsched.message), scheduled, false},
		{"True wanted, no condition: nothing to do", Pod("p").Obj(), scheduled, true},
		{"True wanted and there", withCond(types.ConditionTrue, "", ""), scheduled, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hasCondition(tt.pod, tt.f); got != tt.want {
				t.Errorf("hasCondition = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRecorderDedup(t *testing.T) {
	r := newRecorder(nil, nil, newFakeClock().now, nil, DefaultSchedulerName)
	pod := Pod("p").Obj()
	r.failed(pod, ConditionReasonUnschedulable, "m1")
	r.failed(pod, ConditionReasonUnschedulable, "m1")
	if n := r.queue.Len(); n != 1 {
		t.Fatalf("queued %d, want 1", n)
	}
	r.failures["default/p"].recorded = true
	r.failed(pod, ConditionReasonUnschedulable, "m1")
	if f := r.failures["default/p"]; !f.recorded {
		t.Errorf("the same message reset the recorded flag")
	}
	r.failed(pod, ConditionReasonUnschedulable, "m2")
	if f := r.failures["default/p"]; f.recorded || f.message != "m2" {
		t.Errorf("a new message was not taken: %+v", f)
	}
	r.scheduled(pod)
	if f := r.failures["default/p"]; f.status != types.ConditionTrue {
		t.Errorf("after binding: %+v", f)
	}
	r.forget("default/p")
	r.scheduled(Pod("never-failed").Obj())
	if len(r.failures) != 0 {
		t.Errorf("failures %v, want none", r.failures)
	}
}
