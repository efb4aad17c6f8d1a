package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
)

// benchClients is how many parallel clients the create benchmark runs.
const benchClients = 16

// benchClient keeps one connection per parallel client alive.
func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
}

// runParallel runs op n times from benchClients goroutines and returns
// the wall time it took.
func runParallel(b *testing.B, n int, op func() error) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := op(); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

// BenchmarkAPICreate measures ConfigMap creates per second over real HTTP
// from 16 parallel clients (creates/s), against the floor of the same
// creates written straight into the same store by 16 goroutines
// (store-creates/s), and reports the ratio (of-store).
//
// The store is fsync-bound and the disk is shared, so its speed drifts
// within seconds; rather than b.RunParallel over each in turn, the two are
// interleaved in chunks of 256 creates so that both see the same disk.
func BenchmarkAPICreate(b *testing.B) {
	e := newEnv(b)
	client := benchClient()
	value, err := json.Marshal(configMap("x", map[string]string{"app": "bench"}, map[string]string{"key": "value"}))
	if err != nil {
		b.Fatal(err)
	}
	var storeN, httpN atomic.Int64
	ctx := context.Background()
	storeOp := func() error {
		_, err := e.store.Create(ctx, "/registry/core/configmaps/floor/cm-"+strconv.FormatInt(storeN.Add(1), 10), value)
		return err
	}
	httpOp := func() error {
		body, _ := json.Marshal(configMap("cm-"+strconv.FormatInt(httpN.Add(1), 10),
			map[string]string{"app": "bench"}, map[string]string{"key": "value"}))
		res, err := client.Post(e.url+cmPath, "application/json", bytes.NewReader(body))
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			return fmt.Errorf("create: code %d", res.StatusCode)
		}
		return nil
	}
	const chunk = 256
	var storeTime, httpTime time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; done += chunk {
		n := min(chunk, b.N-done)
		storeTime += runParallel(b, n, storeOp)
		httpTime += runParallel(b, n, httpOp)
	}
	b.StopTimer()
	httpRate := float64(b.N) / httpTime.Seconds()
	storeRate := float64(b.N) / storeTime.Seconds()
	b.ReportMetric(httpRate, "creates/s")
	b.ReportMetric(storeRate, "store-creates/s")
	b.ReportMetric(httpRate/storeRate, "of-store")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkWatchFanout measures the latency from the start of a create
// request to the arrival of its ADDED event at HTTP watchers, 100 of them
// (median and 99th percentile over every delivery). The floor is the
// create request's own latency (create-ms), which every event waits for
// at least.
//
// all: 100 watchers of the namespace, each sees every create.
// selective: 100 watchers with a label selector each (as node agents
// watch their own Pods); each create matches one watcher, which the other
// 99 must still examine.
func BenchmarkWatchFanout(b *testing.B) {
	b.Run("all", func(b *testing.B) { benchFanout(b, false) })
	b.Run("selective", func(b *testing.B) { benchFanout(b, true) })
}

func benchFanout(b *testing.B, selective bool) {
	const watchers = 100
	e := newEnv(b)
	client := benchClient()
	var sent sync.Map // name -> time.Time
	var mu sync.Mutex
	var latencies []time.Duration
	var received atomic.Int64
	arrived := make(chan struct{}, watchers)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for w := range watchers {
		path := cmPath + "?watch=true&resourceVersion=" + itoa(e.store.Revision())
		if selective {
			path += "&labelSelector=watcher%3Dw" + strconv.Itoa(w)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url+path, nil)
		if err != nil {
			b.Fatal(err)
		}
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		if res.StatusCode != http.StatusOK {
			b.Fatalf("watch: code %d", res.StatusCode)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer res.Body.Close()
			sc := bufio.NewScanner(res.Body)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			for sc.Scan() {
				at := time.Now()
				var ev struct {
					Type   string `json:"type"`
					Object struct {
						Metadata types.ObjectMeta `json:"metadata"`
					} `json:"object"`
				}
				if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.Type != types.Added {
					continue
				}
				t0, ok := sent.Load(ev.Object.Metadata.Name)
				if !ok {
					continue
				}
				mu.Lock()
				latencies = append(latencies, at.Sub(t0.(time.Time)))
				mu.Unlock()
				received.Add(1)
				arrived <- struct{}{}
			}
		}()
	}
	expect := watchers
	if selective {
		expect = 1
	}
	var createTotal time.Duration
	b.ResetTimer()
	for i := range b.N {
		name := fmt.Sprintf("fan-%d", i)
		body, _ := json.Marshal(configMap(name, map[string]string{"watcher": "w" + strconv.Itoa(i%watchers)},
			map[string]string{"key": "value"}))
		t0 := time.Now()
		sent.Store(name, t0)
		res, err := client.Post(e.url+cmPath, "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		createTotal += time.Since(t0)
		if res.StatusCode != http.StatusCreated {
			b.Fatalf("create: code %d", res.StatusCode)
		}
		for range expect {
			select {
			case <-arrived:
			case <-time.After(30 * time.Second):
				b.Fatalf("event %s reached only %d watchers within 30s", name, received.Load())
			}
		}
	}
	b.StopTimer()
	cancel()
	wg.Wait()
	slices.Sort(latencies)
	if len(latencies) == 0 {
		b.Fatal("no latencies")
	}
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(createTotal.Microseconds())/1000/float64(b.N), "create-ms")
	b.ReportMetric(0, "ns/op")
}
