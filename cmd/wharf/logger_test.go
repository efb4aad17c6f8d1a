package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/nodes/agent"
)

// TestLoggerKeysOnce: a component's logger (component=node, as
// runComponents tags it) handed to a package that tags its own
// (nodes/agent: component=wharf-agent) logs each key once, the innermost
// value winning; groups and per-line attributes are kept.
func TestLoggerKeysOnce(t *testing.T) {
	var buf bytes.Buffer
	logger, err := newLogger(&buf, "info")
	if err != nil {
		t.Fatal(err)
	}
	comp := logger.With("component", "node")
	agentLog := comp.With("component", agent.Component, "node", "n1")
	agentLog.Info("synced", "pod", "web")
	comp.Info("agent API listening")
	agentLog.WithGroup("g").With("component", "inner").Debug("hidden")
	agentLog.WithGroup("g").With("component", "inner").Warn("grouped")

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("logged %d lines, want 3:\n%s", len(lines), buf.String())
	}
	for i, want := range []string{
		"msg=synced component=" + agent.Component + " node=n1 pod=web",
		"msg=\"agent API listening\" component=node",
		"msg=grouped component=" + agent.Component + " node=n1 g.component=inner",
	} {
		if !strings.HasSuffix(lines[i], want) || strings.Count(lines[i], " component=") != 1 {
			t.Errorf("line %d = %q, want it to end with %q and hold one component key", i, lines[i], want)
		}
	}
	if _, err := newLogger(&buf, "loud"); err == nil || !strings.Contains(err.Error(), "use debug, info, warn or error") {
		t.Errorf("newLogger(loud) error %v", err)
	}
}
