package volumes_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/internal/testutil"
	"github.com/wharfhq/wharf/nodes/volumes"
)

// objects is an in-memory set of ConfigMaps and Secrets.
type objects struct {
	cms     map[string]*types.ConfigMap
	secrets map[string]*types.Secret
}

func (o *objects) sources() volumes.Sources {
	return volumes.Sources{
		ConfigMap: func(ns, name string) (*types.ConfigMap, error) {
			if cm, ok := o.cms[ns+"/"+name]; ok {
				return cm, nil
			}
			return nil, fmt.Errorf("configmap %q: not found", name)
		},
		Secret: func(ns, name string) (*types.Secret, error) {
			if s, ok := o.secrets[ns+"/"+name]; ok {
				return s, nil
			}
			return nil, fmt.Errorf("secret %q: not found", name)
		},
		HostIP: "10.0.0.1", PodIP: "10.1.0.5",
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mode(n int32) *int32 { return &n }

func TestConfigMapUpdatedAtomically(t *testing.T) {
	m, err := volumes.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o := &objects{cms: map[string]*types.ConfigMap{"ns/cfg": {Data: map[string]string{"a": "1", "b": "2"}}}}
	pod := &types.Pod{ObjectMeta: types.ObjectMeta{Name: "p", Namespace: "ns", UID: "u1"}, Spec: types.PodSpec{Volumes: []types.Volume{
		{Name: "cfg", VolumeSource: types.VolumeSource{ConfigMap: &types.ConfigMapVolumeSource{
			LocalObjectReference: types.LocalObjectReference{Name: "cfg"}, DefaultMode: mode(0o600)}}},
	}}}
	paths, err := m.Setup(pod, o.sources())
	if err != nil {
		t.Fatal(err)
	}
	dir := paths["cfg"]
	if got := readFile(t, filepath.Join(dir, "a")); got != "1" {
		t.Errorf("a = %q", got)
	}
	fi, err := os.Stat(filepath.Join(dir, "a"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode of a = %v (%v)", fi.Mode(), err)
	}
	first, _ := os.Readlink(filepath.Join(dir, "..data"))

	// Unchanged: nothing is rewritten.
	if _, err := m.Setup(pod, o.sources()); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.Readlink(filepath.Join(dir, "..data")); again != first {
		t.Errorf("unchanged payload rewritten: %q -> %q", first, again)
	}

	// Changed: a is updated, b removed, c added, through a new ..data.
	o.cms["ns/cfg"] = &types.ConfigMap{Data: map[string]string{"a": "10", "c": "3"}}
	if _, err := m.Setup(pod, o.sources()); err != nil {
		t.Fatal(err)
	}
	second, _ := os.Readlink(filepath.Join(dir, "..data"))
	if second == first || !strings.HasPrefix(second, "..") {
		t.Errorf("..data = %q after update (was %q)", second, first)
	}
	if got := readFile(t, filepath.Join(dir, "a")); got != "10" {
		t.Errorf("a = %q after update", got)
	}
	if _, err := os.Lstat(filepath.Join(dir, "b")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("b still present: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, first)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("old payload dir %s still present", first)
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) != 4 { // ..<ts>, ..data, a, c
		t.Errorf("entries = %v", names)
	}
}

func TestSetup(t *testing.T) {
	o := &objects{
		cms:     map[string]*types.ConfigMap{"ns/cfg": {Data: map[string]string{"k": "v"}}},
		secrets: map[string]*types.Secret{"ns/sec": {Data: map[string][]byte{"tls.key": []byte("KEY")}}},
	}
	opt := true
	hostDir := t.TempDir()
	hostFile := filepath.Join(hostDir, "f")
	if err := os.WriteFile(hostFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dirOrCreate, file, directory := types.HostPathDirectoryOrCreate, types.HostPathFile, types.HostPathDirectory
	tests := []struct {
		name    string
		vol     types.VolumeSource
		files   map[string]string // relative path -> content
		wantErr string
	}{
		{"emptyDir", types.VolumeSource{EmptyDir: &types.EmptyDirVolumeSource{}}, nil, ""},
		{"configMap items", types.VolumeSource{ConfigMap: &types.ConfigMapVolumeSource{LocalObjectReference: types.LocalObjectReference{Name: "cfg"},
			Items: []types.KeyToPath{{Key: "k", Path: "sub/dir/k.txt"}}}}, map[string]string{"sub/dir/k.txt": "v"}, ""},
		{"secret", types.VolumeSource{Secret: &types.SecretVolumeSource{SecretName: "sec"}}, map[string]string{"tls.key": "KEY"}, ""},
		{"missing configMap", types.VolumeSource{ConfigMap: &types.ConfigMapVolumeSource{LocalObjectReference: types.LocalObjectReference{Name: "nope"}}},
			nil, `configmap "nope" not found`},
		{"optional missing secret", types.VolumeSource{Secret: &types.SecretVolumeSource{SecretName: "nope", Optional: &opt}}, map[string]string{}, ""},
		{"missing key", types.VolumeSource{Secret: &types.SecretVolumeSource{SecretName: "sec", Items: []types.KeyToPath{{Key: "x", Path: "x"}}}},
			nil, `key "x" not found`},
		{"path escape", types.VolumeSource{ConfigMap: &types.ConfigMapVolumeSource{LocalObjectReference: types.LocalObjectReference{Name: "cfg"},
			Items: []types.KeyToPath{{Key: "k", Path: "../../etc/passwd"}}}}, nil, "must be relative"},
		{"downwardAPI", types.VolumeSource{DownwardAPI: &types.DownwardAPIVolumeSource{Items: []types.DownwardAPIVolumeFile{
			{Path: "ns", FieldRef: &types.ObjectFieldSelector{FieldPath: "metadata.namespace"}},
			{Path: "ip", FieldRef: &types.ObjectFieldSelector{FieldPath: "status.podIP"}},
			{Path: "tier", FieldRef: &types.ObjectFieldSelector{FieldPath: "metadata.labels['tier']"}},
		}}}, map[string]string{"ns": "ns", "ip": "10.1.0.5", "tier": "web"}, ""},
		{"projected", types.VolumeSource{Projected: &types.ProjectedVolumeSource{Sources: []types.VolumeProjection{
			{ConfigMap: &types.ConfigMapProjection{LocalObjectReference: types.LocalObjectReference{Name: "cfg"}}},
			{Secret: &types.SecretProjection{LocalObjectReference: types.LocalObjectReference{Name: "sec"}}},
		}}}, map[string]string{"k": "v", "tls.key": "KEY"}, ""},
		{"hostPath file", types.VolumeSource{HostPath: &types.HostPathVolumeSource{Path: hostFile, Type: &file}}, nil, ""},
		{"hostPath not a directory", types.VolumeSource{HostPath: &types.HostPathVolumeSource{Path: hostFile, Type: &directory}}, nil, "is not a directory"},
		{"hostPath created", types.VolumeSource{HostPath: &types.HostPathVolumeSource{Path: filepath.Join(hostDir, "new"), Type: &dirOrCreate}}, nil, ""},
		{"hostPath relative", types.VolumeSource{HostPath: &types.HostPathVolumeSource{Path: "rel"}}, nil, "must be absolute"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := volumes.New(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			pod := &types.Pod{ObjectMeta: types.ObjectMeta{Name: "p", Namespace: "ns", UID: fmt.Sprintf("u%d", i), Labels: map[string]string{"tier": "web"}},
				Spec: types.PodSpec{Volumes: []types.Volume{{Name: "v", VolumeSource: tt.vol}}}}
			paths, err := m.Setup(pod, o.sources())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), `volume "v"`) {
					t.Fatalf("err = %v, want one naming the volume and %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			dir := paths["v"]
			if fi, err := os.Stat(dir); err != nil {
				t.Fatalf("volume path %s: %v", dir, err)
			} else if tt.vol.HostPath == nil && !fi.IsDir() {
				t.Fatalf("volume path %s is not a directory", dir)
			}
			for p, want := range tt.files {
				if got := readFile(t, filepath.Join(dir, p)); got != want {
					t.Errorf("%s = %q, want %q", p, got, want)
				}
			}
			if err := m.TearDown(pod.UID); err != nil {
				t.Fatal(err)
			}
			if tt.vol.HostPath == nil {
				if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("after TearDown: %v", err)
				}
			}
		})
	}
	if _, err := os.Stat(hostFile); err != nil {
		t.Errorf("TearDown touched the hostPath: %v", err)
	}
}

func TestResourceValue(t *testing.T) {
	c := &types.Container{Resources: types.ResourceRequirements{
		Limits:   types.ResourceList{types.ResourceCPU: types.MustParse("1500m"), types.ResourceMemory: types.MustParse("1Gi")},
		Requests: types.ResourceList{types.ResourceCPU: types.MustParse("250m")},
	}}
	q := func(s string) *types.Quantity { v := types.MustParse(s); return &v }
	tests := []struct {
		res     string
		divisor *types.Quantity
		want    string
	}{
		{"limits.cpu", nil, "2"}, // rounded up
		{"limits.cpu", q("1m"), "1500"},
		{"requests.cpu", q("1m"), "250"},
		{"limits.memory", nil, "1073741824"},
		{"limits.memory", q("1Mi"), "1024"},
		{"requests.memory", q("1Mi"), "1024"}, // defaults to the limit
	}
	for _, tt := range tests {
		t.Run(tt.res, func(t *testing.T) {
			got, err := volumes.ResourceValue(c, &types.ResourceFieldSelector{Resource: tt.res, Divisor: tt.divisor})
			if err != nil || got != tt.want {
				t.Errorf("= %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := volumes.ResourceValue(c, &types.ResourceFieldSelector{Resource: "limits.gpu"}); err == nil {
		t.Error("limits.gpu: no error")
	}
}

func TestEmptyDirMemory(t *testing.T) {
	testutil.RequireRoot(t)
	root := t.TempDir()
	m, err := volumes.New(root)
	if err != nil {
		t.Fatal(err)
	}
	limit := types.MustParse("1Mi")
	pod := &types.Pod{ObjectMeta: types.ObjectMeta{Name: "p", Namespace: "ns", UID: "mem"}, Spec: types.PodSpec{Volumes: []types.Volume{
		{Name: "scratch", VolumeSource: types.VolumeSource{EmptyDir: &types.EmptyDirVolumeSource{Medium: types.StorageMediumMemory, SizeLimit: &limit}}},
	}}}
	paths, err := m.Setup(pod, volumes.Sources{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.TearDown("mem") })
	dir := paths["scratch"]
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil || fs.Type != unix.TMPFS_MAGIC {
		t.Fatalf("%s is not a tmpfs (%v)", dir, err)
	}
	if size := fs.Blocks * uint64(fs.Bsize); size != 1<<20 {
		t.Errorf("tmpfs size = %d, want 1 MiB", size)
	}
	// Set up twice: mounted once.
	if _, err := m.Setup(pod, volumes.Sources{}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "big"), make([]byte, 2<<20), 0o644); err == nil {
		t.Error("wrote 2 MiB into a 1 MiB tmpfs")
	}
	if err := m.TearDown("mem"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "mem")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pod dir after TearDown: %v", err)
	}
}
