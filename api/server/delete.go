package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/storage"
)

// protectedNamespaces may not be deleted.
var protectedNamespaces = map[string]bool{"default": true, "wharf-system": true, types.NamespaceNodeLease: true}

// deleteOptions reads DeleteOptions from the body (if any) and the query.
func (s *Server) deleteOptions(c echo.Context) (types.DeleteOptions, writeOptions, error) {
	var opts types.DeleteOptions
	q := c.Request().URL.Query()
	wo, err := parseWriteOptions(q)
	if err != nil {
		return opts, wo, err
	}
	body, err := s.readBody(c)
	if err != nil {
		return opts, wo, err
	}
	if len(body) > 0 {
		if err := decodeOptions(body, &opts); err != nil {
			return opts, wo, err
		}
		if len(opts.DryRun) > 0 {
			wo.dryRun = true
		}
	}
	if err := queryDeleteOptions(q, &opts); err != nil {
		return opts, wo, err
	}
	if p := opts.PropagationPolicy; p != nil {
		switch *p {
		case types.DeletePropagationBackground, types.DeletePropagationForeground, types.DeletePropagationOrphan:
		default:
			return opts, wo, errBadRequest("invalid propagationPolicy %q: want Background, Foreground or Orphan", *p)
		}
	}
	return opts, wo, nil
}

func queryDeleteOptions(q url.Values, opts *types.DeleteOptions) error {
	if v := q.Get("gracePeriodSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return errBadRequest("invalid gracePeriodSeconds %q: want an integer", v)
		}
		opts.GracePeriodSeconds = &n
	}
	if v := q.Get("propagationPolicy"); v != "" {
		opts.PropagationPolicy = &v
	}
	if v := q.Get("orphanDependents"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errBadRequest("invalid orphanDependents %q: want true or false", v)
		}
		opts.OrphanDependents = &b
	}
	return nil
}

func (s *Server) delete(c echo.Context, ri *requestInfo) error {
	opts, wo, err := s.deleteOptions(c)
	if err != nil {
		return err
	}
	obj, err := s.deleteObject(c.Request().Context(), ri.Resource, ri.Namespace, ri.Name, opts, wo)
	if err != nil {
		return err
	}
	return s.writeObject(c, ri, http.StatusOK, obj)
}

func (s *Server) deleteCollection(c echo.Context, ri *requestInfo) error {
	if ri.Resource.Namespaced && ri.Namespace == "" {
		return errMethodNotAllowed()
	}
	opts, wo, err := s.deleteOptions(c)
	if err != nil {
		return err
	}
	q := c.Request().URL.Query()
	sel, err := parseSelectors(ri.Resource, q)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	res, err := s.listObjects(ctx, ri, url.Values{}, sel)
	if err != nil {
		return err
	}
	deleted := make([]types.Object, 0, len(res.objs))
	for _, obj := range res.objs {
		m := obj.GetObjectMeta()
		d, err := s.deleteObject(ctx, ri.Resource, m.Namespace, m.Name, opts, wo)
		if isStatusError(err, http.StatusNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		deleted = append(deleted, d)
	}
	list, err := s.listFor(ri, deleted, types.ListMeta{ResourceVersion: formatRV(s.store.Revision())})
	if err != nil {
		return err
	}
	return writeFormatted(c, http.StatusOK, list)
}

// podGracePeriod returns how long a Pod being deleted gets to stop: 0 when
// it is not bound to a node or has finished (nothing runs it), else the
// request's grace period or the Pod's terminationGracePeriodSeconds.
func podGracePeriod(pod *types.Pod, opts types.DeleteOptions) int64 {
	if pod.Spec.NodeName == "" || pod.Status.Phase == types.PodSucceeded || pod.Status.Phase == types.PodFailed {
		return 0
	}
	if g := opts.GracePeriodSeconds; g != nil && *g >= 0 {
		return *g
	}
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil && *g >= 0 {
		return *g
	}
	return 30
}

// deleteObject deletes one object as Kubernetes does: at once, or, for an
// object with finalizers (or a policy finalizer to add), a Pod that needs a
// grace period, or a Namespace, by setting deletionTimestamp.
func (s *Server) deleteObject(ctx context.Context, r *types.Resource, namespace, name string, opts types.DeleteOptions, wo writeOptions) (types.Object, error) {
	if r.Kind == "Namespace" && protectedNamespaces[name] {
		return nil, errForbidden(r, name, "this namespace may not be deleted")
	}
	rt := s.newRetrier()
	for {
		rt.beforeRead()
		cur, rev, err := s.getObject(ctx, r, namespace, name)
		if err != nil {
			return nil, err
		}
		m := cur.GetObjectMeta()
		if p := opts.Preconditions; p != nil {
			if p.UID != nil && *p.UID != m.UID {
				return nil, errConflict(r, name, fmt.Sprintf("Precondition failed: UID in precondition: %s, UID in object meta: %s", *p.UID, m.UID))
			}
			if p.ResourceVersion != nil && *p.ResourceVersion != m.ResourceVersion {
				return nil, errConflict(r, name, fmt.Sprintf("Precondition failed: ResourceVersion in precondition: %s, ResourceVersion in object meta: %s", *p.ResourceVersion, m.ResourceVersion))
			}
		}
		now := s.now().UTC()
		var grace int64
		if pod, ok := cur.(*types.Pod); ok {
			grace = podGracePeriod(pod, opts)
		}
		policyFinalizer := ""
		switch {
		case opts.PropagationPolicy != nil && *opts.PropagationPolicy == types.DeletePropagationForeground:
			policyFinalizer = types.FinalizerForeground
		case opts.PropagationPolicy != nil && *opts.PropagationPolicy == types.DeletePropagationOrphan,
			opts.PropagationPolicy == nil && opts.OrphanDependents != nil && *opts.OrphanDependents:
			policyFinalizer = types.FinalizerOrphanDependents
		}
		ns, isNS := cur.(*types.Namespace)
		update := false
		if m.DeletionTimestamp == nil {
			if policyFinalizer != "" && !slices.Contains(m.Finalizers, policyFinalizer) {
				m.Finalizers = append(m.Finalizers, policyFinalizer)
			}
			if len(m.Finalizers) == 0 && grace == 0 && !isNS {
				obj, err := s.removeObject(ctx, r, cur, rev, wo)
				if errors.Is(err, storage.ErrConflict) && rt.retry(ctx, rev) {
					continue // changed since read: start again from the new state
				}
				return obj, err
			}
			ts := types.NewTime(now.Add(time.Duration(grace) * time.Second).Truncate(time.Second))
			m.DeletionTimestamp, m.DeletionGracePeriodSeconds = &ts, &grace
			if isNS {
				ns.Status.Phase = types.NamespaceTerminating
			}
			update = true
		} else if prev := m.DeletionGracePeriodSeconds; prev != nil && grace < *prev {
			// A second delete may shorten the grace period; 0 ends it.
			if grace == 0 && len(m.Finalizers) == 0 {
				obj, err := s.removeObject(ctx, r, cur, rev, wo)
				if errors.Is(err, storage.ErrConflict) && rt.retry(ctx, rev) {
					continue
				}
				return obj, err
			}
			ts := types.NewTime(now.Add(time.Duration(grace) * time.Second).Truncate(time.Second))
			m.DeletionTimestamp, m.DeletionGracePeriodSeconds = &ts, &grace
			update = true
		}
		if !update || wo.dryRun {
			return cur, nil
		}
		err = s.commitDeletionUpdate(ctx, r, cur, rev)
		if errors.Is(err, storage.ErrConflict) && rt.retry(ctx, rev) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if isNS {
			s.kickNamespaces()
		}
		return cur, nil
	}
}

// commitDeletionUpdate writes the deletion marks of obj over rev.
func (s *Server) commitDeletionUpdate(ctx context.Context, r *types.Resource, obj types.Object, rev int64) error {
	m := obj.GetObjectMeta()
	value, err := encodeForStore(obj)
	if err != nil {
		return err
	}
	nrev, err := s.store.Update(ctx, storageKey(r, m.Namespace, m.Name), value, rev)
	if err != nil {
		return fmt.Errorf("mark %s %q deleted: %w", qualifiedResource(r), m.Name, err)
	}
	m.ResourceVersion = formatRV(nrev)
	return nil
}

// removeObject deletes obj from the store, if still at rev.
func (s *Server) removeObject(ctx context.Context, r *types.Resource, obj types.Object, rev int64, wo writeOptions) (types.Object, error) {
	if wo.dryRun {
		return obj, nil
	}
	m := obj.GetObjectMeta()
	drev, _, err := s.store.Delete(ctx, storageKey(r, m.Namespace, m.Name), rev)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errNotFound(r, m.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("delete %s %q: %w", qualifiedResource(r), m.Name, err)
	}
	m.ResourceVersion = formatRV(drev)
	s.afterDelete(r, obj)
	return obj, nil
}

// afterDelete wakes the namespace loop when an object of a terminating
// namespace goes.
func (s *Server) afterDelete(r *types.Resource, obj types.Object) {
	if r.Namespaced && s.terminating.Load() > 0 {
		s.kickNamespaces()
	}
}
