package container_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/container"
	"github.com/wharfhq/wharf/runtimes/image"
	"github.com/wharfhq/wharf/runtimes/image/imagetest"
)

func ptr[T any](v T) *T { return &v }

func TestProcessSpec(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		mutate func(*runtimes.Spec)
		want   []string
		reject []string
	}{
		{
			name:   "image entrypoint with args",
			mutate: func(s *runtimes.Spec) { s.Args = []string{"echo", "a", "b"} },
			want:   []string{"args: a b\n", "env: FROM_IMAGE=yes\n", "env: OVERRIDE=image\n", "cwd: /work\n", "uid: 0 gid: 0"},
		},
		{
			name: "command replaces entrypoint",
			mutate: func(s *runtimes.Spec) {
				s.Command, s.Args = []string{"/app", "echo"}, []string{"c"}
			},
			want: []string{"args: c\n"},
		},
		{
			name: "env, workingDir, hostname and user",
			mutate: func(s *runtimes.Spec) {
				s.Args = []string{"echo"}
				s.Env = []runtimes.EnvVar{{Name: "OVERRIDE", Value: "pod"}, {Name: "NEW", Value: "1"}}
				s.WorkingDir = "/tmp"
				s.Hostname = "web-0"
				s.Security.RunAsUser, s.Security.RunAsGroup = ptr[int64](65534), ptr[int64](65534)
			},
			want:   []string{"env: OVERRIDE=pod\n", "env: NEW=1\n", "env: FROM_IMAGE=yes\n", "cwd: /tmp\n", "host: web-0\n", "uid: 65534 gid: 65534"},
			reject: []string{"OVERRIDE=image"},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "spec-" + string(rune('a'+i))
			s := e.spec()
			tt.mutate(s)
			if st := e.run(t, id, s); st.ExitCode != 0 {
				t.Fatalf("exit = %d", st.ExitCode)
			}
			out := e.logs(t, id, runtimes.LogOptions{Stream: "stdout"})
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, r := range tt.reject {
				if strings.Contains(out, r) {
					t.Errorf("output has %q:\n%s", r, out)
				}
			}
		})
	}
}

func TestFilesystem(t *testing.T) {
	e := newEnv(t)
	rw, ro := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(ro, "in"), []byte("from host"), 0o644); err != nil {
		t.Fatal(err)
	}
	mounts := []runtimes.Mount{
		{HostPath: rw, ContainerPath: "/data"},
		{HostPath: ro, ContainerPath: "/config", ReadOnly: true},
	}
	tests := []struct {
		name     string
		args     []string
		readOnly bool
		code     int
		out      string
	}{
		{"writable root", []string{"write", "/x", "1"}, false, 0, "written"},
		{"read-only root", []string{"write", "/x", "1"}, true, 1, "read-only file system"},
		{"rw bind mount on read-only root", []string{"write", "/data/out", "from container"}, true, 0, "written"},
		{"ro bind mount", []string{"write", "/config/in", "x"}, false, 1, "read-only file system"},
		{"read bind mount", []string{"cat", "/config/in"}, false, 0, "from host"},
		{"generated hostname file", []string{"cat", "/etc/hostname"}, false, 0, "fs-5\n"},
		{"generated hosts file", []string{"cat", "/etc/hosts"}, false, 0, "localhost"},
		{"/dev/null on a read-only root", []string{"write", "/dev/null", "x"}, true, 0, "written"},
		{"/dev/shm writable on a read-only root", []string{"write", "/dev/shm/x", "x"}, true, 0, "written"},
		{"resolv.conf present", []string{"cat", "/etc/resolv.conf"}, false, 0, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "fs-" + string(rune('0'+i))
			s := e.spec(tt.args...)
			s.Mounts = mounts
			s.Security.ReadOnlyRootFilesystem = tt.readOnly
			st := e.run(t, id, s)
			out := e.logs(t, id, runtimes.LogOptions{})
			if st.ExitCode != tt.code || !strings.Contains(out, tt.out) {
				t.Fatalf("exit = %d, output %q; want %d and %q", st.ExitCode, out, tt.code, tt.out)
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(rw, "out")); err != nil || string(b) != "from container" {
		t.Errorf("host side of the rw mount: %q, %v", b, err)
	}
	// "writable root" wrote /x into its own layer, not the shared image.
	if st := e.run(t, "fs-private", e.spec("cat", "/x")); st.ExitCode != 1 {
		t.Errorf("a file another container wrote is visible: exit %d", st.ExitCode)
	}
}

func TestImageErrors(t *testing.T) {
	e := newEnv(t)
	foreign := appConfig()
	foreign.Architecture = "arm64"
	if runtime.GOARCH == "arm64" {
		foreign.Architecture = "amd64"
	}
	imagetest.Push(t, e.host+"/foreign:v1", appImage(t, foreign))
	ctx := context.Background()
	tests := []struct {
		name, ref string
		want      error
		msg       string
	}{
		{"unknown image", e.host + "/nothing:v1", runtimes.ErrImagePull, ""},
		{"wrong digest", e.host + "/app@sha256:" + strings.Repeat("ab", 32), runtimes.ErrImagePull, ""},
		{"wrong architecture", e.host + "/foreign:v1", runtimes.ErrInvalidImage, "is built for linux/" + foreign.Architecture},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &runtimes.Spec{Image: tt.ref}
			err := e.rt.Pull(ctx, s, nil)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Pull: %v, want %v containing %q", err, tt.want, tt.msg)
			}
			if err := e.rt.Create(ctx, "bad", s); !errors.Is(err, tt.want) {
				t.Fatalf("Create: %v, want %v", err, tt.want)
			}
			if _, err := e.rt.Inspect(ctx, "bad"); !errors.Is(err, runtimes.ErrNotFound) {
				t.Fatalf("a failed Create left a container: %v", err)
			}
		})
	}
	t.Run("missing command", func(t *testing.T) {
		// As containerd: the container is kept, exited with StartError and
		// 128, so its owner applies the restart policy to it.
		s := e.spec()
		s.Command = []string{"/no/such/binary"}
		err := e.rt.Create(ctx, "nocmd", s)
		if err == nil {
			t.Cleanup(func() { _ = e.rt.Remove(ctx, "nocmd") })
			t.Fatal("Create of a container whose command is missing succeeded")
		}
		if !strings.Contains(err.Error(), "/no/such/binary") {
			t.Errorf("error does not name the command: %v", err)
		}
		in, ierr := e.rt.Inspect(ctx, "nocmd")
		if ierr != nil {
			t.Fatalf("Inspect after a failed start: %v", ierr)
		}
		if in.State != runtimes.StateExited || in.Exit == nil || in.Exit.ExitCode != 128 ||
			in.Exit.Reason != runtimes.ReasonStartError || !strings.Contains(in.Exit.Message, "/no/such/binary") {
			t.Errorf("Inspect = %s %+v, want exited 128 %s naming the command", in.State, in.Exit, runtimes.ReasonStartError)
		}
		if st, err := e.rt.Wait(ctx, "nocmd"); err != nil || st.Reason != runtimes.ReasonStartError {
			t.Errorf("Wait = %+v, %v", st, err)
		}
		if err := e.rt.Stop(ctx, "nocmd", 0); err != nil {
			t.Errorf("Stop of an exited container: %v", err)
		}
		if err := e.rt.Start(ctx, "nocmd"); !errors.Is(err, runtimes.ErrInvalidState) {
			t.Errorf("Start = %v, want %v", err, runtimes.ErrInvalidState)
		}
		// A restarted agent finds the same outcome.
		if in, err := e.newRuntime(t).Inspect(ctx, "nocmd"); err != nil || in.Exit == nil || in.Exit.Reason != runtimes.ReasonStartError {
			t.Errorf("Inspect after a restart = %+v, %v", in, err)
		}
		if err := e.rt.Remove(ctx, "nocmd"); err != nil {
			t.Fatalf("Remove: %v", err)
		}
		if _, err := e.rt.Inspect(ctx, "nocmd"); !errors.Is(err, runtimes.ErrNotFound) {
			t.Errorf("Inspect after Remove: %v", err)
		}
	})
}

func TestLoadedArchive(t *testing.T) {
	e := newEnv(t)
	tag, err := name.NewTag("example.test/loaded:v1")
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "img.tar")
	if err := tarball.WriteToFile(archive, tag, appImage(t, appConfig())); err != nil {
		t.Fatal(err)
	}
	refs, err := e.images.Load(context.Background(), archive)
	if err != nil || len(refs) != 1 {
		t.Fatalf("Load = %v, %v", refs, err)
	}
	s := &runtimes.Spec{Image: refs[0], PullPolicy: image.PullNever, Args: []string{"exit", "4"}}
	if st := e.run(t, "loaded", s); st.ExitCode != 4 {
		t.Fatalf("exit = %d, want 4", st.ExitCode)
	}
}

func TestLayeredImage(t *testing.T) {
	e := newEnv(t)
	ref := e.host + "/layered:v1"
	imagetest.Push(t, ref, appImage(t, appConfig(),
		imagetest.Layer(t, imagetest.File("etc/gone", "g", 0o644), imagetest.Dir("opaque"),
			imagetest.File("opaque/old", "o", 0o644), imagetest.File("kept", "k1", 0o644)),
		imagetest.Layer(t, imagetest.File("etc/.wh.gone", "", 0o644),
			imagetest.File("opaque/.wh..wh..opq", "", 0o644), imagetest.File("opaque/new", "n", 0o644),
			imagetest.File("kept", "k2", 0o644)),
	))
	roots := []struct {
		name string
		rt   *container.Runtime
	}{
		{"overlay", e.rt},
		{"copy", e.newRuntime(t, container.WithoutOverlay())},
	}
	files := []struct {
		path string
		code int
		out  string
	}{
		{"/etc/gone", 1, "no such file"},
		{"/opaque/old", 1, "no such file"},
		{"/opaque/new", 0, "n"},
		{"/kept", 0, "k2"},
	}
	for i, root := range roots {
		for j, f := range files {
			t.Run(root.name+f.path, func(t *testing.T) {
				id := fmt.Sprintf("layers-%d-%d", i, j)
				s := &runtimes.Spec{Image: ref, Args: []string{"cat", f.path}}
				ctx := context.Background()
				if err := root.rt.Pull(ctx, s, nil); err != nil {
					t.Fatal(err)
				}
				if err := root.rt.Create(ctx, id, s); err != nil {
					t.Fatal(err)
				}
				defer func() {
					if err := root.rt.Remove(ctx, id); err != nil {
						t.Error(err)
					}
				}()
				if err := root.rt.Start(ctx, id); err != nil {
					t.Fatal(err)
				}
				st, err := root.rt.Wait(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				out := e.logsFrom(t, root.rt, id)
				if st.ExitCode != f.code || !strings.Contains(out, f.out) {
					t.Fatalf("cat %s: exit %d, output %q; want %d and %q", f.path, st.ExitCode, out, f.code, f.out)
				}
			})
		}
	}
}

func TestImageUser(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, user string
		runAs      *int64
		want       string
	}{
		{"numeric", "65534:65534", nil, "uid: 65534 gid: 65534"},
		{"named, from the image's /etc/passwd", "nobody", nil, "uid: 65534 gid: 65534"},
		{"runAsUser wins", "nobody", ptr[int64](1234), "uid: 1234 gid: 0"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := appConfig()
			cfg.Config.User = tt.user
			ref := fmt.Sprintf("%s/user%d:v1", e.host, i)
			imagetest.Push(t, ref, appImage(t, cfg))
			s := &runtimes.Spec{Image: ref, Args: []string{"echo"}}
			s.Security.RunAsUser = tt.runAs
			id := fmt.Sprintf("user-%d", i)
			if st := e.run(t, id, s); st.ExitCode != 0 {
				t.Fatalf("exit = %d", st.ExitCode)
			}
			if out := e.logs(t, id, runtimes.LogOptions{}); !strings.Contains(out, tt.want) {
				t.Fatalf("output lacks %q:\n%s", tt.want, out)
			}
		})
	}
}
