// Package history keeps the ControllerRevisions of a StatefulSet or
// DaemonSet: one immutable snapshot of each Pod template the owner has
// had, named OWNER-HASH and numbered in order, so that Pods can be told
// current or updated by their controller-revision-hash label and old
// templates can be rolled back to. It is shared by jobs/statefulset and
// jobs/daemonset.
package history

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/sdk"
)

// HashLabel is the label carrying a revision's hash, on revisions and on
// the Pods made from them.
const HashLabel = "controller-revision-hash"

// ErrHashCollision is returned when a revision of the wanted name exists
// with other data; the owner's status.collisionCount must be raised and
// the sync retried.
var ErrHashCollision = errors.New("controller revision hash collision")

// patch is the form Kubernetes stores a revision in: a strategic merge
// patch replacing the owner's spec.template.
type patch struct {
	Spec struct {
		Template json.RawMessage `json:"template"`
	} `json:"spec"`
}

// Data returns the revision data of template.
func Data(template *types.PodTemplateSpec) (json.RawMessage, error) {
	t, err := json.Marshal(template)
	if err != nil {
		return nil, fmt.Errorf("marshal pod template: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(t, &m); err != nil {
		return nil, fmt.Errorf("pod template: %w", err)
	}
	m["$patch"] = "replace"
	var p struct {
		Spec struct {
			Template map[string]any `json:"template"`
		} `json:"spec"`
	}
	p.Spec.Template = m
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("marshal revision data: %w", err)
	}
	return b, nil
}

// Template returns the Pod template stored in a revision.
func Template(rev *types.ControllerRevision) (*types.PodTemplateSpec, error) {
	var p patch
	if err := json.Unmarshal(rev.Data, &p); err != nil {
		return nil, fmt.Errorf("revision %s: %w", rev.Name, err)
	}
	var t types.PodTemplateSpec
	if err := json.Unmarshal(p.Spec.Template, &t); err != nil {
		return nil, fmt.Errorf("revision %s template: %w", rev.Name, err)
	}
	return &t, nil
}

// Owned returns the revisions in revs controlled by owner, oldest first.
func Owned(owner types.Object, revs []*types.ControllerRevision) []*types.ControllerRevision {
	var out []*types.ControllerRevision
	for _, r := range revs {
		if types.IsControlledBy(r, owner) {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Revision != out[j].Revision {
			return out[i].Revision < out[j].Revision
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// History reads and writes one owner's revisions.
type History struct {
	Client   *sdk.Client
	Owner    types.Object
	OwnerGVK types.GroupVersionKind
	// Labels are put on new revisions (the owner's selector labels).
	Labels map[string]string
}

func (h *History) revisions() *sdk.TypedClient[*types.ControllerRevision] {
	return sdk.Typed[*types.ControllerRevision](h.Client).Namespace(h.Owner.GetObjectMeta().Namespace)
}

// Ensure returns the revision of template among owned (oldest first),
// creating it with the next revision number, or renumbering an older
// equal revision (a rollback) so that it is the newest. It returns the
// revision and owned updated.
func (h *History) Ensure(ctx context.Context, owned []*types.ControllerRevision, template *types.PodTemplateSpec, collisionCount *int32) (*types.ControllerRevision, []*types.ControllerRevision, error) {
	data, err := Data(template)
	if err != nil {
		return nil, owned, err
	}
	var next int64 = 1
	if len(owned) > 0 {
		next = owned[len(owned)-1].Revision + 1
	}
	hash := controller.ComputeHash(template, collisionCount)
	name := h.Owner.GetObjectMeta().Name + "-" + hash
	for i, r := range owned {
		if !equalData(r.Data, data) {
			continue
		}
		if i == len(owned)-1 {
			return r, owned, nil
		}
		upd := types.Clone(r)
		upd.Revision = next
		out, err := h.revisions().Update(ctx, upd)
		if err != nil {
			return nil, owned, fmt.Errorf("renumber revision %s: %w", r.Name, err)
		}
		rest := append(append(append([]*types.ControllerRevision(nil), owned[:i]...), owned[i+1:]...), out)
		return out, rest, nil
	}
	labels := map[string]string{HashLabel: hash}
	for k, v := range h.Labels {
		labels[k] = v
	}
	rev := &types.ControllerRevision{
		TypeMeta: types.TypeMeta{APIVersion: "apps/v1", Kind: "ControllerRevision"},
		ObjectMeta: types.ObjectMeta{
			Name: name, Namespace: h.Owner.GetObjectMeta().Namespace, Labels: labels,
			OwnerReferences: []types.OwnerReference{*types.NewControllerRef(h.Owner, h.OwnerGVK)},
		},
		Data:     data,
		Revision: next,
	}
	out, err := h.revisions().Create(ctx, rev)
	if sdk.IsAlreadyExists(err) {
		existing, gerr := h.revisions().Get(ctx, name)
		if gerr != nil {
			return nil, owned, fmt.Errorf("read existing revision %s: %w", name, gerr)
		}
		if types.IsControlledBy(existing, h.Owner) && equalData(existing.Data, data) {
			// Ours, not yet in the cache.
			return existing, append(owned, existing), nil
		}
		return nil, owned, fmt.Errorf("revision %s: %w", name, ErrHashCollision)
	}
	if err != nil {
		return nil, owned, fmt.Errorf("create revision %s: %w", name, err)
	}
	return out, append(owned, out), nil
}

// Current returns the revision of template among revs (any revisions;
// those the owner controls are used), creating or renumbering it as
// Ensure does, and the owner's revisions oldest first. On
// ErrHashCollision the owner's status.collisionCount must be raised to
// NextCollisionCount.
func (h *History) Current(ctx context.Context, revs []*types.ControllerRevision, template *types.PodTemplateSpec, collisionCount *int32) (*types.ControllerRevision, []*types.ControllerRevision, error) {
	return h.Ensure(ctx, Owned(h.Owner, revs), template, collisionCount)
}

// NextCollisionCount returns the collision count after a hash collision.
func NextCollisionCount(c *int32) *int32 {
	n := int32(1)
	if c != nil {
		n = *c + 1
	}
	return &n
}

// Truncate deletes the oldest revisions of owned beyond limit, sparing
// those named in live (revisions that Pods still run).
func (h *History) Truncate(ctx context.Context, owned []*types.ControllerRevision, live map[string]bool, limit int32) error {
	var old []*types.ControllerRevision
	for _, r := range owned {
		if !live[r.Name] {
			old = append(old, r)
		}
	}
	extra := len(old) - int(max(limit, 0))
	var errs []error
	for _, r := range old[:max(extra, 0)] {
		err := h.revisions().Delete(ctx, r.Name, types.DeleteOptions{Preconditions: &types.Preconditions{UID: &r.UID}})
		if err != nil && !sdk.IsNotFound(err) && !sdk.IsConflict(err) {
			errs = append(errs, fmt.Errorf("delete revision %s: %w", r.Name, err))
		}
	}
	return errors.Join(errs...)
}

// equalData compares revision data as JSON values.
func equalData(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}
