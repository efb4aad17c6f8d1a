package wasm

import (
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

// pageSize is the size of a WebAssembly memory page.
const pageSize = 64 << 10

// memoryLimit is a wazero memory allocator for one instance: it refuses to
// grow linear memory past limit bytes (0 means no limit beyond wazero's
// own), remembers that it refused, and tracks the current size for Stats.
// Enforcing the limit here rather than with RuntimeConfig's
// WithMemoryLimitPages lets every instance have its own limit while all
// share one wazero runtime and its compiled modules.
type memoryLimit struct {
	limit   uint64
	size    atomic.Uint64
	refused atomic.Bool
	// wanted is the size of the refused request.
	wanted atomic.Uint64
}

// newMemoryLimit rounds limitBytes down to whole pages.
func newMemoryLimit(limitBytes int64) *memoryLimit {
	m := &memoryLimit{}
	if limitBytes > 0 {
		m.limit = uint64(limitBytes) / pageSize * pageSize
	}
	return m
}

// Allocate implements experimental.MemoryAllocator.
func (m *memoryLimit) Allocate(capacity, max uint64) experimental.LinearMemory {
	if m.limit > 0 && capacity > m.limit {
		capacity = m.limit
	}
	return &linearMemory{m: m, buf: make([]byte, 0, capacity)}
}

type linearMemory struct {
	m       *memoryLimit
	buf     []byte
	started bool
}

// Reallocate implements experimental.LinearMemory: nil refuses to grow.
// The first call, for the declared minimum, is never refused (wazero
// cannot handle that); Create checks the minimum beforehand, and a
// minimum over the limit that slipped through is reported as refused.
func (l *linearMemory) Reallocate(size uint64) []byte {
	if l.m.limit > 0 && size > l.m.limit {
		l.m.wanted.Store(size)
		l.m.refused.Store(true)
		if l.started {
			return nil
		}
	}
	l.started = true
	if size > uint64(cap(l.buf)) {
		grown := 2 * uint64(cap(l.buf))
		if l.m.limit > 0 {
			grown = min(grown, l.m.limit)
		}
		nb := make([]byte, size, max(size, grown))
		copy(nb, l.buf)
		l.buf = nb
	} else {
		l.buf = l.buf[:size]
	}
	l.m.size.Store(size)
	return l.buf
}

// Free implements experimental.LinearMemory.
func (l *linearMemory) Free() { l.buf = nil }
