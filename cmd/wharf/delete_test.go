package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestDeleteAllAndSelector: --all with -l is refused before anything is
// sent, as kubectl does, rather than guessing which was meant.
func TestDeleteAllAndSelector(t *testing.T) {
	var out, errOut bytes.Buffer
	// No server listens there: the command must fail before asking one.
	code := run(t.Context(), []string{"delete", "pods", "--all", "-l", "app=web", "--server", "http://127.0.0.1:1"}, strings.NewReader(""), &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "give --all or -l, not both") {
		t.Errorf("delete pods --all -l app=web: exit %d, out %q, err %q", code, out.String(), errOut.String())
	}
}
