package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/logs"
)

// logFile is the CRI-format log inside a container's directory.
const logFile = "container.log"

// The log relay: why a separate process.
//
// A container's stdout and stderr must outlive the agent: if the agent
// held the read end of a pipe and died, the container would get SIGPIPE
// (or block) on its next write. Writing raw output to a file that the
// agent tails would survive, but gives lines the time the agent read them
// rather than when they were written, and keeps every byte twice. So, as
// containerd's shim and conmon do, each container gets a small relay
// process — this same binary, re-executed — that holds the read ends of
// the container's stdout and stderr pipes and writes timestamped CRI log
// lines itself. It runs in its own session, ignores terminal and stop
// signals, and exits when the container's last writer closes (the
// container and anything it forked have exited). An agent restart leaves
// it, and the log, untouched. The runtime, not the relay, marks the log
// done (see closeLog), once it has recorded the exit.
//
// The relay stays in the agent's cgroup: under systemd the agent's unit
// needs KillMode=process (as containerd's has), or stopping the agent
// kills the relays and the containers' next writes fail.
type relay struct {
	pid  int
	done chan struct{} // closed when the relay has exited and been reaped
}

// startRelay starts a relay writing to logPath, rotated as rot says, and
// returns it with the write ends to hand to the container (the caller
// closes them after).
func startRelay(logPath string, rot logs.Rotation) (relay, *os.File, *os.File, error) {
	outR, outW, err := os.Pipe()
	if err != nil {
		return relay{}, nil, nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return relay{}, nil, nil, err
	}
	cmd := exec.Command("/proc/self/exe", relayArg, logPath,
		strconv.FormatInt(rot.MaxSize, 10), strconv.Itoa(rot.MaxFiles))
	cmd.Args[0] = os.Args[0]
	cmd.ExtraFiles = []*os.File{outR, errR}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	outR.Close()
	errR.Close()
	if err != nil {
		outW.Close()
		errW.Close()
		return relay{}, nil, nil, err
	}
	r := relay{pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(r.done)
	}()
	return r, outW, errW, nil
}

// runRelay is the relay process's main: fds 3 and 4 are the container's
// stdout and stderr, args the log path, the rotation size and the count
// of files kept (see logs.Rotation).
func runRelay(args []string) int {
	rot, err := parseRelayArgs(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "log relay:", err)
		return 2
	}
	signal.Ignore(unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGPIPE)
	w, err := logs.NewWriter(args[0], logs.WithRotation(rot))
	if err != nil {
		fmt.Fprintln(os.Stderr, "log relay:", err)
		return 1
	}
	var wg sync.WaitGroup
	for fd, dst := range map[uintptr]io.Writer{3: w.Stdout(), 4: w.Stderr()} {
		f := os.NewFile(fd, "container output")
		wg.Go(func() {
			_, _ = io.Copy(dst, f)
			f.Close()
		})
	}
	wg.Wait()
	// Flush, not Close: Close would mark the log done, ending followers
	// before the runtime has recorded the exit; closeLog marks it after.
	// The file is closed as the relay exits.
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "log relay:", err)
		return 1
	}
	return 0
}

// parseRelayArgs reads the rotation settings of a relay's arguments.
func parseRelayArgs(args []string) (logs.Rotation, error) {
	var rot logs.Rotation
	if len(args) != 3 {
		return rot, errors.New("want three arguments: the log path, the rotation size and the count of files")
	}
	size, err := strconv.ParseInt(args[1], 10, 64)
	if err != nil {
		return rot, fmt.Errorf("rotation size: %w", err)
	}
	files, err := strconv.Atoi(args[2])
	if err != nil {
		return rot, fmt.Errorf("count of files: %w", err)
	}
	return logs.Rotation{MaxSize: size, MaxFiles: files}, nil
}

// closeLog runs once the container's exit is recorded: it waits for the
// relay to drain and exit, marks the log done (which ends followers, who
// then find the container exited) and closes logDone.
func closeLog(c *ctr) {
	_ = waitRelay(context.Background(), c)
	if path := filepath.Join(c.dir, logFile); !logs.IsDone(path) {
		if _, err := os.Stat(path); err == nil {
			_ = logs.MarkDone(path)
		}
	}
	close(c.logDone)
}

// waitRelay waits until the container's log relay has exited, which it
// does once the container's processes are gone and it has written their
// last output; for a relay started by an earlier agent process it watches
// the pid. A relay still running after 10s (or ctx's deadline) is killed.
func waitRelay(ctx context.Context, c *ctr) error {
	if c.relayDone != nil {
		select {
		case <-c.relayDone:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c.mu.Lock()
	pid := c.rec.RelayPid
	c.mu.Unlock()
	if pid == 0 {
		return nil
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil // already gone
	}
	defer unix.Close(fd)
	if !isRelay(pid, filepath.Join(c.dir, logFile)) { // checked after pidfd_open, so fd is the relay's
		return nil
	}
	ms := 10_000
	if dl, ok := ctx.Deadline(); ok {
		ms = max(int(time.Until(dl).Milliseconds()), 0)
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, ms)
	if err != nil || n == 0 {
		_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
	}
	return nil
}

// Logs streams the container's CRI log as opts ask. Following ends once
// the container has exited and its log is marked done (by the relay as it
// exits, or by closeLog if the relay was lost).
func (r *Runtime) Logs(ctx context.Context, id string, opts runtimes.LogOptions) (io.ReadCloser, error) {
	c, err := r.get(id)
	if err != nil {
		return nil, err
	}
	rc, err := logs.Open(ctx, filepath.Join(c.dir, logFile), opts)
	if err != nil {
		return nil, fmt.Errorf("container %q: %w", id, err)
	}
	return rc, nil
}

// isRelay checks that pid is still a log relay for logPath (and not a
// reused pid) before the runtime waits for or kills it.
func isRelay(pid int, logPath string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	// Relays of earlier versions had no rotation arguments.
	return len(args) >= 3 && args[1] == relayArg && args[2] == logPath
}
