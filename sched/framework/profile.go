package framework

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// ErrNoNodesAvailable: the cluster has no node to schedule on.
var ErrNoNodesAvailable = errors.New("no nodes available to schedule pods")

// Sampling bounds, as in Kubernetes' percentageOfNodesToScore: in a large
// cluster the filters stop once enough feasible nodes are found, and only
// those are scored.
const (
	// MinFeasibleNodesToFind: clusters smaller than this are always
	// searched in full, and at least this many feasible nodes are sought.
	MinFeasibleNodesToFind = 100
	// MinFeasibleNodesPercentageToFind is the floor of the adaptive
	// percentage.
	MinFeasibleNodesPercentageToFind = 5
)

// PluginSpec enables one plugin: its name in the Registry, its score weight
// (0 means 1; ignored for plugins that do not score), and its arguments.
type PluginSpec struct {
	Name   string          `json:"name"`
	Weight int64           `json:"weight,omitempty"`
	Args   json.RawMessage `json:"args,omitempty"`
}

// ProfileOptions tune how a Profile searches.
type ProfileOptions struct {
	// PercentageOfNodesToScore is the share of nodes (1-100) the filters
	// look for before stopping; 0 picks it from the cluster size
	// (50% minus 1% per 125 nodes, at least 5%), as Kubernetes does.
	PercentageOfNodesToScore int32
	// Parallelism is how many goroutines run filters and scores; 0 means
	// GOMAXPROCS.
	Parallelism int
}

type scorePlugin struct {
	ScorePlugin
	weight    int64
	normalize NormalizeScorePlugin
}

// Profile is a set of enabled plugins and the algorithm that runs them:
// Schedule takes a Snapshot and a Pod and returns a node or a *FitError.
// A Profile keeps scratch buffers and the node it starts the next search
// at; Schedule calls are serialized.
type Profile struct {
	preFilters []PreFilterPlugin
	filters    []FilterPlugin
	preScores  []PreScorePlugin
	scores     []scorePlugin
	opts       ProfileOptions
	// events holds what can cure each plugin's rejections, by name.
	events map[string]ClusterEvent

	mu        sync.Mutex
	nextStart int
	statuses  []*Status
	feasible  []*NodeInfo
	totals    []int64
	perPlugin [][]NodeScore
}

// NewProfile builds the plugins named in specs from reg. Filters run in
// the order given.
func NewProfile(reg Registry, specs []PluginSpec, opts ProfileOptions) (*Profile, error) {
	plugins := make([]Plugin, 0, len(specs))
	weights := make(map[string]int64, len(specs))
	seen := map[string]bool{}
	for _, s := range specs {
		if seen[s.Name] {
			return nil, fmt.Errorf("plugin %q: enabled twice", s.Name)
		}
		seen[s.Name] = true
		f, ok := reg[s.Name]
		if !ok {
			return nil, fmt.Errorf("plugin %q: not registered (known: %v)", s.Name, reg.Names())
		}
		if s.Weight < 0 {
			return nil, fmt.Errorf("plugin %q: weight %d is negative", s.Name, s.Weight)
		}
		p, err := f(s.Args)
		if err != nil {
			return nil, fmt.Errorf("plugin %q: %w", s.Name, err)
		}
		plugins = append(plugins, p)
		weights[p.Name()] = s.Weight
	}
	return NewProfileFromPlugins(plugins, weights, opts)
}

// NewProfileFromPlugins builds a profile from plugin instances; weights
// gives score weights by plugin name (missing or 0 means 1).
func NewProfileFromPlugins(plugins []Plugin, weights map[string]int64, opts ProfileOptions) (*Profile, error) {
	if opts.PercentageOfNodesToScore < 0 || opts.PercentageOfNodesToScore > 100 {
		return nil, fmt.Errorf("percentageOfNodesToScore %d: must be between 0 and 100", opts.PercentageOfNodesToScore)
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = runtime.GOMAXPROCS(0)
	}
	p := &Profile{opts: opts, events: make(map[string]ClusterEvent, len(plugins))}
	for _, pl := range plugins {
		p.events[pl.Name()] = eventsOf(pl)
		used := false
		if f, ok := pl.(PreFilterPlugin); ok {
			p.preFilters, used = append(p.preFilters, f), true
		}
		if f, ok := pl.(FilterPlugin); ok {
			p.filters, used = append(p.filters, f), true
		}
		if s, ok := pl.(ScorePlugin); ok {
			w := weights[pl.Name()]
			if w == 0 {
				w = 1
			}
			sp := scorePlugin{ScorePlugin: s, weight: w}
			sp.normalize, _ = pl.(NormalizeScorePlugin)
			p.scores, used = append(p.scores, sp), true
			if ps, ok := pl.(PreScorePlugin); ok {
				p.preScores = append(p.preScores, ps)
			}
		}
		if !used {
			return nil, fmt.Errorf("plugin %q implements no extension point (Filter, PreFilter or Score)", pl.Name())
		}
	}
	return p, nil
}

// Result is a placement.
type Result struct {
	// Node is the chosen node.
	Node string
	// Evaluated is how many nodes the filters ran on; Feasible how many
	// passed them.
	Evaluated, Feasible int
}

// Diagnosis records why each node was refused.
type Diagnosis struct {
	// NodeToStatus holds the refusal of each node the filters rejected.
	NodeToStatus map[string]*Status
	// PreFilterStatus is set when a PreFilter refused the Pod outright.
	PreFilterStatus *Status
}

// FitError says that no node fits a Pod, and why.
type FitError struct {
	Pod         *PodInfo
	NumAllNodes int
	Diagnosis   Diagnosis
}

// Error sums up the refusals as Kubernetes does: "0/5 nodes are available:
// 2 Insufficient memory, 1 node(s) had untolerated taint {gpu: true}."
func (f *FitError) Error() string {
	if f.Diagnosis.PreFilterStatus != nil {
		return fmt.Sprintf("0/%d nodes are available: %s.", f.NumAllNodes, f.Diagnosis.PreFilterStatus.Message())
	}
	return fmt.Sprintf("0/%d nodes are available: %s.", f.NumAllNodes, SummarizeReasons(f.Diagnosis.NodeToStatus))
}

// Schedule picks a node for pod in snapshot, or returns a *FitError saying
// why none fits (or another error when a plugin failed).
func (p *Profile) Schedule(ctx context.Context, snapshot *Snapshot, pod *PodInfo) (Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	all := snapshot.List()
	if len(all) == 0 {
		return Result{}, ErrNoNodesAvailable
	}
	state := NewCycleState(pod, snapshot)

	skipFilter := map[string]bool{}
	for _, pl := range p.preFilters {
		st := pl.PreFilter(ctx, state, pod.Pod, snapshot)
		switch {
		case st.IsSuccess():
		case st.IsSkip():
			skipFilter[pl.Name()] = true
		case st.IsRejected():
			return Result{}, &FitError{Pod: pod, NumAllNodes: len(all), Diagnosis: Diagnosis{PreFilterStatus: st.WithPlugin(pl.Name())}}
		default:
			return Result{}, fmt.Errorf("prefilter plugin %q: %w", pl.Name(), st.AsError())
		}
	}
	filters := p.filters
	if len(skipFilter) > 0 {
		filters = make([]FilterPlugin, 0, len(p.filters))
		for _, f := range p.filters {
			if !skipFilter[f.Name()] {
				filters = append(filters, f)
			}
		}
	}

	feasible, evaluated, err := p.findFeasible(ctx, state, pod, all, filters)
	if err != nil {
		return Result{}, err
	}
	if len(feasible) == 0 {
		d := Diagnosis{NodeToStatus: make(map[string]*Status, len(all))}
		for i, st := range p.statuses[:len(all)] {
			if st != nil {
				d.NodeToStatus[all[i].Name] = st
			}
		}
		return Result{}, &FitError{Pod: pod, NumAllNodes: len(all), Diagnosis: d}
	}
	res := Result{Evaluated: evaluated, Feasible: len(feasible)}
	if len(feasible) == 1 {
		res.Node = feasible[0].Name
		return res, nil
	}
	best, err := p.score(ctx, state, pod, feasible)
	if err != nil {
		return Result{}, err
	}
	res.Node = best.Name
	return res, nil
}

// numFeasibleNodesToFind is how many feasible nodes the search stops at.
func (p *Profile) numFeasibleNodesToFind(numAll int) int {
	if numAll < MinFeasibleNodesToFind {
		return numAll
	}
	pct := int(p.opts.PercentageOfNodesToScore)
	if pct == 0 {
		pct = max(50-numAll/125, MinFeasibleNodesPercentageToFind)
	}
	if pct >= 100 {
		return numAll
	}
	return max(numAll*pct/100, MinFeasibleNodesToFind)
}

// findFeasible runs the filters over the nodes, starting where the
// previous search stopped so that every node gets its turn, until enough
// feasible nodes are found. Refusals are left in p.statuses by node index.
func (p *Profile) findFeasible(ctx context.Context, state *CycleState, pod *PodInfo, all []*NodeInfo, filters []FilterPlugin) ([]*NodeInfo, int, error) {
	n := len(all)
	want := p.numFeasibleNodesToFind(n)
	if cap(p.statuses) < n {
		p.statuses = make([]*Status, n)
	}
	p.statuses = p.statuses[:n]
	clear(p.statuses)
	if cap(p.feasible) < want {
		p.feasible = make([]*NodeInfo, want)
	}
	feasible := p.feasible[:want]
	clear(feasible)
	start := p.nextStart % n

	var found, processed atomic.Int64
	var firstErr error
	var errOnce sync.Once
	parallelize(p.opts.Parallelism, n, func(i int) bool {
		if found.Load() >= int64(want) {
			return false
		}
		idx := (start + i) % n
		ni := all[idx]
		st := runFilters(ctx, state, pod, ni, filters)
		processed.Add(1)
		switch {
		case st.IsSuccess():
			k := found.Add(1)
			if k > int64(want) {
				found.Add(-1)
				return false
			}
			feasible[k-1] = ni
			return k < int64(want)
		case st.IsRejected():
			p.statuses[idx] = st
		default:
			errOnce.Do(func() { firstErr = fmt.Errorf("filter plugin %q on node %q: %w", st.Plugin(), ni.Name, st.AsError()) })
			return false
		}
		return ctx.Err() == nil
	})
	if firstErr != nil {
		return nil, 0, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	p.nextStart = (start + int(processed.Load())) % n
	k := int(found.Load())
	// In parallel runs a feasible slot may be claimed but not yet written
	// when another worker stops; compact the ones written.
	out := feasible[:0]
	for _, f := range feasible[:k] {
		if f != nil {
			out = append(out, f)
		}
	}
	return out, int(processed.Load()), nil
}

// runFilters runs every filter on one node and returns the first refusal.
func runFilters(ctx context.Context, state *CycleState, pod *PodInfo, ni *NodeInfo, filters []FilterPlugin) *Status {
	for _, f := range filters {
		if st := f.Filter(ctx, state, pod.Pod, ni); !st.IsSuccess() {
			return st.WithPlugin(f.Name())
		}
	}
	return nil
}

// score runs PreScore, Score and NormalizeScore and returns the node with
// the highest weighted sum; ties go to the node found first.
func (p *Profile) score(ctx context.Context, state *CycleState, pod *PodInfo, nodes []*NodeInfo) (NodeScore, error) {
	skip := map[string]bool{}
	for _, pl := range p.preScores {
		st := pl.PreScore(ctx, state, pod.Pod, nodes)
		switch {
		case st.IsSuccess():
		case st.IsSkip():
			skip[pl.Name()] = true
		default:
			return NodeScore{}, fmt.Errorf("prescore plugin %q: %w", pl.Name(), st.AsError())
		}
	}
	active := make([]scorePlugin, 0, len(p.scores))
	for _, s := range p.scores {
		if !skip[s.Name()] {
			active = append(active, s)
		}
	}
	if len(active) == 0 {
		return NodeScore{Name: nodes[0].Name}, nil
	}
	// Score buffers are kept across calls (Schedule calls are serialized).
	if cap(p.totals) < len(nodes) {
		p.totals = make([]int64, len(nodes))
	}
	totals := p.totals[:len(nodes)]
	clear(totals)
	for len(p.perPlugin) < len(active) {
		p.perPlugin = append(p.perPlugin, nil)
	}
	perPlugin := p.perPlugin[:len(active)]
	for j := range perPlugin {
		if cap(perPlugin[j]) < len(nodes) {
			perPlugin[j] = make([]NodeScore, len(nodes))
		}
		perPlugin[j] = perPlugin[j][:len(nodes)]
	}
	var firstErr error
	var errOnce sync.Once
	parallelize(p.opts.Parallelism, len(nodes), func(i int) bool {
		for j, s := range active {
			v, st := s.Score(ctx, state, pod.Pod, nodes[i])
			if !st.IsSuccess() {
				errOnce.Do(func() { firstErr = fmt.Errorf("score plugin %q on node %q: %w", s.Name(), nodes[i].Name, st.AsError()) })
				return false
			}
			perPlugin[j][i] = NodeScore{Name: nodes[i].Name, Score: v}
		}
		return true
	})
	if firstErr != nil {
		return NodeScore{}, firstErr
	}
	for j, s := range active {
		if s.normalize != nil {
			if st := s.normalize.NormalizeScore(ctx, state, pod.Pod, perPlugin[j]); !st.IsSuccess() {
				return NodeScore{}, fmt.Errorf("normalize score plugin %q: %w", s.Name(), st.AsError())
			}
		}
		for i := range nodes {
			totals[i] += perPlugin[j][i].Score * s.weight
		}
	}
	best := 0
	for i := 1; i < len(nodes); i++ {
		if totals[i] > totals[best] {
			best = i
		}
	}
	return NodeScore{Name: nodes[best].Name, Score: totals[best]}, nil
}
