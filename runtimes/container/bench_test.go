package container_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/wharfhq/wharf/runtimes/container"
)

// BenchmarkContainerStart measures create, start, wait and remove of a
// container whose process exits at once, its image already unpacked:
// through this package (libcontainer in process) and, as the floor, the
// same OCI bundle on the same overlay root through the runc binary
// (`runc run`, which also creates, starts, waits and deletes). "paired"
// alternates the two in each iteration and reports both times and their
// ratio, which holds up on a busy machine where the separate runs drift.
func BenchmarkContainerStart(b *testing.B) {
	e := newEnvTB(b)
	ctx := context.Background()
	s := e.spec("exit", "0")
	if err := e.rt.Pull(ctx, s, nil); err != nil {
		b.Fatal(err)
	}
	n := 0
	viaRuntime := func(b *testing.B) {
		id := fmt.Sprintf("bench-%d", n)
		n++
		if err := e.rt.Create(ctx, id, s); err != nil {
			b.Fatal(err)
		}
		if err := e.rt.Start(ctx, id); err != nil {
			b.Fatal(err)
		}
		if st, err := e.rt.Wait(ctx, id); err != nil || st.ExitCode != 0 {
			b.Fatalf("Wait = %+v, %v", st, err)
		}
		if err := e.rt.Remove(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
	var viaRunc func(b *testing.B)
	if runc, err := exec.LookPath("runc"); err == nil {
		bundle, state := b.TempDir(), b.TempDir()
		layers, err := container.WriteBundle(ctx, e.rt, "bench-runc", s, bundle)
		if err != nil {
			b.Fatal(err)
		}
		rootfs := filepath.Join(bundle, "rootfs")
		viaRunc = func(b *testing.B) {
			id := fmt.Sprintf("bench-runc-%d", n)
			n++
			// The writable layer, as Create makes it.
			rw := filepath.Join(bundle, "rw")
			upper, work := filepath.Join(rw, "upper"), filepath.Join(rw, "work")
			for _, d := range []string{upper, work} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					b.Fatal(err)
				}
			}
			if err := container.MountOverlay(layers, upper, work, rootfs); err != nil {
				b.Fatal(err)
			}
			cmd := exec.Command(runc, "--root", state, "run", "--bundle", bundle, id)
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("runc run: %v\n%s", err, out)
			}
			if err := container.Unmount(rootfs); err != nil {
				b.Fatal(err)
			}
			if err := os.RemoveAll(rw); err != nil {
				b.Fatal(err)
			}
		}
	}
	const noRunc = "runc is not on PATH (apt-get install -y runc); no floor to compare with"

	b.Run("libcontainer", func(b *testing.B) {
		for b.Loop() {
			viaRuntime(b)
		}
	})
	b.Run("runc-binary", func(b *testing.B) {
		if viaRunc == nil {
			b.Skip(noRunc)
		}
		for b.Loop() {
			viaRunc(b)
		}
	})
	b.Run("paired", func(b *testing.B) {
		if viaRunc == nil {
			b.Skip(noRunc)
		}
		var lib, floor time.Duration
		for b.Loop() {
			t0 := time.Now()
			viaRuntime(b)
			t1 := time.Now()
			viaRunc(b)
			lib += t1.Sub(t0)
			floor += time.Since(t1)
		}
		b.ReportMetric(float64(lib.Microseconds())/float64(b.N)/1000, "libcontainer-ms/op")
		b.ReportMetric(float64(floor.Microseconds())/float64(b.N)/1000, "runc-ms/op")
		b.ReportMetric(float64(lib)/float64(floor), "ratio")
	})
}
