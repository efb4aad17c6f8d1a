package container_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/container"
)

// startSleeper creates and starts a container that sleeps for an hour.
func (e *env) startSleeper(t *testing.T, id string, labels map[string]string) {
	t.Helper()
	s := e.spec("sleep", "1h")
	s.Labels = labels
	e.create(t, id, s)
	if err := e.rt.Start(context.Background(), id); err != nil {
		t.Fatalf("Start %q: %v", id, err)
	}
}

func TestExec(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.startSleeper(t, "exec", nil)
	tests := []struct {
		name   string
		opts   runtimes.ExecOptions
		code   int
		stdout string
	}{
		{"exit code", runtimes.ExecOptions{Command: []string{"/app", "exit", "5"}}, 5, ""},
		{"env and cwd", runtimes.ExecOptions{Command: []string{"/app", "echo", "x"},
			Env: []runtimes.EnvVar{{Name: "EXTRA", Value: "2"}}}, 0, "env: EXTRA=2\n"},
		{"image env kept", runtimes.ExecOptions{Command: []string{"/app", "echo"}}, 0, "env: FROM_IMAGE=yes\n"},
		{"stdin", runtimes.ExecOptions{Command: []string{"/app", "cat", "/dev/stdin"},
			Stdin: strings.NewReader("piped in")}, 0, "piped in"},
		{"sees the container's pid namespace", runtimes.ExecOptions{Command: []string{"/app", "cat", "/proc/1/cmdline"}}, 0, "/app\x00sleep\x001h\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			tt.opts.Stdout = &out
			code, err := e.rt.Exec(ctx, "exec", tt.opts)
			if err != nil {
				t.Fatalf("Exec: %v", err)
			}
			if code != tt.code || !strings.Contains(out.String(), tt.stdout) {
				t.Fatalf("exit %d, stdout %q; want %d and %q", code, out.String(), tt.code, tt.stdout)
			}
		})
	}
	t.Run("not running", func(t *testing.T) {
		e.create(t, "exec-created", e.spec("exit", "0"))
		_, err := e.rt.Exec(ctx, "exec-created", runtimes.ExecOptions{Command: []string{"/app"}})
		if !errors.Is(err, runtimes.ErrInvalidState) {
			t.Fatalf("Exec in a created container: %v, want ErrInvalidState", err)
		}
	})
}

func TestStats(t *testing.T) {
	e := newEnv(t)
	e.startSleeper(t, "stats", nil)
	st, err := e.rt.Stats(context.Background(), "stats")
	if err != nil {
		t.Fatal(err)
	}
	if st.CPUNanos == 0 || st.MemoryBytes == 0 || st.Timestamp.IsZero() {
		t.Fatalf("stats = %+v, want CPU time and memory in use", st)
	}
	if _, err := e.rt.Stats(context.Background(), "nope"); !errors.Is(err, runtimes.ErrNotFound) {
		t.Fatalf("Stats of an unknown container: %v", err)
	}
}

func TestStateErrors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.startSleeper(t, "busy", nil)
	if err := e.rt.Create(ctx, "busy", e.spec()); !errors.Is(err, runtimes.ErrExists) {
		t.Errorf("Create twice: %v, want ErrExists", err)
	}
	if err := e.rt.Start(ctx, "busy"); !errors.Is(err, runtimes.ErrInvalidState) {
		t.Errorf("Start twice: %v, want ErrInvalidState", err)
	}
	if err := e.rt.Remove(ctx, "busy"); !errors.Is(err, runtimes.ErrInvalidState) {
		t.Errorf("Remove running: %v, want ErrInvalidState", err)
	}
	for name, f := range map[string]func() error{
		"Start":  func() error { return e.rt.Start(ctx, "nope") },
		"Stop":   func() error { return e.rt.Stop(ctx, "nope", 0) },
		"Remove": func() error { return e.rt.Remove(ctx, "nope") },
		"Wait":   func() error { _, err := e.rt.Wait(ctx, "nope"); return err },
	} {
		if err := f(); !errors.Is(err, runtimes.ErrNotFound) {
			t.Errorf("%s of an unknown container: %v, want ErrNotFound", name, err)
		}
	}
	if err := e.rt.Create(ctx, "../escape", e.spec()); err == nil {
		t.Errorf("Create accepted id %q", "../escape")
	}
}

// leftovers lists what container id left on the host: cgroup dirs,
// mounts, processes, files.
func leftovers(t *testing.T, e *env, id string) []string {
	t.Helper()
	var found []string
	for _, pattern := range []string{"/sys/fs/cgroup/*/", "/sys/fs/cgroup/"} {
		cgs, _ := filepath.Glob(pattern + cgroupParent + "/" + id)
		found = append(found, cgs...)
	}
	dir := filepath.Join(e.root, "containers", id)
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(mi), "\n") {
		if strings.Contains(l, dir) {
			found = append(found, "mount: "+l)
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(dir)) {
			found = append(found, "process: "+p)
		}
	}
	for _, p := range []string{dir, filepath.Join(e.root, "state", id)} {
		if _, err := os.Stat(p); err == nil {
			found = append(found, "file: "+p)
		}
	}
	return found
}

// initPid reads the container's init pid from libcontainer's state.
func initPid(t *testing.T, e *env, id string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.root, "state", id, "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Pid int `json:"init_process_pid"`
	}
	if err := json.Unmarshal(b, &st); err != nil || st.Pid == 0 {
		t.Fatalf("state.json: pid %d, %v", st.Pid, err)
	}
	return st.Pid
}

func TestRemoveLeavesNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		start   bool
		options []container.Option
	}{
		{"exited", true, nil},
		{"never started", false, nil},
		{"copied rootfs", true, []container.Option{container.WithoutOverlay()}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := e.rt
			if tt.options != nil {
				rt = e.newRuntime(t, tt.options...)
			}
			id := fmt.Sprintf("gone-%d", i)
			s := e.spec("write", "/upper-file", "x")
			if err := rt.Create(ctx, id, s); err != nil {
				t.Fatal(err)
			}
			pid := initPid(t, e, id)
			if len(leftovers(t, e, id)) == 0 {
				t.Fatal("leftovers finds nothing of a created container; the check is blind")
			}
			if want := tt.options == nil && overlaySupported(t); want != hasMount(t, filepath.Join(e.root, "containers", id, "rootfs"), "overlay") {
				t.Fatalf("overlay root mounted = %v, want %v", !want, want)
			}
			if tt.start {
				if err := rt.Start(ctx, id); err != nil {
					t.Fatal(err)
				}
				if st, err := rt.Wait(ctx, id); err != nil || st.ExitCode != 0 {
					t.Fatalf("Wait = %+v, %v", st, err)
				}
			}
			if err := rt.Remove(ctx, id); err != nil {
				t.Fatalf("Remove: %v", err)
			}
			if left := leftovers(t, e, id); len(left) > 0 {
				t.Fatalf("left behind:\n%s", strings.Join(left, "\n"))
			}
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
				t.Fatalf("init process %d still exists", pid)
			}
			if _, err := rt.Inspect(ctx, id); !errors.Is(err, runtimes.ErrNotFound) {
				t.Fatalf("Inspect after Remove: %v", err)
			}
		})
	}
}

func TestListAfterRestart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	labels := map[string]string{"pod": "web-0", "container": "main"}
	e.startSleeper(t, "survivor", labels)
	if st := e.run(t, "finished", e.spec("exit", "7")); st.ExitCode != 7 {
		t.Fatalf("exit = %d", st.ExitCode)
	}
	e.create(t, "pending", e.spec("echo", "late"))

	// A second Runtime on the same root stands for a restarted agent.
	rt2 := e.newRuntime(t)
	infos, err := rt2.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]runtimes.Info{}
	for _, in := range infos {
		byID[in.ID] = in
	}
	if len(byID) != 3 || byID["pending"].State != runtimes.StateCreated {
		t.Fatalf("List after restart = %+v, want 3 containers, one created", infos)
	}
	// A container created by the earlier agent starts under the new one;
	// its init is not the new one's child, so the exit code is lost.
	if err := rt2.Start(ctx, "pending"); err != nil {
		t.Fatalf("Start adopted: %v", err)
	}
	if st, err := rt2.Wait(ctx, "pending"); err != nil || st.Reason != runtimes.ReasonUnknown {
		t.Fatalf("Wait adopted = %+v, %v", st, err)
	}
	if out := e.logsFrom(t, rt2, "pending"); !strings.Contains(out, "args: late") {
		t.Fatalf("log of the adopted start = %q", out)
	}
	run := byID["survivor"]
	if run.State != runtimes.StateRunning || run.Labels["pod"] != "web-0" || run.Image != e.ref || run.StartedAt.IsZero() {
		t.Errorf("running container = %+v", run)
	}
	done := byID["finished"]
	if done.State != runtimes.StateExited || done.Exit == nil || done.Exit.ExitCode != 7 {
		t.Errorf("exited container = %+v", done)
	}
	if out := e.logsFrom(t, rt2, "finished"); out != "" {
		t.Errorf("finished log = %q, want empty", out)
	}

	// The new instance can stop, wait for and remove what it adopted.
	pid := initPid(t, e, "survivor")
	if err := rt2.Stop(ctx, "survivor", 5*time.Second); err != nil {
		t.Fatalf("Stop adopted: %v", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := rt2.Wait(wctx, "survivor")
	if err != nil {
		t.Fatalf("Wait adopted: %v", err)
	}
	if st.FinishedAt.IsZero() {
		t.Errorf("adopted exit = %+v", st)
	}
	for _, id := range []string{"survivor", "finished", "pending"} {
		if err := rt2.Remove(ctx, id); err != nil {
			t.Fatalf("Remove adopted %q: %v", id, err)
		}
		if left := leftovers(t, e, id); len(left) > 0 {
			t.Fatalf("%q left behind:\n%s", id, strings.Join(left, "\n"))
		}
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
		t.Fatalf("adopted init %d still exists", pid)
	}
}

// logsFrom reads a finished container's whole log through rt.
func (e *env) logsFrom(t *testing.T, rt *container.Runtime, id string) string {
	t.Helper()
	rc, err := rt.Logs(context.Background(), id, runtimes.LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(rc); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// overlaySupported reports whether the kernel has overlayfs.
func overlaySupported(t *testing.T) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(b), "\toverlay\n")
}

// hasMount reports whether a filesystem of type fstype is mounted at target.
func hasMount(t *testing.T, target, fstype string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && f[4] == target && slices.Contains(f, "-") && f[slices.Index(f, "-")+1] == fstype {
			return true
		}
	}
	return false
}

func TestLogsAcrossRestart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.create(t, "talker", e.spec("trap"))
	if err := e.rt.Start(ctx, "talker"); err != nil {
		t.Fatal(err)
	}
	e.waitLog(t, "talker", "ready")

	// The restarted agent stops the container; what it prints then still
	// reaches the log, and a follow ends once the container has exited.
	rt2 := e.newRuntime(t)
	if err := rt2.Stop(ctx, "talker", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	rc, err := rt2.Logs(fctx, "talker", runtimes.LogOptions{Follow: true, Timestamps: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(rc); err != nil {
		t.Fatalf("follow after restart: %v (got %q)", err, b.String())
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], " ready") || !strings.HasSuffix(lines[1], " got SIGTERM") {
		t.Fatalf("log = %q, want the line before and the line after the restart", b.String())
	}
	for _, l := range lines {
		ts, _, _ := strings.Cut(l, " ")
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
			t.Errorf("line %q: timestamp: %v", l, err)
		}
	}
	if err := rt2.Remove(ctx, "talker"); err != nil {
		t.Fatal(err)
	}
	if left := leftovers(t, e, "talker"); len(left) > 0 {
		t.Fatalf("left behind:\n%s", strings.Join(left, "\n"))
	}
}

func TestAdoptAfterAgentExit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	imagesRoot := t.TempDir()
	// The short-lived agent pulls on its own store (Create pulls IfNotPresent).
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), agentEnv+"="+strings.Join([]string{e.root, imagesRoot, e.ref, "orphan", cgroupParent}, "\n"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("agent process: %v\n%s", err, out)
	}

	// The agent that started the container is gone; a new one adopts it.
	rt := e.newRuntime(t)
	in, err := rt.Inspect(ctx, "orphan")
	if err != nil || in.State != runtimes.StateRunning {
		t.Fatalf("Inspect = %+v, %v; want running", in, err)
	}
	e.waitLogFrom(t, rt, "orphan", "ready")
	if err := rt.Stop(ctx, "orphan", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	st, err := rt.Wait(ctx, "orphan")
	if err != nil || st.Reason != runtimes.ReasonUnknown || st.ExitCode != 137 {
		t.Fatalf("Wait = %+v, %v; want the lost exit code reported as 137 Unknown", st, err)
	}
	if out := e.logsFrom(t, rt, "orphan"); out != "ready\ngot SIGTERM\n" {
		t.Fatalf("log = %q: output after the agent exited was lost", out)
	}
	if err := rt.Remove(ctx, "orphan"); err != nil {
		t.Fatal(err)
	}
	if left := leftovers(t, e, "orphan"); len(left) > 0 {
		t.Fatalf("left behind:\n%s", strings.Join(left, "\n"))
	}
}
