package container

// A minimal CRI log writer and reader, used until runtimes/logs (being
// written at the same time by another helper) lands; then this file goes.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/wharfhq/wharf/runtimes"
)

const maxLogLine = 16 << 10

type criWriter struct {
	mu sync.Mutex
	f  *os.File
}

func newCRIWriter(path string) (*criWriter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, err
	}
	return &criWriter{f: f}, nil
}

func (w *criWriter) close() error { return w.f.Close() }

func (w *criWriter) emit(stream, tag string, line []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b bytes.Buffer
	b.WriteString(time.Now().UTC().Format(time.RFC3339Nano))
	b.WriteString(" " + stream + " " + tag + " ")
	b.Write(line)
	b.WriteByte('\n')
	_, _ = w.f.Write(b.Bytes())
}

type criStream struct {
	w    *criWriter
	name string
	buf  []byte
}

func (w *criWriter) stream(name string) *criStream { return &criStream{w: w, name: name} }

func (s *criStream) Write(p []byte) (int, error) {
	s.buf = append(s.buf, p...)
	for {
		i := bytes.IndexByte(s.buf, '\n')
		if i < 0 {
			break
		}
		s.w.emit(s.name, "F", s.buf[:i])
		s.buf = s.buf[i+1:]
	}
	for len(s.buf) >= maxLogLine {
		s.w.emit(s.name, "P", s.buf[:maxLogLine])
		s.buf = s.buf[maxLogLine:]
	}
	return len(p), nil
}

func (s *criStream) flush() {
	if len(s.buf) > 0 {
		s.w.emit(s.name, "F", s.buf)
		s.buf = nil
	}
}

// readCRILog copies the log at path to w as opts ask; with Follow it
// keeps reading until done is closed and the file is drained.
func readCRILog(ctx context.Context, path string, opts runtimes.LogOptions, done <-chan struct{}, w io.Writer) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var tail []string
	emit := func(line string) error {
		ts, rest, _ := strings.Cut(line, " ")
		stream, rest, _ := strings.Cut(rest, " ")
		tag, msg, _ := strings.Cut(rest, " ")
		if opts.Stream != "" && stream != opts.Stream {
			return nil
		}
		t, _ := time.Parse(time.RFC3339Nano, ts)
		if !opts.Since.IsZero() && t.Before(opts.Since) {
			return nil
		}
		out := msg
		if tag == "F" {
			out += "\n"
		}
		if opts.Timestamps {
			out = ts + " " + out
		}
		_, err := io.WriteString(w, out)
		return err
	}
	var partial string
	readAll := func(collect bool) error {
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				partial += line
				return nil
			}
			line = strings.TrimSuffix(partial+line, "\n")
			partial = ""
			if collect {
				tail = append(tail, line)
				if opts.TailLines > 0 && int64(len(tail)) > opts.TailLines {
					tail = tail[1:]
				}
				continue
			}
			if err := emit(line); err != nil {
				return err
			}
		}
	}
	if err := readAll(true); err != nil {
		return err
	}
	for _, l := range tail {
		if err := emit(l); err != nil {
			return err
		}
	}
	if !opts.Follow {
		return nil
	}
	for {
		finished := false
		select {
		case <-done:
			finished = true
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if err := readAll(false); err != nil {
			return err
		}
		if finished {
			return nil
		}
	}
}
