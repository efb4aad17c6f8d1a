package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/labstack/echo/v4"
	"sigs.k8s.io/yaml"

	"github.com/wharfhq/wharf/api/types"
)

// Media types the server reads and writes.
const (
	mediaJSON           = "application/json"
	mediaYAML           = "application/yaml"
	mediaMergePatch     = "application/merge-patch+json"
	mediaJSONPatch      = "application/json-patch+json"
	mediaStrategicPatch = "application/strategic-merge-patch+json"
	mediaApplyPatch     = "application/apply-patch+yaml"
	mediaProtobuf       = "application/vnd.kubernetes.protobuf"
)

// readBody reads the request body, at most MaxBodyBytes of it.
func (s *Server) readBody(c echo.Context) ([]byte, error) {
	req := c.Request()
	if req.ContentLength > s.cfg.MaxBodyBytes {
		return nil, errTooLarge(s.cfg.MaxBodyBytes)
	}
	data, err := io.ReadAll(http.MaxBytesReader(c.Response().Writer, req.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errTooLarge(s.cfg.MaxBodyBytes)
		}
		return nil, errBadRequest("read request body: %v", err)
	}
	return data, nil
}

// mediaType returns the request's Content-Type without parameters.
func mediaType(c echo.Context) string {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ct
	}
	return mt
}

// checkObjectMedia accepts JSON and YAML object bodies (and no
// Content-Type, read as either).
func checkObjectMedia(c echo.Context) error {
	switch mt := mediaType(c); mt {
	case "", mediaJSON, mediaYAML, "application/x-yaml", "text/yaml":
		return nil
	case mediaProtobuf:
		// kubectl 1.32's typed clients (kubectl create namespace,
		// configmap, deployment ...) send protobuf: see protobuf.go.
		return nil
	default:
		return errUnsupportedMedia(mt, mediaJSON, mediaYAML)
	}
}

// readObjectBody reads an object body: JSON or YAML as sent, protobuf
// turned into JSON; a body of a version other than the stored one is
// converted to the stored version's JSON (versions.go).
func (s *Server) readObjectBody(c echo.Context) ([]byte, error) {
	body, err := s.readBody(c)
	if err != nil {
		return nil, err
	}
	if mediaType(c) == mediaProtobuf {
		if body, err = protobufToJSON(body); errors.Is(err, errProtobufUnsupported) {
			return nil, errBadRequest("%v", err)
		}
		if err != nil {
			return nil, newStatusError(http.StatusUnsupportedMediaType, types.StatusReasonUnsupportedMedia,
				err.Error()+"; `kubectl create <kind> NAME ... --dry-run=client -o yaml | kubectl apply -f -` sends JSON", nil)
		}
	}
	if ri := requestInfoOf(c); ri != nil && ri.Conv != nil {
		wo, err := parseWriteOptions(c.Request().URL.Query())
		if err != nil {
			return nil, err
		}
		wo.warn = warner(c)
		return toStoredBody(ri, wo, body)
	}
	return body, nil
}

// decodeObject decodes a request body into obj strictly: unknown or
// duplicate fields are an error naming them (400 Bad Request).
func decodeObject(data []byte, obj types.Object) error {
	return decodeObjectAs(writeOptions{fieldValidation: validationStrict}, data, obj)
}

// fieldValidation values.
const (
	validationStrict = "Strict"
	validationWarn   = "Warn"
	validationIgnore = "Ignore"
)

// decodeObjectAs decodes a request body into obj under wo's
// fieldValidation: Strict fails on unknown or duplicate fields, naming
// them; Warn and Ignore (kubectl --validate=warn and --validate=false)
// drop them as Kubernetes does, Warn with a Warning header naming them.
func decodeObjectAs(wo writeOptions, data []byte, obj types.Object) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errBadRequest("the request body is empty; send the object as JSON or YAML")
	}
	err := strictDecode(data, obj)
	if err == nil {
		return nil
	}
	fieldErr := errors.Is(err, types.ErrUnknownField) || errors.Is(err, types.ErrDuplicateField)
	if fieldErr && (wo.fieldValidation == validationWarn || wo.fieldValidation == validationIgnore) {
		if lerr := lenientDecode(data, obj); lerr == nil {
			if wo.fieldValidation == validationWarn && wo.warn != nil {
				wo.warn(fieldErrorMessage(err))
			}
			return nil
		}
	}
	msg := "the object could not be decoded: " + err.Error()
	if fieldErr {
		msg = "strict decoding error: " + fieldErrorMessage(err)
	}
	if r, ok := servedResourceForObject(obj); ok {
		msg = fmt.Sprintf("%s in version %q cannot be handled as a %s: %s", r.Kind, r.Version, r.Kind, msg)
	}
	return errBadRequest("%s", msg)
}

// fieldErrorMessage words an unknown or duplicate field error as
// Kubernetes does (`unknown field "spec.foo"`), without the sentinel's
// text repeated at the end.
func fieldErrorMessage(err error) string {
	msg := err.Error()
	for _, sentinel := range []error{types.ErrUnknownField, types.ErrDuplicateField} {
		msg = strings.TrimSuffix(msg, ": "+sentinel.Error())
	}
	return msg
}

// lenientDecode decodes JSON or YAML into obj, dropping unknown fields
// (the last of duplicate ones wins).
func lenientDecode(data []byte, obj types.Object) error {
	reflect.ValueOf(obj).Elem().SetZero()
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return err
	}
	return json.Unmarshal(j, obj)
}

// warner returns the function adding a Warning header to c's response,
// as Kubernetes does (kubectl prints them as "Warning: ...").
func warner(c echo.Context) func(string) {
	return func(msg string) {
		h := c.Response().Header()
		w := fmt.Sprintf("299 - %q", msg)
		for _, have := range h.Values("Warning") {
			if have == w {
				return
			}
		}
		h.Add("Warning", w)
	}
}

// strictDecode decodes JSON or YAML into obj, rejecting unknown and
// duplicate fields and naming them by path (types.UnmarshalStrict). The
// kind and apiVersion are checked afterwards by checkTypeMeta.
func strictDecode(data []byte, obj types.Object) error {
	return types.UnmarshalStrict(data, obj)
}

// decodeOptions decodes a small options body (DeleteOptions) strictly.
func decodeOptions(data []byte, v any) error {
	if err := types.UnmarshalStrict(data, v); err != nil {
		return errBadRequest("the request body could not be decoded: %v", err)
	}
	return nil
}

// outputFormat is what the client asked for in Accept.
type outputFormat int

const (
	outputJSON outputFormat = iota
	outputYAML
	outputTable
)

// negotiate reads the Accept header: a meta.k8s.io Table when asked as
// kubectl does (`application/json;as=Table;v=v1;g=meta.k8s.io`), YAML when
// preferred to JSON, JSON otherwise.
func negotiate(c echo.Context, tableAllowed bool) outputFormat {
	accept := c.Request().Header.Get("Accept")
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case mediaJSON, "*/*", "application/*":
			if params["as"] == "Table" {
				if tableAllowed && params["g"] == "meta.k8s.io" && (params["v"] == "v1" || params["v"] == "v1beta1") {
					return outputTable
				}
				continue
			}
			if params["as"] != "" {
				continue
			}
			return outputJSON
		case mediaYAML:
			if params["as"] == "" {
				return outputYAML
			}
		}
	}
	return outputJSON
}

// writeJSON writes v as JSON with the given code.
func writeJSON(c echo.Context, code int, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.Blob(code, mediaJSON, data)
}

// writeFormatted writes v in the negotiated format (JSON or YAML).
func writeFormatted(c echo.Context, code int, v any) error {
	if negotiate(c, false) == outputYAML {
		data, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		return c.Blob(code, mediaYAML, data)
	}
	return writeJSON(c, code, v)
}
