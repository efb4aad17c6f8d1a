package hpa

import (
	"context"
	"errors"
	"testing"

	"github.com/wharfhq/wharf/api/types"
)

// TestAnnotationSource reads usage as agents write it (FormatUsage):
// Pods without the annotation have no metrics, a malformed one is
// reported without hiding the others.
func TestAnnotationSource(t *testing.T) {
	pod := func(name, usage string) *types.Pod {
		p := &types.Pod{ObjectMeta: types.ObjectMeta{Name: name, Namespace: "default"}}
		if usage != "" {
			p.Annotations = map[string]string{UsageAnnotation: usage}
		}
		return p
	}
	tests := []struct {
		name    string
		pods    []*types.Pod
		want    map[string][2]int64 // cpu milli, memory bytes
		wantErr bool
	}{
		{"agent format", []*types.Pod{pod("a", FormatUsage(400, 80<<20))}, map[string][2]int64{"a": {400, 80 << 20}}, false},
		{"many cores and GiB", []*types.Pod{pod("a", FormatUsage(12_000, 8<<30))}, map[string][2]int64{"a": {12_000, 8 << 30}}, false},
		{"idle", []*types.Pod{pod("a", FormatUsage(0, 0))}, map[string][2]int64{"a": {0, 0}}, false},
		{"no annotation", []*types.Pod{pod("a", ""), pod("b", FormatUsage(5, 6))}, map[string][2]int64{"b": {5, 6}}, false},
		{"malformed among good", []*types.Pod{pod("a", "cpu=fast"), pod("b", FormatUsage(5, 6))}, map[string][2]int64{"b": {5, 6}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AnnotationSource{}.PodUsage(context.Background(), tt.pods)
			if tt.wantErr != (err != nil) || (err != nil && !errors.Is(err, ErrBadUsage)) {
				t.Fatalf("err %v, want error %v (ErrBadUsage)", err, tt.wantErr)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("usage of %d Pods, want %d: %v", len(got), len(tt.want), got)
			}
			for name, w := range tt.want {
				rl, ok := got[name]
				if !ok {
					t.Fatalf("no usage for pod %q", name)
				}
				cpu, mem := rl[types.ResourceCPU], rl[types.ResourceMemory]
				if cpu.MilliValue() != w[0] || mem.Value() != w[1] {
					t.Errorf("pod %q: cpu %dm memory %d, want %dm %d", name, cpu.MilliValue(), mem.Value(), w[0], w[1])
				}
			}
		})
	}
}
