package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

// DefaultContainerAnnotation names the container kubectl logs and exec
// use when none is given.
const DefaultContainerAnnotation = "kubectl.kubernetes.io/default-container"

// defaultContainer returns the container logs and exec use in pod when -c
// is not given, as kubectl does: the one the default-container annotation
// names, else the first, saying so on warn when the Pod has others.
func defaultContainer(ctx context.Context, a *app, pod string, warn io.Writer) (string, error) {
	c, err := a.Client()
	if err != nil {
		return "", err
	}
	p, err := sdk.Typed[*types.Pod](c).Namespace(a.namespace).Get(ctx, pod)
	if err != nil {
		return "", err
	}
	if len(p.Spec.Containers) == 0 {
		return "", fmt.Errorf("pod %s has no containers", pod)
	}
	if name := p.Annotations[DefaultContainerAnnotation]; name != "" {
		for _, ct := range p.Spec.Containers {
			if ct.Name == name {
				return name, nil
			}
		}
		fmt.Fprintf(warn, "Warning: default container name %q not found in pod %s\n", name, pod)
	}
	first := p.Spec.Containers[0].Name
	if len(p.Spec.Containers) > 1 || len(p.Spec.InitContainers) > 0 {
		var all []string
		for _, ct := range p.Spec.Containers {
			all = append(all, ct.Name)
		}
		for _, ct := range p.Spec.InitContainers {
			all = append(all, ct.Name+" (init)")
		}
		fmt.Fprintf(warn, "Defaulted container %q out of: %s\n", first, strings.Join(all, ", "))
	}
	return first, nil
}
