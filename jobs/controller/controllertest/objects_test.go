package controllertest_test

import (
	"context"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller/controllertest"
	"github.com/wharfhq/wharf/sdk"
)

// TestUpdateRetriesConflicts checks that Update reads the object again
// and reapplies its change when another writer got in between.
func TestUpdateRetriesConflicts(t *testing.T) {
	env := controllertest.NewEnv(t)
	cms := sdk.Typed[*types.ConfigMap](env.Client).Namespace("default")
	ctx := context.Background()
	if _, err := cms.Create(ctx, &types.ConfigMap{ObjectMeta: types.ObjectMeta{Name: "cm"}, Data: map[string]string{"a": "1"}}); err != nil {
		t.Fatal(err)
	}
	calls := 0
	out := controllertest.Update(t, cms, "cm", func(cm *types.ConfigMap) {
		calls++
		if calls == 1 { // another writer changes it after this read
			other, err := cms.Get(ctx, "cm")
			if err != nil {
				t.Fatal(err)
			}
			other.Data["b"] = "2"
			if _, err := cms.Update(ctx, other); err != nil {
				t.Fatal(err)
			}
		}
		cm.Data["c"] = "3"
	})
	if calls != 2 {
		t.Errorf("mutate called %d times, want 2 (one conflict)", calls)
	}
	if out.Data["b"] != "2" || out.Data["c"] != "3" {
		t.Errorf("data %v, want both writers' keys", out.Data)
	}
	if _, err := controllertest.TryUpdate(ctx, cms, "missing", func(*types.ConfigMap) {}); !sdk.IsNotFound(err) {
		t.Errorf("TryUpdate of a missing object: %v, want NotFound", err)
	}
	controllertest.Touch(t, cms, "cm")
	got := controllertest.WaitFor(env, cms, "cm", "touched", func(cm *types.ConfigMap) bool { return cm.Annotations["test/touch"] != "" })
	if got.Data["c"] != "3" {
		t.Errorf("touch changed the data: %v", got.Data)
	}
}

func TestClock(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := controllertest.NewClock(t0)
	c.Add(time.Minute)
	if got := c.Now(); !got.Equal(t0.Add(time.Minute)) {
		t.Errorf("after Add: %v", got)
	}
	c.Set(t0)
	if got := c.Now(); !got.Equal(t0) {
		t.Errorf("after Set: %v", got)
	}
}
