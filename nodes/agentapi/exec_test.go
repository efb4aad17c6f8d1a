package agentapi

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"testing"
	"time"

	"github.com/wharfhq/wharf/internal/testutil"
	"github.com/wharfhq/wharf/runtimes"
)

func TestParseResize(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		want runtimes.TerminalSize
		ok   bool
	}{
		{"kubectl's", `{"Width":120,"Height":40}`, runtimes.TerminalSize{Width: 120, Height: 40}, true},
		{"empty size", `{"Width":0,"Height":0}`, runtimes.TerminalSize{}, false},
		{"not JSON", `120x40`, runtimes.TerminalSize{}, false},
		{"too wide", `{"Width":70000,"Height":40}`, runtimes.TerminalSize{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseResize([]byte(tt.msg))
			if got != tt.want || ok != tt.ok {
				t.Fatalf("parseResize(%s) = %v, %v; want %v, %v", tt.msg, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// TestExecTTYResize speaks v5.channel.k8s.io through the API server's
// proxy to the agent: with tty=true a resize message (channel 4) reaches
// the runtime as a TerminalSize.
func TestExecTTYResize(t *testing.T) {
	c := newCluster(t)
	c.rt.add(t, "web", "uid-1", "app", 0, runtimes.StateRunning, time.Now())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sizes := make(chan runtimes.TerminalSize, 1)
	sizes <- runtimes.TerminalSize{Width: 132, Height: 43}
	var out bytes.Buffer
	code, err := Exec(ctx, ExecRequest{
		URL:    c.api.URL + "/api/v1/namespaces/default/pods/web/exec?container=app&stdout=true&tty=true&command=winsize",
		Stdout: &out, Stderr: &out, Resize: sizes,
	})
	if err != nil || code != 0 || out.String() != "132x43\n" {
		t.Fatalf("Exec: exit %d, %v, output %q; want 0 and %q", code, err, out.String(), "132x43\n")
	}
	t.Run("without tty no sizes are taken", func(t *testing.T) {
		var out bytes.Buffer
		code, err := Exec(ctx, ExecRequest{
			URL:    c.api.URL + "/api/v1/namespaces/default/pods/web/exec?container=app&stdout=true&command=winsize",
			Stdout: &out, Stderr: &out,
		})
		if err == nil || code != -1 {
			t.Fatalf("Exec: exit %d, %v, output %q; want the runtime's no-terminal error", code, err, out.String())
		}
	})
}

// TestExecEndsWithTheCommand speaks v5.channel.k8s.io through the API
// server's proxy: the session ends when the command exits, with its exit
// code, although the client's stdin is still open, and a stdin message the
// command left unread holds nothing on the agent.
func TestExecEndsWithTheCommand(t *testing.T) {
	c := newCluster(t)
	c.rt.add(t, "web", "uid-1", "app", 0, runtimes.StateRunning, time.Now())
	tests := []struct {
		name    string
		command []string
		tty     bool
		stdin   string // sent, then stdin stays open
		code    int
		out     string
	}{
		{"echo", []string{"echo", "hi"}, false, "", 0, "hi\n"},
		{"exit 3", []string{"exit", "3"}, false, "", 3, ""},
		{"exit 3 with tty", []string{"exit", "3"}, true, "", 3, ""},
		{"stdin left unread", []string{"head1"}, false, "ab", 0, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := url.Values{"container": {"app"}, "stdout": {"true"}, "stderr": {"true"}, "stdin": {"true"}, "command": tt.command}
			if tt.tty {
				q.Set("tty", "true")
			}
			stdin, held := io.Pipe()
			defer held.Close() // stdin ends only when the test does
			go func() { _, _ = io.WriteString(held, tt.stdin) }()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // a hang fails, it does not hold the run
			defer cancel()
			var out bytes.Buffer
			code, err := Exec(ctx, ExecRequest{
				URL:   c.api.URL + "/api/v1/namespaces/default/pods/web/exec?" + q.Encode(),
				Stdin: stdin, Stdout: &out, Stderr: &out,
			})
			if err != nil || code != tt.code || out.String() != tt.out {
				t.Fatalf("Exec: exit %d, %v, output %q; want %d and %q", code, err, out.String(), tt.code, tt.out)
			}
			if leaked := testutil.LeakedGoroutines([]string{"agentapi.(*Server).runExec"}, nil); leaked != "" {
				t.Fatalf("the agent's exec goroutines outlived the session:\n%s", leaked)
			}
		})
	}
}
