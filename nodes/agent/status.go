package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/sdk"
)

// sec truncates t to the second precision statuses are stored with, so a
// status read back compares equal to the one written.
func sec(t time.Time) types.Time {
	if t.IsZero() {
		return types.Time{}
	}
	return types.NewTime(t.UTC().Truncate(time.Second))
}

// terminated is a runtime exit as a status state.
func terminated(inst *instance) *types.ContainerStateTerminated {
	e := inst.info.Exit
	if e == nil {
		return &types.ContainerStateTerminated{ExitCode: 137, Reason: runtimes.ReasonUnknown, ContainerID: statusID(inst)}
	}
	t := &types.ContainerStateTerminated{
		ExitCode:    int32(e.ExitCode),
		Reason:      e.Reason,
		Message:     withoutIDs(e.Message, inst.info.Labels[LabelPodUID], inst.info.Labels[LabelContainer]),
		StartedAt:   sec(e.StartedAt),
		FinishedAt:  sec(e.FinishedAt),
		ContainerID: statusID(inst),
	}
	if e.Reason == runtimes.ReasonStartError {
		// No process ever ran. containerd reports a start time of 0 then,
		// which the kubelet shows as the Unix epoch (kubectl describe:
		// "Started: Thu, 01 Jan 1970 00:00:00 +0000"), not as no time.
		t.StartedAt = types.NewTime(time.Unix(0, 0).UTC())
	}
	return t
}

// terminated is an exit as a status state, with the container's
// termination message when the runtime gave none.
func (a *Agent) terminated(c *types.Container, inst *instance, st *podState) *types.ContainerStateTerminated {
	t := terminated(inst)
	if t.Message == "" && inst.info.Exit != nil {
		t.Message = a.terminationMessage(c, inst, st, t.ExitCode)
	}
	return t
}

// containerStatus reports one container from its instances (newest first)
// and the in-memory waiting reason.
func (a *Agent) containerStatus(pod *types.Pod, c *types.Container, list []*instance, st *podState, defaultWaiting string) types.ContainerStatus {
	cs := types.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: ""}
	f := false
	cs.Started = &f
	w := st.waiting[c.Name]
	if len(list) == 0 {
		reason, msg := defaultWaiting, ""
		if w != nil {
			reason, msg = w.reason, w.message
		}
		cs.State.Waiting = &types.ContainerStateWaiting{Reason: reason, Message: msg}
		return cs
	}
	latest := list[0]
	cs.RestartCount = latest.restart
	cs.ContainerID = statusID(latest)
	cs.ImageID = latest.info.Image
	if len(list) > 1 && list[1].info.State == runtimes.StateExited {
		cs.LastTerminationState.Terminated = a.terminated(c, list[1], st)
	}
	switch latest.info.State {
	case runtimes.StateRunning:
		started := a.started(c, latest)
		cs.Started = &started
		cs.State.Running = &types.ContainerStateRunning{StartedAt: sec(latest.info.StartedAt)}
		cs.Ready = a.ready(pod, c, latest)
	case runtimes.StateCreated:
		reason := ReasonContainerCreating
		msg := ""
		if w != nil {
			reason, msg = w.reason, w.message
		}
		cs.State.Waiting = &types.ContainerStateWaiting{Reason: reason, Message: msg}
	case runtimes.StateExited:
		if w != nil && w.reason != "" {
			// Exited and waiting to restart (or to retry a failed start).
			cs.State.Waiting = &types.ContainerStateWaiting{Reason: w.reason, Message: w.message}
			cs.LastTerminationState = types.ContainerState{Terminated: a.terminated(c, latest, st)}
		} else {
			cs.State.Terminated = a.terminated(c, latest, st)
		}
	}
	return cs
}

// ready reports whether a running container passes its readiness probe
// (a container without one is ready once started).
func (a *Agent) ready(pod *types.Pod, c *types.Container, inst *instance) bool {
	return a.probeReady(pod, c, inst)
}

// buildStatus computes the Pod's status from its containers.
func (a *Agent) buildStatus(pod *types.Pod, mine map[string][]*instance, st *podState, startTime *types.Time,
	initDone, initFailed bool, now time.Time) *types.PodStatus {
	s := &types.PodStatus{
		HostIP:    a.cfg.HostIP,
		HostIPs:   []types.HostIP{{IP: a.cfg.HostIP}},
		StartTime: startTime,
		QOSClass:  qosClass(pod),
	}
	if ip := a.podIP(pod); ip != "" {
		s.PodIP = ip
		s.PodIPs = []types.PodIP{{IP: ip}}
	}
	initWaiting := ReasonPodInitializing
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		cs := a.containerStatus(pod, c, mine[c.Name], st, ReasonPodInitializing)
		if cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0 {
			cs.Ready = true
		}
		s.InitContainerStatuses = append(s.InitContainerStatuses, cs)
	}
	if !initDone {
		initWaiting = ReasonPodInitializing
	} else {
		initWaiting = ReasonContainerCreating
	}
	allReady := len(pod.Spec.Containers) > 0
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		cs := a.containerStatus(pod, c, mine[c.Name], st, initWaiting)
		if !cs.Ready {
			allReady = false
		}
		s.ContainerStatuses = append(s.ContainerStatuses, cs)
	}
	s.Phase = podPhase(pod, s, initDone, initFailed)
	if s.Phase == types.PodFailed && initFailed {
		s.Reason, s.Message = "", "an init container failed and restartPolicy is Never"
	}

	initCond := condition(types.PodInitialized, initDone, "ContainersNotInitialized",
		"containers with incomplete status: "+pending(s.InitContainerStatuses))
	terminal := s.Phase == types.PodSucceeded || s.Phase == types.PodFailed
	readyReason, readyMsg := "ContainersNotReady", "containers with unready status: "+unready(s.ContainerStatuses)
	if terminal {
		allReady = false
		readyReason, readyMsg = "PodCompleted", ""
		initCond = condition(types.PodInitialized, true, "", "")
		if initFailed {
			initCond = condition(types.PodInitialized, false, "ContainersNotInitialized", "containers with incomplete status: "+pending(s.InitContainerStatuses))
		} else if s.Phase == types.PodSucceeded || len(pod.Spec.InitContainers) == 0 {
			initCond.Reason = "PodCompleted"
		}
	}
	s.Conditions = []types.PodCondition{
		initCond,
		condition(types.PodReady, allReady, readyReason, readyMsg),
		condition(types.ContainersReady, allReady, readyReason, readyMsg),
		{Type: types.PodScheduled, Status: types.ConditionTrue},
	}
	mergeConditions(s, &pod.Status, now)
	return s
}

// failedStatus is the status of a Pod that failed as a whole (deadline,
// missing runtime), keeping what its containers did.
func (a *Agent) failedStatus(pod *types.Pod, mine map[string][]*instance, reason, msg string) *types.PodStatus {
	now := a.cfg.Now()
	startTime := pod.Status.StartTime
	if startTime == nil {
		t := sec(now)
		startTime = &t
	}
	s := a.buildStatus(pod, mine, newPodState(), startTime, false, false, now)
	s.Phase, s.Reason, s.Message = types.PodFailed, reason, msg
	for i := range s.Conditions {
		switch s.Conditions[i].Type {
		case types.PodReady, types.ContainersReady:
			s.Conditions[i].Status = types.ConditionFalse
			s.Conditions[i].Reason, s.Conditions[i].Message = "PodFailed", ""
		}
	}
	// A container that never ran or was stopped is shown terminated.
	for _, css := range [][]types.ContainerStatus{s.InitContainerStatuses, s.ContainerStatuses} {
		for i := range css {
			cs := &css[i]
			if cs.State.Terminated == nil {
				cs.State = types.ContainerState{Terminated: &types.ContainerStateTerminated{
					ExitCode: 137, Reason: "ContainerStatusUnknown",
					Message: "The container could not be located when the pod was terminated"}}
				if cs.ContainerID != "" {
					cs.State.Terminated.ExitCode = 137
					cs.State.Terminated.Reason = reason
					cs.State.Terminated.Message = ""
				}
				cs.Ready = false
			}
		}
	}
	return s
}

// condition builds a Pod condition; reason and message only when false.
func condition(t types.PodConditionType, ok bool, reason, msg string) types.PodCondition {
	if ok {
		return types.PodCondition{Type: t, Status: types.ConditionTrue}
	}
	return types.PodCondition{Type: t, Status: types.ConditionFalse, Reason: reason, Message: msg}
}

// mergeConditions keeps the transition times of unchanged conditions,
// stamps new ones, and keeps conditions the agent does not own.
func mergeConditions(s, old *types.PodStatus, now time.Time) {
	prev := map[types.PodConditionType]types.PodCondition{}
	for _, c := range old.Conditions {
		prev[c.Type] = c
	}
	mine := map[types.PodConditionType]bool{}
	for i := range s.Conditions {
		c := &s.Conditions[i]
		mine[c.Type] = true
		if p, ok := prev[c.Type]; ok && p.Status == c.Status {
			c.LastTransitionTime = p.LastTransitionTime
			c.LastProbeTime = p.LastProbeTime
			if c.Type == types.PodScheduled {
				*c = p
			}
		} else {
			c.LastTransitionTime = sec(now)
		}
	}
	for _, c := range old.Conditions {
		if !mine[c.Type] {
			s.Conditions = append(s.Conditions, c)
		}
	}
}

// pending lists the init containers not yet terminated successfully, as
// "[a b]".
func pending(css []types.ContainerStatus) string {
	var names []string
	for _, cs := range css {
		if cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0 {
			names = append(names, cs.Name)
		}
	}
	return fmt.Sprint(names)
}

// unready lists the containers not ready, as "[a b]".
func unready(css []types.ContainerStatus) string {
	var names []string
	for _, cs := range css {
		if !cs.Ready {
			names = append(names, cs.Name)
		}
	}
	return fmt.Sprint(names)
}

// podPhase is the kubelet's getPhase over the computed statuses.
func podPhase(pod *types.Pod, s *types.PodStatus, initDone, initFailed bool) types.PodPhase {
	if initFailed {
		return types.PodFailed
	}
	if !initDone {
		return types.PodPending
	}
	var running, waiting, stopped, succeeded int
	for _, cs := range s.ContainerStatuses {
		switch {
		case cs.State.Running != nil:
			running++
		case cs.State.Terminated != nil:
			stopped++
			if cs.State.Terminated.ExitCode == 0 {
				succeeded++
			}
		case cs.State.Waiting != nil:
			if cs.LastTerminationState.Terminated != nil {
				stopped++
			} else {
				waiting++
			}
		}
	}
	switch {
	case waiting > 0:
		return types.PodPending
	case running > 0:
		return types.PodRunning
	case stopped > 0:
		switch pod.Spec.RestartPolicy {
		case types.RestartPolicyNever:
			if stopped == succeeded {
				return types.PodSucceeded
			}
			return types.PodFailed
		case types.RestartPolicyOnFailure:
			if stopped == succeeded {
				return types.PodSucceeded
			}
			return types.PodRunning
		default:
			return types.PodRunning
		}
	}
	return types.PodPending
}

// qosClass is the Pod's QoS class from its containers' resources.
func qosClass(pod *types.Pod) types.PodQOSClass {
	any, guaranteed := false, true
	for _, cs := range [][]types.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range cs {
			if len(c.Resources.Requests) > 0 || len(c.Resources.Limits) > 0 {
				any = true
			}
			for _, r := range []types.ResourceName{types.ResourceCPU, types.ResourceMemory} {
				l, ok := c.Resources.Limits[r]
				if !ok {
					guaranteed = false
					continue
				}
				if q, ok := c.Resources.Requests[r]; ok && !q.Equal(l) {
					guaranteed = false
				}
			}
		}
	}
	switch {
	case !any:
		return types.PodQOSBestEffort
	case guaranteed:
		return types.PodQOSGuaranteed
	}
	return types.PodQOSBurstable
}

// podIP is the address reported for the Pod.
func (a *Agent) podIP(pod *types.Pod) string {
	if a.cfg.PodIP != nil && !pod.Spec.HostNetwork {
		return a.cfg.PodIP(pod)
	}
	return a.cfg.HostIP
}

// writeStatus writes status through the status subresource if it differs
// from what the Pod shows (and from what this agent last wrote, when the
// cache has not caught up yet).
func (a *Agent) writeStatus(ctx context.Context, pod *types.Pod, status *types.PodStatus) error {
	b, err := json.Marshal(status)
	if err != nil {
		return fmt.Errorf("encode status: %w", err)
	}
	cur, err := json.Marshal(&pod.Status)
	if err != nil {
		return fmt.Errorf("encode status: %w", err)
	}
	if bytes.Equal(b, cur) {
		return nil
	}
	a.mu.Lock()
	w, ok := a.written[pod.UID]
	a.mu.Unlock()
	if ok && bytes.Equal(w.status, b) && rvLess(pod.ResourceVersion, w.rv) {
		return nil // the cache is behind our own write
	}
	next := types.Clone(pod)
	next.Status = *status
	out, err := sdk.Typed[*types.Pod](a.client).Namespace(pod.Namespace).UpdateStatus(ctx, next)
	if err != nil {
		if sdk.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("update status of pod %q in namespace %q: %w", pod.Name, pod.Namespace, err)
	}
	a.mu.Lock()
	a.written[pod.UID] = written{status: b, rv: out.ResourceVersion}
	a.mu.Unlock()
	return nil
}

// rvLess compares resourceVersions, which Wharf's store issues as
// increasing integers.
func rvLess(a, b string) bool {
	x, err1 := strconv.ParseUint(a, 10, 64)
	y, err2 := strconv.ParseUint(b, 10, 64)
	return err1 == nil && err2 == nil && x < y
}
