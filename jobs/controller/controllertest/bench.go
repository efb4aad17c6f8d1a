package controllertest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

// Until polls cond every 5ms (benchmark figures are tenths of seconds
// and more: this adds at most 5ms) and returns the time since start; it
// fails tb when cond is still false after 5 minutes.
func Until(tb testing.TB, start time.Time, what string, cond func() bool) time.Duration {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not reached after 5 minutes", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

// PodInformer returns an informer of every Pod through c, for the
// drivers that stand in for agents in benchmarks.
func PodInformer(tb testing.TB, c *sdk.Client) *sdk.Informer {
	tb.Helper()
	res, err := sdk.ResourceOf[*types.Pod]()
	if err != nil {
		tb.Fatal(err)
	}
	return sdk.NewInformer(c, res, sdk.InformerOptions{})
}

// Drive runs inf, and q served by workers calling work, until ctx ends
// (wg counts both), and returns once inf has listed.
func Drive(ctx context.Context, tb testing.TB, wg *sync.WaitGroup, inf *sdk.Informer, q *sdk.Queue, workers int, work func(ctx context.Context, key string) error) {
	tb.Helper()
	wg.Add(2)
	go func() { defer wg.Done(); _ = inf.Run(ctx) }()
	go func() { defer wg.Done(); q.Run(ctx, workers, work) }()
	if err := inf.WaitForSync(ctx); err != nil {
		tb.Fatal(err)
	}
}
