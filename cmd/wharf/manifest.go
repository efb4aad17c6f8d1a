package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/wharfhq/wharf/api/types"
)

// manifest is one object read from a file: its strictly decoded form (so
// typos are caught before anything is sent) and the document as written,
// which apply merges over the live object.
type manifest struct {
	source string
	res    *types.Resource
	obj    types.Object
	// doc is the document as JSON, without null values (a null in a
	// manifest means "not set", not "remove").
	doc map[string]any
}

// namespace is the manifest's namespace, or --namespace when it has none
// ("" for cluster-scoped kinds).
func (m *manifest) namespace(a *app) string {
	if !m.res.Namespaced {
		return ""
	}
	if ns := m.obj.GetObjectMeta().Namespace; ns != "" {
		return ns
	}
	return a.namespace
}

// readManifests reads every document of the files, directories (their
// .yaml, .yml and .json files) and "-" (stdin) given.
func readManifests(a *app, paths []string, recursive bool) ([]*manifest, error) {
	var out []*manifest
	for _, p := range paths {
		if p == "-" {
			data, err := io.ReadAll(a.in)
			if err != nil {
				return nil, fmt.Errorf("read stdin: %w", err)
			}
			ms, err := decodeManifests("<stdin>", data)
			if err != nil {
				return nil, err
			}
			out = append(out, ms...)
			continue
		}
		files, err := manifestFiles(p, recursive)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			ms, err := decodeManifests(f, data)
			if err != nil {
				return nil, err
			}
			out = append(out, ms...)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no objects found in %s", strings.Join(paths, ", "))
	}
	if a.namespaceSet {
		for _, m := range out {
			if ns := m.obj.GetObjectMeta().Namespace; m.res.Namespaced && ns != "" && ns != a.namespace {
				return nil, fmt.Errorf("%s: the namespace of %s %q is %q, not %q as --namespace says; pass --namespace=%s or leave --namespace out",
					m.source, kindName(m.res), m.obj.GetObjectMeta().Name, ns, a.namespace, ns)
			}
		}
	}
	return out, nil
}

// manifestFiles lists path itself, or the manifest files of a directory.
func manifestFiles(path string, recursive bool) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != path && !recursive {
				return fs.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".yaml", ".yml", ".json":
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	return files, nil
}

// decodeManifests splits data into documents and decodes each, expanding
// lists (kind List, or any "...List" with items) into their items.
func decodeManifests(source string, data []byte) ([]*manifest, error) {
	docs, err := types.SplitDocuments(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	var out []*manifest
	for i, d := range docs {
		where := source
		if len(docs) > 1 {
			where = fmt.Sprintf("%s (document %d)", source, i+1)
		}
		j, err := yaml.YAMLToJSON(d)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		var tree map[string]any
		if err := json.Unmarshal(j, &tree); err != nil {
			return nil, fmt.Errorf("%s: not an object: %w", where, err)
		}
		ms, err := decodeTree(where, tree)
		if err != nil {
			return nil, err
		}
		out = append(out, ms...)
	}
	return out, nil
}

func decodeTree(where string, tree map[string]any) ([]*manifest, error) {
	kind, _ := tree["kind"].(string)
	apiVersion, _ := tree["apiVersion"].(string)
	if _, registered := types.ResourceForKind(apiVersion, kind); !registered && strings.HasSuffix(kind, "List") {
		items, _ := tree["items"].([]any)
		var out []*manifest
		for i, it := range items {
			m, ok := it.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: items[%d] is not an object", where, i)
			}
			ms, err := decodeTree(fmt.Sprintf("%s items[%d]", where, i), m)
			if err != nil {
				return nil, err
			}
			out = append(out, ms...)
		}
		return out, nil
	}
	j, err := json.Marshal(tree)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if res, conv, ok := servedConversion(apiVersion, kind); ok {
		return decodeConverted(where, j, res, conv)
	}
	obj, err := types.Decode(j)
	if err != nil {
		if errors.Is(err, types.ErrUnknownField) {
			// The message already says "unknown field ..."; don't end it
			// with the sentinel's text a second time.
			msg := strings.TrimSuffix(err.Error(), ": "+types.ErrUnknownField.Error())
			return nil, rewordedError{msg: where + ": " + msg, err: err}
		}
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	res, ok := types.ResourceForObject(obj)
	if !ok {
		return nil, fmt.Errorf("%s: %s %s is not a stored kind", where, apiVersion, kind)
	}
	if obj.GetObjectMeta().Name == "" {
		return nil, fmt.Errorf("%s: %s has no metadata.name", where, kind)
	}
	return []*manifest{{source: where, res: res, obj: obj, doc: withoutNulls(tree)}}, nil
}

// servedConversion finds the resource and conversion when apiVersion is a
// version the API serves by converting to another one it stores
// (autoscaling/v1 HorizontalPodAutoscalers are stored as autoscaling/v2).
func servedConversion(apiVersion, kind string) (*types.Resource, *types.Conversion, bool) {
	group, version, ok := strings.Cut(apiVersion, "/")
	if !ok {
		group, version = "", apiVersion
	}
	for _, r := range types.Resources() {
		if r.Group != group || r.Kind != kind {
			continue
		}
		if c, ok := types.ConversionFor(r, version); ok {
			return r, c, true
		}
	}
	return nil, nil, false
}

// decodeConverted decodes a manifest of a converted version strictly in
// that version and applies it as the stored version, which is what the
// server would store had it been sent as it is (kubectl sends it to the
// version's own path); the last-applied record is the stored version's.
func decodeConverted(where string, j []byte, res *types.Resource, conv *types.Conversion) ([]*manifest, error) {
	in := conv.New()
	if err := types.DecodeInto(j, in); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if in.GetObjectMeta().Name == "" {
		return nil, fmt.Errorf("%s: %s has no metadata.name", where, res.Kind)
	}
	obj, err := conv.ToStored(in)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	// A manifest has no status; the converted object's empty one is not
	// part of what was applied.
	delete(doc, "status")
	if meta, _ := doc["metadata"].(map[string]any); meta != nil {
		if ann, _ := meta["annotations"].(map[string]any); len(ann) == 0 {
			delete(meta, "annotations")
		}
	}
	return []*manifest{{source: where, res: res, obj: obj, doc: withoutNulls(doc)}}, nil
}

// rewordedError is err with another message.
type rewordedError struct {
	msg string
	err error
}

func (e rewordedError) Error() string { return e.msg }
func (e rewordedError) Unwrap() error { return e.err }

// withoutNulls returns m without its null values, recursively in maps.
func withoutNulls(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case nil:
			continue
		case map[string]any:
			out[k] = withoutNulls(v)
		default:
			out[k] = v
		}
	}
	return out
}
