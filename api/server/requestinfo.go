package server

import (
	"net/http"
	"strings"

	"github.com/wharfhq/wharf/api/types"
)

// Verbs, as Kubernetes names them (discovery, metrics, authorization).
const (
	verbGet              = "get"
	verbList             = "list"
	verbWatch            = "watch"
	verbCreate           = "create"
	verbUpdate           = "update"
	verbPatch            = "patch"
	verbDelete           = "delete"
	verbDeleteCollection = "deletecollection"
)

// requestInfo is what a resource path and method address.
type requestInfo struct {
	Verb        string
	Group       string
	Version     string
	Resource    *types.Resource
	Namespace   string
	Name        string
	Subresource string
	// LegacyBinding marks POST /api/v1/namespaces/NS/bindings.
	LegacyBinding bool
	// Conv converts between Resource's stored version and the version of
	// the path when they differ (nil when they do not): see versions.go.
	Conv *types.Conversion
}

// resourceLabel names the resource in metrics ("pods", "deployments.apps",
// "pods/status").
func (ri *requestInfo) resourceLabel() string {
	if ri.LegacyBinding {
		return "bindings"
	}
	if ri.Resource == nil {
		return ""
	}
	l := qualifiedResource(ri.Resource)
	if ri.Subresource != "" {
		l += "/" + ri.Subresource
	}
	return l
}

// namespaceSubresources are the subresources of a Namespace object, which
// /api/v1/namespaces/NAME/SUB must not mistake for a namespaced resource.
var namespaceSubresources = map[string]bool{"status": true, "finalize": true}

// parseRequest resolves a path under /api or /apis and a method. It
// returns ok=false with a Status error when the path names nothing served.
func parseRequest(method, path string, query map[string][]string) (*requestInfo, *StatusError) {
	parts := splitPath(path)
	ri := &requestInfo{}
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		ri.Version = parts[1]
		parts = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		ri.Group, ri.Version = parts[1], parts[2]
		parts = parts[3:]
	default:
		return nil, errNotFoundPath(path)
	}
	legacyWatch := false
	if len(parts) > 0 && parts[0] == "watch" {
		legacyWatch = true
		parts = parts[1:]
	}
	if len(parts) == 0 {
		return nil, errNotFoundPath(path)
	}
	if parts[0] == "namespaces" && len(parts) > 1 {
		if len(parts) > 2 && !namespaceSubresources[parts[2]] {
			ri.Namespace = parts[1]
			parts = parts[2:]
		}
	}
	if ri.Group == "" && ri.Namespace != "" && len(parts) == 1 && parts[0] == "bindings" && ri.Version == "v1" {
		if method != http.MethodPost {
			return nil, errMethodNotAllowed()
		}
		res, _ := types.ResourceFor("", "pods")
		if res == nil {
			return nil, errNotFoundPath(path)
		}
		ri.Resource, ri.Subresource, ri.Verb, ri.LegacyBinding = res, "binding", verbCreate, true
		return ri, nil
	}
	res, ok := types.ResourceFor(ri.Group, parts[0])
	if ok && res.Version != ri.Version {
		ri.Conv, ok = types.ConversionFor(res, ri.Version)
	}
	if !ok {
		return nil, errNotFoundPath(path)
	}
	ri.Resource = res
	if res.Namespaced && ri.Namespace == "" && len(parts) == 1 {
		// A namespaced collection without namespace: list/watch across
		// namespaces; only reads are allowed.
		if method != http.MethodGet {
			return nil, errMethodNotAllowed()
		}
	}
	if !res.Namespaced && ri.Namespace != "" {
		return nil, errNotFoundPath(path)
	}
	if res.Namespaced && ri.Namespace == "" && len(parts) > 1 {
		return nil, errNotFoundPath(path)
	}
	if len(parts) > 1 {
		ri.Name = parts[1]
	}
	if len(parts) > 2 {
		ri.Subresource = parts[2]
		if !servedSubresource(res, ri.Subresource) {
			return nil, errNotFoundPath(path)
		}
	}
	if len(parts) > 3 {
		return nil, errNotFoundPath(path)
	}
	watch := legacyWatch || isTrue(first(query["watch"]))
	switch method {
	case http.MethodGet, http.MethodHead:
		switch {
		case watch:
			ri.Verb = verbWatch
		case ri.Name == "":
			ri.Verb = verbList
		default:
			ri.Verb = verbGet
		}
	case http.MethodPost:
		if ri.Name != "" && ri.Subresource == "" {
			return nil, errMethodNotAllowed()
		}
		ri.Verb = verbCreate
	case http.MethodPut:
		ri.Verb = verbUpdate
	case http.MethodPatch:
		ri.Verb = verbPatch
	case http.MethodDelete:
		ri.Verb = verbDelete
		if ri.Name == "" {
			ri.Verb = verbDeleteCollection
		}
	default:
		return nil, errMethodNotAllowed()
	}
	if legacyWatch && ri.Verb != verbWatch {
		return nil, errMethodNotAllowed()
	}
	if ri.Name == "" && (ri.Verb == verbUpdate || ri.Verb == verbPatch) {
		return nil, errMethodNotAllowed()
	}
	if ri.Subresource != "" && (ri.Verb == verbWatch || ri.Verb == verbDelete) {
		return nil, errMethodNotAllowed()
	}
	return ri, nil
}

// servedSubresource reports whether the server answers sub of r.
func servedSubresource(r *types.Resource, sub string) bool {
	switch sub {
	case "status", "scale", "binding":
		return r.HasSubresource(sub)
	case "log", "exec", "attach", "portforward", "proxy":
		return r.Group == "" && r.Name == "pods"
	}
	return false
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func isTrue(s string) bool {
	return s == "1" || strings.EqualFold(s, "true")
}
