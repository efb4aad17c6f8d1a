package probe

import (
	"context"
	"sync"
	"time"

	"github.com/wharfhq/wharf/api/types"
)

// Change is a probe result that crossed its threshold.
type Change struct {
	// Key is the key given to Ensure (the agent's Pod key).
	Key string
	// ContainerID and Container identify the container.
	ContainerID, Container string
	Kind                   Kind
	Result                 Result
	// Output says why the last run failed.
	Output string
}

// Manager runs probe workers and keeps their results. It is safe for
// concurrent use; callbacks are made from worker goroutines and must not
// block for long.
type Manager struct {
	onChange func(Change)
	// onFailure is told of every failed run (for Unhealthy events).
	onFailure func(Change)

	mu      sync.Mutex
	workers map[workerKey]*worker
	wg      sync.WaitGroup
	stopped bool
}

type workerKey struct {
	id   string
	kind Kind
}

type worker struct {
	cancel context.CancelFunc
	result Result
}

// NewManager returns a manager. onChange is called when a result changes
// (after the thresholds); onFailure, which may be nil, on each failed run.
func NewManager(onChange, onFailure func(Change)) *Manager {
	return &Manager{onChange: onChange, onFailure: onFailure, workers: map[workerKey]*worker{}}
}

// initial is a probe's result before its first decision: a container is
// alive until shown otherwise, not ready or started until shown so.
func initial(kind Kind) Result {
	if kind == Liveness {
		return Success
	}
	return Failure
}

// Ensure starts a worker probing container id with p, unless one runs.
func (m *Manager) Ensure(key, id, container string, kind Kind, p *types.Probe, t Target) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := workerKey{id, kind}
	if m.stopped || m.workers[k] != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &worker{cancel: cancel, result: initial(kind)}
	m.workers[k] = w
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		m.run(ctx, w, Change{Key: key, ContainerID: id, Container: container, Kind: kind}, p, t)
	}()
}

// Result returns container id's current result for kind, and whether a
// worker exists.
func (m *Manager) Result(id string, kind Kind) (Result, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.workers[workerKey{id, kind}]
	if w == nil {
		return Unknown, false
	}
	return w.result, true
}

// Stop ends container id's workers and forgets their results.
func (m *Manager) Stop(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, kind := range []Kind{Liveness, Readiness, Startup} {
		k := workerKey{id, kind}
		if w := m.workers[k]; w != nil {
			w.cancel()
			delete(m.workers, k)
		}
	}
}

// StopAll ends every worker and waits for them; Ensure does nothing after.
func (m *Manager) StopAll() {
	m.mu.Lock()
	m.stopped = true
	for k, w := range m.workers {
		w.cancel()
		delete(m.workers, k)
	}
	m.mu.Unlock()
	m.wg.Wait()
}

// run probes every period until ctx ends. A startup worker stops once it
// has succeeded; liveness and readiness workers wait for the startup
// probe (when there is one) before probing.
func (m *Manager) run(ctx context.Context, w *worker, ch Change, p *types.Probe, t Target) {
	period := time.Duration(p.PeriodSeconds) * time.Second
	if period <= 0 {
		period = 10 * time.Second
	}
	success := int(max(p.SuccessThreshold, 1))
	failure := int(max(p.FailureThreshold, 1))
	if p.FailureThreshold == 0 {
		failure = 3
	}
	if ch.Kind != Readiness {
		success = 1 // as in Kubernetes, liveness and startup need 1
	}
	delay := time.Duration(p.InitialDelaySeconds) * time.Second
	timer := time.NewTimer(delay)
	defer timer.Stop()
	var okRun, badRun int
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		if ch.Kind != Startup && !m.startedOK(ch.ContainerID) {
			timer.Reset(period)
			continue
		}
		res, out := Run(ctx, p, t)
		if ctx.Err() != nil {
			return
		}
		if res == Success {
			okRun, badRun = okRun+1, 0
		} else {
			okRun, badRun = 0, badRun+1
			if m.onFailure != nil {
				c := ch
				c.Result, c.Output = Failure, out
				m.onFailure(c)
			}
		}
		next := Unknown
		if okRun >= success {
			next = Success
		} else if badRun >= failure {
			next = Failure
		}
		m.mu.Lock()
		changed := next != Unknown && next != w.result
		if changed {
			w.result = next
		}
		m.mu.Unlock()
		if changed {
			c := ch
			c.Result, c.Output = next, out
			m.onChange(c)
		}
		if ch.Kind == Liveness && next == Failure {
			// The container is being restarted: start counting afresh.
			okRun, badRun = 0, 0
		}
		if ch.Kind == Startup && next == Success {
			return
		}
		timer.Reset(period)
	}
}

// startedOK reports whether container id has no startup probe or has
// passed it.
func (m *Manager) startedOK(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	w := m.workers[workerKey{id, Startup}]
	return w == nil || w.result == Success
}
