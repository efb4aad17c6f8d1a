package plugins

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sched/framework"
	. "github.com/wharfhq/wharf/sched/internal/schedtest"
)

// platformFixture is a registry with an arm64-only image, an amd64-only
// image and a multi-arch index, and a reference on a registry that cannot
// be reached.
type platformFixture struct {
	reg                  *ImageRegistry
	arm, amd, multi      string
	withWasm             string // linux/arm64 and wasi/wasm
	missing, unreachable string
}

func newPlatformFixture(t *testing.T) *platformFixture {
	t.Helper()
	reg := NewImageRegistry(t)
	return &platformFixture{
		reg:         reg,
		arm:         reg.PushImage(t, "arm", "linux/arm64"),
		amd:         reg.PushImage(t, "amd", "linux/amd64"),
		multi:       reg.PushIndex(t, "multi", "linux/amd64", "linux/arm64"),
		withWasm:    reg.PushIndex(t, "withwasm", "linux/arm64", "wasi/wasm"),
		missing:     reg.Host + "/missing:v1",
		unreachable: UnreachableRegistry(t) + "/arm:v1",
	}
}

func TestRegistryResolver(t *testing.T) {
	f := newPlatformFixture(t)
	r := NewRegistryResolver()
	tests := []struct {
		name    string
		ref     string
		want    []string
		wantErr bool
	}{
		{"single image: its config", f.arm, []string{"linux/arm64"}, false},
		{"index: its manifests, without attestations", f.multi, []string{"linux/amd64", "linux/arm64"}, false},
		{"not in the registry", f.missing, nil, true},
		{"registry unreachable", f.unreachable, nil, true},
		{"invalid reference", "UPPER/case::x", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.ImagePlatforms(context.Background(), tt.ref)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ImagePlatforms(%q) error %v, want error %v", tt.ref, err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ImagePlatforms(%q) = %v, want %v", tt.ref, got, tt.want)
			}
		})
	}
}

func TestRegistryResolverScheme(t *testing.T) {
	r := NewRegistryResolver(WithInsecureRegistries("reg.lan:5000", "plain.lan"))
	tests := []struct {
		ref, want string
	}{
		{"reg.lan:5000/app:v1", "http"},
		{"plain.lan:8080/app:v1", "http"},
		{"localhost:5000/app", "http"},
		{"127.0.0.1:5000/app", "http"},
		{"reg.lan:6000/app:v1", "https"},
		{"busybox", "https"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			nr, err := r.parseRef(tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			if got := nr.Context().Registry.Scheme(); got != tt.want {
				t.Errorf("scheme %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRegistryResolverCache(t *testing.T) {
	f := newPlatformFixture(t)
	now := time.Unix(1e9, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	r := NewRegistryResolver(WithResolverTTL(10*time.Minute, 30*time.Second), WithResolverClock(clock))
	ctx := context.Background()

	t.Run("concurrent callers share one lookup", func(t *testing.T) {
		var wg sync.WaitGroup
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if got, err := r.ImagePlatforms(ctx, f.arm); err != nil || !slices.Equal(got, []string{"linux/arm64"}) {
					t.Errorf("ImagePlatforms = %v, %v", got, err)
				}
			}()
		}
		wg.Wait()
		if n := f.reg.ManifestGets("arm"); n != 1 {
			t.Errorf("registry asked %d times for the manifest, want 1", n)
		}
	})
	t.Run("found platforms live for the TTL", func(t *testing.T) {
		advance(9 * time.Minute)
		mustPlatforms(t, r, f.arm)
		if n := f.reg.ManifestGets("arm"); n != 1 {
			t.Errorf("within the TTL: %d manifest requests, want 1", n)
		}
		advance(2 * time.Minute)
		mustPlatforms(t, r, f.arm) // the stale answer, at once
		if n := r.Lookups(); n != 2 {
			t.Errorf("after the TTL: %d lookups, want 2 (a refresh)", n)
		}
		waitRefresh(r, f.arm)
		if n := f.reg.ManifestGets("arm"); n != 2 {
			t.Errorf("after the TTL: %d manifest requests, want 2", n)
		}
		mustPlatforms(t, r, f.arm)
		if n := r.Lookups(); n != 2 {
			t.Errorf("refreshed: %d lookups, want still 2", n)
		}
	})
	t.Run("failures are remembered briefly", func(t *testing.T) {
		for range 3 {
			if _, err := r.ImagePlatforms(ctx, f.missing); err == nil {
				t.Fatal("missing image: no error")
			}
		}
		if n := f.reg.ManifestGets("missing"); n != 1 {
			t.Errorf("within the negative TTL: %d manifest requests, want 1", n)
		}
		advance(31 * time.Second)
		if _, err := r.ImagePlatforms(ctx, f.missing); err == nil {
			t.Fatal("missing image: no error")
		}
		if n := f.reg.ManifestGets("missing"); n != 2 {
			t.Errorf("after the negative TTL: %d manifest requests, want 2", n)
		}
	})
	t.Run("the cache is bounded", func(t *testing.T) {
		small := NewRegistryResolver(WithResolverCacheSize(1))
		for _, ref := range []string{f.amd, f.multi, f.amd} {
			mustPlatforms(t, small, ref)
		}
		if n := small.Lookups(); n != 3 {
			t.Errorf("size 1, refs a b a: %d lookups, want 3 (a evicted by b)", n)
		}
		mustPlatforms(t, small, f.amd)
		if n := small.Lookups(); n != 3 {
			t.Errorf("a again: %d lookups, want 3 (cached)", n)
		}
	})
	t.Run("a caller's cancelled context ends its wait only", func(t *testing.T) {
		before := f.reg.ManifestGets("multi") // pushing an index reads manifests
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := r.ImagePlatforms(cctx, f.multi); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled caller: error %v, want context.Canceled", err)
		}
		mustPlatforms(t, r, f.multi)
		if n := f.reg.ManifestGets("multi") - before; n != 1 {
			t.Errorf("%d manifest requests for multi, want 1", n)
		}
	})
}

// TestRegistryResolverKeepsStaleOnError: a found answer outlives its TTL
// while its registry is down.
func TestRegistryResolverKeepsStaleOnError(t *testing.T) {
	reg := NewImageRegistry(t)
	ref := reg.PushImage(t, "arm", "linux/arm64")
	now := time.Unix(1e9, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	r := NewRegistryResolver(WithResolverTTL(time.Minute, time.Second), WithResolverClock(clock))
	mustPlatforms(t, r, ref)
	reg.Stop()
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	for range 2 { // once stale with the refresh failing, once after it failed
		if got := mustPlatforms(t, r, ref); !slices.Equal(got, []string{"linux/arm64"}) {
			t.Fatalf("registry down: %v, want the last answer", got)
		}
		waitRefresh(r, ref)
	}
	if n := r.Lookups(); n != 2 {
		t.Errorf("%d lookups, want 2 (the failed refresh is remembered for the negative TTL)", n)
	}
}

// waitRefresh waits for the lookup of ref in flight, if any.
func waitRefresh(r *RegistryResolver, ref string) {
	r.mu.Lock()
	c := r.inflight[ref]
	r.mu.Unlock()
	if c != nil {
		<-c.done
	}
}

func mustPlatforms(t *testing.T, r PlatformResolver, ref string) []string {
	t.Helper()
	p, err := r.ImagePlatforms(context.Background(), ref)
	if err != nil {
		t.Fatalf("ImagePlatforms(%q): %v", ref, err)
	}
	return p
}

func TestNodeArchitectureResolved(t *testing.T) {
	f := newPlatformFixture(t)
	pl := NodeArchitecture{Resolver: NewRegistryResolver()}
	ns := nodes(
		Node("amd").Arch("amd64").Obj(),
		Node("arm").Arch("arm64").Obj(),
		Node("unknown").Unlabel("kubernetes.io/arch").Obj(),
	)
	armOnly := ReasonImagePlatforms + " (" + f.arm + ": linux/arm64)"
	amdOnly := ReasonImagePlatforms + " (" + f.amd + ": linux/amd64)"
	tests := []struct {
		name string
		pod  *types.Pod
		want map[string]string
	}{
		{"arm64-only image", Pod("p").Images(f.arm).Obj(), map[string]string{
			"amd": armOnly, "arm": "", "unknown": ""}},
		{"multi-arch index", Pod("p").Images(f.multi).Obj(), map[string]string{
			"amd": "", "arm": "", "unknown": ""}},
		{"every image must match", Pod("p").Images(f.multi, f.arm).Obj(), map[string]string{
			"amd": armOnly, "arm": "", "unknown": ""}},
		{"init containers count", Pod("p").Images(f.multi).InitImages(f.arm).Obj(), map[string]string{
			"amd": armOnly, "arm": "", "unknown": ""}},
		{"the annotation wins", Pod("p").Images(f.arm).Platforms("linux/amd64").Obj(), map[string]string{
			"amd": "", "arm": "node(s) didn't match the Pod's image platforms (linux/amd64)", "unknown": ""}},
		{"image not in the registry: fail open", Pod("p").Images(f.missing).Obj(), map[string]string{
			"amd": "", "arm": "", "unknown": ""}},
		{"registry unreachable: fail open", Pod("p").Images(f.unreachable).Obj(), map[string]string{
			"amd": "", "arm": "", "unknown": ""}},
		{"unknown image beside a known one", Pod("p").Images(f.missing, f.amd).Obj(), map[string]string{
			"amd": "", "arm": amdOnly, "unknown": ""}},
		{"wasm runs anywhere", Pod("p").Images(f.arm).Wasm().Obj(), map[string]string{
			"amd": "", "arm": "", "unknown": ""}},
		{"an image with a wasm platform runs anywhere", Pod("p").Images(f.withWasm).Obj(), map[string]string{
			"amd": "", "arm": "", "unknown": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkFilter(t, filterAll(t, pl, tt.pod, ns), tt.want)
		})
	}
	t.Run("without a resolver only the annotation counts", func(t *testing.T) {
		checkFilter(t, filterAll(t, NodeArchitecture{}, Pod("p").Images(f.arm).Obj(), ns),
			map[string]string{"amd": "", "arm": "", "unknown": ""})
	})
}

// BenchmarkNodeArchitectureCached is what the filter costs a Pod once its
// image's platforms are cached: PreFilter (one cache hit) and Filter on
// 1,000 nodes, half of them refused; the floor is the same Pod with the
// platforms in its annotation (no resolver involved).
func BenchmarkNodeArchitectureCached(b *testing.B) {
	reg := NewImageRegistry(b)
	ref := reg.PushImage(b, "arm", "linux/arm64")
	pl := NodeArchitecture{Resolver: NewRegistryResolver()}
	var ns []*types.Node
	for i := range 1000 {
		n := Node(fmt.Sprintf("n%04d", i))
		if i%2 == 0 {
			n.Arch("arm64")
		}
		ns = append(ns, n.Obj())
	}
	snap := framework.NewSnapshotFromObjects(ns, nil)
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		pod  *types.Pod
	}{
		{"floor=annotation", Pod("p").Images(ref).Platforms("linux/arm64").Obj()},
		{"registry-cached", Pod("p").Images(ref).Obj()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			pi := framework.NewPodInfo(bc.pod)
			for range b.N {
				state := framework.NewCycleState(pi, snap)
				if st := pl.PreFilter(ctx, state, bc.pod, snap); !st.IsSuccess() {
					b.Fatalf("PreFilter: %v", st.AsError())
				}
				fit := 0
				for _, n := range snap.List() {
					if pl.Filter(ctx, state, bc.pod, n).IsSuccess() {
						fit++
					}
				}
				if fit != 500 {
					b.Fatalf("%d nodes fit, want 500", fit)
				}
			}
		})
	}
}
