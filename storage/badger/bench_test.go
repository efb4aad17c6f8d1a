package badger_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	bdb "github.com/dgraph-io/badger/v4"

	"github.com/wharfhq/wharf/storage/badger"
)

// benchValue is about the size of a small stored object (a ConfigMap with a
// few keys, or a Pod without status).
var benchValue = []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"default",` +
	`"uid":"0b7a3c4e-8f7d-4a43-9c59-6f0b2a8c1d2e","creationTimestamp":"2026-11-23T10:00:00Z",` +
	`"labels":{"app":"bench","tier":"backend"}},"data":{"a":"` + strings.Repeat("x", 700) + `"}}`)

// BenchmarkStoreCreate measures creates through storage.Store against the
// floor of raw Badger writes of the same keys and bytes with the same
// options (managed mode, synced writes), one op = one acknowledged,
// durable write. Compare store/N with raw/N of the same run: the ratio is
// the store's overhead (revision assignment, the create-if-absent check,
// the watch ring and event fan-out). The parallel cases show what Badger's
// grouping of concurrent synced commits into one fsync gives both.
func BenchmarkStoreCreate(b *testing.B) {
	for _, par := range []int{1, 16} {
		b.Run(fmt.Sprintf("store/clients=%d", par), func(b *testing.B) {
			s, err := badger.Open(b.TempDir(), badger.WithLogger(quiet), badger.WithCompactInterval(0))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			var n atomic.Int64
			run(b, par, func() error {
				_, err := s.Create(ctx, fmt.Sprintf("/registry/configmaps/default/cm-%d", n.Add(1)), benchValue)
				return err
			})
		})
		b.Run(fmt.Sprintf("raw/clients=%d", par), func(b *testing.B) {
			dir := b.TempDir()
			db, err := bdb.OpenManaged(bdb.DefaultOptions(dir).WithLogger(nil).
				WithSyncWrites(true).WithNumVersionsToKeep(1).WithDetectConflicts(false))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			var n atomic.Int64
			run(b, par, func() error {
				ts := uint64(n.Add(1))
				txn := db.NewTransactionAt(ts, true)
				defer txn.Discard()
				if err := txn.Set([]byte(fmt.Sprintf("/registry/configmaps/default/cm-%d", ts)), benchValue); err != nil {
					return err
				}
				return txn.CommitAt(ts, nil)
			})
		})
	}
}

// run calls op b.N times from par goroutines in all.
func run(b *testing.B, par int, op func() error) {
	b.SetBytes(int64(len(benchValue)))
	b.ReportAllocs()
	b.ResetTimer()
	if par == 1 {
		for i := 0; i < b.N; i++ {
			if err := op(); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	var left atomic.Int64
	left.Store(int64(b.N))
	errs := make(chan error, par)
	for g := 0; g < par; g++ {
		go func() {
			for left.Add(-1) >= 0 {
				if err := op(); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < par; g++ {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
}
