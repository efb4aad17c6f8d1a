package main

import (
	"context"

	"github.com/spf13/cobra"
)

func newCreateCmd(a *app) *cobra.Command {
	o := &fileOptions{}
	d := &dryRunOptions{}
	cmd := &cobra.Command{
		Use:   "create -f FILE|DIR|-",
		Short: "Create the objects of manifests (an existing object is an error)",
		Example: `  # Create a job from a manifest
  wharf create -f examples/job.yaml

  # Create from stdin in another namespace
  cat pod.yaml | wharf create -f - -n test

  # Check a manifest with the server (validation, defaults) without storing it
  wharf create -f examples/job.yaml --dry-run=server -o yaml

  # Write a config map's manifest instead of creating it
  wharf create configmap app --from-file=conf/ --dry-run=client -o yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCreate(cmd.Context(), a, o, d)
		},
	}
	o.addFlags(cmd)
	d.addFlags(cmd)
	cmd.AddCommand(newCreateJobCmd(a), newCreateConfigMapCmd(a), newCreateSecretCmd(a), newCreateNamespaceCmd(a))
	return cmd
}

func runCreate(ctx context.Context, a *app, o *fileOptions, d *dryRunOptions) error {
	if err := d.check(a); err != nil {
		return err
	}
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
		created := m.obj
		if d.mode != dryRunClient {
			created, err = c.Resource(m.res).Namespace(m.namespace(a)).Create(ctx, m.obj)
		}
		if err != nil {
			if err := objectErr(a, err); err != nil {
				return err
			}
			failed = true
			continue
		}
		if err := d.report(a, m.res, created, "created"); err != nil {
			return err
		}
	}
	if failed {
		return errAlreadyReported{}
	}
	return nil
}
