package container_test

import (
	"strings"
	"testing"

	"github.com/wharfhq/wharf/runtimes"
)

func TestExitCodesAndLogs(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		args   []string
		code   int
		reason string
	}{
		{"zero", []string{"exit", "0"}, 0, runtimes.ReasonCompleted},
		{"three", []string{"exit", "3"}, 3, runtimes.ReasonError},
		{"unknown mode", []string{"bogus"}, 2, runtimes.ReasonError},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "exit-" + string(rune('a'+i))
			st := e.run(t, id, e.spec(tt.args...))
			if st.ExitCode != tt.code || st.Reason != tt.reason {
				t.Fatalf("exit = %d %q, want %d %q", st.ExitCode, st.Reason, tt.code, tt.reason)
			}
			if st.StartedAt.IsZero() || st.FinishedAt.Before(st.StartedAt) {
				t.Errorf("times: started %v finished %v", st.StartedAt, st.FinishedAt)
			}
		})
	}
	t.Run("logs", func(t *testing.T) {
		st := e.run(t, "logs", e.spec("echo", "hello", "world"))
		if st.ExitCode != 0 {
			t.Fatalf("exit = %d", st.ExitCode)
		}
		out := e.logs(t, "logs", runtimes.LogOptions{})
		for _, want := range []string{"args: hello world\n", "to stderr\n", "cwd: /work\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("logs lack %q:\n%s", want, out)
			}
		}
		if got := e.logs(t, "logs", runtimes.LogOptions{Stream: "stderr"}); got != "to stderr\n" {
			t.Errorf("stderr only = %q", got)
		}
	})
}
