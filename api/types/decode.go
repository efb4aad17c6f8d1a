package types

import "errors"

// Decoding errors; wrapped with the details (field path, kind).
var (
	// ErrUnknownKind: apiVersion and kind name no registered resource.
	ErrUnknownKind = errors.New("unknown kind")
	// ErrUnknownField: the document has a field Wharf does not support.
	ErrUnknownField = errors.New("unknown field")
	// ErrDuplicateField: a field appears twice in one object.
	ErrDuplicateField = errors.New("duplicate field")
	// ErrMalformed: the document is not valid JSON or YAML, or a value has
	// the wrong type.
	ErrMalformed = errors.New("malformed document")
)
