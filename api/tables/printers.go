package tables

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wharfhq/wharf/api/labels"
	"github.com/wharfhq/wharf/api/types"
)

// printers holds the columns and cells of each kind, following the
// printers of Kubernetes' pkg/printers/internalversion so kubectl output
// looks the same against Wharf.
var printers = map[string]printer{
	"Pod": {
		columns: []ColumnDefinition{nameColumn,
			col("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
			col("Status", "string", "The aggregate status of the containers in this pod."),
			col("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
			ageColumn,
			wide("IP", "string", "The IP address of the pod."),
			wide("Node", "string", "The name of the node the pod is assigned to."),
			wide("Nominated Node", "string", "The node the pod is nominated to run on after preemption."),
			wide("Readiness Gates", "string", "The readiness gates of the pod."),
		},
		cells: typed(podCells),
	},
	"Node": {
		columns: []ColumnDefinition{nameColumn,
			col("Status", "string", "The status of the node."),
			col("Roles", "string", "The roles of the node."),
			ageColumn,
			col("Version", "string", "Kubelet Version reported by the node."),
			wide("Internal-IP", "string", "The node's internal IP."),
			wide("External-IP", "string", "The node's external IP."),
			wide("OS-Image", "string", "OS Image reported by the node."),
			wide("Kernel-Version", "string", "Kernel Version reported by the node."),
			wide("Container-Runtime", "string", "Container Runtime Version reported by the node."),
			wide("Arch", "string", "CPU architecture reported by the node."),
			wide("Runtimes", "string", "The Wharf runtimes the node offers (label wharf.dev/runtimes)."),
		},
		cells: typed(nodeCells),
	},
	"Namespace": {
		columns: []ColumnDefinition{nameColumn,
			col("Status", "string", "The status of the namespace."), ageColumn},
		cells: typed(func(ns *types.Namespace, now time.Time) []any {
			return []any{ns.Name, string(ns.Status.Phase), Age(ns.CreationTimestamp, now)}
		}),
	},
	"Event": {
		columns: []ColumnDefinition{
			col("Last Seen", "string", "Time since the event was last seen."),
			col("Type", "string", "Type of this event (Normal, Warning)."),
			col("Reason", "string", "Why the action was taken."),
			col("Object", "string", "The object this event is about."),
			wide("Subobject", "string", "The part of the object this event is about."),
			wide("Source", "string", "Who reported the event."),
			col("Message", "string", "A human-readable description of the status of this operation."),
			wide("First Seen", "string", "Time since the event was first seen."),
			wide("Count", "string", "How many times this event has occurred."),
			wide("Name", "string", "The name of the event."),
		},
		cells: typed(eventCells),
	},
	"ConfigMap": {
		columns: []ColumnDefinition{nameColumn, col("Data", "string", "Number of keys in the config map."), ageColumn},
		cells: typed(func(cm *types.ConfigMap, now time.Time) []any {
			return []any{cm.Name, int64(len(cm.Data) + len(cm.BinaryData)), Age(cm.CreationTimestamp, now)}
		}),
	},
	"Secret": {
		columns: []ColumnDefinition{nameColumn, col("Type", "string", "The type of the secret."),
			col("Data", "string", "Number of keys in the secret."), ageColumn},
		cells: typed(func(s *types.Secret, now time.Time) []any {
			return []any{s.Name, string(s.Type), int64(len(s.Data)), Age(s.CreationTimestamp, now)}
		}),
	},
	"ServiceAccount": {
		columns: []ColumnDefinition{nameColumn, col("Secrets", "string", "Number of secrets of the service account."), ageColumn},
		cells: typed(func(sa *types.ServiceAccount, now time.Time) []any {
			return []any{sa.Name, int64(len(sa.Secrets)), Age(sa.CreationTimestamp, now)}
		}),
	},
	"Service": {
		columns: []ColumnDefinition{nameColumn,
			col("Type", "string", "The type of the service."),
			col("Cluster-IP", "string", "The cluster IP of the service."),
			col("External-IP", "string", "The external IPs of the service."),
			col("Port(s)", "string", "The ports of the service."),
			ageColumn,
			wide("Selector", "string", "The selector of the service."),
		},
		cells: typed(serviceCells),
	},
	"Endpoints": {
		columns: []ColumnDefinition{nameColumn, col("Endpoints", "string", "Endpoints of the service."), ageColumn},
		cells: typed(func(e *types.Endpoints, now time.Time) []any {
			return []any{e.Name, endpointsString(e), Age(e.CreationTimestamp, now)}
		}),
	},
	"Deployment": {
		columns: []ColumnDefinition{nameColumn,
			col("Ready", "string", "Number of the pod with ready state."),
			col("Up-to-date", "integer", "Total number of non-terminated pods targeted by this deployment that have the desired template spec."),
			col("Available", "integer", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."),
			ageColumn,
			wide("Containers", "string", "Names of each container in the template."),
			wide("Images", "string", "Images referenced by each container in the template."),
			wide("Selector", "string", "Label selector for pods."),
		},
		cells: typed(func(d *types.Deployment, now time.Time) []any {
			names, images := containers(d.Spec.Template.Spec)
			return []any{d.Name, fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, replicas(d.Spec.Replicas)),
				int64(d.Status.UpdatedReplicas), int64(d.Status.AvailableReplicas), Age(d.CreationTimestamp, now),
				names, images, selectorString(d.Spec.Selector)}
		}),
	},
	"ReplicaSet": {
		columns: []ColumnDefinition{nameColumn,
			col("Desired", "integer", "Number of desired pods."),
			col("Current", "integer", "Number of actual pods."),
			col("Ready", "integer", "Number of ready pods."),
			ageColumn,
			wide("Containers", "string", "Names of each container in the template."),
			wide("Images", "string", "Images referenced by each container in the template."),
			wide("Selector", "string", "Label selector for pods."),
		},
		cells: typed(func(rs *types.ReplicaSet, now time.Time) []any {
			names, images := containers(rs.Spec.Template.Spec)
			return []any{rs.Name, int64(replicas(rs.Spec.Replicas)), int64(rs.Status.Replicas),
				int64(rs.Status.ReadyReplicas), Age(rs.CreationTimestamp, now), names, images, selectorString(rs.Spec.Selector)}
		}),
	},
	"DaemonSet": {
		columns: []ColumnDefinition{nameColumn,
			col("Desired", "integer", "The number of nodes that should be running the daemon pod."),
			col("Current", "integer", "The number of nodes running at least one daemon pod."),
			col("Ready", "integer", "The number of nodes with a ready daemon pod."),
			col("Up-to-date", "integer", "The number of nodes running the updated daemon pod."),
			col("Available", "integer", "The number of nodes with an available daemon pod."),
			col("Node Selector", "string", "The node selector of the daemon pods."),
			ageColumn,
			wide("Containers", "string", "Names of each container in the template."),
			wide("Images", "string", "Images referenced by each container in the template."),
			wide("Selector", "string", "Label selector for pods."),
		},
		cells: typed(func(ds *types.DaemonSet, now time.Time) []any {
			names, images := containers(ds.Spec.Template.Spec)
			s := ds.Status
			return []any{ds.Name, int64(s.DesiredNumberScheduled), int64(s.CurrentNumberScheduled), int64(s.NumberReady),
				int64(s.UpdatedNumberScheduled), int64(s.NumberAvailable), mapString(ds.Spec.Template.Spec.NodeSelector),
				Age(ds.CreationTimestamp, now), names, images, selectorString(ds.Spec.Selector)}
		}),
	},
	"StatefulSet": {
		columns: []ColumnDefinition{nameColumn,
			col("Ready", "string", "Number of the pod with ready state."),
			ageColumn,
			wide("Containers", "string", "Names of each container in the template."),
			wide("Images", "string", "Images referenced by each container in the template."),
		},
		cells: typed(func(ss *types.StatefulSet, now time.Time) []any {
			names, images := containers(ss.Spec.Template.Spec)
			return []any{ss.Name, fmt.Sprintf("%d/%d", ss.Status.ReadyReplicas, replicas(ss.Spec.Replicas)),
				Age(ss.CreationTimestamp, now), names, images}
		}),
	},
	"Job": {
		columns: []ColumnDefinition{nameColumn,
			col("Status", "string", "Status of the job."),
			col("Completions", "string", "The completion status of the job."),
			col("Duration", "string", "Time required to complete the job."),
			ageColumn,
			wide("Containers", "string", "Names of each container in the template."),
			wide("Images", "string", "Images referenced by each container in the template."),
			wide("Selector", "string", "Label selector for pods."),
		},
		cells: typed(jobCells),
	},
	"CronJob": {
		columns: []ColumnDefinition{nameColumn,
			col("Schedule", "string", "The schedule in Cron format."),
			col("Timezone", "string", "The time zone of the schedule."),
			col("Suspend", "boolean", "Whether the cron job is suspended."),
			col("Active", "integer", "Number of currently running jobs."),
			col("Last Schedule", "string", "When the job was last scheduled."),
			ageColumn,
			wide("Containers", "string", "Names of each container in the template."),
			wide("Images", "string", "Images referenced by each container in the template."),
			wide("Selector", "string", "Label selector for pods."),
		},
		cells: typed(func(cj *types.CronJob, now time.Time) []any {
			names, images := containers(cj.Spec.JobTemplate.Spec.Template.Spec)
			tz, last := "<none>", "<none>"
			if cj.Spec.TimeZone != nil {
				tz = *cj.Spec.TimeZone
			}
			if cj.Status.LastScheduleTime != nil {
				last = Age(*cj.Status.LastScheduleTime, now)
			}
			return []any{cj.Name, cj.Spec.Schedule, tz, cj.Spec.Suspend != nil && *cj.Spec.Suspend,
				int64(len(cj.Status.Active)), last, Age(cj.CreationTimestamp, now), names, images,
				selectorString(cj.Spec.JobTemplate.Spec.Selector)}
		}),
	},
	"HorizontalPodAutoscaler": {
		columns: []ColumnDefinition{nameColumn,
			col("Reference", "string", "The target of the autoscaler."),
			col("Targets", "string", "Current and target metric values."),
			col("MinPods", "string", "Lower limit for the number of pods."),
			col("MaxPods", "integer", "Upper limit for the number of pods."),
			col("Replicas", "integer", "Current number of replicas."),
			ageColumn,
		},
		cells: typed(func(h *types.HorizontalPodAutoscaler, now time.Time) []any {
			minPods := "<unset>"
			if h.Spec.MinReplicas != nil {
				minPods = strconv.Itoa(int(*h.Spec.MinReplicas))
			}
			ref := h.Spec.ScaleTargetRef.Kind + "/" + h.Spec.ScaleTargetRef.Name
			return []any{h.Name, ref, hpaTargets(h), minPods, int64(h.Spec.MaxReplicas),
				int64(h.Status.CurrentReplicas), Age(h.CreationTimestamp, now)}
		}),
	},
	"Ingress": {
		columns: []ColumnDefinition{nameColumn,
			col("Class", "string", "The name of the IngressClass."),
			col("Hosts", "string", "Hosts that incoming requests are matched against."),
			col("Address", "string", "Address is a list of IPs and hostnames."),
			col("Ports", "string", "Ports of TLS configurations that open."),
			ageColumn,
		},
		cells: typed(ingressCells),
	},
	"RuntimeClass": {
		columns: []ColumnDefinition{nameColumn, col("Handler", "string", "The name of the runtime handler."), ageColumn},
		cells: typed(func(rc *types.RuntimeClass, now time.Time) []any {
			return []any{rc.Name, rc.Handler, Age(rc.CreationTimestamp, now)}
		}),
	},
	"Lease": {
		columns: []ColumnDefinition{nameColumn, col("Holder", "string", "The holder of the lease."), ageColumn},
		cells: typed(func(l *types.Lease, now time.Time) []any {
			var holder string
			if l.Spec.HolderIdentity != nil {
				holder = *l.Spec.HolderIdentity
			}
			return []any{l.Name, holder, Age(l.CreationTimestamp, now)}
		}),
	},
}

// typed adapts a cells function of one concrete kind; an object of another
// type (which the registry never hands it) prints its name only.
func typed[T types.Object](f func(T, time.Time) []any) func(types.Object, time.Time) []any {
	return func(obj types.Object, now time.Time) []any {
		if t, ok := obj.(T); ok {
			return f(t, now)
		}
		return []any{obj.GetObjectMeta().Name}
	}
}

func replicas(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func containers(spec types.PodSpec) (names, images string) {
	n := make([]string, 0, len(spec.Containers))
	im := make([]string, 0, len(spec.Containers))
	for _, c := range spec.Containers {
		n = append(n, c.Name)
		im = append(im, c.Image)
	}
	return strings.Join(n, ","), strings.Join(im, ",")
}

func selectorString(ls *types.LabelSelector) string {
	if ls == nil {
		return "<none>"
	}
	sel, err := labels.FromLabelSelector(ls)
	if err != nil {
		return "<error>"
	}
	if s := sel.String(); s != "" {
		return s
	}
	return "<none>"
}

// mapString prints a map as sorted k=v pairs, "<none>" when empty.
func mapString(m map[string]string) string {
	if len(m) == 0 {
		return "<none>"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

// podCells follows kubectl's printPod: the Status column is the reason
// of the most telling container state.
func podCells(pod *types.Pod, now time.Time) []any {
	restarts := 0
	total := len(pod.Spec.Containers)
	ready := 0
	reason := string(pod.Status.Phase)
	if pod.Status.Reason != "" {
		reason = pod.Status.Reason
	}
	var lastRestart time.Time
	initializing := false
	for i, c := range pod.Status.InitContainerStatuses {
		restarts += int(c.RestartCount)
		if t := c.LastTerminationState.Terminated; t != nil && t.FinishedAt.After(lastRestart) {
			lastRestart = t.FinishedAt.Time
		}
		switch {
		case c.State.Terminated != nil && c.State.Terminated.ExitCode == 0:
			continue
		case c.State.Terminated != nil:
			if c.State.Terminated.Reason != "" {
				reason = "Init:" + c.State.Terminated.Reason
			} else if c.State.Terminated.Signal != 0 {
				reason = fmt.Sprintf("Init:Signal:%d", c.State.Terminated.Signal)
			} else {
				reason = fmt.Sprintf("Init:ExitCode:%d", c.State.Terminated.ExitCode)
			}
		case c.State.Waiting != nil && c.State.Waiting.Reason != "" && c.State.Waiting.Reason != "PodInitializing":
			reason = "Init:" + c.State.Waiting.Reason
		default:
			reason = fmt.Sprintf("Init:%d/%d", i, len(pod.Spec.InitContainers))
		}
		initializing = true
		break
	}
	if !initializing || podInitialized(pod) {
		restarts = 0
		lastRestart = time.Time{}
		hasRunning := false
		for i := len(pod.Status.ContainerStatuses) - 1; i >= 0; i-- {
			c := pod.Status.ContainerStatuses[i]
			restarts += int(c.RestartCount)
			if t := c.LastTerminationState.Terminated; t != nil && t.FinishedAt.After(lastRestart) {
				lastRestart = t.FinishedAt.Time
			}
			switch {
			case c.State.Waiting != nil && c.State.Waiting.Reason != "":
				reason = c.State.Waiting.Reason
			case c.State.Terminated != nil && c.State.Terminated.Reason != "":
				reason = c.State.Terminated.Reason
			case c.State.Terminated != nil && c.State.Terminated.Signal != 0:
				reason = fmt.Sprintf("Signal:%d", c.State.Terminated.Signal)
			case c.State.Terminated != nil:
				reason = fmt.Sprintf("ExitCode:%d", c.State.Terminated.ExitCode)
			case c.Ready && c.State.Running != nil:
				hasRunning = true
				ready++
			}
		}
		if reason == "Completed" && hasRunning {
			if podReady(pod) {
				reason = "Running"
			} else {
				reason = "NotReady"
			}
		}
	}
	if pod.DeletionTimestamp != nil && pod.Status.Reason == "NodeLost" {
		reason = "Unknown"
	} else if pod.DeletionTimestamp != nil && pod.Status.Phase != types.PodSucceeded && pod.Status.Phase != types.PodFailed {
		reason = "Terminating"
	}
	restartStr := strconv.Itoa(restarts)
	if !lastRestart.IsZero() {
		restartStr = fmt.Sprintf("%d (%s ago)", restarts, HumanDuration(now.Sub(lastRestart)))
	}
	node := orNone(pod.Spec.NodeName)
	ip := orNone(pod.Status.PodIP)
	gates := "<none>"
	if n := len(pod.Spec.ReadinessGates); n > 0 {
		met := 0
		for _, g := range pod.Spec.ReadinessGates {
			for _, c := range pod.Status.Conditions {
				if c.Type == g.ConditionType && c.Status == types.ConditionTrue {
					met++
				}
			}
		}
		gates = fmt.Sprintf("%d/%d", met, n)
	}
	return []any{pod.Name, fmt.Sprintf("%d/%d", ready, total), reason, restartStr,
		Age(pod.CreationTimestamp, now), ip, node, "<none>", gates}
}

// podInitialized reports whether the Pod's Initialized condition is true.
func podInitialized(pod *types.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == types.PodInitialized {
			return c.Status == types.ConditionTrue
		}
	}
	return false
}

func podReady(pod *types.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == types.PodReady {
			return c.Status == types.ConditionTrue
		}
	}
	return false
}

// podRowConditions marks finished Pods Completed, which kubectl get uses
// to hide them unless asked (--show-all in older releases).
func podRowConditions(pod *types.Pod) []RowCondition {
	if pod.Status.Phase == types.PodSucceeded || pod.Status.Phase == types.PodFailed {
		return []RowCondition{{Type: "Completed", Status: string(types.ConditionTrue),
			Reason: string(pod.Status.Phase), Message: "The pod has completed successfully."}}
	}
	return nil
}

func nodeCells(n *types.Node, now time.Time) []any {
	var status []string
	for _, c := range n.Status.Conditions {
		if c.Type == types.NodeReady {
			if c.Status == types.ConditionTrue {
				status = append(status, "Ready")
			} else {
				status = append(status, "NotReady")
			}
		}
	}
	if len(status) == 0 {
		status = append(status, "Unknown")
	}
	if n.Spec.Unschedulable {
		status = append(status, "SchedulingDisabled")
	}
	var roles []string
	for k := range n.Labels {
		if r, ok := strings.CutPrefix(k, "node-role.kubernetes.io/"); ok && r != "" {
			roles = append(roles, r)
		}
	}
	sort.Strings(roles)
	internal, external := "<none>", "<none>"
	for _, a := range n.Status.Addresses {
		switch a.Type {
		case "InternalIP":
			if internal == "<none>" {
				internal = a.Address
			}
		case "ExternalIP":
			if external == "<none>" {
				external = a.Address
			}
		}
	}
	info := n.Status.NodeInfo
	return []any{n.Name, strings.Join(status, ","), orNone(strings.Join(roles, ",")), Age(n.CreationTimestamp, now),
		info.KubeletVersion, internal, external, orUnknown(info.OSImage), orUnknown(info.KernelVersion),
		orUnknown(info.ContainerRuntimeVersion), orUnknown(nodeArch(n)), nodeRuntimes(n)}
}

// Node labels the agent writes (nodes/nodeinfo, not imported: it depends
// on the client, which depends on this package).
const (
	labelArch     = "kubernetes.io/arch"
	labelRuntimes = "wharf.dev/runtimes"
)

func nodeArch(n *types.Node) string {
	if a := n.Status.NodeInfo.Architecture; a != "" {
		return a
	}
	return n.Labels[labelArch]
}

// nodeRuntimes lists the runtimes of the wharf.dev/runtimes label, whose
// value separates them with dots (a label value cannot hold commas).
func nodeRuntimes(n *types.Node) string {
	return orNone(strings.ReplaceAll(n.Labels[labelRuntimes], ".", ","))
}

func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}

func eventCells(e *types.Event, now time.Time) []any {
	last := e.LastTimestamp
	if last.IsZero() {
		last = types.Time{Time: e.EventTime.Time}
	}
	first := e.FirstTimestamp
	if first.IsZero() {
		first = types.Time{Time: e.EventTime.Time}
	}
	lastSeen := Age(last, now)
	if e.Count > 1 {
		lastSeen = fmt.Sprintf("%s (x%d over %s)", lastSeen, e.Count, Age(first, now))
	}
	obj := strings.ToLower(e.InvolvedObject.Kind) + "/" + e.InvolvedObject.Name
	source := e.Source.Component
	if e.Source.Host != "" {
		source += ", " + e.Source.Host
	}
	if source == "" {
		source = e.ReportingController
	}
	count := e.Count
	if count == 0 {
		count = 1
	}
	return []any{lastSeen, e.Type, e.Reason, obj, e.InvolvedObject.FieldPath, source,
		strings.TrimSpace(e.Message), Age(first, now), int64(count), e.Name}
}

func serviceCells(s *types.Service, now time.Time) []any {
	typ := string(s.Spec.Type)
	if typ == "" {
		typ = "ClusterIP"
	}
	cip := orNone(s.Spec.ClusterIP)
	ext := "<none>"
	switch {
	case typ == "ExternalName":
		ext = s.Spec.ExternalName
	case len(s.Spec.ExternalIPs) > 0:
		ext = strings.Join(s.Spec.ExternalIPs, ",")
	case typ == "LoadBalancer":
		var ips []string
		for _, in := range s.Status.LoadBalancer.Ingress {
			if in.IP != "" {
				ips = append(ips, in.IP)
			} else if in.Hostname != "" {
				ips = append(ips, in.Hostname)
			}
		}
		ext = "<pending>"
		if len(ips) > 0 {
			ext = strings.Join(ips, ",")
		}
	}
	ports := make([]string, 0, len(s.Spec.Ports))
	for _, p := range s.Spec.Ports {
		proto := string(p.Protocol)
		if proto == "" {
			proto = "TCP"
		}
		if p.NodePort != 0 {
			ports = append(ports, fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, proto))
		} else {
			ports = append(ports, fmt.Sprintf("%d/%s", p.Port, proto))
		}
	}
	return []any{s.Name, typ, cip, ext, orNone(strings.Join(ports, ",")), Age(s.CreationTimestamp, now),
		mapString(s.Spec.Selector)}
}

func endpointsString(e *types.Endpoints) string {
	var out []string
	for _, ss := range e.Subsets {
		for _, a := range ss.Addresses {
			if len(ss.Ports) == 0 {
				out = append(out, a.IP)
			}
			for _, p := range ss.Ports {
				out = append(out, fmt.Sprintf("%s:%d", a.IP, p.Port))
			}
		}
	}
	if len(out) > 3 {
		return strings.Join(out[:3], ",") + fmt.Sprintf(" + %d more...", len(out)-3)
	}
	return orNone(strings.Join(out, ","))
}

func jobCells(j *types.Job, now time.Time) []any {
	status := "Running"
	for _, c := range j.Status.Conditions {
		if c.Status != types.ConditionTrue {
			continue
		}
		switch c.Type {
		case types.JobComplete:
			status = "Complete"
		case types.JobFailed:
			status = "Failed"
		case types.JobSuspended:
			status = "Suspended"
		case types.JobFailureTarget:
			status = "FailureTarget"
		case types.JobSuccessCriteriaMet:
			status = "SuccessCriteriaMet"
		}
	}
	if j.DeletionTimestamp != nil {
		status = "Terminating"
	}
	var completions string
	switch {
	case j.Spec.Completions != nil:
		completions = fmt.Sprintf("%d/%d", j.Status.Succeeded, *j.Spec.Completions)
	case j.Spec.Parallelism != nil && *j.Spec.Parallelism > 1:
		completions = fmt.Sprintf("%d/1 of %d", j.Status.Succeeded, *j.Spec.Parallelism)
	default:
		completions = fmt.Sprintf("%d/1", j.Status.Succeeded)
	}
	duration := ""
	switch {
	case j.Status.StartTime == nil:
	case j.Status.CompletionTime == nil:
		duration = HumanDuration(now.Sub(j.Status.StartTime.Time))
	default:
		duration = HumanDuration(j.Status.CompletionTime.Sub(j.Status.StartTime.Time))
	}
	names, images := containers(j.Spec.Template.Spec)
	return []any{j.Name, status, completions, duration, Age(j.CreationTimestamp, now), names, images,
		selectorString(j.Spec.Selector)}
}

func hpaTargets(h *types.HorizontalPodAutoscaler) string {
	if len(h.Spec.Metrics) == 0 {
		return "<none>"
	}
	var parts []string
	for i, m := range h.Spec.Metrics {
		if m.Resource == nil {
			parts = append(parts, "<unknown>")
			continue
		}
		current := "<unknown>"
		var cur *types.MetricStatus
		if i < len(h.Status.CurrentMetrics) {
			cur = &h.Status.CurrentMetrics[i]
		}
		t := m.Resource.Target
		switch {
		case t.AverageUtilization != nil:
			if cur != nil && cur.Resource != nil && cur.Resource.Current.AverageUtilization != nil {
				current = fmt.Sprintf("%d%%", *cur.Resource.Current.AverageUtilization)
			}
			parts = append(parts, fmt.Sprintf("%s: %s/%d%%", m.Resource.Name, current, *t.AverageUtilization))
		case t.AverageValue != nil:
			if cur != nil && cur.Resource != nil && cur.Resource.Current.AverageValue != nil {
				current = cur.Resource.Current.AverageValue.String()
			}
			parts = append(parts, fmt.Sprintf("%s: %s/%s", m.Resource.Name, current, t.AverageValue.String()))
		default:
			parts = append(parts, fmt.Sprintf("%s: %s/<unset>", m.Resource.Name, current))
		}
	}
	return strings.Join(parts, ", ")
}

func ingressCells(in *types.Ingress, now time.Time) []any {
	class := "<none>"
	if in.Spec.IngressClassName != nil {
		class = *in.Spec.IngressClassName
	}
	var hosts []string
	for _, r := range in.Spec.Rules {
		if r.Host != "" {
			hosts = append(hosts, r.Host)
		}
	}
	h := "*"
	if len(hosts) > 0 {
		h = strings.Join(hosts, ",")
	}
	var addrs []string
	for _, a := range in.Status.LoadBalancer.Ingress {
		if a.IP != "" {
			addrs = append(addrs, a.IP)
		} else if a.Hostname != "" {
			addrs = append(addrs, a.Hostname)
		}
	}
	ports := "80"
	if len(in.Spec.TLS) > 0 {
		ports = "80, 443"
	}
	return []any{in.Name, class, h, strings.Join(addrs, ","), ports, Age(in.CreationTimestamp, now)}
}
