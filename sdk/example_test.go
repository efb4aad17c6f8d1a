package sdk_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"sync"

	"github.com/wharfhq/wharf/api/server"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
	"github.com/wharfhq/wharf/storage/badger"
)

// exampleServer starts a real API server over Badger in a temporary
// directory and returns its URL and a func that stops it.
func exampleServer() (url string, stop func()) {
	dir, err := os.MkdirTemp("", "wharf-example")
	if err != nil {
		log.Fatal(err)
	}
	st, err := badger.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	srv, err := server.New(server.Config{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ctx, ln)
	}()
	return "http://" + ln.Addr().String(), func() {
		cancel()
		<-done
		_ = st.Close()
		_ = os.RemoveAll(dir)
	}
}

// A typed client creates, reads and recognises errors by reason.
func Example() {
	url, stop := exampleServer()
	defer stop()
	ctx := context.Background()

	c, err := sdk.New(url)
	if err != nil {
		log.Fatal(err)
	}
	cms := sdk.Typed[*types.ConfigMap](c).Namespace("default")
	if _, err := cms.Create(ctx, &types.ConfigMap{
		ObjectMeta: types.ObjectMeta{Name: "settings"},
		Data:       map[string]string{"mode": "fast"},
	}); err != nil {
		log.Fatal(err)
	}
	got, err := cms.Get(ctx, "settings")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.Name, got.Data["mode"])

	_, err = cms.Get(ctx, "missing")
	fmt.Println(sdk.IsNotFound(err), err)
	// Output:
	// settings fast
	// true configmaps "missing" not found
}

// A level-triggered controller: an informer feeds "ns/name" keys to a work
// queue, and a worker reconciles each key from the informer's cache.
func ExampleInformer() {
	url, stop := exampleServer()
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	c, err := sdk.New(url)
	if err != nil {
		log.Fatal(err)
	}
	cms := sdk.Typed[*types.ConfigMap](c).Namespace("default")
	for _, name := range []string{"alpha", "beta"} {
		if _, err := cms.Create(ctx, &types.ConfigMap{ObjectMeta: types.ObjectMeta{Name: name}}); err != nil {
			log.Fatal(err)
		}
	}

	res, err := sdk.ResourceOf[*types.ConfigMap]()
	if err != nil {
		log.Fatal(err)
	}
	inf := sdk.NewInformer(c, res, sdk.InformerOptions{Namespace: "default"})
	q := sdk.NewQueue()
	inf.AddEventHandler(sdk.EnqueueHandler(q))
	lister := sdk.ListerFor[*types.ConfigMap](inf)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = inf.Run(ctx)
	}()
	if err := inf.WaitForSync(ctx); err != nil {
		log.Fatal(err)
	}

	seen := 0
	q.Run(ctx, 1, func(ctx context.Context, key string) error {
		ns, name := sdk.SplitKey(key)
		cm, err := lister.Get(ns, name)
		if sdk.IsNotFound(err) {
			return nil // deleted meanwhile: nothing to do
		}
		if err != nil {
			return err
		}
		fmt.Println("reconciled", key, cm.UID != "")
		if seen++; seen == 2 {
			cancel()
		}
		return nil
	})
	wg.Wait()
	// Output:
	// reconciled default/alpha true
	// reconciled default/beta true
}

// A work queue hands each key out once however often it was added, and
// retries failed keys with a growing back-off.
func ExampleQueue() {
	q := sdk.NewQueue()
	defer q.ShutDown()
	q.Add("default/web")
	q.Add("default/web")
	q.Add("default/api")
	fmt.Println("queued:", q.Len())

	key, _ := q.Get()
	fmt.Println("working on", key)
	fmt.Println("first retry after", q.When(key), "then", q.When(key))
	q.Forget(key) // succeeded: back-off starts over
	q.Done(key)
	// Output:
	// queued: 2
	// working on default/web
	// first retry after 5ms then 10ms
}
