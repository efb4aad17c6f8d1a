package deployment

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/sdk"
)

// Errors of Rollback and History.
var (
	// ErrNoHistory: the Deployment has no earlier revision to go back to.
	ErrNoHistory = errors.New("no rollout history found")
	// ErrRevisionNotFound: the revision asked for is not in the history.
	ErrRevisionNotFound = errors.New("revision not found in history")
	// ErrPaused: a paused Deployment is not rolled back.
	ErrPaused = errors.New("deployment is paused")
)

// RevisionInfo is one entry of a Deployment's rollout history.
type RevisionInfo struct {
	Revision    int64
	ReplicaSet  *types.ReplicaSet
	ChangeCause string
}

// History returns the Deployment's revisions, oldest first: one per
// ReplicaSet it controls.
func History(ctx context.Context, client *sdk.Client, namespace, name string) (*types.Deployment, []RevisionInfo, error) {
	d, err := sdk.Typed[*types.Deployment](client).Namespace(namespace).Get(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	l, err := sdk.Typed[*types.ReplicaSet](client).Namespace(namespace).List(ctx, sdk.ListOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("list replicasets of deployment %s/%s: %w", namespace, name, err)
	}
	var out []RevisionInfo
	for _, rs := range l.Items {
		if !types.IsControlledBy(rs, d) {
			continue
		}
		out = append(out, RevisionInfo{Revision: Revision(rs), ReplicaSet: rs, ChangeCause: rs.Annotations[ChangeCauseAnnotation]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Revision < out[j].Revision })
	return d, out, nil
}

// Rollback sets the Deployment's Pod template (and change-cause
// annotations) to those of revision toRevision, or of the previous
// revision when toRevision is 0, as `kubectl rollout undo` does. The
// controller then reuses that revision's ReplicaSet under a new revision
// number. It returns a message for the user; a rollback to the current
// template is skipped.
func Rollback(ctx context.Context, client *sdk.Client, namespace, name string, toRevision int64) (string, error) {
	d, hist, err := History(ctx, client, namespace, name)
	if err != nil {
		return "", err
	}
	if d.Spec.Paused {
		return "", fmt.Errorf("deployment %q: %w; resume it first with 'wharf rollout resume deployment/%s' and try again", name, ErrPaused, name)
	}
	var target *RevisionInfo
	if toRevision == 0 {
		if len(hist) < 2 {
			return "", fmt.Errorf("deployment %q: %w", name, ErrNoHistory)
		}
		target = &hist[len(hist)-2]
	} else {
		for i := range hist {
			if hist[i].Revision == toRevision {
				target = &hist[i]
			}
		}
		if target == nil {
			return "", fmt.Errorf("deployment %q: revision %d: %w", name, toRevision, ErrRevisionNotFound)
		}
	}
	if EqualIgnoreHash(&d.Spec.Template, &target.ReplicaSet.Spec.Template) {
		return fmt.Sprintf("deployment.apps/%s skipped rollback (current template already matches revision %d)", name, target.Revision), nil
	}
	tmpl := types.Clone(target.ReplicaSet.Spec.Template)
	delete(tmpl.Labels, controller.PodTemplateHashLabel)
	d.Spec.Template = tmpl
	for k, v := range target.ReplicaSet.Annotations {
		if !skipCopy[k] {
			if d.Annotations == nil {
				d.Annotations = map[string]string{}
			}
			d.Annotations[k] = v
		}
	}
	if _, err := sdk.Typed[*types.Deployment](client).Namespace(namespace).Update(ctx, d); err != nil {
		return "", fmt.Errorf("roll back deployment %s/%s: %w", namespace, name, err)
	}
	return fmt.Sprintf("deployment.apps/%s rolled back", name), nil
}
