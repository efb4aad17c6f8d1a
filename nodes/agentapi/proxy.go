package agentapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/wharfhq/wharf/api/server"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/nodes/nodeinfo"
	"github.com/wharfhq/wharf/sdk"
)

// NodeGetter returns a Node by name.
type NodeGetter func(ctx context.Context, name string) (*types.Node, error)

// NodesFromClient is a NodeGetter over the API.
func NodesFromClient(c *sdk.Client) NodeGetter {
	nodes := sdk.Typed[*types.Node](c)
	return func(ctx context.Context, name string) (*types.Node, error) { return nodes.Get(ctx, name) }
}

// Proxy is the API server's server.NodeProxy: it forwards pods/log and
// pods/exec to the agent of the Pod's node (WebSocket upgrades included).
type Proxy struct {
	nodes atomic.Pointer[NodeGetter]
	rp    *httputil.ReverseProxy
	token string
}

// ProxyOption configures a Proxy.
type ProxyOption func(*Proxy)

// WithToken makes the Proxy send the agents' token (Config.Token) in
// place of the client's Authorization header.
func WithToken(token string) ProxyOption { return func(p *Proxy) { p.token = token } }

var _ server.NodeProxy = (*Proxy)(nil)

type targetKey struct{}

// NewProxy returns a Proxy reading Nodes with nodes, which may be nil and
// set later with SetNodes (the API server must exist before a client of
// it does); until then requests answer 503.
func NewProxy(nodes NodeGetter, opts ...ProxyOption) *Proxy {
	p := &Proxy{}
	for _, o := range opts {
		o(p)
	}
	if nodes != nil {
		p.nodes.Store(&nodes)
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			target := pr.In.Context().Value(targetKey{}).(*url.URL)
			pr.Out.URL = target
			pr.Out.Host = target.Host
			pr.Out.Header.Del("Authorization") // the client's API credentials stay here
			if p.token != "" {
				pr.Out.Header.Set("Authorization", "Bearer "+p.token)
			}
		},
		FlushInterval:  -1, // followed logs: pass every write on at once
		ModifyResponse: notStarted,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			target := r.Context().Value(targetKey{}).(*url.URL)
			writeStatus(w, http.StatusBadGateway, types.StatusReasonInternalError,
				fmt.Sprintf("cannot reach the agent at %s: %v", target.Host, err))
		},
	}
	return p
}

// SetNodes sets the NodeGetter.
func (p *Proxy) SetNodes(nodes NodeGetter) { p.nodes.Store(&nodes) }

// AgentAddress returns the host:port of a Node's agent API: the
// wharf.dev/agent-address annotation, else the InternalIP and the kubelet
// endpoint port.
func AgentAddress(n *types.Node) (string, error) {
	if a := n.Annotations[nodeinfo.AnnotationAgentAddress]; a != "" {
		return a, nil
	}
	port := n.Status.DaemonEndpoints.KubeletEndpoint.Port
	for _, a := range n.Status.Addresses {
		if a.Type == types.NodeInternalIP && port > 0 {
			return net.JoinHostPort(a.Address, strconv.Itoa(int(port))), nil
		}
	}
	return "", fmt.Errorf("node %q does not advertise its agent address", n.Name)
}

// ServePod implements server.NodeProxy.
func (p *Proxy) ServePod(w http.ResponseWriter, r *http.Request, pod *types.Pod, subresource string) {
	if subresource != "log" && subresource != "exec" {
		writeStatus(w, http.StatusNotImplemented, types.StatusReasonBadRequest,
			fmt.Sprintf("pods/%s is not supported by Wharf (log and exec are)", subresource))
		return
	}
	getter := p.nodes.Load()
	if getter == nil {
		writeStatus(w, http.StatusServiceUnavailable, types.StatusReasonInternalError, "the node proxy is not ready yet; retry")
		return
	}
	q := r.URL.Query()
	container, err := pickContainer(pod, q.Get("container"))
	if err != nil {
		writeStatus(w, http.StatusBadRequest, types.StatusReasonBadRequest, err.Error())
		return
	}
	node, err := (*getter)(r.Context(), pod.Spec.NodeName)
	if err != nil {
		code, reason := http.StatusInternalServerError, types.StatusReasonInternalError
		if sdk.IsNotFound(err) {
			code, reason = http.StatusNotFound, types.StatusReasonNotFound
		}
		writeStatus(w, code, reason, fmt.Sprintf("node %q of pod %q: %v", pod.Spec.NodeName, pod.Name, err))
		return
	}
	addr, err := AgentAddress(node)
	if err != nil {
		writeStatus(w, http.StatusServiceUnavailable, types.StatusReasonInternalError, err.Error())
		return
	}
	q.Del("container")
	target := &url.URL{
		Scheme:   "http",
		Host:     addr,
		Path:     fmt.Sprintf("/pods/%s/%s/containers/%s/%s", pod.Namespace, pod.Name, container, subresource),
		RawQuery: q.Encode(),
	}
	ctx := context.WithValue(r.Context(), targetKey{}, target)
	if subresource == "log" {
		ctx = context.WithValue(ctx, waitingKey{}, waitingMessage(pod, container))
	}
	p.rp.ServeHTTP(w, r.WithContext(ctx))
}

type waitingKey struct{}

// waitingMessage is the kubelet's answer to a log request for a
// container with no instance, from the Pod's status: "container "c" in
// pod "x" is waiting to start: REASON".
func waitingMessage(pod *types.Pod, container string) string {
	var w *types.ContainerStateWaiting
	for _, cs := range append(append([]types.ContainerStatus{}, pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...) {
		if cs.Name == container {
			w = cs.State.Waiting
		}
	}
	prefix := fmt.Sprintf("container %q in pod %q is waiting to start", container, pod.Name)
	switch {
	case w == nil || w.Reason == "":
		return prefix + " - no logs yet"
	case w.Reason == "ErrImagePull":
		return prefix + ": image can't be pulled"
	case w.Reason == "ImagePullBackOff":
		return prefix + ": trying and failing to pull image"
	default:
		return prefix + ": " + w.Reason
	}
}

// notStarted turns the agent's 404 to a log request for a container with
// no instance (ErrContainerNotFound) into the kubelet's 400 BadRequest
// saying why it waits.
func notStarted(resp *http.Response) error {
	msg, ok := resp.Request.Context().Value(waitingKey{}).(string)
	if !ok || resp.StatusCode != http.StatusNotFound {
		return nil
	}
	var st types.Status
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if err != nil {
		return err
	}
	if json.Unmarshal(b, &st) != nil || !strings.HasSuffix(st.Message, ErrContainerNotFound.Error()) {
		resp.Body = io.NopCloser(bytes.NewReader(b)) // some other 404: passed on as it is
		return nil
	}
	b, err = json.Marshal(&types.Status{
		TypeMeta: types.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   "Failure", Message: msg, Reason: types.StatusReasonBadRequest, Code: http.StatusBadRequest,
	})
	if err != nil {
		return err
	}
	resp.StatusCode, resp.Status = http.StatusBadRequest, "400 Bad Request"
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
	resp.Header.Del("Transfer-Encoding")
	return nil
}

// ErrNoContainer: the Pod has no container of that name.
var ErrNoContainer = errors.New("container not found in pod")

// pickContainer returns the named container, or the only one when name is
// empty, as the kubelet does.
func pickContainer(pod *types.Pod, name string) (string, error) {
	var all []string
	for _, c := range pod.Spec.InitContainers {
		all = append(all, c.Name)
	}
	for _, c := range pod.Spec.Containers {
		all = append(all, c.Name)
	}
	if name == "" {
		if len(pod.Spec.Containers) == 1 {
			return pod.Spec.Containers[0].Name, nil
		}
		return "", fmt.Errorf("a container name must be specified for pod %s, choose one of: %v", pod.Name, all)
	}
	for _, c := range all {
		if c == name {
			return name, nil
		}
	}
	return "", fmt.Errorf("container %s is not valid for pod %s: %w", name, pod.Name, ErrNoContainer)
}
