// Package test holds Wharf's end-to-end tests: they build the wharf binary
// once, start `wharf up` as a real process on a free port and a temporary
// data directory, and drive it with the built CLI and with kubectl.
package test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wharfhq/wharf/internal/testutil"
)

// wharfBin is the wharf binary TestMain built.
var wharfBin string

// startTimeout bounds how long a server may take to print its address; it
// is a safety net against a hung process, not a timed assertion.
const startTimeout = 60 * time.Second

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "wharf-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	wharfBin = filepath.Join(dir, "wharf")
	args := []string{"build", "-o", wharfBin}
	if os.Getenv("WHARF_E2E_RACE") == "1" {
		args = append(args, "-race") // the race detector in the server and CLI processes
	}
	build := exec.Command("go", append(args, "github.com/wharfhq/wharf/cmd/wharf")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building wharf:", err)
		return 1
	}
	return m.Run()
}

// wharfServer is a running `wharf up` process.
type wharfServer struct {
	URL     string
	DataDir string

	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	waitErr error         // how it exited, once done is closed

	mu     sync.Mutex
	stderr bytes.Buffer // everything the process logged
}

// startServer starts `wharf up` on dataDir and a free port, with extra
// flags if given, and returns once it printed its address. The process is
// killed when the test ends. dataDir must be absolute.
func startServer(t testing.TB, dataDir string, extra ...string) *wharfServer {
	t.Helper()
	s := &wharfServer{DataDir: dataDir, done: make(chan struct{})}
	// The data directory is given relative to the working directory, as
	// the quickstart's `wharf up` (./wharf-data) does: every path the
	// agent derives from it (container mounts among them) must still work.
	args := append([]string{"up", "--data-dir", filepath.Join(".", filepath.Base(dataDir)), "--listen", "127.0.0.1:0", "--node-name", "e2e-node"}, extra...)
	s.cmd = exec.Command(wharfBin, args...)
	s.cmd.Dir = filepath.Dir(dataDir)
	pr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start wharf up: %v", err)
	}
	addr := make(chan string, 1)
	go func() {
		defer close(s.done)
		const marker = "wharf API listening on "
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.stderr.WriteString(line + "\n")
			s.mu.Unlock()
			if i := strings.Index(line, marker); i >= 0 && !sent {
				addr <- strings.TrimSpace(line[i+len(marker):])
				sent = true
			}
		}
		s.waitErr = s.cmd.Wait()
	}()
	t.Cleanup(func() {
		s.kill()
		if strings.Contains(s.logs(), "WARNING: DATA RACE") {
			t.Errorf("wharf up (%s) reported a data race", dataDir)
		}
		if t.Failed() {
			t.Logf("wharf up (%s) logged:\n%s", dataDir, s.logs())
		}
	})
	select {
	case s.URL = <-addr:
	case <-s.done:
		t.Fatalf("wharf up exited before listening:\n%s", s.logs())
	case <-time.After(startTimeout):
		t.Fatalf("wharf up did not print its address within %v:\n%s", startTimeout, s.logs())
	}
	return s
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *wharfServer) kill() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
	}
	<-s.done
}

// stop sends SIGTERM and returns how the process exited.
func (s *wharfServer) stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	<-s.done
	return s.waitErr
}

func (s *wharfServer) logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// result is what a finished CLI command printed and its exit code.
type result struct {
	Stdout, Stderr string
	Code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
}

// run runs a command to completion with stdin (may be empty).
func run(t testing.TB, env []string, stdin string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{Stdout: out.String(), Stderr: errOut.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.Code = exit.ExitCode()
	default:
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return r
}

// wharf runs the built CLI against s.
func (s *wharfServer) wharf(t testing.TB, args ...string) result {
	t.Helper()
	return run(t, []string{"WHARF_SERVER=" + s.URL}, "", wharfBin, args...)
}

// wharfIn runs the built CLI against s with stdin.
func (s *wharfServer) wharfIn(t testing.TB, stdin string, args ...string) result {
	t.Helper()
	return run(t, []string{"WHARF_SERVER=" + s.URL}, stdin, wharfBin, args...)
}

// mustWharf runs the CLI and fails the test unless it exits 0.
func (s *wharfServer) mustWharf(t testing.TB, args ...string) result {
	t.Helper()
	r := s.wharf(t, args...)
	if r.Code != 0 {
		t.Fatalf("wharf %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// kubectl is a kubectl bound to a server through a throwaway kubeconfig.
type kubectl struct {
	bin string
	env []string
}

// newKubectl writes a kubeconfig for s and returns a kubectl using it;
// the test is skipped (failed in CI) when kubectl is not on PATH.
func newKubectl(t testing.TB, s *wharfServer) *kubectl {
	t.Helper()
	bin, err := exec.LookPath("kubectl")
	if err != nil {
		testutil.Unavailable(t, "kubectl is not on PATH")
	}
	dir := t.TempDir()
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: wharf
  cluster:
    server: %s
users:
- name: wharf
  user: {}
contexts:
- name: wharf
  context:
    cluster: wharf
    user: wharf
    namespace: default
current-context: wharf
`, s.URL)
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return &kubectl{bin: bin, env: []string{"KUBECONFIG=" + path, "HOME=" + dir}}
}

func (k *kubectl) run(t testing.TB, stdin string, args ...string) result {
	t.Helper()
	return run(t, k.env, stdin, k.bin, args...)
}

func (k *kubectl) must(t testing.TB, args ...string) result {
	t.Helper()
	r := k.run(t, "", args...)
	if r.Code != 0 {
		t.Fatalf("kubectl %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// writeFile writes content to name in a fresh temp dir and returns its path.
func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// header returns the column names of a table's first line.
func header(out string) []string {
	line, _, _ := strings.Cut(out, "\n")
	return strings.Fields(line)
}

// rows returns a table's lines after the header, split in fields.
func rows(out string) [][]string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	var r [][]string
	for _, l := range lines[1:] {
		r = append(r, strings.Fields(l))
	}
	return r
}

// watchProc is a long-running command (get -w) whose stdout is read line
// by line.
type watchProc struct {
	cmd   *exec.Cmd
	lines chan string
	done  chan struct{}
}

// startWatch starts a command whose output lines arrive on lines; it is
// killed when the test ends.
func startWatch(t testing.TB, env []string, name string, args ...string) *watchProc {
	t.Helper()
	w := &watchProc{lines: make(chan string, 100), done: make(chan struct{})}
	w.cmd = exec.Command(name, args...)
	w.cmd.Env = append(os.Environ(), env...)
	out, err := w.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	w.cmd.Stderr = io.Discard
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(w.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			w.lines <- sc.Text()
		}
		close(w.lines)
		_ = w.cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = w.cmd.Process.Kill()
		<-w.done
	})
	return w
}

// waitLine returns the first line containing want; it fails the test if
// the command ends first, or after a generous safety timeout.
func (w *watchProc) waitLine(t testing.TB, want string) string {
	t.Helper()
	timeout := time.After(startTimeout)
	var seen []string
	for {
		select {
		case l, ok := <-w.lines:
			if !ok {
				t.Fatalf("watch ended before a line with %q; saw %q", want, seen)
			}
			if strings.Contains(l, want) {
				return l
			}
			seen = append(seen, l)
		case <-timeout:
			t.Fatalf("no line with %q within %v; saw %q", want, startTimeout, seen)
		}
	}
}
