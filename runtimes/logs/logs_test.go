package logs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/runtimetest"
)

func TestMain(m *testing.M) {
	base := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 {
		if err := runtimetest.CheckGoroutines(base); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

var t0 = time.Date(2025, 1, 2, 15, 4, 5, 0, time.UTC)

// stepClock returns a clock that advances one second per call.
func stepClock() func() time.Time {
	var mu sync.Mutex
	n := 0
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		n++
		return t0.Add(time.Duration(n-1) * time.Second)
	}
}

func writeLog(t *testing.T, fn func(w *Writer)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "c.log")
	w, err := NewWriter(path, WithClock(stepClock()))
	if err != nil {
		t.Fatal(err)
	}
	fn(w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestWriterFormat(t *testing.T) {
	long := strings.Repeat("x", MaxLineBytes+10)
	path := writeLog(t, func(w *Writer) {
		io.WriteString(w.Stdout(), "hello\nwor")
		io.WriteString(w.Stderr(), "oops\n")
		io.WriteString(w.Stdout(), "ld\n\n")
		io.WriteString(w.Stdout(), long+"\n")
		io.WriteString(w.Stderr(), "unterminated")
	})
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "2025-01-02T15:04:05.000000000Z stdout F hello\n" +
		"2025-01-02T15:04:06.000000000Z stderr F oops\n" +
		"2025-01-02T15:04:07.000000000Z stdout F world\n" +
		"2025-01-02T15:04:08.000000000Z stdout F \n" +
		"2025-01-02T15:04:09.000000000Z stdout P " + long[:MaxLineBytes] + "\n" +
		"2025-01-02T15:04:10.000000000Z stdout F " + long[MaxLineBytes:] + "\n" +
		"2025-01-02T15:04:11.000000000Z stderr F unterminated\n"
	if string(b) != want {
		t.Fatalf("log file:\n%q\nwant\n%q", b, want)
	}
	if !IsDone(path) {
		t.Fatal("closed log not marked done")
	}
	if _, err := w2(path).Stdout().Write([]byte("x\n")); err != nil {
		t.Fatal(err)
	}
}

// w2 reopens a log, which must clear its done marker.
func w2(path string) *Writer {
	w, err := NewWriter(path)
	if err != nil {
		panic(err)
	}
	return w
}

func TestExactlyMaxLineIsOneEntry(t *testing.T) {
	line := strings.Repeat("y", MaxLineBytes)
	path := writeLog(t, func(w *Writer) { io.WriteString(w.Stdout(), line+"\n") })
	b, _ := os.ReadFile(path)
	if got := strings.Count(string(b), "\n"); got != 1 || !strings.Contains(string(b), " F ") {
		t.Fatalf("want one final entry, got %d lines", got)
	}
}

func TestRead(t *testing.T) {
	long := strings.Repeat("z", MaxLineBytes*2+5)
	path := writeLog(t, func(w *Writer) {
		io.WriteString(w.Stdout(), "one\n")                 // 05
		io.WriteString(w.Stderr(), "err1\n")                // 06
		io.WriteString(w.Stdout(), "two\n")                 // 07
		io.WriteString(w.Stdout(), long+"\n")               // 08 P, 09 P, 10 F
		io.WriteString(w.Stderr(), "err2\nthree-not-out\n") // 11, 12
	})
	tests := []struct {
		name string
		opts runtimes.LogOptions
		want string
	}{
		{"all", runtimes.LogOptions{}, "one\nerr1\ntwo\n" + long + "\nerr2\nthree-not-out\n"},
		{"stdout", runtimes.LogOptions{Stream: Stdout}, "one\ntwo\n" + long + "\n"},
		{"stderr", runtimes.LogOptions{Stream: Stderr}, "err1\nerr2\nthree-not-out\n"},
		{"tail 2", runtimes.LogOptions{TailLines: 2}, "err2\nthree-not-out\n"},
		{"tail 3 joins partials", runtimes.LogOptions{TailLines: 3}, long + "\nerr2\nthree-not-out\n"},
		{"tail 1 stdout", runtimes.LogOptions{TailLines: 1, Stream: Stdout}, long + "\n"},
		{"tail more than there is", runtimes.LogOptions{TailLines: 100, Stream: Stderr}, "err1\nerr2\nthree-not-out\n"},
		{"since", runtimes.LogOptions{Since: t0.Add(2 * time.Second), Stream: Stdout}, "two\n" + long + "\n"},
		{"timestamps", runtimes.LogOptions{Timestamps: true, Stream: Stderr, TailLines: 1},
			"2025-01-02T15:04:12Z three-not-out\n"},
		{"timestamps once per joined line", runtimes.LogOptions{Timestamps: true, TailLines: 3, Stream: Stdout},
			"2025-01-02T15:04:05Z one\n2025-01-02T15:04:07Z two\n2025-01-02T15:04:08Z " + long + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Read(context.Background(), path, tc.opts, &buf); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tc.want {
				t.Fatalf("got\n%.200q\nwant\n%.200q", buf.String(), tc.want)
			}
		})
	}
}

func TestReadFromOffset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	w, err := NewWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	io.WriteString(w.Stdout(), "a\nb\n")
	var buf bytes.Buffer
	off, err := ReadFrom(context.Background(), path, 0, runtimes.LogOptions{}, &buf)
	if err != nil || buf.String() != "a\nb\n" {
		t.Fatalf("first read: %q, %v", buf.String(), err)
	}
	io.WriteString(w.Stdout(), "c\n")
	buf.Reset()
	off2, err := ReadFrom(context.Background(), path, off, runtimes.LogOptions{}, &buf)
	if err != nil || buf.String() != "c\n" || off2 <= off {
		t.Fatalf("resumed read: %q, offsets %d -> %d, %v", buf.String(), off, off2, err)
	}
}

func TestSkipsMalformedAndIncompleteLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	content := "garbage\n" +
		"2025-01-02T15:04:05Z stdout F ok\n" +
		"2025-01-02T15:04:05Z stdin F bad stream\n" +
		"2025-01-02T15:04:05Z stdout X bad tag\n" +
		"2025-01-02T15:04:05Z stdout F\n" +
		"2025-01-02T15:04:06Z stdout F still being writ"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	off, err := ReadFrom(context.Background(), path, 0, runtimes.LogOptions{}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if buf.String() != "ok\n\n" {
		t.Fatalf("got %q", buf.String())
	}
	if want := int64(strings.LastIndexByte(content, '\n') + 1); off != want {
		t.Fatalf("offset %d, want %d (before the incomplete line)", off, want)
	}
}

func TestFollowStopsWhenDone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	w, err := NewWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w.Stdout(), "before\n")
	rc, err := Open(context.Background(), path, runtimes.LogOptions{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got := make(chan string)
	go func() {
		b, _ := io.ReadAll(rc)
		got <- string(b)
	}()
	// The follower must see lines written after it started, then end once
	// the writer closes for good.
	for i := range 3 {
		io.WriteString(w.Stderr(), strings.Repeat("after", i+1)+"\n")
	}
	io.WriteString(w.Stdout(), "no newline")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := "before\nafter\nafterafter\nafterafterafter\nno newline\n"
	if s := <-got; s != want {
		t.Fatalf("followed %q, want %q", s, want)
	}
}

func TestFollowEndsWithContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	w, err := NewWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() { errc <- Read(ctx, path, runtimes.LogOptions{Follow: true}, io.Discard) }()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Read after cancel: %v", err)
	}
}

func TestOpenMissing(t *testing.T) {
	_, err := Open(context.Background(), filepath.Join(t.TempDir(), "nope"), runtimes.LogOptions{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want ErrNotExist", err)
	}
}

func TestRemove(t *testing.T) {
	path := writeLog(t, func(w *Writer) { io.WriteString(w.Stdout(), "x\n") })
	if err := Remove(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("log still there")
	}
	if IsDone(path) {
		t.Fatal("done marker still there")
	}
	if err := Remove(path); err != nil {
		t.Fatalf("second Remove: %v", err)
	}
}

func TestConcurrentWriters(t *testing.T) {
	path := writeLog(t, func(w *Writer) {
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				out := w.Stdout()
				if i%2 == 1 {
					out = w.Stderr()
				}
				for range 100 {
					out.Write([]byte("line\n"))
				}
			})
		}
		wg.Wait()
	})
	var buf bytes.Buffer
	if err := Read(context.Background(), path, runtimes.LogOptions{}, &buf); err != nil {
		t.Fatal(err)
	}
	if buf.String() != strings.Repeat("line\n", 800) {
		t.Fatalf("lines garbled or lost: %d bytes", buf.Len())
	}
}

func TestFollowEndsWhenRemoved(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	w, err := NewWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	io.WriteString(w.Stdout(), "only line\n")
	started := make(chan struct{})
	out := &signalWriter{first: started}
	done := make(chan error)
	go func() { done <- Read(context.Background(), path, runtimes.LogOptions{Follow: true}, out) }()
	<-started // the follower has the file open and has read the line
	if err := Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// signalWriter closes first on its first write.
type signalWriter struct {
	first chan struct{}
	once  sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.first) })
	return len(p), nil
}

// TestTailMatchesFullScan checks the tail read from the end of a file
// against the tail of every entry, on logs with long (partial) lines of
// both streams interleaved and an unfinished last line, for many sizes.
func TestTailMatchesFullScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 8 {
		path := writeLog(t, func(w *Writer) {
			for i := range 200 + rng.IntN(400) {
				out := w.Stdout()
				if rng.IntN(3) == 0 {
					out = w.Stderr()
				}
				n := rng.IntN(200)
				if rng.IntN(20) == 0 {
					n = MaxLineBytes + rng.IntN(3*MaxLineBytes)
				}
				io.WriteString(out, fmt.Sprintf("%d:%d:%s\n", round, i, strings.Repeat("x", n)))
			}
		})
		if round%2 == 1 { // a line the writer is still writing
			f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString("2025-01-02T15:04:05Z stdout F unfinis")
			f.Close()
		}
		for _, stream := range []string{"", Stdout, Stderr} {
			for _, n := range []int64{1, 2, 3, 7, 50, 1000} {
				opts := runtimes.LogOptions{Stream: stream, TailLines: n}
				var fast bytes.Buffer
				if err := Read(context.Background(), path, opts, &fast); err != nil {
					t.Fatal(err)
				}
				f, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				if st, _ := f.Stat(); n == 1 && st.Size() > 4*tailBlock {
					if start, err := tailStart(f, opts); err != nil || start == 0 {
						t.Fatalf("tail 1 starts at %d of %d bytes (%v): not read from the end", start, st.Size(), err)
					}
				}
				var all []Entry
				if _, err := scan(f, 0, func(e Entry) error {
					if keep(e, opts) {
						e.Line = bytes.Clone(e.Line)
						all = append(all, e)
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				f.Close()
				var slow bytes.Buffer
				out := &formatter{w: &slow}
				for _, e := range tail(all, n) {
					out.write(e)
				}
				if fast.String() != slow.String() {
					t.Fatalf("round %d stream %q tail %d: fast path differs (%d vs %d bytes)", round, stream, n, fast.Len(), slow.Len())
				}
			}
		}
	}
}
