package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

type getOptions struct {
	output string
	// template prints -o jsonpath= and custom-columns= (nil otherwise).
	template      *templatePrinter
	selector      string
	fieldSelector string
	allNamespaces bool
	watch         bool
	noHeaders     bool
	showLabels    bool
	labelColumns  []string
	files         fileOptions
}

func newGetCmd(a *app) *cobra.Command {
	o := &getOptions{}
	cmd := &cobra.Command{
		Use:   "get KIND [NAME...] | KIND/NAME... | -f FILE",
		Short: "List objects as a table, or print them as YAML, JSON or names",
		Example: `  # List the pods of the default namespace
  wharf get pods

  # List deployments in every namespace, with more columns
  wharf get deploy -A -o wide

  # Print one pod as YAML
  wharf get pod web -o yaml

  # Pods with a label, on one node, then keep watching
  wharf get pods -l app=web --field-selector spec.nodeName=node-1 -w

  # Everything a workload is made of, with the labels
  wharf get all --show-labels

  # The value of the app label as a column, no header
  wharf get pods -L app --no-headers

  # The objects of manifests
  wharf get -f examples/

  # Fields picked by a JSONPath template (kubectl's syntax)
  wharf get pods -o jsonpath='{.items[*].metadata.name}'
  wharf get pod web -o jsonpath='{.status.podIP}{"\n"}'

  # Columns of your own
  wharf get pods -o custom-columns=NAME:.metadata.name,NODE:.spec.nodeName`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGet(cmd.Context(), a, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "", "output format: wide, yaml, json, name, jsonpath=TEMPLATE, jsonpath-file=FILE, custom-columns=SPEC (HEADER:PATH,...) or custom-columns-file=FILE")
	f.StringVarP(&o.selector, "selector", "l", "", "label selector (e.g. app=web,tier!=db)")
	f.StringVar(&o.fieldSelector, "field-selector", "", "field selector (e.g. spec.nodeName=node-1)")
	f.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "list across all namespaces")
	f.BoolVarP(&o.watch, "watch", "w", false, "after listing, watch for changes")
	f.BoolVar(&o.noHeaders, "no-headers", false, "print tables without their header line")
	f.BoolVar(&o.showLabels, "show-labels", false, "add a LABELS column to tables")
	f.StringSliceVarP(&o.labelColumns, "label-columns", "L", nil, "add a column with the value of each of these labels")
	o.files.addOptionalFlags(cmd)
	return cmd
}

func runGet(ctx context.Context, a *app, o *getOptions, args []string) error {
	tmpl, err := parseTemplateOutput(o.output, o.noHeaders)
	if err != nil {
		return err
	}
	if o.template = tmpl; tmpl == nil {
		if err := checkOutput(o.output); err != nil {
			return err
		}
	}
	targets, err := targetsOf(a, args, &o.files)
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
	var ok bool
	if o.output == outputTable || o.output == outputWide {
		ok, err = getTables(ctx, a, o, c, targets)
	} else {
		ok, err = getObjects(ctx, a, o, c, targets)
	}
	if err != nil {
		return err
	}
	if !ok {
		return errAlreadyReported{}
	}
	return nil
}

// targetsOf resolves the command line (KIND NAME..., KIND/NAME...), or the
// objects of the manifests of -f: per resource in the order met, in the one
// namespace they share, which becomes the command's.
func targetsOf(a *app, args []string, files *fileOptions) ([]target, error) {
	if len(files.files) == 0 {
		return resolveArgs(args)
	}
	if len(args) > 0 {
		return nil, fmt.Errorf("give KIND [NAME...] or -f FILE, not both")
	}
	ms, err := readManifests(a, files.files, files.recursive)
	if err != nil {
		return nil, err
	}
	var targets []target
	ns := ""
	for _, m := range ms {
		if mns := m.namespace(a); mns != "" {
			if ns != "" && mns != ns {
				return nil, fmt.Errorf("the manifests name objects in namespaces %s and %s: give the files of one namespace at a time", ns, mns)
			}
			ns = mns
		}
		i := slices.IndexFunc(targets, func(t target) bool { return t.res == m.res })
		if i < 0 {
			targets = append(targets, target{res: m.res})
			i = len(targets) - 1
		}
		targets[i].names = append(targets[i].names, m.obj.GetObjectMeta().Name)
	}
	if ns != "" {
		a.namespace = ns
	}
	return targets, nil
}

// listNamespace is the namespace to list t in: none with -A.
func (o *getOptions) listNamespace(a *app, t target) string {
	if o.allNamespaces && len(t.names) == 0 {
		return ""
	}
	return a.namespace
}

// getTables prints a table per target, as kubectl does: with several
// resource types, names are prefixed by the type ("deployment.apps/web"),
// types without objects are left out, and "No resources found" is printed
// only when none has any.
func getTables(ctx context.Context, a *app, o *getOptions, c *sdk.Client, targets []target) (ok bool, err error) {
	multi := len(targets) > 1
	ok = true
	rows, named := 0, false
	for _, t := range targets {
		rc := c.Resource(t.res).Namespace(o.listNamespace(a, t))
		opts := sdk.ListOptions{LabelSelector: o.selector, FieldSelector: o.fieldSelector}
		p := &tablePrinter{w: newTabWriter(a.out), wide: o.output == outputWide, blankFirst: rows > 0,
			headerDone: o.noHeaders, showLabels: o.showLabels, labelColumns: o.labelColumns}
		if multi {
			p.kind = kindName(t.res)
		}
		n, good, err := getTable(ctx, a, o, rc, t.names, opts, p, !multi)
		if err != nil {
			return false, err
		}
		rows += n
		ok = ok && good
		named = named || len(t.names) > 0
	}
	if multi && rows == 0 && !named {
		noResources(a, targets[0].res, o.listNamespace(a, targets[0]))
	}
	return ok, nil
}

// reportErr prints one per-object error line.
func reportErr(a *app, err error) {
	fmt.Fprintln(a.errOut, "error: "+oneLine(explain(a, err).Error()))
}

// objectErr handles the error of one object among several: an answer of
// the server about that object (not found, invalid...) is printed and the
// command goes on with the others (nil); any other failure (the server
// cannot be reached) is returned, to end the command with one line rather
// than one per object.
func objectErr(a *app, err error) error {
	var st *types.Status
	if !errors.As(err, &st) {
		return err
	}
	reportErr(a, err)
	return nil
}

// getNamed reads the named objects through rc. An object the server
// answers about (not found...) is reported as objectErr does and leaves
// ok false; any other failure ends the read.
func getNamed(ctx context.Context, a *app, rc *sdk.ResourceClient, names []string) (objs []types.Object, ok bool, err error) {
	ok = true
	for _, name := range names {
		obj, err := rc.Get(ctx, name)
		if err != nil {
			if err := objectErr(a, err); err != nil {
				return nil, false, err
			}
			ok = false
			continue
		}
		objs = append(objs, obj)
	}
	return objs, ok, nil
}

// noResources prints kubectl's "No resources found" line.
func noResources(a *app, res *types.Resource, ns string) {
	if res.Namespaced && ns != "" {
		fmt.Fprintf(a.errOut, "No resources found in %s namespace.\n", ns)
		return
	}
	fmt.Fprintln(a.errOut, "No resources found")
}

// getTable prints the server's table for the objects with p and returns
// the number of rows printed; ok is false when some named object could
// not be read (its error printed). With sayEmpty, an empty list prints
// "No resources found".
func getTable(ctx context.Context, a *app, o *getOptions, rc *sdk.ResourceClient, names []string, opts sdk.ListOptions, p *tablePrinter, sayEmpty bool) (rows int, ok bool, err error) {
	ns := a.namespace
	withNS := o.allNamespaces && len(names) == 0 && rc.Resource().Namespaced
	if withNS {
		ns = ""
	}
	p.withNamespace = withNS
	if o.watch && len(names) > 1 {
		return 0, false, fmt.Errorf("watch accepts one object name at most")
	}
	ok = true
	if len(names) > 0 {
		rv := ""
		var all *sdk.Table // the rows of every name, printed as one table
		for _, name := range names {
			t, err := rc.Table(ctx, name, sdk.ListOptions{})
			if err != nil {
				if err := objectErr(a, err); err != nil {
					return rows, false, err
				}
				ok = false
				continue
			}
			if all == nil {
				all = t
			} else {
				all.Rows = append(all.Rows, t.Rows...)
			}
			rows += len(t.Rows)
			if len(t.Rows) == 1 {
				if m, err := t.Rows[0].RowMeta(); err == nil {
					rv = m.ResourceVersion
				}
			}
		}
		if all != nil {
			if err := p.print(all); err != nil {
				return rows, false, err
			}
		}
		if o.watch {
			opts.FieldSelector = joinSelectors(opts.FieldSelector, "metadata.name="+names[0])
			return rows, ok, watchTable(ctx, p, rc, opts, rv)
		}
		return rows, ok, nil
	}
	t, err := rc.Table(ctx, "", opts)
	if err != nil {
		return 0, false, err
	}
	if len(t.Rows) == 0 {
		// Watching, kubectl says nothing of an empty list: the header
		// comes with the first row.
		if sayEmpty && !o.watch {
			noResources(a, rc.Resource(), ns)
		}
		p.setColumns(t)
	} else if err := p.print(t); err != nil {
		return 0, false, err
	}
	if o.watch {
		return len(t.Rows), true, watchTable(ctx, p, rc, opts, t.ResourceVersion)
	}
	return len(t.Rows), true, nil
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

// getObjects prints the objects of targets as YAML, JSON or names: one
// named object as itself, anything else as one v1 List, as kubectl does.
// With -w (one target), it then prints each change.
func getObjects(ctx context.Context, a *app, o *getOptions, c *sdk.Client, targets []target) (ok bool, err error) {
	ok = true
	var (
		all   []types.Object
		named int
		rv    string
	)
	for _, t := range targets {
		rc := c.Resource(t.res).Namespace(o.listNamespace(a, t))
		var objs []types.Object
		if len(t.names) > 0 {
			got, found, err := getNamed(ctx, a, rc, t.names)
			if err != nil {
				return false, err
			}
			ok = ok && found
			objs = got
		} else {
			l, err := rc.List(ctx, sdk.ListOptions{LabelSelector: o.selector, FieldSelector: o.fieldSelector})
			if err != nil {
				return false, err
			}
			objs, rv = l.Items, l.ResourceVersion
		}
		named += len(t.names)
		if o.output == outputName {
			if err := printObjects(a.out, t.res, objs, outputName, false); err != nil {
				return false, err
			}
		}
		all = append(all, objs...)
	}
	if o.watch {
		// As kubectl: the objects one by one (no List, nothing said of
		// an empty one), then each change.
		t := targets[0]
		rc := c.Resource(t.res).Namespace(o.listNamespace(a, t))
		dp := &docPrinter{w: a.out, res: t.res, output: o.output, template: o.template}
		for _, obj := range all {
			if o.output != outputName { // names were printed above
				if err := dp.print(obj); err != nil {
					return false, err
				}
			}
		}
		return ok, watchObjects(ctx, o, rc, t.names, all, rv, dp)
	}
	switch {
	case o.output == outputName:
		if len(all) == 0 && named == 0 {
			noResources(a, targets[0].res, o.listNamespace(a, targets[0]))
		}
	case len(all) > 0 || named == 0:
		single := named == 1 && len(targets) == 1
		if o.template != nil {
			err = o.template.print(a.out, all, single)
		} else {
			err = printObjects(a.out, targets[0].res, all, o.output, single)
		}
		if err != nil {
			return false, err
		}
	}
	return ok, nil
}

// docPrinter prints objects one by one as YAML documents (separated by
// "---"), JSON values, names, or through a template.
type docPrinter struct {
	w        io.Writer
	res      *types.Resource
	output   string
	template *templatePrinter
	printed  bool
}

func (p *docPrinter) print(obj types.Object) error {
	if p.template != nil {
		return p.template.print(p.w, []types.Object{obj}, true)
	}
	if p.output == outputYAML && p.printed {
		fmt.Fprintln(p.w, "---")
	}
	p.printed = true
	return printObjects(p.w, p.res, []types.Object{obj}, p.output, true)
}

// watchObjects prints each change to the watched objects as YAML, JSON or
// a name, from the resourceVersion of what was printed.
func watchObjects(ctx context.Context, o *getOptions, rc *sdk.ResourceClient, names []string, objs []types.Object, rv string, dp *docPrinter) error {
	opts := sdk.ListOptions{LabelSelector: o.selector, FieldSelector: o.fieldSelector}
	if len(names) > 1 {
		return fmt.Errorf("watch accepts one object name at most")
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
		return err
	}
	defer w.Stop()
	for ev := range w.Events() {
		if ev.Type == types.Bookmark {
			continue
		}
		if err := dp.print(ev.Object); err != nil {
			return err
		}
	}
	return w.Err()
}
