package container_test

import (
	"bytes"
	"context"
	"strings"
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
