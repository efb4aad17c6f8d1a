package lifecycle

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

// Component is the events' source.
const Component = "node-lifecycle-controller"

// Event reasons.
const (
	ReasonNodeNotReady = "NodeNotReady"
	ReasonNodeReady    = "NodeReady"
)

var eventSeq atomic.Uint64

// event records an Event about obj (best effort: a failure is logged).
// Events about Nodes go to the default namespace, as Kubernetes does.
func (c *Controller) event(ctx context.Context, obj types.Object, kind, typ, reason, msg string) {
	m := obj.GetObjectMeta()
	ns := m.Namespace
	if ns == "" {
		ns = "default"
	}
	now := c.cfg.Now().UTC().Truncate(time.Second)
	ev := &types.Event{
		ObjectMeta: types.ObjectMeta{
			Name:      fmt.Sprintf("%s.%016x", m.Name, uint64(c.cfg.Now().UnixNano())+eventSeq.Add(1)),
			Namespace: ns,
		},
		InvolvedObject: types.ObjectReference{Kind: kind, APIVersion: "v1", Namespace: m.Namespace, Name: m.Name, UID: m.UID},
		Reason:         reason, Message: msg, Type: typ,
		Source:              types.EventSource{Component: Component},
		FirstTimestamp:      types.NewTime(now),
		LastTimestamp:       types.NewTime(now),
		Count:               1,
		ReportingController: Component,
		ReportingInstance:   Component,
	}
	if _, err := sdk.Typed[*types.Event](c.cfg.Client).Namespace(ns).Create(ctx, ev); err != nil && ctx.Err() == nil {
		c.log.Debug("record event", "reason", reason, "object", m.Name, "err", err)
	}
}
