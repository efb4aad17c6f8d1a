package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller/controllertest"
	"github.com/wharfhq/wharf/jobs/cronjob"
	"github.com/wharfhq/wharf/sdk"
)

// TestCreateJob runs `wharf create job` against a real API server: from a
// CronJob's template and from an image, and its usage errors.
func TestCreateJob(t *testing.T) {
	env := controllertest.NewEnv(t)
	ctx := env.Ctx()
	wharf := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		code := run(ctx, append([]string{"--server", env.URL}, args...), strings.NewReader(""), &out, &errOut)
		if code != 0 {
			return out.String(), fmt.Errorf("exit %d: %s", code, errOut.String())
		}
		return out.String(), nil
	}
	cj, err := sdk.Typed[*types.CronJob](env.Client).Namespace("default").Create(ctx, &types.CronJob{
		ObjectMeta: types.ObjectMeta{Name: "backup", Namespace: "default"},
		Spec: types.CronJobSpec{
			Schedule: "0 3 * * *",
			JobTemplate: types.JobTemplateSpec{
				ObjectMeta: types.ObjectMeta{Labels: map[string]string{"app": "backup"}, Annotations: map[string]string{"team": "ops"}},
				Spec: types.JobSpec{Template: types.PodTemplateSpec{Spec: types.PodSpec{
					RestartPolicy: types.RestartPolicyOnFailure,
					Containers:    []types.Container{{Name: "b", Image: "busybox", Command: []string{"tar"}}},
				}}},
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := wharf("create", "job", "backup-now", "--from=cronjob/backup")
	if err != nil {
		t.Fatal(err)
	}
	if out != "job.batch/backup-now created\n" {
		t.Fatalf("output %q", out)
	}
	jobs := sdk.Typed[*types.Job](env.Client).Namespace("default")
	j, err := jobs.Get(ctx, "backup-now")
	if err != nil {
		t.Fatal(err)
	}
	ref := types.GetControllerOf(j)
	if ref == nil || ref.UID != cj.UID || ref.Kind != "CronJob" || ref.APIVersion != "batch/v1" {
		t.Errorf("controller ref %+v, want CronJob backup", ref)
	}
	if j.Annotations[cronjob.InstantiateAnnotation] != cronjob.InstantiateManual || j.Annotations["team"] != "ops" || j.Labels["app"] != "backup" {
		t.Errorf("metadata labels %v annotations %v", j.Labels, j.Annotations)
	}
	if c := j.Spec.Template.Spec.Containers; len(c) != 1 || c[0].Command[0] != "tar" || j.Spec.Template.Spec.RestartPolicy != types.RestartPolicyOnFailure {
		t.Errorf("spec %+v", j.Spec.Template.Spec)
	}

	if _, err := wharf("create", "job", "hello", "--image=busybox", "--", "echo", "hi"); err != nil {
		t.Fatal(err)
	}
	h, err := jobs.Get(ctx, "hello")
	if err != nil {
		t.Fatal(err)
	}
	if c := h.Spec.Template.Spec.Containers; len(c) != 1 || c[0].Image != "busybox" || strings.Join(c[0].Command, " ") != "echo hi" || c[0].Name != "hello" {
		t.Errorf("containers %+v", c)
	}

	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no source", []string{"create", "job", "x"}, "exactly one of"},
		{"both sources", []string{"create", "job", "x", "--from=cronjob/backup", "--image=busybox"}, "exactly one of"},
		{"not a cronjob", []string{"create", "job", "x", "--from=deployment/web"}, "only be created from a cronjob"},
		{"missing cronjob", []string{"create", "job", "x", "--from=cronjob/nope"}, "not found"},
		{"bad from", []string{"create", "job", "x", "--from=backup"}, "cronjob/NAME"},
		{"two names", []string{"create", "job", "x", "y", "--image=busybox"}, "one NAME"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wharf(tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("wharf %v: error %v, want it to mention %q", tt.args, err, tt.want)
			}
		})
	}
}
