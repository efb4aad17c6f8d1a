package server

import (
	"github.com/labstack/echo/v4"

	"github.com/wharfhq/wharf/api/tables"
	"github.com/wharfhq/wharf/api/types"
)

// table prints objs of ri's resource as a meta.k8s.io/v1 Table, as
// kubectl get asks for, honouring the request's includeObject parameter.
func (s *Server) table(c echo.Context, ri *requestInfo, objs []types.Object, lm types.ListMeta) (*tables.Table, error) {
	return s.tableFor(ri, objs, lm, c.QueryParam("includeObject"))
}

// tableFor prints objs (of the stored version) of ri's resource as a
// Table; includeObject is the raw query parameter (None, Metadata or
// Object; Metadata when empty). Whole objects are in ri's version.
func (s *Server) tableFor(ri *requestInfo, objs []types.Object, lm types.ListMeta, includeObject string) (*tables.Table, error) {
	inc, err := tables.ParseInclude(includeObject)
	if err != nil {
		return nil, errBadRequest("%v", err)
	}
	t, err := tables.New(ri.Resource.Kind, objs, s.cfg.Now(), inc, lm)
	if err != nil || inc != tables.IncludeObject || ri.Conv == nil {
		return t, err
	}
	return t, servedRowObjects(ri, t, objs)
}
