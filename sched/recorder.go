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
// are dropped (and counted), as Kubernetes' recorder does (client-go's
// maxQueuedEvents is 1000 too), so that a slow API never stalls
// scheduling.
const eventBuffer = 1000

// eventWorkers is how many events are written at once. Events are best
// effort: one writer keeps them from taking the API's write capacity away
// from bindings and conditions during a burst (a burst beyond eventBuffer
// drops Scheduled events, counted in Scheduler.DroppedEvents).
const eventWorkers = 1

// failure is the PodScheduled condition wanted on one Pod: False with a
// reason and message after a failed attempt, True once a Pod that had
// failed is bound.
type failure struct {
	uid      string
	status   types.ConditionStatus
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

// run writes conditions (with workers goroutines) and events until ctx
// ends.
func (r *recorder) run(ctx context.Context, workers int) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.queue.Run(ctx, workers, r.syncFailure)
	}()
	for range eventWorkers {
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
	if f != nil && f.uid == pod.UID && f.status == types.ConditionFalse && f.reason == reason && f.message == message {
		r.mu.Unlock()
		return
	}
	r.failures[key] = &failure{uid: pod.UID, status: types.ConditionFalse, reason: reason, message: message}
	r.mu.Unlock()
	r.queue.Add(key)
}

// scheduled records that pod is bound: a PodScheduled=False condition it
// carries, or that was being written, is turned True.
func (r *recorder) scheduled(pod *types.Pod) {
	key := podKey(pod)
	r.mu.Lock()
	f := r.failures[key]
	had := f != nil && f.uid == pod.UID
	for _, c := range pod.Status.Conditions {
		had = had || (c.Type == types.PodScheduled && c.Status == types.ConditionFalse)
	}
	if !had {
		delete(r.failures, key)
		r.mu.Unlock()
		return
	}
	r.failures[key] = &failure{uid: pod.UID, status: types.ConditionTrue}
	r.mu.Unlock()
	r.queue.Add(key)
}

// forget drops what is remembered about the Pod with key (gone).
func (r *recorder) forget(key string) {
	r.mu.Lock()
	delete(r.failures, key)
	r.mu.Unlock()
}

// hasCondition reports whether pod already carries the condition f.
func hasCondition(pod *types.Pod, f *failure) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == types.PodScheduled {
			return c.Status == f.status && c.Reason == f.reason && c.Message == f.message
		}
	}
	return f.status == types.ConditionTrue // nothing to turn True
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
	if err != nil || pod.UID != want.uid || (want.status == types.ConditionFalse && pod.Spec.NodeName != "") {
		return nil // gone, replaced, or bound since: nothing to say
	}
	if !hasCondition(pod, &want) { // after a restart the condition may already be there
		cond := types.PodCondition{
			Type: types.PodScheduled, Status: want.status,
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
			return fmt.Errorf("pod %q: set PodScheduled=%s: %w", key, want.status, err)
		}
		if want.status == types.ConditionFalse {
			r.event(pod, types.EventTypeWarning, ReasonFailedScheduling, want.message)
		}
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
