package sched

import (
	"errors"
	"fmt"
	"os"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/wharfhq/wharf/sched/framework"
	"github.com/wharfhq/wharf/sched/plugins"
)

// DefaultSchedulerName is the spec.schedulerName this scheduler serves
// (an empty schedulerName means it too).
const DefaultSchedulerName = "default-scheduler"

// Defaults of Config.
const (
	// DefaultBindWorkers is large because a binding mostly waits: on the
	// store's synced write, which Badger shares between every write queued
	// meanwhile, so more bindings in flight make larger batches per fsync
	// (measured: 256 places about 1.5-2x as many Pods a second as 32).
	DefaultBindWorkers        = 256
	DefaultInitialBackoffSecs = 1
	DefaultMaxBackoffSecs     = 10
)

// ErrInvalidConfig: the scheduler config is wrong (the message says where).
var ErrInvalidConfig = errors.New("invalid scheduler config")

// Config is the scheduler's configuration, as read from the file given to
// `wharf server --scheduler-config FILE` (YAML or JSON):
//
//	schedulerName: default-scheduler
//	percentageOfNodesToScore: 0   # 0: adaptive, as Kubernetes
//	bindWorkers: 256
//	plugins:                      # omitted: the default set
//	  - name: NodeResourcesFit
//	  - name: NodeResourcesLeastAllocated
//	    weight: 2
//	imagePlatforms:               # how NodeArchitecture finds image platforms
//	  insecureRegistries: [reg.lan:5000]
//	  timeoutSeconds: 5
//
// Plugins lists every enabled plugin, filters in the order they run; a
// plugin left out is disabled. Weights apply to scoring plugins (0 means 1).
type Config struct {
	// SchedulerName is the spec.schedulerName served; Pods naming another
	// scheduler are left alone. Default DefaultSchedulerName.
	SchedulerName string `json:"schedulerName,omitempty"`
	// Plugins are the enabled plugins; nil means plugins.DefaultPlugins().
	Plugins []framework.PluginSpec `json:"plugins,omitempty"`
	// PercentageOfNodesToScore: see framework.ProfileOptions.
	PercentageOfNodesToScore int32 `json:"percentageOfNodesToScore,omitempty"`
	// Parallelism is how many goroutines filter and score nodes for one
	// Pod; 0 means GOMAXPROCS.
	Parallelism int `json:"parallelism,omitempty"`
	// BindWorkers is how many bindings run at once while the scheduling
	// loop goes on with the assumed state. Default DefaultBindWorkers.
	BindWorkers int `json:"bindWorkers,omitempty"`
	// PodInitialBackoffSeconds and PodMaxBackoffSeconds bound the
	// exponential back-off of a Pod that failed (defaults 1 and 10).
	PodInitialBackoffSeconds int `json:"podInitialBackoffSeconds,omitempty"`
	PodMaxBackoffSeconds     int `json:"podMaxBackoffSeconds,omitempty"`
	// ImagePlatforms configures the registry lookups of the
	// NodeArchitecture filter.
	ImagePlatforms ImagePlatformsConfig `json:"imagePlatforms,omitempty"`
}

// ImagePlatformsConfig configures how the NodeArchitecture filter asks
// registries for the platforms of Pods' images (see the package doc).
type ImagePlatformsConfig struct {
	// Disabled turns the lookups off: only the wharf.dev/image-platforms
	// annotation restricts Pods.
	Disabled bool `json:"disabled,omitempty"`
	// InsecureRegistries ("host" or "host:port") are reached over plain
	// http; localhost, 127.0.0.1 and [::1] always are.
	InsecureRegistries []string `json:"insecureRegistries,omitempty"`
	// TimeoutSeconds bounds one lookup; 0 means 5.
	TimeoutSeconds int `json:"timeoutSeconds,omitempty"`
}

// resolver returns the resolver this configuration asks for (nil when
// disabled).
func (c ImagePlatformsConfig) resolver() plugins.PlatformResolver {
	if c.Disabled {
		return nil
	}
	opts := []plugins.ResolverOption{plugins.WithInsecureRegistries(c.InsecureRegistries...)}
	if c.TimeoutSeconds > 0 {
		opts = append(opts, plugins.WithResolverTimeout(time.Duration(c.TimeoutSeconds)*time.Second))
	}
	return plugins.NewRegistryResolver(opts...)
}

// DefaultConfig returns the configuration used without a config file.
func DefaultConfig() Config {
	c := Config{}
	c.setDefaults()
	return c
}

func (c *Config) setDefaults() {
	if c.SchedulerName == "" {
		c.SchedulerName = DefaultSchedulerName
	}
	if c.Plugins == nil {
		c.Plugins = plugins.DefaultPlugins()
	}
	if c.BindWorkers == 0 {
		c.BindWorkers = DefaultBindWorkers
	}
	if c.PodInitialBackoffSeconds == 0 {
		c.PodInitialBackoffSeconds = DefaultInitialBackoffSecs
	}
	if c.PodMaxBackoffSeconds == 0 {
		c.PodMaxBackoffSeconds = DefaultMaxBackoffSecs
	}
}

func (c *Config) validate() error {
	switch {
	case c.BindWorkers < 0:
		return fmt.Errorf("%w: bindWorkers %d is negative", ErrInvalidConfig, c.BindWorkers)
	case c.Parallelism < 0:
		return fmt.Errorf("%w: parallelism %d is negative", ErrInvalidConfig, c.Parallelism)
	case c.ImagePlatforms.TimeoutSeconds < 0:
		return fmt.Errorf("%w: imagePlatforms.timeoutSeconds %d is negative", ErrInvalidConfig, c.ImagePlatforms.TimeoutSeconds)
	case c.PodInitialBackoffSeconds < 0 || c.PodMaxBackoffSeconds < c.PodInitialBackoffSeconds:
		return fmt.Errorf("%w: podInitialBackoffSeconds %d and podMaxBackoffSeconds %d: want 0 <= initial <= max",
			ErrInvalidConfig, c.PodInitialBackoffSeconds, c.PodMaxBackoffSeconds)
	}
	return nil
}

// ParseConfig reads a Config from YAML or JSON, rejecting unknown fields,
// and fills the defaults.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	c.setDefaults()
	if err := c.validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// LoadConfig reads the Config in file path.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("scheduler config: %w", err)
	}
	c, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("scheduler config %q: %w", path, err)
	}
	return c, nil
}
