package container_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

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
		{"a terminal, stderr merged", []string{"/app", "echo", "x"}, 0, []string{"args: x\r\n", "to stderr\r\n"}},
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
