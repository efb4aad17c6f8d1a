package framework

import (
	"errors"
	"strings"
)

// Code is the outcome of a plugin call.
type Code int

// Codes a plugin returns. A nil *Status means Success.
const (
	// Success: the node fits (Filter) or the call worked.
	Success Code = iota
	// Error: something went wrong that is not about the node; the Pod is
	// retried with back-off.
	Error
	// Unschedulable: the node does not fit now; a change in the cluster
	// (a Pod ending, the node changing) could make it fit.
	Unschedulable
	// UnschedulableAndUnresolvable: the node cannot fit whatever happens to
	// its Pods (wrong architecture, no runtime, a selector that excludes it).
	UnschedulableAndUnresolvable
	// Skip: returned by PreFilter or PreScore, says the plugin has nothing
	// to check for this Pod, so its Filter or Score is not called this cycle.
	Skip
)

var codeNames = [...]string{"Success", "Error", "Unschedulable", "UnschedulableAndUnresolvable", "Skip"}

// String returns the code's name.
func (c Code) String() string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "Unknown"
}

// Status is what a plugin call returns: a Code, the reasons a node was
// refused (each counted in the FailedScheduling message), and the error
// behind an Error. A nil *Status is Success. Statuses are immutable once
// returned, so a plugin may return the same one for many nodes.
type Status struct {
	code    Code
	reasons []string
	err     error
	plugin  string
}

// NewStatus returns a status with code and reasons.
func NewStatus(code Code, reasons ...string) *Status {
	return &Status{code: code, reasons: reasons}
}

// AsStatus wraps err in an Error status (nil for a nil err).
func AsStatus(err error) *Status {
	if err == nil {
		return nil
	}
	return &Status{code: Error, reasons: []string{err.Error()}, err: err}
}

// Code returns the status code (Success for nil).
func (s *Status) Code() Code {
	if s == nil {
		return Success
	}
	return s.code
}

// IsSuccess reports whether s is nil or Success.
func (s *Status) IsSuccess() bool { return s.Code() == Success }

// IsSkip reports whether s is Skip.
func (s *Status) IsSkip() bool { return s.Code() == Skip }

// IsRejected reports whether s says the node does not fit
// (Unschedulable or UnschedulableAndUnresolvable).
func (s *Status) IsRejected() bool {
	c := s.Code()
	return c == Unschedulable || c == UnschedulableAndUnresolvable
}

// Reasons returns the reasons (shared: do not modify).
func (s *Status) Reasons() []string {
	if s == nil {
		return nil
	}
	return s.reasons
}

// Message joins the reasons with ", ".
func (s *Status) Message() string {
	if s == nil {
		return ""
	}
	return strings.Join(s.reasons, ", ")
}

// Plugin names the plugin that returned s, once the framework has seen it.
func (s *Status) Plugin() string {
	if s == nil {
		return ""
	}
	return s.plugin
}

// WithPlugin returns a copy of s that names plugin (s when it already does).
func (s *Status) WithPlugin(plugin string) *Status {
	if s == nil || s.plugin == plugin {
		return s
	}
	c := *s
	c.plugin = plugin
	return &c
}

// AsError returns nil for Success and Skip, the wrapped error for Error,
// and an error carrying the message otherwise.
func (s *Status) AsError() error {
	switch s.Code() {
	case Success, Skip:
		return nil
	}
	if s.err != nil {
		return s.err
	}
	return errors.New(s.Message())
}
