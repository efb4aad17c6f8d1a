package server

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/labstack/echo/v4"

	"github.com/wharfhq/wharf/api/tables"
	"github.com/wharfhq/wharf/api/types"
)

// A resource may be served in versions besides the one it is stored in
// (types.Conversion: autoscaling/v1 HorizontalPodAutoscalers are stored as
// autoscaling/v2), as Kubernetes serves several versions from one storage.
// The request path names the version; parseRequest sets requestInfo.Conv
// when it is not the stored one. Everything between the edges works on
// the stored version (storage, defaulting, validation, controllers, field
// selectors, tables); only these edges convert:
//   - bodies in (create, update, status): readObjectBody;
//   - patches, applied to the served version's document: patchMutation;
//   - objects out (get, create, update, delete, list, watch): writeObject,
//     listFor, watchStream.
// Requests in the stored version pay nothing (Conv is nil).

// toStoredBody turns a body of the version ri.Conv serves into the JSON
// of the stored version: it is decoded strictly (under fieldValidation)
// as the served kind, its kind and apiVersion checked, then converted.
func toStoredBody(ri *requestInfo, wo writeOptions, body []byte) ([]byte, error) {
	obj := ri.Conv.New()
	if err := decodeObjectAs(wo, body, obj); err != nil {
		return nil, err
	}
	if err := checkTypeMeta(obj, servedResource(ri)); err != nil {
		return nil, err
	}
	stored, err := ri.Conv.ToStored(obj)
	if err != nil {
		return nil, errBadRequest("convert %s to %s: %v", servedResource(ri).APIVersion(), ri.Resource.APIVersion(), err)
	}
	return json.Marshal(stored)
}

// servedResource describes the resource of ri as served in ri's version:
// the stored Resource with the served version and Go types.
func servedResource(ri *requestInfo) *types.Resource {
	if ri.Conv == nil {
		return ri.Resource
	}
	r := *ri.Resource
	r.Version, r.New, r.NewList = ri.Conv.Version, ri.Conv.New, ri.Conv.NewList
	return &r
}

// toServed converts a stored-version object to ri's version (obj itself
// when ri is in the stored version).
func toServed(ri *requestInfo, obj types.Object) (types.Object, error) {
	if ri.Conv == nil || obj == nil {
		return obj, nil
	}
	out, err := ri.Conv.FromStored(obj)
	if err != nil {
		return nil, fmt.Errorf("convert %s %q to %s: %w", qualifiedResource(ri.Resource), obj.GetObjectMeta().Name,
			servedResource(ri).APIVersion(), err)
	}
	out.GetObjectMeta().ResourceVersion = obj.GetObjectMeta().ResourceVersion
	return out, nil
}

// listFor builds the List of ri's resource, in ri's version, holding objs
// (stored-version objects).
func (s *Server) listFor(ri *requestInfo, objs []types.Object, lm types.ListMeta) (types.ObjectList, error) {
	if ri.Conv == nil {
		return s.newList(ri.Resource, objs, lm)
	}
	served := make([]types.Object, len(objs))
	for i, obj := range objs {
		o, err := toServed(ri, obj)
		if err != nil {
			return nil, err
		}
		served[i] = o
	}
	return s.newList(servedResource(ri), served, lm)
}

// patchDocument returns the document a patch of ri applies to: cur in
// ri's version, as JSON, and the Go type of that version (for strategic
// merge patches).
func patchDocument(ri *requestInfo, cur types.Object) ([]byte, reflect.Type, error) {
	obj, err := toServed(ri, cur)
	if err != nil {
		return nil, nil, err
	}
	doc, err := json.Marshal(obj)
	return doc, reflect.TypeOf(obj).Elem(), err
}

// decodePatched decodes a patched document of ri's version into a
// stored-version object.
func decodePatched(ri *requestInfo, wo writeOptions, patched []byte) (types.Object, error) {
	if ri.Conv != nil {
		var err error
		if patched, err = toStoredBody(ri, wo, patched); err != nil {
			return nil, err
		}
	}
	obj := ri.Resource.New()
	if err := decodeObjectAs(wo, patched, obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// requestInfoOf returns the requestInfo serveAPI stored in c, if any.
func requestInfoOf(c echo.Context) *requestInfo {
	ri, _ := c.Get(ctxKeyRequestInfo).(*requestInfo)
	return ri
}

// servedRowObjects replaces the whole objects of a Table's rows (one per
// obj, in order) with their form in ri's version; the cells were printed
// from the stored version.
func servedRowObjects(ri *requestInfo, t *tables.Table, objs []types.Object) error {
	for i, obj := range objs {
		served, err := toServed(ri, obj)
		if err != nil {
			return err
		}
		if t.Rows[i].Object, err = json.Marshal(served); err != nil {
			return err
		}
	}
	return nil
}

// servedResourceForObject finds the resource obj's Go type is served as,
// with its version: a registered resource, or one served by conversion.
func servedResourceForObject(obj types.Object) (*types.Resource, bool) {
	if r, ok := types.ResourceForObject(obj); ok {
		return r, true
	}
	t := reflect.TypeOf(obj)
	for _, r := range types.Resources() {
		for _, c := range types.ConversionsOf(r) {
			if reflect.TypeOf(c.New()) == t {
				return servedResource(&requestInfo{Resource: r, Conv: c}), true
			}
		}
	}
	return nil, false
}
