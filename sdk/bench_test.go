package sdk_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

// BenchmarkGet reads one ConfigMap from a real server: "floor" is a bare
// net/http GET reading the body (no decoding), "sdk" is the typed client
// (request, Status check, strict-free JSON decoding into *ConfigMap).
//
//	go test -run '^$' -bench 'BenchmarkGet$' -count 6 ./sdk/
func BenchmarkGet(b *testing.B) {
	env := newTestEnv(b)
	ctx := context.Background()
	cms := sdk.Typed[*types.ConfigMap](env.client).Namespace("default")
	cm := &types.ConfigMap{ObjectMeta: types.ObjectMeta{Name: "bench"}, Data: map[string]string{"a": "1", "b": "2"}}
	if _, err := cms.Create(ctx, cm); err != nil {
		b.Fatal(err)
	}
	url := env.url + "/api/v1/namespaces/default/configmaps/bench"
	b.Run("floor", func(b *testing.B) {
		hc := &http.Client{}
		for b.Loop() {
			resp, err := hc.Get(url)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, resp.Body); err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
	b.Run("sdk", func(b *testing.B) {
		for b.Loop() {
			got, err := cms.Get(ctx, "bench")
			if err != nil || got.Data["a"] != "1" {
				b.Fatalf("get: %v %v", got, err)
			}
		}
	})
}

// BenchmarkListerGet reads one object of 1000 from an informer's cache
// against a plain map lookup of the same objects (the floor).
//
//	go test -run '^$' -bench 'BenchmarkListerGet$' -count 6 ./sdk/
func BenchmarkListerGet(b *testing.B) {
	env := newTestEnv(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cms := sdk.Typed[*types.ConfigMap](env.client).Namespace("default")
	floor := map[string]*types.ConfigMap{}
	for i := range 1000 {
		cm := &types.ConfigMap{ObjectMeta: types.ObjectMeta{Name: fmt.Sprintf("cm-%04d", i)}}
		got, err := cms.Create(ctx, cm)
		if err != nil {
			b.Fatal(err)
		}
		floor["default/"+got.Name] = got
	}
	f := sdk.NewInformerFactory(env.client)
	inf := f.Informer(mustResource(b, "configmaps"), sdk.InformerOptions{})
	f.Start(ctx)
	defer f.Wait()
	defer cancel()
	if err := inf.WaitForSync(ctx); err != nil {
		b.Fatal(err)
	}
	b.Run("floor", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if floor[fmt.Sprintf("default/cm-%04d", i%1000)] == nil {
				b.Fatal("missing")
			}
			i++
		}
	})
	b.Run("lister", func(b *testing.B) {
		l := inf.Lister()
		i := 0
		for b.Loop() {
			if _, err := l.Get("default", fmt.Sprintf("cm-%04d", i%1000)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
