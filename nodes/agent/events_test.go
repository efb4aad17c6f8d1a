package agent_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/internal/testutil"
	"github.com/wharfhq/wharf/runtimes"
)

// noIDs fails when an event about the Pod, or a message in its container
// statuses, carries the Pod's UID (part of every Wharf instance ID).
func noIDs(t *testing.T, e *env, p *types.Pod) {
	t.Helper()
	if p.UID == "" {
		t.Fatalf("pod %q has no UID", p.Name)
	}
	for _, ev := range e.events(t, p.Name) {
		if strings.Contains(ev, p.UID) {
			t.Errorf("event names an instance ID: %s", ev)
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		for _, st := range []types.ContainerState{cs.State, cs.LastTerminationState} {
			if st.Waiting != nil && strings.Contains(st.Waiting.Message, p.UID) {
				t.Errorf("container %s: waiting message names an instance ID: %q", cs.Name, st.Waiting.Message)
			}
			if st.Terminated != nil && strings.Contains(st.Terminated.Message, p.UID) {
				t.Errorf("container %s: terminated message names an instance ID: %q", cs.Name, st.Terminated.Message)
			}
		}
	}
}

// A container that cannot start gets the kubelet's events, Created then
// Failed "Error: failed to start container "NAME": CAUSE", whether the
// runtime saw the failure at Create or at Start; its terminated state has
// StartError and the Unix epoch as startedAt, as Kubernetes shows it.
func TestStartErrorEvents(t *testing.T) {
	e := newEnv(t)
	rt := newFake("container")
	e.startAgent(t, t.TempDir(), map[string]runtimes.Runtime{"container": rt}, nil)
	const cause = `exec: "/bin/sh": stat /bin/sh: no such file or directory`
	for _, mode := range []string{"nostart", "nocreate"} {
		t.Run(mode, func(t *testing.T) {
			e.create(t, pod(mode, types.RestartPolicyNever, []string{mode, cause}))
			e.waitEvent(t, mode, "Warning Failed: ")
			p := e.waitPod(t, mode, "Failed", phase(types.PodFailed))

			evs := e.events(t, mode)
			wantCreated := "Normal Created: Created container c0 (x1)"
			wantFailed := `Warning Failed: Error: failed to start container "c0": ` + cause + " (x1)"
			ic, ifl := slices.Index(evs, wantCreated), slices.Index(evs, wantFailed)
			if ic < 0 || ifl < 0 || ic > ifl {
				t.Errorf("events, want %q then %q:\n%s", wantCreated, wantFailed, strings.Join(evs, "\n"))
			}
			for _, ev := range evs {
				if strings.Contains(ev, "Normal Started:") {
					t.Errorf("event %q for a container that never started", ev)
				}
			}

			term := p.Status.ContainerStatuses[0].State.Terminated
			if term == nil || term.Reason != runtimes.ReasonStartError || term.ExitCode != 128 || term.Message != cause {
				t.Fatalf("state = %+v, want terminated StartError 128 %q", p.Status.ContainerStatuses[0].State, cause)
			}
			if got := term.StartedAt.Format(time.RFC1123Z); got != "Thu, 01 Jan 1970 00:00:00 +0000" {
				t.Errorf("startedAt as kubectl describe shows it = %q", got)
			}
			b, err := json.Marshal(term)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), `"startedAt":"1970-01-01T00:00:00Z"`) {
				t.Errorf("terminated state serialised as %s", b)
			}
			if term.FinishedAt.IsZero() {
				t.Errorf("finishedAt unset: %+v", term)
			}
			noIDs(t, e, p)
		})
	}
	t.Run("restarted", func(t *testing.T) {
		// Each restart is a new instance (a new ID); its events are the
		// same, so they are one Event each, counted.
		e.create(t, pod("loop", types.RestartPolicyAlways, []string{"nostart", cause}))
		want := `Warning Failed: Error: failed to start container "c0": ` + cause + " (x"
		var evs []string
		waitFor(t, "the Failed event counted twice", func() bool {
			evs = e.events(t, "loop")
			for _, ev := range evs {
				var n int
				if rest, ok := strings.CutPrefix(ev, want); ok {
					if _, err := fmt.Sscanf(rest, "%d)", &n); err == nil && n >= 2 {
						return true
					}
				}
			}
			return false
		})
		failed := 0
		for _, ev := range evs {
			if strings.HasPrefix(ev, "Warning Failed:") {
				failed++
			}
		}
		if failed != 1 {
			t.Errorf("%d Failed events, want one counted:\n%s", failed, strings.Join(evs, "\n"))
		}
	})
	t.Run("kubectl describe pod", func(t *testing.T) {
		out := e.kubectl(t, "describe", "pod", "nostart")
		for _, want := range []*regexp.Regexp{
			regexp.MustCompile(`State:\s+Terminated\n\s+Reason:\s+StartError\n`),
			regexp.MustCompile(`\n\s+Exit Code:\s+128\n\s+Started:\s+Thu, 01 Jan 1970 00:00:00 \+0000\n\s+Finished:\s+\S`),
			regexp.MustCompile(`Normal\s+Created\s+.*Created container c0\n`),
			regexp.MustCompile(`Warning\s+Failed\s+.*Error: failed to start container "c0": ` + regexp.QuoteMeta(cause) + `\n`),
		} {
			if !want.MatchString(out) {
				t.Errorf("kubectl describe pod does not match %s:\n%s", want, out)
			}
		}
	})
}

// kubectl runs kubectl against the env's API server and returns its
// output.
func (e *env) kubectl(t *testing.T, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("kubectl")
	if err != nil {
		testutil.Unavailable(t, "kubectl is not on PATH")
	}
	home := t.TempDir()
	cmd := exec.Command(path, append([]string{"--server", e.url, "--namespace", "default"}, args...)...)
	cmd.Env = []string{"HOME=" + home, "KUBECONFIG=" + home + "/config", "PATH=" + os.Getenv("PATH")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl %s: %v: %s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return string(out)
}

// Messages users read (events, status) name the container, never Wharf's
// instance ID "<uid>-<name>-<restart>", which runtimes put in their errors.
func TestMessagesNameTheContainer(t *testing.T) {
	e := newEnv(t)
	rt := newFake("container")
	rt.execFunc = func(id string, cmd []string) int { return -1 } // the probe command cannot run
	e.startAgent(t, t.TempDir(), map[string]runtimes.Runtime{"container": rt}, nil)

	t.Run("create error", func(t *testing.T) {
		e.create(t, pod("badcreate", types.RestartPolicyAlways, []string{"badcreate", "no space left on device"}))
		p := e.waitPod(t, "badcreate", "CreateContainerError", func(p *types.Pod) bool {
			cs := p.Status.ContainerStatuses
			return len(cs) == 1 && cs[0].State.Waiting != nil && cs[0].State.Waiting.Reason == "CreateContainerError"
		})
		if w, want := p.Status.ContainerStatuses[0].State.Waiting.Message, `container "c0": no space left on device`; w != want {
			t.Errorf("waiting message = %q, want %q", w, want)
		}
		e.waitEvent(t, "badcreate", `Warning Failed: Error: container "c0": no space left on device`)
		noIDs(t, e, p)
	})
	t.Run("exec probe", func(t *testing.T) {
		pr := pod("execprobe", types.RestartPolicyAlways, []string{"serve"})
		pr.Spec.Containers[0].ReadinessProbe = &types.Probe{ProbeHandler: types.ProbeHandler{Exec: &types.ExecAction{Command: []string{"ready"}}},
			PeriodSeconds: 1}
		e.create(t, pr)
		e.waitEvent(t, "execprobe", `Warning Unhealthy: Readiness probe failed: exec "ready": container "c0": exec "ready": no such file or directory`)
		p := e.waitPod(t, "execprobe", "Running", phase(types.PodRunning))
		noIDs(t, e, p)
	})
}
