package agent

import (
	"errors"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/sdk"
)

// stopRetry is how long after a failed stop its Pod is synced again.
const stopRetry = 2 * time.Second

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
		failed := err != nil && !errors.Is(err, runtimes.ErrNotFound) && ctx.Err() == nil
		if failed {
			a.log.Warn(what, "id", id, "err", err)
		}
		a.stopProbes(id)
		st.mu.Lock()
		delete(st.stopping, id)
		st.mu.Unlock()
		switch {
		case ctx.Err() != nil:
		case failed:
			// The next sync may stop it again: not in a tight loop.
			a.queue.AddAfter(key, stopRetry)
		default:
			a.queue.Add(key)
		}
	}()
}

// stopFinished stops, each with stopAsync within the Pod's grace period,
// the containers of a finished Pod that have not exited, and reports
// whether any has not.
func (a *Agent) stopFinished(pod *types.Pod, mine map[string][]*instance) bool {
	st := a.state(pod.UID)
	st.mu.Lock()
	defer st.mu.Unlock()
	key, grace := sdk.KeyFunc(pod), a.grace(pod, nil, "")
	busy := false
	for name, list := range mine {
		for _, c := range list {
			if c.info.State == runtimes.StateExited {
				continue
			}
			busy = true
			if st.stopping[c.info.ID] {
				continue
			}
			a.events.normal(pod, name, "Killing", "Stopping container "+name)
			a.stopAsync(key, c, st, grace, "stop container")
		}
	}
	return busy
}
