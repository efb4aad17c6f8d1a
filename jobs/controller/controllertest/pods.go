package controllertest

import (
	"strings"
	"sync"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/sdk"
)

// PodLog records, in the API's order, what a watch of Pods shows:
// "ADDED x" when a Pod is created, "READY x" the first time it is seen
// ready and "DELETED x" when it is deleted, x naming the Pod as the
// WatchPods caller chose. It is safe for concurrent use.
type PodLog struct {
	mu     sync.Mutex
	events []string
	ready  map[string]bool // by Pod UID
}

// WatchPods starts a PodLog of the Pods of namespace matching the label
// selector string, which runs until the end of the test. name says how a
// Pod is written in the log (nil: by its name).
func (e *Env) WatchPods(ns, selector string, name func(*types.Pod) string) *PodLog {
	e.T.Helper()
	if name == nil {
		name = func(p *types.Pod) string { return p.Name }
	}
	w, err := sdk.Typed[*types.Pod](e.Client).Namespace(ns).Watch(e.Ctx(), sdk.ListOptions{LabelSelector: selector})
	if err != nil {
		e.T.Fatalf("watch pods: %v", err)
	}
	l := &PodLog{ready: map[string]bool{}}
	go func() {
		for ev := range w.Events() {
			l.record(ev.Type, ev.Object, name(ev.Object))
		}
	}()
	return l
}

func (l *PodLog) record(typ string, p *types.Pod, name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if typ == types.Added || typ == types.Deleted {
		l.events = append(l.events, typ+" "+name)
	}
	if typ != types.Deleted && controller.IsPodReady(p) && !l.ready[p.UID] {
		l.ready[p.UID] = true
		l.events = append(l.events, "READY "+name)
	}
}

// Events returns the log so far.
func (l *PodLog) Events() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.events...)
}

// Of returns, in order, the Pods of the log's events of typ ("ADDED",
// "READY" or "DELETED").
func (l *PodLog) Of(typ string) []string {
	var out []string
	for _, s := range l.Events() {
		if name, ok := strings.CutPrefix(s, typ+" "); ok {
			out = append(out, name)
		}
	}
	return out
}
