package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
)

// newLogger returns the process logger of `wharf server|up|agent`: text
// lines on w from level up, each attribute key once per line (see
// uniqueAttrs).
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	return slog.New(newUniqueAttrs(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))), nil
}

// uniqueAttrs is a slog.Handler whose With attributes replace earlier ones
// of the same key instead of adding a second: the process tags a
// component's logger with component=NAME and a package may tag its own
// (nodes/agent: component=wharf-agent), and a line shows the innermost
// once. slog has no such handler and slog.TextHandler repeats keys.
// Attributes after a group are qualified by it and passed on as they are.
type uniqueAttrs struct {
	base  slog.Handler // the handler without the With attributes
	attrs []slog.Attr  // the With attributes, each key once, in order
	h     slog.Handler // base with attrs
}

var _ slog.Handler = (*uniqueAttrs)(nil)

func newUniqueAttrs(h slog.Handler) *uniqueAttrs {
	return &uniqueAttrs{base: h, h: h}
}

// Enabled reports whether the wrapped handler logs level.
func (u *uniqueAttrs) Enabled(ctx context.Context, level slog.Level) bool {
	return u.h.Enabled(ctx, level)
}

// Handle logs r with the With attributes.
func (u *uniqueAttrs) Handle(ctx context.Context, r slog.Record) error {
	return u.h.Handle(ctx, r)
}

// WithAttrs returns a handler with attrs, each replacing an earlier
// attribute of its key.
func (u *uniqueAttrs) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return u
	}
	merged := slices.Clone(u.attrs)
	for _, a := range attrs {
		merged = slices.DeleteFunc(merged, func(b slog.Attr) bool { return b.Key == a.Key })
		merged = append(merged, a)
	}
	return &uniqueAttrs{base: u.base, attrs: merged, h: u.base.WithAttrs(merged)}
}

// WithGroup returns the wrapped handler with the group: later attributes
// are qualified by the group's name and cannot clash with these.
func (u *uniqueAttrs) WithGroup(name string) slog.Handler {
	return u.h.WithGroup(name)
}
