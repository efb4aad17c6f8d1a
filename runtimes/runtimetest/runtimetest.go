// Package runtimetest is the conformance suite every runtimes.Runtime
// passes: call [Run] from a test of the implementation with a [Harness]
// that opens the runtime and builds specs of a few standard programs.
//
// The suite is runtime-neutral: it only uses the runtimes interfaces, and
// it asserts what the contract says (exit codes and reasons, logs with both
// streams, timestamps, tail and follow, env and args, stop of an endless
// program, Remove leaving nothing, List after the runtime is re-opened on
// the same root, ErrNotFound and ErrExists).
package runtimetest

import (
	"bufio"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wharfhq/wharf/runtimes"
)

// Harness adapts one runtime to the suite.
type Harness struct {
	// New opens the runtime on root. The suite calls it again with the
	// same root to check what a restarted agent finds; if the runtime is
	// an io.Closer, the first one is closed before (and every runtime at
	// the end of its test).
	New func(t *testing.T, root string) runtimes.Runtime

	// Exit builds a spec whose program exits with code.
	Exit func(code int) *runtimes.Spec
	// Echo builds a spec whose program writes each of args to stdout as a
	// line "arg=<arg>", then each environment variable whose name starts
	// with "RT_" as a line "env=<name>=<value>" in sorted order, then the
	// line "to stderr" to stderr, and exits 0. Other lines are ignored.
	// The spec passes args as the program's arguments and env as its
	// environment (after anything the harness needs).
	Echo func(args []string, env []runtimes.EnvVar) *runtimes.Spec
	// Sleep builds a spec whose program runs until it is stopped.
	Sleep func() *runtimes.Spec
	// WriteFile builds a spec with hostDir mounted read-write at
	// containerDir whose program writes content to containerDir/name and
	// exits 0.
	WriteFile func(hostDir, containerDir, name, content string) *runtimes.Spec
}

// timeout bounds each wait of the suite so a broken runtime fails rather
// than hangs; no assertion depends on it.
const timeout = 2 * time.Minute

// Run runs the conformance suite against the runtime h opens.
func Run(t *testing.T, h Harness) {
	t.Run("ExitCodes", func(t *testing.T) { testExitCodes(t, h) })
	t.Run("ArgsAndEnv", func(t *testing.T) { testArgsEnv(t, h) })
	t.Run("Logs", func(t *testing.T) { testLogs(t, h) })
	t.Run("FollowUntilExit", func(t *testing.T) { testFollow(t, h) })
	t.Run("StopEndless", func(t *testing.T) { testStop(t, h) })
	t.Run("Mount", func(t *testing.T) { testMount(t, h) })
	t.Run("RemoveLeavesNothing", func(t *testing.T) { testRemove(t, h) })
	t.Run("ListAfterReopen", func(t *testing.T) { testReopen(t, h) })
	t.Run("UnknownID", func(t *testing.T) { testUnknown(t, h) })
	t.Run("DoubleCreate", func(t *testing.T) { testDoubleCreate(t, h) })
}

func open(t *testing.T, h Harness, root string) runtimes.Runtime {
	t.Helper()
	rt := h.New(t, root)
	t.Cleanup(func() { closeRuntime(rt) })
	return rt
}

func closeRuntime(rt runtimes.Runtime) {
	if c, ok := rt.(io.Closer); ok {
		c.Close()
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return ctx
}

// runToExit creates, starts and waits for id.
func runToExit(t *testing.T, rt runtimes.Runtime, id string, spec *runtimes.Spec) runtimes.ExitStatus {
	t.Helper()
	ctx := ctxT(t)
	if err := rt.Create(ctx, id, spec); err != nil {
		t.Fatalf("Create %q: %v", id, err)
	}
	if err := rt.Start(ctx, id); err != nil {
		t.Fatalf("Start %q: %v", id, err)
	}
	st, err := rt.Wait(ctx, id)
	if err != nil {
		t.Fatalf("Wait %q: %v", id, err)
	}
	return st
}

func readLogs(t *testing.T, rt runtimes.Runtime, id string, opts runtimes.LogOptions) string {
	t.Helper()
	rc, err := rt.Logs(ctxT(t), id, opts)
	if err != nil {
		t.Fatalf("Logs %q: %v", id, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read logs of %q: %v", id, err)
	}
	return string(b)
}

// echoLines keeps the lines the Echo contract defines.
func echoLines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "arg=") || strings.HasPrefix(l, "env=RT_") || l == "to stderr" {
			out = append(out, l)
		}
	}
	return out
}

func testExitCodes(t *testing.T, h Harness) {
	rt := open(t, h, t.TempDir())
	for _, tc := range []struct {
		code   int
		reason string
	}{{0, runtimes.ReasonCompleted}, {1, runtimes.ReasonError}, {3, runtimes.ReasonError}, {42, runtimes.ReasonError}} {
		id := "exit-" + string(rune('a'+tc.code%26))
		st := runToExit(t, rt, id, h.Exit(tc.code))
		if st.ExitCode != tc.code || st.Reason != tc.reason {
			t.Errorf("exit %d: got code %d reason %q (%s)", tc.code, st.ExitCode, st.Reason, st.Message)
		}
		if st.StartedAt.IsZero() || st.FinishedAt.Before(st.StartedAt) {
			t.Errorf("exit %d: started %v, finished %v", tc.code, st.StartedAt, st.FinishedAt)
		}
		in, err := rt.Inspect(ctxT(t), id)
		if err != nil || in.State != runtimes.StateExited || in.Exit == nil || in.Exit.ExitCode != tc.code {
			t.Errorf("Inspect after exit %d: %+v, %v", tc.code, in, err)
		}
	}
}

func testArgsEnv(t *testing.T, h Harness) {
	rt := open(t, h, t.TempDir())
	args := []string{"one", "two words", "--flag=x"}
	env := []runtimes.EnvVar{{Name: "RT_B", Value: "first"}, {Name: "RT_A", Value: "a value"}, {Name: "RT_B", Value: "last wins"}}
	if st := runToExit(t, rt, "echo", h.Echo(args, env)); st.ExitCode != 0 {
		t.Fatalf("exit %+v", st)
	}
	got := echoLines(readLogs(t, rt, "echo", runtimes.LogOptions{Stream: "stdout"}))
	want := []string{"arg=one", "arg=two words", "arg=--flag=x", "env=RT_A=a value", "env=RT_B=last wins"}
	if !slices.Equal(got, want) {
		t.Fatalf("stdout lines %q, want %q", got, want)
	}
}

func testLogs(t *testing.T, h Harness) {
	rt := open(t, h, t.TempDir())
	st := runToExit(t, rt, "logs", h.Echo([]string{"a", "b", "c"}, nil))
	if st.ExitCode != 0 {
		t.Fatalf("exit %+v", st)
	}
	all := echoLines(readLogs(t, rt, "logs", runtimes.LogOptions{}))
	if !slices.Contains(all, "to stderr") || !slices.Contains(all, "arg=c") {
		t.Fatalf("both streams: %q", all)
	}
	if got := echoLines(readLogs(t, rt, "logs", runtimes.LogOptions{Stream: "stderr"})); !slices.Equal(got, []string{"to stderr"}) {
		t.Fatalf("stderr only: %q", got)
	}
	if got := echoLines(readLogs(t, rt, "logs", runtimes.LogOptions{Stream: "stdout"})); slices.Contains(got, "to stderr") {
		t.Fatalf("stdout only has stderr: %q", got)
	}
	// The Echo program prints no environment here, so "arg=c" is the
	// last stdout line.
	if got := echoLines(readLogs(t, rt, "logs", runtimes.LogOptions{Stream: "stdout", TailLines: 1})); !slices.Equal(got, []string{"arg=c"}) {
		t.Fatalf("tail 1 of stdout: %q", got)
	}
	ts := readLogs(t, rt, "logs", runtimes.LogOptions{Stream: "stderr", Timestamps: true})
	line := strings.TrimSuffix(ts, "\n")
	stamp, text, _ := strings.Cut(line, " ")
	tm, err := time.Parse(time.RFC3339Nano, stamp)
	if err != nil || text != "to stderr" {
		t.Fatalf("timestamped line %q: %v", ts, err)
	}
	slack := time.Second // clocks of the runtime and the process may differ in resolution
	if tm.Before(st.StartedAt.Add(-slack)) || tm.After(st.FinishedAt.Add(slack)) {
		t.Fatalf("timestamp %v outside the run %v..%v", tm, st.StartedAt, st.FinishedAt)
	}
	if got := readLogs(t, rt, "logs", runtimes.LogOptions{Since: st.FinishedAt.Add(time.Hour)}); got != "" {
		t.Fatalf("since after the end: %q", got)
	}
}

func testFollow(t *testing.T, h Harness) {
	rt := open(t, h, t.TempDir())
	ctx := ctxT(t)
	if err := rt.Create(ctx, "follow", h.Echo([]string{"x"}, nil)); err != nil {
		t.Fatal(err)
	}
	// Follow from before Start: the stream ends once the container has
	// exited and its log is drained.
	rc, err := rt.Logs(ctx, "follow", runtimes.LogOptions{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if err := rt.Start(ctx, "follow"); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if got := echoLines(string(b)); !slices.Contains(got, "arg=x") || !slices.Contains(got, "to stderr") {
		t.Fatalf("followed %q", got)
	}
	in, err := rt.Inspect(ctx, "follow")
	if err != nil || in.State != runtimes.StateExited {
		t.Fatalf("follow ended before exit: %+v %v", in, err)
	}
}

func testStop(t *testing.T, h Harness) {
	rt := open(t, h, t.TempDir())
	ctx := ctxT(t)
	if err := rt.Create(ctx, "sleep", h.Sleep()); err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx, "sleep"); err != nil {
		t.Fatal(err)
	}
	in, err := rt.Inspect(ctx, "sleep")
	if err != nil || in.State != runtimes.StateRunning {
		t.Fatalf("Inspect running: %+v %v", in, err)
	}
	if _, err := rt.Stats(ctx, "sleep"); err != nil {
		t.Fatalf("Stats running: %v", err)
	}
	if err := rt.Start(ctx, "sleep"); !errors.Is(err, runtimes.ErrInvalidState) {
		t.Fatalf("Start running: %v, want ErrInvalidState", err)
	}
	if err := rt.Remove(ctx, "sleep"); !errors.Is(err, runtimes.ErrInvalidState) {
		t.Fatalf("Remove running: %v, want ErrInvalidState", err)
	}
	if err := rt.Stop(ctx, "sleep", time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	st, err := rt.Wait(ctx, "sleep")
	if err != nil {
		t.Fatal(err)
	}
	if st.ExitCode == 0 || st.Reason == runtimes.ReasonCompleted {
		t.Fatalf("stopped container exited %+v, want a non-zero code", st)
	}
	if err := rt.Stop(ctx, "sleep", time.Second); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if err := rt.Remove(ctx, "sleep"); err != nil {
		t.Fatalf("Remove stopped: %v", err)
	}
}

func testMount(t *testing.T, h Harness) {
	rt := open(t, h, t.TempDir())
	dir := t.TempDir()
	if st := runToExit(t, rt, "write", h.WriteFile(dir, "/data", "out.txt", "written inside")); st.ExitCode != 0 {
		t.Fatalf("exit %+v: %s", st, readLogs(t, rt, "write", runtimes.LogOptions{}))
	}
	b, err := os.ReadFile(filepath.Join(dir, "out.txt"))
	if err != nil || string(b) != "written inside" {
		t.Fatalf("host file: %q %v", b, err)
	}
}

func testRemove(t *testing.T, h Harness) {
	root := t.TempDir()
	rt := open(t, h, root)
	ctx := ctxT(t)
	const id = "removeme-7f3a"
	if st := runToExit(t, rt, id, h.Echo([]string{"x"}, nil)); st.ExitCode != 0 {
		t.Fatalf("exit %+v", st)
	}
	if err := rt.Remove(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Inspect(ctx, id); !errors.Is(err, runtimes.ErrNotFound) {
		t.Fatalf("Inspect after Remove: %v", err)
	}
	if _, err := rt.Logs(ctx, id, runtimes.LogOptions{}); !errors.Is(err, runtimes.ErrNotFound) {
		t.Fatalf("Logs after Remove: %v", err)
	}
	list, err := rt.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range list {
		if in.ID == id {
			t.Fatal("List after Remove still has it")
		}
	}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), id) {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
	if err := rt.Create(ctx, id, h.Exit(0)); err != nil {
		t.Fatalf("Create again after Remove: %v", err)
	}
}

func testReopen(t *testing.T, h Harness) {
	root := t.TempDir()
	ctx := ctxT(t)
	rt := h.New(t, root)
	labels := map[string]string{"wharf.dev/pod": "p1", "wharf.dev/container": "main"}
	spec := h.Exit(5)
	spec.Labels = labels
	runToExit(t, rt, "exited", spec)
	if err := rt.Create(ctx, "created", h.Exit(0)); err != nil {
		t.Fatal(err)
	}
	closeRuntime(rt)

	rt2 := open(t, h, root)
	list, err := rt2.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]runtimes.Info{}
	for _, in := range list {
		byID[in.ID] = in
	}
	ex, ok := byID["exited"]
	if !ok || ex.State != runtimes.StateExited || ex.Exit == nil || ex.Exit.ExitCode != 5 {
		t.Fatalf("exited container after reopen: %+v", ex)
	}
	if ex.Labels["wharf.dev/pod"] != "p1" || ex.Labels["wharf.dev/container"] != "main" {
		t.Fatalf("labels after reopen: %v", ex.Labels)
	}
	if cr, ok := byID["created"]; !ok || cr.State != runtimes.StateCreated {
		t.Fatalf("created container after reopen: %+v", cr)
	}
	// Listing by labels (the runtime's MatchLister, or List filtered)
	// finds the labelled container only, restored ones included.
	for _, c := range []struct {
		labels map[string]string
		want   []string
	}{
		{map[string]string{"wharf.dev/pod": "p1"}, []string{"exited"}},
		{labels, []string{"exited"}},
		{map[string]string{"wharf.dev/pod": "p1", "wharf.dev/container": "other"}, nil},
		{map[string]string{"wharf.dev/pod": "p2"}, nil},
		{nil, []string{"created", "exited"}},
	} {
		got, err := runtimes.ListMatching(ctx, rt2, c.labels)
		if err != nil {
			t.Fatalf("ListMatching(%v): %v", c.labels, err)
		}
		var ids []string
		for _, in := range got {
			ids = append(ids, in.ID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, c.want) {
			t.Errorf("ListMatching(%v) = %q, want %q", c.labels, ids, c.want)
		}
	}
	if got := echoLines(readLogs(t, rt2, "exited", runtimes.LogOptions{Follow: true})); len(got) != 0 {
		t.Fatalf("logs of an Exit program: %q", got)
	}
	for _, id := range []string{"exited", "created"} {
		if err := rt2.Remove(ctx, id); err != nil {
			t.Fatalf("Remove %q after reopen: %v", id, err)
		}
	}
}

func testUnknown(t *testing.T, h Harness) {
	rt := open(t, h, t.TempDir())
	ctx := ctxT(t)
	const id = "no-such-container"
	_, errWait := rt.Wait(ctx, id)
	_, errLogs := rt.Logs(ctx, id, runtimes.LogOptions{})
	_, errStats := rt.Stats(ctx, id)
	_, errInspect := rt.Inspect(ctx, id)
	for name, err := range map[string]error{
		"Start": rt.Start(ctx, id), "Wait": errWait, "Stop": rt.Stop(ctx, id, 0), "Remove": rt.Remove(ctx, id),
		"Logs": errLogs, "Stats": errStats, "Inspect": errInspect,
	} {
		if !errors.Is(err, runtimes.ErrNotFound) {
			t.Errorf("%s of an unknown id: %v, want ErrNotFound", name, err)
		}
	}
}

func testDoubleCreate(t *testing.T, h Harness) {
	rt := open(t, h, t.TempDir())
	ctx := ctxT(t)
	if err := rt.Create(ctx, "twice", h.Exit(0)); err != nil {
		t.Fatal(err)
	}
	if err := rt.Create(ctx, "twice", h.Exit(1)); !errors.Is(err, runtimes.ErrExists) {
		t.Fatalf("second Create: %v, want ErrExists", err)
	}
	if st := func() runtimes.ExitStatus {
		if err := rt.Start(ctx, "twice"); err != nil {
			t.Fatal(err)
		}
		st, err := rt.Wait(ctx, "twice")
		if err != nil {
			t.Fatal(err)
		}
		return st
	}(); st.ExitCode != 0 {
		t.Fatalf("the first spec must be the one that runs: %+v", st)
	}
}
