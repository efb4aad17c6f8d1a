package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/wharfhq/wharf/api/fields"
	"github.com/wharfhq/wharf/api/labels"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/storage"
)

// StatusError is an error answered as a Kubernetes Status object. Every
// failure of the API ends up as one (see toStatus, the one place where
// storage, validation and decoding errors are mapped to HTTP codes).
type StatusError struct {
	Status types.Status
}

// Error returns the Status message.
func (e *StatusError) Error() string { return e.Status.Message }

func newStatusError(code int, reason types.StatusReason, msg string, details *types.StatusDetails) *StatusError {
	return &StatusError{Status: types.Status{
		TypeMeta: types.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   "Failure",
		Message:  msg,
		Reason:   reason,
		Details:  details,
		Code:     int32(code),
	}}
}

// qualifiedResource is how Kubernetes names a resource in messages:
// "pods", "deployments.apps".
func qualifiedResource(r *types.Resource) string {
	if r.Group == "" {
		return r.Name
	}
	return r.Name + "." + r.Group
}

func details(r *types.Resource, name string) *types.StatusDetails {
	return &types.StatusDetails{Name: name, Group: r.Group, Kind: r.Name}
}

func errNotFound(r *types.Resource, name string) *StatusError {
	return newStatusError(http.StatusNotFound, types.StatusReasonNotFound,
		fmt.Sprintf("%s %q not found", qualifiedResource(r), name), details(r, name))
}

func errAlreadyExists(r *types.Resource, name string) *StatusError {
	return newStatusError(http.StatusConflict, types.StatusReasonAlreadyExists,
		fmt.Sprintf("%s %q already exists", qualifiedResource(r), name), details(r, name))
}

const msgStale = "the object has been modified; please apply your changes to the latest version and try again"

func errConflict(r *types.Resource, name, why string) *StatusError {
	return newStatusError(http.StatusConflict, types.StatusReasonConflict,
		fmt.Sprintf("Operation cannot be fulfilled on %s %q: %s", qualifiedResource(r), name, why), details(r, name))
}

func errForbidden(r *types.Resource, name, why string) *StatusError {
	return newStatusError(http.StatusForbidden, types.StatusReasonForbidden,
		fmt.Sprintf("%s %q is forbidden: %s", qualifiedResource(r), name, why), details(r, name))
}

func errBadRequest(format string, args ...any) *StatusError {
	return newStatusError(http.StatusBadRequest, types.StatusReasonBadRequest, fmt.Sprintf(format, args...), nil)
}

func errMethodNotAllowed() *StatusError {
	return newStatusError(http.StatusMethodNotAllowed, types.StatusReasonMethodNotAllowed,
		"the server does not allow this method on the requested resource", nil)
}

func errNotFoundPath(path string) *StatusError {
	return newStatusError(http.StatusNotFound, types.StatusReasonNotFound,
		fmt.Sprintf("the server could not find the requested resource (%s)", path), nil)
}

func errUnsupportedMedia(contentType string, accepted ...string) *StatusError {
	return newStatusError(http.StatusUnsupportedMediaType, types.StatusReasonUnsupportedMedia,
		fmt.Sprintf("the body of the request was in an unknown format (%q) - accepted media types include: %s",
			contentType, strings.Join(accepted, ", ")), nil)
}

func errTooLarge(limit int64) *StatusError {
	return newStatusError(http.StatusRequestEntityTooLarge, types.StatusReasonRequestTooLarge,
		fmt.Sprintf("Request entity too large: limit is %d bytes", limit), nil)
}

func errUnavailable(msg string) *StatusError {
	return newStatusError(http.StatusServiceUnavailable, types.StatusReasonServiceUnavail, msg, nil)
}

// msgContinueExpired is Kubernetes' message for a continue token whose
// revision has been compacted.
const msgContinueExpired = "The provided continue parameter is too old to display a consistent list result. " +
	"You can start a new list without the continue parameter."

func errExpired(msg string) *StatusError {
	return newStatusError(http.StatusGone, types.StatusReasonExpired, msg, nil)
}

func errTooOldRV(rv, oldest int64) *StatusError {
	if oldest > 0 {
		return errExpired(fmt.Sprintf("too old resource version: %d (%d)", rv, oldest))
	}
	return errExpired(fmt.Sprintf("too old resource version: %d", rv))
}

func errTooLargeRV(rv int64) *StatusError {
	s := newStatusError(http.StatusGatewayTimeout, types.StatusReasonTimeout,
		fmt.Sprintf("Too large resource version: %d, current: later than the store has written", rv), nil)
	s.Status.Details = &types.StatusDetails{
		Causes:            []types.StatusCause{{Type: "ResourceVersionTooLarge", Message: "Too large resource version"}},
		RetryAfterSeconds: 1,
	}
	return s
}

// toStatus maps any error to the Status answered for it.
func toStatus(err error) *types.Status {
	var se *StatusError
	switch {
	case errors.As(err, &se):
		st := se.Status
		return &st
	case errors.Is(err, labels.ErrInvalidSelector), errors.Is(err, fields.ErrInvalidSelector):
		return &errBadRequest("%s", err.Error()).Status
	case errors.Is(err, storage.ErrConflict):
		// A compare-and-swap lost after the retries (or one the client
		// asked for): the handlers name the object when they can.
		return &newStatusError(http.StatusConflict, types.StatusReasonConflict,
			"Operation cannot be fulfilled: "+msgStale, nil).Status
	case errors.Is(err, storage.ErrNotFound):
		return &newStatusError(http.StatusNotFound, types.StatusReasonNotFound, err.Error(), nil).Status
	case errors.Is(err, storage.ErrExists):
		return &newStatusError(http.StatusConflict, types.StatusReasonAlreadyExists, err.Error(), nil).Status
	case errors.Is(err, storage.ErrCompacted):
		return &errExpired(err.Error()).Status
	case errors.Is(err, storage.ErrFutureRevision):
		return &errTooLargeRV(0).Status
	case errors.Is(err, storage.ErrClosed), errors.Is(err, context.Canceled):
		return &errUnavailable("the server is shutting down: " + err.Error()).Status
	case errors.Is(err, context.DeadlineExceeded):
		return &newStatusError(http.StatusGatewayTimeout, types.StatusReasonTimeout, err.Error(), nil).Status
	}
	return &newStatusError(http.StatusInternalServerError, types.StatusReasonInternalError,
		"Internal error occurred: "+err.Error(), nil).Status
}
