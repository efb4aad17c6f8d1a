package sdk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/wharfhq/wharf/api/types"
)

// Table is a meta.k8s.io/v1 Table: the server's printed form of objects,
// as kubectl shows them.
type Table struct {
	types.TypeMeta    `json:",inline"`
	types.ListMeta    `json:"metadata,omitempty"`
	ColumnDefinitions []TableColumnDefinition `json:"columnDefinitions"`
	Rows              []TableRow              `json:"rows"`
}

// TableColumnDefinition describes one column. Columns with Priority > 0
// are shown only in wide output.
type TableColumnDefinition struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Format      string `json:"format"`
	Description string `json:"description"`
	Priority    int32  `json:"priority"`
}

// TableRow is one object's row. Object holds the object's metadata
// (PartialObjectMetadata) or the whole object.
type TableRow struct {
	Cells      []any           `json:"cells"`
	Conditions []any           `json:"conditions,omitempty"`
	Object     json.RawMessage `json:"object,omitempty"`
}

// RowMeta decodes the metadata of the row's object (name, namespace, ...).
func (r *TableRow) RowMeta() (types.ObjectMeta, error) {
	var partial struct {
		Metadata types.ObjectMeta `json:"metadata"`
	}
	if len(r.Object) == 0 {
		return partial.Metadata, nil
	}
	if err := json.Unmarshal(r.Object, &partial); err != nil {
		return partial.Metadata, fmt.Errorf("decode table row object: %w", err)
	}
	return partial.Metadata, nil
}

// Table returns the server's table for the named object, or for the
// objects the options select when name is "".
func (r *ResourceClient) Table(ctx context.Context, name string, opts ListOptions) (*Table, error) {
	p := r.basePath(r.ns)
	if name != "" {
		var err error
		if p, err = r.objectPath(name, ""); err != nil {
			return nil, err
		}
	}
	var t Table
	req := request{method: http.MethodGet, path: p, query: opts.query(), accept: acceptTable}
	if err := r.c.doInto(ctx, req, &t); err != nil {
		return nil, err
	}
	if t.Kind != "Table" {
		return nil, fmt.Errorf("%s: the server answered a %q, not a Table", r.res.Name, t.Kind)
	}
	return &t, nil
}

// WatchTable is Watch with each event's object printed by the server as a
// one-row Table (the first event's table carries the column definitions).
func (r *ResourceClient) WatchTable(ctx context.Context, opts ListOptions) (*Watcher[*Table], error) {
	return startWatch(ctx, r.c, r.watchRequest(opts, acceptTable), decodeTable)
}

func decodeTable(b []byte) (*Table, error) {
	var t Table
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("decode table: %w", err)
	}
	return &t, nil
}
