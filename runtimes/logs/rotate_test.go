package logs

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wharfhq/wharf/runtimes"
)

// entryLen is the size of one entry written by the Writer for line.
func entryLen(line string) int64 {
	return int64(len("2025-01-02T15:04:05.000000000Z stdout F ") + len(line) + 1)
}

// numbered is line i of a test: fixed width, so every entry has the same size.
func numbered(i int) string { return fmt.Sprintf("line %05d %s", i, strings.Repeat("x", 80)) }

func newRotating(t *testing.T, rot Rotation, clock func() time.Time) (*Writer, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.log")
	w, err := NewWriter(path, WithClock(clock), WithRotation(rot))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w, path
}

// fileLines returns the lines of the log files, in order, joining partial
// entries, and fails the test if a file starts or ends inside a line.
func fileLines(t *testing.T, files ...string) []string {
	t.Helper()
	var out []string
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var open [2][]byte
		var isOpen [2]bool
		for l := range bytes.Lines(b) {
			e, err := ParseEntry(l)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			s := 0
			if e.Stream == Stderr {
				s = 1
			}
			open[s] = append(open[s], e.Line...)
			isOpen[s] = e.Partial
			if !e.Partial {
				out = append(out, e.Stream+":"+string(open[s]))
				open[s] = open[s][:0]
			}
		}
		if isOpen[0] || isOpen[1] {
			t.Fatalf("%s ends inside a line", name)
		}
	}
	return out
}

func TestRotationAtSizeKeepsCount(t *testing.T) {
	tests := []struct {
		name  string
		clock func() time.Time
	}{
		{"a second apart", stepClock()},
		// Every rotation in the same second: sequence numbers, which
		// must sort as numbers (.10 after .9).
		{"same second", func() time.Time { return t0 }},
		// Names still sort in the order the files were made.
		{"clock going back", backClock()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const perFile = 10
			rot := Rotation{MaxSize: perFile * entryLen(numbered(0)), MaxFiles: 3}
			w, path := newRotating(t, rot, tt.clock)
			const n = 12*perFile + 4 // 12 rotations, 4 lines in the current file
			var want []string
			for i := range n {
				if _, err := io.WriteString(w.Stdout(), numbered(i)+"\n"); err != nil {
					t.Fatal(err)
				}
				want = append(want, "stdout:"+numbered(i))
			}
			rotated, err := RotatedFiles(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(rotated) != rot.MaxFiles-1 {
				t.Fatalf("rotated files %v, want %d", rotated, rot.MaxFiles-1)
			}
			pattern := regexp.MustCompile(`^c\.log\.\d{8}-\d{6}(\.\d+)?$`)
			for _, name := range rotated {
				if !pattern.MatchString(filepath.Base(name)) {
					t.Errorf("rotated file %s is not NAME.YYYYMMDD-HHMMSS[.N]", name)
				}
			}
			ents, _ := os.ReadDir(filepath.Dir(path))
			if len(ents) != rot.MaxFiles {
				t.Errorf("%d files on disk, want %d", len(ents), rot.MaxFiles)
			}
			for _, name := range append(rotated, path) {
				if st, err := os.Stat(name); err != nil || st.Size() > rot.MaxSize {
					t.Errorf("%s: %v, size past %d", name, err, rot.MaxSize)
				}
			}
			// The files kept are the newest, in order, with no gap.
			got := fileLines(t, append(rotated, path)...)
			if wantKept := want[n-2*perFile-4:]; !equal(got, wantKept) {
				t.Fatalf("kept lines %d..., want the last %d lines", len(got), len(wantKept))
			}
		})
	}
}

// backClock returns a clock that goes back a second per call.
func backClock() func() time.Time {
	step := stepClock()
	return func() time.Time { return t0.Add(-step().Sub(t0)) }
}

func equal(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") }

// TestRotationNeverSplitsLine writes lines of random length, many longer
// than one entry, on both streams, and checks that no file begins or ends
// inside a line and that nothing is lost or reordered across files.
func TestRotationNeverSplitsLine(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	rot := Rotation{MaxSize: 4 * MaxLineBytes, MaxFiles: 1000}
	w, path := newRotating(t, rot, stepClock())
	var want [2][]string
	for i := range 400 {
		s := rng.IntN(2)
		line := fmt.Sprintf("%d:%s", i, strings.Repeat("y", rng.IntN(3*MaxLineBytes)))
		out := [2]io.Writer{w.Stdout(), w.Stderr()}[s]
		// Written in pieces, so lines of both streams are open at once.
		for rest := line + "\n"; rest != ""; {
			k := min(len(rest), 1+rng.IntN(20000))
			if _, err := io.WriteString(out, rest[:k]); err != nil {
				t.Fatal(err)
			}
			rest = rest[k:]
		}
		want[s] = append(want[s], streamNames[s]+":"+line)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rotated, err := RotatedFiles(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(rotated) < 10 {
		t.Fatalf("only %d rotations", len(rotated))
	}
	var got [2][]string
	for _, l := range fileLines(t, append(rotated, path)...) {
		s := 0
		if strings.HasPrefix(l, Stderr) {
			s = 1
		}
		got[s] = append(got[s], l)
	}
	for s := range got {
		if !equal(got[s], want[s]) {
			t.Errorf("%s: %d lines back, want %d, or out of order", streamNames[s], len(got[s]), len(want[s]))
		}
	}
	for _, name := range append(rotated, path) {
		if st, _ := os.Stat(name); st.Size() > 2*rot.MaxSize {
			t.Errorf("%s: %d bytes, past twice the max size", name, st.Size())
		}
	}
}

// TestRotationSplitsOnlyOverlongLines: a line longer than the rotation
// size cannot be kept whole; its files still stay under twice the size.
func TestRotationSplitsOnlyOverlongLines(t *testing.T) {
	rot := Rotation{MaxSize: 2 * MaxLineBytes, MaxFiles: 100}
	w, path := newRotating(t, rot, stepClock())
	line := strings.Repeat("z", 10*MaxLineBytes)
	io.WriteString(w.Stdout(), "short\n"+line+"\nafter\n")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rotated, _ := RotatedFiles(path)
	var all bytes.Buffer
	for _, name := range append(rotated, path) {
		st, _ := os.Stat(name)
		if st.Size() > 2*rot.MaxSize {
			t.Errorf("%s: %d bytes, past twice the max size", name, st.Size())
		}
		if err := Read(context.Background(), name, runtimes.LogOptions{}, &all); err != nil {
			t.Fatal(err)
		}
	}
	if len(rotated) < 3 || all.String() != "short\n"+line+"\nafter\n" {
		t.Fatalf("%d rotations, %d bytes read back", len(rotated), all.Len())
	}
}

// lineReader hands out the lines a follower writes, one at a time.
type lineReader struct{ sc *bufio.Scanner }

func (r lineReader) next(t *testing.T) string {
	t.Helper()
	if !r.sc.Scan() {
		t.Fatalf("follower ended early: %v", r.sc.Err())
	}
	return r.sc.Text()
}

// TestFollowAcrossRotations: a follower that is behind while the log is
// rotated twice reads the rest of its file, then the rotated file after
// it, then the current one: every line exactly once, in order.
func TestFollowAcrossRotations(t *testing.T) {
	const perFile = 10
	rot := Rotation{MaxSize: perFile * entryLen(numbered(0)), MaxFiles: 3}
	w, path := newRotating(t, rot, stepClock())
	for i := range 5 {
		io.WriteString(w.Stdout(), numbered(i)+"\n")
	}
	rc, err := Open(context.Background(), path, runtimes.LogOptions{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	lr := lineReader{bufio.NewScanner(rc)}
	// The follower has the first file open and, the pipe being
	// unbuffered, waits to hand over its second line while the log is
	// rotated twice under it.
	if got := lr.next(t); got != numbered(0) {
		t.Fatalf("first line %q", got)
	}
	const n = 5 + 2*perFile + 3
	for i := 5; i < n; i++ {
		io.WriteString(w.Stdout(), numbered(i)+"\n")
	}
	if rotated, _ := RotatedFiles(path); len(rotated) != 2 {
		t.Fatalf("rotated files %v, want 2", rotated)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < n; i++ {
		if got := lr.next(t); got != numbered(i) {
			t.Fatalf("line %d: %q, want %q", i, got, numbered(i))
		}
	}
	if lr.sc.Scan() {
		t.Fatalf("extra line %q", lr.sc.Text())
	}
}

// TestFollowWhileRotating follows a log that a concurrent writer rotates
// about a hundred times; the count bound is high enough that no file is
// deleted before the follower gets to it.
func TestFollowWhileRotating(t *testing.T) {
	rot := Rotation{MaxSize: 4096, MaxFiles: 1000}
	w, path := newRotating(t, rot, func() time.Time { return t0 })
	rc, err := Open(context.Background(), path, runtimes.LogOptions{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	// The follower has opened the log once it hands over the first line.
	io.WriteString(w.Stdout(), numbered(0)+"\n")
	lr := lineReader{bufio.NewScanner(rc)}
	if got := lr.next(t); got != numbered(0) {
		t.Fatalf("first line %q", got)
	}
	const n = 5000
	errc := make(chan error, 1)
	go func() {
		for i := 1; i < n; i++ {
			if _, err := io.WriteString(w.Stdout(), numbered(i)+"\n"); err != nil {
				errc <- err
				return
			}
		}
		errc <- w.Close()
	}()
	for i := 1; i < n; i++ {
		if got := lr.next(t); got != numbered(i) {
			t.Fatalf("line %d: %q, want %q", i, got, numbered(i))
		}
	}
	if lr.sc.Scan() {
		t.Fatalf("extra line %q", lr.sc.Text())
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if rotated, _ := RotatedFiles(path); len(rotated) < 100 {
		t.Fatalf("only %d rotations", len(rotated))
	}
}

// TestReadCurrentFileOnly: as in Kubernetes, a read (with or without a
// tail) sees only the current file, not the rotated ones.
func TestReadCurrentFileOnly(t *testing.T) {
	const perFile = 10
	rot := Rotation{MaxSize: perFile * entryLen(numbered(0)), MaxFiles: 5}
	w, path := newRotating(t, rot, stepClock())
	const n = 3*perFile + 4
	for i := range n {
		io.WriteString(w.Stdout(), numbered(i)+"\n")
	}
	var current strings.Builder
	for i := 3 * perFile; i < n; i++ {
		current.WriteString(numbered(i) + "\n")
	}
	tests := []struct {
		tail int64
		want string
	}{
		{0, current.String()},
		{100, current.String()},
		{2, numbered(n-2) + "\n" + numbered(n-1) + "\n"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint("tail ", tt.tail), func(t *testing.T) {
			var buf bytes.Buffer
			if err := Read(context.Background(), path, runtimes.LogOptions{TailLines: tt.tail}, &buf); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tt.want {
				t.Fatalf("got %d lines, want %d", strings.Count(buf.String(), "\n"), strings.Count(tt.want, "\n"))
			}
		})
	}
}

// TestRotationFailureKeepsWriting: when the new file cannot be made, the
// output goes on into the current file, and rotation is tried again once
// the file has grown by another MaxSize.
func TestRotationFailureKeepsWriting(t *testing.T) {
	const perFile = 10
	rot := Rotation{MaxSize: perFile * entryLen(numbered(0)), MaxFiles: 5}
	path := filepath.Join(t.TempDir(), "c.log")
	// A non-empty directory where the next file would be made.
	if err := os.MkdirAll(filepath.Join(path+nextSuffix, "block"), 0o700); err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(path, WithClock(stepClock()), WithRotation(rot))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := range perFile + 5 {
		if _, err := io.WriteString(w.Stdout(), numbered(i)+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	if rotated, _ := RotatedFiles(path); len(rotated) != 0 {
		t.Fatalf("rotated %v though the next file cannot be made", rotated)
	}
	if got := fileLines(t, path); len(got) != perFile+5 {
		t.Fatalf("%d lines in the file, want %d", len(got), perFile+5)
	}
	if err := os.RemoveAll(path + nextSuffix); err != nil {
		t.Fatal(err)
	}
	// Not at once: the retry waits for another MaxSize of output.
	for i := perFile + 5; i < 2*perFile; i++ {
		io.WriteString(w.Stdout(), numbered(i)+"\n")
	}
	if rotated, _ := RotatedFiles(path); len(rotated) != 0 {
		t.Fatalf("retried too early: %v", rotated)
	}
	for i := 2 * perFile; i < 2*perFile+2; i++ {
		io.WriteString(w.Stdout(), numbered(i)+"\n")
	}
	rotated, _ := RotatedFiles(path)
	if len(rotated) != 1 {
		t.Fatalf("rotated files %v, want 1 after the retry", rotated)
	}
	if got := fileLines(t, append(rotated, path)...); len(got) != 2*perFile+2 {
		t.Fatalf("%d lines, want %d", len(got), 2*perFile+2)
	}
}

func TestBadRotation(t *testing.T) {
	for _, rot := range []Rotation{{MaxSize: -1}, {MaxFiles: 1}, {MaxFiles: -3}} {
		_, err := NewWriter(filepath.Join(t.TempDir(), "c.log"), WithRotation(rot))
		if !errors.Is(err, ErrBadRotation) {
			t.Errorf("%+v: err = %v, want ErrBadRotation", rot, err)
		}
	}
	w, err := NewWriter(filepath.Join(t.TempDir(), "c.log"), WithRotation(Rotation{}))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.rot != (Rotation{MaxSize: DefaultMaxSize, MaxFiles: DefaultMaxFiles}) {
		t.Fatalf("zero rotation = %+v, want the defaults", w.rot)
	}
}

func TestRemoveRotated(t *testing.T) {
	rot := Rotation{MaxSize: 5 * entryLen(numbered(0)), MaxFiles: 4}
	w, path := newRotating(t, rot, stepClock())
	for i := range 30 {
		io.WriteString(w.Stdout(), numbered(i)+"\n")
	}
	w.Close()
	if err := Remove(path); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 0 {
		t.Fatalf("left %v", ents)
	}
}
