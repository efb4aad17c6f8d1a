// Command build prepares the examples for a machine with no registry: it
// compiles examples/hello-wasm to /tmp/wharf-examples/hello.wasm (the
// file:// image of the Wasm manifests), and packs examples/hello-container
// as the OCI image wharf.local/examples/hello:v1 into the image store of
// the node of `wharf up` (./wharf-data, or -data-dir).
//
//	go run ./examples/build
//	go run ./cmd/wharf apply -f examples/
package main

import (
	"archive/tar"
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/wharfhq/wharf/runtimes/image"
)

// ImageRef is the reference the container examples run.
const ImageRef = "wharf.local/examples/hello:v1"

func main() {
	out := flag.String("out", "/tmp/wharf-examples", "where hello.wasm and hello-container.tar are written")
	dataDir := flag.String("data-dir", "./wharf-data", "data dir of the wharf up whose image store receives the image (empty: do not load)")
	flag.Parse()
	if err := build(*out, *dataDir); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func build(out, dataDir string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	wasm := filepath.Join(out, "hello.wasm")
	if err := goBuild(wasm, "./examples/hello-wasm", "GOOS=wasip1", "GOARCH=wasm"); err != nil {
		return err
	}
	fmt.Println("built", wasm)

	bin := filepath.Join(out, "hello-container")
	if err := goBuild(bin, "./examples/hello-container", "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH); err != nil {
		return err
	}
	archive := filepath.Join(out, "hello-container.tar")
	if err := packImage(bin, archive); err != nil {
		return fmt.Errorf("pack %s: %w", archive, err)
	}
	fmt.Println("packed", ImageRef, "into", archive)
	if dataDir == "" {
		return nil
	}
	// The same store and path as `wharf image load --data-dir DIR`.
	s, err := image.NewStore(filepath.Join(dataDir, "runtimes", "images"))
	if err != nil {
		return err
	}
	if _, err := s.Load(context.Background(), archive); err != nil {
		return err
	}
	fmt.Println("loaded", ImageRef, "into", dataDir)
	return nil
}

func goBuild(dst, pkg string, env ...string) error {
	cmd := exec.Command("go", "build", "-o", dst, pkg)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s (run from the repository root): %w", pkg, err)
	}
	return nil
}

// packImage writes a one-layer image holding bin as /hello, its
// entrypoint, as a docker archive tagged ImageRef.
func packImage(bin, archive string) error {
	data, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "hello", Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	if _, err := tw.Write(data); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	layer, err := tarball.LayerFromReader(&buf)
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Config = v1.Config{Entrypoint: []string{"/hello"}, ExposedPorts: map[string]struct{}{"8080/tcp": {}}}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	tag, err := name.NewTag(ImageRef)
	if err != nil {
		return err
	}
	return tarball.WriteToFile(archive, tag, img)
}
