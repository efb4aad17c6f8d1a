package sched

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	. "github.com/wharfhq/wharf/sched/internal/schedtest"
)

func TestEvictionTime(t *testing.T) {
	c := newFakeClock()
	m := newTaintManager(nil, nil, nil, nil, c.now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	added := types.NewTime(c.t.Add(-30 * time.Second))
	node := Node("n").Obj()
	node.Spec.Taints = []types.Taint{
		{Key: "maint", Effect: types.TaintEffectNoExecute, TimeAdded: &added},
		{Key: "soft", Effect: types.TaintEffectNoSchedule},
	}
	tests := []struct {
		name string
		pod  *types.Pod
		want time.Time // zero: never
	}{
		{"no toleration: now", Pod("p").Obj(), c.t},
		{"tolerated forever", Pod("p").Toleration("maint", types.TolerationOpExists, "", types.TaintEffectNoExecute).Obj(), time.Time{}},
		{"tolerated for 60s since the taint was added", Pod("p").TolerationSeconds("maint", 60).Obj(), c.t.Add(30 * time.Second)},
		{"expired toleration: in the past", Pod("p").TolerationSeconds("maint", 10).Obj(), c.t.Add(-20 * time.Second)},
		{"the longest toleration wins", Pod("p").TolerationSeconds("maint", 10).TolerationSeconds("", 100).Obj(), c.t.Add(70 * time.Second)},
		{"NoSchedule toleration does not count", Pod("p").Toleration("maint", types.TolerationOpExists, "", types.TaintEffectNoSchedule).Obj(), c.t},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, taint := m.evictionTime(tt.pod, node)
			if !got.Equal(tt.want) {
				t.Errorf("eviction at %v, want %v", got, tt.want)
			}
			if !tt.want.IsZero() && (taint == nil || taint.Key != "maint") {
				t.Errorf("taint %+v", taint)
			}
		})
	}
	t.Run("taint without timeAdded counts from when it was first seen", func(t *testing.T) {
		n := Node("m").Taint("maint", "", types.TaintEffectNoExecute).Obj()
		pod := Pod("p").TolerationSeconds("maint", 60).Obj()
		first, _ := m.evictionTime(pod, n)
		c.step(45 * time.Second)
		again, _ := m.evictionTime(pod, n)
		if !first.Equal(again) || !again.Equal(c.t.Add(15*time.Second)) {
			t.Errorf("first %v, again %v, now %v", first, again, c.t)
		}
	})
}
