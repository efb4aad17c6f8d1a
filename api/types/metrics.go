package types

import (
	"encoding/json"
	"fmt"
	"time"
)

// The resource metrics API (metrics.k8s.io/v1beta1), as metrics-server
// serves it: read-only PodMetrics and NodeMetrics that kubectl top reads.
// Wharf serves them from the usage its agents publish in the
// AnnotationUsageSample of Pods and Nodes; they are not stored.

// GroupMetrics is the group of the resource metrics API.
const GroupMetrics = "metrics.k8s.io"

// MetricsVersion is the served version of GroupMetrics.
const MetricsVersion = "v1beta1"

// AnnotationUsageSample holds the last usage an agent measured, as a
// UsageSample in JSON: on a Pod, per container (with the Pod total in
// "wharf.dev/usage" beside it, which the autoscaler reads); on a Node, the
// node's own usage.
const AnnotationUsageSample = "wharf.dev/usage-sample"

// Freshness of usage samples. An agent rewrites a Pod's or a Node's
// sample when the usage moves materially and, unchanged, at least every
// usageRewrite (nodes/agent/usage.go: usageRefresh), at its next round:
// every UsageInterval (15s by default), which is what a sample's Window
// measures. A sample older than usageStaleFactor such gaps comes from an
// agent that stopped (died, lost the server) and is not served, as
// metrics-server serves only its last scrape: the Pod or Node has no
// metrics (absent from lists, NotFound on get; kubectl top node shows
// <unknown>). With the default interval the bound is 3 x (60s + 15s) =
// 225s.
//
// Clock: the sample's Timestamp is the agent's clock and is compared with
// the server's. The store keeps no write time of an object (its
// resourceVersion is a revision, managedFields are not kept), so the
// agent's own timestamp is the only age there is; the bound assumes the
// clocks agree (NTP) to well within its margin over the rewrite gap
// (150s): an agent behind by more has its live samples dropped (visible
// as <unknown>), one ahead keeps a dead agent's last sample that much
// longer. A timestamp in the future is fresh.
const (
	usageRewrite     = 60 * time.Second
	usageInterval    = 15 * time.Second
	usageStaleFactor = 3
)

// UsageSampleMaxAge is the age past which a sample taken every Window is
// stale: usageStaleFactor times the longest gap between an agent's
// rewrites of it (usageRewrite plus one round, at least the default
// 15s).
func UsageSampleMaxAge(window time.Duration) time.Duration {
	return usageStaleFactor * (usageRewrite + max(window, usageInterval))
}

// usageStale reports whether a sample taken at ts over window is stale at
// now (a zero timestamp always is).
func usageStale(ts Time, window Duration, now time.Time) bool {
	return ts.IsZero() || now.Sub(ts.Time) > UsageSampleMaxAge(window.Duration)
}

// StaleAt reports whether the metrics are too old to serve at now: their
// agent stopped rewriting them (UsageSampleMaxAge).
func (m *PodMetrics) StaleAt(now time.Time) bool { return usageStale(m.Timestamp, m.Window, now) }

// StaleAt reports whether the metrics are too old to serve at now: their
// agent stopped rewriting them (UsageSampleMaxAge).
func (m *NodeMetrics) StaleAt(now time.Time) bool { return usageStale(m.Timestamp, m.Window, now) }

// Duration is a time.Duration that marshals as Go's duration string
// ("15s", "1m0.5s"), as Kubernetes' metav1.Duration does.
type Duration struct {
	time.Duration
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.Duration.String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	d.Duration = v
	return nil
}

// UsageSample is one measured usage: CPU as a rate over Window ending at
// Timestamp, memory as of Timestamp. A Pod's sample has Containers, a
// Node's has Usage. The metrics API serves the quantities as written: the
// agent measures CPU to the nearest millicore ("2m"), so that is what
// kubectl top shows (0m for less than half a millicore); a sample in
// nanocores ("1234567n", metrics-server's unit) would be served in
// nanocores and kubectl top would round it up to 2m.
type UsageSample struct {
	Timestamp  Time               `json:"timestamp"`
	Window     Duration           `json:"window"`
	Usage      ResourceList       `json:"usage,omitempty"`
	Containers []ContainerMetrics `json:"containers,omitempty"`
}

// ParseUsageSample reads an AnnotationUsageSample value.
func ParseUsageSample(s string) (*UsageSample, error) {
	var u UsageSample
	if err := json.Unmarshal([]byte(s), &u); err != nil {
		return nil, fmt.Errorf("usage sample %q: %w", s, err)
	}
	return &u, nil
}

// String encodes the sample as an AnnotationUsageSample value.
func (u *UsageSample) String() string {
	b, err := json.Marshal(u)
	if err != nil { // only plain values: cannot fail
		return ""
	}
	return string(b)
}

// ContainerMetrics is one container's usage (metrics.k8s.io).
type ContainerMetrics struct {
	Name  string       `json:"name"`
	Usage ResourceList `json:"usage"`
}

// PodMetrics is the usage of a Pod's containers (metrics.k8s.io).
type PodMetrics struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitempty"`
	Timestamp  Time               `json:"timestamp"`
	Window     Duration           `json:"window"`
	Containers []ContainerMetrics `json:"containers"`
}

// Total is the sum of the containers' usage: the Pod's.
func (m *PodMetrics) Total() ResourceList {
	total := ResourceList{}
	for _, c := range m.Containers {
		for k, v := range c.Usage {
			q := total[k]
			q.Add(v)
			total[k] = q
		}
	}
	return total
}

// PodMetricsList is a list of PodMetrics.
type PodMetricsList struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata,omitempty"`
	Items    []PodMetrics `json:"items"`
}

// NodeMetrics is the usage of a Node (metrics.k8s.io).
type NodeMetrics struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitempty"`
	Timestamp  Time         `json:"timestamp"`
	Window     Duration     `json:"window"`
	Usage      ResourceList `json:"usage"`
}

// NodeMetricsList is a list of NodeMetrics.
type NodeMetricsList struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata,omitempty"`
	Items    []NodeMetrics `json:"items"`
}

var (
	_ Object = (*PodMetrics)(nil)
	_ Object = (*NodeMetrics)(nil)
)

// PodMetricsOf returns the PodMetrics of a Pod from its
// AnnotationUsageSample; false when the Pod has none (or an unreadable
// one), or is not Running.
func PodMetricsOf(p *Pod) (*PodMetrics, bool) {
	if p.Status.Phase != PodRunning || p.DeletionTimestamp != nil {
		return nil, false
	}
	u := usageSampleOf(&p.ObjectMeta)
	if u == nil || len(u.Containers) == 0 {
		return nil, false
	}
	return &PodMetrics{
		TypeMeta:   TypeMeta{Kind: "PodMetrics", APIVersion: GroupMetrics + "/" + MetricsVersion},
		ObjectMeta: metricsMeta(&p.ObjectMeta),
		Timestamp:  u.Timestamp,
		Window:     u.Window,
		Containers: u.Containers,
	}, true
}

// NodeMetricsOf returns the NodeMetrics of a Node from its
// AnnotationUsageSample; false when it has none (or an unreadable one).
func NodeMetricsOf(n *Node) (*NodeMetrics, bool) {
	u := usageSampleOf(&n.ObjectMeta)
	if u == nil || len(u.Usage) == 0 {
		return nil, false
	}
	return &NodeMetrics{
		TypeMeta:   TypeMeta{Kind: "NodeMetrics", APIVersion: GroupMetrics + "/" + MetricsVersion},
		ObjectMeta: metricsMeta(&n.ObjectMeta),
		Timestamp:  u.Timestamp,
		Window:     u.Window,
		Usage:      u.Usage,
	}, true
}

// usageSampleOf reads the object's AnnotationUsageSample; nil when it has
// none or an unreadable one.
func usageSampleOf(m *ObjectMeta) *UsageSample {
	v, ok := m.Annotations[AnnotationUsageSample]
	if !ok {
		return nil
	}
	u, err := ParseUsageSample(v)
	if err != nil {
		return nil
	}
	return u
}

// metricsMeta is the metadata of a metrics object: the measured object's
// name, namespace, labels (which label selectors match) and creation time.
func metricsMeta(m *ObjectMeta) ObjectMeta {
	return ObjectMeta{
		Name:              m.Name,
		Namespace:         m.Namespace,
		Labels:            m.Labels,
		CreationTimestamp: m.CreationTimestamp,
	}
}
