package nodeinfo

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/internal/testutil"
	"github.com/wharfhq/wharf/nodes/nodeinfo/apitest"
	"github.com/wharfhq/wharf/sdk"
)

// TestLeaseCreatedAndRenewed: registration creates kube-node-lease/NODE
// held by the node and owned by its Node; each heartbeat advances
// renewTime and keeps acquireTime; a re-registered Node (new uid) becomes
// the owner.
func TestLeaseCreatedAndRenewed(t *testing.T) {
	env := apitest.Start(t, apitest.Options{})
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 678901234, time.UTC)
	r, err := New(Config{NodeName: "node-a", Client: env.Client, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	n, err := r.Register(ctx)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	leases := sdk.Typed[*types.Lease](env.Client).Namespace(types.NamespaceNodeLease)
	l, err := leases.Get(ctx, "node-a")
	if err != nil {
		t.Fatalf("lease after Register: %v", err)
	}
	start := now.Truncate(time.Microsecond)
	s := l.Spec
	if s.HolderIdentity == nil || *s.HolderIdentity != "node-a" || s.LeaseDurationSeconds == nil || *s.LeaseDurationSeconds != LeaseDurationSeconds ||
		s.RenewTime == nil || !s.RenewTime.Equal(start) || s.AcquireTime == nil || !s.AcquireTime.Equal(start) {
		t.Fatalf("lease spec = %+v", s)
	}
	if len(l.OwnerReferences) != 1 || l.OwnerReferences[0] != (types.OwnerReference{APIVersion: "v1", Kind: "Node", Name: "node-a", UID: n.UID}) {
		t.Errorf("ownerReferences = %+v, want the Node uid %q", l.OwnerReferences, n.UID)
	}

	for i := 1; i <= 2; i++ {
		now = now.Add(DefaultHeartbeatInterval)
		if err := r.Heartbeat(ctx); err != nil {
			t.Fatalf("Heartbeat %d: %v", i, err)
		}
		l, err = leases.Get(ctx, "node-a")
		if err != nil {
			t.Fatal(err)
		}
		if want := now.Truncate(time.Microsecond); !l.Spec.RenewTime.Equal(want) || !l.Spec.AcquireTime.Equal(start) {
			t.Errorf("heartbeat %d: renewTime %v acquireTime %v, want %v and %v", i, l.Spec.RenewTime, l.Spec.AcquireTime, want, start)
		}
		if l.Spec.LeaseTransitions != nil {
			t.Errorf("heartbeat %d: leaseTransitions = %d, want unset (same holder)", i, *l.Spec.LeaseTransitions)
		}
	}

	// The Node deleted and registered again: the Lease follows the new uid.
	if err := sdk.Typed[*types.Node](env.Client).Delete(ctx, "node-a", types.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Heartbeat(ctx); err != nil {
		t.Fatalf("Heartbeat after delete: %v", err)
	}
	n2, err := sdk.Typed[*types.Node](env.Client).Get(ctx, "node-a")
	if err != nil {
		t.Fatal(err)
	}
	if l, err = leases.Get(ctx, "node-a"); err != nil {
		t.Fatal(err)
	}
	if n2.UID == n.UID || len(l.OwnerReferences) != 1 || l.OwnerReferences[0].UID != n2.UID {
		t.Errorf("after re-registration: node uid %q (was %q), lease owners %+v", n2.UID, n.UID, l.OwnerReferences)
	}
}

// TestKubectlDescribeNodeShowsLease: kubectl describe node prints the
// Lease's holder and renew time instead of "Failed to get lease".
func TestKubectlDescribeNodeShowsLease(t *testing.T) {
	path, err := exec.LookPath("kubectl")
	if err != nil {
		testutil.Unavailable(t, "kubectl is not on PATH")
	}
	env := apitest.Start(t, apitest.Options{})
	r, err := New(Config{NodeName: "node-a", Client: env.Client, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Register(context.Background()); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	cmd := exec.Command(path, "--server", env.URL, "describe", "node", "node-a")
	cmd.Env = []string{"HOME=" + home, "KUBECONFIG=" + home + "/config", "PATH=" + os.Getenv("PATH")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl describe node: %v: %s", err, stderr.Bytes())
	}
	if strings.Contains(string(out), "Failed to get lease") {
		t.Fatalf("kubectl describe node:\n%s", out)
	}
	for _, want := range []string{"HolderIdentity:  node-a", "RenewTime:", "AcquireTime:"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("kubectl describe node does not show %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "RenewTime:       <unset>") {
		t.Errorf("renew time unset:\n%s", out)
	}
}

// TestLeaseRenewalIsOneWrite: a renewal is one update without a read
// while nobody else writes the Lease; after another writer's change (a
// conflict) it reads the Lease again and keeps that change.
func TestLeaseRenewalIsOneWrite(t *testing.T) {
	var mu sync.Mutex
	calls := map[string]int{} // "METHOD" of requests on the node Lease
	env := apitest.Start(t, apitest.Options{Wrap: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if strings.HasSuffix(req.URL.Path, "/namespaces/kube-node-lease/leases/node-a") {
				mu.Lock()
				calls[req.Method]++
				mu.Unlock()
			}
			h.ServeHTTP(w, req)
		})
	}})
	took := func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		c := maps.Clone(calls)
		clear(calls)
		return c
	}
	ctx := context.Background()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r, err := New(Config{NodeName: "node-a", Client: env.Client, Now: func() time.Time { return now },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	n, err := r.Register(ctx)
	if err != nil {
		t.Fatal(err)
	}
	took()
	for i := range 3 {
		now = now.Add(DefaultHeartbeatInterval)
		if err := r.RenewLease(ctx, n); err != nil {
			t.Fatal(err)
		}
		if c := took(); !maps.Equal(c, map[string]int{http.MethodPut: 1}) {
			t.Errorf("renewal %d: requests %v, want one PUT", i, c)
		}
	}

	leases := sdk.Typed[*types.Lease](env.Client).Namespace(types.NamespaceNodeLease)
	l, err := leases.Get(ctx, "node-a")
	if err != nil {
		t.Fatal(err)
	}
	l.Labels = map[string]string{"team": "x"}
	if _, err := leases.Update(ctx, l); err != nil {
		t.Fatal(err)
	}
	took()
	now = now.Add(DefaultHeartbeatInterval)
	if err := r.RenewLease(ctx, n); err != nil {
		t.Fatalf("renewal after another writer: %v", err)
	}
	if c := took(); !maps.Equal(c, map[string]int{http.MethodPut: 2, http.MethodGet: 1}) {
		t.Errorf("renewal after another writer: requests %v, want PUT (conflict), GET, PUT", c)
	}
	if l, err = leases.Get(ctx, "node-a"); err != nil {
		t.Fatal(err)
	}
	if l.Labels["team"] != "x" || !l.Spec.RenewTime.Equal(now) {
		t.Errorf("after renewal: labels %v renewTime %v, want team=x and %v", l.Labels, l.Spec.RenewTime, now)
	}

	// The Lease deleted by someone: the next renewal creates it again.
	if err := leases.Delete(ctx, "node-a", types.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.RenewLease(ctx, n); err != nil {
		t.Fatalf("renewal after deletion: %v", err)
	}
	if _, err := leases.Get(ctx, "node-a"); err != nil {
		t.Errorf("lease not created again: %v", err)
	}
}
