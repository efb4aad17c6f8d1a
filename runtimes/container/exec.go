package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/utils"
	"golang.org/x/sys/unix"

	"github.com/wharfhq/wharf/runtimes"
)

// hasEnv reports whether env (KEY=VALUE entries) sets key.
func hasEnv(env []string, key string) bool {
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			return true
		}
	}
	return false
}

// Exec runs a command in the running container (joining its namespaces
// and cgroup, as its user, in its working dir, with its environment plus
// opts.Env) and returns its exit code. With opts.TTY the command gets a
// TERM=xterm unless its environment has a TERM, and
// terminal of the container's own devpts (as runc exec -t: a new session
// whose controlling terminal it is), stderr merged into opts.Stdout, and
// the sizes received on opts.Resize are applied to it.
//
// Exec returns once the command has exited and its output has been copied
// (at most drainGrace later), whether or not opts.Stdin has ended: the
// goroutine feeding the command's stdin stops at its next read from
// opts.Stdin, so a caller whose Stdin can block closes it after Exec.
func (r *Runtime) Exec(ctx context.Context, id string, opts runtimes.ExecOptions) (int, error) {
	c, err := r.get(id)
	if err != nil {
		return -1, err
	}
	if len(opts.Command) == 0 {
		return -1, errors.New("exec: no command")
	}
	c.mu.Lock()
	if c.rec.State != runtimes.StateRunning {
		c.mu.Unlock()
		return -1, fmt.Errorf("container %q is %s: %w", id, c.rec.State, runtimes.ErrInvalidState)
	}
	tmpl := c.rec.Exec
	c.mu.Unlock()
	tmpl.Env = mergeEnv(tmpl.Env, opts.Env)
	if opts.TTY && !hasEnv(tmpl.Env, "TERM") {
		// As containerd's CRI and docker exec -t: programs such as vi and
		// top need to know the terminal's kind.
		tmpl.Env = append(tmpl.Env, "TERM=xterm")
	}
	cfg := c.lc.Config()
	p := processFor(&cfg, tmpl, opts.Command)
	var (
		term *terminal
		pp   *pipes
	)
	if opts.TTY {
		if term, err = startTerminal(c.lc, p, opts); err != nil {
			return -1, fmt.Errorf("container %q: exec %q: %w", id, opts.Command[0], err)
		}
		defer term.close()
	} else {
		if pp, err = startPipes(c.lc, p, opts); err != nil {
			return -1, fmt.Errorf("container %q: exec %q: %w", id, opts.Command[0], err)
		}
		defer pp.close()
	}
	stop := context.AfterFunc(ctx, func() { _ = p.Signal(killSignal) })
	defer stop()
	ps, err := p.Wait()
	if term != nil {
		term.drain()
	} else {
		pp.drain()
	}
	if ps == nil {
		return -1, fmt.Errorf("container %q: exec %q: %w", id, opts.Command[0], err)
	}
	if ctx.Err() != nil {
		return exitCode(ps), ctx.Err()
	}
	return exitCode(ps), nil
}

// pipes are an exec's stdin, stdout and stderr without a terminal: OS
// pipes given to the command, and the goroutines copying between them and
// the caller's streams. libcontainer hands the streams to os/exec, which
// for a stream that is no *os.File copies it itself and waits, after the
// command exited, for that copy to end: until the caller's stdin ends, so
// an open stdin (kubectl exec -i from a terminal) kept the exec open.
type pipes struct {
	stdin  *os.File       // write end; nil without opts.Stdin
	out    []*os.File     // read ends of stdout and stderr
	copies sync.WaitGroup // the out → caller copies
	child  []*os.File     // the command's ends, closed here once it started
}

// startPipes runs p in c with pipes for the streams opts has (the others
// are /dev/null) and starts copying.
func startPipes(c *libcontainer.Container, p *libcontainer.Process, opts runtimes.ExecOptions) (_ *pipes, err error) {
	pp := &pipes{}
	var dst []io.Writer // where each of pp.out is copied
	defer func() {
		if err != nil {
			pp.closeChild()
			pp.close()
		}
	}()
	for _, s := range []struct {
		w    io.Writer
		dest *io.Writer
	}{{opts.Stdout, &p.Stdout}, {opts.Stderr, &p.Stderr}} {
		if s.w == nil {
			continue
		}
		if s.dest == &p.Stderr && p.Stdout != nil && sameWriter(opts.Stdout, opts.Stderr) {
			// One writer for both (a probe's buffer): one pipe, as
			// os/exec gives, so that the writer is never called from
			// two goroutines at once and the output keeps its order.
			p.Stderr = p.Stdout
			continue
		}
		r, w, err := os.Pipe()
		if err != nil {
			return nil, fmt.Errorf("output pipe: %w", err)
		}
		pp.out, dst = append(pp.out, r), append(dst, s.w)
		pp.child = append(pp.child, w)
		*s.dest = w
	}
	if opts.Stdin != nil {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, fmt.Errorf("stdin pipe: %w", err)
		}
		pp.stdin = w
		pp.child = append(pp.child, r)
		p.Stdin = r
	}
	if err := c.Run(p); err != nil {
		return nil, err
	}
	pp.closeChild()
	for i, r := range pp.out {
		w := dst[i]
		pp.copies.Add(1)
		go func() {
			defer pp.copies.Done()
			_, _ = io.Copy(w, r)
		}()
	}
	if pp.stdin != nil {
		go func() {
			// Ends at the command's exit (the write fails once close
			// closed the pipe) or at the end of opts.Stdin, whichever this
			// goroutine sees first.
			_, _ = io.Copy(pp.stdin, opts.Stdin)
			_ = pp.stdin.Close()
		}()
	}
	return pp, nil
}

// sameWriter reports whether a and b are the same writer, as os/exec
// decides it: equal interface values; a type that cannot be compared is
// never the same (the recover catches the comparison's panic).
func sameWriter(a, b io.Writer) (same bool) {
	defer func() { _ = recover() }()
	return a == b
}

// closeChild closes this process's copies of the command's ends: the
// output copies then end when the command (and whatever it left running)
// has closed its own.
func (pp *pipes) closeChild() {
	for _, f := range pp.child {
		_ = f.Close()
	}
	pp.child = nil
}

// drain waits until the command's output has been copied out, or
// drainGrace: a background process it left holding stdout would otherwise
// keep the exec open forever.
func (pp *pipes) drain() {
	for _, r := range pp.out {
		_ = r.SetReadDeadline(time.Now().Add(drainGrace))
	}
	pp.copies.Wait()
}

// close releases the pipes; the stdin copy, blocked writing or not, fails
// its next write.
func (pp *pipes) close() {
	for _, r := range pp.out {
		_ = r.Close()
	}
	if pp.stdin != nil {
		_ = pp.stdin.Close()
	}
}

// terminal is the master side of an exec's terminal and the goroutines
// copying to and from it.
type terminal struct {
	master *os.File
	out    sync.WaitGroup // the master → stdout copy
	done   chan struct{}  // closed by close: stops the resize loop
}

// startTerminal runs p in c with a terminal that libcontainer's init
// allocates inside the container and sends back over a socket pair, and
// starts copying between it and opts' streams.
func startTerminal(c *libcontainer.Container, p *libcontainer.Process, opts runtimes.ExecOptions) (*terminal, error) {
	parent, child, err := utils.NewSockPair("console")
	if err != nil {
		return nil, fmt.Errorf("console socket: %w", err)
	}
	defer parent.Close()
	p.ConsoleSocket = child
	p.ConsoleWidth, p.ConsoleHeight = 80, 24
	err = c.Run(p)
	_ = child.Close()
	if err != nil {
		return nil, err
	}
	master, err := recvFile(parent)
	if err != nil {
		_ = p.Signal(killSignal)
		_, _ = p.Wait()
		return nil, fmt.Errorf("receive terminal: %w", err)
	}
	t := &terminal{master: master, done: make(chan struct{})}
	stdout := opts.Stdout
	if stdout == nil {
		stdout = io.Discard
	}
	t.out.Add(1)
	go func() {
		defer t.out.Done()
		// Reading ends with EIO once every holder of the terminal's
		// other side has closed it (the command has exited).
		_, _ = io.Copy(stdout, master)
	}()
	if opts.Stdin != nil {
		go func() { _, _ = io.Copy(master, opts.Stdin) }()
	}
	if opts.Resize != nil {
		go func() {
			for {
				select {
				case <-t.done:
					return
				case sz, ok := <-opts.Resize:
					if !ok {
						return
					}
					_ = setSize(master, sz)
				}
			}
		}()
	}
	return t, nil
}

// drainGrace bounds how long output is still copied after the command
// exited: a background process it left holding the terminal would
// otherwise keep the exec open forever.
const drainGrace = 2 * time.Second

// drain waits until the command's output has been copied out (the read
// ends with EIO once no process holds the terminal), or drainGrace.
func (t *terminal) drain() {
	_ = t.master.SetReadDeadline(time.Now().Add(drainGrace))
	t.out.Wait()
}

// close releases the terminal and stops the resize loop.
func (t *terminal) close() {
	close(t.done)
	_ = t.master.Close()
}

// setSize applies sz to the terminal (TIOCSWINSZ; the command gets a
// SIGWINCH).
func setSize(f *os.File, sz runtimes.TerminalSize) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ioErr error
	if err := rc.Control(func(fd uintptr) {
		ioErr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: sz.Height, Col: sz.Width})
	}); err != nil {
		return err
	}
	return ioErr
}

// recvFile receives one file descriptor sent over the AF_UNIX socket, as
// libcontainer's init sends the terminal's master. Written here because
// runc's utils.RecvFile is deprecated (moved to an internal package).
func recvFile(socket *os.File) (*os.File, error) {
	name := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	rc, err := socket.SyscallConn()
	if err != nil {
		return nil, err
	}
	var n, oobn int
	var recvErr error
	if err := rc.Read(func(fd uintptr) bool {
		n, oobn, _, _, recvErr = unix.Recvmsg(int(fd), name, oob, unix.MSG_CMSG_CLOEXEC)
		return recvErr != unix.EAGAIN
	}); err != nil {
		return nil, err
	}
	if recvErr != nil {
		return nil, recvErr
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return nil, err
	}
	if len(msgs) != 1 {
		return nil, fmt.Errorf("%d control messages, want 1", len(msgs))
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil {
		return nil, err
	}
	if len(fds) != 1 {
		for _, fd := range fds {
			_ = unix.Close(fd)
		}
		return nil, fmt.Errorf("%d file descriptors, want 1", len(fds))
	}
	// Non-blocking, the file is served by the runtime poller: a read
	// deadline can end the output copy (see drain).
	if err := unix.SetNonblock(fds[0], true); err != nil {
		_ = unix.Close(fds[0])
		return nil, err
	}
	return os.NewFile(uintptr(fds[0]), string(name[:n])), nil
}
