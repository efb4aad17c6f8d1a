package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

// eventBuffer bounds the events waiting to be written; beyond it events
// are dropped and counted, as Kubernetes' recorder does, so that a slow
// API never stalls a controller.
const eventBuffer = 1024

// Similar events (same object, type and reason) beyond maxSimilar within
// similarWindow are combined into one event whose count grows, as
// Kubernetes' event aggregator does: a ReplicaSet of 1,000 Pods gets 10
// "Created pod" events and one combined event, not 1,000.
const (
	maxSimilar    = 10
	similarWindow = 10 * time.Minute
	// maxTracked bounds the similar-event records; older ones are pruned.
	maxTracked = 4096
)

// similar tracks the events of one (object, type, reason).
type similar struct {
	since   time.Time
	n       int
	agg     *types.Event // the combined event, once beyond maxSimilar
	created bool         // agg has been written
}

// Recorder writes Events about the objects a controller manages
// (`kubectl describe` shows them), best effort, from its own goroutine.
type Recorder struct {
	client    *sdk.Client
	component string
	log       *slog.Logger
	now       func() time.Time
	events    chan *types.Event
	dropped   atomic.Int64
	seq       atomic.Uint64

	mu      sync.Mutex
	similar map[string]*similar
	combine *sdk.Queue // keys of similar whose combined event is to write
}

func newRecorder(c *sdk.Client, component string, log *slog.Logger) *Recorder {
	return &Recorder{
		client: c, component: component, log: log, now: time.Now,
		events:  make(chan *types.Event, eventBuffer),
		similar: map[string]*similar{},
		combine: sdk.NewQueue(sdk.WithBackoff(100*time.Millisecond, 10*time.Second)),
	}
}

// Eventf records an event of type (types.EventTypeNormal or Warning) with
// reason about obj. A nil Recorder records nothing.
func (r *Recorder) Eventf(obj types.Object, eventType, reason, format string, args ...any) {
	if r == nil || r.client == nil {
		return
	}
	m := obj.GetObjectMeta()
	gvk, _ := types.GVKForObject(obj) // an unknown kind leaves the reference without kind
	now := r.now()
	ts := types.NewTime(now.UTC().Truncate(time.Second))
	ev := &types.Event{
		TypeMeta:   types.TypeMeta{APIVersion: "v1", Kind: "Event"},
		ObjectMeta: types.ObjectMeta{Name: fmt.Sprintf("%s.%x%x", m.Name, now.UnixNano(), r.seq.Add(1)), Namespace: m.Namespace},
		InvolvedObject: types.ObjectReference{
			Kind: gvk.Kind, APIVersion: gvk.APIVersion(), Namespace: m.Namespace, Name: m.Name,
			UID: m.UID, ResourceVersion: m.ResourceVersion,
		},
		Reason: reason, Message: fmt.Sprintf(format, args...), Type: eventType,
		Source:         types.EventSource{Component: r.component},
		FirstTimestamp: ts, LastTimestamp: ts, Count: 1,
		ReportingController: "wharf.dev/" + r.component, ReportingInstance: r.component,
	}
	if ev.Namespace == "" {
		ev.Namespace = "default"
	}
	if key := m.UID + "|" + eventType + "|" + reason; r.combined(key, ev, now) {
		r.combine.Add(key)
		return
	}
	select {
	case r.events <- ev:
	default:
		r.dropped.Add(1)
	}
}

// combined counts ev among its similar events and reports whether it was
// folded into their combined event (which is then to be written).
func (r *Recorder) combined(key string, ev *types.Event, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.similar[key]
	if s == nil || now.Sub(s.since) > similarWindow {
		if len(r.similar) >= maxTracked {
			for k, old := range r.similar {
				if now.Sub(old.since) > similarWindow || old.agg == nil {
					delete(r.similar, k)
				}
			}
		}
		s = &similar{since: now}
		r.similar[key] = s
	}
	s.n++
	if s.n <= maxSimilar {
		return false
	}
	msg := "(combined from similar events): " + ev.Message
	if s.agg == nil {
		ev.Message = msg
		s.agg = ev
	} else {
		s.agg.Count++
		s.agg.LastTimestamp = ev.LastTimestamp
		s.agg.Message = msg
	}
	return true
}

// writeCombined writes the combined event of key: created the first time,
// then patched with its count.
func (r *Recorder) writeCombined(ctx context.Context, key string) error {
	r.mu.Lock()
	s := r.similar[key]
	if s == nil || s.agg == nil {
		r.mu.Unlock()
		return nil
	}
	ev, created := types.Clone(s.agg), s.created
	r.mu.Unlock()
	events := sdk.Typed[*types.Event](r.client).Namespace(ev.Namespace)
	var err error
	if !created {
		_, err = events.Create(ctx, ev)
		if err == nil {
			r.mu.Lock()
			s.created = true
			r.mu.Unlock()
		}
	} else {
		patch, merr := json.Marshal(map[string]any{"count": ev.Count, "lastTimestamp": ev.LastTimestamp, "message": ev.Message})
		if merr != nil {
			return merr
		}
		_, err = events.Patch(ctx, ev.Name, sdk.MergePatch, patch)
	}
	if err != nil && ctx.Err() == nil {
		r.log.Debug("writing combined event", "event", ev.Name, "reason", ev.Reason, "err", err)
	}
	if sdk.IsNotFound(err) || sdk.IsAlreadyExists(err) || sdk.IsInvalid(err) {
		return nil // gone or refused: best effort
	}
	return err
}

// Dropped returns how many events were dropped because the buffer was
// full.
func (r *Recorder) Dropped() int64 { return r.dropped.Load() }

// run writes events until ctx ends.
func (r *Recorder) run(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.combine.Run(ctx, 1, r.writeCombined)
	}()
	defer func() { <-done }()
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-r.events:
			_, err := sdk.Typed[*types.Event](r.client).Namespace(ev.Namespace).Create(ctx, ev)
			if err != nil && ctx.Err() == nil {
				r.log.Debug("writing event", "event", ev.Name, "reason", ev.Reason, "err", err)
			}
		}
	}
}
