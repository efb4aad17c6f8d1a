package agent

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/wharfhq/wharf/api/labels"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/sdk"
)

// sourceSyncTimeout bounds how long a sync waits for a namespace's
// ConfigMaps and Secrets to be listed the first time.
const sourceSyncTimeout = 10 * time.Second

// sources caches the ConfigMaps and Secrets of the namespaces that have
// Pods on this node, and only those: an agent neither holds nor can be
// made to read the whole cluster's Secrets through its cache. A
// namespace's two informers start with its first Pod here and stop (at the
// next housekeeping) when it has none left.
type sources struct {
	client       *sdk.Client
	cmRes, scRes *types.Resource
	onChange     sdk.EventHandler
	opts         sdk.InformerOptions

	mu  sync.Mutex
	ctx context.Context // the agent's run context; nil until Run
	wg  sync.WaitGroup
	ns  map[string]*nsSources
}

// nsSources are one namespace's informers.
type nsSources struct {
	cms, secrets *sdk.Informer
	cancel       context.CancelFunc
}

func newSources(c *sdk.Client, cmRes, scRes *types.Resource, onChange sdk.EventHandler, opts sdk.InformerOptions) *sources {
	return &sources{client: c, cmRes: cmRes, scRes: scRes, onChange: onChange, opts: opts, ns: map[string]*nsSources{}}
}

// start lets ensure run informers until ctx ends.
func (s *sources) start(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctx = ctx
}

// wait blocks until every informer has stopped (after the run context).
func (s *sources) wait() { s.wg.Wait() }

// ensure makes the namespace's informers run and waits until they have
// listed once.
func (s *sources) ensure(ctx context.Context, ns string) error {
	s.mu.Lock()
	n, ok := s.ns[ns]
	if !ok {
		if s.ctx == nil {
			s.mu.Unlock()
			return fmt.Errorf("namespace %q sources: agent not running", ns)
		}
		nctx, cancel := context.WithCancel(s.ctx)
		opts := s.opts
		opts.Namespace = ns
		n = &nsSources{
			cms:     sdk.NewInformer(s.client, s.cmRes, opts),
			secrets: sdk.NewInformer(s.client, s.scRes, opts),
			cancel:  cancel,
		}
		s.ns[ns] = n
		for _, inf := range []*sdk.Informer{n.cms, n.secrets} {
			inf.AddEventHandler(s.onChange)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				_ = inf.Run(nctx) // ends with nctx; list and watch errors are retried inside
			}()
		}
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, sourceSyncTimeout)
	defer cancel()
	for _, inf := range []*sdk.Informer{n.cms, n.secrets} {
		if err := inf.WaitForSync(ctx); err != nil {
			return fmt.Errorf("list ConfigMaps and Secrets of namespace %q: %w", ns, err)
		}
	}
	return nil
}

// release stops the informers of namespaces not in keep.
func (s *sources) release(keep map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ns, n := range s.ns {
		if !keep[ns] {
			n.cancel()
			delete(s.ns, ns)
		}
	}
}

// informer returns the namespace's informer for kind, or nil.
func (s *sources) informer(ns string, secret bool) *sdk.Informer {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.ns[ns]
	if n == nil {
		return nil
	}
	if secret {
		return n.secrets
	}
	return n.cms
}

// configMap reads a ConfigMap from the namespace's cache.
func (a *Agent) configMap(ns, name string) (*types.ConfigMap, error) {
	if inf := a.sources.informer(ns, false); inf != nil {
		if cm, err := sdk.ListerFor[*types.ConfigMap](inf).Get(ns, name); err == nil {
			return cm, nil
		}
	}
	return nil, fmt.Errorf("configmap %q not found: %w", name, ErrConfigSource)
}

// secret reads a Secret from the namespace's cache.
func (a *Agent) secret(ns, name string) (*types.Secret, error) {
	if inf := a.sources.informer(ns, true); inf != nil {
		if s, err := sdk.ListerFor[*types.Secret](inf).Get(ns, name); err == nil {
			return s, nil
		}
	}
	return nil, fmt.Errorf("secret %q not found: %w", name, ErrConfigSource)
}

// releaseSources stops caching the namespaces where no Pod here uses a
// ConfigMap or Secret.
func (a *Agent) releaseSources() {
	keep := map[string]bool{}
	for _, p := range sdk.ListerFor[*types.Pod](a.pods).List(labels.Everything()) {
		if usesSources(p) || len(a.pullSecretNames(p)) > 0 {
			keep[p.Namespace] = true
		}
	}
	a.sources.release(keep)
}

// usesSources reports whether a Pod reads any ConfigMap or Secret (as env
// or volume), so that its namespace's must be cached.
func usesSources(pod *types.Pod) bool {
	for _, v := range pod.Spec.Volumes {
		if v.ConfigMap != nil || v.Secret != nil {
			return true
		}
		if v.Projected != nil {
			for _, src := range v.Projected.Sources {
				if src.ConfigMap != nil || src.Secret != nil {
					return true
				}
			}
		}
	}
	for _, list := range [][]types.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			if len(c.EnvFrom) > 0 {
				return true
			}
			for _, e := range c.Env {
				if e.ValueFrom != nil && (e.ValueFrom.ConfigMapKeyRef != nil || e.ValueFrom.SecretKeyRef != nil) {
					return true
				}
			}
		}
	}
	return false
}
