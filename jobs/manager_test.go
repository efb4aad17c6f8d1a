package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs"
	"github.com/wharfhq/wharf/jobs/controller/controllertest"
	"github.com/wharfhq/wharf/sdk"
)

func TestRunUnknownDisabled(t *testing.T) {
	err := jobs.Run(context.Background(), nil, jobs.Options{Disabled: []string{"nope"}})
	if !errors.Is(err, jobs.ErrUnknownController) {
		t.Fatalf("Run with an unknown disabled controller: %v, want ErrUnknownController", err)
	}
}

// TestRunDeploymentLifecycle runs every controller together: a Deployment
// rolls out, and deleting it removes its ReplicaSet and Pods.
func TestRunDeploymentLifecycle(t *testing.T) {
	env := controllertest.NewEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := jobs.Run(ctx, env.Client, jobs.Options{}); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })

	n := int32(3)
	lbl := map[string]string{"app": "life"}
	dc := sdk.Typed[*types.Deployment](env.Client).Namespace("default")
	_, err := dc.Create(ctx, &types.Deployment{
		ObjectMeta: types.ObjectMeta{Name: "life", Namespace: "default"},
		Spec: types.DeploymentSpec{Replicas: &n, Selector: &types.LabelSelector{MatchLabels: lbl},
			Template: types.PodTemplateSpec{ObjectMeta: types.ObjectMeta{Labels: lbl},
				Spec: types.PodSpec{Containers: []types.Container{{Name: "c", Image: "busybox"}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	env.Eventually("available", func() (bool, error) {
		env.MarkAllReady("default", "app=life")
		d, err := dc.Get(ctx, "life")
		if err != nil {
			return false, err
		}
		return d.Status.AvailableReplicas == 3, fmt.Errorf("status %+v", d.Status)
	})
	// Foreground: the Deployment stays (with its finalizer) until its
	// ReplicaSet and Pods are gone, and the ReplicaSet controller does not
	// replace the Pods the collector deletes.
	fg := types.DeletePropagationForeground
	if err := dc.Delete(ctx, "life", types.DeleteOptions{PropagationPolicy: &fg}); err != nil {
		t.Fatal(err)
	}
	d, err := dc.Get(ctx, "life")
	if err == nil && d.DeletionTimestamp == nil {
		t.Fatalf("deployment deleted in the foreground has no deletionTimestamp")
	}
	env.Eventually("collected", func() (bool, error) {
		pods := env.Pods("default", "app=life")
		rs, err := sdk.Typed[*types.ReplicaSet](env.Client).Namespace("default").List(ctx, sdk.ListOptions{})
		if err != nil {
			return false, err
		}
		_, err = dc.Get(ctx, "life")
		return len(pods) == 0 && len(rs.Items) == 0 && sdk.IsNotFound(err), fmt.Errorf("%d pods, %d replicasets, deployment: %v", len(pods), len(rs.Items), err)
	})
}
