package sdk

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/wharfhq/wharf/api/types"
)

// ErrUnregisteredType is returned by a typed client whose Go type is not
// the New() type of any registered resource.
var ErrUnregisteredType = errors.New("type is not a registered resource")

// TypedClient is the dynamic client with concrete types: T is the pointer
// type a resource's New returns (*types.Pod, *types.Deployment, ...).
// Values are immutable: Namespace returns a copy.
type TypedClient[T types.Object] struct {
	rc  *ResourceClient
	err error
}

// Typed returns a client for the resource whose objects are of type T,
// across all namespaces; call Namespace to address one:
//
//	pods := sdk.Typed[*types.Pod](c).Namespace("default")
//
// If T is not a registered resource type, every call fails with
// ErrUnregisteredType.
func Typed[T types.Object](c *Client) *TypedClient[T] {
	res, err := ResourceOf[T]()
	if err != nil {
		return &TypedClient[T]{err: err}
	}
	return &TypedClient[T]{rc: c.Resource(res)}
}

// ResourceOf returns the registered resource whose objects are of type T.
func ResourceOf[T types.Object]() (*types.Resource, error) {
	want := reflect.TypeFor[T]()
	for _, r := range types.Resources() {
		if reflect.TypeOf(r.New()) == want {
			return r, nil
		}
	}
	return nil, fmt.Errorf("%v: %w", want, ErrUnregisteredType)
}

// Namespace returns a client for namespace ns ("" = all namespaces for
// List and Watch).
func (t *TypedClient[T]) Namespace(ns string) *TypedClient[T] {
	if t.err != nil {
		return t
	}
	return &TypedClient[T]{rc: t.rc.Namespace(ns)}
}

// Dynamic returns the underlying dynamic client (nil if T is not
// registered).
func (t *TypedClient[T]) Dynamic() *ResourceClient { return t.rc }

// as converts a dynamic result to T.
func as[T types.Object](obj types.Object, err error) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	v, ok := obj.(T)
	if !ok {
		return zero, fmt.Errorf("decoded %T, want %T", obj, zero)
	}
	return v, nil
}

// one runs a single-object call on the dynamic client and converts the
// result.
func (t *TypedClient[T]) one(call func(rc *ResourceClient) (types.Object, error)) (T, error) {
	if t.err != nil {
		var zero T
		return zero, t.err
	}
	return as[T](call(t.rc))
}

// Get returns the named object.
func (t *TypedClient[T]) Get(ctx context.Context, name string) (T, error) {
	return t.one(func(rc *ResourceClient) (types.Object, error) { return rc.Get(ctx, name) })
}

// List returns one page of objects (all unless opts.Limit is set).
func (t *TypedClient[T]) List(ctx context.Context, opts ListOptions) (*List[T], error) {
	if t.err != nil {
		return nil, t.err
	}
	l, err := t.rc.List(ctx, opts)
	if err != nil {
		return nil, err
	}
	out := &List[T]{ListMeta: l.ListMeta, Items: make([]T, 0, len(l.Items))}
	for _, it := range l.Items {
		v, err := as[T](it, nil)
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, v)
	}
	return out, nil
}

// Create creates obj and returns the stored object.
func (t *TypedClient[T]) Create(ctx context.Context, obj T) (T, error) {
	return t.one(func(rc *ResourceClient) (types.Object, error) { return rc.Create(ctx, obj) })
}

// Update replaces obj (Conflict if its resourceVersion is stale).
func (t *TypedClient[T]) Update(ctx context.Context, obj T) (T, error) {
	return t.one(func(rc *ResourceClient) (types.Object, error) { return rc.Update(ctx, obj) })
}

// UpdateStatus replaces obj's status through the status subresource.
func (t *TypedClient[T]) UpdateStatus(ctx context.Context, obj T) (T, error) {
	return t.one(func(rc *ResourceClient) (types.Object, error) { return rc.UpdateStatus(ctx, obj) })
}

// Patch patches the named object (or its subresource, when given).
func (t *TypedClient[T]) Patch(ctx context.Context, name string, pt PatchType, data []byte, subresources ...string) (T, error) {
	return t.one(func(rc *ResourceClient) (types.Object, error) {
		return rc.Patch(ctx, name, pt, data, subresources...)
	})
}

// Delete deletes the named object.
func (t *TypedClient[T]) Delete(ctx context.Context, name string, opts types.DeleteOptions) error {
	if t.err != nil {
		return t.err
	}
	return t.rc.Delete(ctx, name, opts)
}

// DeleteCollection deletes the objects the list options select.
func (t *TypedClient[T]) DeleteCollection(ctx context.Context, opts types.DeleteOptions, list ListOptions) error {
	if t.err != nil {
		return t.err
	}
	return t.rc.DeleteCollection(ctx, opts, list)
}

// Watch streams changes as concrete objects.
func (t *TypedClient[T]) Watch(ctx context.Context, opts ListOptions) (*Watcher[T], error) {
	if t.err != nil {
		return nil, t.err
	}
	decode := func(b []byte) (T, error) { return as[T](t.rc.decodeObject(b)) }
	return startWatch(ctx, t.rc.c, t.rc.watchRequest(opts, ""), decode)
}
