package sdk_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/labels"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

// recorder is an event handler that records "add k", "update k" and
// "delete k" lines and lets a test wait for a given line.
type recorder struct {
	mu     sync.Mutex
	events []string
	rvs    []int64 // resourceVersion of each add/update, in call order
	ch     chan string
	block  chan struct{} // when set, the first call waits on it
}

func newRecorder() *recorder { return &recorder{ch: make(chan string, 10000)} }

func (r *recorder) record(kind string, obj types.Object) {
	if r.block != nil {
		<-r.block
	}
	line := kind + " " + sdk.KeyFunc(obj)
	r.mu.Lock()
	r.events = append(r.events, line)
	if kind != "delete" {
		rv, _ := strconv.ParseInt(obj.GetObjectMeta().ResourceVersion, 10, 64)
		r.rvs = append(r.rvs, rv)
	}
	r.mu.Unlock()
	r.ch <- line
}

func (r *recorder) handler() sdk.EventHandler {
	return sdk.HandlerFuncs{
		AddFunc:    func(o types.Object) { r.record("add", o) },
		UpdateFunc: func(_, o types.Object) { r.record("update", o) },
		DeleteFunc: func(o types.Object) { r.record("delete", o) },
	}
}

func (r *recorder) waitFor(t *testing.T, want ...string) {
	t.Helper()
	pending := slices.Clone(want)
	deadline := time.After(30 * time.Second)
	for len(pending) > 0 {
		select {
		case line := <-r.ch:
			pending = slices.DeleteFunc(pending, func(s string) bool { return s == line })
		case <-deadline:
			t.Fatalf("handler did not see %v within 30s; saw %v", pending, r.snapshot())
		}
	}
}

func (r *recorder) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// runInformer starts inf and stops it (waiting for Run to return) at the
// end of the test.
func runInformer(t *testing.T, inf *sdk.Informer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- inf.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("informer Run: %v", err)
		}
	})
	if err := inf.WaitForSync(testCtx(t)); err != nil {
		t.Fatal(err)
	}
}

func TestInformerCacheAndHandlers(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	cms := sdk.Typed[*types.ConfigMap](env.client).Namespace("default")
	if _, err := cms.Create(ctx, newConfigMap("", "a", map[string]string{"app": "x"}, nil)); err != nil {
		t.Fatal(err)
	}
	inf := sdk.NewInformer(env.client, mustResource(t, "configmaps"), sdk.InformerOptions{})
	if inf.HasSynced() {
		t.Fatal("HasSynced before Run")
	}
	rec := newRecorder()
	inf.AddEventHandler(rec.handler())
	runInformer(t, inf)
	rec.waitFor(t, "add default/a")

	b, err := cms.Create(ctx, newConfigMap("", "b", map[string]string{"app": "y"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	b.Data = map[string]string{"k": "v"}
	if _, err := cms.Update(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(ctx, "a", types.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "add default/b", "update default/b", "delete default/a")
	if got := fmt.Sprint(rec.snapshot()); got != "[add default/a add default/b update default/b delete default/a]" {
		t.Fatalf("events = %s", got)
	}

	lister := sdk.ListerFor[*types.ConfigMap](inf)
	got, err := lister.Get("default", "b")
	if err != nil || got.Data["k"] != "v" {
		t.Fatalf("lister Get(b) = %+v, %v; want the updated object", got, err)
	}
	if _, err := lister.Get("default", "a"); !sdk.IsNotFound(err) {
		t.Fatalf("lister Get(a) error = %v, want NotFound", err)
	}
	sel, err := labels.Parse("app=y")
	if err != nil {
		t.Fatal(err)
	}
	if l := lister.List(sel); len(l) != 1 || l[0].Name != "b" {
		t.Fatalf("lister List(app=y) = %v", l)
	}
	if l := lister.ListNamespace("other", labels.Everything()); len(l) != 0 {
		t.Fatalf("lister ListNamespace(other) = %v, want none", l)
	}

	// A handler added late first hears about what is already cached.
	late := newRecorder()
	inf.AddEventHandler(late.handler())
	late.waitFor(t, "add default/b")
}

func TestInformerIndexers(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	pods := sdk.Typed[*types.Pod](env.client).Namespace("default")
	for i, node := range []string{"n1", "n1", "n2", ""} {
		if _, err := pods.Create(ctx, newPod("", fmt.Sprintf("p%d", i), node)); err != nil {
			t.Fatal(err)
		}
	}
	inf := sdk.NewInformer(env.client, mustResource(t, "pods"), sdk.InformerOptions{
		Indexers: map[string]sdk.IndexFunc{sdk.IndexNodeName: sdk.NodeNameIndex},
	})
	if err := inf.AddIndexer(sdk.IndexNamespace, sdk.NamespaceIndex); err != nil {
		t.Fatal(err)
	}
	if err := inf.AddIndexer(sdk.IndexNamespace, sdk.NamespaceIndex); err == nil {
		t.Fatal("adding an indexer twice succeeded")
	}
	rec := newRecorder()
	inf.AddEventHandler(rec.handler())
	runInformer(t, inf)
	rec.waitFor(t, "add default/p0", "add default/p1", "add default/p2", "add default/p3")

	lister := sdk.ListerFor[*types.Pod](inf)
	names := func(index, value string) string {
		t.Helper()
		ps, err := lister.ByIndex(index, value)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range ps {
			out = append(out, p.Name)
		}
		return fmt.Sprint(out)
	}
	tests := []struct{ index, value, want string }{
		{sdk.IndexNodeName, "n1", "[p0 p1]"},
		{sdk.IndexNodeName, "n2", "[p2]"},
		{sdk.IndexNodeName, "", "[p3]"},
		{sdk.IndexNamespace, "default", "[p0 p1 p2 p3]"},
	}
	for _, tt := range tests {
		t.Run(tt.index+"="+tt.value, func(t *testing.T) {
			if got := names(tt.index, tt.value); got != tt.want {
				t.Fatalf("ByIndex = %s, want %s", got, tt.want)
			}
		})
	}

	// The index follows changes: binding p3 moves it from "" to n2.
	p3, err := pods.Get(ctx, "p3")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.client.Bind(ctx, p3, "n2"); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "update default/p3")
	if got := names(sdk.IndexNodeName, "n2"); got != "[p2 p3]" {
		t.Fatalf("after bind: n2 = %s, want [p2 p3]", got)
	}
	if got := names(sdk.IndexNodeName, ""); got != "[]" {
		t.Fatalf("after bind: unbound = %s, want []", got)
	}
	if _, err := lister.ByIndex("nope", "x"); err == nil {
		t.Fatal("ByIndex on an unknown index succeeded")
	}
}

// TestInformerRelistAfterGone ends the informer's watch, makes changes
// while it cannot re-watch, compacts the store past its resourceVersion,
// then lets it re-watch: the server answers 410 and the informer must
// relist and tell its handlers what changed meanwhile.
func TestInformerRelistAfterGone(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	cms := sdk.Typed[*types.ConfigMap](env.client).Namespace("default")
	for _, n := range []string{"a", "b"} {
		if _, err := cms.Create(ctx, newConfigMap("", n, nil, nil)); err != nil {
			t.Fatal(err)
		}
	}
	inf := sdk.NewInformer(env.client, mustResource(t, "configmaps"), sdk.InformerOptions{Namespace: "default"})
	rec := newRecorder()
	inf.AddEventHandler(rec.handler())
	runInformer(t, inf)
	rec.waitFor(t, "add default/a", "add default/b")
	syncedRV := env.gate.waitWatch(t)
	if syncedRV != inf.LastSyncResourceVersion() {
		t.Fatalf("watch from %q, want the list's resourceVersion %q", syncedRV, inf.LastSyncResourceVersion())
	}

	env.gate.holdWatches()
	env.gate.endWatches()
	if _, err := cms.Create(ctx, newConfigMap("", "c", nil, nil)); err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(ctx, "a", types.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := env.store.Compact(ctx, env.store.Revision()); err != nil {
		t.Fatal(err)
	}
	env.gate.release()

	rec.waitFor(t, "add default/c", "delete default/a")
	if got := env.gate.lists.Load(); got != 2 {
		t.Fatalf("informer listed %d times, want 2 (initial list and relist after 410)", got)
	}
	if got := fmt.Sprint(rec.snapshot()); got != "[add default/a add default/b delete default/a add default/c]" {
		t.Fatalf("events = %s", got)
	}
	var names []string
	for _, o := range inf.Lister().List(labels.Everything()) {
		names = append(names, o.GetObjectMeta().Name)
	}
	if fmt.Sprint(names) != "[b c]" {
		t.Fatalf("cache after relist = %v, want [b c]", names)
	}
}

// TestInformerResumesWatch ends the watch cleanly (as a server timeout
// does): the informer must re-watch from where it was, without relisting.
func TestInformerResumesWatch(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	cms := sdk.Typed[*types.ConfigMap](env.client).Namespace("default")
	inf := sdk.NewInformer(env.client, mustResource(t, "configmaps"), sdk.InformerOptions{})
	rec := newRecorder()
	inf.AddEventHandler(rec.handler())
	runInformer(t, inf)
	env.gate.waitWatch(t)
	if _, err := cms.Create(ctx, newConfigMap("", "x", nil, nil)); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "add default/x")
	rv := inf.LastSyncResourceVersion()
	env.gate.endWatches()
	if got := env.gate.waitWatch(t); got != rv {
		t.Fatalf("re-watch from %q, want %q (the last event seen)", got, rv)
	}
	if _, err := cms.Create(ctx, newConfigMap("", "y", nil, nil)); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "add default/y")
	if got := env.gate.lists.Load(); got != 1 {
		t.Fatalf("informer listed %d times, want 1", got)
	}
}

// TestInformerHandlerOrdering checks that every handler sees every change
// in resourceVersion order, and that a blocked handler holds up neither
// the watch nor the other handlers.
func TestInformerHandlerOrdering(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	cms := sdk.Typed[*types.ConfigMap](env.client).Namespace("default")
	inf := sdk.NewInformer(env.client, mustResource(t, "configmaps"), sdk.InformerOptions{})
	fast := newRecorder()
	slow := newRecorder()
	slow.block = make(chan struct{})
	inf.AddEventHandler(slow.handler())
	inf.AddEventHandler(fast.handler())
	runInformer(t, inf)

	const n = 30
	var want []string
	for i := range n {
		cm, err := cms.Create(ctx, newConfigMap("", fmt.Sprintf("cm%02d", i), nil, nil))
		if err != nil {
			t.Fatal(err)
		}
		cm.Data = map[string]string{"i": fmt.Sprint(i)}
		if _, err := cms.Update(ctx, cm); err != nil {
			t.Fatal(err)
		}
		want = append(want, "add default/"+cm.Name, "update default/"+cm.Name)
	}
	for i := range n {
		name := fmt.Sprintf("cm%02d", i)
		if err := cms.Delete(ctx, name, types.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		want = append(want, "delete default/"+name)
	}
	fast.waitFor(t, want...)
	// The watch kept going although slow has not returned from its first call.
	if got := len(slow.snapshot()); got != 0 {
		t.Fatalf("blocked handler recorded %d events", got)
	}
	if fmt.Sprint(fast.snapshot()) != fmt.Sprint(want) {
		t.Fatalf("fast handler order:\n got %v\nwant %v", fast.snapshot(), want)
	}
	if !slices.IsSorted(fast.rvs) {
		t.Fatalf("resourceVersions out of order: %v", fast.rvs)
	}
	close(slow.block)
	slow.waitFor(t, want...)
	if fmt.Sprint(slow.snapshot()) != fmt.Sprint(want) {
		t.Fatalf("slow handler order differs:\n got %v\nwant %v", slow.snapshot(), want)
	}
}

func TestInformerFactoryShares(t *testing.T) {
	env := newTestEnv(t)
	f := sdk.NewInformerFactory(env.client)
	res := mustResource(t, "pods")
	a := f.Informer(res, sdk.InformerOptions{FieldSelector: "spec.nodeName=n1"})
	b := f.Informer(res, sdk.InformerOptions{FieldSelector: "spec.nodeName=n1", Indexers: map[string]sdk.IndexFunc{sdk.IndexOwnerUID: sdk.OwnerUIDIndex}})
	c := f.Informer(res, sdk.InformerOptions{})
	if a != b {
		t.Fatal("same resource and selectors gave two informers")
	}
	if a == c {
		t.Fatal("different selectors gave one informer")
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.Start(ctx)
	f.Start(ctx) // idempotent
	if err := f.WaitForSync(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Lister().ByIndex(sdk.IndexOwnerUID, "x"); err != nil {
		t.Fatalf("indexer given through the factory is missing: %v", err)
	}
	cancel()
	f.Wait()
}
