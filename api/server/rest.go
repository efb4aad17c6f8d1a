package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/wharfhq/wharf/api/fields"
	"github.com/wharfhq/wharf/api/labels"
	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/api/validation"
	"github.com/wharfhq/wharf/storage"
)

// serveResource dispatches a resource request.
func (s *Server) serveResource(c echo.Context, ri *requestInfo) error {
	switch ri.Subresource {
	case "":
	case "status":
		switch ri.Verb {
		case verbGet:
			return s.get(c, ri)
		case verbUpdate, verbPatch:
			return s.update(c, ri)
		}
		return errMethodNotAllowed()
	case "scale":
		return s.serveScale(c, ri)
	case "binding":
		if ri.Verb != verbCreate {
			return errMethodNotAllowed()
		}
		return s.bind(c, ri)
	default:
		return s.proxyPod(c, ri)
	}
	switch ri.Verb {
	case verbGet:
		return s.get(c, ri)
	case verbList:
		return s.list(c, ri)
	case verbWatch:
		return s.watch(c, ri)
	case verbCreate:
		return s.create(c, ri)
	case verbUpdate, verbPatch:
		return s.update(c, ri)
	case verbDelete:
		return s.delete(c, ri)
	case verbDeleteCollection:
		return s.deleteCollection(c, ri)
	}
	return errMethodNotAllowed()
}

// writeObject answers one object in the negotiated format.
func (s *Server) writeObject(c echo.Context, ri *requestInfo, code int, obj types.Object) error {
	if negotiate(c, true) == outputTable && ri.Subresource == "" {
		t, err := s.table(c, ri, []types.Object{obj}, types.ListMeta{})
		if err != nil {
			return err
		}
		return writeJSON(c, code, t)
	}
	obj, err := toServed(ri, obj)
	if err != nil {
		return err
	}
	return writeFormatted(c, code, obj)
}

func (s *Server) get(c echo.Context, ri *requestInfo) error {
	obj, _, err := s.getObject(c.Request().Context(), ri.Resource, ri.Namespace, ri.Name)
	if err != nil {
		return err
	}
	return s.writeObject(c, ri, http.StatusOK, obj)
}

// selectors are the label and field selectors of a list, watch or
// deletecollection.
type selectors struct {
	label labels.Selector
	field fields.Selector
}

func parseSelectors(r *types.Resource, q url.Values) (selectors, error) {
	var sel selectors
	var err error
	if sel.label, err = labels.Parse(q.Get("labelSelector")); err != nil {
		return sel, errBadRequest("unable to parse requirement: %v", err)
	}
	if sel.field, err = fields.Parse(q.Get("fieldSelector")); err != nil {
		return sel, errBadRequest("%v", err)
	}
	if err := fields.ValidateFor(r.Kind, sel.field); err != nil {
		return sel, errBadRequest("%v", err)
	}
	return sel, nil
}

func (sel selectors) empty() bool { return sel.label.Empty() && sel.field.Empty() }

func (sel selectors) matches(obj types.Object) bool {
	if !sel.label.Matches(obj.GetObjectMeta().Labels) {
		return false
	}
	return sel.field.Empty() || sel.field.Matches(fields.ObjectFields(obj))
}

// continueToken is the decoded form of a list's continue parameter: the
// revision the first page was read at and the last key returned.
type continueToken struct {
	Version string `json:"v"`
	RV      int64  `json:"rv"`
	Start   string `json:"start"`
}

func encodeContinue(rv int64, key string) string {
	data, _ := json.Marshal(continueToken{Version: "meta.k8s.io/v1", RV: rv, Start: key})
	return base64.RawURLEncoding.EncodeToString(data)
}

func decodeContinue(s, prefix string) (continueToken, error) {
	var t continueToken
	data, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(data, &t)
	}
	if err != nil || t.Version != "meta.k8s.io/v1" || t.RV <= 0 || !strings.HasPrefix(t.Start, prefix) {
		return t, errBadRequest("invalid continue token: it must be the metadata.continue value of a previous list of the same resource")
	}
	return t, nil
}

// listResult is one page of objects.
type listResult struct {
	objs      []types.Object
	rev       int64
	continue_ string
}

// listObjects reads one page of a list request.
func (s *Server) listObjects(ctx context.Context, ri *requestInfo, q url.Values, sel selectors) (listResult, error) {
	prefix := storagePrefix(ri.Resource, ri.Namespace)
	opts := storage.ListOptions{}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.ParseInt(l, 10, 64)
		if err != nil || n < 0 {
			return listResult{}, errBadRequest("invalid limit %q: want a non-negative integer", l)
		}
		opts.Limit = int(n)
	}
	rvParam, match := q.Get("resourceVersion"), q.Get("resourceVersionMatch")
	cont := q.Get("continue")
	rv, err := parseRV(rvParam)
	if err != nil {
		return listResult{}, err
	}
	switch {
	case cont != "":
		if rvParam != "" && rvParam != "0" {
			return listResult{}, errBadRequest("specifying resource version is not allowed when using continue")
		}
		tok, err := decodeContinue(cont, prefix)
		if err != nil {
			return listResult{}, err
		}
		opts.Revision, opts.StartAfter = tok.RV, tok.Start
	case match == "Exact":
		if rv == 0 {
			return listResult{}, errBadRequest("resourceVersionMatch=Exact needs a non-zero resourceVersion")
		}
		opts.Revision = rv
	case match == "" || match == "NotOlderThan":
		if rv > s.store.Revision() {
			return listResult{}, errTooLargeRV(rv)
		}
	default:
		return listResult{}, errBadRequest("unsupported resourceVersionMatch %q: want Exact or NotOlderThan", match)
	}
	decoded := map[string]types.Object{}
	var filterErr error
	if !sel.empty() {
		opts.Filter = func(kv storage.KV) bool {
			obj, err := decodeStored(ri.Resource, kv)
			if err != nil {
				filterErr = err
				return false
			}
			if !sel.matches(obj) {
				return false
			}
			decoded[kv.Key] = obj
			return true
		}
	}
	res, err := s.store.List(ctx, prefix, opts)
	switch {
	case errors.Is(err, storage.ErrCompacted) && cont != "":
		return listResult{}, errExpired(msgContinueExpired)
	case errors.Is(err, storage.ErrCompacted):
		return listResult{}, errTooOldRV(opts.Revision, 0)
	case errors.Is(err, storage.ErrFutureRevision):
		return listResult{}, errTooLargeRV(opts.Revision)
	case err != nil:
		return listResult{}, fmt.Errorf("list %s: %w", qualifiedResource(ri.Resource), err)
	case filterErr != nil:
		return listResult{}, filterErr
	}
	out := listResult{rev: res.Revision, objs: make([]types.Object, 0, len(res.Items))}
	for _, kv := range res.Items {
		obj := decoded[kv.Key]
		if obj == nil {
			if obj, err = decodeStored(ri.Resource, kv); err != nil {
				return listResult{}, err
			}
		}
		out.objs = append(out.objs, obj)
	}
	if res.More && len(res.Items) > 0 {
		out.continue_ = encodeContinue(res.Revision, res.Items[len(res.Items)-1].Key)
	}
	return out, nil
}

func (s *Server) list(c echo.Context, ri *requestInfo) error {
	q := c.Request().URL.Query()
	sel, err := parseSelectors(ri.Resource, q)
	if err != nil {
		return err
	}
	res, err := s.listObjects(c.Request().Context(), ri, q, sel)
	if err != nil {
		return err
	}
	lm := types.ListMeta{ResourceVersion: formatRV(res.rev), Continue: res.continue_}
	if negotiate(c, true) == outputTable {
		t, err := s.table(c, ri, res.objs, lm)
		if err != nil {
			return err
		}
		return writeJSON(c, http.StatusOK, t)
	}
	list, err := s.listFor(ri, res.objs, lm)
	if err != nil {
		return err
	}
	return writeFormatted(c, http.StatusOK, list)
}

// newList builds the List kind of r holding objs.
func (s *Server) newList(r *types.Resource, objs []types.Object, lm types.ListMeta) (types.ObjectList, error) {
	list := r.NewList()
	if err := list.SetItems(objs); err != nil {
		return nil, fmt.Errorf("build %sList: %w", r.Kind, err)
	}
	tm := list.GetTypeMeta()
	tm.APIVersion, tm.Kind = r.APIVersion(), r.Kind+"List"
	*list.GetListMeta() = lm
	return list, nil
}

// writeOptions are the query parameters every write accepts.
type writeOptions struct {
	dryRun bool
	// fieldValidation is Strict (also when unset: Wharf's default, where
	// Kubernetes' is Warn), Warn or Ignore.
	fieldValidation string
	// warn adds a Warning header to the response (nil: none).
	warn func(msg string)
}

func parseWriteOptions(q url.Values) (writeOptions, error) {
	var o writeOptions
	for _, d := range q["dryRun"] {
		if d != "All" {
			return o, errBadRequest("unsupported dryRun value %q: want All", d)
		}
		o.dryRun = true
	}
	switch v := q.Get("fieldValidation"); v {
	case "", validationStrict:
		o.fieldValidation = validationStrict
	case validationWarn, validationIgnore:
		o.fieldValidation = v
	default:
		return o, errBadRequest("invalid fieldValidation %q: want Strict, Warn or Ignore", v)
	}
	return o, nil
}

// checkTypeMeta checks (or fills) an object's kind and apiVersion against
// the resource of the URL.
func checkTypeMeta(obj types.Object, r *types.Resource) error {
	tm := obj.GetTypeMeta()
	if tm.Kind == "" && tm.APIVersion == "" {
		setTypeMeta(obj, r)
		return nil
	}
	if tm.Kind != r.Kind || tm.APIVersion != r.APIVersion() {
		return errBadRequest("the API version in the data (%s) and kind (%s) do not match the resource %s %s of the URL (want apiVersion %s, kind %s)",
			tm.APIVersion, tm.Kind, r.APIVersion(), r.Name, r.APIVersion(), r.Kind)
	}
	return nil
}

// checkNamespace makes the object's namespace agree with the URL's.
func checkNamespace(obj types.Object, ri *requestInfo) error {
	m := obj.GetObjectMeta()
	if !ri.Resource.Namespaced {
		m.Namespace = ""
		return nil
	}
	if m.Namespace == "" {
		m.Namespace = ri.Namespace
	}
	if m.Namespace != ri.Namespace {
		return errBadRequest("the namespace of the provided object (%s) does not match the namespace sent on the request (%s)", m.Namespace, ri.Namespace)
	}
	return nil
}

var nsResource = func() *types.Resource {
	r, _ := types.ResourceFor("", "namespaces")
	return r
}

// checkNamespaceActive refuses to create in a namespace that is missing
// (404) or terminating (403), as Kubernetes' NamespaceLifecycle does.
func (s *Server) checkNamespaceActive(ctx context.Context, r *types.Resource, name, namespace string) error {
	obj, _, err := s.getObject(ctx, nsResource(), "", namespace)
	if err != nil {
		return err
	}
	ns := obj.(*types.Namespace)
	if ns.DeletionTimestamp != nil || ns.Status.Phase == types.NamespaceTerminating {
		e := errForbidden(r, name, fmt.Sprintf("unable to create new content in namespace %s because it is being terminated", namespace))
		e.Status.Details.Causes = []types.StatusCause{{Type: "NamespaceTerminating",
			Message: fmt.Sprintf("namespace %s is being terminated", namespace), Field: "metadata.namespace"}}
		return e
	}
	return nil
}

// nameSuffix returns 5 random characters for generateName, from the
// alphabet Kubernetes uses (no vowels, no look-alikes).
func nameSuffix() string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, 5)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}

// prepareCreate sets the fields the server owns on a new object.
func (s *Server) prepareCreate(r *types.Resource, obj types.Object) {
	m := obj.GetObjectMeta()
	m.UID = s.cfg.NewUID()
	m.CreationTimestamp = types.NewTime(s.now().UTC().Truncate(1e9))
	m.ResourceVersion = ""
	m.DeletionTimestamp, m.DeletionGracePeriodSeconds = nil, nil
	m.SelfLink, m.ManagedFields = "", nil
	m.Generation = 0
	if hasSpec(obj) {
		m.Generation = 1
	}
	// The status of a kind with a status subresource is the controllers'
	// to write; Nodes are the exception, their agent registers them with
	// their status (as the kubelet does).
	if r.HasSubresource("status") && r.Kind != "Node" {
		if st, ok := field(obj, "Status"); ok {
			st.SetZero()
		}
	}
	switch o := obj.(type) {
	case *types.Pod:
		o.Status.Phase = types.PodPending
	case *types.Namespace:
		o.Status.Phase = types.NamespaceActive
		if len(o.Spec.Finalizers) == 0 {
			o.Spec.Finalizers = []types.FinalizerName{types.FinalizerKubernetes}
		}
	}
}

func (s *Server) create(c echo.Context, ri *requestInfo) error {
	if ri.Name != "" {
		return errMethodNotAllowed()
	}
	ctx := c.Request().Context()
	wo, err := parseWriteOptions(c.Request().URL.Query())
	if err != nil {
		return err
	}
	if err := checkObjectMedia(c); err != nil {
		return err
	}
	body, err := s.readObjectBody(c)
	if err != nil {
		return err
	}
	wo.warn = warner(c)
	obj, err := s.createObject(ctx, ri, body, wo)
	if err != nil {
		return err
	}
	return s.writeObject(c, ri, http.StatusCreated, obj)
}

// createObject decodes, admits and stores a new object. A name made from
// generateName that is taken is drawn again, up to 8 times, and the
// object admitted again with it: defaults may depend on the name (a
// Job's job-name labels).
func (s *Server) createObject(ctx context.Context, ri *requestInfo, body []byte, wo writeOptions) (types.Object, error) {
	for attempt := 0; ; attempt++ {
		obj, err := s.createObjectOnce(ctx, ri, body, wo)
		if errors.Is(err, errGeneratedNameTaken) && attempt < 8 {
			continue
		}
		if errors.Is(err, errGeneratedNameTaken) {
			return nil, errAlreadyExists(ri.Resource, obj.GetObjectMeta().Name)
		}
		return obj, err
	}
}

// errGeneratedNameTaken: the name createObjectOnce drew from generateName
// is taken (the object is returned with it).
var errGeneratedNameTaken = errors.New("generated name taken")

// createObjectOnce is one attempt of createObject.
func (s *Server) createObjectOnce(ctx context.Context, ri *requestInfo, body []byte, wo writeOptions) (types.Object, error) {
	r := ri.Resource
	obj := r.New()
	if err := decodeObjectAs(wo, body, obj); err != nil {
		return nil, err
	}
	if err := checkTypeMeta(obj, r); err != nil {
		return nil, err
	}
	if err := checkNamespace(obj, ri); err != nil {
		return nil, err
	}
	m := obj.GetObjectMeta()
	generated := m.Name == "" && m.GenerateName != ""
	if generated {
		m.Name = m.GenerateName + s.cfg.NameSuffix()
	}
	s.prepareCreate(r, obj)
	defaultFunc(obj)
	if err := validateCreate(r, obj); err != nil {
		return nil, err
	}
	if m.Name == "" {
		return nil, invalidName(r)
	}
	if r.Namespaced {
		if err := s.checkNamespaceActive(ctx, r, m.Name, m.Namespace); err != nil {
			return nil, err
		}
	}
	if svc, ok := obj.(*types.Service); ok {
		s.svcMu.Lock()
		defer s.svcMu.Unlock()
		if err := s.allocateService(ctx, r, svc); err != nil {
			return nil, err
		}
	}
	if wo.dryRun {
		return obj, nil
	}
	value, err := encodeForStore(obj)
	if err != nil {
		return nil, err
	}
	rev, err := s.store.Create(ctx, storageKey(r, m.Namespace, m.Name), value)
	if errors.Is(err, storage.ErrExists) {
		if generated {
			return obj, errGeneratedNameTaken
		}
		return nil, errAlreadyExists(r, m.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("create %s %q: %w", qualifiedResource(r), m.Name, err)
	}
	m.ResourceVersion = formatRV(rev)
	return obj, nil
}

func invalidName(r *types.Resource) error {
	st := newStatusError(http.StatusUnprocessableEntity, types.StatusReasonInvalid,
		fmt.Sprintf("%s %q is invalid: metadata.name: Required value: name or generateName is required", r.Kind, ""),
		&types.StatusDetails{Group: r.Group, Kind: r.Kind, Causes: []types.StatusCause{{
			Type: "FieldValueRequired", Message: "Required value: name or generateName is required", Field: "metadata.name"}}})
	return st
}

// prepareUpdate carries over from old what a client cannot change.
func prepareUpdate(r *types.Resource, obj, old types.Object, status bool) {
	if status {
		// A status write changes the status only.
		fresh, err := cloneObject(r, old)
		if err == nil {
			copyField(fresh, obj, "Status")
			copyValue(obj, fresh)
		}
		return
	}
	validation.PrepareForUpdate(obj, old)
	m, om := obj.GetObjectMeta(), old.GetObjectMeta()
	m.UID = om.UID
	m.CreationTimestamp = om.CreationTimestamp
	m.DeletionTimestamp, m.DeletionGracePeriodSeconds = om.DeletionTimestamp, om.DeletionGracePeriodSeconds
	m.SelfLink, m.ManagedFields = "", nil
	m.Generation = om.Generation
	if r.HasSubresource("status") {
		copyField(obj, old, "Status")
	}
	if ns, ok := obj.(*types.Namespace); ok {
		// spec.finalizers belong to the namespace deletion loop.
		ns.Spec.Finalizers = old.(*types.Namespace).Spec.Finalizers
	}
}

// hasSpecFinalizers reports whether obj is a Namespace still to be emptied
// (spec.finalizers, which the namespace loop removes).
func hasSpecFinalizers(obj types.Object) bool {
	ns, ok := obj.(*types.Namespace)
	return ok && len(ns.Spec.Finalizers) > 0
}

// copyValue sets *dst = *src for two objects of one kind.
func copyValue(dst, src types.Object) {
	dv, sv := reflect.ValueOf(dst), reflect.ValueOf(src)
	if dv.Kind() == reflect.Pointer && dv.Type() == sv.Type() && !dv.IsNil() && !sv.IsNil() {
		dv.Elem().Set(sv.Elem())
	}
}

// update serves PUT and PATCH on an object or its status.
func (s *Server) update(c echo.Context, ri *requestInfo) error {
	ctx := c.Request().Context()
	wo, err := parseWriteOptions(c.Request().URL.Query())
	if err != nil {
		return err
	}
	var mutate func(cur types.Object) (types.Object, error)
	if ri.Verb == verbPatch {
		mutate, err = s.patchMutation(c, ri)
	} else {
		mutate, err = s.putMutation(c, ri)
	}
	if err != nil {
		return err
	}
	obj, err := s.guaranteedUpdate(ctx, ri, wo, mutate)
	if err != nil {
		return err
	}
	return s.writeObject(c, ri, http.StatusOK, obj)
}

// errPrecondition marks a mutation whose resourceVersion precondition
// failed: the update answers 409 instead of retrying.
var errPrecondition = errors.New("resourceVersion precondition failed")

// putMutation decodes a PUT body once and returns the mutation that
// replaces the current object with it.
func (s *Server) putMutation(c echo.Context, ri *requestInfo) (func(types.Object) (types.Object, error), error) {
	if err := checkObjectMedia(c); err != nil {
		return nil, err
	}
	body, err := s.readObjectBody(c)
	if err != nil {
		return nil, err
	}
	r := ri.Resource
	// Decode once up front so that a malformed body fails before any read.
	wo, err := parseWriteOptions(c.Request().URL.Query())
	if err != nil {
		return nil, err
	}
	wo.warn = warner(c)
	probe := r.New()
	if err := decodeObjectAs(wo, body, probe); err != nil {
		return nil, err
	}
	if err := checkTypeMeta(probe, r); err != nil {
		return nil, err
	}
	if err := checkNamespace(probe, ri); err != nil {
		return nil, err
	}
	pm := probe.GetObjectMeta()
	if pm.Name == "" {
		pm.Name = ri.Name
	}
	if pm.Name != ri.Name {
		return nil, errBadRequest("the name of the object (%s) does not match the name on the URL (%s)", pm.Name, ri.Name)
	}
	wantRV, err := parseRV(pm.ResourceVersion)
	if err != nil {
		return nil, err
	}
	return func(cur types.Object) (types.Object, error) {
		if wantRV != 0 && formatRV(wantRV) != cur.GetObjectMeta().ResourceVersion {
			return nil, errPrecondition
		}
		obj, err := cloneObject(r, probe)
		if err != nil {
			return nil, err
		}
		if uid := obj.GetObjectMeta().UID; uid != "" && uid != cur.GetObjectMeta().UID {
			return nil, errConflict(r, ri.Name, fmt.Sprintf("Precondition failed: UID in precondition: %s, UID in object meta: %s", uid, cur.GetObjectMeta().UID))
		}
		return obj, nil
	}, nil
}

// guaranteedUpdate reads the object, applies mutate, admits and writes the
// result with compare-and-swap, retrying on conflicts the client did not
// ask to see.
func (s *Server) guaranteedUpdate(ctx context.Context, ri *requestInfo, wo writeOptions, mutate func(types.Object) (types.Object, error)) (types.Object, error) {
	r := ri.Resource
	status := ri.Subresource == "status"
	rt := s.newRetrier()
	for {
		rt.beforeRead()
		cur, curRev, err := s.getObject(ctx, r, ri.Namespace, ri.Name)
		if err != nil {
			return nil, err
		}
		curCopy, err := cloneObject(r, cur)
		if err != nil {
			return nil, err
		}
		obj, err := mutate(curCopy)
		if errors.Is(err, errPrecondition) {
			return nil, errConflict(r, ri.Name, msgStale)
		}
		if err != nil {
			return nil, err
		}
		setTypeMeta(obj, r)
		prepareUpdate(r, obj, cur, status)
		if pod, ok := obj.(*types.Pod); ok && ri.Subresource == "binding" {
			markScheduled(pod, s.now())
		}
		release := func() {}
		if !status {
			defaultFunc(obj)
			if svc, ok := obj.(*types.Service); ok {
				keepServiceAllocations(svc, cur.(*types.Service))
				s.svcMu.Lock()
				release = s.svcMu.Unlock
				err = checkClusterIPUnchanged(svc, cur.(*types.Service))
				if err == nil {
					err = s.allocateService(ctx, r, svc)
				}
			}
			if hasSpec(obj) && specChanged(obj, cur) {
				obj.GetObjectMeta().Generation = cur.GetObjectMeta().Generation + 1
			}
			if err == nil && ri.Subresource != "binding" {
				// A binding is the server's own change of spec.nodeName,
				// which a client update may not make.
				err = validateUpdate(r, obj, cur)
			}
		} else {
			err = validateStatusUpdate(r, obj, cur)
		}
		if err != nil {
			release()
			return nil, err
		}
		if wo.dryRun {
			release()
			obj.GetObjectMeta().ResourceVersion = formatRV(curRev)
			return obj, nil
		}
		err = s.commitUpdate(ctx, r, obj, curRev)
		release()
		if errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrNotFound) {
			if rt.retry(ctx, curRev) {
				continue
			}
			return nil, errConflict(r, ri.Name, msgStale)
		}
		if err != nil {
			return nil, err
		}
		return obj, nil
	}
}

// commitUpdate writes obj over revision rev; an object being deleted whose
// last finalizer is gone (and whose grace period is over) is removed.
func (s *Server) commitUpdate(ctx context.Context, r *types.Resource, obj types.Object, rev int64) error {
	m := obj.GetObjectMeta()
	key := storageKey(r, m.Namespace, m.Name)
	if m.DeletionTimestamp != nil && len(m.Finalizers) == 0 && !hasSpecFinalizers(obj) &&
		(m.DeletionGracePeriodSeconds == nil || *m.DeletionGracePeriodSeconds == 0) {
		drev, _, err := s.store.Delete(ctx, key, rev)
		if err != nil {
			return fmt.Errorf("delete %s %q: %w", qualifiedResource(r), m.Name, err)
		}
		m.ResourceVersion = formatRV(drev)
		s.afterDelete(r, obj)
		return nil
	}
	value, err := encodeForStore(obj)
	if err != nil {
		return err
	}
	nrev, err := s.store.Update(ctx, key, value, rev)
	if err != nil {
		return fmt.Errorf("update %s %q: %w", qualifiedResource(r), m.Name, err)
	}
	m.ResourceVersion = formatRV(nrev)
	return nil
}
