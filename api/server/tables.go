package server

import (
	"github.com/labstack/echo/v4"

	"github.com/wharfhq/wharf/api/tables"
	"github.com/wharfhq/wharf/api/types"
)

// table prints objs of r as a meta.k8s.io/v1 Table, as kubectl get asks
// for, honouring the request's includeObject parameter.
func (s *Server) table(c echo.Context, r *types.Resource, objs []types.Object, lm types.ListMeta) (*tables.Table, error) {
	return s.tableFor(r, objs, lm, c.QueryParam("includeObject"))
}

// tableFor prints objs of r as a Table; includeObject is the raw query
// parameter (None, Metadata or Object; Metadata when empty).
func (s *Server) tableFor(r *types.Resource, objs []types.Object, lm types.ListMeta, includeObject string) (*tables.Table, error) {
	inc, err := tables.ParseInclude(includeObject)
	if err != nil {
		return nil, errBadRequest("%v", err)
	}
	return tables.New(r.Kind, objs, s.cfg.Now(), inc, lm)
}
