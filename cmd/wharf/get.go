package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

type getOptions struct {
	output        string
	selector      string
	fieldSelector string
	allNamespaces bool
	watch         bool
}

func newGetCmd(a *app) *cobra.Command {
	o := &getOptions{}
	cmd := &cobra.Command{
		Use:   "get KIND [NAME...] | KIND/NAME...",
		Short: "List objects as a table, or print them as YAML, JSON or names",
		Example: `  # List the pods of the default namespace
  wharf get pods

  # List deployments in every namespace, with more columns
  wharf get deploy -A -o wide

  # Print one pod as YAML
  wharf get pod web -o yaml

  # Pods with a label, on one node, then keep watching
  wharf get pods -l app=web --field-selector spec.nodeName=node-1 -w`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGet(cmd.Context(), a, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "", "output format: wide, yaml, json or name")
	f.StringVarP(&o.selector, "selector", "l", "", "label selector (e.g. app=web,tier!=db)")
	f.StringVar(&o.fieldSelector, "field-selector", "", "field selector (e.g. spec.nodeName=node-1)")
	f.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "list across all namespaces")
	f.BoolVarP(&o.watch, "watch", "w", false, "after listing, watch for changes")
	return cmd
}

func runGet(ctx context.Context, a *app, o *getOptions, args []string) error {
	if err := checkOutput(o.output); err != nil {
		return err
	}
	targets, err := resolveArgs(args)
	if err != nil {
		return err
	}
	if o.watch && len(targets) > 1 {
		return fmt.Errorf("you may only watch one resource type at a time")
	}
	c, err := a.Client()
	if err != nil {
		return err
	}
	failed := false
	for i, t := range targets {
		if i > 0 && (o.output == outputTable || o.output == outputWide) {
			fmt.Fprintln(a.out)
		}
		ns := a.namespace
		if o.allNamespaces && len(t.names) == 0 {
			ns = ""
		}
		rc := c.Resource(t.res).Namespace(ns)
		opts := sdk.ListOptions{LabelSelector: o.selector, FieldSelector: o.fieldSelector}
		var ok bool
		var err error
		if o.output == outputTable || o.output == outputWide {
			ok, err = getTable(ctx, a, o, rc, t.names, opts)
		} else {
			ok, err = getObjects(ctx, a, o, rc, t.names, opts)
		}
		if err != nil {
			return err
		}
		failed = failed || !ok
	}
	if failed {
		return errAlreadyReported{}
	}
	return nil
}

// reportErr prints one per-object error line.
func reportErr(a *app, err error) {
	fmt.Fprintln(a.errOut, "error: "+oneLine(err.Error()))
}

// noResources prints kubectl's "No resources found" line.
func noResources(a *app, res *types.Resource, ns string) {
	if res.Namespaced && ns != "" {
		fmt.Fprintf(a.errOut, "No resources found in %s namespace.\n", ns)
		return
	}
	fmt.Fprintln(a.errOut, "No resources found")
}

// getTable prints the server's table for the objects; ok is false when
// some named object could not be read (its error printed).
func getTable(ctx context.Context, a *app, o *getOptions, rc *sdk.ResourceClient, names []string, opts sdk.ListOptions) (ok bool, err error) {
	ns := a.namespace
	withNS := o.allNamespaces && len(names) == 0 && rc.Resource().Namespaced
	if withNS {
		ns = ""
	}
	p := &tablePrinter{w: newTabWriter(a.out), wide: o.output == outputWide, withNamespace: withNS}
	if o.watch && len(names) > 1 {
		return false, fmt.Errorf("watch accepts one object name at most")
	}
	ok = true
	if len(names) > 0 {
		rv := ""
		for _, name := range names {
			t, err := rc.Table(ctx, name, sdk.ListOptions{})
			if err != nil {
				reportErr(a, err)
				ok = false
				continue
			}
			if err := p.print(t); err != nil {
				return false, err
			}
			if len(t.Rows) == 1 {
				if m, err := t.Rows[0].RowMeta(); err == nil {
					rv = m.ResourceVersion
				}
			}
		}
		if o.watch {
			opts.FieldSelector = joinSelectors(opts.FieldSelector, "metadata.name="+names[0])
			return ok, watchTable(ctx, p, rc, opts, rv)
		}
		return ok, nil
	}
	t, err := rc.Table(ctx, "", opts)
	if err != nil {
		return false, err
	}
	if len(t.Rows) == 0 {
		noResources(a, rc.Resource(), ns)
		p.setColumns(t)
	} else if err := p.print(t); err != nil {
		return false, err
	}
	if o.watch {
		if len(t.Rows) == 0 && !p.headerDone {
			p.headerDone = true // kubectl prints no header when watching an empty list
		}
		return true, watchTable(ctx, p, rc, opts, t.ResourceVersion)
	}
	return true, nil
}

// watchTable prints a row per change until ctx ends or the server ends the
// watch.
func watchTable(ctx context.Context, p *tablePrinter, rc *sdk.ResourceClient, opts sdk.ListOptions, rv string) error {
	opts.ResourceVersion = rv
	w, err := rc.WatchTable(ctx, opts)
	if err != nil {
		return err
	}
	defer w.Stop()
	for ev := range w.Events() {
		if ev.Type == types.Bookmark {
			continue
		}
		if err := p.print(ev.Object); err != nil {
			return err
		}
	}
	return w.Err()
}

// joinSelectors ANDs two selector strings.
func joinSelectors(a, b string) string {
	if a == "" {
		return b
	}
	return a + "," + b
}

// getObjects prints the objects as YAML, JSON or names.
func getObjects(ctx context.Context, a *app, o *getOptions, rc *sdk.ResourceClient, names []string, opts sdk.ListOptions) (ok bool, err error) {
	ok = true
	var objs []types.Object
	rv := ""
	if len(names) > 0 {
		for _, name := range names {
			obj, err := rc.Get(ctx, name)
			if err != nil {
				reportErr(a, err)
				ok = false
				continue
			}
			objs = append(objs, obj)
		}
	} else {
		l, err := rc.List(ctx, opts)
		if err != nil {
			return false, err
		}
		objs, rv = l.Items, l.ResourceVersion
	}
	if len(objs) > 0 || len(names) == 0 {
		if err := printObjects(a.out, rc.Resource(), objs, o.output, len(names) == 1); err != nil {
			return false, err
		}
	}
	if !o.watch {
		return ok, nil
	}
	if len(names) == 1 {
		opts.FieldSelector = joinSelectors(opts.FieldSelector, "metadata.name="+names[0])
		rv = ""
		if len(objs) == 1 {
			rv = objs[0].GetObjectMeta().ResourceVersion
		}
	}
	opts.ResourceVersion = rv
	w, err := rc.Watch(ctx, opts)
	if err != nil {
		return ok, err
	}
	defer w.Stop()
	for ev := range w.Events() {
		if ev.Type == types.Bookmark {
			continue
		}
		if o.output == outputYAML {
			fmt.Fprintln(a.out, "---")
		}
		if err := printObjects(a.out, rc.Resource(), []types.Object{ev.Object}, o.output, true); err != nil {
			return ok, err
		}
	}
	return ok, w.Err()
}
