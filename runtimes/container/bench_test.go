package container_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/wharfhq/wharf/runtimes/container"
)

// BenchmarkContainerStart measures create, start, wait and remove of a
// container whose process exits at once, its image already unpacked:
// through this package (libcontainer in process) and, as the floor, the
// same OCI bundle on the same overlay root through the runc binary
// (`runc run`, which also creates, starts, waits and deletes).
func BenchmarkContainerStart(b *testing.B) {
	e := newEnvTB(b)
	ctx := context.Background()
	s := e.spec("exit", "0")
	if err := e.rt.Pull(ctx, s, nil); err != nil {
		b.Fatal(err)
	}
	b.Run("libcontainer", func(b *testing.B) {
		i := 0
		for b.Loop() {
			id := fmt.Sprintf("bench-%d", i)
			i++
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
	})
	b.Run("runc-binary", func(b *testing.B) {
		runc, err := exec.LookPath("runc")
		if err != nil {
			b.Skip("runc is not on PATH (apt-get install -y runc); no floor to compare with")
		}
		bundle := b.TempDir()
		layers, err := container.WriteBundle(ctx, e.rt, "bench-runc", s, bundle)
		if err != nil {
			b.Fatal(err)
		}
		rootfs := filepath.Join(bundle, "rootfs")
		state := b.TempDir()
		i := 0
		for b.Loop() {
			id := fmt.Sprintf("bench-runc-%d", i)
			i++
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
	})
}
