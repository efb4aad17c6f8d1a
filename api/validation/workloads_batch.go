package validation

import (
	"fmt"
	"maps"
	"regexp"
	"strings"
	"time"
	// The time zone database is embedded so that a CronJob's timeZone is
	// checked (and later used by the CronJob controller in the same binary)
	// the same way on a machine without /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/api/validation/names"
)

// This file holds the batch/v1 kinds' rules (Kubernetes'
// pkg/apis/batch/v1/defaults.go, pkg/registry/batch/job/strategy.go's
// generated selector, and pkg/apis/batch/validation).

// The labels Kubernetes' API server puts on a Job's template when it
// generates the Job's selector. They are the same labels the Job
// controller (jobs/job) puts on the Pods it creates and selects by.
const (
	jobControllerUIDLabel       = "batch.kubernetes.io/controller-uid"
	jobNameLabel                = "batch.kubernetes.io/job-name"
	legacyJobControllerUIDLabel = "controller-uid"
	legacyJobNameLabel          = "job-name"
)

// Limits of Indexed Jobs, as in Kubernetes.
const maxParallelismForIndexedJob = 100000

// maxCronJobNameLength leaves room for the 11 characters the CronJob
// controller appends to name a Job ("-" and the scheduled time).
const maxCronJobNameLength = 52

var (
	completionModes     = []types.CompletionMode{types.NonIndexedCompletion, types.IndexedCompletion}
	jobRestartPolicies  = []types.RestartPolicy{types.RestartPolicyOnFailure, types.RestartPolicyNever}
	concurrencyPolicies = []types.ConcurrencyPolicy{types.AllowConcurrent, types.ForbidConcurrent, types.ReplaceConcurrent}
	// validTimeZonePart is Kubernetes' rule for one part of an IANA name.
	validTimeZonePart = regexp.MustCompile(`^[A-Za-z\.\-_0-9+]{1,14}$`)
)

// defaultJob fills what Kubernetes' batch/v1 defaulting does: completions
// and parallelism 1 when both are unset (parallelism 1 when only it is
// unset; completions stays unset then: the Job is done when one Pod
// succeeds), backoffLimit 6, completionMode NonIndexed, suspend false, and
// the Pod template's defaults. Unless spec.manualSelector is true, it then
// generates the selector as Kubernetes' API server does on create: the
// template gets the controller-uid and job-name labels (both the
// batch.kubernetes.io/ and the legacy keys) and the selector matches the
// batch.kubernetes.io/controller-uid label. It needs metadata.uid set (the
// server sets it before defaulting; PrepareForUpdate keeps it on update so
// the result is the same). Last, a Job without labels gets its template's:
// Kubernetes copies them when it reads the Job back from storage, after
// the selector was generated, so a Job shows the job-name and
// controller-uid labels too.
func defaultJob(j *types.Job) {
	s := &j.Spec
	if s.Completions == nil && s.Parallelism == nil {
		s.Completions = ptr(int32(1))
		s.Parallelism = ptr(int32(1))
	}
	if s.Parallelism == nil {
		s.Parallelism = ptr(int32(1))
	}
	if s.BackoffLimit == nil {
		s.BackoffLimit = ptr(int32(6))
	}
	if s.CompletionMode == nil {
		s.CompletionMode = ptr(types.NonIndexedCompletion)
	}
	if s.Suspend == nil {
		s.Suspend = ptr(false)
	}
	defaultPodSpec(&s.Template.Spec)
	if !boolValue(s.ManualSelector) {
		generateJobSelector(j)
	}
	if len(j.Labels) == 0 && s.Template.Labels != nil {
		j.Labels = maps.Clone(s.Template.Labels)
	}
}

// generateJobSelector adds the controller-uid and job-name labels to the
// template (keeping values the user set: validation reports a conflict)
// and the controller-uid label to the selector.
func generateJobSelector(j *types.Job) {
	t := &j.Spec.Template
	if t.Labels == nil {
		t.Labels = map[string]string{}
	}
	for k, v := range map[string]string{
		legacyJobNameLabel: j.Name, jobNameLabel: j.Name,
		legacyJobControllerUIDLabel: j.UID, jobControllerUIDLabel: j.UID,
	} {
		if _, ok := t.Labels[k]; !ok {
			t.Labels[k] = v
		}
	}
	if j.Spec.Selector == nil {
		j.Spec.Selector = &types.LabelSelector{}
	}
	if j.Spec.Selector.MatchLabels == nil {
		j.Spec.Selector.MatchLabels = map[string]string{}
	}
	if _, ok := j.Spec.Selector.MatchLabels[jobControllerUIDLabel]; !ok {
		j.Spec.Selector.MatchLabels[jobControllerUIDLabel] = j.UID
	}
}

// defaultCronJob fills concurrencyPolicy Allow, suspend false,
// successfulJobsHistoryLimit 3, failedJobsHistoryLimit 1 and the defaults
// of the job template's Pod template. The job template's own fields are
// not defaulted (as in Kubernetes): each Job gets them when it is created.
func defaultCronJob(c *types.CronJob) {
	s := &c.Spec
	if s.ConcurrencyPolicy == "" {
		s.ConcurrencyPolicy = types.AllowConcurrent
	}
	if s.Suspend == nil {
		s.Suspend = ptr(false)
	}
	if s.SuccessfulJobsHistoryLimit == nil {
		s.SuccessfulJobsHistoryLimit = ptr(int32(3))
	}
	if s.FailedJobsHistoryLimit == nil {
		s.FailedJobsHistoryLimit = ptr(int32(1))
	}
	defaultPodSpec(&s.JobTemplate.Spec.Template.Spec)
}

func validateJob(j *types.Job) ErrorList {
	errs := validateGeneratedSelector(j)
	errs = append(errs, validateJobSpec(&j.Spec, specPath)...)
	s := &j.Spec
	if m := s.CompletionMode; m != nil && *m == types.IndexedCompletion && s.Completions != nil && *s.Completions > 0 {
		// The Job controller names an Indexed Job's Pods' hostnames
		// <job name>-<index>.
		host := fmt.Sprintf("%s-%d", j.Name, *s.Completions-1)
		if len(names.IsDNS1123Label(host)) > 0 {
			errs = append(errs, Invalid(metadataPath.Child("name"), j.Name, fmt.Sprintf("will not be able to create pods: the hostname of the last index, %q, is not a valid DNS-1123 label (at most 63 lower case alphanumeric characters or '-')", host)))
		}
	}
	sp := specPath.Child("selector")
	if s.Selector == nil {
		return append(errs, Required(sp, ""))
	}
	errs = append(errs, validateLabelSelector(s.Selector, sp)...)
	// Whether set by hand or generated, the selector must match the Pods
	// the Job creates.
	if sel, ok := selectorFor(s.Selector); ok && !sel.Matches(s.Template.Labels) {
		errs = append(errs, Invalid(templatePath.Child("metadata", "labels"), s.Template.Labels, "`selector` does not match template `labels`"))
	}
	return errs
}

// validateGeneratedSelector checks, unless manualSelector is true, that
// the template carries the generated labels with the Job's UID and name,
// and that the selector is the generated one (selects those labels): a
// selector chosen by hand could select another Job's Pods.
func validateGeneratedSelector(j *types.Job) ErrorList {
	if boolValue(j.Spec.ManualSelector) {
		return nil
	}
	lp := templatePath.Child("metadata", "labels")
	if j.Spec.Template.Labels == nil {
		return ErrorList{Required(lp, "")}
	}
	var errs ErrorList
	for _, l := range []struct{ key, want string }{
		{legacyJobControllerUIDLabel, j.UID}, {jobControllerUIDLabel, j.UID},
		{legacyJobNameLabel, j.Name}, {jobNameLabel, j.Name},
	} {
		got, ok := j.Spec.Template.Labels[l.key]
		switch {
		case !ok:
			errs = append(errs, Required(lp.Key(l.key), l.want))
		case got != l.want:
			errs = append(errs, Invalid(lp.Key(l.key), got, fmt.Sprintf("must be '%s' (set spec.manualSelector to true to choose the selector and labels yourself)", l.want)))
		}
	}
	generated := map[string]string{
		legacyJobControllerUIDLabel: j.UID, jobControllerUIDLabel: j.UID,
		legacyJobNameLabel: j.Name, jobNameLabel: j.Name,
	}
	if sel, ok := selectorFor(j.Spec.Selector); j.Spec.Selector != nil && ok && !sel.Matches(generated) {
		errs = append(errs, Invalid(specPath.Child("selector"), j.Spec.Selector, "`selector` not auto-generated (leave it out, or set spec.manualSelector to true to choose it yourself)"))
	}
	return errs
}

// validateJobSpec checks a JobSpec, of a Job or a CronJob's job template
// (the selector is checked by the caller).
func validateJobSpec(s *types.JobSpec, p Path) ErrorList {
	var errs ErrorList
	for _, f := range []struct {
		name string
		v    *int32
	}{{"parallelism", s.Parallelism}, {"completions", s.Completions}, {"backoffLimit", s.BackoffLimit}, {"ttlSecondsAfterFinished", s.TTLSecondsAfterFinished}} {
		if f.v != nil {
			errs = append(errs, nonNegative(int64(*f.v), p.Child(f.name))...)
		}
	}
	// Kubernetes allows 0 here (the Job fails at once); Pods ask for 1 or more.
	if s.ActiveDeadlineSeconds != nil {
		errs = append(errs, nonNegative(*s.ActiveDeadlineSeconds, p.Child("activeDeadlineSeconds"))...)
	}
	if m := s.CompletionMode; m != nil {
		errs = append(errs, validateEnum(*m, completionModes, p.Child("completionMode"))...)
		if *m == types.IndexedCompletion {
			if s.Completions == nil {
				errs = append(errs, Required(p.Child("completions"), "when completion mode is Indexed"))
			}
			if s.Parallelism != nil && *s.Parallelism > maxParallelismForIndexedJob {
				errs = append(errs, Invalid(p.Child("parallelism"), *s.Parallelism, fmt.Sprintf("must be less than or equal to %d when completion mode is Indexed", maxParallelismForIndexedJob)))
			}
		}
	}
	tp := p.Child("template")
	errs = append(errs, validatePodTemplate(&s.Template, tp)...)
	if rp := s.Template.Spec.RestartPolicy; rp != types.RestartPolicyOnFailure && rp != types.RestartPolicyNever {
		detail := NotSupported(tp.Child("spec", "restartPolicy"), rp, jobRestartPolicies)
		if rp == types.RestartPolicyAlways {
			detail.Detail += " (a Job's Pods must end: set restartPolicy OnFailure or Never)"
		}
		errs = append(errs, detail)
	}
	return errs
}

// validateJobUpdate checks the immutable fields of a Job: selector,
// completionMode, completions (except an Indexed Job's, changed together
// with parallelism) and the template (except, while the Job is suspended
// and has never started, its labels, annotations, nodeSelector, node
// affinity and tolerations).
func validateJobUpdate(j, old *types.Job) ErrorList {
	// old was defaulted by the caller: a Job stored before the server
	// generated selectors gets the one generating gives now (the UID and
	// name are unchanged).
	var errs ErrorList
	if !jsonEqual(j.Spec.Selector, old.Spec.Selector) {
		errs = append(errs, immutable(specPath.Child("selector"), j.Spec.Selector))
	}
	if !jsonEqual(j.Spec.CompletionMode, old.Spec.CompletionMode) {
		errs = append(errs, immutable(specPath.Child("completionMode"), j.Spec.CompletionMode))
	}
	if !jsonEqual(j.Spec.Completions, old.Spec.Completions) {
		indexed := j.Spec.CompletionMode != nil && *j.Spec.CompletionMode == types.IndexedCompletion
		switch {
		case !indexed:
			errs = append(errs, immutable(specPath.Child("completions"), j.Spec.Completions))
		case j.Spec.Completions == nil:
			// Reported by validateJobSpec.
		case j.Spec.Parallelism == nil || *j.Spec.Completions != *j.Spec.Parallelism:
			errs = append(errs, Invalid(specPath.Child("completions"), *j.Spec.Completions, "can only be modified in tandem with spec.parallelism"))
		}
	}
	oldTemplate := old.Spec.Template
	if boolValue(old.Spec.Suspend) && old.Status.StartTime == nil {
		oldTemplate = types.Clone(oldTemplate)
		t := &j.Spec.Template
		oldTemplate.Labels, oldTemplate.Annotations = t.Labels, t.Annotations
		oldTemplate.Spec.NodeSelector, oldTemplate.Spec.Tolerations = t.Spec.NodeSelector, t.Spec.Tolerations
		oldTemplate.Spec.Affinity = withNodeAffinityOf(oldTemplate.Spec.Affinity, t.Spec.Affinity)
	}
	if changed := changedPaths(j.Spec.Template, oldTemplate, templatePath.String(), 5); len(changed) > 0 {
		errs = append(errs, Invalid(templatePath, nil, "field is immutable; changed: "+strings.Join(changed, ", ")))
	}
	return errs
}

// withNodeAffinityOf returns old (a copy the caller owns) with cur's node
// affinity: the part of a suspended Job's affinity that may change (Pod
// affinity and anti-affinity may not, as in Kubernetes).
func withNodeAffinityOf(old, cur *types.Affinity) *types.Affinity {
	var a types.Affinity
	if old != nil {
		a = *old
	}
	a.NodeAffinity = nil
	if cur != nil {
		a.NodeAffinity = cur.NodeAffinity
	}
	if cur == nil && a.PodAffinity == nil && a.PodAntiAffinity == nil {
		return nil
	}
	return &a
}

// validateCronJob checks a CronJob. Kubernetes keeps accepting a TZ= in
// the schedule of a CronJob stored before the timeZone field existed;
// Wharf has no such CronJobs, so TZ= is always refused.
func validateCronJob(c *types.CronJob) ErrorList {
	var errs ErrorList
	if len(c.Name) > maxCronJobNameLength {
		errs = append(errs, Invalid(metadataPath.Child("name"), c.Name, fmt.Sprintf("must be no more than %d characters", maxCronJobNameLength)))
	}
	s := &c.Spec
	if s.Schedule == "" {
		errs = append(errs, Required(specPath.Child("schedule"), ""))
	} else {
		errs = append(errs, validateSchedule(s.Schedule, specPath.Child("schedule"))...)
	}
	if s.StartingDeadlineSeconds != nil {
		errs = append(errs, nonNegative(*s.StartingDeadlineSeconds, specPath.Child("startingDeadlineSeconds"))...)
	}
	errs = append(errs, validateTimeZone(s.TimeZone, specPath.Child("timeZone"))...)
	errs = append(errs, validateEnum(s.ConcurrencyPolicy, concurrencyPolicies, specPath.Child("concurrencyPolicy"))...)
	jp := specPath.Child("jobTemplate")
	errs = append(errs, validateLabels(s.JobTemplate.Labels, jp.Child("metadata", "labels"))...)
	errs = append(errs, validateAnnotations(s.JobTemplate.Annotations, jp.Child("metadata", "annotations"))...)
	errs = append(errs, validateJobSpec(&s.JobTemplate.Spec, jp.Child("spec"))...)
	if s.JobTemplate.Spec.Selector != nil {
		errs = append(errs, Invalid(jp.Child("spec", "selector"), s.JobTemplate.Spec.Selector, "`selector` will be auto-generated"))
	}
	if boolValue(s.JobTemplate.Spec.ManualSelector) {
		errs = append(errs, NotSupported(jp.Child("spec", "manualSelector"), true, []string{"nil", "false"}))
	}
	if s.SuccessfulJobsHistoryLimit != nil {
		errs = append(errs, nonNegative(int64(*s.SuccessfulJobsHistoryLimit), specPath.Child("successfulJobsHistoryLimit"))...)
	}
	if s.FailedJobsHistoryLimit != nil {
		errs = append(errs, nonNegative(int64(*s.FailedJobsHistoryLimit), specPath.Child("failedJobsHistoryLimit"))...)
	}
	return errs
}

// validateSchedule parses a schedule as the CronJob controller does: five
// fields (minute hour day-of-month month day-of-week) or a descriptor
// (@yearly, @monthly, @weekly, @daily, @hourly, @every DURATION).
func validateSchedule(schedule string, p Path) ErrorList {
	var errs ErrorList
	if _, err := cron.ParseStandard(schedule); err != nil {
		errs = append(errs, Invalid(p, schedule, err.Error()+` (want five fields "minute hour day-of-month month day-of-week", e.g. "*/5 * * * *", or a descriptor such as @hourly)`))
	}
	if strings.Contains(schedule, "TZ") {
		errs = append(errs, Invalid(p, schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
	}
	return errs
}

// validateTimeZone checks an IANA time zone name (not "Local") that the
// embedded time zone database knows.
func validateTimeZone(tz *string, p Path) ErrorList {
	if tz == nil {
		return nil
	}
	if *tz == "" {
		return ErrorList{Invalid(p, *tz, "timeZone must be nil or non-empty string")}
	}
	for _, part := range strings.Split(*tz, "/") {
		if part == "." || part == ".." || strings.HasPrefix(part, "-") || !validTimeZonePart.MatchString(part) {
			return ErrorList{Invalid(p, *tz, "unknown time zone "+*tz)}
		}
	}
	if strings.EqualFold(*tz, "Local") {
		return ErrorList{Invalid(p, *tz, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")}
	}
	if _, err := time.LoadLocation(*tz); err != nil {
		return ErrorList{Invalid(p, *tz, err.Error())}
	}
	return nil
}
