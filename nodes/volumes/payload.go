package volumes

import (
	"bytes"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/wharfhq/wharf/api/types"
)

// defaultMode is the file mode of projected keys when none is given.
const defaultMode = 0o644

// file is one file of a projected payload.
type file struct {
	data []byte
	mode os.FileMode
}

// payload computes the files of a configMap, secret, downwardAPI or
// projected volume.
func payload(pod *types.Pod, vs *types.VolumeSource, src Sources) (map[string]file, error) {
	out := map[string]file{}
	switch {
	case vs.ConfigMap != nil:
		c := vs.ConfigMap
		return out, addConfigMap(out, pod, c.Name, c.Items, modeOr(c.DefaultMode), c.Optional, src)
	case vs.Secret != nil:
		s := vs.Secret
		return out, addSecret(out, pod, s.SecretName, s.Items, modeOr(s.DefaultMode), s.Optional, src)
	case vs.DownwardAPI != nil:
		d := vs.DownwardAPI
		return out, addDownward(out, pod, d.Items, modeOr(d.DefaultMode), src)
	case vs.Projected != nil:
		def := modeOr(vs.Projected.DefaultMode)
		for _, p := range vs.Projected.Sources {
			var err error
			switch {
			case p.ConfigMap != nil:
				err = addConfigMap(out, pod, p.ConfigMap.Name, p.ConfigMap.Items, def, p.ConfigMap.Optional, src)
			case p.Secret != nil:
				err = addSecret(out, pod, p.Secret.Name, p.Secret.Items, def, p.Secret.Optional, src)
			case p.DownwardAPI != nil:
				err = addDownward(out, pod, p.DownwardAPI.Items, def, src)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func modeOr(m *int32) os.FileMode {
	if m == nil {
		return defaultMode
	}
	return os.FileMode(*m) & os.ModePerm
}

func isOptional(b *bool) bool { return b != nil && *b }

func addConfigMap(out map[string]file, pod *types.Pod, name string, items []types.KeyToPath, mode os.FileMode, opt *bool, src Sources) error {
	if src.ConfigMap == nil {
		return fmt.Errorf("configmap %q: no source: %w", name, ErrSourceMissing)
	}
	cm, err := src.ConfigMap(pod.Namespace, name)
	if err != nil {
		if isOptional(opt) {
			return nil
		}
		return fmt.Errorf("configmap %q not found: %w", name, ErrSourceMissing)
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	maps.Copy(data, cm.BinaryData)
	return addKeys(out, "configmap", name, data, items, mode, opt)
}

func addSecret(out map[string]file, pod *types.Pod, name string, items []types.KeyToPath, mode os.FileMode, opt *bool, src Sources) error {
	if src.Secret == nil {
		return fmt.Errorf("secret %q: no source: %w", name, ErrSourceMissing)
	}
	s, err := src.Secret(pod.Namespace, name)
	if err != nil {
		if isOptional(opt) {
			return nil
		}
		return fmt.Errorf("secret %q not found: %w", name, ErrSourceMissing)
	}
	return addKeys(out, "secret", name, s.Data, items, mode, opt)
}

// addKeys adds every key (or the listed items) of an object's data.
func addKeys(out map[string]file, kind, name string, data map[string][]byte, items []types.KeyToPath, mode os.FileMode, opt *bool) error {
	if len(items) == 0 {
		for k, v := range data {
			if err := put(out, k, v, mode); err != nil {
				return err
			}
		}
		return nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if isOptional(opt) {
				continue
			}
			return fmt.Errorf("%s %q: key %q not found: %w", kind, name, it.Key, ErrSourceMissing)
		}
		m := mode
		if it.Mode != nil {
			m = os.FileMode(*it.Mode) & os.ModePerm
		}
		if err := put(out, it.Path, v, m); err != nil {
			return err
		}
	}
	return nil
}

func addDownward(out map[string]file, pod *types.Pod, items []types.DownwardAPIVolumeFile, mode os.FileMode, src Sources) error {
	for _, it := range items {
		var v string
		var err error
		switch {
		case it.FieldRef != nil:
			v, err = FieldValue(pod, it.FieldRef.FieldPath, src.HostIP, src.PodIP)
		case it.ResourceFieldRef != nil:
			c := findContainer(pod, it.ResourceFieldRef.ContainerName)
			if c == nil {
				err = fmt.Errorf("resourceFieldRef: no container %q", it.ResourceFieldRef.ContainerName)
			} else {
				v, err = ResourceValue(c, it.ResourceFieldRef)
			}
		}
		if err != nil {
			return fmt.Errorf("downwardAPI %q: %w", it.Path, err)
		}
		m := mode
		if it.Mode != nil {
			m = os.FileMode(*it.Mode) & os.ModePerm
		}
		if err := put(out, it.Path, []byte(v), m); err != nil {
			return err
		}
	}
	return nil
}

func findContainer(pod *types.Pod, name string) *types.Container {
	for _, list := range [][]types.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

// put adds one file, refusing paths that would leave the volume.
func put(out map[string]file, path string, data []byte, mode os.FileMode) error {
	clean := filepath.Clean(path)
	if path == "" || filepath.IsAbs(path) || clean == "." || clean == ".." || strings.HasPrefix(clean, "..") {
		return fmt.Errorf("file path %q: must be relative, inside the volume and not start with \"..\"", path)
	}
	out[clean] = file{data: data, mode: mode}
	return nil
}

// FieldValue resolves a downward-API fieldPath of pod: metadata.name,
// metadata.namespace, metadata.uid, metadata.labels, metadata.annotations,
// metadata.labels['k'], metadata.annotations['k'], spec.nodeName,
// spec.serviceAccountName, status.hostIP, status.podIP.
func FieldValue(pod *types.Pod, path, hostIP, podIP string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return pod.UID, nil
	case "metadata.labels":
		return formatMap(pod.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.Annotations), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP", "status.hostIPs":
		return hostIP, nil
	case "status.podIP", "status.podIPs":
		return podIP, nil
	}
	for prefix, m := range map[string]map[string]string{"metadata.labels": pod.Labels, "metadata.annotations": pod.Annotations} {
		if rest, ok := strings.CutPrefix(path, prefix+"["); ok && strings.HasSuffix(rest, "]") {
			key := strings.Trim(strings.TrimSuffix(rest, "]"), `'"`)
			return m[key], nil
		}
	}
	return "", fmt.Errorf("fieldPath %q is not supported", path)
}

// formatMap writes a map as the kubelet does: sorted key="value" lines.
func formatMap(m map[string]string) string {
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s=%q", k, m[k])
	}
	return b.String()
}

// ResourceValue resolves a resourceFieldRef of container c: limits.cpu,
// limits.memory, limits.ephemeral-storage, requests.cpu, requests.memory,
// requests.ephemeral-storage, divided by the divisor (default 1) and
// rounded up. An unset limit reads as 0 (the node's allocatable is not
// known here).
func ResourceValue(c *types.Container, ref *types.ResourceFieldSelector) (string, error) {
	kind, res, ok := strings.Cut(ref.Resource, ".")
	if !ok {
		return "", fmt.Errorf("resource %q is not supported", ref.Resource)
	}
	var list types.ResourceList
	switch kind {
	case "limits":
		list = c.Resources.Limits
	case "requests":
		list = c.Resources.Requests
		if _, set := list[types.ResourceName(res)]; !set {
			list = c.Resources.Limits // a missing request defaults to the limit
		}
	default:
		return "", fmt.Errorf("resource %q is not supported", ref.Resource)
	}
	switch types.ResourceName(res) {
	case types.ResourceCPU, types.ResourceMemory, types.ResourceEphemeralStorage:
	default:
		return "", fmt.Errorf("resource %q is not supported", ref.Resource)
	}
	q := list[types.ResourceName(res)]
	if res == string(types.ResourceCPU) {
		div := int64(1000)
		if ref.Divisor != nil && !ref.Divisor.IsZero() {
			div = ref.Divisor.MilliValue()
		}
		if div <= 0 {
			return "", fmt.Errorf("divisor of %q must be positive", ref.Resource)
		}
		return fmt.Sprint(int64(math.Ceil(float64(q.MilliValue()) / float64(div)))), nil
	}
	div := int64(1)
	if ref.Divisor != nil && !ref.Divisor.IsZero() {
		div = ref.Divisor.Value()
	}
	if div <= 0 {
		return "", fmt.Errorf("divisor of %q must be positive", ref.Resource)
	}
	return fmt.Sprint(int64(math.Ceil(float64(q.Value()) / float64(div)))), nil
}

// Names of the atomic writer's entries.
const (
	dataLink    = "..data"
	dataLinkTmp = "..data_tmp"
)

// writeAtomic makes dir hold exactly files, swapping the whole set at once.
func writeAtomic(dir string, files map[string]file) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if same(dir, files) {
		return nil
	}
	tsDir, err := os.MkdirTemp(dir, time.Now().UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		return err
	}
	if err := os.Chmod(tsDir, 0o755); err != nil {
		return err
	}
	for _, p := range slices.Sorted(maps.Keys(files)) {
		f := files[p]
		full := filepath.Join(tsDir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, f.data, f.mode); err != nil {
			return err
		}
		if err := os.Chmod(full, f.mode); err != nil { // WriteFile's mode is masked by the umask
			return err
		}
	}
	tmp := filepath.Join(dir, dataLinkTmp)
	_ = os.Remove(tmp)
	if err := os.Symlink(filepath.Base(tsDir), tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, dataLink)); err != nil {
		return err
	}
	// Stable top-level names for every first path component.
	want := map[string]bool{}
	for p := range files {
		first, _, _ := strings.Cut(p, string(filepath.Separator))
		want[first] = true
	}
	for name := range want {
		link := filepath.Join(dir, name)
		target := filepath.Join(dataLink, name)
		if cur, err := os.Readlink(link); err == nil && cur == target {
			continue
		}
		_ = os.Remove(link)
		if err := os.Symlink(target, link); err != nil {
			return err
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, "..") {
			if n != dataLink && n != filepath.Base(tsDir) {
				_ = os.RemoveAll(filepath.Join(dir, n))
			}
			continue
		}
		if !want[n] {
			_ = os.Remove(filepath.Join(dir, n))
		}
	}
	return nil
}

// same reports whether dir's current payload is exactly files.
func same(dir string, files map[string]file) bool {
	cur := filepath.Join(dir, dataLink)
	if _, err := os.Stat(cur); err != nil {
		return false
	}
	n := 0
	err := filepath.WalkDir(cur+"/", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		n++
		rel, _ := filepath.Rel(cur, p)
		f, ok := files[rel]
		if !ok {
			return os.ErrNotExist
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if fi.Mode().Perm() != f.mode {
			return os.ErrNotExist
		}
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(b, f.data) {
			return os.ErrNotExist
		}
		return nil
	})
	return err == nil && n == len(files)
}
