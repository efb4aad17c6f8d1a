package main

import (
	"context"
	"encoding/json"
	"fmt"
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
		Use:   "rollout SUBCOMMAND deployment/NAME",
		Short: "Follow, pause, resume, restart and undo the rollout of a deployment",
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
	targets, err := resolveArgs(args)
	if err != nil {
		return "", err
	}
	if len(targets) != 1 || len(targets[0].names) != 1 {
		return "", fmt.Errorf("name one deployment, e.g. deployment/web")
	}
	if t := targets[0]; t.res.Kind != "Deployment" {
		return "", fmt.Errorf("rollout of %s is not supported: only deployments", t.res.Name)
	}
	return targets[0].names[0], nil
}

func newRolloutStatusCmd(a *app) *cobra.Command {
	var watch bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "status deployment/NAME",
		Short: "Show the rollout status, waiting until it is done",
		Example: `  # Wait for the rollout to finish (exit 1 if it passes its progress deadline)
  wharf rollout status deployment/web

  # Print where it stands now, without waiting
  wharf rollout status deploy/web --watch=false

  # Give up after two minutes
  wharf rollout status deployment/web --timeout=2m`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := deploymentArg(args)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			return rolloutStatus(ctx, a, name, watch)
		},
	}
	cmd.Flags().BoolVarP(&watch, "watch", "w", true, "wait until the rollout is done")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "how long to wait (0: no limit)")
	return cmd
}

// rolloutStatus prints the rollout's progress from a watch on the
// Deployment, each message once, until done.
func rolloutStatus(ctx context.Context, a *app, name string, watch bool) error {
	c, err := a.Client()
	if err != nil {
		return err
	}
	dc := sdk.Typed[*types.Deployment](c).Namespace(a.namespace)
	l, err := dc.List(ctx, sdk.ListOptions{FieldSelector: "metadata.name=" + name})
	if err != nil {
		return err
	}
	if len(l.Items) == 0 {
		return fmt.Errorf("deployments.apps %q not found", name)
	}
	last := ""
	show := func(d *types.Deployment) (bool, error) {
		msg, done, err := deployment.RolloutStatus(d)
		if err != nil {
			return false, err
		}
		if msg != last {
			fmt.Fprintln(a.out, msg)
			last = msg
		}
		return done, nil
	}
	if done, err := show(l.Items[0]); done || err != nil || !watch {
		return err
	}
	w, err := dc.Watch(ctx, sdk.ListOptions{FieldSelector: "metadata.name=" + name, ResourceVersion: l.ResourceVersion})
	if err != nil {
		return err
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out waiting for the rollout of deployment %q: %w", name, ctx.Err())
		case ev, ok := <-w.Events():
			if !ok {
				if err := w.Err(); err != nil {
					return err
				}
				// The server ended the watch: pick up where it stopped.
				return rolloutStatus(ctx, a, name, watch)
			}
			if ev.Type == types.Deleted {
				return fmt.Errorf("deployment %q was deleted", name)
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
		Use:   "restart deployment/NAME",
		Short: "Replace every pod of a deployment by a rolling update",
		Example: `  # Restart the pods of a deployment (e.g. to pick up a changed config map)
  wharf rollout restart deployment/web`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return patchDeployment(cmd.Context(), a, args, func(d *types.Deployment) ([]byte, string, error) {
				if d.Spec.Paused {
					return nil, "", fmt.Errorf("can't restart paused deployment %q (run 'wharf rollout resume deployment/%s' first)", d.Name, d.Name)
				}
				patch, err := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{
					"annotations": map[string]string{RestartedAtAnnotation: time.Now().Format(time.RFC3339)}}}}})
				return patch, "restarted", err
			})
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
  kubectl set image deployment/web web=nginx:1.27   # or wharf apply -f
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
