package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/labstack/echo/v4"

	"github.com/wharfhq/wharf/api/types"
)

// patchTypes are the patch media types served.
var patchTypes = []string{mediaJSONPatch, mediaMergePatch, mediaStrategicPatch}

// readPatch checks the patch media type and reads the body.
func (s *Server) readPatch(c echo.Context) (string, []byte, error) {
	mt := mediaType(c)
	switch mt {
	case mediaJSONPatch, mediaMergePatch, mediaStrategicPatch:
	case mediaApplyPatch:
		return "", nil, newStatusError(http.StatusUnsupportedMediaType, types.StatusReasonUnsupportedMedia,
			"server-side apply (application/apply-patch+yaml) is not supported by Wharf; use client-side apply "+
				"(kubectl apply without --server-side)", nil)
	default:
		return "", nil, errUnsupportedMedia(mt, patchTypes...)
	}
	body, err := s.readBody(c)
	if err != nil {
		return "", nil, err
	}
	if len(body) == 0 {
		return "", nil, errBadRequest("the patch is empty")
	}
	if mt == mediaJSONPatch {
		if _, err := jsonpatch.DecodePatch(body); err != nil {
			return "", nil, errBadRequest("invalid JSON patch: %v", err)
		}
	} else {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return "", nil, errBadRequest("invalid %s: the patch must be a JSON object: %v", mt, err)
		}
	}
	return mt, body, nil
}

// applyPatch applies a patch of media type mt to the JSON document doc,
// whose Go type is t (used by strategic merge patches).
func applyPatch(mt string, doc, patch []byte, t reflect.Type) ([]byte, error) {
	var out []byte
	var err error
	switch mt {
	case mediaJSONPatch:
		var p jsonpatch.Patch
		if p, err = jsonpatch.DecodePatch(patch); err == nil {
			out, err = p.Apply(doc)
		}
	case mediaMergePatch:
		out, err = jsonpatch.MergePatch(doc, patch)
	case mediaStrategicPatch:
		out, err = strategicMergePatch(doc, patch, t)
	default:
		err = fmt.Errorf("unsupported patch type %q", mt)
	}
	if err != nil {
		return nil, newStatusError(http.StatusUnprocessableEntity, types.StatusReasonInvalid,
			fmt.Sprintf("the patch could not be applied: %v", err), nil)
	}
	return out, nil
}

// patchMutation reads a PATCH body and returns the mutation applying it to
// the current object.
func (s *Server) patchMutation(c echo.Context, ri *requestInfo) (func(types.Object) (types.Object, error), error) {
	mt, body, err := s.readPatch(c)
	if err != nil {
		return nil, err
	}
	wo, err := parseWriteOptions(c.Request().URL.Query())
	if err != nil {
		return nil, err
	}
	wo.warn = warner(c)
	r := ri.Resource
	return func(cur types.Object) (types.Object, error) {
		doc, docType, err := patchDocument(ri, cur)
		if err != nil {
			return nil, err
		}
		patched, err := applyPatch(mt, doc, body, docType)
		if err != nil {
			return nil, err
		}
		obj, err := decodePatched(ri, wo, patched)
		if err != nil {
			return nil, err
		}
		if err := checkTypeMeta(obj, r); err != nil {
			return nil, err
		}
		m, cm := obj.GetObjectMeta(), cur.GetObjectMeta()
		if m.ResourceVersion != "" && m.ResourceVersion != cm.ResourceVersion {
			return nil, errPrecondition
		}
		if m.Name != cm.Name {
			return nil, errBadRequest("the name of the object (%s) does not match the name on the URL (%s)", m.Name, cm.Name)
		}
		if m.Namespace != cm.Namespace {
			return nil, errBadRequest("the namespace of the object (%s) does not match the namespace on the URL (%s)", m.Namespace, cm.Namespace)
		}
		if m.UID != cm.UID {
			return nil, errConflict(r, cm.Name, fmt.Sprintf("Precondition failed: UID in precondition: %s, UID in object meta: %s", m.UID, cm.UID))
		}
		return obj, nil
	}, nil
}
