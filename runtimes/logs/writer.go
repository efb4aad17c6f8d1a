// Package logs keeps a container's stdout and stderr in one file per
// container, in the CRI log format the kubelet uses:
//
//	2025-01-02T15:04:05.123456789Z stdout F a whole line
//	2025-01-02T15:04:05.123456789Z stderr P the first 16 KiB of a longer line
//
// A [Writer] turns the two streams into such entries; [Read] and [Open]
// read them back with the filters of runtimes.LogOptions and can follow a
// live file. When the writer is closed for good it leaves a "done" marker
// beside the file, so a follower knows the container has exited and stops
// once it has drained the file. With [WithRotation] the writer rotates the
// file as the kubelet does (see [Rotation]), and a follower goes on from a
// rotated file into the next one. Both runtimes use this package; the
// files are plain files under the runtime's root and survive an agent
// restart.
package logs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// MaxLineBytes is the longest entry written; a longer line is split into
// partial ("P") entries of this size followed by a final ("F") one.
const MaxLineBytes = 16 << 10

// timeFormat is RFC 3339 with a fixed nine-digit fraction, so entries sort
// as text; RFC3339Nano parses it.
const timeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// Stream names as they appear in an entry.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

// ErrClosed is returned by writes to a closed Writer.
var ErrClosed = errors.New("log writer closed")

// doneSuffix names the marker file written beside a log by Close.
const doneSuffix = ".done"

// Writer appends the entries of a container's two streams to one log file.
// It is safe for concurrent use.
type Writer struct {
	mu     sync.Mutex // guards everything below
	f      *os.File
	path   string
	now    func() time.Time
	bufs   [2][]byte
	closed bool
	buf    []byte // scratch for one entry

	rot     Rotation // MaxSize 0: no rotation
	rotSet  bool     // WithRotation was given
	size    int64    // of the current file
	open    [2]bool  // per stream: its last entry was partial
	retryAt int64    // after a failed rotation, the size at which to try again
	rotated int      // rotations done (for the benchmark)
}

// WriterOption configures a Writer.
type WriterOption func(*Writer)

// WithClock sets where the writer's timestamps come from (default
// time.Now); tests use it to write entries at chosen times.
func WithClock(now func() time.Time) WriterOption {
	return func(w *Writer) { w.now = now }
}

// NewWriter opens (creating it if needed) the log file at path for
// appending, and clears a done marker a previous writer left, so followers
// wait for the new entries.
func NewWriter(path string, opts ...WriterOption) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open log %q: %w", path, err)
	}
	if err := os.Remove(path + doneSuffix); err != nil && !errors.Is(err, os.ErrNotExist) {
		f.Close()
		return nil, fmt.Errorf("clear done marker of log %q: %w", path, err)
	}
	w := &Writer{f: f, path: path, now: time.Now}
	for _, o := range opts {
		o(w)
	}
	if w.rotSet {
		if err := w.rot.Validate(); err != nil {
			f.Close()
			return nil, fmt.Errorf("log %q: %w", path, err)
		}
		w.rot = w.rot.WithDefaults()
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open log %q: %w", path, err)
	}
	w.size = st.Size()
	// Left by a writer that stopped in the middle of a rotation.
	_ = os.Remove(path + nextSuffix)
	return w, nil
}

// Stdout is the writer for the container's standard output.
func (w *Writer) Stdout() io.Writer { return streamWriter{w, 0} }

// Stderr is the writer for the container's standard error.
func (w *Writer) Stderr() io.Writer { return streamWriter{w, 1} }

type streamWriter struct {
	w      *Writer
	stream int
}

func (s streamWriter) Write(p []byte) (int, error) { return s.w.write(s.stream, p) }

var streamNames = [2]string{Stdout, Stderr}

func (w *Writer) write(stream int, p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, ErrClosed
	}
	n := len(p)
	buf := w.bufs[stream]
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			buf = append(buf, p...)
			p = nil
		} else {
			buf = append(buf, p[:i]...)
			p = p[i+1:]
		}
		for len(buf) >= MaxLineBytes && (i < 0 || len(buf) > MaxLineBytes) {
			if err := w.emit(stream, "P", buf[:MaxLineBytes]); err != nil {
				return 0, err
			}
			buf = append(buf[:0], buf[MaxLineBytes:]...)
		}
		if i >= 0 {
			if err := w.emit(stream, "F", buf); err != nil {
				return 0, err
			}
			buf = buf[:0]
		}
	}
	w.bufs[stream] = buf
	return n, nil
}

// emit writes one entry with a single write, so that a reader never sees
// half of it except at the very end of the file, rotating the file first
// if the entry would take it past the rotation size. Called with mu held.
func (w *Writer) emit(stream int, tag string, line []byte) error {
	b := w.now().UTC().AppendFormat(w.buf[:0], timeFormat)
	b = append(b, ' ')
	b = append(b, streamNames[stream]...)
	b = append(b, ' ')
	b = append(b, tag...)
	b = append(b, ' ')
	b = append(b, line...)
	b = append(b, '\n')
	w.buf = b
	if w.needRotate(len(b)) {
		// A failed rotation leaves the writer on the current file; the
		// output goes on there.
		_ = w.rotate()
	}
	n, err := w.f.Write(b)
	w.size += int64(n)
	if err != nil {
		return fmt.Errorf("write log %q: %w", w.path, err)
	}
	w.open[stream] = tag == "P"
	return nil
}

// Flush writes out what is buffered of unterminated lines as final
// entries.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked()
}

func (w *Writer) flushLocked() error {
	for s := range w.bufs {
		if len(w.bufs[s]) > 0 {
			if err := w.emit(s, "F", w.bufs[s]); err != nil {
				return err
			}
			w.bufs[s] = w.bufs[s][:0]
		}
	}
	return nil
}

// Close flushes unterminated lines, closes the file and marks the log
// done: the container will write no more, and followers stop once they
// have read everything. Closing twice is a no-op.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.flushLocked()
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close log %q: %w", w.path, cerr)
	}
	if merr := MarkDone(w.path); err == nil {
		err = merr
	}
	return err
}

// MarkDone marks the log at path as complete without a Writer, for a
// runtime that finds after a restart that the container which wrote it has
// ended.
func MarkDone(path string) error {
	if err := os.WriteFile(path+doneSuffix, nil, 0o640); err != nil {
		return fmt.Errorf("mark log %q done: %w", path, err)
	}
	return nil
}

// IsDone reports whether the log at path has been marked done.
func IsDone(path string) bool {
	_, err := os.Stat(path + doneSuffix)
	return err == nil
}

// Remove deletes the log at path, its rotated files and its done marker.
// A missing log is not an error.
func Remove(path string) error {
	var errs []error
	rotated, err := RotatedFiles(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	for _, p := range append(rotated, path, path+nextSuffix, path+doneSuffix) {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("remove log %q: %w", path, err)
	}
	return nil
}
