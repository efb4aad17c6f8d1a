package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/sdk"
)

// Waiting reasons, as the kubelet reports them.
const (
	ReasonContainerCreating     = "ContainerCreating"
	ReasonPodInitializing       = "PodInitializing"
	ReasonCrashLoopBackOff      = "CrashLoopBackOff"
	ReasonErrImagePull          = "ErrImagePull"
	ReasonImagePullBackOff      = "ImagePullBackOff"
	ReasonErrImageNeverPull     = "ErrImageNeverPull" // not present, pull policy Never
	ReasonCreateContainerConfig = "CreateContainerConfigError"
	ReasonCreateContainer       = "CreateContainerError"
	ReasonRunContainer          = "RunContainerError"
	// ReasonRuntimeUnavailable: the Pod's runtime is not on this node.
	ReasonRuntimeUnavailable = "RuntimeUnavailable"
)

// podState is what the agent keeps in memory about a Pod between syncs.
// None of it is needed for correctness after a restart: it only shapes
// the waiting reasons shown until the next attempt.
type podState struct {
	mu sync.Mutex
	// waiting is the last failure to start each container, by name.
	waiting map[string]*waitInfo
	// messages caches the termination messages of exited containers, by
	// container ID.
	messages map[string]string
	// probeKilled marks container IDs the agent stopped for failing a
	// probe or a postStart hook: their exit counts as a failure whatever
	// its code.
	probeKilled map[string]bool
	// stopping marks container IDs whose stop (stopAsync) is under way.
	stopping map[string]bool
	// replace marks container IDs stopped because the Pod's image changed:
	// once exited, the next instance is started at once.
	replace map[string]bool
}

func newPodState() *podState {
	return &podState{waiting: map[string]*waitInfo{}, probeKilled: map[string]bool{}, messages: map[string]string{},
		stopping: map[string]bool{}, replace: map[string]bool{}}
}

// waitInfo is why a container is not running, and when to try again.
type waitInfo struct {
	reason, message string
	// image is the image the failures were with: a Pod updated to
	// another image starts afresh (the kubelet keys its image back-off
	// by image too).
	image    string
	failures int
	retryAt  time.Time
}

// state returns the in-memory state of pod uid, creating it.
func (a *Agent) state(uid string) *podState {
	a.mu.Lock()
	defer a.mu.Unlock()
	st, ok := a.states[uid]
	if !ok {
		st = newPodState()
		a.states[uid] = st
	}
	return st
}

// forget drops the in-memory state of pod uid.
func (a *Agent) forget(uid string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.states, uid)
	delete(a.written, uid)
}

// backoff is the crash-loop delay before restart number restart+1.
func (a *Agent) backoff(restart int32) time.Duration {
	d := a.cfg.BackoffBase
	for range restart {
		d *= 2
		if d >= a.cfg.BackoffMax {
			return a.cfg.BackoffMax
		}
	}
	return d
}

// plan is the outcome of one sync: the status to report and when to look
// again (0: only on the next event).
type plan struct {
	requeue time.Duration
}

func (p *plan) after(d time.Duration) {
	if d <= 0 {
		d = time.Millisecond
	}
	if p.requeue == 0 || d < p.requeue {
		p.requeue = d
	}
}

// sync reconciles one Pod key ("ns/name").
func (a *Agent) sync(ctx context.Context, key string) error {
	ns, name := sdk.SplitKey(key)
	pod, err := sdk.ListerFor[*types.Pod](a.pods).Get(ns, name)
	if err != nil && !sdk.IsNotFound(err) {
		return err
	}
	uid := ""
	if pod != nil {
		uid = pod.UID
	}
	mine, others := a.podContainers(ctx, ns, name, uid)
	// Containers of an earlier Pod of this name: nobody wants them.
	gone := map[string]bool{}
	for _, c := range others {
		a.removeContainer(ctx, c, 0)
		gone[c.info.Labels[LabelPodUID]] = true
	}
	for old := range gone {
		a.releasePod(&types.Pod{ObjectMeta: types.ObjectMeta{Namespace: ns, Name: name, UID: old}})
		a.forget(old)
	}
	if pod == nil {
		return nil // the others above were all there was
	}
	if pod.DeletionTimestamp != nil {
		a.terminateAsync(pod, mine)
		return nil
	}
	if pod.Status.Phase == types.PodSucceeded || pod.Status.Phase == types.PodFailed {
		// A finished Pod keeps its containers (for logs) but runs nothing;
		// one marked finished by someone else (a lost node's Pods are
		// failed by the node lifecycle controller) is stopped gracefully,
		// off the worker; its network namespace goes once all have exited.
		if a.stopFinished(pod, mine) {
			return nil // queued again when the stops are done
		}
		if err := a.removeNetNS(pod.UID); err != nil {
			a.log.Warn("remove network namespace", "pod", key, "err", err)
		}
		return nil
	}
	for _, list := range mine {
		for _, c := range list {
			a.ensureWaiter(c.rt, c.info, key)
		}
	}
	if usesSources(pod) || len(a.pullSecretNames(pod)) > 0 {
		if err := a.sources.ensure(ctx, pod.Namespace); err != nil {
			return err
		}
	}
	var p plan
	status, err := a.reconcile(ctx, pod, mine, &p)
	if err != nil {
		return err
	}
	if err := a.writeStatus(ctx, pod, status); err != nil {
		return err
	}
	if p.requeue > 0 {
		a.queue.AddAfter(key, p.requeue)
	}
	return nil
}

// podSync is one sync of one Pod.
type podSync struct {
	pod    *types.Pod
	rt     runtimes.Runtime
	mounts map[string]string // volume name -> host path
	netns  string            // network namespace path, "" for a fresh one
	st     *podState
	plan   *plan
	now    time.Time
}

// reconcile starts what should run and returns the Pod's new status.
func (a *Agent) reconcile(ctx context.Context, pod *types.Pod, mine map[string][]*instance, p *plan) (*types.PodStatus, error) {
	now := a.cfg.Now()
	st := a.state(pod.UID)
	st.mu.Lock()
	defer st.mu.Unlock()

	rt, err := a.runtimeFor(pod)
	if err != nil {
		a.events.warn(pod, "", "Failed", err.Error())
		return a.failedStatus(pod, mine, ReasonRuntimeUnavailable, err.Error()), nil
	}
	startTime := pod.Status.StartTime
	if startTime == nil {
		t := sec(now)
		startTime = &t
	}
	if d := pod.Spec.ActiveDeadlineSeconds; d != nil {
		end := startTime.Add(time.Duration(*d) * time.Second)
		if !now.Before(end) {
			msg := fmt.Sprintf("Pod was active on the node longer than the specified deadline (%ds)", *d)
			a.stopAll(ctx, pod, mine, 0)
			a.events.normal(pod, "", "DeadlineExceeded", msg)
			mine, _ = a.podContainers(ctx, pod.Namespace, pod.Name, pod.UID)
			return a.failedStatus(pod, mine, "DeadlineExceeded", msg), nil
		}
		p.after(end.Sub(now))
	}
	ps := &podSync{pod: pod, rt: rt, st: st, plan: p, now: now}

	var setupErr error
	ps.mounts, setupErr = a.setupVolumes(pod)
	if setupErr != nil {
		a.events.warn(pod, "", "FailedMount", setupErr.Error())
		p.after(2 * time.Second)
	}
	if rt.Name() == RuntimeContainer {
		switch {
		case pod.Spec.HostNetwork:
			ps.netns = fmt.Sprintf("/proc/%d/ns/net", os.Getpid())
		case a.podNetNS() && setupErr == nil:
			ps.netns, setupErr = a.ensureNetNS(pod.UID)
			if setupErr != nil {
				a.events.warn(pod, "", "FailedCreatePodSandBox", setupErr.Error())
				p.after(2 * time.Second)
			}
		}
	}

	initDone, initFailed := initSucceeded(pod, mine), false
	if setupErr == nil {
		initDone, initFailed = a.syncInit(ctx, ps, mine)
		if initDone {
			a.syncApps(ctx, ps, mine)
		}
	}
	// What was started changed the picture: read it again.
	mine, _ = a.podContainers(ctx, pod.Namespace, pod.Name, pod.UID)
	key := sdk.KeyFunc(pod)
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		for j, inst := range mine[c.Name] {
			if j == 0 && inst.info.State == runtimes.StateRunning {
				a.ensureProbes(pod, c, inst)
			} else {
				a.stopProbes(inst.info.ID)
			}
		}
	}
	for _, list := range mine {
		for _, c := range list {
			a.ensureWaiter(c.rt, c.info, key)
		}
	}
	return a.buildStatus(pod, mine, st, startTime, initDone, initFailed, now), nil
}

// initSucceeded reports whether every init container has exited 0.
func initSucceeded(pod *types.Pod, mine map[string][]*instance) bool {
	for _, c := range pod.Spec.InitContainers {
		if !succeeded(mine[c.Name]) {
			return false
		}
	}
	return true
}

// succeeded reports whether the newest instance exited 0.
func succeeded(list []*instance) bool {
	return len(list) > 0 && list[0].info.State == runtimes.StateExited && list[0].info.Exit != nil && list[0].info.Exit.ExitCode == 0
}

// syncInit runs the init containers in order, each to success, and
// reports whether all have succeeded, or one failed for good.
func (a *Agent) syncInit(ctx context.Context, ps *podSync, mine map[string][]*instance) (done, failed bool) {
	pod := ps.pod
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		list := mine[c.Name]
		if succeeded(list) {
			continue
		}
		if len(list) == 0 {
			a.startContainer(ctx, ps, c, true, 0)
			return false, false
		}
		latest := list[0]
		switch {
		case latest.info.State == runtimes.StateCreated:
			a.startCreated(ctx, pod, c, latest, ps.st, ps.plan)
		case latest.info.State != runtimes.StateExited:
			// running: wait for it
		case pod.Spec.RestartPolicy == types.RestartPolicyNever:
			return false, true
		default:
			a.restartAfterBackoff(ctx, ps, c, true, latest)
		}
		return false, false
	}
	return true, false
}

// syncApps starts the app containers that should run and restarts those
// that exited (per the restart policy), failed a probe, or whose image was
// changed on the Pod.
func (a *Agent) syncApps(ctx context.Context, ps *podSync, mine map[string][]*instance) {
	pod, st := ps.pod, ps.st
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		list := mine[c.Name]
		if len(list) == 0 {
			a.startContainer(ctx, ps, c, false, 0)
			continue
		}
		latest := list[0]
		if st.stopping[latest.info.ID] {
			continue // stopAsync queues the Pod again once it has exited
		}
		if latest.info.State == runtimes.StateRunning && latest.podImage() != c.Image {
			// The image was changed on the Pod (the one mutable field of a
			// container): replace the container as soon as it has exited.
			a.events.normal(pod, c.Name, "Killing", fmt.Sprintf("Container %s definition changed, will be restarted", c.Name))
			st.replace[latest.info.ID] = true
			a.stopAsync(sdk.KeyFunc(pod), latest, st, a.grace(pod, c, ""), "stop a changed container")
			continue
		}
		if latest.info.State == runtimes.StateRunning {
			kind, bad := a.unhealthy(c, latest)
			if !bad {
				continue
			}
			a.events.normal(pod, c.Name, "Killing", fmt.Sprintf("Container %s failed %s probe, will be restarted", c.Name, strings.ToLower(string(kind))))
			st.probeKilled[latest.info.ID] = true
			a.stopAsync(sdk.KeyFunc(pod), latest, st, a.grace(pod, c, kind), "stop unhealthy container")
			continue
		}
		if latest.info.State == runtimes.StateExited && st.replace[latest.info.ID] {
			// One immediate start, as before the stop went off the worker;
			// a failure to start is then retried as any exit.
			delete(st.replace, latest.info.ID)
			a.startContainer(ctx, ps, c, false, latest.restart+1)
			continue
		}
		switch latest.info.State {
		case runtimes.StateCreated:
			a.startCreated(ctx, pod, c, latest, st, ps.plan)
		case runtimes.StateExited:
			if st.probeKilled[latest.info.ID] && pod.Spec.RestartPolicy != types.RestartPolicyNever ||
				shouldRestart(pod.Spec.RestartPolicy, latest.info.Exit) {
				a.restartAfterBackoff(ctx, ps, c, false, latest)
			}
		}
	}
}

// shouldRestart applies the restart policy to an exit.
func shouldRestart(policy types.RestartPolicy, exit *runtimes.ExitStatus) bool {
	switch policy {
	case types.RestartPolicyNever:
		return false
	case types.RestartPolicyOnFailure:
		return exit == nil || exit.ExitCode != 0
	default:
		return true
	}
}

// restartAfterBackoff starts the next instance of an exited container once
// its crash-loop back-off, counted from its exit, has passed.
func (a *Agent) restartAfterBackoff(ctx context.Context, ps *podSync, c *types.Container, init bool, latest *instance) {
	pod, st, p, now := ps.pod, ps.st, ps.plan, ps.now
	finished := latest.info.CreatedAt
	if latest.info.Exit != nil && !latest.info.Exit.FinishedAt.IsZero() {
		finished = latest.info.Exit.FinishedAt
	}
	delay := a.backoff(latest.restart)
	if wait := finished.Add(delay).Sub(now); wait > 0 {
		msg := fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", delay, c.Name, pod.Name, pod.Namespace, pod.UID)
		if w := st.waiting[c.Name]; w == nil || w.reason != ReasonCrashLoopBackOff {
			a.events.warn(pod, c.Name, "BackOff", "Back-off restarting failed container "+c.Name+" in pod "+pod.Name+"_"+pod.Namespace+"("+pod.UID+")")
		}
		st.waiting[c.Name] = &waitInfo{reason: ReasonCrashLoopBackOff, image: c.Image, message: msg, retryAt: now.Add(wait)}
		p.after(wait)
		return
	}
	a.startContainer(ctx, ps, c, init, latest.restart+1)
}

// startContainer pulls, creates and starts one container instance. A
// failure is recorded as the container's waiting reason and retried later.
func (a *Agent) startContainer(ctx context.Context, ps *podSync, c *types.Container, init bool, restart int32) {
	pod, rt, st, p, now := ps.pod, ps.rt, ps.st, ps.plan, ps.now
	if w := st.waiting[c.Name]; w != nil && w.image == c.Image && now.Before(w.retryAt) {
		switch w.reason {
		case ReasonImagePullBackOff, ReasonErrImagePull:
			w.reason = ReasonImagePullBackOff
			p.after(w.retryAt.Sub(now))
			return
		case ReasonErrImageNeverPull:
			// The kubelet keeps this reason: no pull is being backed off.
			p.after(w.retryAt.Sub(now))
			return
		case ReasonCreateContainer:
			// An image with the wrong content (a Wasm Pod given a
			// container image) may be pushed again under the same tag:
			// retried, but with back-off, as a pull is.
			p.after(w.retryAt.Sub(now))
			return
		}
	}
	spec, err := a.buildSpec(pod, c, init, restart, ps.mounts, ps.netns)
	if err != nil {
		a.setWaiting(pod, c, st, p, now, ReasonCreateContainerConfig, err.Error(), "Failed", "Error: "+err.Error())
		return
	}
	// As the kubelet: "Pulling" then "Pulled" for a fetch, one "Pulled ...
	// already present" when the runtime reports the image present. The
	// progress callback runs during Pull, on this goroutine or another.
	if err := a.addTerminationLog(pod, c, rt, spec, containerID(pod.UID, c.Name, restart)); err != nil {
		a.setWaiting(pod, c, st, p, now, ReasonCreateContainer, err.Error(), "Failed", "Error: "+err.Error())
		return
	}
	pullStart := a.cfg.Now()
	var pullMu sync.Mutex
	present, pulling := false, false
	progress := func(pp runtimes.PullProgress) {
		pullMu.Lock()
		defer pullMu.Unlock()
		if pp.AlreadyPresent {
			present = true
		} else if !pulling {
			pulling = true
			a.events.normal(pod, c.Name, "Pulling", fmt.Sprintf("Pulling image %q", c.Image))
		}
	}
	spec.PullSecrets = a.pullSecrets(pod)
	err = rt.Pull(ctx, spec, progress)
	notLoaded := errors.Is(err, runtimes.ErrImageNotLoaded)
	// With policy Never nothing is fetched: a pull error means the image
	// is not on the node.
	neverPull := spec.PullPolicy == string(types.PullNever) && errors.Is(err, runtimes.ErrImagePull)
	pullMu.Lock()
	if !present && !pulling && !notLoaded && !neverPull {
		a.events.normal(pod, c.Name, "Pulling", fmt.Sprintf("Pulling image %q", c.Image))
	}
	pullMu.Unlock()
	switch {
	case err == nil:
	case neverPull:
		// As the kubelet, which does not ask the runtime to pull then; a
		// local image not loaded keeps its hint on how to load it.
		msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", c.Image)
		if notLoaded {
			msg += fmt.Sprintf("; load it with `wharf image load --data-dir %s FILE` on node %s", a.cfg.NodeDataDir, a.cfg.NodeName)
		}
		a.setWaiting(pod, c, st, p, now, ReasonErrImageNeverPull, msg, ReasonErrImageNeverPull, msg)
		return
	case notLoaded:
		// A local image: only `wharf image load` on this node brings it.
		msg := fmt.Sprintf("image %s is not loaded on node %s; load it with `wharf image load --data-dir %s FILE` on that node (local images are not pulled from a registry)",
			c.Image, a.cfg.NodeName, a.cfg.NodeDataDir)
		a.setWaiting(pod, c, st, p, now, ReasonErrImagePull, msg, "Failed", fmt.Sprintf("Failed to pull image %q: %s", c.Image, msg))
		return
	case errors.Is(err, runtimes.ErrInvalidImage):
		// The fetch worked (or was not needed) but what it brought cannot
		// run here: not a pull failure, which would suggest the registry.
		a.setWaiting(pod, c, st, p, now, ReasonCreateContainer, err.Error(), "Failed", "Error: "+err.Error())
		return
	case errors.Is(err, runtimes.ErrImagePull):
		a.setWaiting(pod, c, st, p, now, ReasonErrImagePull, err.Error(), "Failed",
			fmt.Sprintf("Failed to pull image %q: %v", c.Image, err))
		return
	default:
		a.setWaiting(pod, c, st, p, now, ReasonErrImagePull, err.Error(), "Failed", "Error: "+err.Error())
		return
	}
	if present {
		a.events.normal(pod, c.Name, "Pulled", fmt.Sprintf("Container image %q already present on machine", c.Image))
	} else {
		a.events.normal(pod, c.Name, "Pulled", fmt.Sprintf("Successfully pulled image %q in %s", c.Image, a.cfg.Now().Sub(pullStart).Round(time.Millisecond)))
	}
	id := containerID(pod.UID, c.Name, restart)
	if err := rt.Create(ctx, id, spec); err != nil {
		if errors.Is(err, runtimes.ErrExists) {
			return // created by an earlier sync that lost its answer; the next sync starts it
		}
		if a.startFailed(ctx, pod, c, rt, id, err, st, p, true) {
			return
		}
		a.setWaiting(pod, c, st, p, now, ReasonCreateContainer, err.Error(), "Failed", "Error: "+err.Error())
		return
	}
	a.events.normal(pod, c.Name, "Created", "Created container "+c.Name)
	if err := rt.Start(ctx, id); err != nil {
		if a.startFailed(ctx, pod, c, rt, id, err, st, p, false) {
			return
		}
		a.setWaiting(pod, c, st, p, now, ReasonRunContainer, err.Error(), "Failed", "Error: "+err.Error())
		return
	}
	a.events.normal(pod, c.Name, "Started", "Started container "+c.Name)
	delete(st.waiting, c.Name)
	a.runPostStart(ctx, pod, c, &instance{rt: rt, info: runtimes.Info{ID: id, State: runtimes.StateRunning}, restart: restart}, st)
	a.pruneOld(ctx, pod, c.Name, restart)
}

// startCreated starts an instance left created (an agent stopped between
// Create and Start).
func (a *Agent) startCreated(ctx context.Context, pod *types.Pod, c *types.Container, inst *instance, st *podState, p *plan) {
	if err := inst.rt.Start(ctx, inst.info.ID); err != nil {
		if a.startFailed(ctx, pod, c, inst.rt, inst.info.ID, err, st, p, false) {
			return
		}
		a.setWaiting(pod, c, st, p, a.cfg.Now(), ReasonRunContainer, err.Error(), "Failed", "Error: "+err.Error())
		return
	}
	a.events.normal(pod, c.Name, "Started", "Started container "+c.Name)
	delete(st.waiting, c.Name)
}

// startFailed handles an error of Create or Start (err) after which the
// runtime kept instance id as exited: a process that could not be started
// (runtimes.ReasonStartError, exit code 128), as containerd reports it.
// That is a terminated instance, not a waiting container: the next sync
// applies the restart policy to it as to any exit (Never: the Pod fails;
// otherwise CrashLoopBackOff), and restart counts and adoption after an
// agent restart see it as the runtime lists it. It reports whether id was
// such an instance.
//
// Its events are the kubelet's for a container the runtime created but
// could not start: Normal Created (when announce: Create itself reported
// the failure, so no Created was recorded yet), then Warning Failed
// "Error: failed to start container "NAME": CAUSE", naming the container,
// not the instance ID (which goes to the log).
func (a *Agent) startFailed(ctx context.Context, pod *types.Pod, c *types.Container, rt runtimes.Runtime, id string, err error, st *podState, p *plan, announce bool) bool {
	info, ierr := rt.Inspect(ctx, id)
	if ierr != nil || info.State != runtimes.StateExited {
		return false
	}
	a.log.Warn("container could not start", "pod", pod.Namespace+"/"+pod.Name, "id", id, "err", err)
	if announce {
		a.events.normal(pod, c.Name, "Created", "Created container "+c.Name)
	}
	cause := err.Error()
	if info.Exit != nil && info.Exit.Message != "" {
		cause = info.Exit.Message // the runtime's own words, without its "container ID:" prefix
	}
	a.events.warn(pod, c.Name, "Failed", fmt.Sprintf("Error: failed to start container %q: %s", c.Name, cause))
	delete(st.waiting, c.Name)
	p.after(0)
	return true
}

// setWaiting records a start failure with its back-off and event.
func (a *Agent) setWaiting(pod *types.Pod, c *types.Container, st *podState, p *plan, now time.Time, reason, msg, event, eventMsg string) {
	w := st.waiting[c.Name]
	isPull := func(r string) bool { return r == ReasonErrImagePull || r == ReasonImagePullBackOff }
	if w == nil || w.image != c.Image || w.reason != reason && !(isPull(w.reason) && isPull(reason)) {
		w = &waitInfo{image: c.Image} // a new kind of failure, or image, starts its back-off afresh
	}
	if m := withoutIDs(msg, pod.UID, c.Name); m != msg {
		a.log.Warn("container failure", "pod", pod.Namespace+"/"+pod.Name, "reason", reason, "err", msg)
		msg = m
	}
	w.reason, w.message = reason, msg
	delay := a.backoff(int32(w.failures))
	w.failures++
	w.retryAt = now.Add(delay)
	st.waiting[c.Name] = w
	a.events.warn(pod, c.Name, event, eventMsg)
	if reason == ReasonErrImagePull {
		a.events.normal(pod, c.Name, "BackOff", fmt.Sprintf("Back-off pulling image %q", c.Image))
	}
	p.after(delay)
}

// pruneOld removes instances of a container older than the previous one.
func (a *Agent) pruneOld(ctx context.Context, pod *types.Pod, name string, restart int32) {
	if restart < 2 {
		return
	}
	mine, _ := a.podContainers(ctx, pod.Namespace, pod.Name, pod.UID)
	for _, c := range mine[name] {
		if c.restart < restart-1 {
			a.removeContainer(ctx, c, 0)
		}
	}
}

// removeContainer stops (within grace) and removes one container.
func (a *Agent) removeContainer(ctx context.Context, c *instance, grace time.Duration) {
	if c.info.State == runtimes.StateRunning {
		if err := c.rt.Stop(ctx, c.info.ID, grace); err != nil && !errors.Is(err, runtimes.ErrNotFound) {
			a.log.Warn("stop container", "id", c.info.ID, "err", err)
		}
	}
	if err := c.rt.Remove(ctx, c.info.ID); err != nil && !errors.Is(err, runtimes.ErrNotFound) {
		a.log.Warn("remove container", "id", c.info.ID, "err", err)
	}
	a.stopProbes(c.info.ID)
}

// stopAll stops every running container of a Pod, in parallel, each
// within grace.
func (a *Agent) stopAll(ctx context.Context, pod *types.Pod, mine map[string][]*instance, grace time.Duration) {
	var wg sync.WaitGroup
	for name, list := range mine {
		for _, c := range list {
			if c.info.State == runtimes.StateExited {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				a.events.normal(pod, name, "Killing", "Stopping container "+name)
				if err := c.rt.Stop(ctx, c.info.ID, grace); err != nil && !errors.Is(err, runtimes.ErrNotFound) {
					a.log.Warn("stop container", "id", c.info.ID, "err", err)
				}
			}()
		}
	}
	wg.Wait()
}

// terminateAsync runs terminate in a goroutine of its own, once per Pod:
// stopping can take the whole grace period, and a sync worker must not be
// held that long (a mass delete would stall every other Pod).
func (a *Agent) terminateAsync(pod *types.Pod, mine map[string][]*instance) {
	a.mu.Lock()
	ctx := a.runCtx
	if ctx == nil || a.terminating[pod.UID] {
		a.mu.Unlock()
		return
	}
	a.terminating[pod.UID] = true
	a.wg.Add(1)
	a.mu.Unlock()
	go func() {
		defer a.wg.Done()
		err := a.terminate(ctx, pod, mine)
		a.mu.Lock()
		delete(a.terminating, pod.UID)
		a.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			a.log.Warn("terminate pod", "pod", sdk.KeyFunc(pod), "err", err)
			a.queue.AddRateLimited(sdk.KeyFunc(pod))
		}
	}()
}

// terminate stops a Pod being deleted within its grace period, removes its
// containers and volumes, then deletes the object for good.
func (a *Agent) terminate(ctx context.Context, pod *types.Pod, mine map[string][]*instance) error {
	grace := time.Duration(0)
	if g := pod.DeletionGracePeriodSeconds; g != nil && *g > 0 {
		grace = time.Duration(*g) * time.Second
	}
	// The deletionTimestamp is when the grace period ends (Kubernetes'
	// convention: deletion time plus grace); what is left of it bounds
	// the stop.
	deadline := pod.DeletionTimestamp.Time
	if pod.DeletionGracePeriodSeconds == nil {
		deadline = a.cfg.Now().Add(grace)
	}
	left := deadline.Sub(a.cfg.Now())
	if left < 0 {
		left = 0
	}
	a.runPreStop(ctx, pod, mine, left)
	left = deadline.Sub(a.cfg.Now())
	if left < 0 {
		left = 0
	}
	a.stopAll(ctx, pod, mine, left)
	for _, list := range mine {
		for _, c := range list {
			a.removeContainer(ctx, c, 0)
		}
	}
	a.releasePod(pod)
	zero := int64(0)
	err := sdk.Typed[*types.Pod](a.client).Namespace(pod.Namespace).Delete(ctx, pod.Name, types.DeleteOptions{
		GracePeriodSeconds: &zero,
		Preconditions:      &types.Preconditions{UID: &pod.UID},
	})
	if err != nil && !sdk.IsNotFound(err) && !sdk.IsConflict(err) {
		return fmt.Errorf("delete pod %q in namespace %q: %w", pod.Name, pod.Namespace, err)
	}
	a.forget(pod.UID)
	return nil
}

// releasePod removes what the node held for a Pod besides containers.
func (a *Agent) releasePod(pod *types.Pod) {
	if err := a.vols.TearDown(pod.UID); err != nil {
		a.log.Warn("remove volumes", "pod", sdk.KeyFunc(pod), "err", err)
	}
	if err := a.removeNetNS(pod.UID); err != nil {
		a.log.Warn("remove network namespace", "pod", sdk.KeyFunc(pod), "err", err)
	}
}

// runtimeFor picks the Pod's runtime: spec.runtimeClassName "wasm", or a
// RuntimeClass whose handler is "wasm", means Wasm; anything else the
// container runtime.
func (a *Agent) runtimeFor(pod *types.Pod) (runtimes.Runtime, error) {
	want := RuntimeContainer
	if rc := pod.Spec.RuntimeClassName; rc != nil && *rc != "" {
		switch *rc {
		case RuntimeWasm, RuntimeContainer:
			want = *rc
		default:
			obj, err := sdk.ListerFor[*types.RuntimeClass](a.rcs).Get("", *rc)
			if err != nil {
				return nil, fmt.Errorf("runtimeClass %q: %w", *rc, err)
			}
			want = obj.Handler
		}
	}
	rt, ok := a.cfg.Runtimes[want]
	if !ok {
		return nil, fmt.Errorf("pod needs the %q runtime: %w (node %q has %s)", want, ErrNoRuntime, a.cfg.NodeName, a.runtimeNames())
	}
	return rt, nil
}

// runtimeNames lists the node's runtimes for messages.
func (a *Agent) runtimeNames() string {
	s := ""
	for _, n := range []string{RuntimeContainer, RuntimeWasm} {
		if _, ok := a.cfg.Runtimes[n]; ok {
			if s != "" {
				s += ", "
			}
			s += n
		}
	}
	return s
}
