package framework

import (
	"sync"
	"sync/atomic"
)

// parallelChunk is how many items one goroutine takes at a time.
const parallelChunk = 32

// parallelize runs work(i) for i in [0, n) on up to workers goroutines, in
// chunks, until every item is done or a call returns false (items already
// started still finish). With one worker, or few items, it runs inline,
// which keeps small clusters and tests deterministic and cheap.
func parallelize(workers, n int, work func(i int) bool) {
	if workers <= 1 || n <= parallelChunk {
		for i := range n {
			if !work(i) {
				return
			}
		}
		return
	}
	workers = min(workers, (n+parallelChunk-1)/parallelChunk)
	var next atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(workers)
	for range workers {
		go func() {
			defer wg.Done()
			for !stop.Load() {
				start := int(next.Add(parallelChunk)) - parallelChunk
				if start >= n {
					return
				}
				for i := start; i < min(start+parallelChunk, n); i++ {
					if !work(i) {
						stop.Store(true)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}
