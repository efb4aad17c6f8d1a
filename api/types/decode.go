package types

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	"sigs.k8s.io/yaml"
)

// Decoding errors; wrapped with the details (field path, kind).
var (
	// ErrUnknownKind: apiVersion and kind name no registered resource.
	ErrUnknownKind = errors.New("unknown kind")
	// ErrUnknownField: the document has a field Wharf does not support.
	ErrUnknownField = errors.New("unknown field")
	// ErrDuplicateField: a field appears twice in one object.
	ErrDuplicateField = errors.New("duplicate field")
	// ErrMalformed: the document is not valid JSON or YAML, or a value has
	// the wrong type.
	ErrMalformed = errors.New("malformed document")
	// ErrIsList: Decode was given a List; use DecodeAll.
	ErrIsList = errors.New("document is a list")
)

// Decode reads one JSON or YAML document, finds the resource its
// apiVersion and kind name, and decodes it strictly: an unknown field
// (named with its full path, e.g. `unknown field
// "spec.containers[0].imagePullPolicyy"`) or a duplicate field is an error.
// A List is an error wrapping ErrIsList; DecodeAll expands lists.
func Decode(data []byte) (Object, error) {
	j, tree, err := parseDocument(data)
	if err != nil {
		return nil, err
	}
	return decodeTree(j, tree)
}

// DecodeInto decodes one JSON or YAML document strictly into obj. The
// document's apiVersion and kind may be empty; if set, and obj's type is a
// registered kind, they must match it.
func DecodeInto(data []byte, obj Object) error {
	j, tree, err := parseDocument(data)
	if err != nil {
		return err
	}
	if r, ok := ResourceForObject(obj); ok {
		m, _ := tree.(map[string]any)
		apiVersion, _ := m["apiVersion"].(string)
		kind, _ := m["kind"].(string)
		if (kind != "" && kind != r.Kind) || (apiVersion != "" && apiVersion != r.APIVersion()) {
			return fmt.Errorf("document is %s %s, want %s %s: %w", apiVersion, kind, r.APIVersion(), r.Kind, ErrUnknownKind)
		}
	}
	return decodeStrict(j, tree, obj)
}

// UnmarshalStrict decodes one JSON or YAML document strictly into v, a
// pointer to any Go value (DeleteOptions, Scale, a patch body ...).
func UnmarshalStrict(data []byte, v any) error {
	j, tree, err := parseDocument(data)
	if err != nil {
		return err
	}
	return decodeStrict(j, tree, v)
}

// DecodeAll decodes every document of a multi-document YAML file or JSON
// stream (see SplitDocuments), expanding lists (kind List, or any kind
// ending in "List" with items) into their items, as kubectl apply does.
func DecodeAll(data []byte) ([]Object, error) {
	docs, err := SplitDocuments(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var out []Object
	for i, d := range docs {
		j, tree, err := parseDocument(d)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		objs, err := decodeExpand(j, tree, "")
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		out = append(out, objs...)
	}
	return out, nil
}

// decodeExpand decodes tree, or the items of a list, recursively.
func decodeExpand(j []byte, tree any, prefix string) ([]Object, error) {
	m, _ := tree.(map[string]any)
	if kind, _ := m["kind"].(string); strings.HasSuffix(kind, "List") {
		if _, ok := ResourceForKind(stringOf(m["apiVersion"]), kind); !ok {
			items, ok := m["items"].([]any)
			if !ok && m["items"] != nil {
				return nil, fmt.Errorf("%sitems: not a list: %w", prefix, ErrMalformed)
			}
			for k := range m {
				switch k {
				case "apiVersion", "kind", "metadata", "items":
				default:
					return nil, fmt.Errorf("unknown field %q: %w", prefix+k, ErrUnknownField)
				}
			}
			var out []Object
			for i, it := range items {
				ij, err := json.Marshal(it)
				if err != nil {
					return nil, fmt.Errorf("%sitems[%d]: %w", prefix, i, ErrMalformed)
				}
				objs, err := decodeExpand(ij, it, fmt.Sprintf("%sitems[%d].", prefix, i))
				if err != nil {
					return nil, err
				}
				out = append(out, objs...)
			}
			return out, nil
		}
	}
	obj, err := decodeTree(j, tree)
	if err != nil {
		if prefix != "" {
			return nil, fmt.Errorf("%s: %w", strings.TrimSuffix(prefix, "."), err)
		}
		return nil, err
	}
	return []Object{obj}, nil
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

// decodeTree decodes a parsed document into a new object of its kind.
func decodeTree(j []byte, tree any) (Object, error) {
	m, ok := tree.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("document is not an object: %w", ErrMalformed)
	}
	apiVersion, _ := m["apiVersion"].(string)
	kind, _ := m["kind"].(string)
	if apiVersion == "" || kind == "" {
		return nil, fmt.Errorf("document has no apiVersion or kind (apiVersion %q, kind %q): %w", apiVersion, kind, ErrMalformed)
	}
	r, ok := ResourceForKind(apiVersion, kind)
	if !ok {
		if strings.HasSuffix(kind, "List") {
			if _, isList := m["items"]; isList {
				return nil, fmt.Errorf("%s %s: %w; decode it with DecodeAll", apiVersion, kind, ErrIsList)
			}
		}
		return nil, unknownKindError(apiVersion, kind)
	}
	obj := r.New()
	if err := decodeStrict(j, tree, obj); err != nil {
		name, _ := m["metadata"].(map[string]any)
		if n, _ := name["name"].(string); n != "" {
			return nil, fmt.Errorf("%s %q: %w", kind, n, err)
		}
		return nil, fmt.Errorf("%s: %w", kind, err)
	}
	return obj, nil
}

// unknownKindError says what is supported, and which apiVersion to use if
// only the version was wrong.
func unknownKindError(apiVersion, kind string) error {
	var same []string
	var all []string
	for _, r := range Resources() {
		all = append(all, r.APIVersion()+" "+r.Kind)
		if r.Kind == kind {
			same = append(same, r.APIVersion())
		}
	}
	if len(same) > 0 {
		return fmt.Errorf("kind %s is not served in apiVersion %q; use apiVersion %s: %w",
			kind, apiVersion, strings.Join(same, " or "), ErrUnknownKind)
	}
	sort.Strings(all)
	return fmt.Errorf("apiVersion %q, kind %q is not supported; Wharf supports: %s: %w",
		apiVersion, kind, strings.Join(all, ", "), ErrUnknownKind)
}

// parseDocument turns a JSON or YAML document into JSON bytes and a
// generic tree (map[string]any, []any, json.Number, string, bool, nil),
// rejecting duplicate keys.
func parseDocument(data []byte) ([]byte, any, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, nil, fmt.Errorf("empty document: %w", ErrMalformed)
	}
	j := trimmed
	if trimmed[0] != '{' && trimmed[0] != '[' {
		if docs, err := splitYAML(data); err == nil && len(docs) > 1 {
			return nil, nil, fmt.Errorf("%d YAML documents where one was expected; use DecodeAll: %w", len(docs), ErrMalformed)
		}
		var err error
		j, err = yaml.YAMLToJSONStrict(data)
		if err != nil {
			if strings.Contains(err.Error(), "already set in map") {
				return nil, nil, fmt.Errorf("%v: %w", err, ErrDuplicateField)
			}
			return nil, nil, fmt.Errorf("%v: %w", err, ErrMalformed)
		}
	}
	tree, err := parseJSONTree(j)
	if err != nil {
		if errors.Is(err, ErrDuplicateField) || trimmed[0] != '{' {
			return nil, nil, err
		}
		// "{...}" may still be YAML flow style.
		yj, yerr := yaml.YAMLToJSONStrict(data)
		if yerr != nil {
			return nil, nil, err
		}
		tree, yerr = parseJSONTree(yj)
		if yerr != nil {
			return nil, nil, err
		}
		j = yj
	}
	return j, tree, nil
}

// parseJSONTree parses one JSON value into a generic tree, rejecting
// duplicate object keys (encoding/json would silently keep the last one).
func parseJSONTree(j []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(j))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("%v: %w", err, ErrMalformed)
	}
	if len(bytes.TrimSpace(j[d.InputOffset():])) > 0 {
		return nil, fmt.Errorf("trailing data after the document: %w", ErrMalformed)
	}
	s := dupScanner{b: j}
	if err := s.value(); err != nil {
		return nil, err
	}
	return v, nil
}

// dupScanner finds duplicate object keys in JSON already known to be
// valid. It is a byte scanner rather than a json.Decoder.Token loop, which
// allocates per token and made strict decoding several times slower.
type dupScanner struct {
	b    []byte
	i    int
	path []string // keys and "[i]" segments down to the current value
}

func (s *dupScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

func (s *dupScanner) value() error {
	s.ws()
	if s.i >= len(s.b) {
		return nil
	}
	switch s.b[s.i] {
	case '{':
		return s.object()
	case '[':
		return s.array()
	case '"':
		s.skipString()
	default:
		for s.i < len(s.b) && !bytes.ContainsRune([]byte(",}] \t\r\n"), rune(s.b[s.i])) {
			s.i++
		}
	}
	return nil
}

// skipString moves past the string starting at s.i.
func (s *dupScanner) skipString() {
	s.i++
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			s.i += 2
		case '"':
			s.i++
			return
		default:
			s.i++
		}
	}
}

func (s *dupScanner) object() error {
	s.i++
	var small []string
	var large map[string]bool
	for {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] == '}' {
			s.i++
			return nil
		}
		if s.b[s.i] == ',' {
			s.i++
			s.ws()
		}
		start := s.i
		s.skipString()
		raw := s.b[start:s.i]
		var key string
		if bytes.IndexByte(raw, '\\') >= 0 {
			_ = json.Unmarshal(raw, &key) // valid JSON: cannot fail
		} else {
			key = string(raw[1 : len(raw)-1])
		}
		dup := false
		if large != nil {
			dup = large[key]
			large[key] = true
		} else {
			for _, k := range small {
				dup = dup || k == key
			}
			small = append(small, key)
			if len(small) > 16 {
				large = make(map[string]bool, 32)
				for _, k := range small {
					large[k] = true
				}
			}
		}
		if dup {
			return fmt.Errorf("duplicate field %q: %w", pathString(append(s.path, key)), ErrDuplicateField)
		}
		s.ws()
		s.i++ // ':'
		s.path = append(s.path, key)
		if err := s.value(); err != nil {
			return err
		}
		s.path = s.path[:len(s.path)-1]
	}
}

func (s *dupScanner) array() error {
	s.i++
	for n := 0; ; n++ {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] == ']' {
			s.i++
			return nil
		}
		if s.b[s.i] == ',' {
			s.i++
		}
		s.path = append(s.path, "["+strconv.Itoa(n)+"]")
		if err := s.value(); err != nil {
			return err
		}
		s.path = s.path[:len(s.path)-1]
	}
}

// pathString joins path segments: "spec", "containers", "[0]", "name"
// becomes "spec.containers[0].name".
func pathString(segs []string) string {
	var b strings.Builder
	for i, seg := range segs {
		if i > 0 && !strings.HasPrefix(seg, "[") {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	return b.String()
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// decodeStrict checks tree against v's type, then decodes j into v.
func decodeStrict(j []byte, tree any, v any) error {
	var unknown []string
	checkFields(tree, reflect.TypeOf(v), make([]string, 0, 16), &unknown)
	if len(unknown) > 0 {
		sort.Strings(unknown)
		msgs := make([]string, len(unknown))
		for i, p := range unknown {
			msgs[i] = fmt.Sprintf("unknown field %q", p)
			if unsupportedKubernetesFields[p[strings.LastIndexAny(p, ".]")+1:]] {
				msgs[i] += " (a Kubernetes field Wharf does not support)"
			}
		}
		return fmt.Errorf("%s: %w", strings.Join(msgs, ", "), ErrUnknownField)
	}
	if err := json.Unmarshal(j, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			if te.Field != "" {
				return fmt.Errorf("field %q: cannot use JSON %s as %s: %w", te.Field, te.Value, te.Type, ErrMalformed)
			}
			return fmt.Errorf("cannot use JSON %s as %s: %w", te.Value, te.Type, ErrMalformed)
		}
		return fmt.Errorf("%w: %w", err, ErrMalformed)
	}
	return nil
}

// unsupportedKubernetesFields are Kubernetes fields users meet often that
// Wharf leaves out on purpose; the unknown-field error says so.
var unsupportedKubernetesFields = map[string]bool{
	"persistentVolumeClaim": true, "volumeClaimTemplates": true, "podFailurePolicy": true,
	"ephemeralContainers": true, "seccompProfile": true, "serviceAccountToken": true,
	"hostAliases": true, "dnsConfig": true, "hostPID": true, "hostIPC": true, "shareProcessNamespace": true,
	"nfs": true, "csi": true, "grpc": true, "persistentVolumeClaimRetentionPolicy": true,
	"resizePolicy": true, "restartPolicyRules": true, "schedulingGates": true, "resourceClaims": true,
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	fieldCache      sync.Map // reflect.Type -> map[string]reflect.Type
)

// jsonFields returns the JSON field names of struct type t with their
// types, following encoding/json's rules for embedded structs.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					if _, shadowed := fields[k]; !shadowed {
						fields[k] = v
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fields[name] = f.Type
	}
	fieldCache.Store(t, fields)
	return fields
}

// leafTypes caches whether a type decodes itself (json.Unmarshaler), so
// the walk stops there (reflect.Type -> bool).
var leafTypes sync.Map

func isLeaf(t reflect.Type) bool {
	if v, ok := leafTypes.Load(t); ok {
		return v.(bool)
	}
	leaf := t.Implements(jsonUnmarshaler) || (t.Kind() != reflect.Pointer && reflect.PointerTo(t).Implements(jsonUnmarshaler))
	leafTypes.Store(t, leaf)
	return leaf
}

// checkFields walks tree against type t and appends the path of every
// object key t has no field for; path holds the segments down to tree.
// Type mismatches are left to encoding/json.
func checkFields(tree any, t reflect.Type, path []string, unknown *[]string) {
	for {
		if isLeaf(t) {
			return
		}
		if t.Kind() != reflect.Pointer {
			break
		}
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := tree.(map[string]any)
		if !ok {
			return
		}
		fields := jsonFields(t)
		for k, v := range m {
			ft, ok := fields[k]
			if !ok {
				*unknown = append(*unknown, pathString(append(path, k)))
				continue
			}
			checkFields(v, ft, append(path, k), unknown)
		}
	case reflect.Slice, reflect.Array:
		a, ok := tree.([]any)
		if !ok {
			return
		}
		for i, e := range a {
			if _, isObj := e.(map[string]any); isObj || t.Elem().Kind() != reflect.String {
				checkFields(e, t.Elem(), append(path, "["+strconv.Itoa(i)+"]"), unknown)
			}
		}
	case reflect.Map:
		m, ok := tree.(map[string]any)
		if !ok {
			return
		}
		for k, v := range m {
			checkFields(v, t.Elem(), append(path, "["+k+"]"), unknown)
		}
	}
}

// SplitDocuments splits a multi-document YAML file (documents separated by
// "---" lines) or a stream of JSON values into documents, skipping empty
// ones (only whitespace and comments).
func SplitDocuments(r io.Reader) ([][]byte, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read documents: %w", err)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		if docs, err := splitJSON(trimmed); err == nil {
			return docs, nil
		}
		// Not a JSON stream: YAML flow style, split as YAML.
	}
	return splitYAML(data)
}

func splitJSON(data []byte) ([][]byte, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	var docs [][]byte
	for {
		var raw json.RawMessage
		err := d.Decode(&raw)
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, []byte(raw))
	}
}

func splitYAML(data []byte) ([][]byte, error) {
	var docs [][]byte
	var cur bytes.Buffer
	flush := func() {
		if !emptyYAML(cur.Bytes()) {
			docs = append(docs, bytes.Clone(cur.Bytes()))
		}
		cur.Reset()
	}
	br := bufio.NewReader(bytes.NewReader(data))
	for {
		line, err := br.ReadString('\n')
		if rest, ok := separator(line); ok {
			flush()
			cur.WriteString(rest)
		} else {
			cur.WriteString(line)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read documents: %w", err)
		}
	}
	flush()
	return docs, nil
}

// separator reports whether line is a YAML document separator ("---",
// alone or followed by a blank and the start of the document) or a
// document end marker ("..."), and returns what follows the marker.
func separator(line string) (string, bool) {
	l := strings.TrimRight(line, " \t\r\n")
	if l == "..." {
		return "", true
	}
	rest, ok := strings.CutPrefix(l, "---")
	if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
		return "", false
	}
	rest = strings.TrimSpace(rest)
	if rest == "" || rest[0] == '#' {
		return "", true
	}
	return rest + "\n", true
}

// emptyYAML reports whether a document holds only whitespace and comments.
func emptyYAML(doc []byte) bool {
	for line := range bytes.SplitSeq(doc, []byte("\n")) {
		l := bytes.TrimSpace(line)
		if len(l) > 0 && l[0] != '#' {
			return false
		}
	}
	return true
}
