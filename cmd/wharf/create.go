package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

func newCreateCmd(a *app) *cobra.Command {
	o := &fileOptions{}
	cmd := &cobra.Command{
		Use:   "create -f FILE|DIR|-",
		Short: "Create the objects of manifests (an existing object is an error)",
		Example: `  # Create a job from a manifest
  wharf create -f examples/job.yaml

  # Create from stdin in another namespace
  cat pod.yaml | wharf create -f - -n test`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCreate(cmd.Context(), a, o)
		},
	}
	o.addFlags(cmd)
	cmd.AddCommand(newCreateJobCmd(a), newCreateConfigMapCmd(a), newCreateSecretCmd(a), newCreateNamespaceCmd(a))
	return cmd
}

func runCreate(ctx context.Context, a *app, o *fileOptions) error {
	ms, err := readManifests(a, o.files, o.recursive)
	if err != nil {
		return err
	}
	c, err := a.Client()
	if err != nil {
		return err
	}
	failed := false
	for _, m := range ms {
		created, err := c.Resource(m.res).Namespace(m.namespace(a)).Create(ctx, m.obj)
		if err != nil {
			if err := objectErr(a, err); err != nil {
				return err
			}
			failed = true
			continue
		}
		fmt.Fprintf(a.out, "%s created\n", objectName(m.res, created.GetObjectMeta().Name))
	}
	if failed {
		return errAlreadyReported{}
	}
	return nil
}
