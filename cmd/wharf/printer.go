package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"

	"sigs.k8s.io/yaml"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

// Output formats of -o.
const (
	outputTable = ""
	outputWide  = "wide"
	outputYAML  = "yaml"
	outputJSON  = "json"
	outputName  = "name"
)

func checkOutput(o string) error {
	switch o {
	case outputTable, outputWide, outputYAML, outputJSON, outputName:
		return nil
	}
	return fmt.Errorf("unknown output format %q: use wide, yaml, json, name, jsonpath=TEMPLATE, jsonpath-file=FILE, custom-columns=SPEC or custom-columns-file=FILE", o)
}

// newTabWriter aligns columns as kubectl does.
func newTabWriter(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 6, 4, 3, ' ', 0)
}

// tablePrinter prints server Tables as aligned columns. The header is
// printed once, with the first rows.
type tablePrinter struct {
	w             *tabwriter.Writer
	wide          bool
	withNamespace bool
	// kind, when set, prefixes names as "kind/name" (several types listed).
	kind string
	// blankFirst prints an empty line before the header (a table follows
	// another).
	blankFirst bool
	// showLabels adds a LABELS column; labelColumns adds a column per
	// label key (-L).
	showLabels   bool
	labelColumns []string
	columns      []int // indexes of the shown columns
	nameColumn   int   // index of the Name column, -1 if none
	headerDone   bool
}

// setColumns picks the columns to show from t's definitions (kept from the
// first table that has them).
func (p *tablePrinter) setColumns(t *sdk.Table) {
	if p.columns != nil || len(t.ColumnDefinitions) == 0 {
		return
	}
	p.columns = []int{}
	p.nameColumn = -1
	for i, c := range t.ColumnDefinitions {
		if strings.EqualFold(c.Name, "name") && p.nameColumn < 0 {
			p.nameColumn = i
		}
		if c.Priority == 0 || p.wide {
			p.columns = append(p.columns, i)
		}
	}
}

// print writes t's rows (and the header first time).
func (p *tablePrinter) print(t *sdk.Table) error {
	p.setColumns(t)
	if !p.headerDone && len(t.ColumnDefinitions) > 0 {
		if p.blankFirst {
			fmt.Fprintln(p.w)
		}
		var hdr []string
		if p.withNamespace {
			hdr = append(hdr, "NAMESPACE")
		}
		for _, i := range p.columns {
			hdr = append(hdr, strings.ToUpper(t.ColumnDefinitions[i].Name))
		}
		for _, key := range p.labelColumns {
			hdr = append(hdr, strings.ToUpper(key[strings.LastIndex(key, "/")+1:]))
		}
		if p.showLabels {
			hdr = append(hdr, "LABELS")
		}
		fmt.Fprintln(p.w, strings.Join(hdr, "\t"))
		p.headerDone = true
	}
	for _, row := range t.Rows {
		var (
			cells []string
			meta  types.ObjectMeta
		)
		if p.withNamespace || p.showLabels || len(p.labelColumns) > 0 {
			m, err := row.RowMeta()
			if err != nil {
				return err
			}
			meta = m
		}
		if p.withNamespace {
			cells = append(cells, meta.Namespace)
		}
		for _, i := range p.columns {
			var v any
			if i < len(row.Cells) {
				v = row.Cells[i]
			}
			cell := formatCell(v)
			if i == p.nameColumn && p.kind != "" {
				cell = p.kind + "/" + cell
			}
			cells = append(cells, cell)
		}
		for _, key := range p.labelColumns {
			cells = append(cells, meta.Labels[key]) // empty when unset, as kubectl
		}
		if p.showLabels {
			cells = append(cells, labelsString(meta.Labels))
		}
		fmt.Fprintln(p.w, strings.Join(cells, "\t"))
	}
	return p.w.Flush()
}

// labelsString prints labels as kubectl's LABELS column: sorted k=v
// pairs joined by commas, or <none>.
func labelsString(labels map[string]string) string {
	if len(labels) == 0 {
		return "<none>"
	}
	pairs := make([]string, 0, len(labels))
	for k, v := range labels {
		pairs = append(pairs, k+"="+v)
	}
	slices.Sort(pairs)
	return strings.Join(pairs, ",")
}

// formatCell prints one table cell as kubectl does.
func formatCell(v any) string {
	switch v := v.(type) {
	case nil:
		return "<none>"
	case string:
		return v
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			return fmt.Sprintf("%d", int64(v))
		}
		return fmt.Sprint(v)
	case bool:
		return fmt.Sprint(v)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = formatCell(e)
		}
		return strings.Join(parts, ",")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// kindName is how kubectl names a resource in messages and -o name:
// "pod", "deployment.apps".
func kindName(res *types.Resource) string {
	k := strings.ToLower(res.Kind)
	if res.Group != "" {
		k += "." + res.Group
	}
	return k
}

// objectName is "pod/web", "deployment.apps/web".
func objectName(res *types.Resource, name string) string {
	return kindName(res) + "/" + name
}

// printObjects writes objs as yaml, json or names. One object prints as
// itself, several as a v1 List, as kubectl does.
func printObjects(w io.Writer, res *types.Resource, objs []types.Object, output string, single bool) error {
	if output == outputName {
		for _, o := range objs {
			fmt.Fprintln(w, objectName(res, o.GetObjectMeta().Name))
		}
		return nil
	}
	return writeValue(w, listOf(objs, single), output)
}

// listOf is what kubectl prints for objs: one named object as itself,
// anything else as a v1 List.
func listOf(objs []types.Object, single bool) any {
	if single && len(objs) == 1 {
		return objs[0]
	}
	items := objs
	if items == nil {
		items = []types.Object{}
	}
	return struct {
		APIVersion string         `json:"apiVersion"`
		Kind       string         `json:"kind"`
		Items      []types.Object `json:"items"`
		Metadata   map[string]any `json:"metadata"`
	}{"v1", "List", items, map[string]any{"resourceVersion": ""}}
}

// writeValue writes v as indented JSON or as YAML, keys sorted as kubectl
// prints them.
func writeValue(w io.Writer, v any, output string) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	var tree any // through a map: sorted keys
	if err := json.Unmarshal(b, &tree); err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	if b, err = json.MarshalIndent(tree, "", "    "); err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	if output == outputYAML {
		if b, err = yaml.JSONToYAML(b); err != nil {
			return fmt.Errorf("encode output: %w", err)
		}
		_, err = w.Write(b)
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
