package sched_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sched"
	. "github.com/wharfhq/wharf/sched/internal/schedtest"
	"github.com/wharfhq/wharf/sdk"
)

// The tail of a roll on a full node, in BenchmarkRetryWhenCapacityFrees:
// retryPods Pods wait for room, made in retryWaves waves.
const (
	retryPods  = 100
	retryWaves = 4
)

// retryCluster is a node full with retryPods bound Pods ("old-*") and a
// watch of the Pods from there.
func retryCluster(b *testing.B) (*env, *sdk.Watcher[*types.Pod]) {
	b.Helper()
	e := newEnv(b)
	e.createNode(b, Node("n1").Capacity("64", "256Gi", fmt.Sprint(retryPods)).Obj())
	pods := sdk.Typed[*types.Pod](e.client).Namespace("default")
	parallelDo(b, retryPods, 16, func(i int) error {
		p := Pod(fmt.Sprintf("old-%03d", i)).On("n1").Obj()
		p.UID = ""
		_, err := pods.Create(context.Background(), p)
		return err
	})
	return e, watchFromNow(b, pods)
}

// deleteOld deletes old-i at once (no grace: there is no agent).
func deleteOld(e *env, i int) error {
	now := int64(0)
	return sdk.Typed[*types.Pod](e.client).Namespace("default").Delete(context.Background(),
		fmt.Sprintf("old-%03d", i), types.DeleteOptions{GracePeriodSeconds: &now})
}

// runWaves deletes the old Pods in retryWaves waves (16 at a time): each
// wave starts once the watch has seen as many new Pods bound as old ones
// deleted so far; free, if not nil, runs after each deletion.
func runWaves(b *testing.B, e *env, w *sdk.Watcher[*types.Pod], free func(i int) error) {
	b.Helper()
	bound := map[string]bool{}
	per := retryPods / retryWaves
	for wave := range retryWaves {
		parallelDo(b, per, 16, func(j int) error {
			i := wave*per + j
			if err := deleteOld(e, i); err != nil {
				return err
			}
			if free != nil {
				return free(i)
			}
			return nil
		})
		for len(bound) < (wave+1)*per {
			ev, ok := <-w.Events()
			if !ok {
				b.Fatalf("watch ended after %d bound: %v", len(bound), w.Err())
			}
			if ev.Type != types.Deleted && ev.Object.Spec.NodeName != "" && ev.Object.Name[:4] == "new-" {
				bound[ev.Object.Name] = true
			}
		}
	}
}

// BenchmarkRetryWhenCapacityFrees is the tail of a roll on a full node
// (issue 6): retryPods Pending Pods ("new-*") that the scheduler has found
// "Too many pods" wait in its queue, and the node's Pods are deleted in
// retryWaves waves, each once the previous one's room is taken, as a
// roll does. The timer runs from the first deletion until the last new
// Pod is bound. The floor makes the same deletions and binds a new Pod
// itself right after each, with no scheduler. The default back-off (1 s
// doubling to 10 s) is in force.
func BenchmarkRetryWhenCapacityFrees(b *testing.B) {
	b.Run("floor", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			e, w := retryCluster(b)
			for i := range retryPods {
				e.createPod(b, Pod(fmt.Sprintf("new-%03d", i)).Obj())
			}
			b.StartTimer()
			start := time.Now()
			runWaves(b, e, w, func(i int) error {
				p := &types.Pod{ObjectMeta: types.ObjectMeta{Namespace: "default", Name: fmt.Sprintf("new-%03d", i)}}
				return e.client.Bind(context.Background(), p, "n1")
			})
			b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms-all-bound")
		}
	})
	b.Run("scheduler", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			e, w := retryCluster(b)
			s := e.start(b, sched.DefaultConfig())
			for i := range retryPods {
				e.createPod(b, Pod(fmt.Sprintf("new-%03d", i)).Obj())
			}
			deadline := time.Now().Add(time.Minute)
			for s.Queue().Lengths().Unschedulable < retryPods {
				if time.Now().After(deadline) {
					b.Fatalf("never all unschedulable: %+v", s.Queue().Lengths())
				}
				time.Sleep(time.Millisecond)
			}
			b.StartTimer()
			start := time.Now()
			runWaves(b, e, w, nil)
			b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms-all-bound")
		}
	})
}
