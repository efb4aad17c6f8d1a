package nodeinfo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller/controllertest"
	"github.com/wharfhq/wharf/jobs/gc"
	"github.com/wharfhq/wharf/sdk"
)

// TestLeaseOfDeletedNodeCollected: the Lease's ownerReference names its
// Node so that the garbage collector deletes the Lease of a Node that was
// deleted while its agent is gone (no heartbeat registers it again).
//
// The collector is started after the deletion: it watches namespaced
// kinds only, so it finds a dangling Lease when it lists it (at its start)
// or when the Lease changes, not at the moment the Node is deleted.
func TestLeaseOfDeletedNodeCollected(t *testing.T) {
	env := controllertest.NewEnv(t)
	ctx := context.Background()
	r, err := New(Config{NodeName: "node-a", Client: env.Client, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Register(ctx); err != nil {
		t.Fatal(err)
	}
	leases := sdk.Typed[*types.Lease](env.Client).Namespace(types.NamespaceNodeLease)
	if _, err := leases.Get(ctx, "node-a"); err != nil {
		t.Fatal(err)
	}
	// The collector runs before the deletion: it must see the Node go, not
	// only find an orphan when it lists Leases at start.
	env.Start(controllertest.Controller(gc.New))
	time.Sleep(200 * time.Millisecond) // let it list the Lease with its owner present
	if err := sdk.Typed[*types.Node](env.Client).Delete(ctx, "node-a", types.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	env.Eventually("lease collected", func() (bool, error) {
		_, err := leases.Get(ctx, "node-a")
		if sdk.IsNotFound(err) {
			return true, nil
		}
		return false, fmt.Errorf("lease still there (err %v)", err)
	})
}
