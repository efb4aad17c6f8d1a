package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wharfhq/wharf/api/tables"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/storage"
)

// The resource metrics API, metrics.k8s.io/v1beta1, which kubectl top
// reads: PodMetrics and NodeMetrics built, at each request, from the
// types.AnnotationUsageSample the agents keep on Pods and Nodes (no
// metrics-server, nothing stored). As metrics-server: get and list only,
// label and field selectors on lists, a Pod or Node without a usage yet,
// or with a stale one (its agent stopped: types.UsageSampleMaxAge, against
// the server's clock), is NotFound on get and absent from lists, only
// Running Pods have metrics.

// metricsPrefix is the path of the metrics group.
const metricsPrefix = "/apis/" + types.GroupMetrics

// metricsResource is one resource of the metrics API: the stored
// resource it is built from and the name Kubernetes uses in errors.
type metricsResource struct {
	api      apiResource
	errName  string          // "podmetrics", as in `podmetrics.metrics.k8s.io "ns/x" not found`
	source   *types.Resource // the Pods or Nodes the metrics come from
	resource *types.Resource // for request metrics labels: "pods.metrics.k8s.io"
}

var (
	metricsPods = &metricsResource{
		api: apiResource{Name: "pods", Namespaced: true, Kind: "PodMetrics",
			Verbs: []string{verbGet, verbList}},
		errName:  "podmetrics",
		source:   coreResource("pods"),
		resource: &types.Resource{Group: types.GroupMetrics, Version: types.MetricsVersion, Name: "pods", Kind: "PodMetrics", Namespaced: true},
	}
	metricsNodes = &metricsResource{
		api: apiResource{Name: "nodes", Namespaced: false, Kind: "NodeMetrics",
			Verbs: []string{verbGet, verbList}},
		errName:  "nodemetrics",
		source:   coreResource("nodes"),
		resource: &types.Resource{Group: types.GroupMetrics, Version: types.MetricsVersion, Name: "nodes", Kind: "NodeMetrics"},
	}
)

// coreResource is a registered core resource (registered by package
// types' init, before this package's variables).
func coreResource(name string) *types.Resource {
	r, _ := types.ResourceFor(types.GroupCore, name)
	return r
}

// metricsGroup is the discovery document of the metrics group.
func metricsGroup() apiGroup {
	return discoveryGroup(types.GroupMetrics, []string{types.MetricsVersion})
}

// metricsResourceList is the discovery document of metrics.k8s.io/v1beta1.
func metricsResourceList() apiResourceList {
	return apiResourceList{
		TypeMeta:     types.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
		GroupVersion: types.GroupMetrics + "/" + types.MetricsVersion,
		Resources:    []apiResource{metricsNodes.api, metricsPods.api},
	}
}

// errMetricsNotFound is metrics-server's answer for an object without
// metrics: `podmetrics.metrics.k8s.io "default/web" not found`.
func errMetricsNotFound(mr *metricsResource, namespace, name string) *StatusError {
	id := name
	if namespace != "" {
		id = namespace + "/" + name
	}
	return newStatusError(http.StatusNotFound, types.StatusReasonNotFound,
		fmt.Sprintf("%s.%s %q not found", mr.errName, types.GroupMetrics, id),
		&types.StatusDetails{Name: id, Group: types.GroupMetrics, Kind: mr.errName})
}

// serveMetricsAPI answers every path under metricsPrefix.
func (s *Server) serveMetricsAPI(c echo.Context) error {
	req := c.Request()
	parts := splitPath(req.URL.Path)[2:] // after apis, group
	if len(parts) == 0 {
		if req.Method != http.MethodGet {
			return errMethodNotAllowed()
		}
		return writeJSON(c, http.StatusOK, metricsGroup())
	}
	if parts[0] != types.MetricsVersion {
		return errNotFoundPath(req.URL.Path)
	}
	parts = parts[1:]
	if len(parts) == 0 {
		if req.Method != http.MethodGet {
			return errMethodNotAllowed()
		}
		return writeJSON(c, http.StatusOK, metricsResourceList())
	}
	var namespace string
	if len(parts) > 2 && parts[0] == "namespaces" {
		namespace, parts = parts[1], parts[2:]
	}
	var mr *metricsResource
	switch {
	case parts[0] == "pods":
		mr = metricsPods
	case parts[0] == "nodes" && namespace == "":
		mr = metricsNodes
	}
	if mr == nil || len(parts) > 2 {
		return errNotFoundPath(req.URL.Path)
	}
	ri := &requestInfo{Group: types.GroupMetrics, Version: types.MetricsVersion, Resource: mr.resource,
		Namespace: namespace, Verb: verbList}
	if len(parts) == 2 {
		ri.Name, ri.Verb = parts[1], verbGet
	}
	c.Set(ctxKeyRequestInfo, ri)
	q := req.URL.Query()
	if (req.Method != http.MethodGet && req.Method != http.MethodHead) || isTrue(q.Get("watch")) {
		return errMethodNotAllowed()
	}
	if ri.Name != "" {
		return s.getMetrics(c, mr, namespace, ri.Name)
	}
	return s.listMetrics(c, mr, namespace, q)
}

// getMetrics answers the metrics of one Pod or Node.
func (s *Server) getMetrics(c echo.Context, mr *metricsResource, namespace, name string) error {
	obj, _, err := s.getObject(c.Request().Context(), mr.source, namespace, name)
	if err != nil {
		if se := (*StatusError)(nil); errors.As(err, &se) && se.Status.Code == http.StatusNotFound {
			return errMetricsNotFound(mr, namespace, name)
		}
		return err
	}
	m, ok := metricsOf(obj, s.now())
	if !ok {
		return errMetricsNotFound(mr, namespace, name)
	}
	return writeMetrics(c, m)
}

// metricsOf builds the metrics object of a Pod or Node; false when it has
// none, or a stale one at now.
func metricsOf(obj types.Object, now time.Time) (types.Object, bool) {
	switch o := obj.(type) {
	case *types.Pod:
		return podMetricsAt(o, now)
	case *types.Node:
		return nodeMetricsAt(o, now)
	}
	return nil, false
}

// podMetricsAt is the Pod's metrics, if it has fresh ones at now.
func podMetricsAt(p *types.Pod, now time.Time) (*types.PodMetrics, bool) {
	m, ok := types.PodMetricsOf(p)
	if !ok || m.StaleAt(now) {
		return nil, false
	}
	return m, true
}

// nodeMetricsAt is the Node's metrics, if it has fresh ones at now.
func nodeMetricsAt(n *types.Node, now time.Time) (*types.NodeMetrics, bool) {
	m, ok := types.NodeMetricsOf(n)
	if !ok || m.StaleAt(now) {
		return nil, false
	}
	return m, true
}

// listMetrics answers the metrics of the Pods (of a namespace, or of all)
// or Nodes that match the request's selectors and have metrics. Limit and
// continue are ignored, as metrics-server does.
func (s *Server) listMetrics(c echo.Context, mr *metricsResource, namespace string, q url.Values) error {
	src := mr.source
	sel, err := parseSelectors(src, q)
	if err != nil {
		return err
	}
	if mr == metricsPods && sel.field.Empty() {
		return s.listPodMetrics(c, namespace, sel)
	}
	res, err := s.listObjects(c.Request().Context(), &requestInfo{Resource: src, Namespace: namespace, Verb: verbList}, url.Values{}, sel)
	if err != nil {
		return err
	}
	lm := types.ListMeta{ResourceVersion: formatRV(res.rev)}
	now := s.now()
	apiVersion := types.GroupMetrics + "/" + types.MetricsVersion
	if mr == metricsNodes {
		list := &types.NodeMetricsList{TypeMeta: types.TypeMeta{Kind: "NodeMetricsList", APIVersion: apiVersion},
			ListMeta: lm, Items: []types.NodeMetrics{}}
		for _, obj := range res.objs {
			if n, ok := obj.(*types.Node); ok {
				if m, ok := nodeMetricsAt(n, now); ok {
					list.Items = append(list.Items, *m)
				}
			}
		}
		return writeMetrics(c, list)
	}
	list := &types.PodMetricsList{TypeMeta: types.TypeMeta{Kind: "PodMetricsList", APIVersion: apiVersion},
		ListMeta: lm, Items: []types.PodMetrics{}}
	for _, obj := range res.objs {
		if p, ok := obj.(*types.Pod); ok {
			if m, ok := podMetricsAt(p, now); ok {
				list.Items = append(list.Items, *m)
			}
		}
	}
	return writeMetrics(c, list)
}

// podMetricsFields is the part of a stored Pod its metrics need: decoding
// only it makes listing PodMetrics about half as costly as listing the
// Pods (BenchmarkPodMetricsList), where decoding whole Pods cost as much.
type podMetricsFields struct {
	Metadata types.ObjectMeta `json:"metadata"`
	Status   struct {
		Phase types.PodPhase `json:"phase"`
	} `json:"status"`
}

// listPodMetrics answers a list of PodMetrics with a label selector at
// most (a field selector may name any Pod field: listMetrics decodes whole
// Pods for it).
func (s *Server) listPodMetrics(c echo.Context, namespace string, sel selectors) error {
	res, err := s.store.List(c.Request().Context(), storagePrefix(metricsPods.source, namespace), storage.ListOptions{})
	if err != nil {
		return fmt.Errorf("list %s: %w", qualifiedResource(metricsPods.source), err)
	}
	list := &types.PodMetricsList{TypeMeta: types.TypeMeta{Kind: "PodMetricsList", APIVersion: types.GroupMetrics + "/" + types.MetricsVersion},
		ListMeta: types.ListMeta{ResourceVersion: formatRV(res.Revision)}, Items: []types.PodMetrics{}}
	now := s.now()
	for _, kv := range res.Items {
		var f podMetricsFields
		if err := json.Unmarshal(kv.Value, &f); err != nil {
			return fmt.Errorf("decode stored Pod at %q: %w", kv.Key, err)
		}
		if !sel.label.Matches(f.Metadata.Labels) {
			continue
		}
		p := &types.Pod{ObjectMeta: f.Metadata}
		p.Status.Phase = f.Status.Phase
		if m, ok := podMetricsAt(p, now); ok {
			list.Items = append(list.Items, *m)
		}
	}
	return writeMetrics(c, list)
}

// writeMetrics answers metrics objects in the negotiated format: JSON or
// YAML, or the Table kubectl get asks for (kubectl get podmetrics), with
// metrics-server's columns.
func writeMetrics(c echo.Context, v any) error {
	if negotiate(c, true) != outputTable {
		return writeFormatted(c, http.StatusOK, v)
	}
	inc, err := tables.ParseInclude(c.QueryParam("includeObject"))
	if err != nil {
		return errBadRequest("%v", err)
	}
	t := &tables.Table{
		TypeMeta: types.TypeMeta{Kind: "Table", APIVersion: "meta.k8s.io/v1"},
		ColumnDefinitions: []tables.ColumnDefinition{
			{Name: "Name", Type: "string", Format: "name", Description: "Name of the resource"},
			{Name: "CPU", Type: "string", Description: "CPU usage"},
			{Name: "Memory", Type: "string", Description: "Memory usage"},
			{Name: "Window", Type: "string", Description: "Interval over which metrics are reported"},
		},
		Rows: []tables.Row{},
	}
	add := func(obj types.Object, usage types.ResourceList, window types.Duration) error {
		cpu, mem := usage[types.ResourceCPU], usage[types.ResourceMemory]
		row := tables.Row{Cells: []any{obj.GetObjectMeta().Name, cpu.String(), mem.String(), window.Duration.String()}}
		var raw any
		switch inc {
		case tables.IncludeObject:
			raw = obj
		case tables.IncludeMetadata:
			raw = map[string]any{"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.GetObjectMeta()}
		}
		if raw != nil {
			data, err := json.Marshal(raw)
			if err != nil {
				return fmt.Errorf("table row of %q: %w", obj.GetObjectMeta().Name, err)
			}
			row.Object = data
		}
		t.Rows = append(t.Rows, row)
		return nil
	}
	switch v := v.(type) {
	case *types.PodMetrics:
		err = add(v, v.Total(), v.Window)
	case *types.NodeMetrics:
		err = add(v, v.Usage, v.Window)
	case *types.PodMetricsList:
		t.ListMeta = v.ListMeta
		for i := range v.Items {
			if err = add(&v.Items[i], v.Items[i].Total(), v.Items[i].Window); err != nil {
				break
			}
		}
	case *types.NodeMetricsList:
		t.ListMeta = v.ListMeta
		for i := range v.Items {
			if err = add(&v.Items[i], v.Items[i].Usage, v.Items[i].Window); err != nil {
				break
			}
		}
	}
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, t)
}
