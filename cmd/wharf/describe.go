package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

func newDescribeCmd(a *app) *cobra.Command {
	var selector string
	var files fileOptions
	cmd := &cobra.Command{
		Use:   "describe KIND [NAME...] | KIND/NAME... | -f FILE",
		Short: "Show an object in detail, with its conditions and events",
		Example: `  # Describe a pod: containers, state, conditions and recent events
  wharf describe pod web

  # Describe a deployment in another namespace
  wharf describe deployment/web -n shop

  # Describe every job with a label (every job without -l)
  wharf describe jobs -l team=data

  # Describe the objects of manifests
  wharf describe -f examples/deployment.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDescribe(cmd.Context(), a, args, selector, &files)
		},
	}
	cmd.Flags().StringVarP(&selector, "selector", "l", "", "describe the objects matching this label selector")
	files.addOptionalFlags(cmd)
	return cmd
}

func runDescribe(ctx context.Context, a *app, args []string, selector string, files *fileOptions) error {
	targets, err := targetsOf(a, args, files)
	if err != nil {
		return err
	}
	c, err := a.Client()
	if err != nil {
		return err
	}
	failed, first := false, true
	for _, t := range targets {
		rc := c.Resource(t.res).Namespace(a.namespace)
		if len(t.names) > 0 && selector != "" {
			return fmt.Errorf("give object names or -l, not both")
		}
		var objs []types.Object
		if len(t.names) == 0 {
			// As kubectl: no name describes them all.
			l, err := rc.List(ctx, sdk.ListOptions{LabelSelector: selector})
			if err != nil {
				return err
			}
			if len(l.Items) == 0 && len(targets) == 1 {
				noResources(a, t.res, a.namespace)
			}
			objs = l.Items
		}
		named, found, err := getNamed(ctx, a, rc, t.names)
		if err != nil {
			return err
		}
		failed = failed || !found
		objs = append(objs, named...)
		for _, obj := range objs {
			name := obj.GetObjectMeta().Name
			if !first {
				fmt.Fprint(a.out, "\n\n") // as kubectl: two blank lines between objects
			}
			first = false
			events, err := objectEvents(ctx, c, obj)
			if err != nil {
				// The object is shown anyway; say why the events are missing.
				events = nil
				fmt.Fprintf(a.errOut, "warning: events of %s: %s\n", objectName(t.res, name), oneLine(err.Error()))
			}
			if err := describe(a.out, obj, events, time.Now()); err != nil {
				return err
			}
		}
	}
	if failed {
		return errAlreadyReported{}
	}
	return nil
}

// objectEvents lists the events about obj (fieldSelector
// involvedObject.uid), oldest first.
func objectEvents(ctx context.Context, c *sdk.Client, obj types.Object) ([]*types.Event, error) {
	m := obj.GetObjectMeta()
	if m.UID == "" {
		return nil, nil // not stored (metrics): no events are about it
	}
	l, err := sdk.Typed[*types.Event](c).Namespace(m.Namespace).List(ctx, sdk.ListOptions{
		FieldSelector: "involvedObject.uid=" + m.UID,
	})
	if err != nil {
		return nil, err
	}
	evs := l.Items
	sort.SliceStable(evs, func(i, j int) bool { return eventTime(evs[i]).Before(eventTime(evs[j])) })
	return evs, nil
}

// eventTime is when the event last happened.
func eventTime(e *types.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.FirstTimestamp.Time
}

// obj is a generic view of an object's JSON, for the kind-specific parts
// of describe: every kind, without per-kind Go code paths into the types.
type obj map[string]any

func (o obj) get(path ...string) any {
	var cur any = map[string]any(o)
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func (o obj) str(path ...string) string {
	switch v := o.get(path...).(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return formatCell(v)
	}
}

func (o obj) list(path ...string) []obj {
	l, _ := o.get(path...).([]any)
	out := make([]obj, 0, len(l))
	for _, e := range l {
		if m, ok := e.(map[string]any); ok {
			out = append(out, obj(m))
		}
	}
	return out
}

func (o obj) sub(path ...string) obj {
	m, _ := o.get(path...).(map[string]any)
	return obj(m)
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// describer writes "Field:\tvalue" lines at indentation levels, aligned by
// a tab writer.
type describer struct {
	w *tabwriter.Writer
}

func (d *describer) line(level int, format string, args ...any) {
	fmt.Fprintf(d.w, strings.Repeat("  ", level)+format+"\n", args...)
}

// mapLines prints a map as "k=v" lines (labels) under a field.
func (d *describer) mapLines(level int, field string, m map[string]string, sep string) {
	if len(m) == 0 {
		d.line(level, "%s:\t<none>", field)
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		label := field + ":"
		if i > 0 {
			label = ""
		}
		d.line(level, "%s\t%s%s%s", label, k, sep, m[k])
	}
}

// metaMaps prints the labels and annotations, as kubectl: without the
// last-applied-configuration annotation (long, and shown by get -o yaml).
func (d *describer) metaMaps(m *types.ObjectMeta) {
	d.mapLines(0, "Labels", m.Labels, "=")
	annotations := make(map[string]string, len(m.Annotations))
	for k, val := range m.Annotations {
		if k != lastAppliedAnnotation {
			annotations[k] = val
		}
	}
	d.mapLines(0, "Annotations", annotations, ": ")
}

// genericDescribed are the kinds kubectl has no describer of its own for:
// it prints them with its generic describer, and so does describe.
var genericDescribed = map[string]bool{"RuntimeClass": true, "PodMetrics": true, "NodeMetrics": true}

// describeGeneric prints an object as kubectl's generic describer does:
// the name, namespace, labels and annotations, then every other field
// of the object, sorted, with labels made of the field names.
func describeGeneric(d *describer, o types.Object) error {
	b, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("describe: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // numbers print as the server sent them
	var content map[string]any
	if err := dec.Decode(&content); err != nil {
		return fmt.Errorf("describe: %w", err)
	}
	m := o.GetObjectMeta()
	d.line(0, "Name:\t%s", m.Name)
	d.line(0, "Namespace:\t%s", m.Namespace)
	d.metaMaps(m)
	d.unstructured(0, content, "", map[string]bool{".metadata.managedFields": true, ".metadata.name": true,
		".metadata.namespace": true, ".metadata.labels": true, ".metadata.annotations": true})
	return nil
}

// unstructured prints the fields of content, sorted, nested maps and
// lists indented below their label (kubectl's printUnstructuredContent).
func (d *describer) unstructured(level int, content map[string]any, prefix string, skip map[string]bool) {
	fields := make([]string, 0, len(content))
	for f := range content {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		path := prefix + "." + f
		if skip[path] {
			continue
		}
		switch v := content[f].(type) {
		case map[string]any:
			d.line(level, "%s:", smartLabel(f))
			d.unstructured(level+1, v, path, skip)
		case []any:
			d.line(level, "%s:", smartLabel(f))
			for _, e := range v {
				if m, ok := e.(map[string]any); ok {
					d.unstructured(level+1, m, path, skip)
				} else {
					d.line(level+1, "%v", e)
				}
			}
		default:
			d.line(level, "%s:\t%v", smartLabel(f), v)
		}
	}
}

// smartLabel makes a label of a field name as kubectl does:
// "podFixed" is "Pod Fixed", "apiVersion" is "API Version"; a name with
// anything but letters and '-' stays as it is. kubectl splits words with
// github.com/fatih/camelcase, not a dependency here: for letters and '-'
// its rule is short (a new word at each change between lower case, upper
// case and other, and an upper-case run gives its last letter to a
// following lower-case word), so it is written out.
func smartLabel(field string) string {
	if strings.IndexFunc(field, func(r rune) bool { return !unicode.IsLetter(r) && r != '-' }) >= 0 {
		return field
	}
	class := func(r rune) int {
		switch {
		case unicode.IsLower(r):
			return 1
		case unicode.IsUpper(r):
			return 2
		}
		return 3
	}
	var runs [][]rune
	last := 0
	for _, r := range field {
		if c := class(r); c == last {
			runs[len(runs)-1] = append(runs[len(runs)-1], r)
		} else {
			runs = append(runs, []rune{r})
			last = c
		}
	}
	for i := 0; i+1 < len(runs); i++ {
		if class(runs[i][0]) == 2 && class(runs[i+1][0]) == 1 {
			n := len(runs[i]) - 1
			runs[i+1] = append([]rune{runs[i][n]}, runs[i+1]...)
			runs[i] = runs[i][:n]
		}
	}
	words := make([]string, 0, len(runs))
	for _, r := range runs {
		if len(r) == 0 {
			continue // an upper-case letter that went to the next word
		}
		w := string(r)
		switch up := strings.ToUpper(w); up {
		case "API", "URL", "UID", "OSB", "GUID":
			w = up
		default:
			w = strings.ToUpper(w[:1]) + w[1:]
		}
		words = append(words, w)
	}
	return strings.Join(words, " ")
}

// describe writes obj as kubectl describe does: metadata, a summary of the
// kind, conditions, events.
func describe(w io.Writer, o types.Object, events []*types.Event, now time.Time) error {
	b, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("describe: %w", err)
	}
	var v obj
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("describe: %w", err)
	}
	m := o.GetObjectMeta()
	d := &describer{w: tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)}
	if genericDescribed[o.GetTypeMeta().Kind] {
		if err := describeGeneric(d, o); err != nil {
			return err
		}
		describeEvents(d, events, now)
		return d.w.Flush()
	}
	d.line(0, "Name:\t%s", m.Name)
	if m.Namespace != "" {
		d.line(0, "Namespace:\t%s", m.Namespace)
	}
	d.metaMaps(m)
	d.line(0, "CreationTimestamp:\t%s", m.CreationTimestamp.Format(time.RFC1123Z))
	if m.DeletionTimestamp != nil {
		d.line(0, "Terminating:\tsince %s", m.DeletionTimestamp.Format(time.RFC1123Z))
	}
	if ref := types.GetControllerOf(o); ref != nil {
		d.line(0, "Controlled By:\t%s/%s", ref.Kind, ref.Name)
	}
	switch o.GetTypeMeta().Kind {
	case "Pod":
		describePod(d, v)
	case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet":
		describeWorkload(d, v)
	case "Job":
		describeJob(d, v)
	case "CronJob":
		describeCronJob(d, v)
	case "Service":
		describeService(d, v)
	case "Node":
		describeNode(d, v)
	case "ConfigMap", "Secret":
		describeData(d, v)
	case "Namespace":
		d.line(0, "Status:\t%s", v.str("status", "phase"))
	case "HorizontalPodAutoscaler":
		describeHPA(d, v)
	default:
		if err := describeSpec(d, v); err != nil {
			return err
		}
	}
	describeConditions(d, v)
	describeEvents(d, events, now)
	return d.w.Flush()
}

func describePod(d *describer, v obj) {
	d.line(0, "Node:\t%s", orNone(v.str("spec", "nodeName")))
	if rc := v.str("spec", "runtimeClassName"); rc != "" {
		d.line(0, "Runtime Class Name:\t%s", rc)
	}
	if t := v.str("status", "startTime"); t != "" {
		d.line(0, "Start Time:\t%s", stamp(t))
	}
	d.line(0, "Status:\t%s", orNone(v.str("status", "phase")))
	if r := v.str("status", "reason"); r != "" {
		d.line(0, "Reason:\t%s", r)
	}
	if msg := v.str("status", "message"); msg != "" {
		d.line(0, "Message:\t%s", msg)
	}
	d.line(0, "IP:\t%s", v.str("status", "podIP"))
	statuses := map[string]obj{}
	for _, cs := range v.list("status", "containerStatuses") {
		statuses[cs.str("name")] = cs
	}
	for _, cs := range v.list("status", "initContainerStatuses") {
		statuses[cs.str("name")] = cs
	}
	describeContainers(d, 0, "Init Containers", v.list("spec", "initContainers"), statuses)
	describeContainers(d, 0, "Containers", v.list("spec", "containers"), statuses)
	if vols := v.list("spec", "volumes"); len(vols) > 0 {
		d.line(0, "Volumes:")
		for _, vol := range vols {
			kind := ""
			for k := range vol {
				if k != "name" {
					kind = k
				}
			}
			d.line(1, "%s:\t%s", vol.str("name"), kind)
		}
	}
}

func describeContainers(d *describer, base int, title string, cs []obj, statuses map[string]obj) {
	if len(cs) == 0 {
		return
	}
	d.line(base, "%s:", title)
	for _, c := range cs {
		name := c.str("name")
		d.line(base+1, "%s:", name)
		d.line(base+2, "Image:\t%s", c.str("image"))
		var ports []string
		for _, p := range c.list("ports") {
			proto := p.str("protocol")
			if proto == "" {
				proto = "TCP"
			}
			ports = append(ports, p.str("containerPort")+"/"+proto)
		}
		if len(ports) > 0 {
			d.line(base+2, "Port:\t%s", strings.Join(ports, ", "))
		}
		for _, f := range []struct{ label, field string }{{"Command", "command"}, {"Args", "args"}} {
			words, _ := c.get(f.field).([]any)
			if len(words) == 0 {
				continue
			}
			d.line(base+2, "%s:", f.label) // one word per line, as kubectl
			for _, w := range words {
				d.line(base+3, "%s", fmt.Sprint(w))
			}
		}
		if st, ok := statuses[name]; ok {
			describeState(d, "State", st.sub("state"))
			if last := st.sub("lastState"); len(last) > 0 {
				describeState(d, "Last State", last)
			}
			d.line(base+2, "Ready:\t%s", orFalse(st.str("ready")))
			d.line(base+2, "Restart Count:\t%s", orZero(st.str("restartCount")))
		}
		for _, kind := range []string{"limits", "requests"} {
			if r := c.sub("resources", kind); len(r) > 0 {
				d.line(base+2, "%s:", strings.ToUpper(kind[:1])+kind[1:])
				for _, k := range sortedMapKeys(r) {
					d.line(base+3, "%s:\t%s", k, r.str(k))
				}
			}
		}
		if env := c.list("env"); len(env) > 0 {
			d.line(base+2, "Environment:")
			for _, e := range env {
				val := e.str("value")
				if e.get("valueFrom") != nil {
					val = "<set from " + strings.Join(sortedMapKeys(e.sub("valueFrom")), ",") + ">"
				}
				d.line(base+3, "%s:\t%s", e.str("name"), val)
			}
		}
	}
}

func describeState(d *describer, label string, st obj) {
	switch {
	case st.get("running") != nil:
		d.line(2, "%s:\tRunning", label)
		d.line(3, "Started:\t%s", stamp(st.str("running", "startedAt")))
	case st.get("terminated") != nil:
		t := st.sub("terminated")
		d.line(2, "%s:\tTerminated", label)
		d.line(3, "Reason:\t%s", t.str("reason"))
		if msg := t.str("message"); msg != "" {
			d.line(3, "Message:\t%s", msg)
		}
		d.line(3, "Exit Code:\t%s", orZero(t.str("exitCode")))
		if at := t.str("startedAt"); at != "" {
			d.line(3, "Started:\t%s", stamp(at))
		}
		if at := t.str("finishedAt"); at != "" {
			d.line(3, "Finished:\t%s", stamp(at))
		}
	case st.get("waiting") != nil:
		d.line(2, "%s:\tWaiting", label)
		d.line(3, "Reason:\t%s", st.str("waiting", "reason"))
		if msg := st.str("waiting", "message"); msg != "" {
			d.line(3, "Message:\t%s", msg)
		}
	default:
		d.line(2, "%s:\t<unknown>", label)
	}
}

// stamp prints an RFC 3339 time of an object as kubectl describe does
// (RFC 1123 with a numeric zone); anything else is printed as it is.
func stamp(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.Format(time.RFC1123Z)
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

func orFalse(s string) string {
	if s == "" {
		return "false"
	}
	return s
}

func sortedMapKeys(m obj) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// selectorString prints a LabelSelector's matchLabels (and expressions).
func selectorString(sel obj) string {
	var parts []string
	for _, k := range sortedMapKeys(sel.sub("matchLabels")) {
		parts = append(parts, k+"="+sel.str("matchLabels", k))
	}
	for _, e := range sel.list("matchExpressions") {
		parts = append(parts, fmt.Sprintf("%s %s %s", e.str("key"), strings.ToLower(e.str("operator")), formatCell(e.get("values"))))
	}
	return orNone(strings.Join(parts, ","))
}

func describeWorkload(d *describer, v obj) {
	d.line(0, "Selector:\t%s", selectorString(v.sub("spec", "selector")))
	switch v.str("kind") {
	case "Deployment":
		d.line(0, "Replicas:\t%s desired | %s updated | %s total | %s available | %s unavailable",
			orZero(v.str("spec", "replicas")), orZero(v.str("status", "updatedReplicas")), orZero(v.str("status", "replicas")),
			orZero(v.str("status", "availableReplicas")), orZero(v.str("status", "unavailableReplicas")))
		d.line(0, "StrategyType:\t%s", orNone(v.str("spec", "strategy", "type")))
	case "DaemonSet":
		d.line(0, "Desired Number of Nodes Scheduled:\t%s", orZero(v.str("status", "desiredNumberScheduled")))
		d.line(0, "Current Number of Nodes Scheduled:\t%s", orZero(v.str("status", "currentNumberScheduled")))
		d.line(0, "Number of Nodes Scheduled with Up-to-date Pods:\t%s", orZero(v.str("status", "updatedNumberScheduled")))
		d.line(0, "Number of Nodes Scheduled with Available Pods:\t%s", orZero(v.str("status", "numberAvailable")))
	default:
		d.line(0, "Replicas:\t%s current / %s desired", orZero(v.str("status", "replicas")), orZero(v.str("spec", "replicas")))
		d.line(0, "Ready Replicas:\t%s", orZero(v.str("status", "readyReplicas")))
	}
	describeTemplate(d, v.sub("spec", "template"))
}

func describeTemplate(d *describer, tmpl obj) {
	if len(tmpl) == 0 {
		return
	}
	d.line(0, "Pod Template:")
	labels := map[string]string{}
	for _, k := range sortedMapKeys(tmpl.sub("metadata", "labels")) {
		labels[k] = tmpl.str("metadata", "labels", k)
	}
	d.mapLines(1, "Labels", labels, "=")
	if rc := tmpl.str("spec", "runtimeClassName"); rc != "" {
		d.line(1, "Runtime Class Name:\t%s", rc)
	}
	describeContainers(d, 1, "Init Containers", tmpl.list("spec", "initContainers"), nil)
	describeContainers(d, 1, "Containers", tmpl.list("spec", "containers"), nil)
}

func describeJob(d *describer, v obj) {
	d.line(0, "Parallelism:\t%s", orZero(v.str("spec", "parallelism")))
	d.line(0, "Completions:\t%s", orNone(v.str("spec", "completions")))
	if b := v.str("spec", "backoffLimit"); b != "" {
		d.line(0, "Backoff Limit:\t%s", b)
	}
	start, done := v.str("status", "startTime"), v.str("status", "completionTime")
	if start != "" {
		d.line(0, "Start Time:\t%s", stamp(start))
	}
	if done != "" {
		d.line(0, "Completed At:\t%s", stamp(done))
	}
	if s, err := time.Parse(time.RFC3339, start); err == nil {
		if e, err := time.Parse(time.RFC3339, done); err == nil {
			d.line(0, "Duration:\t%s", e.Sub(s))
		}
	}
	d.line(0, "Pods Statuses:\t%s Active / %s Succeeded / %s Failed",
		orZero(v.str("status", "active")), orZero(v.str("status", "succeeded")), orZero(v.str("status", "failed")))
	describeTemplate(d, v.sub("spec", "template"))
}

func describeCronJob(d *describer, v obj) {
	d.line(0, "Schedule:\t%s", v.str("spec", "schedule"))
	if tz := v.str("spec", "timeZone"); tz != "" {
		d.line(0, "Time Zone:\t%s", tz)
	}
	d.line(0, "Concurrency Policy:\t%s", orNone(v.str("spec", "concurrencyPolicy")))
	d.line(0, "Suspend:\t%s", orFalse(v.str("spec", "suspend")))
	d.line(0, "Last Schedule Time:\t%s", orNone(stamp(v.str("status", "lastScheduleTime"))))
	var active []string
	for _, ref := range v.list("status", "active") {
		active = append(active, ref.str("name"))
	}
	d.line(0, "Active Jobs:\t%s", orNone(strings.Join(active, ", ")))
	describeTemplate(d, v.sub("spec", "jobTemplate", "spec", "template"))
}

func describeService(d *describer, v obj) {
	sel := map[string]string{}
	for _, k := range sortedMapKeys(v.sub("spec", "selector")) {
		sel[k] = v.str("spec", "selector", k)
	}
	var parts []string
	for _, k := range sortedMapKeys(v.sub("spec", "selector")) {
		parts = append(parts, k+"="+sel[k])
	}
	d.line(0, "Selector:\t%s", orNone(strings.Join(parts, ",")))
	d.line(0, "Type:\t%s", v.str("spec", "type"))
	d.line(0, "IP:\t%s", orNone(v.str("spec", "clusterIP")))
	for _, p := range v.list("spec", "ports") {
		name := p.str("name")
		if name == "" {
			name = "<unset>"
		}
		d.line(0, "Port:\t%s  %s/%s", name, p.str("port"), orTCP(p.str("protocol")))
		if tp := p.str("targetPort"); tp != "" {
			d.line(0, "TargetPort:\t%s/%s", tp, orTCP(p.str("protocol")))
		}
		if np := p.str("nodePort"); np != "" {
			d.line(0, "NodePort:\t%s  %s/%s", name, np, orTCP(p.str("protocol")))
		}
	}
	d.line(0, "Session Affinity:\t%s", orNone(v.str("spec", "sessionAffinity")))
}

// describeHPA prints an autoscaler as kubectl's describe of
// autoscaling/v2 does: the target, each metric's current and target
// value, the bounds, the behavior and the replicas.
func describeHPA(d *describer, v obj) {
	ref := v.sub("spec", "scaleTargetRef")
	d.line(0, "Reference:\t%s/%s", ref.str("kind"), ref.str("name"))
	d.line(0, "Metrics:\t( current / target )")
	current := v.list("status", "currentMetrics")
	for i, m := range v.list("spec", "metrics") {
		// As kubectl: the status of the i-th metric is the i-th current one.
		var cur obj
		if i < len(current) {
			cur = current[i].sub("resource", "current")
		}
		switch m.str("type") {
		case "Resource":
			res := m.sub("resource")
			target := res.sub("target")
			if avg := target.str("averageValue"); avg != "" {
				d.line(1, "resource %s on pods:\t%s / %s", res.str("name"), orUnknown(cur.str("averageValue")), avg)
				continue
			}
			now := "<unknown>"
			if u := cur.str("averageUtilization"); u != "" {
				now = fmt.Sprintf("%s%% (%s)", u, cur.str("averageValue"))
			}
			want := "<auto>"
			if u := target.str("averageUtilization"); u != "" {
				want = u + "%"
			}
			d.line(1, "resource %s on pods  (as a percentage of request):\t%s / %s", res.str("name"), now, want)
		default:
			d.line(1, "<unknown metric type %q>", m.str("type"))
		}
	}
	minReplicas := v.str("spec", "minReplicas")
	if minReplicas == "" {
		minReplicas = "<unset>"
	}
	d.line(0, "Min replicas:\t%s", minReplicas)
	d.line(0, "Max replicas:\t%s", orZero(v.str("spec", "maxReplicas")))
	if b := v.sub("spec", "behavior"); b != nil {
		d.line(0, "Behavior:")
		for _, dir := range []struct{ label, field string }{{"Scale Up", "scaleUp"}, {"Scale Down", "scaleDown"}} {
			rules := b.sub(dir.field)
			if rules == nil {
				continue
			}
			d.line(1, "%s:", dir.label)
			if w := rules.str("stabilizationWindowSeconds"); w != "" {
				d.line(2, "Stabilization Window: %s seconds", w)
			}
			policies := rules.list("policies")
			if len(policies) == 0 {
				continue
			}
			sel := rules.str("selectPolicy")
			if sel == "" {
				sel = "Max" // the API's default, as kubectl prints it
			}
			d.line(2, "Select Policy: %s", sel)
			d.line(2, "Policies:")
			for _, p := range policies {
				d.line(3, "- Type: %s\tValue: %s\tPeriod: %s seconds", p.str("type"), orZero(p.str("value")), orZero(p.str("periodSeconds")))
			}
		}
	}
	d.line(0, "%s pods:\t%s current / %s desired", ref.str("kind"),
		orZero(v.str("status", "currentReplicas")), orZero(v.str("status", "desiredReplicas")))
}

func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}

func orTCP(s string) string {
	if s == "" {
		return "TCP"
	}
	return s
}

func describeNode(d *describer, v obj) {
	var taints []string
	for _, t := range v.list("spec", "taints") {
		s := t.str("key")
		if val := t.str("value"); val != "" {
			s += "=" + val
		}
		taints = append(taints, s+":"+t.str("effect"))
	}
	d.line(0, "Taints:\t%s", orNone(strings.Join(taints, ", ")))
	d.line(0, "Unschedulable:\t%s", orFalse(v.str("spec", "unschedulable")))
	if addrs := v.list("status", "addresses"); len(addrs) > 0 {
		d.line(0, "Addresses:")
		for _, a := range addrs {
			d.line(1, "%s:\t%s", a.str("type"), a.str("address"))
		}
	}
	for _, section := range []string{"capacity", "allocatable"} {
		if r := v.sub("status", section); len(r) > 0 {
			d.line(0, "%s:", strings.ToUpper(section[:1])+section[1:])
			for _, k := range sortedMapKeys(r) {
				d.line(1, "%s:\t%s", k, r.str(k))
			}
		}
	}
	if info := v.sub("status", "nodeInfo"); len(info) > 0 {
		d.line(0, "System Info:")
		for _, k := range sortedMapKeys(info) {
			d.line(1, "%s:\t%s", k, info.str(k))
		}
	}
}

func describeData(d *describer, v obj) {
	if t := v.str("type"); t != "" {
		d.line(0, "Type:\t%s", t)
	}
	d.line(0, "")
	d.line(0, "Data")
	d.line(0, "====")
	secret := v.str("kind") == "Secret"
	for _, k := range sortedMapKeys(v.sub("data")) {
		if secret {
			// Values stay hidden, as in kubectl: only their decoded size.
			raw, err := base64.StdEncoding.DecodeString(v.str("data", k))
			if err != nil {
				d.line(0, "%s:\t<not base64: %v>", k, err)
				continue
			}
			d.line(0, "%s:\t%d bytes", k, len(raw))
			continue
		}
		d.line(0, "%s:", k)
		d.line(0, "----")
		d.line(0, "%s", v.str("data", k))
	}
}

// describeSpec prints the spec as indented YAML for kinds without a
// summary of their own.
func describeSpec(d *describer, v obj) error {
	spec := v.get("spec")
	if spec == nil {
		return nil
	}
	b, err := yaml.Marshal(spec)
	if err != nil {
		return fmt.Errorf("describe: %w", err)
	}
	d.line(0, "Spec:")
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		d.line(1, "%s", l)
	}
	return nil
}

func describeConditions(d *describer, v obj) {
	conds := v.list("status", "conditions")
	if len(conds) == 0 {
		return
	}
	d.line(0, "Conditions:")
	d.line(1, "Type\tStatus\tReason\tMessage")
	d.line(1, "----\t------\t------\t-------")
	for _, c := range conds {
		d.line(1, "%s\t%s\t%s\t%s", c.str("type"), c.str("status"), c.str("reason"), c.str("message"))
	}
}

func describeEvents(d *describer, events []*types.Event, now time.Time) {
	if len(events) == 0 {
		d.line(0, "Events:\t<none>")
		return
	}
	d.line(0, "Events:")
	d.line(1, "Type\tReason\tAge\tFrom\tMessage")
	d.line(1, "----\t------\t----\t----\t-------")
	for _, e := range events {
		age := humanDuration(now.Sub(eventTime(e)))
		if e.Count > 1 && !e.FirstTimestamp.IsZero() {
			age = fmt.Sprintf("%s (x%d over %s)", age, e.Count, humanDuration(now.Sub(e.FirstTimestamp.Time)))
		}
		from := e.Source.Component
		if from == "" {
			from = e.ReportingController
		}
		d.line(1, "%s\t%s\t%s\t%s\t%s", e.Type, e.Reason, age, from, oneLine(e.Message))
	}
}

// humanDuration prints a duration as kubectl's ages do ("45s", "3m20s",
// "5h", "2d3h").
func humanDuration(dur time.Duration) string {
	seconds := int64(dur.Seconds())
	switch {
	case seconds < -1:
		return "<invalid>"
	case seconds < 0:
		return "0s"
	case seconds < 60*2:
		return fmt.Sprintf("%ds", seconds)
	}
	minutes := int64(dur / time.Minute)
	if minutes < 10 {
		if s := seconds % 60; s != 0 {
			return fmt.Sprintf("%dm%ds", minutes, s)
		}
		return fmt.Sprintf("%dm", minutes)
	}
	if minutes < 60*3 {
		return fmt.Sprintf("%dm", minutes)
	}
	hours := int64(dur / time.Hour)
	switch {
	case hours < 8:
		if m := minutes % 60; m != 0 {
			return fmt.Sprintf("%dh%dm", hours, m)
		}
		return fmt.Sprintf("%dh", hours)
	case hours < 48:
		return fmt.Sprintf("%dh", hours)
	case hours < 24*8:
		if h := hours % 24; h != 0 {
			return fmt.Sprintf("%dd%dh", hours/24, h)
		}
		return fmt.Sprintf("%dd", hours/24)
	case hours < 24*365*2:
		return fmt.Sprintf("%dd", hours/24)
	case hours < 24*365*8:
		if dy := (hours / 24) % 365; dy != 0 {
			return fmt.Sprintf("%dy%dd", hours/24/365, dy)
		}
		return fmt.Sprintf("%dy", hours/24/365)
	}
	return fmt.Sprintf("%dy", hours/24/365)
}
