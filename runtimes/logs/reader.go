package logs

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/wharfhq/wharf/runtimes"
)

// ErrMalformed is returned by ParseEntry for a line that is not a CRI log
// entry.
var ErrMalformed = errors.New("malformed log entry")

// PollInterval is how often a follower looks for new entries.
const PollInterval = 150 * time.Millisecond

// Entry is one parsed log entry.
type Entry struct {
	Time   time.Time
	Stream string
	// Partial is true for a "P" entry: the line continues in the next
	// entry of the same stream.
	Partial bool
	// Line is the content, without the newline.
	Line []byte
}

// ParseEntry parses one line of a log file (with or without its trailing
// newline). Line aliases b.
func ParseEntry(b []byte) (Entry, error) {
	b = bytes.TrimSuffix(b, []byte{'\n'})
	var e Entry
	ts, rest, ok := bytes.Cut(b, []byte{' '})
	if !ok {
		return e, fmt.Errorf("%w: no timestamp", ErrMalformed)
	}
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return e, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	stream, rest, ok := bytes.Cut(rest, []byte{' '})
	if !ok || (string(stream) != Stdout && string(stream) != Stderr) {
		return e, fmt.Errorf("%w: bad stream %q", ErrMalformed, stream)
	}
	tag, line, ok := bytes.Cut(rest, []byte{' '})
	if !ok {
		// An empty F line may have lost its trailing space.
		tag, line = rest, nil
	}
	switch string(tag) {
	case "F":
	case "P":
		e.Partial = true
	default:
		return e, fmt.Errorf("%w: bad tag %q", ErrMalformed, tag)
	}
	e.Time, e.Stream, e.Line = t, string(stream), line
	return e, nil
}

// Open streams the log at path like Read, through a pipe: the returned
// reader ends when Read does, and closing it stops Read. A missing log
// file is an error wrapping os.ErrNotExist, reported at once.
func Open(ctx context.Context, path string, opts runtimes.LogOptions) (io.ReadCloser, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	go func() {
		err := Read(ctx, path, opts, pw)
		if errors.Is(err, context.Canceled) {
			err = nil
		}
		pw.CloseWithError(err)
	}()
	return &pipeReader{PipeReader: pr, cancel: cancel}, nil
}

type pipeReader struct {
	*io.PipeReader
	cancel context.CancelFunc
}

func (p *pipeReader) Close() error {
	p.cancel()
	return p.PipeReader.Close()
}

// Read writes the entries of the log at path selected by opts to w, as the
// kubelet does for `kubectl logs`: the line content, each line prefixed
// with its timestamp when opts.Timestamps is set, partial entries joined.
// With opts.Follow it then waits for new entries until the log is marked
// done and drained, or removed, or ctx ends (which returns ctx's error).
func Read(ctx context.Context, path string, opts runtimes.LogOptions, w io.Writer) error {
	_, err := ReadFrom(ctx, path, 0, opts, w)
	return err
}

// ReadFrom is Read starting at byte offset of the file (an offset a
// previous ReadFrom returned, or 0). It returns the offset just past the
// last entry consumed, from which a later call resumes without repeating
// or losing an entry, unless the log was rotated in between: the offset
// is one in the file that was current when ReadFrom returned.
//
// Only the current file is read, as `kubectl logs` does; a follower whose
// file is rotated drains it and goes on with the next one.
func ReadFrom(ctx context.Context, path string, offset int64, opts runtimes.LogOptions, w io.Writer) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return offset, fmt.Errorf("read log: %w", err)
	}
	defer func() { f.Close() }() // f changes as the follower moves on
	out := &formatter{w: w, timestamps: opts.Timestamps}
	emit := func(e Entry) error {
		if keep(e, opts) {
			return out.write(e)
		}
		return nil
	}

	if opts.TailLines > 0 {
		// Only the end of the file can hold the last lines: start
		// there, collect, and cut.
		start, err := tailStart(f, opts)
		if err != nil {
			return offset, err
		}
		var entries []Entry
		offset, err = scan(f, max(offset, start), func(e Entry) error {
			if keep(e, opts) {
				e.Line = bytes.Clone(e.Line)
				entries = append(entries, e)
			}
			return nil
		})
		if err != nil {
			return offset, err
		}
		for _, e := range tail(entries, opts.TailLines) {
			if err := out.write(e); err != nil {
				return offset, err
			}
		}
	} else {
		offset, err = scan(f, offset, emit)
		if err != nil {
			return offset, err
		}
	}
	if !opts.Follow {
		return offset, nil
	}
	timer := time.NewTimer(PollInterval)
	defer timer.Stop()
	for {
		// The marker is checked before reading: if it was there, every
		// entry was written before this pass began.
		done := IsDone(path)
		next, err := scan(f, offset, emit)
		if err != nil {
			return next, err
		}
		progressed := next != offset
		offset = next
		if progressed {
			continue
		}
		if replaced(path, f) {
			// Rotated: every write to f came before the log's name
			// went to another file, so f is complete once read to
			// its end. Then on to the file written after it.
			if offset, err = scan(f, offset, emit); err != nil {
				return offset, err
			}
			nf, err := openNext(path, f)
			if err != nil {
				return offset, err
			}
			if nf == nil {
				return offset, nil // the log was removed
			}
			f.Close()
			f, offset = nf, 0
			continue
		}
		if done {
			return offset, nil
		}
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			// The log was removed with its container: nothing more
			// will come.
			return offset, nil
		}
		timer.Reset(PollInterval)
		select {
		case <-ctx.Done():
			return offset, ctx.Err()
		case <-timer.C:
		}
	}
}

// replaced says whether the log's name now leads to a file other than f
// (false if it leads nowhere).
func replaced(path string, f *os.File) bool {
	cur, err := os.Stat(path)
	if err != nil {
		return false
	}
	st, err := f.Stat()
	return err == nil && !os.SameFile(cur, st)
}

// openNext opens the file written after f, which has been rotated: the
// rotated file that follows f's rotated name if there is one, else the
// current log. If f's rotated file has already been deleted, so have all
// older ones, and the oldest rotated file left follows it. A file deleted
// before it could be opened is passed over (its lines are lost to this
// reader, as they are to the disk). It returns nil, nil when the log has
// been removed.
//
// The current log is opened by its name, which the writer may move on
// between the listing and the open: it is then checked against a second
// listing, and if the file after f was rotated meanwhile, that one is
// read first (opening the newer current file would skip it).
func openNext(path string, f *os.File) (*os.File, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read log: %w", err)
	}
	for range 100 {
		rotated, err := rotatedAfter(path, st)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, nil
			}
			return nil, err
		}
		for _, name := range rotated {
			nf, err := os.Open(name)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("read log: %w", err)
			}
			return nf, nil
		}
		nf, err := os.Open(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read log: %w", err)
		}
		cur, err := nf.Stat()
		if err != nil {
			nf.Close()
			return nil, fmt.Errorf("read log: %w", err)
		}
		if os.SameFile(cur, st) {
			nf.Close() // cannot happen: f is no longer the current file
			return nil, nil
		}
		again, err := rotatedAfter(path, st)
		if err != nil || len(again) == 0 {
			return nf, nil // nothing rotated since the listing: nf follows f
		}
		if fi, err := os.Stat(again[0]); err == nil && os.SameFile(fi, cur) {
			return nf, nil // nf itself was rotated since: still the next file
		}
		nf.Close() // a newer current file: read the rotated one after f first
	}
	return nil, fmt.Errorf("read log %q: rotated faster than it could be followed", path)
}

// rotatedAfter lists the rotated files of the log at path that follow
// the file st (all of them if st's rotated file is gone), oldest first.
func rotatedAfter(path string, st os.FileInfo) ([]string, error) {
	rotated, err := RotatedFiles(path)
	if err != nil {
		return nil, err
	}
	for i, name := range rotated {
		if fi, err := os.Stat(name); err == nil && os.SameFile(fi, st) {
			return rotated[i+1:], nil
		}
	}
	return rotated, nil
}

func keep(e Entry, opts runtimes.LogOptions) bool {
	if opts.Stream != "" && e.Stream != opts.Stream {
		return false
	}
	return opts.Since.IsZero() || !e.Time.Before(opts.Since)
}

// scan calls fn for each complete entry from offset on and returns the
// offset after the last complete line; a line still being written (no
// newline yet) is left for the next scan. Malformed lines are skipped.
func scan(f *os.File, offset int64, fn func(Entry) error) (int64, error) {
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return offset, fmt.Errorf("read log: %w", err)
	}
	r := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Longer than any entry the Writer makes: skip it whole.
			n := int64(len(line))
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = r.ReadSlice('\n')
				n += int64(len(line))
			}
			if err != nil {
				return offset, nil
			}
			offset += n
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return offset, nil
			}
			return offset, fmt.Errorf("read log: %w", err)
		}
		offset += int64(len(line))
		e, perr := ParseEntry(line)
		if perr != nil {
			continue
		}
		if err := fn(e); err != nil {
			return offset, err
		}
	}
}

// tail keeps the entries of the last n lines, a line being a run of
// partial entries of one stream closed by a final one (or still open at
// the end).
func tail(entries []Entry, n int64) []Entry {
	ids := make([]int64, len(entries))
	var lines int64
	cur := map[string]int64{} // stream -> id of its open line
	open := map[string]bool{} // stream -> its last entry was partial
	for i, e := range entries {
		if !open[e.Stream] {
			cur[e.Stream] = lines
			lines++
		}
		ids[i] = cur[e.Stream]
		open[e.Stream] = e.Partial
	}
	first := lines - n
	out := entries[:0:0]
	for i, e := range entries {
		if ids[i] >= first {
			out = append(out, e)
		}
	}
	return out
}

// formatter writes entries as plain lines.
type formatter struct {
	w          io.Writer
	timestamps bool
	midLine    [2]bool // per stream: a partial entry was written
	buf        []byte
}

func (f *formatter) write(e Entry) error {
	s := 0
	if e.Stream == Stderr {
		s = 1
	}
	b := f.buf[:0]
	if f.timestamps && !f.midLine[s] {
		b = e.Time.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, ' ')
	}
	b = append(b, e.Line...)
	if !e.Partial {
		b = append(b, '\n')
	}
	f.midLine[s] = e.Partial
	f.buf = b
	if _, err := f.w.Write(b); err != nil {
		return fmt.Errorf("write logs: %w", err)
	}
	return nil
}

// tailBlock is how much tailStart reads at a time, from the end back.
const tailBlock = 64 << 10

// tailStart returns an offset of f, at the start of an entry, from which
// the last opts.TailLines lines can be found: reading back from the end,
// the offset of the entry where TailLines+2 final entries that opts keeps
// have been seen (two more than asked, so that a line of each stream that
// began before the offset cannot be among the last ones), or 0.
func tailStart(f *os.File, opts runtimes.LogOptions) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("read log: %w", err)
	}
	need := opts.TailLines + 2
	end := st.Size() // the file up to end is still to be looked at
	var carry []byte // the end of a line whose beginning is in an earlier block
	buf := make([]byte, tailBlock)
	// A last line without its newline is still being written; scan does
	// not read it, so it does not count.
	dropping := true
	for end > 0 {
		n := min(int64(len(buf)), end)
		end -= n
		if _, err := f.ReadAt(buf[:n], end); err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("read log: %w", err)
		}
		chunk := append(buf[:n:n], carry...)
		i := len(chunk)
		if dropping {
			nl := bytes.LastIndexByte(chunk, '\n')
			if nl < 0 {
				carry = nil
				continue
			}
			i, dropping = nl+1, false
		}
		// Walk the complete lines of chunk from the last one back; the
		// bytes before the first newline may continue in the next block.
		for {
			j := bytes.LastIndexByte(chunk[:max(i-1, 0)], '\n')
			if j < 0 && end > 0 {
				break
			}
			lineStart := j + 1
			if e, err := ParseEntry(chunk[lineStart:i]); err == nil && !e.Partial && keep(e, opts) {
				need--
				if need == 0 {
					return end + int64(lineStart), nil
				}
			}
			i = lineStart
			if j < 0 {
				break
			}
		}
		carry = bytes.Clone(chunk[:i])
	}
	return 0, nil
}
