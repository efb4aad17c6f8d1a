package agent

import (
	"errors"
	"time"

	"github.com/wharfhq/wharf/runtimes"
)

// stopAsync stops one running container instance of a live Pod in a
// goroutine of its own, as terminateAsync does for a Pod being deleted: a
// stop can take the whole grace period (a container that ignores SIGTERM),
// and a sync worker held that long would stall every other Pod of the node.
//
// The instance is marked stopping in st until Stop has returned, so that
// later syncs of the Pod neither stop it a second time nor start its next
// instance beside it (same ports, same volumes); the Pod is queued again
// once the stop is done, so the restart or replacement follows at once.
// The caller holds st.mu; what says why the stop happens in a log line.
func (a *Agent) stopAsync(key string, inst *instance, st *podState, grace time.Duration, what string) {
	id := inst.info.ID
	if st.stopping[id] {
		return
	}
	a.mu.Lock()
	ctx := a.runCtx
	if ctx == nil {
		// Not running: syncs only happen inside Run, so this is not reached.
		a.mu.Unlock()
		return
	}
	a.wg.Add(1)
	a.mu.Unlock()
	st.stopping[id] = true
	go func() {
		defer a.wg.Done()
		err := inst.rt.Stop(ctx, id, grace)
		// ErrNotFound: the Pod was deleted meanwhile, and terminate stopped
		// and removed the container first; nothing went wrong.
		if err != nil && !errors.Is(err, runtimes.ErrNotFound) && ctx.Err() == nil {
			a.log.Warn(what, "id", id, "err", err)
		}
		a.stopProbes(id)
		st.mu.Lock()
		delete(st.stopping, id)
		st.mu.Unlock()
		if ctx.Err() == nil {
			a.queue.Add(key)
		}
	}()
}
