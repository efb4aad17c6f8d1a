package logs

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// BenchmarkWriterLine is the cost of one 100-byte line written to a log
// with rotation (the kubelet's defaults; a size ten times smaller that
// rotates ten times as often; a tiny size, to show what one rotation
// costs) against the same writer without rotation, the floor.
func BenchmarkWriterLine(b *testing.B) {
	line := []byte(strings.Repeat("x", 99) + "\n")
	for _, bc := range []struct {
		name string
		opts []WriterOption
	}{
		{"floor-no-rotation", nil},
		{"rotate-10Mi-5", []WriterOption{WithRotation(Rotation{})}},
		{"rotate-1Mi-5", []WriterOption{WithRotation(Rotation{MaxSize: 1 << 20})}},
		// Rotating every ~460 lines makes the cost of one rotation
		// visible: (this - floor) * lines / rotations.
		{"rotate-64Ki-5", []WriterOption{WithRotation(Rotation{MaxSize: 64 << 10})}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "c.log")
			w, err := NewWriter(path, bc.opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			out := w.Stdout()
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			// CPU time as well as wall time: on a loaded machine the
			// wall time of a write(2) varies far more than its cost.
			cpu0 := cpuTime(b)
			for b.Loop() {
				if _, err := out.Write(line); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
			if bc.opts != nil {
				b.ReportMetric(float64(w.rotated), "rotations")
			}
		})
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
