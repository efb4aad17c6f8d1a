package agentapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
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
		FlushInterval: -1, // followed logs: pass every write on at once
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
	r = r.WithContext(context.WithValue(r.Context(), targetKey{}, target))
	p.rp.ServeHTTP(w, r)
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
