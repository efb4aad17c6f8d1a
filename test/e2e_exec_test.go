package test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/internal/testutil"
	"github.com/wharfhq/wharf/sdk"
)

// execBound is how long an exec may still run after its remote command
// exited before the test calls it hung. It is a safety net far above the
// expected (sub-second) end, not a timed assertion.
const execBound = 20 * time.Second

// runHeldStdin runs name with args and a stdin that never closes: a pipe
// whose writer the test holds until the command has exited, as a terminal
// or `sleep 100 | kubectl exec -i ...` would. A command still running
// execBound after it started fails the test (and is killed).
func runHeldStdin(t *testing.T, env []string, name string, args ...string) result {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close() // held open until the command is gone
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = pr
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	_ = pr.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var waitErr error
	select {
	case waitErr = <-done:
	case <-time.After(execBound):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s %s still running %v after it started (its stdin left open): the exec did not end when the command exited\nstdout: %q\nstderr: %q",
			name, strings.Join(args, " "), execBound, out.String(), errOut.String())
	}
	r := result{Stdout: out.String(), Stderr: errOut.String()}
	var exit *exec.ExitError
	switch {
	case waitErr == nil:
	case errors.As(waitErr, &exit):
		r.Code = exit.ExitCode()
	default:
		t.Fatalf("%s: %v", name, waitErr)
	}
	return r
}

// TestExecEndsWithTheCommand checks that `kubectl exec` and `wharf exec`
// into a container end when the remote command exits, with its exit code,
// although their stdin is still open: with -i, with -it (through a
// terminal made by script(1)) and without either.
func TestExecEndsWithTheCommand(t *testing.T) {
	testutil.RequireRoot(t)
	if ok, why := canRunContainersHere(); !ok {
		testutil.Unavailable(t, "containers cannot run here: "+why)
	}
	ref := pushAppImage(t)
	node := fmt.Sprintf("e2e-exec-%d", os.Getpid()) // see TestWorkloads on node names
	s := startServer(t, t.TempDir(), "--node-name", node)
	k := newKubectl(t, s)
	tend(t, s, k)
	client, err := sdk.New(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	c := &clusterEnv{client: client}
	c.createPod(t, &types.Pod{ObjectMeta: types.ObjectMeta{Name: "sleeper"}, Spec: types.PodSpec{
		Containers: []types.Container{{Name: "app", Image: ref, Args: []string{"sleep", "1h"}}},
	}})
	c.awaitPhase(t, "sleeper", types.PodRunning)

	_, scriptErr := exec.LookPath("script")
	wharfEnv := []string{"WHARF_SERVER=" + s.URL}
	clients := []struct {
		name string
		env  []string
		argv []string
	}{
		{"kubectl", k.env, []string{k.bin}},
		{"wharf", wharfEnv, []string{wharfBin}},
	}
	for _, cl := range clients {
		tests := []struct {
			name  string
			flags []string
			tty   bool // run inside a terminal made by script(1)
			cmd   []string
			code  int
			out   string
		}{
			{"-i", []string{"-i"}, false, []string{"/app", "echo", "hi"}, 0, "args: hi\n"},
			{"-i exit 3", []string{"-i"}, false, []string{"/app", "exit", "3"}, 3, ""},
			{"plain", nil, false, []string{"/app", "echo", "hi"}, 0, "args: hi\n"},
			{"plain exit 3", nil, false, []string{"/app", "exit", "3"}, 3, ""},
			{"-it", []string{"-it"}, true, []string{"/app", "echo", "hi"}, 0, "args: hi\r\n"},
			{"-it exit 3", []string{"-it"}, true, []string{"/app", "exit", "3"}, 3, ""},
		}
		for _, tt := range tests {
			t.Run(cl.name+" "+tt.name, func(t *testing.T) {
				argv := append(append(append(append([]string{}, cl.argv...), "exec"), tt.flags...), "sleeper", "--")
				argv = append(argv, tt.cmd...)
				var r result
				if tt.tty {
					if scriptErr != nil {
						testutil.Unavailable(t, "script(1) (util-linux) is not installed: no terminal for -t")
					}
					// -e: script exits with the command's code.
					r = runHeldStdin(t, cl.env, "script", "-qec", strings.Join(argv, " "), "/dev/null")
				} else {
					r = runHeldStdin(t, cl.env, argv[0], argv[1:]...)
				}
				if r.Code != tt.code {
					t.Fatalf("exit %d, want %d\n%s", r.Code, tt.code, r)
				}
				if !strings.Contains(r.Stdout, tt.out) {
					t.Errorf("stdout %q lacks %q", r.Stdout, tt.out)
				}
				// With -t, script(1) passes stderr on in stdout.
				if want := fmt.Sprintf("command terminated with exit code %d", tt.code); tt.code != 0 && !strings.Contains(r.Stderr+r.Stdout, want) {
					t.Errorf("no %q in\n%s", want, r)
				}
			})
		}
	}
}
