package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wharfhq/wharf/api/types"
)

type scaleOptions struct {
	replicas int32
	current  int32
}

func newScaleCmd(a *app) *cobra.Command {
	o := &scaleOptions{}
	cmd := &cobra.Command{
		Use:   "scale KIND/NAME... --replicas=N",
		Short: "Set the number of replicas of a deployment, replica set or stateful set",
		Example: `  # Run 5 replicas of a deployment
  wharf scale deployment/web --replicas=5

  # Scale only if it still has 3 replicas (no surprise from a concurrent change)
  wharf scale deploy web --current-replicas=3 --replicas=1

  # Scale two replica sets at once
  wharf scale rs/a rs/b --replicas=0`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("replicas") {
				return usageError{errors.New("--replicas is required: the number of replicas to run")}
			}
			return runScale(cmd.Context(), a, o, args)
		},
	}
	f := cmd.Flags()
	f.Int32Var(&o.replicas, "replicas", 0, "the number of replicas to run (required)")
	f.Int32Var(&o.current, "current-replicas", -1, "scale only if the object has this many replicas now (-1: no check)")
	return cmd
}

func runScale(ctx context.Context, a *app, o *scaleOptions, args []string) error {
	if o.replicas < 0 {
		return fmt.Errorf("--replicas=%d: the number of replicas cannot be negative", o.replicas)
	}
	targets, err := resolveArgs(args)
	if err != nil {
		return err
	}
	c, err := a.Client()
	if err != nil {
		return err
	}
	for _, t := range targets {
		if !t.res.HasSubresource("scale") {
			return fmt.Errorf("%s cannot be scaled: it has no scale subresource (deployments, replicasets and statefulsets do)", t.res.Name)
		}
		if len(t.names) == 0 {
			return fmt.Errorf("name the %s to scale, e.g. %s/NAME", t.res.Name, t.res.SingularName)
		}
		rc := c.Resource(t.res).Namespace(a.namespace)
		for _, name := range t.names {
			s, err := rc.GetScale(ctx, name)
			if err != nil {
				return err
			}
			if o.current >= 0 && s.Spec.Replicas != o.current {
				return fmt.Errorf("expected replicas to be %d, was %d", o.current, s.Spec.Replicas)
			}
			s.Spec.Replicas = o.replicas
			// The resourceVersion read above makes a concurrent change a
			// Conflict rather than a lost update.
			if _, err := rc.UpdateScale(ctx, name, s); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "%s/%s scaled\n", qualifiedKind(t.res), name)
		}
	}
	return nil
}

// qualifiedKind is "deployment.apps" or "pod", as kubectl names objects in
// its messages.
func qualifiedKind(r *types.Resource) string {
	if r.Group == "" {
		return r.SingularName
	}
	return r.SingularName + "." + r.Group
}
