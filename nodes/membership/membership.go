// Package membership ties Wharf's servers and agents into one cluster with
// serf gossip (github.com/hashicorp/serf).
//
// Every `wharf server` and `wharf agent` process is one serf member. Its
// tags say what it is (role), which Node it runs (node), where its API
// (api, servers) and agent HTTP endpoint (agent) listen, and what the
// machine offers (arch, os, runtimes). An agent joins through any member
// and finds the API from a server's tags, so one join address is enough.
//
// Serf delivers member events on a channel that must never block; a
// Membership drains it in its own goroutine and turns the events into a
// level-triggered signal: subscribers are told "something changed" on a
// channel of capacity one and then read Members, so a slow subscriber
// loses nothing and blocks no one.
package membership

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/hashicorp/serf/serf"
)

// Tag keys carried by every member.
const (
	// TagRole is RoleServer or RoleAgent.
	TagRole = "role"
	// TagNode names the Node this member runs (agents, and servers that
	// also run a local agent as `wharf up` does).
	TagNode = "node"
	// TagAPI is the API server's URL (servers).
	TagAPI = "api"
	// TagAgent is the agent's HTTP address host:port (logs, exec).
	TagAgent = "agent"
	// TagArch and TagOS are GOARCH and GOOS.
	TagArch = "arch"
	TagOS   = "os"
	// TagRuntimes lists the runtimes the agent offers, dot-separated
	// ("container.wasm").
	TagRuntimes = "runtimes"
)

// Roles a member can have.
const (
	RoleServer = "server"
	RoleAgent  = "agent"
)

// Member statuses (serf's, as strings).
const (
	StatusAlive   = "alive"
	StatusLeaving = "leaving"
	StatusLeft    = "left"
	StatusFailed  = "failed"
)

// Sentinel errors.
var (
	// ErrBadKey: the gossip encryption key is not base64 of 16, 24 or 32 bytes.
	ErrBadKey = errors.New("invalid gossip encryption key")
	// ErrNoServer: no server member is known.
	ErrNoServer = errors.New("no wharf server in the cluster")
)

// Config configures a Membership.
type Config struct {
	// Name is the member's unique name. Required.
	Name string
	// BindAddr is host:port to listen on for gossip (UDP and TCP); port 0
	// picks a free port. Default "0.0.0.0:7946".
	BindAddr string
	// AdvertiseAddr is host:port other members reach this one at; derived
	// from BindAddr (and the machine's private address for a wildcard
	// bind) when empty.
	AdvertiseAddr string
	// Tags are the member's initial tags.
	Tags map[string]string
	// EncryptKey, when set, is the base64 gossip encryption key (16, 24 or
	// 32 bytes once decoded): every member must use the same.
	EncryptKey string
	// SnapshotPath, when set, is a file where serf keeps the members it
	// knows, so that a restarted process rejoins them by itself.
	SnapshotPath string
	// Fast selects short local-network timings (a crash noticed in about a
	// second) instead of the LAN ones; for tests on loopback.
	Fast bool
	// Logger receives serf's and memberlist's messages at debug level and
	// membership changes at info level; slog.Default() when nil.
	Logger *slog.Logger
}

// Member is one member of the cluster as this process sees it.
type Member struct {
	Name string
	// Addr is the gossip address host:port.
	Addr   string
	Status string
	Tags   map[string]string
}

// Role returns the member's role tag.
func (m Member) Role() string { return m.Tags[TagRole] }

// Membership is this process's serf member. Build it with New; it is safe
// for concurrent use.
type Membership struct {
	serf   *serf.Serf
	log    *slog.Logger
	events chan serf.Event
	done   chan struct{}

	mu   sync.Mutex
	subs map[chan struct{}]struct{}
}

// New starts a serf member; it joins no one until Join is called (unless a
// snapshot names earlier members, which it rejoins by itself).
func New(cfg Config) (*Membership, error) {
	if cfg.Name == "" {
		return nil, errors.New("membership: Config.Name is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.BindAddr == "" {
		cfg.BindAddr = "0.0.0.0:7946"
	}
	host, port, err := splitHostPort(cfg.BindAddr)
	if err != nil {
		return nil, fmt.Errorf("membership: bind address %q: %w", cfg.BindAddr, err)
	}
	sc := serf.DefaultConfig()
	sc.NodeName = cfg.Name
	sc.Tags = cloneTags(cfg.Tags)
	if cfg.Fast {
		sc.MemberlistConfig = memberlist.DefaultLocalConfig()
	} else {
		sc.MemberlistConfig = memberlist.DefaultLANConfig()
	}
	ml := sc.MemberlistConfig
	if cfg.Fast {
		ml.ProbeInterval = 200 * time.Millisecond
		ml.ProbeTimeout = 100 * time.Millisecond
		ml.SuspicionMult = 2
	}
	// A restarted process may come back on another address under its old
	// name: let it take the name over from its dead predecessor.
	ml.DeadNodeReclaimTime = time.Millisecond
	ml.BindAddr, ml.BindPort = host, port
	ml.AdvertisePort = port
	if cfg.AdvertiseAddr != "" {
		ah, ap, err := splitHostPort(cfg.AdvertiseAddr)
		if err != nil {
			return nil, fmt.Errorf("membership: advertise address %q: %w", cfg.AdvertiseAddr, err)
		}
		ml.AdvertiseAddr, ml.AdvertisePort = ah, ap
	} else if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		ml.AdvertiseAddr = host
	} else if ip != nil && ip.IsUnspecified() {
		ml.AdvertiseAddr = HostIP()
	}
	if cfg.EncryptKey != "" {
		key, err := DecodeKey(cfg.EncryptKey)
		if err != nil {
			return nil, err
		}
		ml.SecretKey = key
	}
	logger := slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug)
	sc.Logger = logger
	ml.Logger = logger
	sc.SnapshotPath = cfg.SnapshotPath
	sc.RejoinAfterLeave = true
	// A failed or departed member is forgotten after an hour (the
	// lifecycle controller then goes by the Node's heartbeat).
	sc.ReconnectTimeout = time.Hour
	sc.TombstoneTimeout = time.Hour
	sc.ReconnectInterval = 10 * time.Second
	if cfg.Fast {
		sc.ReconnectInterval = time.Second
	}
	events := make(chan serf.Event, 256)
	sc.EventCh = events

	s, err := serf.Create(sc)
	if err != nil {
		return nil, fmt.Errorf("membership: start serf on %s: %w", cfg.BindAddr, err)
	}
	m := &Membership{
		serf:   s,
		log:    cfg.Logger,
		events: events,
		done:   make(chan struct{}),
		subs:   map[chan struct{}]struct{}{},
	}
	go m.drain()
	return m, nil
}

// DecodeKey decodes a base64 gossip key and checks its length.
func DecodeKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	switch len(key) {
	case 16, 24, 32:
		return key, nil
	}
	return nil, fmt.Errorf("%w: %d bytes, want 16, 24 or 32 (e.g. `head -c32 /dev/urandom | base64`)", ErrBadKey, len(key))
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	if host == "" {
		host = "0.0.0.0"
	}
	return host, port, nil
}

// drain reads serf's event channel, which must never block, and wakes the
// subscribers.
func (m *Membership) drain() {
	defer close(m.done)
	shutdown := m.serf.ShutdownCh()
	for {
		select {
		case ev := <-m.events:
			if me, ok := ev.(serf.MemberEvent); ok {
				for _, mem := range me.Members {
					m.log.Info("cluster member "+me.Type.String(), "member", mem.Name, "addr", net.JoinHostPort(mem.Addr.String(), strconv.Itoa(int(mem.Port))))
				}
			}
			m.notify()
		case <-shutdown:
			m.notify()
			return
		}
	}
}

func (m *Membership) notify() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for ch := range m.subs {
		select {
		case ch <- struct{}{}:
		default: // already signalled: the subscriber will read Members anyway
		}
	}
}

// Subscribe returns a channel that receives a value after any membership
// change (coalesced: one value may stand for many changes; read Members to
// see the state), and a function that ends the subscription.
func (m *Membership) Subscribe() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	m.mu.Lock()
	m.subs[ch] = struct{}{}
	m.mu.Unlock()
	return ch, func() {
		m.mu.Lock()
		delete(m.subs, ch)
		m.mu.Unlock()
	}
}

// Name is this member's name.
func (m *Membership) Name() string { return m.serf.LocalMember().Name }

// Addr is this member's gossip address host:port (with the port picked
// when BindAddr had port 0).
func (m *Membership) Addr() string {
	lm := m.serf.LocalMember()
	return net.JoinHostPort(lm.Addr.String(), strconv.Itoa(int(lm.Port)))
}

// Members returns every member this process knows, itself included, sorted
// by name.
func (m *Membership) Members() []Member {
	sm := m.serf.Members()
	out := make([]Member, 0, len(sm))
	for _, x := range sm {
		out = append(out, Member{
			Name:   x.Name,
			Addr:   net.JoinHostPort(x.Addr.String(), strconv.Itoa(int(x.Port))),
			Status: x.Status.String(),
			Tags:   cloneTags(x.Tags),
		})
	}
	slices.SortFunc(out, func(a, b Member) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}

// SetTags replaces this member's tags and gossips them.
func (m *Membership) SetTags(tags map[string]string) error {
	if err := m.serf.SetTags(cloneTags(tags)); err != nil {
		return fmt.Errorf("membership: set tags: %w", err)
	}
	return nil
}

// Tags returns this member's tags.
func (m *Membership) Tags() map[string]string { return cloneTags(m.serf.LocalMember().Tags) }

// Join contacts the given members (host:port) and returns how many
// answered. It retries with back-off (0.5 s doubling to 10 s) until at
// least one answers or ctx ends.
func (m *Membership) Join(ctx context.Context, addrs []string) (int, error) {
	if len(addrs) == 0 {
		return 0, nil
	}
	delay := 500 * time.Millisecond
	for {
		n, err := m.serf.Join(addrs, false)
		if n > 0 {
			return n, nil
		}
		m.log.Warn("joining the cluster failed; retrying", "join", addrs, "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("membership: join %v: %w (last error: %v)", addrs, ctx.Err(), err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 10*time.Second)
	}
}

// Servers returns the alive server members.
func (m *Membership) Servers() []Member {
	var out []Member
	for _, x := range m.Members() {
		if x.Status == StatusAlive && x.Role() == RoleServer && x.Tags[TagAPI] != "" {
			out = append(out, x)
		}
	}
	return out
}

// WaitForServer blocks until an alive server member advertising its API is
// known and returns that API URL, or returns ctx's error.
func (m *Membership) WaitForServer(ctx context.Context) (string, error) {
	ch, cancel := m.Subscribe()
	defer cancel()
	for {
		if s := m.Servers(); len(s) > 0 {
			return s[0].Tags[TagAPI], nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("membership: waiting for a server: %w: %w", ErrNoServer, ctx.Err())
		case <-ch:
		case <-time.After(time.Second):
		}
	}
}

// Leave tells the cluster this member is leaving on purpose, then stops
// it. Use Shutdown instead to vanish as a failed member would.
func (m *Membership) Leave() error {
	lerr := m.serf.Leave()
	if lerr != nil {
		lerr = fmt.Errorf("membership: leave: %w", lerr)
	}
	return errors.Join(lerr, m.Shutdown())
}

// Shutdown stops the member without telling the others (they will see it
// fail) and waits for the event goroutine to end.
func (m *Membership) Shutdown() error {
	err := m.serf.Shutdown()
	<-m.done
	if err != nil {
		return fmt.Errorf("membership: shutdown: %w", err)
	}
	return nil
}

func cloneTags(t map[string]string) map[string]string {
	out := make(map[string]string, len(t))
	for k, v := range t {
		out[k] = v
	}
	return out
}

// HostIP returns the machine's first non-loopback IPv4 address, or
// 127.0.0.1 when it has none: the address a wildcard listener is reached
// at.
func HostIP() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "127.0.0.1"
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
			return ipn.IP.String()
		}
	}
	return "127.0.0.1"
}
