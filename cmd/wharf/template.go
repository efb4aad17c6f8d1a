package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	// kubectl's own JSONPath implementation: the package and the fork of
	// text/template it parses with are all it brings in (go list -deps),
	// and it is the one way to accept exactly kubectl's template syntax.
	"k8s.io/client-go/util/jsonpath"

	"github.com/wharfhq/wharf/api/types"
)

// Template output formats of -o, each followed by "=" and its argument.
const (
	outputJSONPath          = "jsonpath"
	outputJSONPathFile      = "jsonpath-file"
	outputCustomColumns     = "custom-columns"
	outputCustomColumnsFile = "custom-columns-file"
)

// ErrBadTemplate is a -o jsonpath or custom-columns template that cannot
// be used.
var ErrBadTemplate = errors.New("bad output template")

// templatePrinter prints objects through a JSONPath template (-o
// jsonpath=...) or as custom columns (-o custom-columns=...), as kubectl.
type templatePrinter struct {
	// jsonPath and raw: the -o jsonpath template, and as given.
	jsonPath *jsonpath.JSONPath
	raw      string
	// columns: the -o custom-columns columns.
	columns   []customColumn
	noHeaders bool
	// headerDone: the columns' header is printed (once, watch included).
	headerDone bool
}

// customColumn is one column of -o custom-columns.
type customColumn struct {
	header string
	path   *jsonpath.JSONPath
}

// parseTemplateOutput parses a template -o value. It returns nil and no
// error when output is no template format.
func parseTemplateOutput(output string, noHeaders bool) (*templatePrinter, error) {
	format, arg, ok := strings.Cut(output, "=")
	switch format {
	case outputJSONPath, outputJSONPathFile, outputCustomColumns, outputCustomColumnsFile:
	default:
		return nil, nil
	}
	if !ok || arg == "" {
		return nil, fmt.Errorf("%w: -o %s needs a template: -o %s=...", ErrBadTemplate, format, format)
	}
	if format == outputJSONPathFile || format == outputCustomColumnsFile {
		b, err := os.ReadFile(arg)
		if err != nil {
			return nil, fmt.Errorf("read the template of -o %s: %w", format, err)
		}
		arg = string(b)
	}
	p := &templatePrinter{noHeaders: noHeaders}
	var err error
	switch format {
	case outputJSONPath, outputJSONPathFile:
		p.raw = arg
		p.jsonPath = jsonpath.New("out").AllowMissingKeys(true) // kubectl's --allow-missing-template-keys default
		if err := p.jsonPath.Parse(arg); err != nil {
			return nil, fmt.Errorf("%w: error parsing jsonpath %s: %v", ErrBadTemplate, arg, err)
		}
	case outputCustomColumns:
		p.columns, err = columnsFromSpec(arg)
	case outputCustomColumnsFile:
		p.columns, err = columnsFromFile(arg)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// columnsFromSpec parses HEADER:PATH,HEADER:PATH (kubectl's
// NewCustomColumnsPrinterFromSpec).
func columnsFromSpec(spec string) ([]customColumn, error) {
	var cols []customColumn
	for part := range strings.SplitSeq(spec, ",") {
		header, path, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("%w: custom-columns spec %q, expected HEADER:JSONPATH", ErrBadTemplate, part)
		}
		col, err := newColumn(len(cols), header, path)
		if err != nil {
			return nil, err
		}
		cols = append(cols, col)
	}
	return cols, nil
}

// columnsFromFile parses a custom-columns file: a line of headers, then a
// line of paths, separated by white space.
func columnsFromFile(text string) ([]customColumn, error) {
	sc := bufio.NewScanner(strings.NewReader(text))
	var lines [][]string
	for len(lines) < 2 && sc.Scan() {
		lines = append(lines, strings.Fields(sc.Text()))
	}
	if len(lines) < 2 {
		return nil, fmt.Errorf("%w: a custom-columns file has a line of headers, then a line of paths", ErrBadTemplate)
	}
	if len(lines[0]) != len(lines[1]) {
		return nil, fmt.Errorf("%w: custom-columns file: %d headers but %d paths", ErrBadTemplate, len(lines[0]), len(lines[1]))
	}
	cols := make([]customColumn, len(lines[0]))
	for i, header := range lines[0] {
		var err error
		if cols[i], err = newColumn(i, header, lines[1][i]); err != nil {
			return nil, err
		}
	}
	return cols, nil
}

// relaxedPath accepts a.b, .a.b, {a.b} and {.a.b}, as kubectl's
// RelaxedJSONPathExpression.
var relaxedPath = regexp.MustCompile(`^\{\.?([^{}]+)\}$|^\.?([^{}]+)$`)

func newColumn(i int, header, path string) (customColumn, error) {
	m := relaxedPath.FindStringSubmatch(path)
	if m == nil {
		return customColumn{}, fmt.Errorf("%w: custom column %s: path %q, expected a.b, .a.b, {a.b} or {.a.b}", ErrBadTemplate, header, path)
	}
	expr := m[1] + m[2] // one of the two is empty
	jp := jsonpath.New(fmt.Sprintf("column%d", i)).AllowMissingKeys(true)
	if err := jp.Parse("{." + expr + "}"); err != nil {
		return customColumn{}, fmt.Errorf("%w: custom column %s: %v", ErrBadTemplate, header, err)
	}
	return customColumn{header: header, path: jp}, nil
}

// print writes objs: a JSONPath template is executed on the object (one
// named object) or on a v1 List of them; custom columns print a row per
// object, the header first time.
func (p *templatePrinter) print(w io.Writer, objs []types.Object, single bool) error {
	if p.jsonPath != nil {
		data, err := unstructured(listOf(objs, single))
		if err != nil {
			return err
		}
		if err := p.jsonPath.Execute(w, data); err != nil {
			return fmt.Errorf("error executing jsonpath %q: %w", p.raw, err)
		}
		return nil
	}
	tw := newTabWriter(w)
	if !p.headerDone && !p.noHeaders {
		headers := make([]string, len(p.columns))
		for i, c := range p.columns {
			headers[i] = c.header
		}
		fmt.Fprintln(tw, strings.Join(headers, "\t"))
	}
	p.headerDone = true
	for _, obj := range objs {
		data, err := unstructured(obj)
		if err != nil {
			return err
		}
		cells := make([]string, len(p.columns))
		for i, c := range p.columns {
			results, err := c.path.FindResults(data)
			if err != nil {
				return fmt.Errorf("custom column %s: %w", c.header, err)
			}
			var values []string
			for _, r := range results {
				for _, v := range r {
					values = append(values, escapeTerminal(fmt.Sprint(v.Interface())))
				}
			}
			if len(values) == 0 {
				values = []string{"<none>"}
			}
			cells[i] = strings.Join(values, ",")
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// escapeTerminal keeps values from moving the cursor or changing the
// terminal, as kubectl's printers.EscapeTerminal.
func escapeTerminal(s string) string {
	return strings.NewReplacer("\x1b", "^[", "\r", `\r`).Replace(s)
}

// unstructured returns v as JSON's maps, slices and scalars, whole numbers
// as int64 (as kubectl's unstructured objects): "3", not "3e+00".
func unstructured(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode output: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("encode output: %w", err)
	}
	return numbers(tree), nil
}

// numbers replaces the json.Numbers of tree by int64 or float64.
func numbers(tree any) any {
	switch t := tree.(type) {
	case map[string]any:
		for k, v := range t {
			t[k] = numbers(v)
		}
	case []any:
		for i, v := range t {
			t[i] = numbers(v)
		}
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	}
	return tree
}
