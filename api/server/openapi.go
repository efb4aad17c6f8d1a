package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/wharfhq/wharf/api/types"
)

// A minimal OpenAPI v3 document per group version. It declares, for every
// kind, the PATCH operation with its x-kubernetes-group-version-kind and
// the fieldValidation query parameter: that is what kubectl looks for to
// decide that the server validates fields itself (it then sends
// fieldValidation=Strict instead of validating against schemas on the
// client, which is why `kubectl apply` works without --validate=false).
// Schemas are not served: kubectl then computes strategic merge patches
// from its built-in Kubernetes types, which match api/types. `kubectl
// explain` is therefore not supported.

type openAPIRoot struct {
	Paths map[string]openAPIRootPath `json:"paths"`
}

type openAPIRootPath struct {
	ServerRelativeURL string `json:"serverRelativeURL"`
}

type openAPIDoc struct {
	OpenAPI    string                     `json:"openapi"`
	Info       map[string]string          `json:"info"`
	Paths      map[string]openAPIPathItem `json:"paths"`
	Components map[string]map[string]any  `json:"components"`
}

type openAPIPathItem struct {
	Patch *openAPIOperation `json:"patch,omitempty"`
}

type openAPIOperation struct {
	OperationID string                    `json:"operationId"`
	GVK         map[string]string         `json:"x-kubernetes-group-version-kind"`
	Parameters  []openAPIParameter        `json:"parameters"`
	Responses   map[string]map[string]any `json:"responses"`
}

type openAPIParameter struct {
	Name     string            `json:"name"`
	In       string            `json:"in"`
	Required bool              `json:"required,omitempty"`
	Schema   map[string]string `json:"schema"`
}

func (s *Server) serveOpenAPIRoot(c echo.Context) error {
	root := openAPIRoot{Paths: map[string]openAPIRootPath{}}
	for g, vs := range groupVersions() {
		for _, v := range vs {
			p := "api/" + v
			if g != "" {
				p = "apis/" + g + "/" + v
			}
			root.Paths[p] = openAPIRootPath{ServerRelativeURL: "/openapi/v3/" + p + "?hash=" + KubernetesVersion}
		}
	}
	return writeJSON(c, http.StatusOK, root)
}

func (s *Server) serveOpenAPIGroupVersion(c echo.Context) error {
	parts := splitPath(strings.TrimPrefix(c.Request().URL.Path, "/openapi/v3"))
	var group, version string
	switch {
	case len(parts) == 2 && parts[0] == "api":
		version = parts[1]
	case len(parts) == 3 && parts[0] == "apis":
		group, version = parts[1], parts[2]
	default:
		return errNotFoundPath(c.Request().URL.Path)
	}
	doc := openAPIDoc{
		OpenAPI:    "3.0.0",
		Info:       map[string]string{"title": "Wharf", "version": KubernetesVersion},
		Paths:      map[string]openAPIPathItem{},
		Components: map[string]map[string]any{"schemas": {}},
	}
	for _, r := range types.Resources() {
		if r.Group != group || !servedIn(r, version) {
			continue
		}
		path := "/" + strings.Join(parts, "/")
		if r.Namespaced {
			path += "/namespaces/{namespace}"
		}
		path += "/" + r.Name + "/{name}"
		params := []openAPIParameter{
			{Name: "name", In: "path", Required: true, Schema: map[string]string{"type": "string"}},
			{Name: "fieldValidation", In: "query", Schema: map[string]string{"type": "string"}},
			{Name: "fieldManager", In: "query", Schema: map[string]string{"type": "string"}},
			{Name: "dryRun", In: "query", Schema: map[string]string{"type": "string"}},
		}
		if r.Namespaced {
			params = append(params, openAPIParameter{Name: "namespace", In: "path", Required: true, Schema: map[string]string{"type": "string"}})
		}
		doc.Paths[path] = openAPIPathItem{Patch: &openAPIOperation{
			OperationID: "patch" + r.Kind,
			GVK:         map[string]string{"group": r.Group, "version": version, "kind": r.Kind},
			Parameters:  params,
			Responses:   map[string]map[string]any{"200": {"description": "OK"}},
		}}
	}
	if len(doc.Paths) == 0 {
		return errNotFoundPath(c.Request().URL.Path)
	}
	return writeJSON(c, http.StatusOK, doc)
}
