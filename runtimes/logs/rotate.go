package logs

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Rotation defaults: the kubelet's containerLogMaxSize and
// containerLogMaxFiles.
const (
	DefaultMaxSize  = 10 << 20
	DefaultMaxFiles = 5
)

// ErrBadRotation is returned for rotation settings that cannot be used.
var ErrBadRotation = errors.New("invalid log rotation")

// rotatedTimeFormat names a rotated file, as the kubelet does:
// container.log.20240102-150405 (UTC here). A second rotation within the
// same second adds a sequence number: container.log.20240102-150405.1.
const rotatedTimeFormat = "20060102-150405"

// nextSuffix names the file that becomes the current log at a rotation;
// it is only there for the moment between its creation and the rename.
const nextSuffix = ".next"

// Rotation bounds the disk a container's log takes, as the kubelet does:
// when the current file would pass MaxSize it is renamed to
// NAME.TIMESTAMP and a new NAME is started, and only the newest MaxFiles
// files (the current one included) are kept. Rotated files are not
// compressed (the kubelet gzips all but the newest one): compressing
// several MiB would stall the container's output in the write that
// rotates, since rotation runs there and not in a background goroutine,
// and nothing reads the rotated files back except a follower that was
// reading one when it was rotated.
//
// A line is never split across files: while a line longer than one entry
// (see MaxLineBytes) is being written, the file may grow past MaxSize to
// finish it, up to twice MaxSize; only a line longer than about MaxSize
// can be split.
type Rotation struct {
	// MaxSize is the size in bytes past which the current file is
	// rotated; 0 means DefaultMaxSize.
	MaxSize int64
	// MaxFiles is how many files are kept, the current one included; 0
	// means DefaultMaxFiles, and otherwise it must be at least 2.
	MaxFiles int
}

// Validate reports whether r can be used: no negative value, and
// MaxFiles 0 or at least 2 (as the kubelet requires: the current file and
// one rotated).
func (r Rotation) Validate() error {
	switch {
	case r.MaxSize < 0:
		return fmt.Errorf("%w: max size %d is negative", ErrBadRotation, r.MaxSize)
	case r.MaxFiles < 0 || r.MaxFiles == 1:
		return fmt.Errorf("%w: max files %d: keep at least 2 (the current file and one rotated)", ErrBadRotation, r.MaxFiles)
	}
	return nil
}

// WithDefaults returns r with its zero fields set to the defaults.
func (r Rotation) WithDefaults() Rotation {
	if r.MaxSize == 0 {
		r.MaxSize = DefaultMaxSize
	}
	if r.MaxFiles == 0 {
		r.MaxFiles = DefaultMaxFiles
	}
	return r
}

// WithRotation makes the writer rotate its file as r says (zero fields
// meaning the defaults). Without it a Writer never rotates. NewWriter
// refuses settings that Validate refuses.
func WithRotation(r Rotation) WriterOption {
	return func(w *Writer) { w.rot, w.rotSet = r, true }
}

// needRotate says whether the current file must be rotated before an
// entry of n bytes is written. Called with mu held.
func (w *Writer) needRotate(n int) bool {
	if w.rot.MaxSize == 0 || w.size == 0 || w.size+int64(n) <= w.rot.MaxSize {
		return false
	}
	if w.size < w.retryAt {
		return false // a rotation failed: try again once the file has grown
	}
	lineOpen := w.open[0] || w.open[1]
	return !lineOpen || w.size+int64(n) > 2*w.rot.MaxSize
}

// rotate makes the current file a rotated one and starts a new current
// file, then deletes the oldest rotated files beyond the count. The log's
// name never disappears, so a reader that opens it at any moment finds a
// file: the current file is first linked to its rotated name, and the new
// one then renamed over the log's name. If that fails the writer keeps
// writing to the current file and tries again once it has grown by
// another MaxSize: output is never lost to a failed rotation. Called with
// mu held.
func (w *Writer) rotate() error {
	files, err := listRotated(w.path)
	if err != nil {
		return w.rotateFailed(err)
	}
	next := w.path + nextSuffix
	nf, err := os.OpenFile(next, os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return w.rotateFailed(err)
	}
	rotated, err := w.link(files)
	if err == nil {
		if err = os.Rename(next, w.path); err != nil {
			_ = os.Remove(rotated.name)
		}
	}
	if err != nil {
		nf.Close()
		_ = os.Remove(next)
		return w.rotateFailed(err)
	}
	old := w.f
	w.f, w.size, w.retryAt = nf, 0, 0
	w.rotated++
	var errs []error
	if err := old.Close(); err != nil {
		errs = append(errs, err)
	}
	// Delete the oldest, keeping MaxFiles-1 rotated files.
	files = append(files, rotated)
	for _, f := range files[:max(len(files)-(w.rot.MaxFiles-1), 0)] {
		if err := os.Remove(f.name); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("rotate log %q: %w", w.path, err)
	}
	return nil
}

func (w *Writer) rotateFailed(err error) error {
	w.retryAt = w.size + w.rot.MaxSize
	return fmt.Errorf("rotate log %q: %w", w.path, err)
}

// link gives the current file its rotated name, NAME.TIMESTAMP[.SEQ],
// sorting after every rotated file in files (oldest first): with the
// sequence number after a rotation in the same second, and with the
// newest file's time if the clock went back.
func (w *Writer) link(files []rotatedFile) (rotatedFile, error) {
	f := rotatedFile{t: w.now().UTC().Truncate(time.Second)}
	if len(files) > 0 {
		if last := files[len(files)-1]; !f.t.After(last.t) {
			f.t, f.seq = last.t, last.seq+1
		}
	}
	for range 1000 {
		f.name = w.path + "." + f.t.Format(rotatedTimeFormat)
		if f.seq > 0 {
			f.name += "." + strconv.Itoa(f.seq)
		}
		err := os.Link(w.path, f.name)
		if !errors.Is(err, os.ErrExist) {
			return f, err
		}
		f.seq++ // made by someone else since the listing
	}
	return f, fmt.Errorf("no free name for a rotated file: %s exists", f.name)
}

// rotatedFile is a rotated file and what its name says of its age.
type rotatedFile struct {
	name string
	t    time.Time
	seq  int
}

// RotatedFiles lists the rotated files of the log at path, oldest first.
func RotatedFiles(path string) ([]string, error) {
	files, err := listRotated(path)
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.name
	}
	return out, err
}

func listRotated(path string) ([]rotatedFile, error) {
	dir, base := filepath.Split(path)
	ents, err := os.ReadDir(filepath.Clean(dir))
	if err != nil {
		return nil, fmt.Errorf("list rotated logs of %q: %w", path, err)
	}
	var found []rotatedFile
	for _, e := range ents {
		suffix, ok := strings.CutPrefix(e.Name(), base+".")
		if !ok {
			continue
		}
		ts, seqText, hasSeq := strings.Cut(suffix, ".")
		t, err := time.Parse(rotatedTimeFormat, ts)
		if err != nil {
			continue
		}
		seq := 0
		if hasSeq {
			if seq, err = strconv.Atoi(seqText); err != nil || seq < 1 {
				continue
			}
		}
		found = append(found, rotatedFile{name: filepath.Join(dir, e.Name()), t: t, seq: seq})
	}
	slices.SortFunc(found, func(a, b rotatedFile) int {
		return cmp.Or(a.t.Compare(b.t), cmp.Compare(a.seq, b.seq))
	})
	return found, nil
}
