package container_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharfhq/wharf/runtimes"
)

func TestExecTTY(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.startSleeper(t, "exec-tty", nil)
	tests := []struct {
		name string
		cmd  []string
		code int
		want []string // in the output
	}{
		// The terminal turns "\n" into "\r\n" (ONLCR): only a terminal does.
		{"a terminal, stderr merged, TERM set", []string{"/app", "echo", "x"}, 0, []string{"args: x\r\n", "to stderr\r\n", "env: TERM=xterm\r\n"}},
		{"exit code kept", []string{"/app", "exit", "5"}, 5, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			resize := make(chan runtimes.TerminalSize, 1)
			resize <- runtimes.TerminalSize{Width: 100, Height: 40}
			code, err := e.rt.Exec(ctx, "exec-tty", runtimes.ExecOptions{
				Command: tt.cmd, Stdout: &out, TTY: true, Resize: resize})
			if err != nil {
				t.Fatalf("Exec: %v", err)
			}
			if code != tt.code {
				t.Fatalf("exit %d, want %d (output %q)", code, tt.code, out.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Fatalf("output %q lacks %q", out.String(), w)
				}
			}
		})
	}
}

// readyWriter collects output and closes ready once it holds "ready".
type readyWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	had := strings.Contains(w.buf.String(), "ready")
	w.buf.Write(p)
	if !had && strings.Contains(w.buf.String(), "ready") {
		close(w.ready)
	}
	return len(p), nil
}

func (w *readyWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestExecTTYResize(t *testing.T) {
	e := newEnv(t)
	e.startSleeper(t, "exec-resize", nil)
	out := &readyWriter{ready: make(chan struct{})}
	resize := make(chan runtimes.TerminalSize)
	go func() {
		<-out.ready
		resize <- runtimes.TerminalSize{Width: 132, Height: 43}
	}()
	code, err := e.rt.Exec(context.Background(), "exec-resize", runtimes.ExecOptions{
		Command: []string{"/app", "winsize"}, Stdout: out, TTY: true, Resize: resize})
	if err != nil || code != 0 {
		t.Fatalf("Exec: exit %d, %v (output %q)", code, err, out.String())
	}
	// 80x24 is the size a terminal starts with; the resize message set
	// the second and delivered SIGWINCH.
	if want := "size 80x24\r\nready\r\nsize 132x43\r\n"; out.String() != want {
		t.Fatalf("output %q, want %q", out.String(), want)
	}
}

// TestExecStdinLeftOpen checks that Exec returns when the command exits
// although its stdin never ends (kubectl exec -i from a terminal), with a
// terminal or without, and that nothing is left reading stdin once the
// caller closes it (TestMain's leak check).
func TestExecStdinLeftOpen(t *testing.T) {
	e := newEnv(t)
	e.startSleeper(t, "exec-stdin", nil)
	tests := []struct {
		name string
		tty  bool
		cmd  []string
		code int
		want string
	}{
		{"echo", false, []string{"/app", "echo", "x"}, 0, "args: x\n"},
		{"exit 3", false, []string{"/app", "exit", "3"}, 3, ""},
		{"echo with a terminal", true, []string{"/app", "echo", "x"}, 0, "args: x\r\n"},
		{"exit 3 with a terminal", true, []string{"/app", "exit", "3"}, 3, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdin, held := io.Pipe()
			defer held.Close() // only now does stdin end
			type result struct {
				code int
				err  error
			}
			out := &readyWriter{ready: make(chan struct{})} // a buffer safe to read while Exec writes
			done := make(chan result, 1)
			go func() {
				code, err := e.rt.Exec(context.Background(), "exec-stdin", runtimes.ExecOptions{
					Command: tt.cmd, Stdin: stdin, Stdout: out, Stderr: out, TTY: tt.tty})
				done <- result{code, err}
			}()
			select {
			case r := <-done:
				if r.err != nil || r.code != tt.code {
					t.Fatalf("Exec: exit %d, %v; want %d", r.code, r.err, tt.code)
				}
				if !strings.Contains(out.String(), tt.want) {
					t.Fatalf("output %q lacks %q", out.String(), tt.want)
				}
			case <-time.After(execBound):
				t.Fatalf("Exec still running %v after it started: waiting for stdin to end (output %q)", execBound, out.String())
			}
		})
	}
}

// execBound is how long an exec may run before a test calls it hung: a
// safety net far above its expected end, not a timed assertion.
const execBound = 20 * time.Second

// TestExecSharedWriter: given one writer for stdout and stderr (as the
// agent's exec probes give their buffer), the command gets one pipe for
// both, as os/exec would: the writer is never called from two goroutines
// at once and the output keeps the order it was written in. Given two,
// it gets two.
func TestExecSharedWriter(t *testing.T) {
	e := newEnv(t)
	e.startSleeper(t, "exec-shared", nil)
	fds := func(t *testing.T, stdout, stderr io.Writer, out *bytes.Buffer) (string, string) {
		t.Helper()
		code, err := e.rt.Exec(context.Background(), "exec-shared", runtimes.ExecOptions{
			Command: []string{"/app", "fds"}, Stdout: stdout, Stderr: stderr})
		if err != nil || code != 0 {
			t.Fatalf("Exec: exit %d, %v", code, err)
		}
		var fd1, fd2 string
		for _, l := range strings.Split(out.String(), "\n") {
			if v, ok := strings.CutPrefix(l, "fd 1: "); ok {
				fd1 = v
			}
			if v, ok := strings.CutPrefix(l, "fd 2: "); ok {
				fd2 = v
			}
		}
		if !strings.HasPrefix(fd1, "pipe:") || !strings.HasPrefix(fd2, "pipe:") {
			t.Fatalf("fds %q and %q, want pipes (output %q)", fd1, fd2, out.String())
		}
		return fd1, fd2
	}
	t.Run("one writer", func(t *testing.T) {
		var out bytes.Buffer
		if fd1, fd2 := fds(t, &out, &out, &out); fd1 != fd2 {
			t.Fatalf("stdout is %s and stderr %s, want one pipe", fd1, fd2)
		}
	})
	t.Run("two writers", func(t *testing.T) {
		var out, errOut bytes.Buffer
		if fd1, fd2 := fds(t, &out, &errOut, &out); fd1 == fd2 {
			t.Fatalf("stdout and stderr are both %s, want two pipes", fd1)
		}
	})
}
