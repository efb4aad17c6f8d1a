package sdk_test

import (
	"fmt"
	"testing"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

func TestWatch(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	cms := sdk.Typed[*types.ConfigMap](env.client).Namespace("default")
	l, err := cms.List(ctx, sdk.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := cms.Watch(ctx, sdk.ListOptions{ResourceVersion: l.ResourceVersion, LabelSelector: "watched=yes"})
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	defer w.Stop()

	cm, err := cms.Create(ctx, newConfigMap("", "w", map[string]string{"watched": "yes"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Create(ctx, newConfigMap("", "other", nil, nil)); err != nil { // filtered out
		t.Fatal(err)
	}
	cm.Data = map[string]string{"k": "v"}
	if _, err := cms.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(ctx, "w", types.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	var got []string
	for ev := range w.Events() {
		if ev.Type == types.Bookmark {
			continue
		}
		got = append(got, fmt.Sprintf("%s %s %s", ev.Type, ev.Object.Name, ev.Object.Data["k"]))
		if ev.Type == types.Deleted {
			break
		}
	}
	want := "[ADDED w  MODIFIED w v DELETED w v]"
	if fmt.Sprint(got) != want {
		t.Fatalf("events = %v, want %s", got, want)
	}
	w.Stop()
	if err := w.Err(); err != nil {
		t.Fatalf("Err after Stop = %v, want nil", err)
	}
	if _, ok := <-w.Events(); ok {
		t.Fatal("Events still open after Stop")
	}
}

func TestWatchCompactedIsGone(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	cms := sdk.Typed[*types.ConfigMap](env.client).Namespace("default")
	first, err := cms.Create(ctx, newConfigMap("", "a", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := cms.Create(ctx, newConfigMap("", fmt.Sprintf("b%d", i), nil, nil)); err != nil {
			t.Fatal(err)
		}
	}
	if err := env.store.Compact(ctx, env.store.Revision()); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	// The server may refuse at once (410) or send an ERROR event: both
	// must read as Gone.
	w, err := cms.Watch(ctx, sdk.ListOptions{ResourceVersion: first.ResourceVersion})
	if err == nil {
		for range w.Events() {
		}
		err = w.Err()
		w.Stop()
	}
	if !sdk.IsGone(err) {
		t.Fatalf("watch from a compacted resourceVersion: error %v, want Gone", err)
	}
}

func TestWatchTable(t *testing.T) {
	env := newTestEnv(t)
	ctx := testCtx(t)
	rc := env.client.Resource(mustResource(t, "configmaps")).Namespace("default")
	tbl, err := rc.Table(ctx, "", sdk.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := rc.WatchTable(ctx, sdk.ListOptions{ResourceVersion: tbl.ResourceVersion})
	if err != nil {
		t.Fatalf("WatchTable: %v", err)
	}
	defer w.Stop()
	if _, err := rc.Create(ctx, newConfigMap("default", "t", nil, map[string]string{"a": "b"})); err != nil {
		t.Fatal(err)
	}
	for ev := range w.Events() {
		if ev.Type == types.Bookmark {
			continue
		}
		if ev.Type != types.Added || len(ev.Object.Rows) != 1 || ev.Object.Rows[0].Cells[0] != "t" {
			t.Fatalf("event = %s %+v, want ADDED with one row for t", ev.Type, ev.Object)
		}
		return
	}
	t.Fatalf("watch ended without an event: %v", w.Err())
}
