package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

func init() { verbs = append(verbs, newTopCmd) }

// metricsAPI is the path of the resource metrics API the server serves
// from the usage the agents publish (api/server/metricsapi.go).
const metricsAPI = "/apis/" + types.GroupMetrics + "/" + types.MetricsVersion

// topOptions are the flags of `wharf top pod|node`.
type topOptions struct {
	selector      string
	fieldSelector string
	allNamespaces bool
	containers    bool
	showCapacity  bool
	noHeaders     bool
	sortBy        string
}

func newTopCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "top pod|node",
		Short: "Show the CPU and memory use of Pods or Nodes",
		Long: `Show the CPU and memory use of Pods or Nodes, as kubectl top does, from the
metrics.k8s.io API: agents measure their Pods (and their machine) every 15
seconds and the server serves the last measure, as long as it is recent: a
Pod or Node whose agent stopped measuring it has no metrics after about four
minutes (a Node shows <unknown>). A Pod just started has no metrics until it
has run through two measures.`,
		Example: `  # The pods of the default namespace, and of every namespace
  wharf top pod
  wharf top pod -A

  # Each container of the pods labelled app=web
  wharf top pod -l app=web --containers

  # The nodes, with the share of their allocatable CPU and memory in use
  wharf top node`,
	}
	cmd.AddCommand(newTopPodCmd(a), newTopNodeCmd(a))
	return cmd
}

func (o *topOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&o.selector, "selector", "l", "", "label selector (e.g. app=web,tier!=db)")
	f.BoolVar(&o.noHeaders, "no-headers", false, "print the table without its header line")
	f.StringVar(&o.sortBy, "sort-by", "", "sort by cpu or memory, largest first")
}

func newTopPodCmd(a *app) *cobra.Command {
	o := &topOptions{}
	cmd := &cobra.Command{
		Use:     "pod [NAME]",
		Aliases: []string{"pods", "po"},
		Short:   "Show the CPU and memory use of Pods",
		Example: `  # The pods of the default namespace
  wharf top pod

  # One pod, each of its containers
  wharf top pod web-7d4b9 --containers

  # The pods of every namespace, the busiest first
  wharf top pod -A --sort-by=cpu

  # The pods of a namespace with a label
  wharf top pod -n shop -l app=web`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTopPod(cmd.Context(), a, o, args)
		},
	}
	o.addFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&o.fieldSelector, "field-selector", "", "field selector (e.g. metadata.name=web)")
	f.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "list the pods of every namespace")
	f.BoolVar(&o.containers, "containers", false, "show each container of the pods")
	return cmd
}

func newTopNodeCmd(a *app) *cobra.Command {
	o := &topOptions{}
	cmd := &cobra.Command{
		Use:     "node [NAME]",
		Aliases: []string{"nodes", "no"},
		Short:   "Show the CPU and memory use of Nodes",
		Long: `Show the CPU and memory use of Nodes, and their share of each Node's
allocatable CPU and memory. A Node's use is its whole machine's, as the
agent reads it from /proc.`,
		Example: `  # Every node
  wharf top node

  # The nodes labelled for Wasm, the fullest first
  wharf top node -l wharf.dev/runtime-wasm=true --sort-by=memory`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTopNode(cmd.Context(), a, o, args)
		},
	}
	o.addFlags(cmd)
	cmd.Flags().BoolVar(&o.showCapacity, "show-capacity", false, "compute the percentages of the Nodes' capacity, not their allocatable")
	return cmd
}

// validate checks the options that do not need the server.
func (o *topOptions) validate(args []string) error {
	if o.sortBy != "" && o.sortBy != "cpu" && o.sortBy != "memory" {
		return usageError{fmt.Errorf("--sort-by %q: want cpu or memory", o.sortBy)}
	}
	if len(args) > 0 && (o.selector != "" || o.fieldSelector != "") {
		return usageError{errors.New("a NAME and a selector (-l, --field-selector) cannot be given together")}
	}
	return nil
}

// getMetrics reads one answer of the metrics API into out.
func getMetrics(ctx context.Context, c *sdk.Client, p string, q url.Values, out any) error {
	b, err := c.GetRaw(ctx, p, q)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decode %s: %w", p, err)
	}
	return nil
}

func listQuery(o *topOptions) url.Values {
	q := url.Values{}
	if o.selector != "" {
		q.Set("labelSelector", o.selector)
	}
	if o.fieldSelector != "" {
		q.Set("fieldSelector", o.fieldSelector)
	}
	return q
}

func runTopPod(ctx context.Context, a *app, o *topOptions, args []string) error {
	if err := o.validate(args); err != nil {
		return err
	}
	c, err := a.Client()
	if err != nil {
		return err
	}
	ns := a.namespace
	var items []types.PodMetrics
	switch {
	case len(args) == 1:
		var m types.PodMetrics
		if err := getMetrics(ctx, c, path.Join(metricsAPI, "namespaces", ns, "pods", args[0]), nil, &m); err != nil {
			return err
		}
		items = []types.PodMetrics{m}
	default:
		p := path.Join(metricsAPI, "namespaces", ns, "pods")
		if o.allNamespaces {
			p, ns = metricsAPI+"/pods", ""
		}
		var l types.PodMetricsList
		if err := getMetrics(ctx, c, p, listQuery(o), &l); err != nil {
			return err
		}
		items = l.Items
	}
	if len(items) == 0 {
		return noPodMetrics(ctx, a, c, o, ns)
	}
	sortPodMetrics(items, o.sortBy)
	printPodMetrics(a.out, items, o)
	return nil
}

// metricsDelay is how long kubectl top waits for a new Pod's metrics
// before it calls their absence an error of the Pod.
const metricsDelay = 2 * time.Minute

// noPodMetrics explains an empty list as kubectl does: a Pod older than
// metricsDelay without metrics is named, younger ones are "not available
// yet", and no Pods at all is a note on stderr.
func noPodMetrics(ctx context.Context, a *app, c *sdk.Client, o *topOptions, ns string) error {
	pods, err := sdk.Typed[*types.Pod](c).Namespace(ns).List(ctx, sdk.ListOptions{
		LabelSelector: o.selector, FieldSelector: o.fieldSelector})
	if err != nil {
		return err
	}
	if len(pods.Items) > 0 {
		for _, p := range pods.Items {
			if age := time.Since(p.CreationTimestamp.Time); age > metricsDelay {
				// kubectl's words, capital M included.
				return fmt.Errorf("Metrics not available for pod %s/%s, age: %s", p.Namespace, p.Name, humanDuration(age))
			}
		}
		return errors.New("metrics not available yet: a Pod has metrics once it has run through two of its agent's measures (15s apart)")
	}
	if ns == "" {
		fmt.Fprintln(a.errOut, "No resources found")
	} else {
		fmt.Fprintf(a.errOut, "No resources found in %s namespace.\n", ns)
	}
	return nil
}

// sortPodMetrics sorts by the named resource, largest first (else keeps
// the server's order: namespace, then name).
func sortPodMetrics(items []types.PodMetrics, by string) {
	if by == "" {
		return
	}
	res := resourceOf(by)
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i].Total()[res], items[j].Total()[res]
		return a.Cmp(b) > 0
	})
}

func resourceOf(by string) types.ResourceName {
	if by == "memory" {
		return types.ResourceMemory
	}
	return types.ResourceCPU
}

// formatCPU and formatMemory print usage as kubectl top does: millicores
// and mebibytes.
func formatCPU(rl types.ResourceList) string {
	q := rl[types.ResourceCPU]
	return fmt.Sprintf("%dm", q.MilliValue())
}

func formatMemory(rl types.ResourceList) string {
	q := rl[types.ResourceMemory]
	return fmt.Sprintf("%dMi", q.Value()/(1<<20))
}

// printPodMetrics prints the Pods' (or their containers') usage. Every
// cell ends with a tab, as kubectl top's do: its columns, the last too,
// are padded alike.
func printPodMetrics(out io.Writer, items []types.PodMetrics, o *topOptions) {
	w := newTabWriter(out)
	defer w.Flush()
	withNS := o.allNamespaces
	if !o.noHeaders {
		if withNS {
			fmt.Fprint(w, "NAMESPACE\t")
		}
		if o.containers {
			fmt.Fprint(w, "POD\t")
		}
		fmt.Fprintln(w, "NAME\tCPU(cores)\tMEMORY(bytes)\t")
	}
	for i := range items {
		m := &items[i]
		prefix := ""
		if withNS {
			prefix = m.Namespace + "\t"
		}
		if !o.containers {
			total := m.Total()
			fmt.Fprintf(w, "%s%s\t%s\t%s\t\n", prefix, m.Name, formatCPU(total), formatMemory(total))
			continue
		}
		for _, c := range m.Containers {
			fmt.Fprintf(w, "%s%s\t%s\t%s\t%s\t\n", prefix, m.Name, c.Name, formatCPU(c.Usage), formatMemory(c.Usage))
		}
	}
}

func runTopNode(ctx context.Context, a *app, o *topOptions, args []string) error {
	if err := o.validate(args); err != nil {
		return err
	}
	c, err := a.Client()
	if err != nil {
		return err
	}
	nodeClient := sdk.Typed[*types.Node](c)
	var nodes []*types.Node
	var items []types.NodeMetrics
	if len(args) == 1 {
		var m types.NodeMetrics
		if err := getMetrics(ctx, c, path.Join(metricsAPI, "nodes", args[0]), nil, &m); err != nil {
			return err
		}
		n, err := nodeClient.Get(ctx, args[0])
		if err != nil {
			return err
		}
		items, nodes = []types.NodeMetrics{m}, []*types.Node{n}
	} else {
		var l types.NodeMetricsList
		if err := getMetrics(ctx, c, metricsAPI+"/nodes", listQuery(o), &l); err != nil {
			return err
		}
		nl, err := nodeClient.List(ctx, sdk.ListOptions{LabelSelector: o.selector})
		if err != nil {
			return err
		}
		items, nodes = l.Items, nl.Items
	}
	if len(nodes) == 0 {
		fmt.Fprintln(a.errOut, "No resources found")
		return nil
	}
	if len(items) == 0 {
		return errors.New("metrics not available yet: a Node has metrics once its agent has measured it twice (15s apart), and none once its agent has stopped measuring it for about four minutes")
	}
	if o.sortBy != "" {
		res := resourceOf(o.sortBy)
		sort.SliceStable(items, func(i, j int) bool {
			a, b := items[i].Usage[res], items[j].Usage[res]
			return a.Cmp(b) > 0
		})
	}
	printNodeMetrics(a.out, items, nodes, o)
	return nil
}

// printNodeMetrics prints the Nodes with metrics, then (as kubectl does)
// those without, or with stale ones, with <unknown> values; every cell
// ends with a tab, as kubectl top's do.
func printNodeMetrics(out io.Writer, items []types.NodeMetrics, nodes []*types.Node, o *topOptions) {
	byName := map[string]*types.Node{}
	for _, n := range nodes {
		byName[n.Name] = n
	}
	w := newTabWriter(out)
	defer w.Flush()
	if !o.noHeaders {
		fmt.Fprintln(w, "NAME\tCPU(cores)\tCPU(%)\tMEMORY(bytes)\tMEMORY(%)\t")
	}
	printed := map[string]bool{}
	for _, m := range items {
		n, ok := byName[m.Name]
		if !ok {
			continue
		}
		printed[m.Name] = true
		alloc := n.Status.Allocatable
		if len(alloc) == 0 || o.showCapacity {
			alloc = n.Status.Capacity
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t\n", m.Name, formatCPU(m.Usage), percentOf(m.Usage, alloc, types.ResourceCPU),
			formatMemory(m.Usage), percentOf(m.Usage, alloc, types.ResourceMemory))
	}
	for _, n := range nodes {
		if !printed[n.Name] {
			fmt.Fprintf(w, "%s\t<unknown>\t<unknown>\t<unknown>\t<unknown>\t\n", n.Name)
		}
	}
}

// percentOf is usage's share of allocatable of one resource, truncated to
// a whole percent, computed as kubectl computes it.
func percentOf(usage, allocatable types.ResourceList, res types.ResourceName) string {
	u, a := usage[res], allocatable[res]
	if a.IsZero() {
		return "<unknown>"
	}
	return fmt.Sprintf("%d%%", int64(float64(u.MilliValue())/float64(a.MilliValue())*100))
}
