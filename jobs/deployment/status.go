package deployment

import (
	"errors"
	"fmt"

	"github.com/wharfhq/wharf/api/types"
)

// ErrProgressDeadline: the rollout did not progress within
// progressDeadlineSeconds.
var ErrProgressDeadline = errors.New("exceeded its progress deadline")

// RolloutStatus says where a Deployment's rollout stands, in the words of
// `kubectl rollout status`: a message, whether the rollout is done, and
// ErrProgressDeadline when it stalled.
func RolloutStatus(d *types.Deployment) (msg string, done bool, err error) {
	if d.Generation > d.Status.ObservedGeneration {
		return "Waiting for deployment spec update to be observed...", false, nil
	}
	if c := getCondition(&d.Status, types.DeploymentProgressing); c != nil && c.Reason == ReasonTimedOut {
		return "", false, fmt.Errorf("deployment %q %w", d.Name, ErrProgressDeadline)
	}
	want := replicasOf(d.Spec.Replicas)
	st := d.Status
	switch {
	case st.UpdatedReplicas < want:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d out of %d new replicas have been updated...", d.Name, st.UpdatedReplicas, want), false, nil
	case st.Replicas > st.UpdatedReplicas:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d old replicas are pending termination...", d.Name, st.Replicas-st.UpdatedReplicas), false, nil
	case st.AvailableReplicas < st.UpdatedReplicas:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d of %d updated replicas are available...", d.Name, st.AvailableReplicas, st.UpdatedReplicas), false, nil
	}
	return fmt.Sprintf("deployment %q successfully rolled out", d.Name), true, nil
}
