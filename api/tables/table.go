// Package tables prints objects the way kubectl shows them: as
// meta.k8s.io/v1 Tables (server-side printing), with the columns and cell
// values of Kubernetes' own printers for each kind.
//
// The API server answers a Table when a client asks for one in Accept
// (`application/json;as=Table;v=v1;g=meta.k8s.io`, as kubectl get does).
// Every row carries the wide cells; columns with Priority 1 are the ones
// kubectl shows only with -o wide.
package tables

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/wharfhq/wharf/api/types"
)

// Table is a meta.k8s.io/v1 Table.
type Table struct {
	types.TypeMeta    `json:",inline"`
	types.ListMeta    `json:"metadata"`
	ColumnDefinitions []ColumnDefinition `json:"columnDefinitions"`
	Rows              []Row              `json:"rows"`
}

// ColumnDefinition describes one column.
type ColumnDefinition struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Format      string `json:"format"`
	Description string `json:"description"`
	// Priority 0 columns are always shown, higher ones only in wide output.
	Priority int32 `json:"priority"`
}

// Row is one object's row.
type Row struct {
	// Cells are strings, integers (int64) or booleans, one per column.
	Cells      []any          `json:"cells"`
	Conditions []RowCondition `json:"conditions,omitempty"`
	// Object is the object's metadata (PartialObjectMetadata), the whole
	// object, or absent, as the request's includeObject asked.
	Object json.RawMessage `json:"object,omitempty"`
}

// RowCondition is a condition of a row (Completed, for finished Pods).
type RowCondition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// Include says what each row's object holds (the includeObject query
// parameter).
type Include string

// Include policies.
const (
	IncludeNone     Include = "None"
	IncludeMetadata Include = "Metadata"
	IncludeObject   Include = "Object"
)

// ParseInclude reads an includeObject parameter; "" is Metadata.
func ParseInclude(s string) (Include, error) {
	switch Include(s) {
	case "":
		return IncludeMetadata, nil
	case IncludeNone, IncludeMetadata, IncludeObject:
		return Include(s), nil
	}
	return "", fmt.Errorf("invalid includeObject %q: want None, Metadata or Object", s)
}

// partialObjectMetadata is the row object of IncludeMetadata.
type partialObjectMetadata struct {
	types.TypeMeta `json:",inline"`
	Metadata       *types.ObjectMeta `json:"metadata"`
}

// New prints objs, all of the given kind, as a Table; now is the time ages
// are computed against.
func New(kind string, objs []types.Object, now time.Time, include Include, lm types.ListMeta) (*Table, error) {
	p := printerFor(kind)
	t := &Table{
		TypeMeta:          types.TypeMeta{Kind: "Table", APIVersion: "meta.k8s.io/v1"},
		ListMeta:          lm,
		ColumnDefinitions: p.columns,
		Rows:              make([]Row, 0, len(objs)),
	}
	for _, obj := range objs {
		row := Row{Cells: p.cells(obj, now)}
		if pod, ok := obj.(*types.Pod); ok {
			row.Conditions = podRowConditions(pod)
		}
		var raw any
		switch include {
		case IncludeObject:
			raw = obj
		case IncludeMetadata, "":
			raw = partialObjectMetadata{
				TypeMeta: types.TypeMeta{Kind: "PartialObjectMetadata", APIVersion: "meta.k8s.io/v1"},
				Metadata: obj.GetObjectMeta(),
			}
		}
		if raw != nil {
			data, err := json.Marshal(raw)
			if err != nil {
				return nil, fmt.Errorf("table row of %s %q: %w", kind, obj.GetObjectMeta().Name, err)
			}
			row.Object = data
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

// Columns returns the column definitions of kind.
func Columns(kind string) []ColumnDefinition {
	return append([]ColumnDefinition(nil), printerFor(kind).columns...)
}

// Cells returns the cells of obj's row, ages computed against now.
func Cells(obj types.Object, now time.Time) []any {
	return printerFor(obj.GetTypeMeta().Kind).cells(obj, now)
}

// printer prints one kind.
type printer struct {
	columns []ColumnDefinition
	cells   func(obj types.Object, now time.Time) []any
}

func printerFor(kind string) printer {
	if p, ok := printers[kind]; ok {
		return p
	}
	return printer{
		columns: []ColumnDefinition{nameColumn, ageColumn},
		cells: func(obj types.Object, now time.Time) []any {
			m := obj.GetObjectMeta()
			return []any{m.Name, Age(m.CreationTimestamp, now)}
		},
	}
}

// Column descriptions shared by every kind.
var (
	nameColumn = ColumnDefinition{Name: "Name", Type: "string", Format: "name",
		Description: "Name must be unique within a namespace. It is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically."}
	ageColumn = ColumnDefinition{Name: "Age", Type: "string",
		Description: "CreationTimestamp is a timestamp representing the server time when this object was created."}
)

func col(name, typ, desc string) ColumnDefinition {
	return ColumnDefinition{Name: name, Type: typ, Description: desc}
}

func wide(name, typ, desc string) ColumnDefinition {
	return ColumnDefinition{Name: name, Type: typ, Description: desc, Priority: 1}
}

// Age formats the time since ts as kubectl does ("<unknown>" when unset).
func Age(ts types.Time, now time.Time) string {
	if ts.IsZero() {
		return "<unknown>"
	}
	return HumanDuration(now.Sub(ts.Time))
}

// HumanDuration formats d as Kubernetes' duration.HumanDuration: the two
// most significant units, coarser as d grows ("45s", "3m20s", "5h", "2d3h",
// "400d", "3y20d").
func HumanDuration(d time.Duration) string {
	// Up to 2 seconds in the future counts as now (clock skew).
	if seconds := int(d.Seconds()); seconds < -1 {
		return "<invalid>"
	} else if seconds < 0 {
		return "0s"
	} else if seconds < 60*2 {
		return fmt.Sprintf("%ds", seconds)
	}
	minutes := int(d / time.Minute)
	if minutes < 10 {
		s := int(d/time.Second) % 60
		if s == 0 {
			return fmt.Sprintf("%dm", minutes)
		}
		return fmt.Sprintf("%dm%ds", minutes, s)
	} else if minutes < 60*3 {
		return fmt.Sprintf("%dm", minutes)
	}
	hours := int(d / time.Hour)
	switch {
	case hours < 8:
		m := int(d/time.Minute) % 60
		if m == 0 {
			return fmt.Sprintf("%dh", hours)
		}
		return fmt.Sprintf("%dh%dm", hours, m)
	case hours < 48:
		return fmt.Sprintf("%dh", hours)
	case hours < 24*8:
		h := hours % 24
		if h == 0 {
			return fmt.Sprintf("%dd", hours/24)
		}
		return fmt.Sprintf("%dd%dh", hours/24, h)
	case hours < 24*365*2:
		return fmt.Sprintf("%dd", hours/24)
	case hours < 24*365*8:
		dy := (hours / 24) % 365
		if dy == 0 {
			return fmt.Sprintf("%dy", hours/24/365)
		}
		return fmt.Sprintf("%dy%dd", hours/24/365, dy)
	}
	return fmt.Sprintf("%dy", hours/24/365)
}
