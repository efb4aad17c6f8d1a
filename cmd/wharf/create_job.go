package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/cronjob"
	"github.com/wharfhq/wharf/sdk"
)

type createJobOptions struct {
	from  string
	image string
}

// newCreateJobCmd is `wharf create job NAME --from=cronjob/NAME` (a Job
// from a CronJob's template, run now) or `wharf create job NAME
// --image=IMAGE [-- COMMAND [ARGS...]]`, as kubectl create job.
func newCreateJobCmd(a *app) *cobra.Command {
	o := &createJobOptions{}
	cmd := &cobra.Command{
		Use:   "job NAME --from=cronjob/NAME | --image=IMAGE [-- COMMAND [ARGS...]]",
		Short: "Create a Job, from a CronJob's template or from an image",
		Example: `  # Run a CronJob's job now, outside its schedule
  wharf create job backup-now --from=cronjob/backup

  # Run a job of one container
  wharf create job hello --image=busybox -- echo hello`,
		Args: createJobArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCreateJob(cmd.Context(), a, o, args[0], args[1:])
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.from, "from", "", "the CronJob whose job template to run, as cronjob/NAME")
	f.StringVar(&o.image, "image", "", "the image of the job's container")
	return cmd
}

// createJobArgs checks for one NAME, then the command after -- if any.
func createJobArgs(cmd *cobra.Command, args []string) error {
	dash := cmd.ArgsLenAtDash()
	switch {
	case len(args) == 0 || dash == 0:
		return errors.New("create job needs a NAME: wharf create job NAME --from=cronjob/CRONJOB, or wharf create job NAME --image=IMAGE [-- COMMAND]")
	case dash > 1:
		return fmt.Errorf("create job takes one NAME before --, got %q", args[:dash])
	case dash < 0 && len(args) > 1:
		return fmt.Errorf("create job takes one NAME, got %q (put a command after --)", args)
	}
	return nil
}

func runCreateJob(ctx context.Context, a *app, o *createJobOptions, name string, command []string) error {
	if (o.from == "") == (o.image == "") {
		return fmt.Errorf("create job needs exactly one of --from=cronjob/NAME and --image=IMAGE")
	}
	c, err := a.Client()
	if err != nil {
		return err
	}
	var j *types.Job
	if o.from != "" {
		if len(command) > 0 {
			return fmt.Errorf("a command cannot be given with --from: the CronJob's template says what runs")
		}
		if j, err = jobFromCronJob(ctx, c, a.namespace, o.from, name); err != nil {
			return err
		}
	} else {
		j = jobFromImage(a.namespace, name, o.image, command)
	}
	created, err := sdk.Typed[*types.Job](c).Namespace(a.namespace).Create(ctx, j)
	if err != nil {
		return err
	}
	res, err := sdk.ResourceOf[*types.Job]()
	if err != nil {
		return err
	}
	fmt.Fprintf(a.out, "%s created\n", objectName(res, created.Name))
	return nil
}

// jobFromCronJob reads the CronJob named by from ("cronjob/NAME") and
// returns its Job as kubectl makes it: the template's labels, annotations
// and spec, the annotation cronjob.kubernetes.io/instantiate=manual, and
// the CronJob as controller (so the CronJob's history limits count the
// Job; as in Kubernetes it is not in status.active and does not hold back
// a Forbid schedule).
func jobFromCronJob(ctx context.Context, c *sdk.Client, ns, from, name string) (*types.Job, error) {
	kind, cjName, ok := strings.Cut(from, "/")
	if !ok || cjName == "" {
		return nil, fmt.Errorf("--from=%q: want cronjob/NAME", from)
	}
	res, err := lookupResource(kind)
	if err != nil {
		return nil, err
	}
	if res.Kind != "CronJob" {
		return nil, fmt.Errorf("--from=%q: jobs can only be created from a cronjob, not a %s", from, res.SingularName)
	}
	cj, err := sdk.Typed[*types.CronJob](c).Namespace(ns).Get(ctx, cjName)
	if err != nil {
		return nil, err
	}
	j := cronjob.NewJob(cj, name)
	if j.Annotations == nil {
		j.Annotations = map[string]string{}
	}
	j.Annotations[cronjob.InstantiateAnnotation] = cronjob.InstantiateManual
	// kubectl's reference is a controller one without blockOwnerDeletion.
	j.OwnerReferences[0].BlockOwnerDeletion = nil
	return j, nil
}

// jobFromImage returns a Job of one container named after the Job, with
// restartPolicy Never, as kubectl create job --image does.
func jobFromImage(ns, name, image string, command []string) *types.Job {
	return &types.Job{
		TypeMeta:   types.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: types.ObjectMeta{Name: name, Namespace: ns},
		Spec: types.JobSpec{Template: types.PodTemplateSpec{Spec: types.PodSpec{
			RestartPolicy: types.RestartPolicyNever,
			Containers:    []types.Container{{Name: name, Image: image, Command: command}},
		}}},
	}
}
