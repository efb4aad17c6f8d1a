package server

import (
	"net/http"
	"runtime"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/wharfhq/wharf/api/types"
)

// Discovery documents, with the JSON shapes of Kubernetes' meta/v1
// APIVersions, APIGroupList, APIGroup and APIResourceList. The server
// answers the legacy (unaggregated) form; kubectl 1.32 asks for aggregated
// discovery first and falls back to it when the response is plain
// application/json.

type apiVersions struct {
	types.TypeMeta             `json:",inline"`
	Versions                   []string                    `json:"versions"`
	ServerAddressByClientCIDRs []serverAddressByClientCIDR `json:"serverAddressByClientCIDRs"`
}

type serverAddressByClientCIDR struct {
	ClientCIDR    string `json:"clientCIDR"`
	ServerAddress string `json:"serverAddress"`
}

type groupVersionForDiscovery struct {
	GroupVersion string `json:"groupVersion"`
	Version      string `json:"version"`
}

type apiGroup struct {
	types.TypeMeta   `json:",inline"`
	Name             string                     `json:"name"`
	Versions         []groupVersionForDiscovery `json:"versions"`
	PreferredVersion groupVersionForDiscovery   `json:"preferredVersion"`
}

type apiGroupList struct {
	types.TypeMeta `json:",inline"`
	Groups         []apiGroup `json:"groups"`
}

type apiResource struct {
	Name         string   `json:"name"`
	SingularName string   `json:"singularName"`
	Namespaced   bool     `json:"namespaced"`
	Group        string   `json:"group,omitempty"`
	Version      string   `json:"version,omitempty"`
	Kind         string   `json:"kind"`
	Verbs        []string `json:"verbs"`
	ShortNames   []string `json:"shortNames,omitempty"`
	Categories   []string `json:"categories,omitempty"`
}

type apiResourceList struct {
	types.TypeMeta `json:",inline"`
	GroupVersion   string        `json:"groupVersion"`
	Resources      []apiResource `json:"resources"`
}

var (
	verbsObject   = []string{verbCreate, verbDelete, verbDeleteCollection, verbGet, verbList, verbPatch, verbUpdate, verbWatch}
	verbsReadOnly = []string{verbGet, verbPatch, verbUpdate}
)

// groupVersions returns the served group versions (stored versions and
// those served by conversion), core first.
func groupVersions() map[string][]string {
	out := map[string][]string{}
	add := func(group, version string) {
		vs := out[group]
		found := false
		for _, v := range vs {
			found = found || v == version
		}
		if !found {
			out[group] = append(vs, version)
		}
	}
	for _, r := range types.Resources() {
		add(r.Group, r.Version)
		for _, c := range types.ConversionsOf(r) {
			add(r.Group, c.Version)
		}
	}
	return out
}

// servedIn reports whether r is served in version: its stored version or
// one served by conversion.
func servedIn(r *types.Resource, version string) bool {
	if r.Version == version {
		return true
	}
	_, ok := types.ConversionFor(r, version)
	return ok
}

func (s *Server) serveAPIVersions(c echo.Context) error {
	return writeJSON(c, http.StatusOK, apiVersions{
		TypeMeta: types.TypeMeta{Kind: "APIVersions"},
		Versions: []string{"v1"},
		ServerAddressByClientCIDRs: []serverAddressByClientCIDR{
			{ClientCIDR: "0.0.0.0/0", ServerAddress: c.Request().Host},
		},
	})
}

func discoveryGroup(name string, versions []string) apiGroup {
	g := apiGroup{TypeMeta: types.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}, Name: name}
	sort.Sort(sort.Reverse(sort.StringSlice(versions))) // v2 before v1
	for _, v := range versions {
		g.Versions = append(g.Versions, groupVersionForDiscovery{GroupVersion: name + "/" + v, Version: v})
	}
	g.PreferredVersion = g.Versions[0]
	return g
}

func (s *Server) serveAPIGroupList(c echo.Context) error {
	gvs := groupVersions()
	gvs[types.GroupMetrics] = []string{types.MetricsVersion} // served by metricsapi.go, not stored
	names := make([]string, 0, len(gvs))
	for g := range gvs {
		if g != "" {
			names = append(names, g)
		}
	}
	sort.Strings(names)
	list := apiGroupList{TypeMeta: types.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}, Groups: []apiGroup{}}
	for _, g := range names {
		list.Groups = append(list.Groups, discoveryGroup(g, gvs[g]))
	}
	return writeJSON(c, http.StatusOK, list)
}

func (s *Server) serveAPIGroup(c echo.Context, group string) error {
	if c.Request().Method != http.MethodGet {
		return errMethodNotAllowed()
	}
	vs, ok := groupVersions()[group]
	if !ok || group == "" {
		return errNotFoundPath(c.Request().URL.Path)
	}
	return writeJSON(c, http.StatusOK, discoveryGroup(group, vs))
}

func (s *Server) serveResourceList(c echo.Context, group, version string) error {
	list, ok := resourceList(group, version)
	if !ok {
		return errNotFoundPath(c.Request().URL.Path)
	}
	return writeJSON(c, http.StatusOK, list)
}

// resourceList builds the APIResourceList of one group version.
func resourceList(group, version string) (apiResourceList, bool) {
	gv := version
	if group != "" {
		gv = group + "/" + version
	}
	list := apiResourceList{TypeMeta: types.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv}
	found := false
	for _, r := range types.Resources() {
		if r.Group != group || !servedIn(r, version) {
			continue
		}
		found = true
		list.Resources = append(list.Resources, apiResource{
			Name: r.Name, SingularName: r.SingularName, Namespaced: r.Namespaced, Kind: r.Kind,
			Verbs: verbsObject, ShortNames: r.ShortNames, Categories: r.Categories,
		})
		for _, sub := range r.Subresources {
			if !servedSubresource(r, sub) {
				continue
			}
			ar := apiResource{Name: r.Name + "/" + sub, Namespaced: r.Namespaced, Kind: r.Kind, Verbs: verbsReadOnly}
			switch sub {
			case "scale":
				ar.Group, ar.Version, ar.Kind = "autoscaling", "v1", "Scale"
			case "binding":
				ar.Kind, ar.Verbs = "Binding", []string{verbCreate}
			case "log":
				ar.Verbs = []string{verbGet}
			case "exec":
				ar.Kind, ar.Verbs = "PodExecOptions", []string{verbCreate, verbGet}
			case "attach":
				ar.Kind, ar.Verbs = "PodAttachOptions", []string{verbCreate, verbGet}
			case "portforward":
				ar.Kind, ar.Verbs = "PodPortForwardOptions", []string{verbCreate, verbGet}
			}
			list.Resources = append(list.Resources, ar)
		}
		if r.Group == "" && r.Name == "pods" {
			list.Resources = append(list.Resources, apiResource{
				Name: "bindings", SingularName: "binding", Namespaced: true, Kind: "Binding", Verbs: []string{verbCreate},
			})
		}
	}
	sort.Slice(list.Resources, func(i, j int) bool { return list.Resources[i].Name < list.Resources[j].Name })
	return list, found
}

func buildVersionInfo(version string) versionInfo {
	meta := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '.' || r == '-' {
			return r
		}
		return '-'
	}, strings.TrimPrefix(version, "v"))
	return versionInfo{
		Major:        "1",
		Minor:        "32",
		GitVersion:   KubernetesVersion + "+wharf." + meta,
		GitCommit:    version,
		GitTreeState: "clean",
		BuildDate:    "1970-01-01T00:00:00Z",
		GoVersion:    runtime.Version(),
		Compiler:     runtime.Compiler,
		Platform:     runtime.GOOS + "/" + runtime.GOARCH,
	}
}
