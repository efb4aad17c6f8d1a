package main

import (
	"fmt"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/wharfhq/wharf/api/types"
)

// Values of --dry-run, as kubectl's.
const (
	dryRunNone   = "none"
	dryRunClient = "client"
	dryRunServer = "server"
)

// dryRunOptions are the --dry-run and -o flags of the verbs that write:
// client prints what would be sent and sends nothing; server sends it with
// dryRun=All, so the server validates, defaults and answers, but stores
// nothing.
type dryRunOptions struct {
	mode   string
	output string
}

func (d *dryRunOptions) addFlags(cmd *cobra.Command) {
	d.addDryRunFlag(cmd)
	cmd.Flags().StringVarP(&d.output, "output", "o", "", "print the object (created, or that would be) as yaml or json, or its name")
}

// addDryRunFlag adds only --dry-run, for verbs that have their own -o.
func (d *dryRunOptions) addDryRunFlag(cmd *cobra.Command) {
	cmd.Flags().StringVar(&d.mode, "dry-run", dryRunNone, `"none", "client" (print what would be sent, send nothing) or "server" (the server checks and answers, but stores nothing)`)
	cmd.Flags().Lookup("dry-run").NoOptDefVal = dryRunClient // a bare --dry-run, as kubectl's deprecated form
}

// check validates the flags and, for a server dry run, makes a's client
// send every write with dryRun=All: it must run before a.Client().
func (d *dryRunOptions) check(a *app) error {
	switch d.mode {
	case dryRunNone, dryRunClient:
	case dryRunServer:
		a.dryRunServer = true
	default:
		return usageError{fmt.Errorf("invalid dry-run value (%s). Must be %q, %q, or %q", d.mode, dryRunNone, dryRunServer, dryRunClient)}
	}
	switch d.output {
	case "", outputYAML, outputJSON, outputName:
		return nil
	}
	return usageError{fmt.Errorf("unknown output format %q: use yaml, json or name", d.output)}
}

// suffix is what kubectl appends to "KIND/NAME VERBED" in this mode.
func (d *dryRunOptions) suffix() string {
	switch d.mode {
	case dryRunClient:
		return " (dry run)"
	case dryRunServer:
		return " (server dry run)"
	}
	return ""
}

// report prints obj with -o, else "KIND/NAME VERBED" and the dry-run
// suffix.
func (d *dryRunOptions) report(a *app, res *types.Resource, obj types.Object, verbed string) error {
	if d.output != "" {
		return printObjects(a.out, res, []types.Object{obj}, d.output, true)
	}
	fmt.Fprintf(a.out, "%s %s%s\n", objectName(res, obj.GetObjectMeta().Name), verbed, d.suffix())
	return nil
}

// dryRunTransport adds dryRun=All to every request that writes, so that
// any verb's writes through the sdk client are server dry runs (the sdk
// has no per-call options for it).
type dryRunTransport struct{ next http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (t dryRunTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return t.next.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	q := r.URL.Query()
	q.Set("dryRun", "All")
	r.URL.RawQuery = q.Encode()
	return t.next.RoundTrip(r)
}

var _ http.RoundTripper = dryRunTransport{}
