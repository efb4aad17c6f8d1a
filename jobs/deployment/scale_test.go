package deployment

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/jobs/controller/controllertest"
	"github.com/wharfhq/wharf/sdk"
)

// stalled is a Deployment "prop" of 10 (maxSurge 3, maxUnavailable 2)
// rolled from app:1 to app:2 whose Pods never become ready: it stalls at
// 8 old and 5 new. The controller is not run: the test calls its
// reconcile with the view of the ReplicaSets it chooses, against the real
// API server.
type stalled struct {
	t   *testing.T
	ctx context.Context
	c   *Controller
	dc  *sdk.TypedClient[*types.Deployment]
	rsc *sdk.TypedClient[*types.ReplicaSet]
	// While counting: requests, and writes of ReplicaSets.
	counting         atomic.Bool
	requests, writes atomic.Int32
}

// newStalled rolls the Deployment to the stall and returns the new
// ReplicaSet as it was at 3 replicas, before it went to 5 by the
// controller's sync (controllerWrote) or by another writer.
func newStalled(t *testing.T, controllerWrote bool) (*stalled, *types.ReplicaSet) {
	s := &stalled{t: t}
	env := controllertest.NewEnvWith(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if s.counting.Load() {
				s.requests.Add(1)
				if r.Method != http.MethodGet && strings.Contains(r.URL.Path, "/replicasets") {
					s.writes.Add(1)
				}
			}
			next.ServeHTTP(w, r)
		})
	})
	s.ctx = env.Ctx()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := New(&controller.Context{Client: env.Client, Factory: sdk.NewInformerFactory(env.Client), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	s.c = c
	s.dc = sdk.Typed[*types.Deployment](env.Client).Namespace("default")
	s.rsc = sdk.Typed[*types.ReplicaSet](env.Client).Namespace("default")

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
	if _, err := s.dc.Create(s.ctx, d); err != nil {
		t.Fatal(err)
	}
	s.syncFresh() // the first ReplicaSet, at 10
	s.update(func(d *types.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "app:2" })
	s.syncFresh() // new at 3 (13 in all), old down to 8 (no Pod is available)
	s.wantSizes("after the first rollout sync", 8, 3)
	_, at3, _ := s.live()
	if controllerWrote {
		s.syncFresh()
	} else {
		controllertest.Update(t, s.rsc, at3.Name, func(rs *types.ReplicaSet) { rs.Spec.Replicas = ptr(int32(5)) })
	}
	s.wantSizes("stalled", 8, 5)
	return s, at3
}

func (s *stalled) update(mutate func(*types.Deployment)) {
	s.t.Helper()
	controllertest.Update(s.t, s.dc, "prop", mutate)
}

// live returns the ReplicaSets as the API server has them: a view as
// fresh as a cache can be.
func (s *stalled) live() (oldRS, newRS *types.ReplicaSet, all []*types.ReplicaSet) {
	s.t.Helper()
	l, err := s.rsc.List(s.ctx, sdk.ListOptions{LabelSelector: "app=prop"})
	if err != nil {
		s.t.Fatal(err)
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

// sync reconciles the Deployment (as the API server has it) from view.
func (s *stalled) sync(view []*types.ReplicaSet) error {
	s.t.Helper()
	d, err := s.dc.Get(s.ctx, "prop")
	if err != nil {
		s.t.Fatal(err)
	}
	return s.c.reconcile(s.ctx, d, view, 0)
}

func (s *stalled) syncFresh() {
	s.t.Helper()
	_, _, all := s.live()
	if err := s.sync(all); err != nil {
		s.t.Fatalf("sync from a fresh view: %v", err)
	}
}

func (s *stalled) wantSizes(when string, oldN, newN int32) {
	s.t.Helper()
	o, n, _ := s.live()
	if rsReplicas(o) != oldN || rsReplicas(n) != newN {
		s.t.Fatalf("%s: old %d new %d, want %d and %d", when, rsReplicas(o), rsReplicas(n), oldN, newN)
	}
}

// TestScaleFromStaleCache is issue 6: the stalled Deployment scaled to
// 20 must become old 14 and new 9 (23 in all), as in Kubernetes. A sync
// whose cache still showed the new ReplicaSet at 3 gave the old one 18
// and failed to write the new one (conflict); the annotations then said
// the old one was scaled for 20 and the total was 23, so every later sync
// left 18 and 5.
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
			s, stale := newStalled(t, tt.controllerWrote)
			s.update(func(d *types.Deployment) { d.Spec.Replicas = ptr(int32(20)) })
			// A cache that has the old ReplicaSet's latest version but
			// still the new one at 3.
			oldRS, _, _ := s.live()
			d, err := s.dc.Get(s.ctx, "prop")
			if err != nil {
				t.Fatal(err)
			}
			s.counting.Store(true)
			err = s.c.reconcile(s.ctx, d, []*types.ReplicaSet{oldRS, stale}, 0)
			s.counting.Store(false)
			if err != nil {
				// An error is retried by the controller; what the sync
				// wrote before it is what matters.
				t.Logf("sync from the stale view: %v", err)
			}
			if n := s.writes.Load(); n != 0 {
				t.Errorf("the sync from a stale view wrote ReplicaSets %d times, want none", n)
			}
			// Behind its own write, the controller knows the view is stale
			// and does not even read.
			if n := s.requests.Load(); tt.controllerWrote && n != 0 {
				t.Errorf("the sync from a cache behind the controller's own write made %d requests, want none", n)
			}
			if o, n, _ := s.live(); rsReplicas(o) != 8 || rsReplicas(n) != 5 {
				t.Errorf("the sync from a stale view scaled to old %d new %d; want no change (8 and 5)", rsReplicas(o), rsReplicas(n))
			}
			// 23 allowed (20 + surge 3): old 8*23/13 = 14, new 5*23/13 = 9.
			s.syncFresh()
			s.wantSizes("after a sync from a fresh view (Kubernetes' result)", 14, 9)
			s.syncFresh()
			s.wantSizes("after a second fresh sync", 14, 9)
		})
	}
}

// TestScalingEventEndsWithNothingToAdd: when a scaling event leaves
// nothing to add (the ReplicaSets already sum to replicas + maxSurge),
// Kubernetes still writes every ReplicaSet's replicas annotations, which
// ends the scaling event so that the rollout goes on. The sizes are those
// a stale sync used to leave (old 18, new 5 still annotated for 10).
func TestScalingEventEndsWithNothingToAdd(t *testing.T) {
	s, _ := newStalled(t, true)
	oldRS, _, _ := s.live()
	controllertest.Update(t, s.rsc, oldRS.Name, func(rs *types.ReplicaSet) {
		rs.Spec.Replicas = ptr(int32(18))
		rs.Annotations[DesiredReplicasAnnotation], rs.Annotations[MaxReplicasAnnotation] = "20", "23"
	})
	s.update(func(d *types.Deployment) { d.Spec.Replicas = ptr(int32(20)) })
	d, err := s.dc.Get(s.ctx, "prop")
	if err != nil {
		t.Fatal(err)
	}
	_, _, all := s.live()
	if !s.c.isScalingEvent(d, all) {
		t.Fatal("the new ReplicaSet annotated for 10 replicas is not a scaling event")
	}
	s.syncFresh()
	s.wantSizes("after the sync", 18, 5)
	_, newRS, all := s.live()
	if got := newRS.Annotations[DesiredReplicasAnnotation] + "/" + newRS.Annotations[MaxReplicasAnnotation]; got != "20/23" {
		t.Errorf("new replicaset annotated %s (desired/max), want 20/23", got)
	}
	if d, err = s.dc.Get(s.ctx, "prop"); err != nil {
		t.Fatal(err)
	}
	if s.c.isScalingEvent(d, all) {
		t.Error("still a scaling event after the sync: the rollout cannot go on")
	}
}

func ptr[T any](v T) *T { return &v }

// TestOwnWritesBehind: when a view of the ReplicaSets is behind the
// controller's own writes.
func TestOwnWritesBehind(t *testing.T) {
	rs := func(uid, rv string) *types.ReplicaSet {
		return &types.ReplicaSet{ObjectMeta: types.ObjectMeta{Name: "rs-" + uid, UID: uid, ResourceVersion: rv}}
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		wrote   []*types.ReplicaSet // recorded for "ns/d", in order
		view    []*types.ReplicaSet
		cacheRV uint64
		later   time.Duration // time between the writes and the check
		want    string        // the stale ReplicaSet, or ""
	}{
		{"nothing written", nil, []*types.ReplicaSet{rs("a", "5")}, 5, 0, ""},
		{"view older than the write", []*types.ReplicaSet{rs("a", "7")}, []*types.ReplicaSet{rs("a", "5")}, 6, 0, "rs-a"},
		{"view at the write", []*types.ReplicaSet{rs("a", "7")}, []*types.ReplicaSet{rs("a", "7")}, 7, 0, ""},
		{"view newer than the write", []*types.ReplicaSet{rs("a", "7")}, []*types.ReplicaSet{rs("a", "9")}, 9, 0, ""},
		{"latest of two writes", []*types.ReplicaSet{rs("a", "7"), rs("a", "9")}, []*types.ReplicaSet{rs("a", "7")}, 8, 0, "rs-a"},
		{"created, not in the view yet", []*types.ReplicaSet{rs("b", "7")}, []*types.ReplicaSet{rs("a", "5")}, 6, 0, "rs-b"},
		{"created, then gone from the cache", []*types.ReplicaSet{rs("b", "7")}, []*types.ReplicaSet{rs("a", "5")}, 8, 0, ""},
		{"another write is stale", []*types.ReplicaSet{rs("a", "5"), rs("b", "7")}, []*types.ReplicaSet{rs("a", "5"), rs("b", "6")}, 6, 0, "rs-b"},
		{"waited past the expectations timeout", []*types.ReplicaSet{rs("a", "7")}, []*types.ReplicaSet{rs("a", "5")}, 6, controller.ExpectationsTimeout + time.Second, ""},
		{"resourceVersion not a number", []*types.ReplicaSet{rs("a", "x")}, []*types.ReplicaSet{rs("a", "5")}, 5, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := controllertest.NewClock(start)
			w := newOwnWrites(clock.Now)
			for _, x := range tt.wrote {
				w.record("ns/d", x)
			}
			clock.Add(tt.later)
			got, ok := w.behind("ns/d", tt.view, tt.cacheRV)
			if got != tt.want || ok != (tt.want != "") {
				t.Fatalf("behind = %q, %v; want %q", got, ok, tt.want)
			}
			if _, ok := w.behind("other/d", tt.view, 0); ok {
				t.Error("another Deployment's sync waits for these writes")
			}
			if tt.want == "" && len(w.m) != 0 {
				t.Errorf("writes the cache shows are kept: %v", w.m)
			}
		})
	}
}
