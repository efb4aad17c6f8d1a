package deployment

import (
	"errors"
	"testing"

	"github.com/wharfhq/wharf/api/types"
)

func TestRolloutStatus(t *testing.T) {
	three := int32(3)
	d := func(gen, observed int64, st types.DeploymentStatus) *types.Deployment {
		st.ObservedGeneration = observed
		return &types.Deployment{ObjectMeta: types.ObjectMeta{Name: "web", Generation: gen}, Spec: types.DeploymentSpec{Replicas: &three}, Status: st}
	}
	tests := []struct {
		name    string
		d       *types.Deployment
		msg     string
		done    bool
		wantErr error
	}{
		{"not observed", d(2, 1, types.DeploymentStatus{}), "Waiting for deployment spec update to be observed...", false, nil},
		{"updating", d(1, 1, types.DeploymentStatus{Replicas: 4, UpdatedReplicas: 1}),
			`Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...`, false, nil},
		{"old pending", d(1, 1, types.DeploymentStatus{Replicas: 4, UpdatedReplicas: 3}),
			`Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...`, false, nil},
		{"not available", d(1, 1, types.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 2}),
			`Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...`, false, nil},
		{"done", d(1, 1, types.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3}),
			`deployment "web" successfully rolled out`, true, nil},
		{"deadline", d(1, 1, types.DeploymentStatus{Conditions: []types.DeploymentCondition{{Type: types.DeploymentProgressing, Status: types.ConditionFalse, Reason: ReasonTimedOut}}}),
			"", false, ErrProgressDeadline},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, done, err := RolloutStatus(tt.d)
			if msg != tt.msg || done != tt.done || !errors.Is(err, tt.wantErr) {
				t.Fatalf("got (%q, %v, %v), want (%q, %v, %v)", msg, done, err, tt.msg, tt.done, tt.wantErr)
			}
		})
	}
}

func TestMaxSurgeAndUnavailable(t *testing.T) {
	ptr := func(v types.IntOrString) *types.IntOrString { return &v }
	tests := []struct {
		name           string
		replicas       int32
		surge, unavail *types.IntOrString
		wantS, wantU   int32
	}{
		{"defaults 25% of 4", 4, nil, nil, 1, 1},
		{"25% of 10 rounds surge up, unavailable down", 10, nil, nil, 3, 2},
		{"both zero becomes one unavailable", 3, ptr(types.FromInt(0)), ptr(types.FromInt(0)), 0, 1},
		{"unavailable capped at replicas", 2, ptr(types.FromInt(1)), ptr(types.FromInt(5)), 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &types.Deployment{Spec: types.DeploymentSpec{Replicas: &tt.replicas, Strategy: types.DeploymentStrategy{
				Type: types.RollingUpdateDeploymentStrategyType, RollingUpdate: &types.RollingUpdateDeployment{MaxSurge: tt.surge, MaxUnavailable: tt.unavail}}}}
			if s, u := maxSurge(d), maxUnavailable(d); s != tt.wantS || u != tt.wantU {
				t.Fatalf("surge %d unavailable %d, want %d %d", s, u, tt.wantS, tt.wantU)
			}
		})
	}
}
