package server_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/wharfhq/wharf/api/types"
)

// TestConcurrentUnconditionalUpdates: updates without a resourceVersion
// precondition never answer 409, however many race on one object (the
// server rereads and retries, as Kubernetes' GuaranteedUpdate does).
func TestConcurrentUnconditionalUpdates(t *testing.T) {
	e := newEnv(t)
	e.post(t, cmPath, configMap("hot", nil, nil)).must(t, http.StatusCreated)
	const writers, each = 8, 10
	var wg sync.WaitGroup
	codes := make(chan string, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r := e.patch(t, cmPath+"/hot", "application/merge-patch+json", fmt.Sprintf(`{"data":{"w%d":"%d"}}`, w, i))
				if r.code != http.StatusOK {
					codes <- fmt.Sprintf("%d %s", r.code, r.body)
				}
			}
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		t.Errorf("patch failed: %s", c)
	}
	var cm types.ConfigMap
	e.get(t, cmPath+"/hot").must(t, 200).into(t, &cm)
	for w := range writers {
		if got := cm.Data[fmt.Sprintf("w%d", w)]; got != fmt.Sprint(each-1) {
			t.Errorf("w%d = %q, want %d: an update was lost", w, got, each-1)
		}
	}
}

// TestConcurrentDeleteWhileUpdating: a delete racing with updates
// of the same object neither fails nor answers 500, and the object goes
// once its finalizer is removed.
func TestConcurrentDeleteWhileUpdating(t *testing.T) {
	e := newEnv(t)
	cm := configMap("busy", nil, nil)
	cm["metadata"].(map[string]any)["finalizers"] = []string{"example.com/x"}
	e.post(t, cmPath, cm).must(t, http.StatusCreated)
	var wg sync.WaitGroup
	fails := make(chan string, 64)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				if r := e.patch(t, cmPath+"/busy", "application/merge-patch+json", fmt.Sprintf(`{"metadata":{"annotations":{"w%d":"%d"}}}`, w, i)); r.code != 200 {
					fails <- fmt.Sprintf("patch: %d %s", r.code, r.body)
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if r := e.del(t, cmPath+"/busy", nil); r.code != 200 {
			fails <- fmt.Sprintf("delete: %d %s", r.code, r.body)
		}
	}()
	wg.Wait()
	close(fails)
	for f := range fails {
		t.Error(f)
	}
	var got types.ConfigMap
	e.get(t, cmPath+"/busy").must(t, 200).into(t, &got)
	if got.DeletionTimestamp == nil {
		t.Fatal("deletionTimestamp lost to a concurrent update")
	}
	e.patch(t, cmPath+"/busy", "application/merge-patch+json", `{"metadata":{"finalizers":null}}`).must(t, 200)
	e.get(t, cmPath+"/busy").status(t, 404, types.StatusReasonNotFound)
}
