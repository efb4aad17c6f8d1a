package controller_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller"
	"github.com/wharfhq/wharf/jobs/controller/controllertest"
	"github.com/wharfhq/wharf/sdk"
)

// TestRecorderCombinesSimilarEvents: beyond 10 similar events the rest
// are folded into one combined event whose count says how many.
func TestRecorderCombinesSimilarEvents(t *testing.T) {
	env := controllertest.NewEnv(t)
	cc := &controller.Context{Client: env.Client, Factory: sdk.NewInformerFactory(env.Client)}
	c := controller.New(cc, "test", func(context.Context, string) error { return nil })
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = c.Run(ctx) }()
	defer func() { cancel(); wg.Wait() }()

	obj := &types.ConfigMap{ObjectMeta: types.ObjectMeta{Name: "cm", Namespace: "default", UID: "u-1"}}
	for i := range 15 {
		c.Recorder().Eventf(obj, types.EventTypeNormal, "Tick", "tick %d", i)
	}
	env.Eventually("10 events and one combined with count 5", func() (bool, error) {
		l, err := sdk.Typed[*types.Event](env.Client).Namespace("default").List(ctx, sdk.ListOptions{})
		if err != nil {
			return false, err
		}
		single, combined := 0, int32(0)
		for _, ev := range l.Items {
			if ev.InvolvedObject.UID != "u-1" || ev.InvolvedObject.Kind != "ConfigMap" || ev.Reason != "Tick" {
				continue
			}
			if ev.Count == 1 && ev.Message[:4] == "tick" {
				single++
			} else {
				combined += ev.Count
			}
		}
		return single == 10 && combined == 5, fmt.Errorf("%d single events, combined count %d", single, combined)
	})
}

func TestMain(m *testing.M) { controllertest.Main(m) }
