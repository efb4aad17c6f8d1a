package agent

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

// Bounds of the event recorder.
const (
	eventQueueLen = 1024 // events waiting to be written; more are dropped
	eventCacheLen = 4096 // events remembered for count aggregation
)

// recorder writes Events for Pods without blocking the sync loop: events
// go through a bounded channel to one writer goroutine, which aggregates
// repeats (same object, type, reason and message) into one Event with a
// count, as the kubelet's event correlator does. When the channel is full
// events are dropped (and logged), never waited for.
type recorder struct {
	client *sdk.Client
	host   string
	now    func() time.Time
	log    *slog.Logger
	ch     chan *types.Event

	mu    sync.Mutex
	seq   uint64
	cache map[string]*types.Event // aggregation key -> last written
}

func newRecorder(c *sdk.Client, host string, now func() time.Time, log *slog.Logger) *recorder {
	return &recorder{client: c, host: host, now: now, log: log,
		ch: make(chan *types.Event, eventQueueLen), cache: map[string]*types.Event{}}
}

// normal records a Normal event about pod (and container, when not "").
func (r *recorder) normal(pod *types.Pod, container, reason, msg string) {
	r.record(pod, container, types.EventTypeNormal, reason, msg)
}

// warn records a Warning event.
func (r *recorder) warn(pod *types.Pod, container, reason, msg string) {
	r.record(pod, container, types.EventTypeWarning, reason, msg)
}

func (r *recorder) record(pod *types.Pod, container, typ, reason, msg string) {
	if container != "" {
		if m := withoutIDs(msg, pod.UID, container); m != msg {
			r.log.Debug("event", "pod", pod.Namespace+"/"+pod.Name, "reason", reason, "message", msg)
			msg = m
		}
	}
	now := r.now()
	ref := types.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name,
		UID: pod.UID, ResourceVersion: pod.ResourceVersion}
	if container != "" {
		ref.FieldPath = "spec.containers{" + container + "}"
		for _, c := range pod.Spec.InitContainers {
			if c.Name == container {
				ref.FieldPath = "spec.initContainers{" + container + "}"
			}
		}
	}
	r.mu.Lock()
	r.seq++
	seq := r.seq
	r.mu.Unlock()
	ev := &types.Event{
		TypeMeta: types.TypeMeta{Kind: "Event", APIVersion: "v1"},
		ObjectMeta: types.ObjectMeta{
			Name:      fmt.Sprintf("%s.%x", pod.Name, now.UnixNano()+int64(seq)),
			Namespace: pod.Namespace,
		},
		InvolvedObject:      ref,
		Reason:              reason,
		Message:             msg,
		Source:              types.EventSource{Component: Component, Host: r.host},
		FirstTimestamp:      sec(now),
		LastTimestamp:       sec(now),
		Count:               1,
		Type:                typ,
		ReportingController: Component,
		ReportingInstance:   r.host,
	}
	select {
	case r.ch <- ev:
	default:
		r.log.Warn("event dropped: queue full", "reason", reason, "pod", pod.Namespace+"/"+pod.Name)
	}
}

// run writes queued events until ctx ends.
func (r *recorder) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-r.ch:
			r.write(ctx, ev)
		}
	}
}

// write creates ev, or bumps the count of the Event it repeats.
func (r *recorder) write(ctx context.Context, ev *types.Event) {
	key := ev.InvolvedObject.UID + "\x00" + ev.InvolvedObject.FieldPath + "\x00" + ev.Type + "\x00" + ev.Reason + "\x00" + ev.Message
	events := sdk.Typed[*types.Event](r.client).Namespace(ev.Namespace)
	r.mu.Lock()
	prev := r.cache[key]
	r.mu.Unlock()
	if prev != nil {
		next := types.Clone(prev)
		next.Count++
		next.LastTimestamp = ev.LastTimestamp
		out, err := events.Update(ctx, next)
		if err == nil {
			r.remember(key, out)
			return
		}
		if !sdk.IsNotFound(err) && !sdk.IsConflict(err) {
			r.log.Warn("update event", "reason", ev.Reason, "err", err)
			return
		}
		// Gone or changed under us: write a fresh one.
	}
	out, err := events.Create(ctx, ev)
	if err != nil {
		if ctx.Err() == nil && !sdk.IsNotFound(err) { // NotFound: the namespace is going
			r.log.Warn("create event", "reason", ev.Reason, "err", err)
		}
		return
	}
	r.remember(key, out)
}

func (r *recorder) remember(key string, ev *types.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.cache) >= eventCacheLen {
		clear(r.cache) // crude but bounded: aggregation restarts
	}
	r.cache[key] = ev
}
