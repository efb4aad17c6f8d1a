package hpa

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/wharfhq/wharf/api/types"
)

// UsageAnnotation is where a Pod's current resource use is published
// until agents serve a metrics API: "cpu=120m,memory=30Mi" (CPU in cores
// averaged over the agent's last sampling interval, memory in bytes, both
// in Kubernetes quantity syntax). Agents write it on the Pods they run.
const UsageAnnotation = "wharf.dev/usage"

// ErrBadUsage is returned for a usage annotation that does not parse.
var ErrBadUsage = errors.New("malformed usage annotation")

// MetricsSource returns the current resource use of Pods, by Pod name; a
// Pod without metrics is absent from the map.
type MetricsSource interface {
	PodUsage(ctx context.Context, pods []*types.Pod) (map[string]types.ResourceList, error)
}

// AnnotationSource reads Pod usage from UsageAnnotation.
type AnnotationSource struct{}

var _ MetricsSource = AnnotationSource{}

// PodUsage implements MetricsSource. A Pod whose annotation is missing or
// malformed has no metrics (a malformed one is reported, joined, in the
// error, with the usable results).
func (AnnotationSource) PodUsage(_ context.Context, pods []*types.Pod) (map[string]types.ResourceList, error) {
	out := make(map[string]types.ResourceList, len(pods))
	var errs []error
	for _, p := range pods {
		v, ok := p.Annotations[UsageAnnotation]
		if !ok {
			continue
		}
		rl, err := ParseUsage(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("pod %s/%s: %w", p.Namespace, p.Name, err))
			continue
		}
		out[p.Name] = rl
	}
	return out, errors.Join(errs...)
}

// ParseUsage reads "cpu=120m,memory=30Mi".
func ParseUsage(s string) (types.ResourceList, error) {
	rl := types.ResourceList{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%w: %q is not NAME=QUANTITY", ErrBadUsage, part)
		}
		q, err := types.ParseQuantity(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrBadUsage, k, err)
		}
		rl[types.ResourceName(strings.TrimSpace(k))] = q
	}
	return rl, nil
}

// FormatUsage writes a usage annotation value (for agents and tests).
func FormatUsage(cpuMilli, memoryBytes int64) string {
	return fmt.Sprintf("cpu=%dm,memory=%d", cpuMilli, memoryBytes)
}
