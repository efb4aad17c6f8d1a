package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/wharfhq/wharf/api/labels"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

func init() { verbs = append(verbs, newLogsCmd, newExecCmd) }

type logsOptions struct {
	container  string
	follow     bool
	tail       int64
	timestamps bool
	previous   bool
	since      time.Duration
	limitBytes int64
	selector   string
	prefix     bool
}

func newLogsCmd(a *app) *cobra.Command {
	o := &logsOptions{}
	cmd := &cobra.Command{
		Use:   "logs (POD | TYPE/NAME | -l SELECTOR)",
		Short: "Print the logs of a container of a Pod",
		Long: `Print the logs of a container of a Pod (its stdout and stderr, kept by the
node). The API server fetches them from the agent of the Pod's node. Without
-c, the container is the one the kubectl.kubernetes.io/default-container
annotation names, else the first (said on stderr when there are others).
TYPE/NAME (deploy/web, job/count, ...) picks one of the object's Pods, a
running one first; -l prints the logs of every Pod matching a label
selector (followed together with -f).`,
		Example: `  # The logs of the only container of pod web
  wharf logs web

  # Follow the last 10 lines of container app, with timestamps
  wharf logs -f web -c app --tail 10 --timestamps

  # The logs of the previous (crashed) run
  wharf logs web --previous

  # A Pod of deployment web, then every Pod of job count, prefixed
  wharf logs deploy/web
  wharf logs -l batch.kubernetes.io/job-name=count --prefix`,
		Args: func(cmd *cobra.Command, args []string) error {
			if o.selector != "" {
				return cobra.NoArgs(cmd, args)
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.selector != "" {
				return runLogsSelector(cmd.Context(), a, o)
			}
			pod, err := podOf(cmd.Context(), a, args[0])
			if err != nil {
				return err
			}
			return runLogs(cmd.Context(), a, o, pod, a.out)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.container, "container", "c", "", "container name (default: the one the kubectl.kubernetes.io/default-container annotation names, else the first)")
	f.BoolVarP(&o.follow, "follow", "f", false, "keep streaming new lines until the container ends")
	f.Int64Var(&o.tail, "tail", -1, "lines from the end to show (-1: all)")
	f.BoolVar(&o.timestamps, "timestamps", false, "prefix each line with its RFC 3339 timestamp")
	f.BoolVarP(&o.previous, "previous", "p", false, "the previous run of the container (after a restart)")
	f.DurationVar(&o.since, "since", 0, "only lines newer than this (e.g. 5m)")
	f.Int64Var(&o.limitBytes, "limit-bytes", 0, "stop after this many bytes")
	f.StringVarP(&o.selector, "selector", "l", "", "the logs of every Pod matching this label selector")
	f.BoolVar(&o.prefix, "prefix", false, "prefix each line with [pod/NAME/CONTAINER]")
	return cmd
}

// podURL is the URL of a Pod subresource with a query.
func podURL(a *app, pod, sub string, q url.Values) (string, error) {
	c, err := a.Client()
	if err != nil {
		return "", err
	}
	base := strings.TrimSuffix(c.Server(), "/")
	return fmt.Sprintf("%s/api/v1/namespaces/%s/pods/%s/%s?%s", base, url.PathEscape(a.namespace), url.PathEscape(pod), sub, q.Encode()), nil
}

// authHeader is the Authorization header for --token.
func authHeader(a *app) http.Header {
	h := http.Header{}
	if a.token != "" {
		h.Set("Authorization", "Bearer "+a.token)
	}
	return h
}

func runLogs(ctx context.Context, a *app, o *logsOptions, pod string, out io.Writer) error {
	q := url.Values{}
	container := o.container
	if container == "" {
		var err error
		if container, err = defaultContainer(ctx, a, pod, a.errOut); err != nil {
			return err
		}
	}
	q.Set("container", container)
	if o.follow {
		q.Set("follow", "true")
	}
	if o.tail >= 0 {
		q.Set("tailLines", strconv.FormatInt(o.tail, 10))
	}
	if o.timestamps {
		q.Set("timestamps", "true")
	}
	if o.previous {
		q.Set("previous", "true")
	}
	if o.since > 0 {
		q.Set("sinceSeconds", strconv.FormatInt(int64((o.since+time.Second-1)/time.Second), 10))
	}
	if o.limitBytes > 0 {
		q.Set("limitBytes", strconv.FormatInt(o.limitBytes, 10))
	}
	u, err := podURL(a, pod, "log", q)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header = authHeader(a)
	hc, err := a.httpClient()
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return statusFromBody(resp)
	}
	if o.prefix {
		out = &prefixWriter{w: out, prefix: fmt.Sprintf("[pod/%s/%s] ", pod, container)}
	}
	if _, err := io.Copy(out, resp.Body); err != nil && ctx.Err() == nil {
		return fmt.Errorf("reading the logs: %w", err)
	}
	return nil
}

// statusFromBody turns an error answer into its Status, printed as its
// message like every other answer of the server.
func statusFromBody(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var st types.Status
	if json.Unmarshal(b, &st) == nil && st.Message != "" {
		return &st
	}
	return fmt.Errorf("the server answered %s: %s", resp.Status, strings.TrimSpace(string(b)))
}

// podOf resolves a logs argument: a Pod name, pod/NAME, or TYPE/NAME of an
// object with a label selector (Deployment, ReplicaSet, StatefulSet,
// DaemonSet, Job, Service), whose running Pod (else oldest) is taken.
func podOf(ctx context.Context, a *app, arg string) (string, error) {
	kind, name, ok := strings.Cut(arg, "/")
	if !ok {
		return arg, nil
	}
	res, err := lookupResource(kind)
	if err != nil {
		return "", err
	}
	if res.Group == "" && res.Name == "pods" {
		return name, nil
	}
	c, err := a.Client()
	if err != nil {
		return "", err
	}
	obj, err := c.Resource(res).Namespace(a.namespace).Get(ctx, name)
	if err != nil {
		return "", err
	}
	sel, err := selectorOf(obj)
	if err != nil {
		return "", fmt.Errorf("%s/%s: %w", res.Name, name, err)
	}
	pods, err := sdk.Typed[*types.Pod](c).Namespace(a.namespace).List(ctx, sdk.ListOptions{LabelSelector: sel})
	if err != nil {
		return "", err
	}
	if len(pods.Items) == 0 {
		return "", fmt.Errorf("%s/%s has no pods (selector %s)", res.Name, name, sel)
	}
	best := slices.MinFunc(pods.Items, func(x, y *types.Pod) int {
		if rx, ry := x.Status.Phase == types.PodRunning, y.Status.Phase == types.PodRunning; rx != ry {
			if rx {
				return -1
			}
			return 1
		}
		return x.CreationTimestamp.Compare(y.CreationTimestamp.Time)
	})
	return best.Name, nil
}

// selectorOf returns the label selector (as a string) of an object whose
// spec has one: a LabelSelector (workloads) or a plain map (Services).
func selectorOf(obj types.Object) (string, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return "", err
	}
	var ls struct {
		Spec struct {
			Selector *types.LabelSelector `json:"selector"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(b, &ls); err == nil && ls.Spec.Selector != nil &&
		len(ls.Spec.Selector.MatchLabels)+len(ls.Spec.Selector.MatchExpressions) > 0 {
		sel, err := labels.FromLabelSelector(ls.Spec.Selector)
		if err != nil {
			return "", err
		}
		return sel.String(), nil
	}
	var m struct {
		Spec struct {
			Selector map[string]string `json:"selector"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(b, &m); err == nil && len(m.Spec.Selector) > 0 {
		return labels.SelectorFromSet(m.Spec.Selector).String(), nil
	}
	return "", errors.New("it selects no pods (no spec.selector)")
}

// runLogsSelector prints the logs of every Pod matching -l: one after the
// other, or all at once when following.
func runLogsSelector(ctx context.Context, a *app, o *logsOptions) error {
	c, err := a.Client()
	if err != nil {
		return err
	}
	pods, err := sdk.Typed[*types.Pod](c).Namespace(a.namespace).List(ctx, sdk.ListOptions{LabelSelector: o.selector})
	if err != nil {
		return err
	}
	if len(pods.Items) == 0 {
		fmt.Fprintf(a.errOut, "No resources found in %s namespace.\n", a.namespace)
		return nil
	}
	if !o.follow {
		for _, p := range pods.Items {
			if err := runLogs(ctx, a, o, p.Name, a.out); err != nil {
				return fmt.Errorf("pod %s: %w", p.Name, err)
			}
		}
		return nil
	}
	out := &lockedWriter{w: a.out}
	var wg sync.WaitGroup
	errs := make([]error, len(pods.Items))
	for i, p := range pods.Items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lw := &lineWriter{w: out}
			if err := runLogs(ctx, a, o, p.Name, lw); err != nil {
				errs[i] = fmt.Errorf("pod %s: %w", p.Name, err)
			}
			_, _ = out.Write(lw.buf) // an unfinished last line
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// prefixWriter prefixes every line.
type prefixWriter struct {
	w      io.Writer
	prefix string
	mid    bool // inside a line
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	var buf []byte
	for _, c := range b {
		if !p.mid {
			buf = append(buf, p.prefix...)
			p.mid = true
		}
		buf = append(buf, c)
		if c == '\n' {
			p.mid = false
		}
	}
	if _, err := p.w.Write(buf); err != nil {
		return 0, err
	}
	return len(b), nil
}

// lineWriter passes whole lines on, so that followed streams of several
// Pods interleave by line.
type lineWriter struct {
	w   io.Writer
	buf []byte
}

func (l *lineWriter) Write(b []byte) (int, error) {
	l.buf = append(l.buf, b...)
	if i := bytes.LastIndexByte(l.buf, '\n'); i >= 0 {
		if _, err := l.w.Write(l.buf[:i+1]); err != nil {
			return 0, err
		}
		l.buf = append(l.buf[:0], l.buf[i+1:]...)
	}
	return len(b), nil
}

// lockedWriter serialises writes.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
