package container_test

import (
	"context"
	"strings"
	"testing"
	"time"

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

func TestOOMKilled(t *testing.T) {
	e := newEnv(t)
	s := e.spec("oom")
	s.Resources.MemoryLimitBytes = 32 << 20
	st := e.run(t, "oom", s)
	if st.Reason != runtimes.ReasonOOMKilled || st.ExitCode != 137 {
		t.Fatalf("exit = %d %q (%s), want 137 OOMKilled", st.ExitCode, st.Reason, st.Message)
	}
}

func TestStopGrace(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	t.Run("SIGTERM honoured", func(t *testing.T) {
		e.create(t, "trap", e.spec("trap"))
		if err := e.rt.Start(ctx, "trap"); err != nil {
			t.Fatal(err)
		}
		e.waitLog(t, "trap", "ready")
		if err := e.rt.Stop(ctx, "trap", time.Minute); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		st, err := e.rt.Wait(ctx, "trap")
		if err != nil {
			t.Fatal(err)
		}
		if st.ExitCode != 0 || st.Reason != runtimes.ReasonCompleted {
			t.Fatalf("exit = %d %q, want 0 Completed", st.ExitCode, st.Reason)
		}
		if out := e.logs(t, "trap", runtimes.LogOptions{}); !strings.Contains(out, "got SIGTERM") {
			t.Fatalf("logs lack the trap's message:\n%s", out)
		}
	})
	t.Run("SIGKILL after grace", func(t *testing.T) {
		e.create(t, "ignore", e.spec("ignore"))
		if err := e.rt.Start(ctx, "ignore"); err != nil {
			t.Fatal(err)
		}
		e.waitLog(t, "ignore", "ready")
		if err := e.rt.Stop(ctx, "ignore", 200*time.Millisecond); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		st, err := e.rt.Wait(ctx, "ignore")
		if err != nil {
			t.Fatal(err)
		}
		if st.ExitCode != 137 || st.Reason != runtimes.ReasonError {
			t.Fatalf("exit = %d %q, want 137 Error", st.ExitCode, st.Reason)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		s := e.spec("sleep", "1h")
		s.Deadline = 300 * time.Millisecond
		st := e.run(t, "deadline", s)
		if st.Reason != runtimes.ReasonDeadlineExceeded || st.ExitCode != 137 {
			t.Fatalf("exit = %d %q, want 137 DeadlineExceeded", st.ExitCode, st.Reason)
		}
	})
}

func TestPidsLimit(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name  string
		limit int64
		ok    bool
	}{
		{"within", 512, true}, // each child is a Go program with several threads
		// Over the limit either a fork fails (exit 3) or the Go runtime
		// itself cannot create a thread (it aborts): either way not 0.
		{"over", 8, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := e.spec("spawn", "16")
			s.Resources.PidsLimit = tt.limit
			st := e.run(t, "pids-"+tt.name, s)
			if (st.ExitCode == 0) != tt.ok {
				t.Fatalf("exit = %d, want success %v; logs:\n%s", st.ExitCode, tt.ok, e.logs(t, "pids-"+tt.name, runtimes.LogOptions{}))
			}
		})
	}
}
