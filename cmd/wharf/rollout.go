package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/deployment"
	"github.com/wharfhq/wharf/sdk"
)

func newRolloutCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rollout SUBCOMMAND KIND/NAME",
		Short: "Follow, pause, resume, restart and undo rollouts (status and restart also of daemon sets and stateful sets)",
		Example: `  # Wait until a deployment has rolled out
  wharf rollout status deployment/web

  # List its revisions, then go back to the previous one
  wharf rollout history deployment/web
  wharf rollout undo deployment/web

  # Restart every pod of a deployment, one step at a time
  wharf rollout restart deployment/web`,
	}
	cmd.AddCommand(newRolloutStatusCmd(a), newRolloutHistoryCmd(a), newRolloutUndoCmd(a),
		newRolloutRestartCmd(a), newRolloutPauseCmd(a, true), newRolloutPauseCmd(a, false))
	return cmd
}

// deploymentArg reads "deployment/NAME" or "deployment NAME".
func deploymentArg(args []string) (string, error) {
	_, name, err := rolloutTarget(args, "Deployment")
	return name, err
}

func newRolloutStatusCmd(a *app) *cobra.Command {
	var watch bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "status deployment|daemonset|statefulset/NAME",
		Short: "Show the rollout status, waiting until it is done",
		Example: `  # Wait for the rollout to finish (exit 1 if it passes its progress deadline)
  wharf rollout status deployment/web

  # Print where it stands now, without waiting
  wharf rollout status deploy/web --watch=false

  # Give up after two minutes
  wharf rollout status deployment/web --timeout=2m

  # Follow a stateful set's rolling update
  wharf rollout status sts/db`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, name, err := rolloutTarget(args, "Deployment", "DaemonSet", "StatefulSet")
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			last := ""
			return rolloutStatus(ctx, a, res, name, watch, &last)
		},
	}
	cmd.Flags().BoolVarP(&watch, "watch", "w", true, "wait until the rollout is done")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "how long to wait (0: no limit)")
	return cmd
}

// rolloutStatus prints the rollout's progress from a watch on the object,
// each message once (last holds the previous one), until done.
func rolloutStatus(ctx context.Context, a *app, res *types.Resource, name string, watch bool, last *string) error {
	c, err := a.Client()
	if err != nil {
		return err
	}
	rc := c.Resource(res).Namespace(a.namespace)
	l, err := rc.List(ctx, sdk.ListOptions{FieldSelector: "metadata.name=" + name})
	if err != nil {
		return err
	}
	if len(l.Items) == 0 {
		return fmt.Errorf("%s %q not found", qualifiedResourceName(res), name)
	}
	show := func(obj types.Object) (bool, error) {
		msg, done, err := statusOf(obj)
		if err != nil {
			return false, err
		}
		if msg != *last {
			fmt.Fprintln(a.out, msg)
			*last = msg
		}
		return done, nil
	}
	if done, err := show(l.Items[0]); done || err != nil || !watch {
		return err
	}
	w, err := rc.Watch(ctx, sdk.ListOptions{FieldSelector: "metadata.name=" + name, ResourceVersion: l.ResourceVersion})
	if err != nil {
		return err
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out waiting for the rollout of %s %q: %w", strings.ToLower(res.Kind), name, ctx.Err())
		case ev, ok := <-w.Events():
			if !ok {
				if err := w.Err(); err != nil {
					return err
				}
				// The server ended the watch: pick up where it stopped.
				return rolloutStatus(ctx, a, res, name, watch, last)
			}
			if ev.Type == types.Deleted {
				return fmt.Errorf("%s %q was deleted", strings.ToLower(res.Kind), name)
			}
			if ev.Type != types.Added && ev.Type != types.Modified {
				continue
			}
			if done, err := show(ev.Object); done || err != nil {
				return err
			}
		}
	}
}

// qualifiedResourceName is "deployments.apps", as kubectl names a
// resource in errors.
func qualifiedResourceName(r *types.Resource) string {
	if r.Group == "" {
		return r.Name
	}
	return r.Name + "." + r.Group
}

// errNoRollingUpdate: rollout status follows RollingUpdate only.
var errNoRollingUpdate = errors.New("rollout status is only available for RollingUpdate strategy type")

// statusOf says where the rollout of a Deployment, DaemonSet or
// StatefulSet stands, in kubectl's words.
func statusOf(obj types.Object) (string, bool, error) {
	switch o := obj.(type) {
	case *types.Deployment:
		return deployment.RolloutStatus(o)
	case *types.DaemonSet:
		return daemonSetStatus(o)
	case *types.StatefulSet:
		return statefulSetStatus(o)
	}
	return "", false, fmt.Errorf("no rollout status for %T", obj)
}

func daemonSetStatus(ds *types.DaemonSet) (string, bool, error) {
	if t := ds.Spec.UpdateStrategy.Type; t != "" && t != types.RollingUpdateDaemonSetStrategyType {
		return "", false, errNoRollingUpdate
	}
	st := ds.Status
	switch {
	case ds.Generation > st.ObservedGeneration:
		return "Waiting for daemon set spec update to be observed...", false, nil
	case st.UpdatedNumberScheduled < st.DesiredNumberScheduled:
		return fmt.Sprintf("Waiting for daemon set %q rollout to finish: %d out of %d new pods have been updated...", ds.Name, st.UpdatedNumberScheduled, st.DesiredNumberScheduled), false, nil
	case st.NumberAvailable < st.DesiredNumberScheduled:
		return fmt.Sprintf("Waiting for daemon set %q rollout to finish: %d of %d updated pods are available...", ds.Name, st.NumberAvailable, st.DesiredNumberScheduled), false, nil
	}
	return fmt.Sprintf("daemon set %q successfully rolled out", ds.Name), true, nil
}

func statefulSetStatus(sts *types.StatefulSet) (string, bool, error) {
	if t := sts.Spec.UpdateStrategy.Type; t != "" && t != types.RollingUpdateStatefulSetStrategyType {
		return "", false, errNoRollingUpdate
	}
	st := sts.Status
	if st.ObservedGeneration == 0 || sts.Generation > st.ObservedGeneration {
		return "Waiting for statefulset spec update to be observed...", false, nil
	}
	replicas := int32(1)
	if sts.Spec.Replicas != nil {
		replicas = *sts.Spec.Replicas
	}
	if st.ReadyReplicas < replicas {
		return fmt.Sprintf("Waiting for %d pods to be ready...", replicas-st.ReadyReplicas), false, nil
	}
	if ru := sts.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil && *ru.Partition > 0 {
		want := replicas - *ru.Partition
		if st.UpdatedReplicas < want {
			return fmt.Sprintf("Waiting for partitioned roll out to finish: %d out of %d new pods have been updated...", st.UpdatedReplicas, want), false, nil
		}
		return fmt.Sprintf("partitioned roll out complete: %d new pods have been updated...", st.UpdatedReplicas), true, nil
	}
	if st.UpdateRevision != st.CurrentRevision {
		return fmt.Sprintf("waiting for statefulset rolling update to complete %d pods at revision %s...", st.UpdatedReplicas, st.UpdateRevision), false, nil
	}
	return fmt.Sprintf("statefulset rolling update complete %d pods at revision %s...", st.CurrentReplicas, st.CurrentRevision), true, nil
}

// rolloutTarget reads "KIND/NAME" or "KIND NAME" for one of kinds.
func rolloutTarget(args []string, kinds ...string) (*types.Resource, string, error) {
	targets, err := resolveArgs(args)
	if err != nil {
		return nil, "", err
	}
	if len(targets) != 1 || len(targets[0].names) != 1 {
		return nil, "", fmt.Errorf("name one object, e.g. deployment/web")
	}
	t := targets[0]
	if !slices.Contains(kinds, t.res.Kind) {
		return nil, "", fmt.Errorf("this rollout command does not support %s (it does: %s)", t.res.Name, strings.ToLower(strings.Join(kinds, ", ")))
	}
	return t.res, t.names[0], nil
}

func newRolloutHistoryCmd(a *app) *cobra.Command {
	var revision int64
	cmd := &cobra.Command{
		Use:   "history deployment/NAME",
		Short: "List the revisions of a deployment",
		Example: `  # List the revisions and their change causes
  wharf rollout history deployment/web

  # Show the pod template of revision 2
  wharf rollout history deployment/web --revision=2`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, c, err := deploymentTarget(a, args)
			if err != nil {
				return err
			}
			_, hist, err := deployment.History(cmd.Context(), c, a.namespace, name)
			if err != nil {
				return err
			}
			if revision > 0 {
				for _, h := range hist {
					if h.Revision == revision {
						return printRevision(a, name, h)
					}
				}
				return fmt.Errorf("unable to find the specified revision %d of deployment %q", revision, name)
			}
			fmt.Fprintf(a.out, "deployment.apps/%s \n", name)
			tw := tabwriter.NewWriter(a.out, 0, 8, 2, ' ', 0)
			fmt.Fprintln(tw, "REVISION\tCHANGE-CAUSE")
			for _, h := range hist {
				cause := h.ChangeCause
				if cause == "" {
					cause = "<none>"
				}
				fmt.Fprintf(tw, "%d\t%s\n", h.Revision, cause)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintln(a.out)
			return nil
		},
	}
	cmd.Flags().Int64Var(&revision, "revision", 0, "show the pod template of this revision")
	return cmd
}

func printRevision(a *app, name string, h deployment.RevisionInfo) error {
	b, err := json.Marshal(h.ReplicaSet.Spec.Template)
	if err != nil {
		return err
	}
	// Drop the zero creationTimestamp a template's metadata marshals to.
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	y, err := yaml.Marshal(m)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "deployment.apps/%s with revision #%d\nPod Template:\n", name, h.Revision)
	for _, line := range strings.Split(strings.TrimRight(string(y), "\n"), "\n") {
		fmt.Fprintln(a.out, "  "+line)
	}
	return nil
}

func newRolloutUndoCmd(a *app) *cobra.Command {
	var to int64
	cmd := &cobra.Command{
		Use:   "undo deployment/NAME",
		Short: "Roll a deployment back to an earlier revision",
		Example: `  # Go back to the previous revision
  wharf rollout undo deployment/web

  # Go back to revision 3 (see wharf rollout history)
  wharf rollout undo deployment/web --to-revision=3`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, c, err := deploymentTarget(a, args)
			if err != nil {
				return err
			}
			msg, err := deployment.Rollback(cmd.Context(), c, a.namespace, name, to)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.out, msg)
			return nil
		},
	}
	cmd.Flags().Int64Var(&to, "to-revision", 0, "the revision to go back to (0: the previous one)")
	return cmd
}

// RestartedAtAnnotation is the Pod template annotation `rollout restart`
// sets (the same as kubectl, so either tool restarts a deployment).
const RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"

func newRolloutRestartCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "restart deployment|daemonset|statefulset/NAME",
		Short: "Replace every pod of a deployment, daemon set or stateful set by a rolling update",
		Example: `  # Restart the pods of a deployment (e.g. to pick up a changed config map)
  wharf rollout restart deployment/web

  # The same for a daemon set
  wharf rollout restart ds/log-shipper`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, name, err := rolloutTarget(args, "Deployment", "DaemonSet", "StatefulSet")
			if err != nil {
				return err
			}
			c, err := a.Client()
			if err != nil {
				return err
			}
			rc := c.Resource(res).Namespace(a.namespace)
			obj, err := rc.Get(cmd.Context(), name)
			if err != nil {
				return err
			}
			if d, ok := obj.(*types.Deployment); ok && d.Spec.Paused {
				return fmt.Errorf("can't restart paused deployment %q (run 'wharf rollout resume deployment/%s' first)", name, name)
			}
			patch, err := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{
				"annotations": map[string]string{RestartedAtAnnotation: time.Now().Format(time.RFC3339)}}}}})
			if err != nil {
				return err
			}
			if _, err := rc.Patch(cmd.Context(), name, sdk.MergePatch, patch); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "%s/%s restarted\n", qualifiedKind(res), name)
			return nil
		},
	}
}

// newRolloutPauseCmd makes "pause" (pause true) or "resume".
func newRolloutPauseCmd(a *app, pause bool) *cobra.Command {
	verb, done, example := "resume", "resumed", `  # Resume a paused deployment: changes made meanwhile roll out together
  wharf rollout resume deployment/web`
	short := "Resume a paused deployment"
	if pause {
		verb, done, example = "pause", "paused", `  # Pause a deployment, make several changes, then resume it once
  wharf rollout pause deployment/web
  wharf set image deployment/web web=nginx:1.27   # or wharf apply -f
  wharf rollout resume deployment/web`
		short = "Pause a deployment: template changes do not roll out until it is resumed"
	}
	return &cobra.Command{
		Use:     verb + " deployment/NAME",
		Short:   short,
		Example: example,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return patchDeployment(cmd.Context(), a, args, func(d *types.Deployment) ([]byte, string, error) {
				switch {
				case d.Spec.Paused != pause:
					return fmt.Appendf(nil, `{"spec":{"paused":%t}}`, pause), done, nil
				case pause:
					return nil, "already paused", nil
				}
				return nil, "", fmt.Errorf("deployments.apps %q is not paused", d.Name)
			})
		},
	}
}

// patchDeployment reads the deployment named by args, asks decide for a
// merge patch (nil: nothing to change) and what to say, applies the patch
// and prints "deployment.apps/NAME <said>".
func patchDeployment(ctx context.Context, a *app, args []string, decide func(d *types.Deployment) (patch []byte, said string, err error)) error {
	name, c, err := deploymentTarget(a, args)
	if err != nil {
		return err
	}
	dc := sdk.Typed[*types.Deployment](c).Namespace(a.namespace)
	d, err := dc.Get(ctx, name)
	if err != nil {
		return err
	}
	patch, said, err := decide(d)
	if err != nil {
		return err
	}
	if patch != nil {
		if _, err := dc.Patch(ctx, name, sdk.MergePatch, patch); err != nil {
			return err
		}
	}
	fmt.Fprintf(a.out, "deployment.apps/%s %s\n", name, said)
	return nil
}

// deploymentTarget resolves the deployment argument and the client.
func deploymentTarget(a *app, args []string) (string, *sdk.Client, error) {
	name, err := deploymentArg(args)
	if err != nil {
		return "", nil, err
	}
	c, err := a.Client()
	return name, c, err
}
