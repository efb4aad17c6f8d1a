package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/wharfhq/wharf/api/server"
	"github.com/wharfhq/wharf/nodes/agentapi"
	"github.com/wharfhq/wharf/sched"
	"github.com/wharfhq/wharf/sdk"
	"github.com/wharfhq/wharf/storage/badger"
)

// Defaults of `wharf server` and `wharf up`.
const (
	defaultDataDir = "./wharf-data"
	defaultListen  = "127.0.0.1:6443"
)

// serveOptions are the flags shared by `wharf server` and `wharf up`.
type serveOptions struct {
	dataDir  string
	listen   string
	logLevel string
	nodeName string
	cluster  clusterOptions // serf membership and local node (agent.go)
	// schedulerConfig is the --scheduler-config file (sched.LoadConfig).
	schedulerConfig string
	// profiling serves /debug/pprof/ on the API (--profiling).
	profiling bool
	// tokenAuthFile is the --token-auth-file (server.LoadTokenFile).
	tokenAuthFile string
	// tlsCertFile and tlsKeyFile make the API serve HTTPS.
	tlsCertFile, tlsKeyFile string
}

func (o *serveOptions) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.dataDir, "data-dir", defaultDataDir, "directory for the object store and component state")
	f.StringVar(&o.listen, "listen", defaultListen, "address the API listens on (port 0 picks a free port)")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&o.schedulerConfig, "scheduler-config", "", "YAML or JSON file with the scheduler's plugins, weights and parallelism (see sched.Config)")
	f.BoolVar(&o.profiling, "profiling", true, "serve Go profiles of the process at /debug/pprof/ on the API address (as kube-apiserver)")
	f.StringVar(&o.tlsCertFile, "tls-cert-file", "", "PEM certificate (chain) to serve the API over HTTPS with (kubectl sends --token only over HTTPS)")
	f.StringVar(&o.tlsKeyFile, "tls-private-key-file", "", "PEM private key of --tls-cert-file")
	f.StringVar(&o.tokenAuthFile, "token-auth-file", "", `require a bearer token of this file on every request but /healthz, /livez, /readyz and /version (kube-apiserver's format: lines token,user,uid[,"group1,group2"]; read at start only)`)
}

func newServerCmd(a *app) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the API server, scheduler and controllers",
		Long: `Run the control plane: the API server over an embedded Badger store in
--data-dir, plus the server components (scheduler, controllers). It stops
gracefully on SIGINT or SIGTERM.`,
		Example: `  # Serve on the default address with data in ./wharf-data
  wharf server

  # Serve on all interfaces, data in /var/lib/wharf
  wharf server --data-dir /var/lib/wharf --listen 0.0.0.0:6443

  # Serve HTTPS and require a bearer token of tokens.csv (lines
  # token,user,uid[,"groups"])
  wharf server --listen 0.0.0.0:6443 --tls-cert-file server.crt \
    --tls-private-key-file server.key --token-auth-file /etc/wharf/tokens.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context(), a, o, RoleServer)
		},
	}
	o.addFlags(cmd)
	o.cluster.addServerFlags(cmd, defaultSerfBind)
	return cmd
}

func newUpCmd(a *app) *cobra.Command {
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run a single-machine cluster: API server and local agent in one process",
		Long: `Run the API server, the server components (scheduler, controllers) and the
node agent for this machine in one process, with data in --data-dir. It
stops gracefully on SIGINT or SIGTERM.`,
		Example: `  # Start a cluster with data in ./wharf-data on 127.0.0.1:6443
  wharf up

  # Use another directory and a free port (printed on stderr)
  wharf up --data-dir /tmp/w --listen 127.0.0.1:0

  # Profile the whole cluster process for 30 s while it works
  go tool pprof 'http://127.0.0.1:6443/debug/pprof/profile?seconds=30'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context(), a, o, RoleServer, RoleAgent)
		},
	}
	o.addFlags(cmd)
	cmd.Flags().StringVar(&o.nodeName, "node-name", "", "name of this machine's Node (default: the host name)")
	o.cluster.addServerFlags(cmd, defaultUpSerfBind)
	o.cluster.addNodeFlags(cmd, "agent-listen", defaultUpAgentListen)
	return cmd
}

// serve runs the API server and the components of roles until ctx ends.
func serve(ctx context.Context, a *app, o *serveOptions, roles ...Role) error {
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
	var schedCfg sched.Config
	if o.schedulerConfig != "" {
		// Read before anything starts, so a bad file stops here.
		var err error
		if schedCfg, err = sched.LoadConfig(o.schedulerConfig); err != nil {
			return fmt.Errorf("--scheduler-config: %w", err)
		}
	}
	// The server's own components (scheduler, controllers, the agent of
	// `wharf up`) call the API over loopback HTTP: with token
	// authentication they use a random token that only this process
	// knows, never written anywhere (as kube-apiserver's loopback client).
	var authn server.TokenAuthenticator
	var clientOpts []sdk.Option
	cert, err := loadServingCert(o.tlsCertFile, o.tlsKeyFile)
	if err != nil {
		return err
	}
	if o.tokenAuthFile != "" {
		tokens, err := loadTokenAuthFile(o.tokenAuthFile, logger)
		if err != nil {
			return err
		}
		loopback := server.NewToken()
		if err := tokens.Add(loopback, server.User{Name: server.LoopbackUser, Groups: []string{server.GroupMasters}}); err != nil {
			return err
		}
		authn = tokens
		clientOpts = append(clientOpts, sdk.WithBearerToken(loopback))
		logger.Info("API token authentication on", "tokenAuthFile", o.tokenAuthFile, "users", tokens.Len()-1)
	}
	// Absolute from here on: the agent's paths end up in container
	// mounts, which must be absolute.
	dataDir, err := filepath.Abs(o.dataDir)
	if err != nil {
		return fmt.Errorf("data dir %s: %w", o.dataDir, err)
	}
	o.dataDir = dataDir
	if err := os.MkdirAll(o.dataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	unlock, err := lockDataDir(o.dataDir)
	if err != nil {
		return err
	}
	defer unlock()
	st, err := badger.Open(filepath.Join(o.dataDir, "store"))
	if err != nil {
		return fmt.Errorf("open the store in %s: %w", o.dataDir, err)
	}
	defer st.Close()

	// The agent of `wharf up` without --encrypt requires a random token
	// only this process knows: without one, any local user could read
	// logs and exec into containers through its loopback port, around
	// --token-auth-file.
	if o.cluster.encrypt == "" && slices.Contains(roles, RoleAgent) {
		o.cluster.agentToken = server.NewToken()
	}
	if authn != nil && o.cluster.agentAPIToken() == "" {
		logger.Warn("token authentication does not cover the agents' API (logs, exec) without --encrypt: " +
			"anyone who reaches an agent's --listen address can use it; set --encrypt on every member")
	}
	// pods/log and pods/exec, to the Pod's agent (token from --encrypt)
	nodeProxy := agentapi.NewProxy(nil, agentapi.WithToken(o.cluster.agentAPIToken()))
	srv, err := server.New(server.Config{Store: st, Logger: logger.With("component", "api"), Version: version, NodeProxy: nodeProxy,
		Profiling: o.profiling, Authenticator: authn})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.listen, err)
	}
	scheme := "http"
	if cert != nil {
		scheme = "https"
		ln = tls.NewListener(ln, servingTLS(cert))
		clientOpts = append(clientOpts, sdk.WithHTTPClient(&http.Client{Transport: transportWithTLS(loopbackTLS(cert))}))
	}
	apiURL := scheme + "://" + dialAddr(ln.Addr())
	fmt.Fprintf(a.errOut, "wharf API listening on %s://%s\n", scheme, ln.Addr())
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		switch {
		case authn == nil:
			logger.Warn("the API is open to anyone who reaches " + ln.Addr().String() +
				": set --token-auth-file to require a token, or listen on a loopback address")
		case cert == nil:
			logger.Warn("the API takes tokens over plain HTTP on " + ln.Addr().String() +
				": anyone on the way can read them; set --tls-cert-file and --tls-private-key-file (kubectl sends tokens only over HTTPS)")
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		serveErr error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		serveErr = srv.Serve(ctx, ln)
		cancel() // the API is gone: stop the components too
	}()

	client, err := sdk.New(apiURL, append(clientOpts, sdk.WithUserAgent("wharf/"+version))...)
	if err != nil {
		cancel()
		wg.Wait()
		return err
	}
	nodeProxy.SetNodes(agentapi.NodesFromClient(client))
	env := Env{
		DataDir:   o.dataDir,
		APIURL:    apiURL,
		Client:    client,
		Informers: sdk.NewInformerFactory(client),
		Logger:    logger,
		NodeName:  o.nodeName,

		SchedulerConfig: schedCfg,
	}
	leave, err := startServerCluster(ctx, &env, &o.cluster, ln.Addr(), slices.Contains(roles, RoleAgent))
	if err != nil {
		cancel()
		wg.Wait()
		return err
	}
	defer leave()
	compErr := runComponents(ctx, env, roles...)
	if compErr == nil {
		<-ctx.Done() // components may all be done (or none registered): keep serving
	}
	cancel()
	wg.Wait()
	logger.Info("stopped")
	return errors.Join(serveErr, compErr)
}

// loadTokenAuthFile reads --token-auth-file, warning when other users
// may read it.
func loadTokenAuthFile(path string, logger *slog.Logger) (*server.TokenFile, error) {
	tokens, err := server.LoadTokenFile(path)
	if err != nil {
		return nil, fmt.Errorf("--token-auth-file: %w", err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		logger.Warn("other users may read the token file: chmod 600 it", "tokenAuthFile", path, "mode", st.Mode().Perm().String())
	}
	return tokens, nil
}

// dialAddr is the address local components dial to reach a listener:
// a wildcard host becomes the loopback address.
func dialAddr(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return addr.String()
	}
	return net.JoinHostPort("127.0.0.1", fmt.Sprint(tcp.Port))
}

// errDataDirInUse: another process serves from the data directory.
var errDataDirInUse = errors.New("is in use by another wharf process")

// lockDataDir takes an exclusive lock on dir/wharf.lock for the life of
// the process, so that a second `wharf up` on the same directory gets a
// plain error rather than one from deep inside the store.
func lockDataDir(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, "wharf.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock the data dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data dir %s %w (lock %s)", dir, errDataDirInUse, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil // closing the file drops the lock
}
