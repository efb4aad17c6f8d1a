package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/wharfhq/wharf/api/types"
)

// ErrNamespaceRequired is returned when a call on a namespaced resource
// names one object but no namespace (neither on the client nor in the
// object).
var ErrNamespaceRequired = errors.New("a namespace is required for this resource")

// ListOptions select what List, Watch and Table return. Selectors use the
// Kubernetes string forms ("app=web,tier in (a,b)", "spec.nodeName=n1").
type ListOptions struct {
	LabelSelector string
	FieldSelector string
	// Limit asks for at most this many items per page; 0 means all.
	Limit int64
	// Continue resumes a paginated list from the previous page's token.
	Continue string
	// ResourceVersion: for List, "" reads the latest state; for Watch,
	// the version to stream changes after ("" or "0": the current state
	// as ADDED events, then changes).
	ResourceVersion string
	// AllowWatchBookmarks asks a watch for BOOKMARK events that carry only
	// a newer resourceVersion.
	AllowWatchBookmarks bool
	// TimeoutSeconds ends a watch (cleanly) after this long; 0 leaves it
	// to the server.
	TimeoutSeconds int64
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	if o.LabelSelector != "" {
		q.Set("labelSelector", o.LabelSelector)
	}
	if o.FieldSelector != "" {
		q.Set("fieldSelector", o.FieldSelector)
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.FormatInt(o.Limit, 10))
	}
	if o.Continue != "" {
		q.Set("continue", o.Continue)
	}
	if o.ResourceVersion != "" {
		q.Set("resourceVersion", o.ResourceVersion)
	}
	if o.AllowWatchBookmarks {
		q.Set("allowWatchBookmarks", "true")
	}
	if o.TimeoutSeconds > 0 {
		q.Set("timeoutSeconds", strconv.FormatInt(o.TimeoutSeconds, 10))
	}
	return q
}

// List is one page of a list: the list's metadata (resourceVersion to
// watch from, continue token) and its items.
type List[T any] struct {
	types.ListMeta
	Items []T
}

// PatchType is the Content-Type of a patch body.
type PatchType string

// Patch types the server accepts.
const (
	MergePatch          PatchType = "application/merge-patch+json"
	JSONPatch           PatchType = "application/json-patch+json"
	StrategicMergePatch PatchType = "application/strategic-merge-patch+json"
)

// ResourceClient is the dynamic client for one resource, optionally in one
// namespace. Methods return objects made by the resource's New, so callers
// can type-assert them to the concrete kind. Values are immutable: Namespace
// returns a copy.
type ResourceClient struct {
	c   *Client
	res *types.Resource
	ns  string
}

// Resource returns a dynamic client for res across all namespaces; call
// Namespace to address one.
func (c *Client) Resource(res *types.Resource) *ResourceClient {
	return &ResourceClient{c: c, res: res}
}

// Namespace returns a client for the objects of namespace ns ("" means all
// namespaces for List, Watch and DeleteCollection). It is ignored for
// cluster-scoped resources.
func (r *ResourceClient) Namespace(ns string) *ResourceClient {
	cp := *r
	cp.ns = ns
	return &cp
}

// Resource returns the resource the client addresses.
func (r *ResourceClient) Resource() *types.Resource { return r.res }

// basePath returns the collection path in namespace ns ("" for all
// namespaces or a cluster-scoped resource).
func (r *ResourceClient) basePath(ns string) string {
	p := "/api/" + r.res.Version
	if r.res.Group != "" {
		p = "/apis/" + r.res.Group + "/" + r.res.Version
	}
	if r.res.Namespaced && ns != "" {
		p += "/namespaces/" + url.PathEscape(ns)
	}
	return p + "/" + r.res.Name
}

// objectPath returns the path of one object (and of its subresources when
// given), taking the namespace from the client or else from objNS.
func (r *ResourceClient) objectPath(name, objNS string, subresources ...string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("%s: an object name is required", r.res.Name)
	}
	ns := r.ns
	if ns == "" {
		ns = objNS
	}
	if r.res.Namespaced && ns == "" {
		return "", fmt.Errorf("%s %q: %w", r.res.Name, name, ErrNamespaceRequired)
	}
	p := r.basePath(ns) + "/" + url.PathEscape(name)
	for _, s := range subresources {
		p += "/" + s
	}
	return p, nil
}

// decodeObject decodes one object of the resource, leniently (a newer
// server may send fields this client does not know), and fills in its
// kind and apiVersion, which list items and watch events may leave out.
func (r *ResourceClient) decodeObject(b []byte) (types.Object, error) {
	obj := r.res.New()
	if err := json.Unmarshal(b, obj); err != nil {
		return nil, fmt.Errorf("decode %s: %w", r.res.Kind, err)
	}
	tm := obj.GetTypeMeta()
	if tm.Kind == "" {
		tm.Kind = r.res.Kind
	}
	if tm.APIVersion == "" {
		tm.APIVersion = r.res.APIVersion()
	}
	return obj, nil
}

// rawList is the wire form of any list.
type rawList struct {
	Metadata types.ListMeta    `json:"metadata"`
	Items    []json.RawMessage `json:"items"`
}

// Get returns the named object.
func (r *ResourceClient) Get(ctx context.Context, name string) (types.Object, error) {
	p, err := r.objectPath(name, "")
	if err != nil {
		return nil, err
	}
	return r.objectCall(ctx, request{method: http.MethodGet, path: p})
}

// objectCall sends req and decodes the object it answers.
func (r *ResourceClient) objectCall(ctx context.Context, req request) (types.Object, error) {
	b, err := r.c.doRaw(ctx, req)
	if err != nil {
		return nil, err
	}
	return r.decodeObject(b)
}

// List returns one page of objects (all of them unless opts.Limit is set).
func (r *ResourceClient) List(ctx context.Context, opts ListOptions) (*List[types.Object], error) {
	var raw rawList
	req := request{method: http.MethodGet, path: r.basePath(r.ns), query: opts.query()}
	if err := r.c.doInto(ctx, req, &raw); err != nil {
		return nil, err
	}
	l := &List[types.Object]{ListMeta: raw.Metadata, Items: make([]types.Object, 0, len(raw.Items))}
	for _, it := range raw.Items {
		obj, err := r.decodeObject(it)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", r.res.Name, err)
		}
		l.Items = append(l.Items, obj)
	}
	return l, nil
}

// ListAll follows continue tokens until the last page and returns every
// item, read at the first page's revision. opts.Limit sets the page size.
func (r *ResourceClient) ListAll(ctx context.Context, opts ListOptions) (*List[types.Object], error) {
	all := &List[types.Object]{}
	for {
		page, err := r.List(ctx, opts)
		if err != nil {
			return nil, err
		}
		all.Items = append(all.Items, page.Items...)
		if all.ResourceVersion == "" {
			all.ResourceVersion = page.ResourceVersion
		}
		if page.Continue == "" {
			return all, nil
		}
		opts.Continue = page.Continue
	}
}

// Create creates obj in the client's namespace (or the object's own) and
// returns the stored object. An empty kind and apiVersion are filled in.
func (r *ResourceClient) Create(ctx context.Context, obj types.Object) (types.Object, error) {
	ns := r.ns
	if ns == "" {
		ns = obj.GetObjectMeta().Namespace
	}
	if r.res.Namespaced && ns == "" {
		return nil, fmt.Errorf("create %s: %w", r.res.Name, ErrNamespaceRequired)
	}
	r.fillTypeMeta(obj)
	return r.objectCall(ctx, request{method: http.MethodPost, path: r.basePath(ns), body: obj})
}

// fillTypeMeta sets obj's kind and apiVersion when left empty, so callers
// can write &types.Pod{ObjectMeta: ..., Spec: ...}.
func (r *ResourceClient) fillTypeMeta(obj types.Object) {
	tm := obj.GetTypeMeta()
	if tm.Kind == "" && tm.APIVersion == "" {
		tm.Kind, tm.APIVersion = r.res.Kind, r.res.APIVersion()
	}
}

// Update replaces the object; its metadata.resourceVersion must be the
// stored one (a Conflict error otherwise: read again and retry).
func (r *ResourceClient) Update(ctx context.Context, obj types.Object) (types.Object, error) {
	return r.put(ctx, obj)
}

// UpdateStatus replaces the object's status through the status
// subresource; the rest of the object is ignored by the server.
func (r *ResourceClient) UpdateStatus(ctx context.Context, obj types.Object) (types.Object, error) {
	return r.put(ctx, obj, "status")
}

func (r *ResourceClient) put(ctx context.Context, obj types.Object, subresources ...string) (types.Object, error) {
	m := obj.GetObjectMeta()
	p, err := r.objectPath(m.Name, m.Namespace, subresources...)
	if err != nil {
		return nil, err
	}
	r.fillTypeMeta(obj)
	return r.objectCall(ctx, request{method: http.MethodPut, path: p, body: obj})
}

// Patch applies a patch of type pt to the named object, or to one of its
// subresources ("status", "scale") when given.
func (r *ResourceClient) Patch(ctx context.Context, name string, pt PatchType, data []byte, subresources ...string) (types.Object, error) {
	p, err := r.objectPath(name, "", subresources...)
	if err != nil {
		return nil, err
	}
	return r.objectCall(ctx, request{method: http.MethodPatch, path: p, rawBody: data, contentType: string(pt)})
}

// Delete deletes the named object. A Pod bound to a node, or an object
// with finalizers, may only be marked for deletion (deletionTimestamp) and
// go later.
func (r *ResourceClient) Delete(ctx context.Context, name string, opts types.DeleteOptions) error {
	p, err := r.objectPath(name, "")
	if err != nil {
		return err
	}
	return r.c.doInto(ctx, request{method: http.MethodDelete, path: p, body: deleteBody(opts)}, nil)
}

// DeleteCollection deletes every object the list options select in the
// client's namespace (all namespaces when none is set).
func (r *ResourceClient) DeleteCollection(ctx context.Context, opts types.DeleteOptions, list ListOptions) error {
	req := request{method: http.MethodDelete, path: r.basePath(r.ns), query: list.query(), body: deleteBody(opts)}
	return r.c.doInto(ctx, req, nil)
}

func deleteBody(opts types.DeleteOptions) *types.DeleteOptions {
	opts.Kind, opts.APIVersion = "DeleteOptions", "v1"
	return &opts
}

// GetSubresource GETs a subresource of the named object ("scale",
// "status") into out.
func (r *ResourceClient) GetSubresource(ctx context.Context, name, subresource string, out any) error {
	p, err := r.objectPath(name, "", subresource)
	if err != nil {
		return err
	}
	return r.c.doInto(ctx, request{method: http.MethodGet, path: p}, out)
}

// UpdateSubresource PUTs in to a subresource of the named object and
// decodes the answer into out (when not nil).
func (r *ResourceClient) UpdateSubresource(ctx context.Context, name, subresource string, in, out any) error {
	p, err := r.objectPath(name, "", subresource)
	if err != nil {
		return err
	}
	return r.c.doInto(ctx, request{method: http.MethodPut, path: p, body: in}, out)
}

// CreateSubresource POSTs in to a subresource of the named object
// ("binding", "eviction") and decodes the answer into out (when not nil).
func (r *ResourceClient) CreateSubresource(ctx context.Context, name, subresource string, in, out any) error {
	p, err := r.objectPath(name, "", subresource)
	if err != nil {
		return err
	}
	return r.c.doInto(ctx, request{method: http.MethodPost, path: p, body: in}, out)
}

// Watch streams changes to the objects the options select, after
// opts.ResourceVersion. Stop the watcher when done with it.
func (r *ResourceClient) Watch(ctx context.Context, opts ListOptions) (*Watcher[types.Object], error) {
	return startWatch(ctx, r.c, r.watchRequest(opts, ""), r.decodeObject)
}

func (r *ResourceClient) watchRequest(opts ListOptions, accept string) request {
	q := opts.query()
	q.Set("watch", "true")
	return request{method: http.MethodGet, path: r.basePath(r.ns), query: q, accept: accept, stream: true}
}
