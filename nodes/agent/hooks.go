package agent

import (
	"context"
	"time"

	"github.com/wharfhq/wharf/api/types"
)

// probeReady reports whether a running container is ready.
func (a *Agent) probeReady(pod *types.Pod, c *types.Container, inst *instance) bool {
	return true
}

// runPreStop runs the preStop hooks of the Pod's running containers.
func (a *Agent) runPreStop(ctx context.Context, pod *types.Pod, mine map[string][]*instance, left time.Duration) {
}
