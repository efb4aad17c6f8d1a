package agent

import (
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
)

func TestExpand(t *testing.T) {
	env := map[string]string{"A": "alpha", "B": "$(A)", "EMPTY": ""}
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"$(A)", "alpha"},
		{"x$(A)y$(A)", "xalphayalpha"},
		{"$$(A)", "$(A)"},
		{"$$$(A)", "$alpha"},
		{"$(MISSING)", "$(MISSING)"},
		{"$(EMPTY)|", "|"},
		{"$(B)", "$(A)"}, // values are not expanded again
		{"$(A", "$(A"},
		{"$A", "$A"},
		{"cost: 5$", "cost: 5$"},
		{"$", "$"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := expand(tt.in, env); got != tt.want {
				t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	a := &Agent{cfg: Config{BackoffBase: 10 * time.Second, BackoffMax: 5 * time.Minute}}
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second, 160 * time.Second, 5 * time.Minute, 5 * time.Minute}
	for i, w := range want {
		if got := a.backoff(int32(i)); got != w {
			t.Errorf("backoff(%d) = %s, want %s", i, got, w)
		}
	}
	if got := a.backoff(1 << 30); got != 5*time.Minute {
		t.Errorf("backoff(huge) = %s", got)
	}
}

func TestPodPhase(t *testing.T) {
	running := types.ContainerStatus{State: types.ContainerState{Running: &types.ContainerStateRunning{}}}
	ok := types.ContainerStatus{State: types.ContainerState{Terminated: &types.ContainerStateTerminated{ExitCode: 0}}}
	bad := types.ContainerStatus{State: types.ContainerState{Terminated: &types.ContainerStateTerminated{ExitCode: 1}}}
	creating := types.ContainerStatus{State: types.ContainerState{Waiting: &types.ContainerStateWaiting{Reason: "ContainerCreating"}}}
	crashloop := types.ContainerStatus{State: types.ContainerState{Waiting: &types.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: types.ContainerState{Terminated: &types.ContainerStateTerminated{ExitCode: 1}}}
	tests := []struct {
		name               string
		policy             types.RestartPolicy
		initDone, initFail bool
		css                []types.ContainerStatus
		want               types.PodPhase
	}{
		{"init running", types.RestartPolicyAlways, false, false, []types.ContainerStatus{creating}, types.PodPending},
		{"init failed Never", types.RestartPolicyNever, false, true, []types.ContainerStatus{creating}, types.PodFailed},
		{"creating", types.RestartPolicyAlways, true, false, []types.ContainerStatus{creating, running}, types.PodPending},
		{"running", types.RestartPolicyAlways, true, false, []types.ContainerStatus{running, ok}, types.PodRunning},
		{"crash loop", types.RestartPolicyAlways, true, false, []types.ContainerStatus{crashloop}, types.PodRunning},
		{"all ok Never", types.RestartPolicyNever, true, false, []types.ContainerStatus{ok, ok}, types.PodSucceeded},
		{"one failed Never", types.RestartPolicyNever, true, false, []types.ContainerStatus{ok, bad}, types.PodFailed},
		{"all ok OnFailure", types.RestartPolicyOnFailure, true, false, []types.ContainerStatus{ok}, types.PodSucceeded},
		{"failed OnFailure", types.RestartPolicyOnFailure, true, false, []types.ContainerStatus{crashloop}, types.PodRunning},
		{"exited Always", types.RestartPolicyAlways, true, false, []types.ContainerStatus{ok}, types.PodRunning},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &types.Pod{Spec: types.PodSpec{RestartPolicy: tt.policy}}
			s := &types.PodStatus{ContainerStatuses: tt.css}
			if got := podPhase(pod, s, tt.initDone, tt.initFail); got != tt.want {
				t.Errorf("phase = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestQOSClass(t *testing.T) {
	q := types.MustParse
	tests := []struct {
		name string
		res  types.ResourceRequirements
		want types.PodQOSClass
	}{
		{"none", types.ResourceRequirements{}, types.PodQOSBestEffort},
		{"limits only", types.ResourceRequirements{Limits: types.ResourceList{types.ResourceCPU: q("1"), types.ResourceMemory: q("1Gi")}}, types.PodQOSGuaranteed},
		{"requests below limits", types.ResourceRequirements{
			Limits:   types.ResourceList{types.ResourceCPU: q("1"), types.ResourceMemory: q("1Gi")},
			Requests: types.ResourceList{types.ResourceCPU: q("500m")}}, types.PodQOSBurstable},
		{"requests only", types.ResourceRequirements{Requests: types.ResourceList{types.ResourceMemory: q("1Gi")}}, types.PodQOSBurstable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &types.Pod{Spec: types.PodSpec{Containers: []types.Container{{Name: "c", Resources: tt.res}}}}
			if got := qosClass(pod); got != tt.want {
				t.Errorf("qos = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestPullBackoffGrows(t *testing.T) {
	now := time.Unix(1700000000, 0)
	a := &Agent{cfg: Config{BackoffBase: time.Second, BackoffMax: 4 * time.Second}}
	a.events = newRecorder(nil, "n", func() time.Time { return now }, nil)
	pod := &types.Pod{ObjectMeta: types.ObjectMeta{Name: "p", Namespace: "ns", UID: "u"}}
	c := &types.Container{Name: "c", Image: "img"}
	st := newPodState()
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}
	for i, d := range want {
		p := &plan{}
		a.setWaiting(pod, c, st, p, now, ReasonErrImagePull, "boom", "Failed", "boom")
		if p.requeue != d || !st.waiting["c"].retryAt.Equal(now.Add(d)) {
			t.Errorf("failure %d: requeue %s retryAt %s, want %s", i+1, p.requeue, st.waiting["c"].retryAt.Sub(now), d)
		}
		st.waiting["c"].reason = ReasonImagePullBackOff // as startContainer shows it while waiting
	}
	// Another kind of failure starts afresh.
	p := &plan{}
	a.setWaiting(pod, c, st, p, now, ReasonCreateContainerConfig, "no cm", "Failed", "no cm")
	if p.requeue != time.Second {
		t.Errorf("config error after pull errors: requeue %s, want 1s", p.requeue)
	}
	// A Pod updated to another image is not held by the old image's
	// back-off, and its failures count afresh.
	for i := 0; i < 3; i++ {
		a.setWaiting(pod, c, st, &plan{}, now, ReasonErrImagePull, "boom", "Failed", "boom")
	}
	c2 := &types.Container{Name: "c", Image: "img2"}
	p = &plan{}
	a.setWaiting(pod, c2, st, p, now, ReasonErrImagePull, "boom", "Failed", "boom")
	if p.requeue != time.Second || st.waiting["c"].image != "img2" {
		t.Errorf("pull error of a new image: requeue %s (image %q), want 1s", p.requeue, st.waiting["c"].image)
	}
}

func TestWithoutIDs(t *testing.T) {
	const uid = "8f0c2a9e-1b2d-4c3e-9f00-123456789abc"
	tests := []struct{ name, in, want string }{
		{"no id", "plain message", "plain message"},
		{"quoted id", `container "` + uid + `-web-0": exec: not found`, `container "web": exec: not found`},
		{"many digits, twice", `"` + uid + `-web-12" then "` + uid + `-web-3"`, `"web" then "web"`},
		{"in a path, unquoted", "open /data/" + uid + "/" + uid + "-web-0.log: denied", "open /data/" + uid + "/" + uid + "-web-0.log: denied"},
		{"another container", `"` + uid + `-sidecar-0" failed`, `"` + uid + `-sidecar-0" failed`},
		{"prefix without a restart count", `"` + uid + `-web-" and "` + uid + `-web-0"`, `"` + uid + `-web-" and "web"`},
		{"prefix not closed", `"` + uid + `-web-0x"`, `"` + uid + `-web-0x"`},
		{"at the end", `"` + uid + `-web-7`, `"` + uid + `-web-7`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := withoutIDs(tt.in, uid, "web"); got != tt.want {
				t.Errorf("withoutIDs(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
