package sched

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

// Event reasons the scheduler reports.
const (
	ReasonFailedScheduling = "FailedScheduling"
	ReasonScheduled        = "Scheduled"
	ReasonEvicted          = "TaintManagerEviction"
	// ConditionReasonUnschedulable is the reason of PodScheduled=False.
	ConditionReasonUnschedulable = "Unschedulable"
	// ConditionReasonSchedulerError is the reason of PodScheduled=False when
	// the scheduler itself failed (a plugin error).
	ConditionReasonSchedulerError = "SchedulerError"
)

// eventBuffer bounds the events waiting to be written; beyond it events
// are dropped (and counted), as Kubernetes' recorder does, so that a slow
// API never stalls scheduling.
const eventBuffer = 4096

// failure is the PodScheduled=False condition wanted on one Pod.
type failure struct {
	uid      string
	reason   string
	message  string
	recorded bool
}

// recorder writes what the scheduler has to say about Pods: the
// PodScheduled=False condition (status subresource, only when the message
// changes) with a FailedScheduling event, Scheduled events, and eviction
// events. It works from its own goroutines so that the scheduling loop
// never waits on the API.
type recorder struct {
	client    *sdk.Client
	pods      *sdk.TypedLister[*types.Pod]
	now       func() time.Time
	log       *slog.Logger
	component string

	mu       sync.Mutex
	failures map[string]*failure
	queue    *sdk.Queue

	events  chan *types.Event
	dropped atomic.Int64
	seq     atomic.Uint64
}

func newRecorder(c *sdk.Client, pods *sdk.TypedLister[*types.Pod], now func() time.Time, log *slog.Logger, component string) *recorder {
	return &recorder{
		client: c, pods: pods, now: now, log: log, component: component,
		failures: map[string]*failure{},
		queue:    sdk.NewQueue(sdk.WithBackoff(100*time.Millisecond, 10*time.Second)),
		events:   make(chan *types.Event, eventBuffer),
	}
}

// run writes conditions and events until ctx ends.
func (r *recorder) run(ctx context.Context, workers int) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.queue.Run(ctx, workers, r.syncFailure)
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case ev := <-r.events:
					if _, err := sdk.Typed[*types.Event](r.client).Namespace(ev.Namespace).Create(ctx, ev); err != nil && ctx.Err() == nil {
						r.log.Debug("writing event", "event", ev.Name, "err", err)
					}
				}
			}
		}()
	}
	wg.Wait()
}

// failed records that pod cannot be scheduled, with reason and message.
// Nothing is written when the same message was already recorded.
func (r *recorder) failed(pod *types.Pod, reason, message string) {
	key := podKey(pod)
	r.mu.Lock()
	f := r.failures[key]
	if f != nil && f.uid == string(pod.UID) && f.reason == reason && f.message == message {
		r.mu.Unlock()
		return
	}
	r.failures[key] = &failure{uid: string(pod.UID), reason: reason, message: message}
	r.mu.Unlock()
	r.queue.Add(key)
}

// forget drops what is remembered about the Pod with key (bound or gone).
func (r *recorder) forget(key string) {
	r.mu.Lock()
	delete(r.failures, key)
	r.mu.Unlock()
}

// hasCondition reports whether pod already carries the condition f.
func hasCondition(pod *types.Pod, f *failure) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == types.PodScheduled {
			return c.Status == types.ConditionFalse && c.Reason == f.reason && c.Message == f.message
		}
	}
	return false
}

// syncFailure writes the wanted condition of one Pod and its event.
func (r *recorder) syncFailure(ctx context.Context, key string) error {
	r.mu.Lock()
	f := r.failures[key]
	if f == nil || f.recorded {
		r.mu.Unlock()
		return nil
	}
	want := *f
	r.mu.Unlock()
	ns, name := sdk.SplitKey(key)
	pod, err := r.pods.Get(ns, name)
	if err != nil || string(pod.UID) != want.uid || pod.Spec.NodeName != "" {
		return nil // gone, replaced or bound: nothing to say
	}
	if !hasCondition(pod, &want) { // after a restart the condition may already be there
		cond := types.PodCondition{
			Type: types.PodScheduled, Status: types.ConditionFalse,
			Reason: want.reason, Message: want.message,
			LastTransitionTime: types.NewTime(r.now().UTC().Truncate(time.Second)),
		}
		patch, err := json.Marshal(map[string]any{
			"metadata": map[string]any{"uid": want.uid},
			"status":   map[string]any{"conditions": []types.PodCondition{cond}},
		})
		if err != nil {
			return fmt.Errorf("pod %q: encode status patch: %w", key, err)
		}
		if _, err := sdk.Typed[*types.Pod](r.client).Namespace(ns).Patch(ctx, name, sdk.StrategicMergePatch, patch, "status"); err != nil {
			if sdk.IsNotFound(err) || sdk.IsConflict(err) {
				return nil
			}
			return fmt.Errorf("pod %q: set PodScheduled=False: %w", key, err)
		}
		r.event(pod, types.EventTypeWarning, ReasonFailedScheduling, want.message)
	}
	r.mu.Lock()
	if cur := r.failures[key]; cur != nil && *cur == want {
		cur.recorded = true
	}
	r.mu.Unlock()
	return nil
}

// maxEventPrefix keeps event names (object name, '.', 16 hex digits)
// within the 253 characters of a name.
const maxEventPrefix = 253 - 17

// event queues an event about obj; when the buffer is full it is dropped.
func (r *recorder) event(obj *types.Pod, typ, reason, message string) {
	now := r.now()
	prefix := obj.Name
	if len(prefix) > maxEventPrefix {
		prefix = prefix[:maxEventPrefix]
	}
	ev := &types.Event{
		TypeMeta: types.TypeMeta{Kind: "Event", APIVersion: "v1"},
		ObjectMeta: types.ObjectMeta{
			Name:      fmt.Sprintf("%s.%016x", prefix, uint64(now.UnixNano())+r.seq.Add(1)),
			Namespace: obj.Namespace,
		},
		InvolvedObject: types.ObjectReference{
			Kind: "Pod", APIVersion: "v1", Namespace: obj.Namespace, Name: obj.Name, UID: string(obj.UID),
			ResourceVersion: obj.ResourceVersion,
		},
		Reason:              reason,
		Message:             message,
		Type:                typ,
		Source:              types.EventSource{Component: r.component},
		FirstTimestamp:      types.NewTime(now.UTC().Truncate(time.Second)),
		LastTimestamp:       types.NewTime(now.UTC().Truncate(time.Second)),
		Count:               1,
		ReportingController: r.component,
		ReportingInstance:   r.component,
	}
	select {
	case r.events <- ev:
	default:
		r.dropped.Add(1)
	}
}
