package types

import (
	"bytes"
	"encoding/json"
	"time"
)

// TypeMeta names an object's kind and API version.
type TypeMeta struct {
	Kind       string `json:"kind,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`
}

// GetTypeMeta returns the object's TypeMeta.
func (t *TypeMeta) GetTypeMeta() *TypeMeta { return t }

// GroupVersion splits APIVersion into group ("" for core) and version.
func (t *TypeMeta) GroupVersion() (group, version string) {
	for i := len(t.APIVersion) - 1; i >= 0; i-- {
		if t.APIVersion[i] == '/' {
			return t.APIVersion[:i], t.APIVersion[i+1:]
		}
	}
	return "", t.APIVersion
}

// ObjectMeta is the metadata every stored object carries.
type ObjectMeta struct {
	Name                       string            `json:"name,omitempty"`
	GenerateName               string            `json:"generateName,omitempty"`
	Namespace                  string            `json:"namespace,omitempty"`
	UID                        string            `json:"uid,omitempty"`
	ResourceVersion            string            `json:"resourceVersion,omitempty"`
	Generation                 int64             `json:"generation,omitempty"`
	CreationTimestamp          Time              `json:"creationTimestamp,omitempty"`
	DeletionTimestamp          *Time             `json:"deletionTimestamp,omitempty"`
	DeletionGracePeriodSeconds *int64            `json:"deletionGracePeriodSeconds,omitempty"`
	Labels                     map[string]string `json:"labels,omitempty"`
	Annotations                map[string]string `json:"annotations,omitempty"`
	OwnerReferences            []OwnerReference  `json:"ownerReferences,omitempty" patchStrategy:"merge" patchMergeKey:"uid"`
	Finalizers                 []string          `json:"finalizers,omitempty" patchStrategy:"merge"`
	// ManagedFields is accepted for compatibility with manifests exported
	// from Kubernetes and otherwise ignored.
	ManagedFields []json.RawMessage `json:"managedFields,omitempty"`
	// SelfLink is deprecated in Kubernetes; accepted and ignored.
	SelfLink string `json:"selfLink,omitempty"`
}

// GetObjectMeta returns the object's metadata.
func (m *ObjectMeta) GetObjectMeta() *ObjectMeta { return m }

// OwnerReference points from a dependent to its owner.
type OwnerReference struct {
	APIVersion         string `json:"apiVersion"`
	Kind               string `json:"kind"`
	Name               string `json:"name"`
	UID                string `json:"uid"`
	Controller         *bool  `json:"controller,omitempty"`
	BlockOwnerDeletion *bool  `json:"blockOwnerDeletion,omitempty"`
}

// ListMeta is the metadata of a list.
type ListMeta struct {
	ResourceVersion    string `json:"resourceVersion,omitempty"`
	Continue           string `json:"continue,omitempty"`
	RemainingItemCount *int64 `json:"remainingItemCount,omitempty"`
	SelfLink           string `json:"selfLink,omitempty"`
}

// GetListMeta returns the list's metadata.
func (m *ListMeta) GetListMeta() *ListMeta { return m }

// Object is any stored kind.
type Object interface {
	GetTypeMeta() *TypeMeta
	GetObjectMeta() *ObjectMeta
}

// ObjectList is a list of one kind.
type ObjectList interface {
	GetTypeMeta() *TypeMeta
	GetListMeta() *ListMeta
	// GetItems returns pointers to the list's items (not copies: changing
	// one changes the list).
	GetItems() []Object
	// SetItems replaces the items with copies of objs, which must all be
	// of the list's item type.
	SetItems(objs []Object) error
}

// Time is a timestamp that marshals as RFC 3339 in UTC with second
// precision, and as null when zero, as Kubernetes' metav1.Time does.
type Time struct {
	time.Time
}

// NewTime wraps t.
func NewTime(t time.Time) Time { return Time{t} }

// Now returns the current time truncated to seconds.
func Now() Time { return Time{time.Now().UTC().Truncate(time.Second)} }

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339))
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	pt, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return err
	}
	t.Time = pt.Local()
	return nil
}

// MicroTime is a timestamp with microsecond precision (Event.eventTime,
// lease times).
type MicroTime struct {
	time.Time
}

// MarshalJSON implements json.Marshaler.
func (t MicroTime) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format("2006-01-02T15:04:05.000000Z07:00"))
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *MicroTime) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	pt, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	t.Time = pt.Local()
	return nil
}

// Status is the body of every error response (and of some successful
// deletes), as in Kubernetes' meta/v1 Status.
type Status struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata,omitempty"`
	// Status is "Success" or "Failure".
	Status  string         `json:"status,omitempty"`
	Message string         `json:"message,omitempty"`
	Reason  StatusReason   `json:"reason,omitempty"`
	Details *StatusDetails `json:"details,omitempty"`
	Code    int32          `json:"code,omitempty"`
}

// StatusReason is a machine-readable error cause.
type StatusReason string

// Status reasons Wharf returns.
const (
	StatusReasonNotFound         StatusReason = "NotFound"
	StatusReasonAlreadyExists    StatusReason = "AlreadyExists"
	StatusReasonConflict         StatusReason = "Conflict"
	StatusReasonInvalid          StatusReason = "Invalid"
	StatusReasonBadRequest       StatusReason = "BadRequest"
	StatusReasonUnauthorized     StatusReason = "Unauthorized"
	StatusReasonForbidden        StatusReason = "Forbidden"
	StatusReasonGone             StatusReason = "Gone"
	StatusReasonExpired          StatusReason = "Expired"
	StatusReasonTooManyRequests  StatusReason = "TooManyRequests"
	StatusReasonMethodNotAllowed StatusReason = "MethodNotAllowed"
	StatusReasonRequestTooLarge  StatusReason = "RequestEntityTooLarge"
	StatusReasonUnsupportedMedia StatusReason = "UnsupportedMediaType"
	StatusReasonNotAcceptable    StatusReason = "NotAcceptable"
	StatusReasonInternalError    StatusReason = "InternalError"
	StatusReasonServiceUnavail   StatusReason = "ServiceUnavailable"
	StatusReasonTimeout          StatusReason = "Timeout"
)

// StatusDetails names the object an error is about and, for Invalid, the
// fields at fault.
type StatusDetails struct {
	Name              string        `json:"name,omitempty"`
	Group             string        `json:"group,omitempty"`
	Kind              string        `json:"kind,omitempty"`
	UID               string        `json:"uid,omitempty"`
	Causes            []StatusCause `json:"causes,omitempty"`
	RetryAfterSeconds int32         `json:"retryAfterSeconds,omitempty"`
}

// StatusCause is one field-level problem.
type StatusCause struct {
	Type    string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	Field   string `json:"field,omitempty"`
}

// Error makes a Status usable as an error (the SDK returns it as such).
func (s *Status) Error() string { return s.Message }

// WatchEvent is one line of a watch stream.
type WatchEvent struct {
	// Type is ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

// Watch event types.
const (
	Added    = "ADDED"
	Modified = "MODIFIED"
	Deleted  = "DELETED"
	Bookmark = "BOOKMARK"
	Error    = "ERROR"
)

// DeleteOptions is the optional body of a DELETE.
type DeleteOptions struct {
	TypeMeta           `json:",inline"`
	GracePeriodSeconds *int64         `json:"gracePeriodSeconds,omitempty"`
	Preconditions      *Preconditions `json:"preconditions,omitempty"`
	// PropagationPolicy is Orphan, Background or Foreground.
	PropagationPolicy *string  `json:"propagationPolicy,omitempty"`
	OrphanDependents  *bool    `json:"orphanDependents,omitempty"`
	DryRun            []string `json:"dryRun,omitempty"`
}

// Preconditions must hold for a delete to proceed.
type Preconditions struct {
	UID             *string `json:"uid,omitempty"`
	ResourceVersion *string `json:"resourceVersion,omitempty"`
}

// Deletion propagation policies.
const (
	DeletePropagationOrphan     = "Orphan"
	DeletePropagationBackground = "Background"
	DeletePropagationForeground = "Foreground"
)

// Finalizers Wharf itself sets.
const (
	FinalizerOrphanDependents = "orphan"
	FinalizerForeground       = "foregroundDeletion"
)
