package agentapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/runtimes"
)

// failingExecer fails every exec with err.
type failingExecer struct{ err error }

func (f failingExecer) Exec(context.Context, string, runtimes.ExecOptions) (int, error) {
	return -1, f.err
}

// TestExecErrorsNameThePod: exec errors name the Pod and container the user
// gave, never the runtime's internal container ID, and keep their kind.
func TestExecErrorsNameThePod(t *testing.T) {
	const id = "0f3c-uid-web-2"
	tests := []struct {
		name string
		err  error
		kind error
		want string
	}{
		{"gone", fmt.Errorf("container %q: %w", id, runtimes.ErrNotFound), runtimes.ErrNotFound,
			`container "web" in pod default/shop does not exist any more`},
		{"exited", fmt.Errorf("container %q is exited: %w", id, runtimes.ErrInvalidState), runtimes.ErrInvalidState,
			`container "web" in pod default/shop is not running: cannot exec into it`},
		{"no such command", fmt.Errorf("container %q: exec %q: %w", id, "bash", errors.New(`exec: "bash": executable file not found in $PATH`)), nil,
			`container "web" in pod default/shop: exec "bash": exec: "bash": executable file not found in $PATH`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ex := namedExecer{Execer: failingExecer{tc.err}, ns: "default", pod: "shop", container: "web"}
			_, err := ex.Exec(t.Context(), id, runtimes.ExecOptions{Command: []string{"bash"}})
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("message %q, want it to start %q", err, tc.want)
			}
			if strings.Contains(err.Error(), id) {
				t.Errorf("message %q names the internal container ID", err)
			}
			if !errors.Is(err, tc.err) || tc.kind != nil && !errors.Is(err, tc.kind) {
				t.Errorf("%v no longer wraps %v", err, tc.err)
			}
		})
	}
}
