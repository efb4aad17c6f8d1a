package sched

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/wharfhq/wharf/sched/plugins"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr bool
		check   func(t *testing.T, c Config)
	}{
		{"empty gives defaults", "", false, func(t *testing.T, c Config) {
			if c.SchedulerName != DefaultSchedulerName || len(c.Plugins) != len(plugins.DefaultPlugins()) || c.BindWorkers != DefaultBindWorkers ||
				c.PodInitialBackoffSeconds != 1 || c.PodMaxBackoffSeconds != 10 {
				t.Errorf("defaults: %+v", c)
			}
		}},
		{"plugins and weights", `
schedulerName: batch
percentageOfNodesToScore: 20
plugins:
  - name: NodeResourcesFit
  - name: NodeResourcesLeastAllocated
    weight: 5
`, false, func(t *testing.T, c Config) {
			if c.SchedulerName != "batch" || c.PercentageOfNodesToScore != 20 || len(c.Plugins) != 2 || c.Plugins[1].Weight != 5 {
				t.Errorf("config %+v", c)
			}
			if _, err := New(nil, c); err != nil {
				t.Errorf("New with it: %v", err)
			}
		}},
		{"image platform lookups", `
imagePlatforms:
  insecureRegistries: [reg.lan:5000]
  timeoutSeconds: 2
`, false, func(t *testing.T, c Config) {
			ip := c.ImagePlatforms
			if len(ip.InsecureRegistries) != 1 || ip.InsecureRegistries[0] != "reg.lan:5000" || ip.TimeoutSeconds != 2 || ip.Disabled {
				t.Errorf("imagePlatforms %+v", ip)
			}
			if _, ok := ip.resolver().(*plugins.RegistryResolver); !ok {
				t.Errorf("resolver %T, want *plugins.RegistryResolver", ip.resolver())
			}
		}},
		{"image platform lookups disabled", "imagePlatforms: {disabled: true}", false, func(t *testing.T, c Config) {
			if r := c.ImagePlatforms.resolver(); r != nil {
				t.Errorf("disabled: resolver %T, want nil", r)
			}
		}},
		{"negative lookup timeout", "imagePlatforms: {timeoutSeconds: -1}", true, nil},
		{"json works too", `{"bindWorkers": 4}`, false, func(t *testing.T, c Config) {
			if c.BindWorkers != 4 {
				t.Errorf("bindWorkers %d", c.BindWorkers)
			}
		}},
		{"unknown field", "plugin: []", true, nil},
		{"not yaml", "plugins: [", true, nil},
		{"negative workers", "bindWorkers: -1", true, nil},
		{"max backoff below initial", "podInitialBackoffSeconds: 5\npodMaxBackoffSeconds: 2", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(tt.in))
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidConfig) {
					t.Errorf("error %v, want ErrInvalidConfig", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestLoadConfigAndNewRejectsUnknownPlugin(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sched.yaml")
	if err := os.WriteFile(path, []byte("plugins:\n  - name: NoSuchPlugin\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(nil, c); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("New with an unknown plugin: %v", err)
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Errorf("missing file: no error")
	}
}
