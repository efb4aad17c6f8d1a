package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"github.com/wharfhq/wharf/runtimes"
)

// errNoTTY is printed (as kubectl does) when -t is asked with a stdin
// that is no terminal; the command then runs without one.
const errNoTTY = "Unable to use a TTY - input is not a terminal or the right kind of file"

// localTerminal is this process's terminal while `wharf exec -t` runs: in
// raw mode (with -i), its sizes sent to the remote terminal.
type localTerminal struct {
	fd    int
	state *term.State // nil when not made raw
	sizes chan runtimes.TerminalSize
	winch chan os.Signal
	done  chan struct{}
}

// openLocalTerminal returns in's terminal, made raw when raw is set, whose
// Sizes channel yields its size now and after each SIGWINCH until close.
// It returns nil and no error when in is no terminal.
func openLocalTerminal(in io.Reader, raw bool) (*localTerminal, error) {
	f, ok := in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, nil
	}
	t := &localTerminal{
		fd:    int(f.Fd()),
		sizes: make(chan runtimes.TerminalSize, 1),
		winch: make(chan os.Signal, 1),
		done:  make(chan struct{}),
	}
	if raw {
		st, err := term.MakeRaw(t.fd)
		if err != nil {
			return nil, fmt.Errorf("terminal raw mode: %w", err)
		}
		t.state = st
	}
	signal.Notify(t.winch, syscall.SIGWINCH)
	go t.watch()
	return t, nil
}

// watch sends the terminal's size, then again on each SIGWINCH.
func (t *localTerminal) watch() {
	for {
		if w, h, err := term.GetSize(t.fd); err == nil && w > 0 && h > 0 {
			sz := runtimes.TerminalSize{Width: uint16(w), Height: uint16(h)}
			select {
			case <-t.sizes: // an unsent older size is replaced
			default:
			}
			t.sizes <- sz
		}
		select {
		case <-t.done:
			return
		case <-t.winch:
		}
	}
}

// close stops watching sizes and restores the terminal's mode.
func (t *localTerminal) close() error {
	signal.Stop(t.winch)
	close(t.done)
	if t.state != nil {
		if err := term.Restore(t.fd, t.state); err != nil {
			return fmt.Errorf("restore terminal: %w", err)
		}
	}
	return nil
}
