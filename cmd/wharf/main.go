// Command wharf is Wharf's single binary: the API server (`wharf server`),
// the single-machine cluster (`wharf up`), and the CLI verbs (apply, get,
// describe, delete, scale, autoscale, rollout, set image, create
// configmap/secret/namespace/job, --dry-run=client|server, ...) over the
// Go SDK.
//
// This file holds the global flags and the wiring; each verb lives in a
// file of its own (get.go, apply.go, ...) as a newXxxCmd(*app) function
// listed in verbs below.
package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

// version is the client's version, set at build time with
// -ldflags "-X main.version=v1.2.3".
var version = "v0.1.0-dev"

// Defaults of the global flags.
const (
	defaultServer    = "http://127.0.0.1:6443"
	defaultNamespace = "default"
	serverEnv        = "WHARF_SERVER"
	tokenEnv         = "WHARF_TOKEN"
)

// app is the state shared by the verbs: global flags, output streams and a
// lazily made client.
type app struct {
	server    string
	namespace string
	token     string
	// caFile and insecureTLS say how to check an https server's
	// certificate (tls.go).
	caFile      string
	insecureTLS bool
	// namespaceSet: --namespace was given, so manifests of another
	// namespace are an error (as with kubectl).
	namespaceSet bool
	// dryRunServer: --dry-run=server, so the client sends every write
	// with dryRun=All (dryrun.go).
	dryRunServer bool

	in          io.Reader
	out, errOut io.Writer

	client *sdk.Client
}

// verbs lists the commands; a new verb is one file with a constructor
// added here.
var verbs = []func(*app) *cobra.Command{
	newServerCmd,
	newUpCmd,
	newApplyCmd,
	newCreateCmd,
	newGetCmd,
	newDescribeCmd,
	newDeleteCmd,
	newVersionCmd,
	newScaleCmd,
	newRolloutCmd,
	newSetCmd,
	newAutoscaleCmd,
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line and returns the exit code: errors are
// printed as one line "error: ..." on stderr.
func run(ctx context.Context, args []string, in io.Reader, out, errOut io.Writer) int {
	a := &app{in: in, out: out, errOut: errOut}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(in)
	root.SetOut(out)
	root.SetErr(errOut)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	var coded interface{ ExitCode() int } // `wharf exec`: the command's exit code
	if errors.As(err, &coded) {
		return coded.ExitCode()
	}
	var quiet errAlreadyReported
	if !errors.As(err, &quiet) {
		fmt.Fprintln(errOut, "error: "+oneLine(explain(a, err).Error()))
	}
	if isUsageError(err) && cmd != nil {
		fmt.Fprintf(errOut, "\n%s", cmd.UsageString())
	}
	return 1
}

// usageError is a mistake in the command line itself: an unknown flag, a
// bad flag value, missing or extra arguments. The command's usage is
// printed after it; an error of the command's run prints none (cobra's
// SilenceUsage would print it for both or neither).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// isUsageError reports whether err is a mistake in the command line.
func isUsageError(err error) bool {
	var u usageError
	// cobra's check of required flags has no hook: known by its text.
	return errors.As(err, &u) || strings.HasPrefix(err.Error(), "required flag(s) ")
}

// markUsageErrors makes the flag and argument errors of root and its
// subcommands usageErrors.
func markUsageErrors(root *cobra.Command) {
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if check := c.Args; check != nil {
			c.Args = func(cmd *cobra.Command, args []string) error {
				err := check(cmd, args)
				if err == nil {
					return nil
				}
				if msg := err.Error(); strings.HasPrefix(msg, "requires ") || strings.HasPrefix(msg, "accepts ") {
					err = fmt.Errorf("%s %w", cmd.CommandPath(), err) // cobra's own checks: say which command
				}
				return usageError{err}
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// explain rewords errors whose cause the user can fix more plainly than
// the transport says it, as kubectl does for a refused connection.
func explain(a *app, err error) error {
	if cmd, suggestions, ok := strings.Cut(err.Error(), "\n\nDid you mean this?\n"); ok {
		// cobra's suggestions, on one line.
		return fmt.Errorf("%s (did you mean %s?)", cmd, strings.Join(strings.Fields(suggestions), " or "))
	}
	if sdk.ReasonForError(err) == types.StatusReasonUnauthorized {
		if a.token == "" {
			return errors.New("Unauthorized: the server requires a bearer token: pass --token or set WHARF_TOKEN")
		}
		return errors.New("Unauthorized: the server does not accept the token: check --token or WHARF_TOKEN")
	}
	var unknownCA x509.UnknownAuthorityError
	if errors.As(err, &unknownCA) {
		return fmt.Errorf("%w: give the certificate authority that signed the server's certificate with --certificate-authority FILE", err)
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("the connection to the server %s was refused - is it running (wharf up)? Set --server or %s to use another", a.server, serverEnv)
	}
	return err
}

// errAlreadyReported ends a command with exit code 1 after it printed its
// own error lines (e.g. one per object that failed).
type errAlreadyReported struct{}

func (errAlreadyReported) Error() string { return "errors were reported above" }

// oneLine keeps an error on one line.
func oneLine(s string) string {
	// Line by line, so that spaces inside a line (kubectl's validation
	// messages have "',  or '") are kept.
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " ")
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "wharf",
		Short: "Run WebAssembly modules and containers side by side, with Kubernetes-shaped objects",
		Long: `wharf is one binary: the API server, the node agent, and a kubectl-like CLI.

Start a single-machine cluster with "wharf up", then drive it with
"wharf apply -f", "wharf get", "wharf describe" and "wharf delete" (or kubectl).`,
		Example: `  # Start a single-machine cluster, data in ./wharf-data
  wharf up

  # Apply the examples and list the pods
  wharf apply -f examples/
  wharf get pods`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			a.namespaceSet = cmd.Flags().Changed("namespace")
			if !cmd.Flags().Changed("token") {
				// Not the flag's default: --help and usage would print it.
				a.token = os.Getenv(tokenEnv)
			}
		},
	}
	server := os.Getenv(serverEnv)
	if server == "" {
		server = defaultServer
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.server, "server", server, "URL of the Wharf API server (env "+serverEnv+")")
	pf.StringVarP(&a.namespace, "namespace", "n", defaultNamespace, "namespace of the objects")
	pf.StringVar(&a.token, "token", "", "bearer token for the API server (env "+tokenEnv+")")
	a.addTLSClientFlags(root)
	for _, v := range verbs {
		root.AddCommand(v(a))
	}
	addBuiltinExamples(root)
	markUsageErrors(root)
	return root
}

// addBuiltinExamples makes cobra's own commands (help, completion) now
// rather than at Execute, so that they too get examples in their --help.
func addBuiltinExamples(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	examples := map[string]string{
		"help": `  # Help about the get command
  wharf help get`,
		"completion": `  # Load completions in the current bash session
  source <(wharf completion bash)`,
		"bash": `  # Load completions in the current bash session
  source <(wharf completion bash)

  # Load them in every session (Linux)
  wharf completion bash > /etc/bash_completion.d/wharf`,
		"zsh": `  # Load completions in the current zsh session
  source <(wharf completion zsh)

  # Load them in every session
  wharf completion zsh > "${fpath[1]}/_wharf"`,
		"fish": `  # Load completions in the current fish session
  wharf completion fish | source

  # Load them in every session
  wharf completion fish > ~/.config/fish/completions/wharf.fish`,
		"powershell": `  # Load completions in the current PowerShell session
  wharf completion powershell | Out-String | Invoke-Expression`,
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if ex, ok := examples[sub.Name()]; ok && sub.Example == "" {
				sub.Example = ex
			}
			walk(sub)
		}
	}
	walk(root)
}

// Client returns the SDK client for --server, made on first use.
func (a *app) Client() (*sdk.Client, error) {
	if a.client != nil {
		return a.client, nil
	}
	opts := []sdk.Option{sdk.WithUserAgent("wharf-cli/" + version)}
	if a.token != "" {
		opts = append(opts, sdk.WithBearerToken(a.token))
	}
	tlsCfg, err := a.tlsClientConfig()
	if err != nil {
		return nil, err
	}
	switch {
	case a.dryRunServer:
		opts = append(opts, sdk.WithHTTPClient(&http.Client{Transport: dryRunTransport{transportWithTLS(tlsCfg)}}))
	case tlsCfg != nil:
		opts = append(opts, sdk.WithHTTPClient(&http.Client{Transport: transportWithTLS(tlsCfg)}))
	}
	server := a.server
	if !strings.Contains(server, "://") {
		server = "http://" + server // "127.0.0.1:6443", as kubectl takes it
	}
	c, err := sdk.New(server, opts...)
	if err != nil {
		return nil, err
	}
	a.client = c
	return c, nil
}
