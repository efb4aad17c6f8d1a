package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

func newVersionCmd(a *app) *cobra.Command {
	var clientOnly bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the client and server versions",
		Example: `  # Both versions
  wharf version

  # Only this binary's version, without asking a server
  wharf version --client`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVersion(cmd.Context(), a, clientOnly)
		},
	}
	cmd.Flags().BoolVar(&clientOnly, "client", false, "print only the client version")
	return cmd
}

func runVersion(ctx context.Context, a *app, clientOnly bool) error {
	fmt.Fprintf(a.out, "Client Version: %s\n", version)
	if clientOnly {
		return nil
	}
	c, err := a.Client()
	if err != nil {
		return err
	}
	v, err := c.ServerVersion(ctx)
	if err != nil {
		return fmt.Errorf("server version from %s: %w", c.Server(), err)
	}
	fmt.Fprintf(a.out, "Server Version: %s\n", v.GitVersion)
	return nil
}
