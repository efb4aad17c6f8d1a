package main

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

// lastAppliedAnnotation keeps the manifest last applied, so that the next
// apply can remove what the manifest no longer sets. kubectl uses the same
// annotation, so the two can take turns on one object.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// applyRetries bounds the read-merge-update rounds lost to concurrent
// writers (Conflict).
const applyRetries = 5

// conflictPause is the wait before retrying after a Conflict.
const conflictPause = 10 * time.Millisecond

type fileOptions struct {
	files     []string
	recursive bool
}

func (o *fileOptions) addFlags(cmd *cobra.Command) {
	cmd.Flags().StringSliceVarP(&o.files, "filename", "f", nil, "manifest file, directory or - for stdin (repeatable)")
	cmd.Flags().BoolVarP(&o.recursive, "recursive", "R", false, "read directories given with -f recursively")
	_ = cmd.MarkFlagRequired("filename")
}

// addOptionalFlags adds -f and -R to a command that takes manifests or
// names (get, describe).
func (o *fileOptions) addOptionalFlags(cmd *cobra.Command) {
	cmd.Flags().StringSliceVarP(&o.files, "filename", "f", nil, "the objects of this manifest file, directory or - for stdin (repeatable)")
	cmd.Flags().BoolVarP(&o.recursive, "recursive", "R", false, "read directories given with -f recursively")
}

func newApplyCmd(a *app) *cobra.Command {
	o := &fileOptions{}
	d := &dryRunOptions{}
	cmd := &cobra.Command{
		Use:   "apply -f FILE|DIR|-",
		Short: "Create objects, or update them to match their manifests",
		Long: `Create each object of the manifests, or update the existing one to match
its manifest: fields the manifest sets are written, fields a previous apply
set and the manifest no longer sets are removed, fields the server and
controllers own (status, defaults) are kept. Lists of named things
(containers, env, ports, volumes) merge by name, as with kubectl apply, which
reads and writes the same last-applied annotation. Prints
"KIND/NAME created|configured|unchanged" per object.`,
		Example: `  # Apply one manifest
  wharf apply -f examples/deployment.yaml

  # Apply every manifest of a directory, and a stream on stdin
  wharf apply -f examples/
  cat job.yaml | wharf apply -f -

  # What would change, as the server would store it, without storing it
  wharf apply -f examples/deployment.yaml --dry-run=server -o yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runApply(cmd.Context(), a, o, d)
		},
	}
	o.addFlags(cmd)
	d.addFlags(cmd)
	return cmd
}

func runApply(ctx context.Context, a *app, o *fileOptions, d *dryRunOptions) error {
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
		result, obj, err := applyOne(ctx, c, m, m.namespace(a), d.mode == dryRunClient)
		if err != nil {
			err = aboutManifest(m, err)
			if err := objectErr(a, err); err != nil {
				return err
			}
			failed = true
			continue
		}
		if err := d.report(a, m.res, obj, result); err != nil {
			return err
		}
	}
	if failed {
		return errAlreadyReported{}
	}
	return nil
}

// aboutManifest names the manifest an error is about when its message does
// not (the server's "Request entity too large", a lost connection), as
// kubectl says `error when creating "FILE"`.
func aboutManifest(m *manifest, err error) error {
	name := m.obj.GetObjectMeta().Name
	if strings.Contains(err.Error(), strconv.Quote(name)) {
		return err
	}
	return fmt.Errorf("%s: %s %q: %w", m.source, m.res.Kind, name, err)
}

// applyOne creates m or merges it into the live object; it returns
// "created", "configured" or "unchanged" and the object stored (as the
// server answered). With clientDryRun nothing is sent but reads, and it
// returns, as kubectl, "created" and the object that would be sent, or
// "configured" and the live object.
func applyOne(ctx context.Context, c *sdk.Client, m *manifest, ns string, clientDryRun bool) (string, types.Object, error) {
	rc := c.Resource(m.res).Namespace(ns)
	name := m.obj.GetObjectMeta().Name

	modified := cloneTree(m.doc)
	if ns != "" {
		meta, _ := modified["metadata"].(map[string]any)
		meta["namespace"] = ns
	}
	modifiedJSON, err := lastAppliedValue(modified)
	if err != nil {
		return "", nil, err
	}
	// The object sent is the manifest plus the annotation recording it.
	sent := cloneTree(modified)
	meta, _ := sent["metadata"].(map[string]any)
	ann, _ := meta["annotations"].(map[string]any)
	if ann == nil {
		ann = map[string]any{}
		meta["annotations"] = ann
	}
	ann[lastAppliedAnnotation] = string(modifiedJSON)
	sentJSON, err := json.Marshal(sent)
	if err != nil {
		return "", nil, err
	}

	for attempt := 0; ; attempt++ {
		live, err := rc.Get(ctx, name)
		if sdk.IsNotFound(err) {
			obj := m.res.New()
			if err := json.Unmarshal(sentJSON, obj); err != nil {
				return "", nil, fmt.Errorf("%s: %w", m.source, err)
			}
			if clientDryRun {
				return "created", obj, nil
			}
			created, err := rc.Create(ctx, obj)
			if sdk.IsAlreadyExists(err) && attempt < applyRetries {
				continue // created meanwhile: merge into it
			}
			if err != nil {
				return "", nil, err
			}
			return "created", created, nil
		}
		if err != nil {
			return "", nil, err
		}
		if clientDryRun {
			return "configured", live, nil
		}
		patch, err := applyPatchFor(m.res, live, sent, modified, modifiedJSON)
		if err != nil || patch == nil {
			return "unchanged", live, err
		}
		patched, err := rc.Patch(ctx, name, sdk.StrategicMergePatch, patch)
		if sdk.IsConflict(err) && attempt < applyRetries {
			// Changed meanwhile: read again and patch again, after a pause
			// as client-go's DefaultRetry (10ms) lets the writer finish.
			select {
			case <-ctx.Done():
				return "", nil, ctx.Err()
			case <-time.After(conflictPause):
			}
			continue
		}
		if err != nil {
			return "", nil, err
		}
		return "configured", patched, nil
	}
}

// applyPatchFor returns the strategic merge patch that applies the
// manifest (modified; sent is it with the last-applied annotation) over
// live, or nil when live already matches it and the last apply recorded the
// same manifest ("unchanged").
func applyPatchFor(res *types.Resource, live types.Object, sent, modified map[string]any, modifiedJSON []byte) ([]byte, error) {
	liveJSON, err := json.Marshal(live)
	if err != nil {
		return nil, err
	}
	var liveTree map[string]any
	if err := json.Unmarshal(liveJSON, &liveTree); err != nil {
		return nil, err
	}
	var orig map[string]any
	original := live.GetObjectMeta().Annotations[lastAppliedAnnotation]
	if original != "" {
		if err := json.Unmarshal([]byte(original), &orig); err != nil {
			return nil, fmt.Errorf("read the last applied manifest: %w", err)
		}
	}
	t := derefType(reflect.TypeOf(res.New()))
	patch := applyPatch(orig, sent, t)
	if !hasRemovals(patch) && sameApplied(original, modifiedJSON) && containsTyped(liveTree, modified, t) {
		return nil, nil
	}
	b, err := json.Marshal(patch)
	if err != nil {
		return nil, fmt.Errorf("encode the patch: %w", err)
	}
	return b, nil
}

// lastAppliedValue is the last-applied annotation recording modified,
// byte for byte as kubectl writes it (compact JSON, sorted keys, an
// annotations map even when empty, a final newline), so that kubectl
// finds nothing to change after a wharf apply and the other way round.
func lastAppliedValue(modified map[string]any) ([]byte, error) {
	rec := cloneTree(modified)
	if meta, ok := rec["metadata"].(map[string]any); ok {
		if _, ok := meta["annotations"].(map[string]any); !ok {
			meta["annotations"] = map[string]any{}
		}
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// sameApplied reports whether two last-applied annotations record the
// same manifest; an empty annotations map is the same as none.
func sameApplied(a string, b []byte) bool {
	var va, vb map[string]any
	if json.Unmarshal([]byte(a), &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	for _, v := range []map[string]any{va, vb} {
		if meta, ok := v["metadata"].(map[string]any); ok {
			if ann, ok := meta["annotations"].(map[string]any); ok && len(ann) == 0 {
				delete(meta, "annotations")
			}
		}
	}
	return reflect.DeepEqual(va, vb)
}

// cloneTree deep-copies a JSON tree.
func cloneTree(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return cloneTree(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneValue(e)
		}
		return out
	}
	return v
}
