package deployment

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/jobs/controller/controllertest"
	"github.com/wharfhq/wharf/sdk"
)

// TestScaleFromStaleCache is issue 6: a Deployment of 10 (maxSurge 3,
// maxUnavailable 2) rolled to an image whose Pods never become ready
// stalls at 8 old and 5 new; scaled to 20, Kubernetes gives old 14 and
// new 9 (23 in all). A sync whose cache still showed the new ReplicaSet
// at 3 gave the old one 18 and failed to write the new one (conflict);
// the annotations then said the old one was scaled for 20 and the total
// was 23, so every later sync left 18 and 5. The syncs run here one by
// one, against the real API server, with the views the test gives them.
func TestScaleFromStaleCache(t *testing.T) {
	for _, tt := range []struct {
		name string
		// controllerWrote: the new ReplicaSet went from 3 to 5 by this
		// controller's own sync, else by another writer.
		controllerWrote bool
	}{
		{"new replicaset scaled by this controller", true},
		{"new replicaset scaled by another writer", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// During the stale sync: requests, and writes of ReplicaSets.
			var counting atomic.Bool
			var requests, rsWrites atomic.Int32
			env := controllertest.NewEnvWith(t, func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if counting.Load() {
						requests.Add(1)
						if r.Method != http.MethodGet && strings.Contains(r.URL.Path, "/replicasets") {
							rsWrites.Add(1)
						}
					}
					next.ServeHTTP(w, r)
				})
			})
			ctx := env.Ctx()
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			c, err := New(&controller.Context{Client: env.Client, Factory: sdk.NewInformerFactory(env.Client), Logger: logger})
			if err != nil {
				t.Fatal(err)
			}
			dc := sdk.Typed[*types.Deployment](env.Client).Namespace("default")
			rsc := sdk.Typed[*types.ReplicaSet](env.Client).Namespace("default")
			getD := func() *types.Deployment {
				t.Helper()
				d, err := dc.Get(ctx, "prop")
				if err != nil {
					t.Fatal(err)
				}
				return d
			}
			// live returns the ReplicaSets as the API server has them:
			// a view as fresh as a cache can be.
			live := func() (oldRS, newRS *types.ReplicaSet, all []*types.ReplicaSet) {
				t.Helper()
				l, err := rsc.List(ctx, sdk.ListOptions{LabelSelector: "app=prop"})
				if err != nil {
					t.Fatal(err)
				}
				for _, rs := range l.Items {
					if rs.Spec.Template.Spec.Containers[0].Image == "app:2" {
						newRS = rs
					} else {
						oldRS = rs
					}
				}
				return oldRS, newRS, l.Items
			}
			sync := func(view []*types.ReplicaSet) error {
				t.Helper()
				return c.reconcile(ctx, getD(), view)
			}
			syncFresh := func() {
				t.Helper()
				_, _, all := live()
				if err := sync(all); err != nil {
					t.Fatalf("sync from a fresh view: %v", err)
				}
			}
			sizes := func() (int32, int32) {
				t.Helper()
				o, n, _ := live()
				return rsReplicas(o), rsReplicas(n)
			}

			d := &types.Deployment{
				ObjectMeta: types.ObjectMeta{Name: "prop", Namespace: "default"},
				Spec: types.DeploymentSpec{
					Replicas: ptr(int32(10)),
					Selector: &types.LabelSelector{MatchLabels: map[string]string{"app": "prop"}},
					Template: types.PodTemplateSpec{
						ObjectMeta: types.ObjectMeta{Labels: map[string]string{"app": "prop"}},
						Spec:       types.PodSpec{Containers: []types.Container{{Name: "c", Image: "app:1"}}},
					},
					Strategy: types.DeploymentStrategy{
						Type:          types.RollingUpdateDeploymentStrategyType,
						RollingUpdate: &types.RollingUpdateDeployment{MaxSurge: ptr(types.FromInt(3)), MaxUnavailable: ptr(types.FromInt(2))},
					},
				},
			}
			if _, err := dc.Create(ctx, d); err != nil {
				t.Fatal(err)
			}
			syncFresh() // the first ReplicaSet, at 10
			controllertest.Update(t, dc, "prop", func(d *types.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "app:2" })
			syncFresh() // new at 3 (13 in all), old down to 8 (no Pod is available)
			if o, n := sizes(); o != 8 || n != 3 {
				t.Fatalf("after the first rollout sync: old %d new %d, want 8 and 3", o, n)
			}
			_, stale, _ := live()
			if tt.controllerWrote {
				syncFresh()
			} else {
				controllertest.Update(t, rsc, stale.Name, func(rs *types.ReplicaSet) { rs.Spec.Replicas = ptr(int32(5)) })
			}
			if o, n := sizes(); o != 8 || n != 5 {
				t.Fatalf("stalled at old %d new %d, want 8 and 5", o, n)
			}

			controllertest.Update(t, dc, "prop", func(d *types.Deployment) { d.Spec.Replicas = ptr(int32(20)) })
			// A cache that has the old ReplicaSet's latest version but
			// still the new one at 3.
			oldRS, _, _ := live()
			d = getD()
			counting.Store(true)
			err = c.reconcile(ctx, d, []*types.ReplicaSet{oldRS, stale})
			counting.Store(false)
			if err != nil {
				// An error is retried by the controller; what the sync
				// wrote before it is what matters.
				t.Logf("sync from the stale view: %v", err)
			}
			if n := rsWrites.Load(); n != 0 {
				t.Errorf("the sync from a stale view wrote ReplicaSets %d times, want none", n)
			}
			// Behind its own write, the controller knows the view is stale
			// and does not even read.
			if n := requests.Load(); tt.controllerWrote && n != 0 {
				t.Errorf("the sync from a cache behind the controller's own write made %d requests, want none", n)
			}
			if o, n := sizes(); o != 8 || n != 5 {
				t.Errorf("the sync from a stale view scaled to old %d new %d; want no change (8 and 5)", o, n)
			}
			syncFresh()
			// 23 allowed (20 + surge 3): old 8*23/13 = 14, new 5*23/13 = 9.
			if o, n := sizes(); o != 14 || n != 9 {
				t.Fatalf("after a sync from a fresh view: old %d new %d, want 14 and 9 as Kubernetes", o, n)
			}
			syncFresh()
			if o, n := sizes(); o != 14 || n != 9 {
				t.Fatalf("a second fresh sync changed the sizes to old %d new %d", o, n)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
