package wasm

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// Wazero has no CPU accounting of its own, so a running module's CPU time
// is the kernel's accounting of the OS thread it runs on: run locks its
// goroutine to a thread for the module's whole life (nothing else runs on
// that thread meanwhile) and reads the thread's time on CPU before and
// after. The cost is one OS thread per running module (a sleeping module's
// thread sleeps in the kernel).

// clockTicks is USER_HZ, the unit of utime and stime in /proc/.../stat;
// it is 100 on every Linux architecture Go supports.
const clockTicks = 100

// threadCPU returns the time on CPU, in nanoseconds, of thread tid of this
// process: the first field of /proc/self/task/TID/schedstat (exact, in
// ns), or utime+stime of its stat file (in clock ticks) when the kernel
// has no schedstat.
func threadCPU(tid int) (uint64, error) {
	dir := "/proc/self/task/" + strconv.Itoa(tid)
	if b, err := os.ReadFile(dir + "/schedstat"); err == nil {
		f := bytes.Fields(b)
		if len(f) > 0 {
			if ns, err := strconv.ParseUint(string(f[0]), 10, 64); err == nil {
				return ns, nil
			}
		}
	}
	b, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return 0, fmt.Errorf("thread %d CPU time: %w", tid, err)
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// fields are counted after its closing parenthesis.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("thread %d CPU time: malformed %s/stat", tid, dir)
	}
	f := bytes.Fields(b[i+1:])
	// After ")" come field 3 (state) on: utime is field 14, stime 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("thread %d CPU time: short %s/stat", tid, dir)
	}
	ut, err1 := strconv.ParseUint(string(f[11]), 10, 64)
	st, err2 := strconv.ParseUint(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("thread %d CPU time: malformed %s/stat", tid, dir)
	}
	return (ut + st) * (1e9 / clockTicks), nil
}
