// Package types is Wharf's object model: Go types for the Kubernetes kinds
// Wharf supports, JSON-compatible with Kubernetes for the fields Wharf
// supports and nothing more, so that strict decoding rejects (and names) a
// field Wharf would otherwise silently ignore.
//
// Objects are passed around as pointers. Objects handed out by a shared
// cache must not be mutated: Clone them first.
package types
