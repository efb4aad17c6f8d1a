package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
)

// watchStream reads the events of one watch request.
type watchStream struct {
	t      testing.TB
	res    *http.Response
	cancel context.CancelFunc
	events chan types.WatchEvent
}

// watch opens a watch; it ends with the test.
func (e *env) watch(t testing.TB, path, accept string) *watchStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url+path, nil)
	if err != nil {
		cancel()
		t.Fatalf("new request: %v", err)
	}
	if accept != "" {
		hr.Header.Set("Accept", accept)
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		cancel()
		t.Fatalf("watch %s: %v", path, err)
	}
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		cancel()
		t.Fatalf("watch %s: code %d: %s", path, res.StatusCode, body)
	}
	w := &watchStream{t: t, res: res, cancel: cancel, events: make(chan types.WatchEvent, 1024)}
	go func() {
		defer close(w.events)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var ev types.WatchEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				ev = types.WatchEvent{Type: "UNDECODABLE", Object: json.RawMessage(strconv.Quote(sc.Text()))}
			}
			w.events <- ev
		}
	}()
	t.Cleanup(w.stop)
	return w
}

func (w *watchStream) stop() {
	w.cancel()
	w.res.Body.Close()
}

// watchWait bounds how long a test waits for an event that must come; it
// only guards against a hang and never decides a pass.
const watchWait = 20 * time.Second

// next returns the next event; ok is false when the stream ended.
func (w *watchStream) next() (types.WatchEvent, bool) {
	w.t.Helper()
	select {
	case ev, ok := <-w.events:
		return ev, ok
	case <-time.After(watchWait):
		w.t.Fatalf("no watch event within %v", watchWait)
		return types.WatchEvent{}, false
	}
}

// expect reads the next event and checks its type and object name.
func (w *watchStream) expect(typ, name string) types.ObjectMeta {
	w.t.Helper()
	ev, ok := w.next()
	if !ok {
		w.t.Fatalf("watch ended, want %s %s", typ, name)
	}
	var obj struct {
		Metadata types.ObjectMeta `json:"metadata"`
	}
	if err := json.Unmarshal(ev.Object, &obj); err != nil {
		w.t.Fatalf("decode event object %s: %v", ev.Object, err)
	}
	if ev.Type != typ || obj.Metadata.Name != name {
		w.t.Fatalf("event %s %s, want %s %s (object %s)", ev.Type, obj.Metadata.Name, typ, name, ev.Object)
	}
	return obj.Metadata
}

// expectEnd checks that the stream ends with no further event.
func (w *watchStream) expectEnd() {
	w.t.Helper()
	if ev, ok := w.next(); ok {
		w.t.Fatalf("unexpected event %s %s", ev.Type, ev.Object)
	}
}

func TestWatchInitialStateThenChanges(t *testing.T) {
	e := newEnv(t)
	e.post(t, cmPath, configMap("a", nil, nil)).must(t, http.StatusCreated)
	e.post(t, cmPath, configMap("b", nil, nil)).must(t, http.StatusCreated)
	w := e.watch(t, cmPath+"?watch=true", "")
	if ct := w.res.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type %q", ct)
	}
	w.expect(types.Added, "a")
	w.expect(types.Added, "b")
	var c types.ConfigMap
	e.post(t, cmPath, configMap("c", nil, nil)).must(t, http.StatusCreated).into(t, &c)
	if m := w.expect(types.Added, "c"); m.ResourceVersion != c.ResourceVersion {
		t.Fatalf("event resourceVersion %s, object's %s", m.ResourceVersion, c.ResourceVersion)
	}
	e.patch(t, cmPath+"/a", "application/merge-patch+json", `{"data":{"x":"1"}}`).must(t, 200)
	w.expect(types.Modified, "a")
	var del types.ConfigMap
	e.del(t, cmPath+"/b", nil).must(t, 200).into(t, &del)
	if m := w.expect(types.Deleted, "b"); m.ResourceVersion != del.ResourceVersion {
		t.Fatalf("DELETED at %s, delete answered %s", m.ResourceVersion, del.ResourceVersion)
	}
}

func TestWatchResumeFromRevision(t *testing.T) {
	e := newEnv(t)
	var a types.ConfigMap
	e.post(t, cmPath, configMap("a", nil, nil)).must(t, http.StatusCreated).into(t, &a)
	e.post(t, cmPath, configMap("b", nil, nil)).must(t, http.StatusCreated)
	e.patch(t, cmPath+"/a", "application/merge-patch+json", `{"data":{"x":"1"}}`).must(t, 200)
	// Everything after a's creation, and nothing before.
	w := e.watch(t, cmPath+"?watch=1&resourceVersion="+a.ResourceVersion, "")
	w.expect(types.Added, "b")
	w.expect(types.Modified, "a")
	e.del(t, cmPath+"/a", nil).must(t, 200)
	w.expect(types.Deleted, "a")

	// The legacy /watch/ path means the same.
	lw := e.watch(t, "/api/v1/watch/namespaces/default/configmaps?resourceVersion="+a.ResourceVersion, "")
	lw.expect(types.Added, "b")
	lw.expect(types.Modified, "a")
	lw.expect(types.Deleted, "a")
}

func TestWatchCompactedSendsExpired(t *testing.T) {
	e := newEnv(t)
	var a types.ConfigMap
	e.post(t, cmPath, configMap("a", nil, nil)).must(t, http.StatusCreated).into(t, &a)
	e.post(t, cmPath, configMap("b", nil, nil)).must(t, http.StatusCreated)
	if err := e.store.Compact(context.Background(), e.store.Revision()); err != nil {
		t.Fatalf("compact: %v", err)
	}
	// As Kubernetes: 200, then one ERROR event carrying a 410 Status.
	w := e.watch(t, cmPath+"?watch=true&resourceVersion="+a.ResourceVersion, "")
	ev, ok := w.next()
	if !ok || ev.Type != types.Error {
		t.Fatalf("event %v %s, want ERROR", ok, ev.Type)
	}
	var st types.Status
	if err := json.Unmarshal(ev.Object, &st); err != nil {
		t.Fatalf("decode status: %v", err)
	}
	if st.Kind != "Status" || st.Code != http.StatusGone || st.Reason != types.StatusReasonExpired {
		t.Fatalf("status %+v, want 410 Expired", st)
	}
	w.expectEnd()
}

func TestWatchSelectorMovesInAndOut(t *testing.T) {
	e := newEnv(t)
	e.post(t, cmPath, configMap("a", map[string]string{"app": "web"}, nil)).must(t, http.StatusCreated)
	e.post(t, cmPath, configMap("b", map[string]string{"app": "db"}, nil)).must(t, http.StatusCreated)
	w := e.watch(t, cmPath+"?watch=true&labelSelector="+url.QueryEscape("app in (web)"), "")
	w.expect(types.Added, "a")
	// b moves in: ADDED; a moves out: DELETED; unrelated changes: nothing.
	e.patch(t, cmPath+"/b", "application/merge-patch+json", `{"metadata":{"labels":{"app":"web"}}}`).must(t, 200)
	w.expect(types.Added, "b")
	var moved types.ConfigMap
	e.patch(t, cmPath+"/a", "application/merge-patch+json", `{"metadata":{"labels":{"app":"db"}}}`).must(t, 200).into(t, &moved)
	// The DELETED event carries the object as the watcher last saw it,
	// at the revision that took it out (as Kubernetes' watch cache).
	if m := w.expect(types.Deleted, "a"); m.Labels["app"] != "web" || m.ResourceVersion != moved.ResourceVersion {
		t.Fatalf("DELETED object labels %v rv %s, want app=web at %s", m.Labels, m.ResourceVersion, moved.ResourceVersion)
	}
	e.patch(t, cmPath+"/a", "application/merge-patch+json", `{"data":{"x":"1"}}`).must(t, 200)
	e.post(t, cmPath, configMap("c", map[string]string{"app": "other"}, nil)).must(t, http.StatusCreated)
	e.del(t, cmPath+"/c", nil).must(t, 200)
	e.patch(t, cmPath+"/b", "application/merge-patch+json", `{"data":{"x":"1"}}`).must(t, 200)
	// The next event the watcher sees is b's change: nothing of a or c.
	w.expect(types.Modified, "b")
}

func TestWatchFieldSelectorNodeName(t *testing.T) {
	e := newEnv(t)
	e.post(t, podPath, pod("p", nil)).must(t, http.StatusCreated)
	w := e.watch(t, "/api/v1/pods?watch=true&fieldSelector="+url.QueryEscape("spec.nodeName=node-1"), "")
	e.post(t, podPath+"/p/binding", map[string]any{"apiVersion": "v1", "kind": "Binding",
		"metadata": map[string]any{"name": "p"}, "target": map[string]any{"kind": "Node", "name": "node-1"}}).must(t, http.StatusCreated)
	w.expect(types.Added, "p")
}

func TestWatchSingleObjectAndTimeout(t *testing.T) {
	e := newEnv(t)
	e.post(t, cmPath, configMap("a", nil, nil)).must(t, http.StatusCreated)
	e.post(t, cmPath, configMap("b", nil, nil)).must(t, http.StatusCreated)
	// kubectl get NAME -w watches with fieldSelector=metadata.name=NAME.
	w := e.watch(t, cmPath+"?watch=true&timeoutSeconds=1&fieldSelector=metadata.name%3Db", "")
	w.expect(types.Added, "b")
	// timeoutSeconds ends the stream cleanly.
	w.expectEnd()
}

func TestWatchBookmarksAndInitialEvents(t *testing.T) {
	e := newEnv(t)
	e.post(t, cmPath, configMap("a", nil, nil)).must(t, http.StatusCreated)
	w := e.watch(t, cmPath+"?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan", "")
	w.expect(types.Added, "a")
	ev, ok := w.next()
	if !ok || ev.Type != types.Bookmark {
		t.Fatalf("event %s, want BOOKMARK", ev.Type)
	}
	var bm types.ConfigMap
	if err := json.Unmarshal(ev.Object, &bm); err != nil {
		t.Fatalf("decode bookmark: %v", err)
	}
	if bm.Annotations["k8s.io/initial-events-end"] != "true" || bm.ResourceVersion != strconv.FormatInt(e.store.Revision(), 10) {
		t.Fatalf("bookmark %+v", bm.ObjectMeta)
	}
}

func TestWatchTable(t *testing.T) {
	e := newEnv(t)
	e.post(t, cmPath, configMap("a", nil, map[string]string{"x": "1"})).must(t, http.StatusCreated)
	w := e.watch(t, cmPath+"?watch=true", "application/json;as=Table;v=v1;g=meta.k8s.io")
	ev, ok := w.next()
	if !ok || ev.Type != types.Added {
		t.Fatalf("event %s", ev.Type)
	}
	var tbl tableJSON
	if err := json.Unmarshal(ev.Object, &tbl); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if tbl.Kind != "Table" || len(tbl.ColumnDefinitions) == 0 || len(tbl.Rows) != 1 || tbl.Rows[0].Cells[0] != "a" {
		t.Fatalf("table event %s", ev.Object)
	}
	e.post(t, cmPath, configMap("b", nil, nil)).must(t, http.StatusCreated)
	ev, _ = w.next()
	tbl = tableJSON{}
	if err := json.Unmarshal(ev.Object, &tbl); err != nil {
		t.Fatalf("decode: %v", err)
	}
	// Later events leave out the column definitions, as Kubernetes does.
	if ev.Type != types.Added || len(tbl.ColumnDefinitions) != 0 || len(tbl.Rows) != 1 || tbl.Rows[0].Cells[0] != "b" {
		t.Fatalf("second table event %s %s", ev.Type, ev.Object)
	}
}

// tableJSON is a meta.k8s.io/v1 Table as the server sends it.
type tableJSON struct {
	Kind              string `json:"kind"`
	APIVersion        string `json:"apiVersion"`
	ColumnDefinitions []struct {
		Name     string `json:"name"`
		Priority int    `json:"priority"`
	} `json:"columnDefinitions"`
	Rows []struct {
		Cells  []any           `json:"cells"`
		Object json.RawMessage `json:"object"`
	} `json:"rows"`
}

func TestWatchFutureRevision(t *testing.T) {
	e := newEnv(t)
	e.get(t, cmPath+"?watch=true&resourceVersion=99999").status(t, http.StatusGatewayTimeout, types.StatusReasonTimeout)
}

func TestWatchLegacyNamedPath(t *testing.T) {
	e := newEnv(t)
	var a types.ConfigMap
	e.post(t, cmPath, configMap("a", nil, nil)).must(t, http.StatusCreated).into(t, &a)
	e.post(t, cmPath, configMap("b", nil, nil)).must(t, http.StatusCreated)
	w := e.watch(t, "/api/v1/watch/namespaces/default/configmaps/a?resourceVersion="+a.ResourceVersion, "")
	e.patch(t, cmPath+"/b", "application/merge-patch+json", `{"data":{"x":"1"}}`).must(t, 200)
	e.patch(t, cmPath+"/a", "application/merge-patch+json", `{"data":{"x":"1"}}`).must(t, 200)
	w.expect(types.Modified, "a")
	// Writes to a legacy watch path are refused.
	e.post(t, "/api/v1/watch/namespaces/default/configmaps", configMap("c", nil, nil)).status(t, 405, types.StatusReasonMethodNotAllowed)
}

// TestWatchersShareEventsCorrectly: watches with different selectors see
// one store event differently (the events they share are cached).
func TestWatchersShareEventsCorrectly(t *testing.T) {
	e := newEnv(t)
	e.post(t, cmPath, configMap("a", map[string]string{"app": "web"}, nil)).must(t, http.StatusCreated)
	from := itoa(e.store.Revision())
	selected := e.watch(t, cmPath+"?watch=true&labelSelector=app%3Dweb&resourceVersion="+from, "")
	all := e.watch(t, cmPath+"?watch=true&resourceVersion="+from, "")
	e.patch(t, cmPath+"/a", "application/merge-patch+json", `{"metadata":{"labels":{"app":"db"}}}`).must(t, 200)
	if m := selected.expect(types.Deleted, "a"); m.Labels["app"] != "web" {
		t.Fatalf("selected watch: DELETED with labels %v, want app=web", m.Labels)
	}
	if m := all.expect(types.Modified, "a"); m.Labels["app"] != "db" {
		t.Fatalf("unselective watch: MODIFIED with labels %v, want app=db", m.Labels)
	}
	e.del(t, cmPath+"/a", nil).must(t, 200)
	all.expect(types.Deleted, "a")
	// A third watch replaying the same history gets the same events.
	again := e.watch(t, cmPath+"?watch=true&resourceVersion="+from, "")
	again.expect(types.Modified, "a")
	again.expect(types.Deleted, "a")
}
