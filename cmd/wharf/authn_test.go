package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestAgentTokenFlags checks that `wharf agent` refuses --token together
// with --token-file as a command-line mistake. The context is already
// cancelled, so that an agent started by mistake stops at once.
func TestAgentTokenFlags(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"agent", "--token", "t", "--token-file", "f", "--serf-bind", "127.0.0.1:0",
		"--listen", "127.0.0.1:0", "--data-dir", t.TempDir()}, strings.NewReader(""), &out, &errOut)
	want := "error: give the API token with --token or --token-file, not both\n"
	if code != 1 || !strings.HasPrefix(errOut.String(), want) || !strings.Contains(errOut.String(), "Usage:") {
		t.Fatalf("exit %d, stderr:\n%s\nwant the line %q then the usage", code, errOut.String(), want)
	}
}
