package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/storage"
)

// bootstrap creates the objects every Wharf cluster has, if missing.
func (s *Server) bootstrap(ctx context.Context) error {
	objs := []types.Object{
		&types.Namespace{ObjectMeta: types.ObjectMeta{Name: "default"}},
		&types.Namespace{ObjectMeta: types.ObjectMeta{Name: "wharf-system"}},
		&types.Namespace{ObjectMeta: types.ObjectMeta{Name: types.NamespaceNodeLease}},
		&types.RuntimeClass{ObjectMeta: types.ObjectMeta{Name: "wasm"}, Handler: "wasm"},
	}
	for _, obj := range objs {
		r, ok := types.ResourceForObject(obj)
		if !ok {
			continue
		}
		setTypeMeta(obj, r)
		s.prepareCreate(r, obj)
		defaultFunc(obj)
		value, err := encodeForStore(obj)
		if err != nil {
			return err
		}
		m := obj.GetObjectMeta()
		if _, err := s.store.Create(ctx, storageKey(r, m.Namespace, m.Name), value); err != nil && !errors.Is(err, storage.ErrExists) {
			return fmt.Errorf("create %s %q: %w", r.Kind, m.Name, err)
		}
	}
	return nil
}

// kickNamespaces wakes the namespace deletion loop.
func (s *Server) kickNamespaces() {
	select {
	case s.nsKick <- struct{}{}:
	default:
	}
}

// namespaceLoop empties and removes Terminating namespaces. It is
// level-triggered: every pass recomputes from the stored namespaces, so it
// picks up after a restart; it runs when kicked (a namespace was deleted,
// or an object in a terminating namespace went), every NamespaceResync
// while a namespace is terminating, and every minute otherwise.
func (s *Server) namespaceLoop(ctx context.Context) {
	for {
		n, err := s.finalizeNamespaces(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("namespace deletion pass failed", "err", err)
		}
		s.terminating.Store(int32(n))
		wait := time.Minute
		if n > 0 || err != nil {
			wait = s.cfg.NamespaceResync
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.nsKick:
		case <-t.C:
		}
		t.Stop()
	}
}

// finalizeNamespaces makes one pass over the terminating namespaces and
// returns how many remain.
func (s *Server) finalizeNamespaces(ctx context.Context) (int, error) {
	nsr := nsResource()
	res, err := s.store.List(ctx, storagePrefix(nsr, ""), storage.ListOptions{})
	if err != nil {
		return 0, fmt.Errorf("list namespaces: %w", err)
	}
	remaining := 0
	var errs []error
	for _, kv := range res.Items {
		obj, err := decodeStored(nsr, kv)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ns := obj.(*types.Namespace)
		if ns.DeletionTimestamp == nil {
			continue
		}
		left, err := s.emptyNamespace(ctx, ns.Name)
		if err != nil {
			errs = append(errs, err)
			remaining++
			continue
		}
		if left > 0 {
			remaining++
			continue
		}
		if err := s.finalizeNamespace(ctx, ns.Name); err != nil {
			errs = append(errs, err)
			remaining++
		}
	}
	return remaining, errors.Join(errs...)
}

// emptyNamespace deletes everything in namespace and returns how many
// objects are still there (waiting on finalizers or graceful deletion).
func (s *Server) emptyNamespace(ctx context.Context, namespace string) (int, error) {
	left := 0
	background := types.DeletePropagationBackground
	for _, r := range types.Resources() {
		if !r.Namespaced {
			continue
		}
		res, err := s.store.List(ctx, storagePrefix(r, namespace), storage.ListOptions{})
		if err != nil {
			return 0, fmt.Errorf("list %s in namespace %q: %w", r.Name, namespace, err)
		}
		for _, kv := range res.Items {
			obj, err := decodeStored(r, kv)
			if err != nil {
				return 0, err
			}
			m := obj.GetObjectMeta()
			if m.DeletionTimestamp != nil {
				left++
				continue
			}
			_, err = s.deleteObject(ctx, r, namespace, m.Name, types.DeleteOptions{PropagationPolicy: &background}, writeOptions{})
			if isStatusError(err, 404) {
				continue
			}
			if err != nil {
				return 0, err
			}
			if _, err := s.store.Get(ctx, kv.Key); err == nil {
				left++
			}
		}
	}
	return left, nil
}

// finalizeNamespace removes the "kubernetes" finalizer of an emptied
// namespace, which then goes (unless metadata finalizers remain).
func (s *Server) finalizeNamespace(ctx context.Context, name string) error {
	nsr := nsResource()
	rt := s.newRetrier()
	for {
		rt.beforeRead()
		obj, rev, err := s.getObject(ctx, nsr, "", name)
		if isStatusError(err, 404) {
			return nil
		}
		if err != nil {
			return err
		}
		ns := obj.(*types.Namespace)
		ns.Spec.Finalizers = slices.DeleteFunc(ns.Spec.Finalizers, func(f types.FinalizerName) bool {
			return f == types.FinalizerKubernetes
		})
		err = s.commitUpdate(ctx, nsr, ns, rev)
		if (errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrNotFound)) && rt.retry(ctx, rev) {
			continue
		}
		return err
	}
}
