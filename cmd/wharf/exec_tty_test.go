package main

import (
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/wharfhq/wharf/runtimes"
)

// openPTY returns a new pseudo-terminal's master and its other side.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return m, s
}

func canonical(t *testing.T, f *os.File) bool {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio.Lflag&unix.ICANON != 0
}

func setSize(t *testing.T, master *os.File, w, h uint16) {
	t.Helper()
	if err := unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: w, Row: h}); err != nil {
		t.Fatal(err)
	}
}

func TestLocalTerminal(t *testing.T) {
	master, tty := openPTY(t)
	setSize(t, master, 100, 30)
	lt, err := openLocalTerminal(tty, true)
	if err != nil || lt == nil {
		t.Fatalf("openLocalTerminal: %v, %v", lt, err)
	}
	if canonical(t, tty) {
		t.Fatal("terminal still canonical: not in raw mode")
	}
	if sz := <-lt.sizes; sz != (runtimes.TerminalSize{Width: 100, Height: 30}) {
		t.Fatalf("first size %v, want 100x30", sz)
	}
	setSize(t, master, 120, 50)
	if err := syscall.Kill(os.Getpid(), syscall.SIGWINCH); err != nil {
		t.Fatal(err)
	}
	if sz := <-lt.sizes; sz != (runtimes.TerminalSize{Width: 120, Height: 50}) {
		t.Fatalf("size after SIGWINCH %v, want 120x50", sz)
	}
	if err := lt.close(); err != nil {
		t.Fatal(err)
	}
	if !canonical(t, tty) {
		t.Fatal("terminal mode not restored")
	}

	t.Run("not a terminal", func(t *testing.T) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		defer w.Close()
		for _, in := range []io.Reader{r, strings.NewReader("")} {
			lt, err := openLocalTerminal(in, true)
			if lt != nil || err != nil {
				t.Fatalf("openLocalTerminal(%T) = %v, %v; want nil, nil", in, lt, err)
			}
		}
	})
}
