package sdk

import (
	"context"
	"fmt"

	"github.com/wharfhq/wharf/api/types"
)

// podsResource is the core/v1 pods resource, found in the registry.
func podsResource() (*types.Resource, error) {
	res, ok := types.ResourceFor("", "pods")
	if !ok {
		return nil, fmt.Errorf("resource pods: %w", ErrUnregisteredType)
	}
	return res, nil
}

// binding is the wire form of a core/v1 Binding.
type binding struct {
	types.TypeMeta `json:",inline"`
	Metadata       types.ObjectMeta `json:"metadata"`
	Target         bindingTarget    `json:"target"`
}

type bindingTarget struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
}

// Bind assigns pod to node (sets spec.nodeName) through the pods/binding
// subresource, as the scheduler does. The pod's UID is sent, so a pod
// deleted and recreated under the same name is not bound by mistake; a pod
// already bound answers a Conflict error.
func (c *Client) Bind(ctx context.Context, pod types.Object, node string) error {
	res, err := podsResource()
	if err != nil {
		return err
	}
	m := pod.GetObjectMeta()
	b := binding{
		TypeMeta: types.TypeMeta{Kind: "Binding", APIVersion: "v1"},
		Metadata: types.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID},
		Target:   bindingTarget{APIVersion: "v1", Kind: "Node", Name: node},
	}
	if err := c.Resource(res).Namespace(m.Namespace).CreateSubresource(ctx, m.Name, "binding", b, nil); err != nil {
		return fmt.Errorf("bind pod %s/%s to node %q: %w", m.Namespace, m.Name, node, err)
	}
	return nil
}
