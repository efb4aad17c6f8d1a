package servertest_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wharfhq/wharf/api/server"
	"github.com/wharfhq/wharf/api/server/servertest"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
	"github.com/wharfhq/wharf/storage"
)

// TestStart: the server answers through its client, the wrapper sees the
// requests, the Config hook is applied, and the object is in the store.
func TestStart(t *testing.T) {
	var seen atomic.Int64
	var configured bool
	srv := servertest.Start(t, servertest.Options{
		Config: func(c *server.Config) { configured = c.Store != nil && c.Logger != nil },
		Wrap: func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen.Add(1)
				h.ServeHTTP(w, r)
			})
		},
	})
	if !configured {
		t.Error("Config hook not called with Store and Logger filled")
	}
	ctx := context.Background()
	cm, err := sdk.Typed[*types.ConfigMap](srv.Client).Namespace("default").Create(ctx,
		&types.ConfigMap{ObjectMeta: types.ObjectMeta{Name: "x"}, Data: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatalf("create through the client: %v", err)
	}
	if seen.Load() == 0 {
		t.Error("the wrapper saw no request")
	}
	// The store under the server holds it, at the resourceVersion the
	// client was given.
	l, err := srv.Store.List(ctx, "", storage.ListOptions{})
	if err != nil {
		t.Fatalf("list the store: %v", err)
	}
	found := false
	for _, kv := range l.Items {
		if strings.HasSuffix(kv.Key, "/default/x") && strconv.FormatInt(kv.ModRevision, 10) == cm.ResourceVersion {
			found = true
		}
	}
	if !found {
		t.Errorf("configmap default/x at resourceVersion %s not in the store (%d keys)", cm.ResourceVersion, len(l.Items))
	}
}
