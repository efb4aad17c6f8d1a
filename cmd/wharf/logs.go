package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wharfhq/wharf/api/types"
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
}

func newLogsCmd(a *app) *cobra.Command {
	o := &logsOptions{}
	cmd := &cobra.Command{
		Use:   "logs POD",
		Short: "Print the logs of a container of a Pod",
		Long: `Print the logs of a container of a Pod (its stdout and stderr, kept by the
node). The API server fetches them from the agent of the Pod's node. A Pod
with one container needs no -c.`,
		Example: `  # The logs of the only container of pod web
  wharf logs web

  # Follow the last 10 lines of container app, with timestamps
  wharf logs -f web -c app --tail 10 --timestamps

  # The logs of the previous (crashed) run
  wharf logs web --previous`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLogs(cmd.Context(), a, o, args[0])
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.container, "container", "c", "", "container name (default: the Pod's only container)")
	f.BoolVarP(&o.follow, "follow", "f", false, "keep streaming new lines until the container ends")
	f.Int64Var(&o.tail, "tail", -1, "lines from the end to show (-1: all)")
	f.BoolVar(&o.timestamps, "timestamps", false, "prefix each line with its RFC 3339 timestamp")
	f.BoolVarP(&o.previous, "previous", "p", false, "the previous run of the container (after a restart)")
	f.DurationVar(&o.since, "since", 0, "only lines newer than this (e.g. 5m)")
	f.Int64Var(&o.limitBytes, "limit-bytes", 0, "stop after this many bytes")
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

func runLogs(ctx context.Context, a *app, o *logsOptions, pod string) error {
	q := url.Values{}
	if o.container != "" {
		q.Set("container", o.container)
	}
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
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return statusFromBody(resp)
	}
	if _, err := io.Copy(a.out, resp.Body); err != nil && ctx.Err() == nil {
		return fmt.Errorf("reading the logs: %w", err)
	}
	return nil
}

// statusFromBody turns an error answer into an error with its Status
// message, as kubectl prints it.
func statusFromBody(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var st types.Status
	if json.Unmarshal(b, &st) == nil && st.Message != "" {
		return fmt.Errorf("%s (%s)", st.Message, st.Reason)
	}
	return fmt.Errorf("the server answered %s: %s", resp.Status, strings.TrimSpace(string(b)))
}
