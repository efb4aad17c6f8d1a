// Package wasmtest builds WebAssembly fixtures for tests: tiny hand-written
// WASI command modules encoded byte by byte (exit with a code, print, loop
// forever, trap, grow memory without end) and a Go program compiled with
// GOOS=wasip1 GOARCH=wasm whose first argument picks a behaviour (see
// testdata/app). Nothing is downloaded.
package wasmtest

import "encoding/binary"

// Every hand-written module has the same imports and one exported _start
// function, so that they differ only in _start's body, the declared
// memory and a data segment.
//
//	func 0: wasi_snapshot_preview1.proc_exit(i32)
//	func 1: wasi_snapshot_preview1.fd_write(i32, i32, i32, i32) -> i32
//	func 2: _start()
type module struct {
	// extraImport adds a third import, env.missing, that no host provides.
	extraImport bool
	// export is the name _start is exported under ("" means "_start").
	export         string
	memMin, memMax uint32 // memMax 0 means no maximum
	data           []byte // placed at address 0
	body           []byte // _start's instructions, without the final end
}

// Instructions used by the modules below.
const (
	opUnreachable = 0x00
	opLoop        = 0x03
	opIf          = 0x04
	opEnd         = 0x0b
	opBr          = 0x0c
	opCall        = 0x10
	opDrop        = 0x1a
	opI32Const    = 0x41
	opI32Eq       = 0x46
	opMemoryGrow  = 0x40
	blockEmpty    = 0x40
	typeI32       = 0x7f
)

func uleb(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func sleb(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func name(b []byte, s string) []byte { return append(uleb(b, uint64(len(s))), s...) }

func section(b []byte, id byte, content []byte) []byte {
	b = append(b, id)
	b = uleb(b, uint64(len(content)))
	return append(b, content...)
}

func i32(b []byte, v int32) []byte { return sleb(append(b, opI32Const), int64(v)) }

func (m module) encode() []byte {
	b := []byte{0x00, 'a', 's', 'm', 0x01, 0x00, 0x00, 0x00}
	// Types: 0 = () -> (), 1 = (i32) -> (), 2 = (i32 i32 i32 i32) -> i32.
	b = section(b, 1, []byte{3,
		0x60, 0, 0,
		0x60, 1, typeI32, 0,
		0x60, 4, typeI32, typeI32, typeI32, typeI32, 1, typeI32})
	var imp []byte
	nimports := byte(2)
	if m.extraImport {
		nimports++
	}
	imp = append(imp, nimports)
	imp = name(imp, "wasi_snapshot_preview1")
	imp = name(imp, "proc_exit")
	imp = append(imp, 0x00, 1)
	imp = name(imp, "wasi_snapshot_preview1")
	imp = name(imp, "fd_write")
	imp = append(imp, 0x00, 2)
	if m.extraImport {
		imp = name(imp, "env")
		imp = name(imp, "missing")
		imp = append(imp, 0x00, 0)
	}
	b = section(b, 2, imp)
	b = section(b, 3, []byte{1, 0})
	mem := []byte{1}
	if m.memMax > 0 {
		mem = uleb(append(mem, 0x01), uint64(m.memMin))
		mem = uleb(mem, uint64(m.memMax))
	} else {
		mem = uleb(append(mem, 0x00), uint64(m.memMin))
	}
	b = section(b, 5, mem)
	var exp []byte
	exp = append(exp, 2)
	export := m.export
	if export == "" {
		export = "_start"
	}
	exp = append(name(exp, export), 0x00, nimports)
	exp = append(name(exp, "memory"), 0x02, 0)
	b = section(b, 7, exp)
	fn := append([]byte{0}, m.body...) // no locals
	fn = append(fn, opEnd)
	code := uleb([]byte{1}, uint64(len(fn)))
	b = section(b, 10, append(code, fn...))
	if len(m.data) > 0 {
		d := []byte{1, 0x00}
		d = append(i32(d, 0), opEnd)
		d = uleb(d, uint64(len(m.data)))
		b = section(b, 11, append(d, m.data...))
	}
	return b
}

// Empty is a module whose _start returns at once: exit code 0.
func Empty() []byte { return module{memMin: 1}.encode() }

// Exit is a module that calls proc_exit(code).
func Exit(code int32) []byte {
	body := append(i32(nil, code), opCall, 0)
	return module{memMin: 1, body: body}.encode()
}

// Print is a module that writes s to stdout with one fd_write, then
// returns (exit code 0).
func Print(s string) []byte {
	// Memory: an iovec {ptr=16, len} at 0, then s at 16; fd_write stores
	// the count written at 8.
	data := make([]byte, 16, 16+len(s))
	binary.LittleEndian.PutUint32(data[0:], 16)
	binary.LittleEndian.PutUint32(data[4:], uint32(len(s)))
	data = append(data, s...)
	var body []byte
	body = i32(body, 1) // stdout
	body = i32(body, 0) // iovs
	body = i32(body, 1) // iovs_len
	body = i32(body, 8) // nwritten
	body = append(body, opCall, 1, opDrop)
	pages := uint32(len(data)>>16) + 1
	return module{memMin: pages, data: data, body: body}.encode()
}

// Loop is a module whose _start never returns.
func Loop() []byte {
	return module{memMin: 1, body: []byte{opLoop, blockEmpty, opBr, 0, opEnd}}.encode()
}

// Unreachable is a module whose _start traps at once.
func Unreachable() []byte {
	return module{memMin: 1, body: []byte{opUnreachable}}.encode()
}

// GrowForever is a module that grows its memory by pages at a time until
// memory.grow fails, then traps with unreachable.
func GrowForever(pages int32) []byte {
	var body []byte
	body = append(body, opLoop, blockEmpty)
	body = i32(body, pages)
	body = append(body, opMemoryGrow, 0x00)
	body = i32(body, -1)
	body = append(body, opI32Eq, opIf, blockEmpty, opUnreachable, opEnd)
	body = append(body, opBr, 0, opEnd)
	return module{memMin: 1, body: body}.encode()
}

// MinMemory is a module that declares minPages of memory and exits 0.
func MinMemory(minPages uint32) []byte { return module{memMin: minPages}.encode() }

// MissingImport is a module that imports env.missing, which no host
// provides: it compiles but cannot be instantiated.
func MissingImport() []byte { return module{memMin: 1, extraImport: true}.encode() }

// Reactor is a module that exports _initialize instead of _start: not a
// WASI command.
func Reactor() []byte { return module{memMin: 1, export: "_initialize"}.encode() }
