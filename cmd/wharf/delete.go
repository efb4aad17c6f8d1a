package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

type deleteOptions struct {
	files       []string
	recursive   bool
	gracePeriod int64
	cascade     string
	wait        bool
	timeout     time.Duration
	selector    string
	all         bool
	ignoreNF    bool
	dryRun      dryRunOptions
}

func newDeleteCmd(a *app) *cobra.Command {
	o := &deleteOptions{}
	cmd := &cobra.Command{
		Use:   "delete KIND NAME... | KIND/NAME... | -f FILE",
		Short: "Delete objects by name, by label, or as listed in manifests",
		Example: `  # Delete a pod and wait until it is gone
  wharf delete pod web

  # Delete what a manifest created, without waiting
  wharf delete -f examples/deployment.yaml --wait=false

  # Delete a deployment but keep its pods
  wharf delete deploy/web --cascade=orphan

  # Delete every job with a label, at once
  wharf delete jobs -l team=data --grace-period=0

  # Delete every config map of a namespace; no error if a pod is gone
  wharf delete configmaps --all -n test
  wharf delete pod maybe-gone --ignore-not-found

  # What would be deleted, checked by the server, without deleting it
  wharf delete jobs -l team=data --dry-run=server`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (o.all || o.selector != "") && !cmd.Flags().Changed("ignore-not-found") {
				// As kubectl: what a listing found may be gone by the time it
				// is deleted (e.g. collected with its owner).
				o.ignoreNF = true
			}
			return runDelete(cmd.Context(), a, o, args)
		},
	}
	f := cmd.Flags()
	f.StringSliceVarP(&o.files, "filename", "f", nil, "manifest file, directory or - for stdin (repeatable)")
	f.BoolVarP(&o.recursive, "recursive", "R", false, "read directories given with -f recursively")
	f.Int64Var(&o.gracePeriod, "grace-period", -1, "seconds a pod gets to stop (-1: the pod's own, 0: at once)")
	f.StringVar(&o.cascade, "cascade", "background", "what happens to dependents: background, foreground or orphan")
	f.BoolVar(&o.wait, "wait", true, "wait until the objects are gone")
	f.DurationVar(&o.timeout, "timeout", 0, "how long to wait (0: no limit)")
	f.StringVarP(&o.selector, "selector", "l", "", "delete the objects matching this label selector")
	f.BoolVar(&o.all, "all", false, "delete every object of the types given, in the namespace")
	f.BoolVar(&o.ignoreNF, "ignore-not-found", false, "treat an object already gone as deleted, without an error (default with --all and -l)")
	o.dryRun.addDryRunFlag(cmd)
	return cmd
}

// deleteOpts builds the DeleteOptions of the flags.
func (o *deleteOptions) deleteOpts() (types.DeleteOptions, error) {
	var opts types.DeleteOptions
	var policy string
	switch strings.ToLower(o.cascade) {
	case "background", "true":
		policy = types.DeletePropagationBackground
	case "foreground":
		policy = types.DeletePropagationForeground
	case "orphan", "false":
		policy = types.DeletePropagationOrphan
	default:
		return opts, fmt.Errorf("--cascade %q: use background, foreground or orphan", o.cascade)
	}
	opts.PropagationPolicy = &policy
	if o.gracePeriod >= 0 {
		g := o.gracePeriod
		opts.GracePeriodSeconds = &g
	}
	return opts, nil
}

// deleted is one object asked to go, with what is needed to wait for it.
type deleted struct {
	rc   *sdk.ResourceClient
	name string
	uid  string
}

func runDelete(ctx context.Context, a *app, o *deleteOptions, args []string) error {
	if err := o.dryRun.check(a); err != nil {
		return err
	}
	opts, err := o.deleteOpts()
	if err != nil {
		return err
	}
	c, err := a.Client()
	if err != nil {
		return err
	}
	if o.all && o.selector != "" {
		// As kubectl: which one was meant is not for the CLI to guess.
		return fmt.Errorf("give --all or -l, not both")
	}
	var items []deleted
	switch {
	case len(o.files) > 0:
		if len(args) > 0 {
			return fmt.Errorf("give either -f or KIND NAME, not both")
		}
		objs, err := readManifests(a, o.files, o.recursive)
		if err != nil {
			return err
		}
		for _, m := range objs {
			items = append(items, deleted{rc: c.Resource(m.res).Namespace(m.namespace(a)), name: m.obj.GetObjectMeta().Name})
		}
	default:
		targets, err := resolveArgs(args)
		if err != nil {
			return err
		}
		for _, t := range targets {
			rc := c.Resource(t.res).Namespace(a.namespace)
			names := t.names
			if len(names) > 0 && (o.all || o.selector != "") {
				return fmt.Errorf("give object names, or --all or -l, not both")
			}
			if len(names) == 0 {
				if o.selector == "" && !o.all {
					return fmt.Errorf("give object names, -l SELECTOR, --all or -f FILE: deleting every %s needs --all", t.res.Name)
				}
				l, err := rc.List(ctx, sdk.ListOptions{LabelSelector: o.selector})
				if err != nil {
					return err
				}
				if len(l.Items) == 0 && len(targets) == 1 {
					noResources(a, t.res, a.namespace)
				}
				for _, obj := range l.Items {
					names = append(names, obj.GetObjectMeta().Name)
				}
			}
			for _, n := range names {
				items = append(items, deleted{rc: rc, name: n})
			}
		}
	}

	failed := false
	var waits []deleted
	for _, it := range items {
		res := it.rc.Resource()
		// Read first to know the UID: --wait must not mistake a new object
		// of the same name for the old one.
		obj, err := it.rc.Get(ctx, it.name)
		if err == nil {
			it.uid = obj.GetObjectMeta().UID
			one := opts
			one.Preconditions = &types.Preconditions{UID: &it.uid} // that object, not a successor
			if o.dryRun.mode != dryRunClient {
				err = it.rc.Delete(ctx, it.name, one)
			}
		}
		if sdk.IsNotFound(err) && o.ignoreNF {
			continue
		}
		if err != nil {
			if err := objectErr(a, err); err != nil {
				return err
			}
			failed = true
			continue
		}
		fmt.Fprintf(a.out, "%s %q deleted%s\n", kindName(res), it.name, o.dryRun.suffix())
		if o.dryRun.mode != dryRunNone {
			continue // nothing to wait for: it stays
		}
		waits = append(waits, it)
	}
	if o.wait {
		wctx := ctx
		if o.timeout > 0 {
			var cancel context.CancelFunc
			wctx, cancel = context.WithTimeout(ctx, o.timeout)
			defer cancel()
		}
		for _, it := range waits {
			if err := waitGone(wctx, it); err != nil {
				reportErr(a, fmt.Errorf("waiting for %s %q to be deleted: %w", kindName(it.rc.Resource()), it.name, err))
				failed = true
			}
		}
	}
	if failed {
		return errAlreadyReported{}
	}
	return nil
}

// waitGone watches the object until it is deleted (or replaced by one with
// another UID).
func waitGone(ctx context.Context, it deleted) error {
	for {
		obj, err := it.rc.Get(ctx, it.name)
		if sdk.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if obj.GetObjectMeta().UID != it.uid {
			return nil
		}
		w, err := it.rc.Watch(ctx, sdk.ListOptions{
			FieldSelector:   "metadata.name=" + it.name,
			ResourceVersion: obj.GetObjectMeta().ResourceVersion,
		})
		if err != nil {
			return err
		}
		for ev := range w.Events() {
			if ev.Type == types.Deleted && ev.Object.GetObjectMeta().UID == it.uid {
				w.Stop()
				return nil
			}
		}
		err = w.Err()
		w.Stop()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && !sdk.IsGone(err) {
			return err
		}
		// The watch ended or was too old: read again and resume.
	}
}
