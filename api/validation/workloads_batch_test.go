package validation

import (
	"maps"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/types"
)

const jobUID = "3c6f9d2a-1b7e-4f0a-9c55-6a1e2d4b8f70"

// newJob is a Job as a user writes it, with the UID the server gives it
// before defaulting; it is not defaulted.
func newJob(labels map[string]string) *types.Job {
	tmpl := validTemplate(maps.Clone(labels))
	tmpl.Spec.RestartPolicy = types.RestartPolicyNever
	return &types.Job{
		TypeMeta:   types.TypeMeta{Kind: "Job", APIVersion: "batch/v1"},
		ObjectMeta: types.ObjectMeta{Name: "pi", Namespace: "default", UID: jobUID},
		Spec:       types.JobSpec{Template: tmpl},
	}
}

func validJob() *types.Job {
	j := newJob(map[string]string{"app": "pi"})
	Default(j)
	return j
}

func TestDefaultJob(t *testing.T) {
	j := newJob(map[string]string{"app": "pi"})
	Default(j)
	s := j.Spec
	checkFields(t, []fieldCheck{
		{"completions", *s.Completions, int32(1)},
		{"parallelism", *s.Parallelism, int32(1)},
		{"backoffLimit", *s.BackoffLimit, int32(6)},
		{"completionMode", *s.CompletionMode, types.NonIndexedCompletion},
		{"suspend", *s.Suspend, false},
		{"manualSelector stays unset", s.ManualSelector == nil, true},
		{"template restartPolicy kept", s.Template.Spec.RestartPolicy, types.RestartPolicyNever},
		{"template dnsPolicy", s.Template.Spec.DNSPolicy, types.DNSClusterFirst},
	})
	wantTemplate := map[string]string{
		"app":                                "pi",
		"batch.kubernetes.io/controller-uid": jobUID,
		"batch.kubernetes.io/job-name":       "pi",
		"controller-uid":                     jobUID,
		"job-name":                           "pi",
	}
	if !maps.Equal(s.Template.Labels, wantTemplate) {
		t.Errorf("template labels = %v, want %v", s.Template.Labels, wantTemplate)
	}
	if want := map[string]string{"batch.kubernetes.io/controller-uid": jobUID}; s.Selector == nil || len(s.Selector.MatchExpressions) != 0 || !maps.Equal(s.Selector.MatchLabels, want) {
		t.Errorf("selector = %s, want matchLabels %v", jsonString(s.Selector), want)
	}
	// As a Job read back from Kubernetes' storage: a Job without labels
	// shows its template's, generated ones included.
	if !maps.Equal(j.Labels, wantTemplate) {
		t.Errorf("job labels = %v, want the template's %v", j.Labels, wantTemplate)
	}
	// Defaulting is idempotent: the update path defaults again.
	again := types.Clone(*j)
	Default(&again)
	if !jsonEqual(&again, j) {
		t.Errorf("second Default changed %v", changedPaths(&again, j, "", 5))
	}

	tests := []struct {
		name   string
		modify func(j *types.Job)
		check  func(t *testing.T, j *types.Job)
	}{
		{"only completions set", func(j *types.Job) { j.Spec.Completions = ptr(int32(5)) }, func(t *testing.T, j *types.Job) {
			if *j.Spec.Completions != 5 || *j.Spec.Parallelism != 1 {
				t.Errorf("completions %d parallelism %d, want 5 and 1", *j.Spec.Completions, *j.Spec.Parallelism)
			}
		}},
		// A work queue: completions stays unset, the Job is done when a
		// Pod succeeds and the others end.
		{"only parallelism set", func(j *types.Job) { j.Spec.Parallelism = ptr(int32(3)) }, func(t *testing.T, j *types.Job) {
			if j.Spec.Completions != nil || *j.Spec.Parallelism != 3 {
				t.Errorf("completions %v parallelism %d, want unset and 3", j.Spec.Completions, *j.Spec.Parallelism)
			}
		}},
		{"set values kept", func(j *types.Job) {
			j.Spec.BackoffLimit = ptr(int32(0))
			j.Spec.Suspend = ptr(true)
			j.Spec.CompletionMode = ptr(types.IndexedCompletion)
			j.Spec.Completions = ptr(int32(4))
			j.Spec.Parallelism = ptr(int32(0))
			j.Labels = map[string]string{"team": "data"}
		}, func(t *testing.T, j *types.Job) {
			s := j.Spec
			if *s.BackoffLimit != 0 || !*s.Suspend || *s.CompletionMode != types.IndexedCompletion || *s.Completions != 4 || *s.Parallelism != 0 {
				t.Errorf("overrode set values: %s", jsonString(s))
			}
			if !maps.Equal(j.Labels, map[string]string{"team": "data"}) {
				t.Errorf("job labels = %v, want the user's kept", j.Labels)
			}
		}},
		{"manualSelector true leaves selector and labels alone", func(j *types.Job) {
			j.Spec.ManualSelector = ptr(true)
			j.Spec.Selector = &types.LabelSelector{MatchLabels: map[string]string{"app": "pi"}}
		}, func(t *testing.T, j *types.Job) {
			if !maps.Equal(j.Spec.Selector.MatchLabels, map[string]string{"app": "pi"}) {
				t.Errorf("selector = %s, want the user's", jsonString(j.Spec.Selector))
			}
			if !maps.Equal(j.Spec.Template.Labels, map[string]string{"app": "pi"}) {
				t.Errorf("template labels = %v, want the user's only", j.Spec.Template.Labels)
			}
		}},
		{"template without labels", func(j *types.Job) { j.Spec.Template.Labels = nil }, func(t *testing.T, j *types.Job) {
			if len(j.Spec.Template.Labels) != 4 || j.Spec.Template.Labels["job-name"] != "pi" {
				t.Errorf("template labels = %v, want the four generated", j.Spec.Template.Labels)
			}
		}},
		// A conflicting label the user set is kept, and validation
		// reports it (as in Kubernetes).
		{"user's job-name label kept", func(j *types.Job) { j.Spec.Template.Labels["job-name"] = "other" }, func(t *testing.T, j *types.Job) {
			if j.Spec.Template.Labels["job-name"] != "other" {
				t.Errorf("job-name = %q, want the user's", j.Spec.Template.Labels["job-name"])
			}
			expectErrors(t, Validate(j), "spec.template.metadata.labels[job-name]:Invalid")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newJob(map[string]string{"app": "pi"})
			tt.modify(j)
			Default(j)
			tt.check(t, j)
		})
	}
}

func TestValidateJob(t *testing.T) {
	tests := []struct {
		name   string
		modify func(j *types.Job)
		want   []string
	}{
		{"valid", func(j *types.Job) {}, nil},
		{"restartPolicy Always", func(j *types.Job) { j.Spec.Template.Spec.RestartPolicy = types.RestartPolicyAlways },
			[]string{"spec.template.spec.restartPolicy:NotSupported"}},
		{"OnFailure", func(j *types.Job) { j.Spec.Template.Spec.RestartPolicy = types.RestartPolicyOnFailure }, nil},
		{"negative parallelism", func(j *types.Job) { j.Spec.Parallelism = ptr(int32(-1)) }, []string{"spec.parallelism:Invalid"}},
		{"negative completions", func(j *types.Job) { j.Spec.Completions = ptr(int32(-1)) }, []string{"spec.completions:Invalid"}},
		{"negative backoffLimit", func(j *types.Job) { j.Spec.BackoffLimit = ptr(int32(-1)) }, []string{"spec.backoffLimit:Invalid"}},
		{"negative activeDeadlineSeconds", func(j *types.Job) { j.Spec.ActiveDeadlineSeconds = ptr(int64(-1)) },
			[]string{"spec.activeDeadlineSeconds:Invalid"}},
		{"negative ttlSecondsAfterFinished", func(j *types.Job) { j.Spec.TTLSecondsAfterFinished = ptr(int32(-1)) },
			[]string{"spec.ttlSecondsAfterFinished:Invalid"}},
		{"zero parallelism and completions", func(j *types.Job) {
			j.Spec.Parallelism = ptr(int32(0))
			j.Spec.Completions = ptr(int32(0))
		}, nil},
		{"unknown completionMode", func(j *types.Job) { j.Spec.CompletionMode = ptr(types.CompletionMode("Sharded")) },
			[]string{"spec.completionMode:NotSupported"}},
		{"Indexed without completions", func(j *types.Job) {
			j.Spec.CompletionMode = ptr(types.IndexedCompletion)
			j.Spec.Completions = nil
		}, []string{"spec.completions:Required"}},
		{"Indexed parallelism over the limit", func(j *types.Job) {
			j.Spec.CompletionMode = ptr(types.IndexedCompletion)
			j.Spec.Parallelism = ptr(int32(100001))
		}, []string{"spec.parallelism:Invalid"}},
		// The last Pod's hostname, "<name>-<completions-1>", must be a
		// DNS-1123 label.
		{"Indexed name too long for the hostnames", func(j *types.Job) {
			j.Spec.CompletionMode = ptr(types.IndexedCompletion)
			j.Spec.Completions = ptr(int32(10))
			j.Name = strings.Repeat("a", 62)
			relabel(j)
		}, []string{"metadata.name:Invalid"}},
		{"Indexed name just fits", func(j *types.Job) {
			j.Spec.CompletionMode = ptr(types.IndexedCompletion)
			j.Spec.Completions = ptr(int32(10))
			j.Name = strings.Repeat("a", 61)
			relabel(j)
		}, nil},
		{"generated label with another uid", func(j *types.Job) { j.Spec.Template.Labels["controller-uid"] = "someone-else" },
			[]string{"spec.template.metadata.labels[controller-uid]:Invalid"}},
		{"generated label missing", func(j *types.Job) { delete(j.Spec.Template.Labels, "batch.kubernetes.io/job-name") },
			[]string{"spec.template.metadata.labels[batch.kubernetes.io/job-name]:Required"}},
		// Kubernetes refuses a selector chosen by hand unless
		// manualSelector is true: it could select another Job's Pods.
		{"own selector without manualSelector", func(j *types.Job) {
			j.Spec.Selector = &types.LabelSelector{MatchLabels: map[string]string{"app": "pi"}}
		}, []string{"spec.selector:Invalid"}},
		{"manualSelector with own selector", func(j *types.Job) {
			j.Spec.ManualSelector = ptr(true)
			j.Spec.Selector = &types.LabelSelector{MatchLabels: map[string]string{"app": "pi"}}
		}, nil},
		{"manualSelector not matching the template", func(j *types.Job) {
			j.Spec.ManualSelector = ptr(true)
			j.Spec.Selector = &types.LabelSelector{MatchLabels: map[string]string{"app": "other"}}
		}, []string{"spec.template.metadata.labels:Invalid"}},
		{"manualSelector without selector", func(j *types.Job) {
			j.Spec.ManualSelector = ptr(true)
			j.Spec.Selector = nil
		}, []string{"spec.selector:Required"}},
		{"invalid template", func(j *types.Job) { j.Spec.Template.Spec.Containers = nil },
			[]string{"spec.template.spec.containers:Required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := validJob()
			tt.modify(j)
			expectErrors(t, Validate(j), tt.want...)
		})
	}

	t.Run("restartPolicy message says what to set", func(t *testing.T) {
		j := newJob(nil)
		j.Spec.Template.Spec.RestartPolicy = ""
		Default(j)
		errs := Validate(j)
		if len(errs) != 1 || errs[0].Field != "spec.template.spec.restartPolicy" ||
			!strings.Contains(errs[0].Error(), `"OnFailure", "Never"`) {
			t.Errorf("errors = %v, want restartPolicy with the supported values", errs)
		}
	})
}

// relabel sets the generated job-name labels after a test renamed the Job.
func relabel(j *types.Job) {
	j.Spec.Template.Labels["job-name"] = j.Name
	j.Spec.Template.Labels["batch.kubernetes.io/job-name"] = j.Name
}

func TestValidateJobUpdate(t *testing.T) {
	suspended := func() *types.Job {
		j := newJob(map[string]string{"app": "pi"})
		j.Spec.Suspend = ptr(true)
		Default(j)
		return j
	}
	indexed := func() *types.Job {
		j := newJob(nil)
		j.Spec.CompletionMode = ptr(types.IndexedCompletion)
		j.Spec.Completions = ptr(int32(4))
		j.Spec.Parallelism = ptr(int32(4))
		Default(j)
		return j
	}
	started := func(j *types.Job) *types.Job {
		j.Status.StartTime = &types.Time{}
		return j
	}
	nodeAffinity := &types.Affinity{NodeAffinity: &types.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &types.NodeSelector{
		NodeSelectorTerms: []types.NodeSelectorTerm{{MatchExpressions: []types.NodeSelectorRequirement{{Key: "zone", Operator: types.NodeSelectorOpIn, Values: []string{"a"}}}}},
	}}}
	podAffinity := &types.Affinity{PodAntiAffinity: &types.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []types.PodAffinityTerm{{
		LabelSelector: &types.LabelSelector{MatchLabels: map[string]string{"app": "pi"}}, TopologyKey: "kubernetes.io/hostname",
	}}}}
	tests := []struct {
		name   string
		old    *types.Job
		update func(j *types.Job)
		want   []string
	}{
		{"mutable fields", validJob(), func(j *types.Job) {
			j.Spec.Parallelism = ptr(int32(3))
			j.Spec.ActiveDeadlineSeconds = ptr(int64(60))
			j.Spec.BackoffLimit = ptr(int32(1))
			j.Spec.TTLSecondsAfterFinished = ptr(int32(0))
			j.Spec.Suspend = ptr(true)
			j.Labels = map[string]string{"new": "label"}
		}, nil},
		{"completions", validJob(), func(j *types.Job) { j.Spec.Completions = ptr(int32(3)) }, []string{"spec.completions:Invalid"}},
		{"completionMode", validJob(), func(j *types.Job) {
			j.Spec.CompletionMode = ptr(types.IndexedCompletion)
		}, []string{"spec.completionMode:Invalid"}},
		{"selector", validJob(), func(j *types.Job) {
			j.Spec.Selector.MatchLabels["job-name"] = "pi"
		}, []string{"spec.selector:Invalid"}},
		{"template image", validJob(), func(j *types.Job) { j.Spec.Template.Spec.Containers[0].Image = "perl:5.40" },
			[]string{"spec.template:Invalid"}},
		{"indexed completions with parallelism", indexed(), func(j *types.Job) {
			j.Spec.Completions = ptr(int32(6))
			j.Spec.Parallelism = ptr(int32(6))
		}, nil},
		{"indexed completions alone", indexed(), func(j *types.Job) { j.Spec.Completions = ptr(int32(6)) },
			[]string{"spec.completions:Invalid"}},
		{"suspended never started: scheduling directives", suspended(), func(j *types.Job) {
			t := &j.Spec.Template
			t.Labels["queue"] = "batch"
			t.Annotations = map[string]string{"queue": "batch"}
			t.Spec.NodeSelector = map[string]string{"zone": "a"}
			t.Spec.Tolerations = []types.Toleration{{Key: "batch", Operator: types.TolerationOpExists}}
			t.Spec.Affinity = nodeAffinity
			j.Spec.Suspend = ptr(false)
		}, nil},
		{"suspended never started: image", suspended(), func(j *types.Job) { j.Spec.Template.Spec.Containers[0].Image = "perl:5.40" },
			[]string{"spec.template:Invalid"}},
		{"suspended never started: pod anti-affinity", suspended(), func(j *types.Job) { j.Spec.Template.Spec.Affinity = podAffinity },
			[]string{"spec.template:Invalid"}},
		{"suspended after it started: nodeSelector", started(suspended()), func(j *types.Job) {
			j.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "a"}
		}, []string{"spec.template:Invalid"}},
		{"running: nodeSelector", validJob(), func(j *types.Job) {
			j.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "a"}
		}, []string{"spec.template:Invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := types.Clone(*tt.old)
			tt.update(&j)
			expectErrors(t, ValidateUpdate(&j, tt.old), tt.want...)
		})
	}

	// `kubectl replace -f job.yaml` with the manifest the Job was created
	// from: no UID, selector or generated labels. The server carries the
	// UID over and defaulting generates the same selector and labels.
	t.Run("replaced with its manifest", func(t *testing.T) {
		old := validJob()
		j := newJob(map[string]string{"app": "pi"})
		j.UID = ""
		j.Spec.Suspend = ptr(true)
		PrepareForUpdate(j, old)
		Default(j)
		expectErrors(t, ValidateUpdate(j, old))
	})

	t.Run("node affinity removed while suspended", func(t *testing.T) {
		old := newJob(map[string]string{"app": "pi"})
		old.Spec.Suspend = ptr(true)
		old.Spec.Template.Spec.Affinity = nodeAffinity
		Default(old)
		j := types.Clone(*old)
		j.Spec.Template.Spec.Affinity = nil
		expectErrors(t, ValidateUpdate(&j, old))
	})

	// A Job stored by a Wharf that neither defaulted Jobs nor generated
	// selectors (no selector, no generated labels, no completions, no Pod
	// defaults in the template), updated as the server does it: prepare,
	// default, validate.
	stored := func() *types.Job {
		old := &types.Job{
			ObjectMeta: types.ObjectMeta{Name: "pi", Namespace: "default", UID: jobUID, Labels: map[string]string{"app": "pi"}},
			Spec: types.JobSpec{Template: types.PodTemplateSpec{
				ObjectMeta: types.ObjectMeta{Labels: map[string]string{"app": "pi"}},
				Spec: types.PodSpec{RestartPolicy: types.RestartPolicyNever,
					Containers: []types.Container{{Name: "pi", Image: "perl", Command: []string{"perl", "-e", "print 1"}}}},
			}},
			Status: types.JobStatus{StartTime: &types.Time{}, Active: 1},
		}
		return old
	}
	storedTests := []struct {
		name   string
		update func(j *types.Job)
		want   []string
	}{
		{"manifest applied again", func(j *types.Job) { j.UID, j.Status = "", types.JobStatus{} }, nil},
		{"read, modified and written back", func(j *types.Job) {
			Default(j)
			j.Spec.ActiveDeadlineSeconds = ptr(int64(600))
			j.Finalizers = []string{"example.com/keep"}
		}, nil},
		{"template changed", func(j *types.Job) { j.Spec.Template.Spec.Containers[0].Image = "perl:5.40" }, []string{"spec.template:Invalid"}},
		{"completions changed", func(j *types.Job) { j.Spec.Completions = ptr(int32(2)) }, []string{"spec.completions:Invalid"}},
	}
	for _, tt := range storedTests {
		t.Run("stored before defaulting: "+tt.name, func(t *testing.T) {
			old := stored()
			j := stored()
			tt.update(j)
			PrepareForUpdate(j, old)
			Default(j)
			expectErrors(t, ValidateUpdate(j, old), tt.want...)
			if old.Spec.Selector != nil || old.Spec.Completions != nil {
				t.Errorf("ValidateUpdate changed the stored object: %s", jsonString(old.Spec))
			}
		})
	}
}

func TestValidateJobStatusUpdate(t *testing.T) {
	now := types.Time{}
	tests := []struct {
		name   string
		status types.JobStatus
		want   []string
	}{
		{"running", types.JobStatus{StartTime: &now, Active: 2, Ready: ptr(int32(1)), Succeeded: 1, Failed: 1}, nil},
		{"complete", types.JobStatus{StartTime: &now, CompletionTime: &now, Succeeded: 3, Ready: ptr(int32(0)),
			Conditions: []types.JobCondition{{Type: types.JobSuccessCriteriaMet, Status: types.ConditionTrue}, {Type: types.JobComplete, Status: types.ConditionTrue}}}, nil},
		{"failed", types.JobStatus{StartTime: &now, Failed: 7,
			Conditions: []types.JobCondition{{Type: types.JobFailed, Status: types.ConditionTrue, Reason: types.JobReasonBackoffLimitExceeded}}}, nil},
		{"negative active", types.JobStatus{Active: -1}, []string{"status.active:Invalid"}},
		{"negative ready", types.JobStatus{Ready: ptr(int32(-1))}, []string{"status.ready:Invalid"}},
		{"negative succeeded and failed", types.JobStatus{Succeeded: -1, Failed: -1}, []string{"status.succeeded:Invalid", "status.failed:Invalid"}},
		{"condition without type", types.JobStatus{Conditions: []types.JobCondition{{Status: types.ConditionFalse}}},
			[]string{"status.conditions[0].type:Required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := validJob()
			j := types.Clone(*old)
			j.Status = tt.status
			expectErrors(t, ValidateStatusUpdate(&j, old), tt.want...)
		})
	}
}

func newCronJob() *types.CronJob {
	tmpl := validTemplate(nil)
	tmpl.Spec.RestartPolicy = types.RestartPolicyOnFailure
	return &types.CronJob{
		TypeMeta:   types.TypeMeta{Kind: "CronJob", APIVersion: "batch/v1"},
		ObjectMeta: types.ObjectMeta{Name: "report", Namespace: "default"},
		Spec: types.CronJobSpec{
			Schedule:    "*/5 * * * *",
			JobTemplate: types.JobTemplateSpec{Spec: types.JobSpec{Template: tmpl}},
		},
	}
}

func validCronJob() *types.CronJob {
	c := newCronJob()
	Default(c)
	return c
}

func TestDefaultCronJob(t *testing.T) {
	c := newCronJob()
	c.Spec.JobTemplate.Spec.Template.Spec.DNSPolicy = ""
	Default(c)
	s := c.Spec
	checkFields(t, []fieldCheck{
		{"concurrencyPolicy", s.ConcurrencyPolicy, types.AllowConcurrent},
		{"suspend", *s.Suspend, false},
		{"successfulJobsHistoryLimit", *s.SuccessfulJobsHistoryLimit, int32(3)},
		{"failedJobsHistoryLimit", *s.FailedJobsHistoryLimit, int32(1)},
		{"pod template defaulted", s.JobTemplate.Spec.Template.Spec.DNSPolicy, types.DNSClusterFirst},
		// As in Kubernetes, the job template's own fields are left to the
		// defaulting of each Job created from it.
		{"job template backoffLimit left unset", s.JobTemplate.Spec.BackoffLimit == nil, true},
		{"job template selector left unset", s.JobTemplate.Spec.Selector == nil, true},
		{"timeZone left unset", s.TimeZone == nil, true},
	})

	c = newCronJob()
	c.Spec.ConcurrencyPolicy = types.ForbidConcurrent
	c.Spec.Suspend = ptr(true)
	c.Spec.SuccessfulJobsHistoryLimit = ptr(int32(0))
	c.Spec.FailedJobsHistoryLimit = ptr(int32(0))
	Default(c)
	if s := c.Spec; s.ConcurrencyPolicy != types.ForbidConcurrent || !*s.Suspend || *s.SuccessfulJobsHistoryLimit != 0 || *s.FailedJobsHistoryLimit != 0 {
		t.Errorf("overrode set values: %s", jsonString(s))
	}
}

func TestValidateCronJob(t *testing.T) {
	tests := []struct {
		name   string
		modify func(c *types.CronJob)
		want   []string
	}{
		{"valid", func(c *types.CronJob) {}, nil},
		{"descriptor", func(c *types.CronJob) { c.Spec.Schedule = "@hourly" }, nil},
		{"ranges and names", func(c *types.CronJob) { c.Spec.Schedule = "0 9-17/2 * JAN-JUN MON-FRI" }, nil},
		{"no schedule", func(c *types.CronJob) { c.Spec.Schedule = "" }, []string{"spec.schedule:Required"}},
		{"bad schedule", func(c *types.CronJob) { c.Spec.Schedule = "every 5 minutes" }, []string{"spec.schedule:Invalid"}},
		{"six fields", func(c *types.CronJob) { c.Spec.Schedule = "0 */5 * * * *" }, []string{"spec.schedule:Invalid"}},
		{"minute out of range", func(c *types.CronJob) { c.Spec.Schedule = "61 * * * *" }, []string{"spec.schedule:Invalid"}},
		{"TZ in schedule", func(c *types.CronJob) { c.Spec.Schedule = "CRON_TZ=UTC 0 * * * *" }, []string{"spec.schedule:Invalid"}},
		{"time zone", func(c *types.CronJob) { c.Spec.TimeZone = ptr("America/New_York") }, nil},
		{"time zone Etc/UTC", func(c *types.CronJob) { c.Spec.TimeZone = ptr("Etc/UTC") }, nil},
		{"unknown time zone", func(c *types.CronJob) { c.Spec.TimeZone = ptr("Mars/Olympus_Mons") }, []string{"spec.timeZone:Invalid"}},
		{"Local time zone", func(c *types.CronJob) { c.Spec.TimeZone = ptr("Local") }, []string{"spec.timeZone:Invalid"}},
		{"empty time zone", func(c *types.CronJob) { c.Spec.TimeZone = ptr("") }, []string{"spec.timeZone:Invalid"}},
		{"time zone path", func(c *types.CronJob) { c.Spec.TimeZone = ptr("../../etc/passwd") }, []string{"spec.timeZone:Invalid"}},
		{"name of 52 characters", func(c *types.CronJob) { c.Name = strings.Repeat("c", 52) }, nil},
		{"name over 52 characters", func(c *types.CronJob) { c.Name = strings.Repeat("c", 53) }, []string{"metadata.name:Invalid"}},
		{"unknown concurrencyPolicy", func(c *types.CronJob) { c.Spec.ConcurrencyPolicy = "Queue" }, []string{"spec.concurrencyPolicy:NotSupported"}},
		{"negative startingDeadlineSeconds", func(c *types.CronJob) { c.Spec.StartingDeadlineSeconds = ptr(int64(-1)) },
			[]string{"spec.startingDeadlineSeconds:Invalid"}},
		{"negative history limits", func(c *types.CronJob) {
			c.Spec.SuccessfulJobsHistoryLimit = ptr(int32(-1))
			c.Spec.FailedJobsHistoryLimit = ptr(int32(-1))
		}, []string{"spec.successfulJobsHistoryLimit:Invalid", "spec.failedJobsHistoryLimit:Invalid"}},
		{"job template with a selector", func(c *types.CronJob) {
			c.Spec.JobTemplate.Spec.Selector = &types.LabelSelector{MatchLabels: map[string]string{"app": "report"}}
		}, []string{"spec.jobTemplate.spec.selector:Invalid"}},
		{"job template with manualSelector", func(c *types.CronJob) { c.Spec.JobTemplate.Spec.ManualSelector = ptr(true) },
			[]string{"spec.jobTemplate.spec.manualSelector:NotSupported"}},
		{"job template restartPolicy Always", func(c *types.CronJob) {
			c.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy = types.RestartPolicyAlways
		}, []string{"spec.jobTemplate.spec.template.spec.restartPolicy:NotSupported"}},
		{"job template Indexed without completions", func(c *types.CronJob) {
			c.Spec.JobTemplate.Spec.CompletionMode = ptr(types.IndexedCompletion)
		}, []string{"spec.jobTemplate.spec.completions:Required"}},
		{"job template negative parallelism", func(c *types.CronJob) { c.Spec.JobTemplate.Spec.Parallelism = ptr(int32(-2)) },
			[]string{"spec.jobTemplate.spec.parallelism:Invalid"}},
		{"job template bad label", func(c *types.CronJob) { c.Spec.JobTemplate.Labels = map[string]string{"bad key!": "x"} },
			[]string{"spec.jobTemplate.metadata.labels:Invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validCronJob()
			tt.modify(c)
			expectErrors(t, Validate(c), tt.want...)
		})
	}

	t.Run("bad schedule message shows the format", func(t *testing.T) {
		c := validCronJob()
		c.Spec.Schedule = "5 minutes"
		errs := Validate(c)
		if len(errs) != 1 || !strings.Contains(errs[0].Detail, "minute hour day-of-month month day-of-week") || !strings.Contains(errs[0].Detail, "*/5 * * * *") {
			t.Errorf("errors = %v, want the schedule format explained", errs)
		}
	})
	t.Run("unknown time zone message names it", func(t *testing.T) {
		c := validCronJob()
		c.Spec.TimeZone = ptr("Europe/Atlantis")
		errs := Validate(c)
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), "Europe/Atlantis") {
			t.Errorf("errors = %v, want the time zone named", errs)
		}
	})
}

func TestValidateCronJobUpdate(t *testing.T) {
	old := validCronJob()
	c := types.Clone(*old)
	c.Spec.Schedule = "0 3 * * *"
	c.Spec.TimeZone = ptr("Asia/Tokyo")
	c.Spec.Suspend = ptr(true)
	c.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image = "report:2"
	c.Spec.JobTemplate.Spec.BackoffLimit = ptr(int32(2))
	expectErrors(t, ValidateUpdate(&c, old))

	c.Spec.Schedule = "0 3 * *"
	expectErrors(t, ValidateUpdate(&c, old), "spec.schedule:Invalid")

	// The status subresource: the controller's writes are accepted.
	s := types.Clone(*old)
	s.Status = types.CronJobStatus{Active: []types.ObjectReference{{Kind: "Job", Namespace: "default", Name: "report-29390400", UID: "u1"}},
		LastScheduleTime: &types.Time{}, LastSuccessfulTime: &types.Time{}}
	expectErrors(t, ValidateStatusUpdate(&s, old))
}
