package framework

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/wharfhq/wharf/api/types"
)

// MaxNodeScore is the highest score a ScorePlugin gives (after
// normalization); MinNodeScore the lowest.
const (
	MaxNodeScore int64 = 100
	MinNodeScore int64 = 0
)

// Plugin is anything the framework runs; it implements one or more of the
// extension-point interfaces below.
type Plugin interface {
	Name() string
}

// PreFilterPlugin computes, once per Pod, what its Filter needs for every
// node, and stores it in the CycleState. Returning Skip turns the plugin's
// Filter off for this Pod; a rejection fails the Pod on every node.
type PreFilterPlugin interface {
	Plugin
	PreFilter(ctx context.Context, state *CycleState, pod *types.Pod, snapshot *Snapshot) *Status
}

// FilterPlugin says whether pod fits node. A rejection must give a reason
// that is counted in the FailedScheduling message.
type FilterPlugin interface {
	Plugin
	Filter(ctx context.Context, state *CycleState, pod *types.Pod, node *NodeInfo) *Status
}

// PreScorePlugin computes, once per Pod, what its Score needs, given the
// nodes that passed the filters. Skip turns its Score off for this Pod.
type PreScorePlugin interface {
	Plugin
	PreScore(ctx context.Context, state *CycleState, pod *types.Pod, nodes []*NodeInfo) *Status
}

// ScorePlugin ranks a node that passed the filters, from MinNodeScore to
// MaxNodeScore (or any range when the plugin also normalizes).
type ScorePlugin interface {
	Plugin
	Score(ctx context.Context, state *CycleState, pod *types.Pod, node *NodeInfo) (int64, *Status)
}

// NormalizeScorePlugin is a ScorePlugin that rescales its scores over all
// feasible nodes to [MinNodeScore, MaxNodeScore] once they are known.
type NormalizeScorePlugin interface {
	ScorePlugin
	NormalizeScore(ctx context.Context, state *CycleState, pod *types.Pod, scores []NodeScore) *Status
}

// NodeScore is one node's score.
type NodeScore struct {
	Name  string
	Score int64
}

// Factory makes a plugin from its arguments in the scheduler config
// (raw JSON, nil when none were given).
type Factory func(args json.RawMessage) (Plugin, error)

// Registry maps plugin names to factories.
type Registry map[string]Factory

// Register adds a factory; a name registered twice is an error.
func (r Registry) Register(name string, f Factory) error {
	if _, ok := r[name]; ok {
		return fmt.Errorf("plugin %q: already registered", name)
	}
	r[name] = f
	return nil
}

// Merge adds every factory of other; a name in both is an error.
func (r Registry) Merge(other Registry) error {
	for name, f := range other {
		if err := r.Register(name, f); err != nil {
			return err
		}
	}
	return nil
}

// Names returns the registered names, sorted.
func (r Registry) Names() []string {
	out := make([]string, 0, len(r))
	for n := range r {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// PluginFactory adapts a constructor without arguments to a Factory that
// rejects arguments.
func PluginFactory(newPlugin func() Plugin) Factory {
	return func(args json.RawMessage) (Plugin, error) {
		if len(args) != 0 && string(args) != "null" && string(args) != "{}" {
			return nil, fmt.Errorf("plugin %q takes no arguments", newPlugin().Name())
		}
		return newPlugin(), nil
	}
}
