package sdk

import (
	"context"
	"fmt"

	"github.com/wharfhq/wharf/api/types"
)

// IndexNodeName indexes Pods by spec.nodeName (unbound Pods under "").
const IndexNodeName = "spec.nodeName"

// NodeNameIndex is an IndexFunc over a Pod's spec.nodeName; objects that
// are not Pods are not indexed.
func NodeNameIndex(obj types.Object) []string {
	if p, ok := obj.(*types.Pod); ok {
		return []string{p.Spec.NodeName}
	}
	return nil
}

// Bind assigns pod to node (sets spec.nodeName) through the pods/binding
// subresource, as the scheduler does. The pod's UID is sent, so a pod
// deleted and recreated under the same name is not bound by mistake; a pod
// already bound answers a Conflict error.
func (c *Client) Bind(ctx context.Context, pod types.Object, node string) error {
	m := pod.GetObjectMeta()
	b := &types.Binding{
		TypeMeta:   types.TypeMeta{Kind: "Binding", APIVersion: "v1"},
		ObjectMeta: types.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID},
		Target:     types.ObjectReference{APIVersion: "v1", Kind: "Node", Name: node},
	}
	pods := Typed[*types.Pod](c).Dynamic()
	if pods == nil {
		return fmt.Errorf("bind: pods: %w", ErrUnregisteredType)
	}
	return pods.Namespace(m.Namespace).CreateSubresource(ctx, m.Name, "binding", b, nil)
}

// GetScale returns the scale subresource (autoscaling/v1 Scale) of the
// named object (deployments, replicasets, statefulsets).
func (r *ResourceClient) GetScale(ctx context.Context, name string) (*types.Scale, error) {
	s := &types.Scale{}
	if err := r.GetSubresource(ctx, name, "scale", s); err != nil {
		return nil, err
	}
	return s, nil
}

// UpdateScale sets the replica count through the scale subresource;
// scale.metadata.resourceVersion, when set, must be current (Conflict
// otherwise).
func (r *ResourceClient) UpdateScale(ctx context.Context, name string, scale *types.Scale) (*types.Scale, error) {
	if scale.Kind == "" {
		scale.Kind, scale.APIVersion = "Scale", "autoscaling/v1"
	}
	out := &types.Scale{}
	if err := r.UpdateSubresource(ctx, name, "scale", scale, out); err != nil {
		return nil, err
	}
	return out, nil
}
