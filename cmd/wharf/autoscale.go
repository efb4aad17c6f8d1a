package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wharfhq/wharf/api/types"
)

type autoscaleOptions struct {
	name            string
	min, max, cpuPc int32
	dryRun          dryRunOptions
}

// newAutoscaleCmd is `wharf autoscale KIND/NAME --max=N`, as kubectl
// autoscale: it creates a HorizontalPodAutoscaler of the object.
func newAutoscaleCmd(a *app) *cobra.Command {
	o := &autoscaleOptions{}
	cmd := &cobra.Command{
		Use:   "autoscale KIND/NAME | KIND NAME --max=MAXPODS [--min=MINPODS] [--cpu-percent=CPU] [--name=NAME]",
		Short: "Create a HorizontalPodAutoscaler of a deployment, replica set or stateful set",
		Long: `Create an autoscaling/v2 HorizontalPodAutoscaler that keeps the number of
replicas of the object between --min and --max, aiming at --cpu-percent of
the Pods' CPU requests (the server's default, 80%, when not given). The
autoscaler is named after the object unless --name is given.`,
		Example: `  # Between 2 and 10 replicas of deployment web, at the default CPU target
  wharf autoscale deployment/web --min=2 --max=10

  # At most 5 replicas of a replica set, aiming at 80% CPU
  wharf autoscale rs front --max=5 --cpu-percent=80

  # Print the autoscaler instead of creating it
  wharf autoscale deploy/web --max=4 --name=web-hpa --dry-run=client -o yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("max") {
				return usageError{errors.New(`required flag(s) "max" not set`)}
			}
			return runAutoscale(cmd.Context(), a, o, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.name, "name", "", "the name of the autoscaler (default: the object's)")
	f.Int32Var(&o.min, "min", -1, "the lower limit of replicas (not set: the server's default, 1)")
	f.Int32Var(&o.max, "max", -1, "the upper limit of replicas (required)")
	f.Int32Var(&o.cpuPc, "cpu-percent", -1, "the target CPU use, in percent of the Pods' requests, averaged over them (not set: the server's default)")
	o.dryRun.addFlags(cmd)
	return cmd
}

func runAutoscale(ctx context.Context, a *app, o *autoscaleOptions, args []string) error {
	if err := o.dryRun.check(a); err != nil {
		return err
	}
	// kubectl's checks and messages.
	if o.max < 1 {
		return fmt.Errorf("--max=MAXPODS is required and must be at least 1, max: %d", o.max)
	}
	if o.max < o.min {
		return fmt.Errorf("--max=MAXPODS must be larger or equal to --min=MINPODS, max: %d, min: %d", o.max, o.min)
	}
	targets, err := resolveArgs(args)
	if err != nil {
		return err
	}
	if len(targets) != 1 || len(targets[0].names) != 1 {
		return usageError{errors.New("autoscale takes one object: KIND/NAME or KIND NAME")}
	}
	res, name := targets[0].res, targets[0].names[0]
	if !res.HasSubresource("scale") {
		return fmt.Errorf("cannot autoscale a %s: it has no scale subresource (deployments, replicasets and statefulsets do)", res.Kind)
	}
	c, err := a.Client()
	if err != nil {
		return err
	}
	// As kubectl, the object must exist.
	if _, err := c.Resource(res).Namespace(a.namespace).Get(ctx, name); err != nil {
		return err
	}
	hpa := hpaFor(res, name, o)
	if a.namespaceSet {
		hpa.Namespace = a.namespace
	}
	hpaRes, err := resourceOfObject(hpa)
	if err != nil {
		return err
	}
	out := types.Object(hpa)
	if o.dryRun.mode != dryRunClient {
		if out, err = c.Resource(hpaRes).Namespace(a.namespace).Create(ctx, hpa); err != nil {
			return err
		}
	}
	verbed := "autoscaled"
	if o.dryRun.mode == dryRunClient {
		verbed = "created" // sic: kubectl says "created (dry run)"
	}
	return o.dryRun.report(a, hpaRes, out, verbed)
}

// hpaFor returns the autoscaler kubectl autoscale makes of the object, in
// autoscaling/v2: minReplicas only when --min is above 0, a cpu
// Utilization metric only when --cpu-percent is given.
func hpaFor(res *types.Resource, target string, o *autoscaleOptions) *types.HorizontalPodAutoscaler {
	name := o.name
	if name == "" {
		name = target
	}
	hpa := &types.HorizontalPodAutoscaler{
		TypeMeta:   types.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: types.ObjectMeta{Name: name},
		Spec: types.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: types.CrossVersionObjectReference{APIVersion: res.APIVersion(), Kind: res.Kind, Name: target},
			MaxReplicas:    o.max,
		},
	}
	if o.min > 0 {
		m := o.min
		hpa.Spec.MinReplicas = &m
	}
	if o.cpuPc >= 0 {
		pc := o.cpuPc
		hpa.Spec.Metrics = []types.MetricSpec{{Type: types.ResourceMetricSourceType, Resource: &types.ResourceMetricSource{
			Name:   types.ResourceCPU,
			Target: types.MetricTarget{Type: types.UtilizationMetricType, AverageUtilization: &pc},
		}}}
	}
	return hpa
}
