package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/nodes/agent"
	"github.com/wharfhq/wharf/nodes/agentapi"
	"github.com/wharfhq/wharf/nodes/lifecycle"
	"github.com/wharfhq/wharf/nodes/membership"
	"github.com/wharfhq/wharf/nodes/nodeinfo"
	"github.com/wharfhq/wharf/runtimes"
	"github.com/wharfhq/wharf/runtimes/container"
	"github.com/wharfhq/wharf/runtimes/image"
	"github.com/wharfhq/wharf/runtimes/logs"
	"github.com/wharfhq/wharf/runtimes/wasm"
	"github.com/wharfhq/wharf/sdk"
)

// The container runtime re-executes this binary as the container init and
// as a log relay; those processes must branch off before anything else
// runs, so this is an init function (it returns at once in a normal run).
func init() { container.Init() }

func init() {
	verbs = append(verbs, newAgentCmd)
	registerComponent(Component{Name: "node-lifecycle", Roles: []Role{RoleServer}, Run: runLifecycle})
	registerComponent(Component{Name: "node", Roles: []Role{RoleAgent}, Run: runNode})
}

// Defaults of the cluster flags.
const (
	defaultSerfBind      = "0.0.0.0:7946"
	defaultUpSerfBind    = "127.0.0.1:0"
	defaultAgentListen   = "0.0.0.0:10250"
	defaultUpAgentListen = "127.0.0.1:0"
	defaultAgentDataDir  = "./wharf-agent-data"
)

// clusterOptions are the membership flags of `wharf server`, `wharf up`
// and `wharf agent`, and the node flags of `wharf up` and `wharf agent`.
type clusterOptions struct {
	serfBind      string
	serfAdvertise string
	join          []string
	encrypt       string
	gracePeriod   time.Duration
	// agentToken, when set, is the agent API's token instead of the one
	// derived from encrypt: `wharf up` without --encrypt makes a random
	// one, kept in memory, for its own agent and proxy (see agentAPIToken).
	agentToken string

	listen   string
	labels   string
	taints   string
	runtimes string
	maxPods  positiveInt
	// logRotation is --container-log-max-size and --container-log-max-files.
	logRotation logs.Rotation
}

// positiveInt is an int flag that refuses values below 1 when parsed.
type positiveInt int

var _ pflag.Value = (*positiveInt)(nil)

func (p *positiveInt) String() string { return strconv.Itoa(int(*p)) }

// Set parses s and refuses a value that is not greater than 0.
func (p *positiveInt) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%q is not a whole number", s)
	}
	if n <= 0 {
		return nodeinfo.ErrMaxPods
	}
	*p = positiveInt(n)
	return nil
}

// Type names the flag's value in help.
func (p *positiveInt) Type() string { return "int" }

// addServerFlags adds the membership and lifecycle flags of a server.
func (o *clusterOptions) addServerFlags(cmd *cobra.Command, serfBind string) {
	f := cmd.Flags()
	f.StringVar(&o.serfBind, "serf-bind", serfBind, "address for cluster gossip (serf), UDP and TCP (port 0 picks one)")
	f.StringVar(&o.serfAdvertise, "serf-advertise", "", "gossip address other members reach this one at (default: from --serf-bind)")
	f.StringSliceVar(&o.join, "join", nil, "HOST:PORT of a cluster member to join (repeatable)")
	f.Var(gossipKeyFlag{&o.encrypt}, "encrypt", "gossip encryption key, base64 of 16, 24 or 32 bytes (AES-128, AES-192 or AES-256), the same on every member")
	f.DurationVar(&o.gracePeriod, "node-grace-period", lifecycle.DefaultGracePeriod, "how long a lost node keeps its Pods before they are replaced elsewhere")
}

// addNodeFlags adds the flags of the local node; listenFlag names the
// flag of the agent API's address.
func (o *clusterOptions) addNodeFlags(cmd *cobra.Command, listenFlag, listen string) {
	f := cmd.Flags()
	f.StringVar(&o.listen, listenFlag, listen, "address of the agent's HTTP API (logs, exec; port 0 picks one)")
	f.StringVar(&o.labels, "labels", "", "extra Node labels, k=v,...")
	f.StringVar(&o.taints, "taints", "", "Node taints set at registration, k=v:Effect,...")
	f.StringVar(&o.runtimes, "runtimes", "", "runtimes to offer, among wasm,container (default: what this machine can run)")
	o.maxPods = nodeinfo.DefaultMaxPods
	f.Var(&o.maxPods, "max-pods", "how many Pods the Node holds (its pods capacity and allocatable)")
	o.logRotation = logs.Rotation{MaxSize: logs.DefaultMaxSize, MaxFiles: logs.DefaultMaxFiles}
	f.Var(&logSizeFlag{bytes: &o.logRotation.MaxSize, text: "10Mi"}, "container-log-max-size",
		"size at which a container's log file is rotated (a quantity: 10Mi, 500Ki), as the kubelet's containerLogMaxSize")
	f.Var(&logFilesFlag{&o.logRotation.MaxFiles}, "container-log-max-files",
		"how many log files are kept per container, the current one included (at least 2), as the kubelet's containerLogMaxFiles")
}

// Cluster is what the cluster wiring gives the components (Env.Cluster).
type Cluster struct {
	// Membership is this process's serf member.
	Membership *membership.Membership
	// Options are the cluster flags.
	Options *clusterOptions
	// Version is Wharf's version.
	Version string
}

// startMembership starts this process's serf member, with its snapshot in
// dataDir/serf; the caller joins.
func startMembership(o *clusterOptions, name, dataDir string, tags map[string]string, logger *slog.Logger) (*membership.Membership, error) {
	if err := os.MkdirAll(filepath.Join(dataDir, "serf"), 0o700); err != nil {
		return nil, fmt.Errorf("serf dir: %w", err)
	}
	// Each process is a new member (name plus a random suffix): a restarted
	// agent is never mistaken for, or refused as, its dead predecessor;
	// the node tag says which Node a member runs.
	var suffix [3]byte
	_, _ = rand.Read(suffix[:])
	m, err := membership.New(membership.Config{
		Name:          fmt.Sprintf("%s-%x", name, suffix),
		BindAddr:      o.serfBind,
		AdvertiseAddr: o.serfAdvertise,
		Tags:          tags,
		EncryptKey:    o.encrypt,
		SnapshotPath:  filepath.Join(dataDir, "serf", "snapshot"),
		Logger:        logger.With("component", "membership"),
	})
	if err != nil {
		return nil, err
	}
	logger.Info("cluster member started", "name", m.Name(), "gossip", m.Addr())
	return m, nil
}

// startServerCluster runs the serf member of `wharf server`/`wharf up`:
// role server, advertising the API at apiURL (and, for `wharf up`, the
// local node). It returns a function that leaves the cluster.
func startServerCluster(ctx context.Context, env *Env, o *clusterOptions, listenAddr net.Addr, withNode bool) (func(), error) {
	name := "server-" + env.NodeName
	tags := map[string]string{membership.TagRole: membership.RoleServer, membership.TagArch: runtime.GOARCH, membership.TagOS: runtime.GOOS}
	if withNode {
		name = env.NodeName
		tags[membership.TagNode] = env.NodeName
	}
	m, err := startMembership(o, name, env.DataDir, tags, env.Logger)
	if err != nil {
		return nil, err
	}
	// The API as other machines reach it: a wildcard listener is reached at
	// the gossip address's host.
	api := env.APIURL
	if tcp, ok := listenAddr.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		host := membership.HostIP()
		if h, _, err := net.SplitHostPort(m.Addr()); err == nil {
			host = h
		}
		scheme, _, _ := strings.Cut(env.APIURL, "://")
		api = scheme + "://" + net.JoinHostPort(host, strconv.Itoa(tcp.Port))
	}
	tags[membership.TagAPI] = api
	if tcp, ok := listenAddr.(*net.TCPAddr); ok && tcp.IP.IsLoopback() {
		if h, _, err := net.SplitHostPort(m.Addr()); err == nil && !net.ParseIP(h).IsLoopback() {
			env.Logger.Warn("the API listens on a loopback address: agents on other machines cannot reach it; use --listen 0.0.0.0:6443", "api", api)
		}
	}
	if err := m.SetTags(tags); err != nil {
		_ = m.Shutdown()
		return nil, err
	}
	if len(o.join) > 0 {
		go func() {
			if _, err := m.Join(ctx, o.join); err != nil && ctx.Err() == nil {
				env.Logger.Warn("joining the cluster failed", "err", err)
			}
		}()
	}
	env.Cluster = &Cluster{Membership: m, Options: o, Version: version}
	return func() {
		if err := m.Leave(); err != nil {
			env.Logger.Warn("leaving the cluster", "err", err)
		}
	}, nil
}

// runLifecycle is the node lifecycle controller component.
func runLifecycle(ctx context.Context, env *Env) error {
	cfg := lifecycle.Config{Client: env.Client, Informers: env.Informers, Logger: env.Logger}
	if env.Cluster != nil {
		cfg.Members = env.Cluster.Membership
		cfg.GracePeriod = env.Cluster.Options.gracePeriod
	}
	c, err := lifecycle.New(cfg)
	if err != nil {
		return err
	}
	return c.Run(ctx)
}

// canRunContainers says whether this machine can run containers: root and
// a cgroup file system with controllers (v1 or v2).
func canRunContainers() (bool, string) {
	if os.Geteuid() != 0 {
		return false, "not root"
	}
	if err := cgroupsUsable("/sys/fs/cgroup"); err != nil {
		return false, "no usable cgroups: " + err.Error()
	}
	return true, ""
}

// cgroupsUsable checks that path holds cgroup controllers.
func cgroupsUsable(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory", path)
	}
	probe := filepath.Join(path, "cpu")
	if _, err := os.Stat(probe); err != nil {
		// cgroup v2 (unified): the root holds cgroup.controllers.
		if _, err2 := os.Stat(filepath.Join(path, "cgroup.controllers")); err2 != nil {
			return fmt.Errorf("no cgroup controllers under %s", path)
		}
	}
	return nil
}

// moduleVersion returns the version of a dependency compiled into this
// binary ("" when unknown).
func moduleVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, d := range bi.Deps {
		if d.Path == path {
			return d.Version
		}
	}
	return ""
}

// buildRuntimes makes the runtimes named in want ("" = every runtime the
// machine can run) over one image store under dir, their containers' logs
// rotated as rot says.
func buildRuntimes(dir, want string, rot logs.Rotation, logger *slog.Logger) (map[string]runtimes.Runtime, map[string]string, error) {
	okContainers, why := canRunContainers()
	names := []string{"wasm"}
	if want == "" {
		if okContainers {
			names = append(names, "container")
		} else {
			logger.Info("the container runtime is off on this machine", "reason", why)
		}
	} else {
		names = nil
		for _, n := range strings.Split(want, ",") {
			switch n = strings.TrimSpace(n); n {
			case "wasm":
			case "container":
				if !okContainers {
					return nil, nil, fmt.Errorf("--runtimes: this machine cannot run containers (%s)", why)
				}
			default:
				return nil, nil, fmt.Errorf("--runtimes: unknown runtime %q (use wasm, container)", n)
			}
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		return nil, nil, errors.New("--runtimes: name at least one runtime")
	}
	store, err := image.NewStore(filepath.Join(dir, "images"))
	if err != nil {
		return nil, nil, err
	}
	rts := map[string]runtimes.Runtime{}
	versions := map[string]string{}
	for _, n := range names {
		switch n {
		case "wasm":
			r, err := wasm.New(filepath.Join(dir, "wasm"), wasm.WithImageStore(store), wasm.WithLogRotation(rot))
			if err != nil {
				return nil, nil, err
			}
			rts[n], versions[n] = r, "wazero-"+moduleVersion("github.com/tetratelabs/wazero")
		case "container":
			r, err := container.New(filepath.Join(dir, "container"), store, container.WithLogRotation(rot))
			if err != nil {
				return nil, nil, err
			}
			rts[n], versions[n] = r, "runc-"+moduleVersion("github.com/opencontainers/runc")
		}
	}
	return rts, versions, nil
}

// agentAPIToken is the token the agent API requires and the API server's
// proxy sends: agentToken when set, else the one derived from --encrypt
// ("" without it: the agent API then requires none).
func (o *clusterOptions) agentAPIToken() string {
	if o.agentToken != "" {
		return o.agentToken
	}
	return agentapi.TokenFromKey(o.encrypt)
}

// parseLabels parses k=v,... .
func parseLabels(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--labels: %q is not key=value", kv)
		}
		out[k] = v
	}
	return out, nil
}

// parseTaints parses k[=v]:Effect,... .
func parseTaints(s string) ([]types.Taint, error) {
	var out []types.Taint
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		kv, eff, ok := strings.Cut(t, ":")
		k, v, _ := strings.Cut(kv, "=")
		switch e := types.TaintEffect(eff); {
		case !ok || k == "":
			return nil, fmt.Errorf("--taints: %q is not key[=value]:Effect", t)
		case e != types.TaintEffectNoSchedule && e != types.TaintEffectPreferNoSchedule && e != types.TaintEffectNoExecute:
			return nil, fmt.Errorf("--taints: %q: effect must be NoSchedule, PreferNoSchedule or NoExecute", t)
		}
		out = append(out, types.Taint{Key: k, Value: v, Effect: types.TaintEffect(eff)})
	}
	return out, nil
}

// runNode is the node component: runtimes, the agent API, Node
// registration and heartbeat, and the Pod sync loop (nodes/agent).
func runNode(ctx context.Context, env *Env) error {
	if env.Cluster == nil {
		return errors.New("node: no cluster membership (internal wiring error)")
	}
	o := env.Cluster.Options
	labels, err := parseLabels(o.labels)
	if err != nil {
		return err
	}
	taints, err := parseTaints(o.taints)
	if err != nil {
		return err
	}
	rts, versions, err := buildRuntimes(filepath.Join(env.DataDir, "runtimes"), o.runtimes, o.logRotation, env.Logger)
	if err != nil {
		return err
	}
	api, err := agentapi.New(agentapi.Config{Runtimes: rts, Logger: env.Logger, Token: o.agentAPIToken()})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("agent API: listen on %s: %w", o.listen, err)
	}
	m := env.Cluster.Membership
	hostIP, _, _ := net.SplitHostPort(m.Addr())
	tcp := ln.Addr().(*net.TCPAddr)
	agentAddr := ln.Addr().String()
	if tcp.IP.IsUnspecified() {
		agentAddr = net.JoinHostPort(hostIP, strconv.Itoa(tcp.Port))
	}
	env.Logger.Info("agent API listening", "addr", agentAddr)
	if o.agentAPIToken() == "" && !tcp.IP.IsLoopback() {
		env.Logger.Warn("the agent API (logs, exec) is open to anyone who reaches " + agentAddr +
			": set --encrypt on every member to require the cluster's token, or listen on a private address")
	}

	tags := m.Tags()
	tags[membership.TagNode] = env.NodeName
	tags[membership.TagAgent] = agentAddr
	tags[membership.TagRuntimes] = nodeinfo.RuntimesLabelValue(slices.Collect(maps.Keys(rts)))
	tags[membership.TagArch], tags[membership.TagOS] = runtime.GOARCH, runtime.GOOS
	if err := m.SetTags(tags); err != nil {
		ln.Close()
		return err
	}

	reg, err := nodeinfo.New(nodeinfo.Config{
		NodeName: env.NodeName, Client: env.Client, Labels: labels, Taints: taints, Runtimes: versions,
		InternalIP: hostIP, AgentAddress: agentAddr, Version: env.Cluster.Version, Logger: env.Logger,
		MaxPods: int(o.maxPods),
	})
	if err != nil {
		ln.Close()
		return err
	}
	podSync, err := agent.New(agent.Config{
		NodeName: env.NodeName, Client: env.Client, Runtimes: rts,
		DataDir: filepath.Join(env.DataDir, "agent"), Logger: env.Logger, HostIP: hostIP,
	})
	if err != nil {
		ln.Close()
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hs := &http.Server{Handler: api, ReadHeaderTimeout: 30 * time.Second}
	var (
		wg   sync.WaitGroup
		errs = make([]error, 3)
	)
	wg.Add(3)
	go func() {
		defer wg.Done()
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs[0] = fmt.Errorf("agent API: %w", err)
			cancel()
		}
	}()
	go func() {
		defer wg.Done()
		errs[1] = reg.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		if err := podSync.Run(ctx); err != nil && ctx.Err() == nil {
			errs[2] = fmt.Errorf("pod sync: %w", err)
			cancel()
		}
	}()
	<-ctx.Done()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = hs.Shutdown(sctx)
	scancel()
	wg.Wait()
	return errors.Join(errs...)
}

// agentOptions are the flags of `wharf agent`.
type agentOptions struct {
	cluster  clusterOptions
	nodeName string
	dataDir  string
	logLevel string
	// tokenFile holds the agent's bearer token for the API (--token-file).
	tokenFile string
}

func newAgentCmd(a *app) *cobra.Command {
	o := &agentOptions{}
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run a node agent that joins a Wharf cluster",
		Long: `Run this machine's node agent: it joins the cluster through any member
(--join), finds the API server from the servers' gossip tags, registers
its Node and runs the Pods the scheduler binds to it, with the wasm
runtime and, where root and cgroups allow, the container runtime. Its
HTTP API (--listen) serves logs and exec, proxied by the API
server. It stops on SIGINT or SIGTERM and rejoins after a restart from
the serf snapshot in --data-dir.

When the server requires tokens (--token-auth-file), give the agent its
line's token with --token-file (or --token, or WHARF_TOKEN); Kubernetes
names a node's user system:node:NAME, in the group system:nodes.`,
		Example: `  # Join the server at 10.0.0.1 (its gossip port is 7946)
  wharf agent --join 10.0.0.1:7946 --node-name worker-1

  # A Wasm-only node with a label, a taint and gossip encryption
  wharf agent --join 10.0.0.1:7946 --runtimes wasm --labels zone=a \
    --taints dedicated=wasm:NoSchedule --encrypt "$(cat gossip.key)"

  # Join a server that requires tokens, with this node's token
  wharf agent --join 10.0.0.1:7946 --node-name worker-1 --token-file /etc/wharf/node.token`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.tokenFile != "" && cmd.Flags().Changed("token") {
				return usageError{errors.New("give the API token with --token or --token-file, not both")}
			}
			return runAgent(cmd.Context(), a, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.tokenFile, "token-file", "", "file holding the agent's bearer token for the API server (a line of the server's --token-auth-file; overrides WHARF_TOKEN)")
	f.StringVar(&o.nodeName, "node-name", "", "name of this machine's Node (default: the host name)")
	f.StringVar(&o.dataDir, "data-dir", defaultAgentDataDir, "directory for runtimes, images, Pod volumes and the serf snapshot")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	o.cluster.addServerFlags(cmd, defaultSerfBind)
	o.cluster.addNodeFlags(cmd, "listen", defaultAgentListen)
	_ = f.MarkHidden("node-grace-period") // a server flag
	return cmd
}

// runAgent runs `wharf agent` until ctx ends.
func runAgent(ctx context.Context, a *app, o *agentOptions) error {
	logger, err := newLogger(a.errOut, o.logLevel)
	if err != nil {
		return err
	}
	if o.nodeName == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("node name: %w (set --node-name)", err)
		}
		o.nodeName = strings.ToLower(h)
	}
	token := a.token // --token or WHARF_TOKEN
	if o.tokenFile != "" {
		if token, err = readTokenFile(o.tokenFile); err != nil {
			return err
		}
	}
	// Absolute from here on: Pod volumes under it are container mounts.
	dataDir, err := filepath.Abs(o.dataDir)
	if err != nil {
		return fmt.Errorf("data dir %s: %w", o.dataDir, err)
	}
	o.dataDir = dataDir
	if err := os.MkdirAll(o.dataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	tags := map[string]string{membership.TagRole: membership.RoleAgent, membership.TagNode: o.nodeName}
	m, err := startMembership(&o.cluster, o.nodeName, o.dataDir, tags, logger)
	if err != nil {
		return err
	}
	// A stopping agent does not leave the cluster: it is most often
	// restarted (an upgrade), and a departure would make the server give
	// its Pods away at once. It looks failed to the others until it
	// rejoins; a node gone for good is removed by deleting its Node.
	defer func() {
		if err := m.Shutdown(); err != nil {
			logger.Warn("stopping the cluster member", "err", err)
		}
	}()
	if len(o.cluster.join) > 0 {
		if _, err := m.Join(ctx, o.cluster.join); err != nil {
			return err
		}
	}
	logger.Info("waiting for a server in the cluster")
	apiURL, err := m.WaitForServer(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	logger.Info("found the API server", "api", apiURL)
	// The client follows the servers' api tags: a server restarted on
	// another address, or another server, is used without a restart here.
	tlsCfg, err := a.tlsClientConfig()
	if err != nil {
		return err
	}
	base := transportWithTLS(tlsCfg)
	opts := []sdk.Option{sdk.WithUserAgent("wharf-agent/" + version),
		sdk.WithHTTPClient(&http.Client{Transport: m.APITransport(base)})}
	if token != "" {
		opts = append(opts, sdk.WithBearerToken(token))
	}
	client, err := sdk.New(apiURL, opts...)
	if err != nil {
		return err
	}
	// A refused token is a mistake to fix, not a fault to retry: say so
	// now (other failures, as a server restarting, are retried by the
	// components).
	if _, err := client.GetRaw(ctx, "/api", nil); sdk.ReasonForError(err) == types.StatusReasonUnauthorized {
		if token == "" {
			return fmt.Errorf("the API server %s requires a token (Unauthorized): give the agent its token with --token-file or --token", apiURL)
		}
		return fmt.Errorf("the API server %s does not accept the agent's token (Unauthorized): give a token of its --token-auth-file with --token-file or --token", apiURL)
	}
	env := Env{
		DataDir:   o.dataDir,
		APIURL:    apiURL,
		Client:    client,
		Informers: sdk.NewInformerFactory(client),
		Logger:    logger,
		NodeName:  o.nodeName,
		Cluster:   &Cluster{Membership: m, Options: &o.cluster, Version: version},
	}
	err = runComponents(ctx, env, RoleAgent)
	logger.Info("stopped")
	return err
}

// readTokenFile reads a bearer token from path (--token-file): the file's
// content without surrounding white space.
func readTokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	token := strings.TrimSpace(string(b))
	if token == "" {
		return "", fmt.Errorf("--token-file: %s is empty", path)
	}
	if strings.ContainsAny(token, " \t\r\n") {
		return "", fmt.Errorf("--token-file: %s holds more than one word: put only the token in it", path)
	}
	return token, nil
}
