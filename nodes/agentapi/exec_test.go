package agentapi

import (
	"bytes"
	"context"
	"testing"
	"time"

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
