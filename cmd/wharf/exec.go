package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/wharfhq/wharf/nodes/agentapi"
)

type execOptions struct {
	container string
	stdin     bool
	tty       bool
}

// exitCodeError ends the process with the exit code of a command run by
// `wharf exec`, after its output was printed.
type exitCodeError struct{ code int }

func (e exitCodeError) Error() string { return "command terminated with a non-zero exit code" }

// ExitCode is the code the process exits with.
func (e exitCodeError) ExitCode() int { return e.code }

func newExecCmd(a *app) *cobra.Command {
	o := &execOptions{}
	cmd := &cobra.Command{
		Use:   "exec POD [-c CONTAINER] [-i] -- COMMAND [ARG...]",
		Short: "Run a command in a running container of a Pod",
		Long: `Run a command in a running container of a Pod, with its stdout and
stderr here and, with -i, this terminal's stdin. With -t (and a terminal
here) the command gets a terminal: its stderr comes on stdout, this
terminal is in raw mode while it runs (with -i) and its size follows this
one's. wharf ends when the command exits (stdin still open or not) and
exits with the command's exit code. Containers can exec; Wasm modules
cannot.`,
		Example: `  # List the root directory of pod web's only container
  wharf exec web -- ls /

  # Feed stdin to a command in container app
  echo hello | wharf exec -i web -c app -- cat

  # A shell with a terminal
  wharf exec -it web -- sh`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() != 1 {
				return errUsage("wharf exec POD -- COMMAND [ARG...]: put -- between the Pod and the command")
			}
			return runExec(cmd.Context(), a, o, args[0], args[1:])
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.container, "container", "c", "", "container name (default: the one the kubectl.kubernetes.io/default-container annotation names, else the first)")
	f.BoolVarP(&o.stdin, "stdin", "i", false, "pass stdin to the command")
	f.BoolVarP(&o.tty, "tty", "t", false, "give the command a terminal (needs a terminal here; Wasm modules have none)")
	return cmd
}

// errUsage is a mistake in exec's command line (usage printed after it).
func errUsage(msg string) error { return usageError{errors.New(msg)} }

func runExec(ctx context.Context, a *app, o *execOptions, pod string, command []string) error {
	q := url.Values{"command": command, "stdout": {"true"}, "stderr": {"true"}}
	container := o.container
	if container == "" {
		var err error
		if container, err = defaultContainer(ctx, a, pod, a.errOut); err != nil {
			return err
		}
	}
	q.Set("container", container)
	if o.stdin {
		q.Set("stdin", "true")
	}
	var lt *localTerminal
	if o.tty {
		var err error
		if lt, err = openLocalTerminal(a.in, o.stdin); err != nil {
			return err
		}
		if lt == nil {
			fmt.Fprintln(a.errOut, errNoTTY)
		} else {
			q.Set("tty", "true")
			defer func() {
				if lt != nil {
					_ = lt.close()
				}
			}()
		}
	}
	u, err := podURL(a, pod, "exec", q)
	if err != nil {
		return err
	}
	tc, err := a.tlsClientConfig()
	if err != nil {
		return err
	}
	req := agentapi.ExecRequest{URL: u, Header: authHeader(a), TLSConfig: tc, Stdout: a.out, Stderr: a.errOut}
	if o.stdin {
		req.Stdin = a.in
	}
	if lt != nil {
		req.Resize = lt.sizes
	}
	code, err := agentapi.Exec(ctx, req)
	if lt != nil {
		_ = lt.close() // out of raw mode before anything more is printed
		lt = nil
	}
	if err != nil {
		return err
	}
	if code != 0 {
		fmt.Fprintf(a.errOut, "command terminated with exit code %d\n", code) // as kubectl
		return exitCodeError{code: code}
	}
	return nil
}
