package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/wharfhq/wharf/api/labels"
	"github.com/wharfhq/wharf/api/types"
)

// fieldPath walks exported struct fields by name through pointers; ok is
// false when a field is missing or a pointer on the way is nil.
func fieldPath(obj types.Object, path ...string) (reflect.Value, bool) {
	v := reflect.ValueOf(obj)
	for _, name := range path {
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			return reflect.Value{}, false
		}
		v = v.FieldByName(name)
		if !v.IsValid() {
			return reflect.Value{}, false
		}
	}
	return v, true
}

// scaleOf builds the autoscaling/v1 Scale of a workload: spec.replicas,
// status.replicas and the label selector in text form.
func scaleOf(obj types.Object) (*types.Scale, error) {
	m := obj.GetObjectMeta()
	sc := &types.Scale{
		TypeMeta: types.TypeMeta{APIVersion: "autoscaling/v1", Kind: "Scale"},
		ObjectMeta: types.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID,
			ResourceVersion: m.ResourceVersion, CreationTimestamp: m.CreationTimestamp},
	}
	sc.Spec.Replicas = 1
	if v, ok := fieldPath(obj, "Spec", "Replicas"); ok {
		switch {
		case v.Kind() == reflect.Pointer && !v.IsNil():
			sc.Spec.Replicas = int32(v.Elem().Int())
		case v.Kind() == reflect.Int32:
			sc.Spec.Replicas = int32(v.Int())
		}
	}
	if v, ok := fieldPath(obj, "Status", "Replicas"); ok && v.Kind() == reflect.Int32 {
		sc.Status.Replicas = int32(v.Int())
	}
	if v, ok := fieldPath(obj, "Spec", "Selector"); ok {
		if ls, ok := v.Interface().(*types.LabelSelector); ok && ls != nil {
			sel, err := labels.FromLabelSelector(ls)
			if err != nil {
				return nil, fmt.Errorf("selector of %s %q: %w", obj.GetTypeMeta().Kind, m.Name, err)
			}
			sc.Status.Selector = sel.String()
		}
	}
	return sc, nil
}

// setReplicas sets spec.replicas of a workload.
func setReplicas(obj types.Object, n int32) error {
	v, ok := fieldPath(obj, "Spec", "Replicas")
	if !ok || !v.CanSet() {
		return fmt.Errorf("%s has no spec.replicas", obj.GetTypeMeta().Kind)
	}
	if v.Kind() == reflect.Pointer {
		p := reflect.New(v.Type().Elem())
		p.Elem().SetInt(int64(n))
		v.Set(p)
		return nil
	}
	v.SetInt(int64(n))
	return nil
}

// serveScale serves get, update and patch of the scale subresource.
func (s *Server) serveScale(c echo.Context, ri *requestInfo) error {
	ctx := c.Request().Context()
	var obj types.Object
	switch ri.Verb {
	case verbGet:
		cur, _, err := s.getObject(ctx, ri.Resource, ri.Namespace, ri.Name)
		if err != nil {
			return err
		}
		obj = cur
	case verbUpdate, verbPatch:
		wo, err := parseWriteOptions(c.Request().URL.Query())
		if err != nil {
			return err
		}
		mutate, err := s.scaleMutation(c, ri)
		if err != nil {
			return err
		}
		if obj, err = s.guaranteedUpdate(ctx, ri, wo, mutate); err != nil {
			return err
		}
	default:
		return errMethodNotAllowed()
	}
	sc, err := scaleOf(obj)
	if err != nil {
		return err
	}
	return writeFormatted(c, http.StatusOK, sc)
}

// scaleMutation reads a Scale (PUT) or a patch of one (PATCH) and returns
// the mutation setting the workload's replicas.
func (s *Server) scaleMutation(c echo.Context, ri *requestInfo) (func(types.Object) (types.Object, error), error) {
	var body []byte
	var mt string
	var err error
	if ri.Verb == verbPatch {
		mt, body, err = s.readPatch(c)
	} else {
		if err = checkObjectMedia(c); err == nil {
			body, err = s.readBody(c)
		}
	}
	if err != nil {
		return nil, err
	}
	scaleRes := &types.Resource{Group: "autoscaling", Version: "v1", Kind: "Scale", Name: "scale"}
	return func(cur types.Object) (types.Object, error) {
		data := body
		if mt != "" {
			sc, err := scaleOf(cur)
			if err != nil {
				return nil, err
			}
			doc, err := json.Marshal(sc)
			if err != nil {
				return nil, err
			}
			if data, err = applyPatch(mt, doc, body, reflect.TypeFor[types.Scale]()); err != nil {
				return nil, err
			}
		}
		var want types.Scale
		if err := decodeObject(data, &want); err != nil {
			return nil, err
		}
		if err := checkTypeMeta(&want, scaleRes); err != nil {
			return nil, err
		}
		if want.Name != "" && want.Name != ri.Name {
			return nil, errBadRequest("the name of the object (%s) does not match the name on the URL (%s)", want.Name, ri.Name)
		}
		if want.ResourceVersion != "" && want.ResourceVersion != cur.GetObjectMeta().ResourceVersion {
			return nil, errPrecondition
		}
		if want.Spec.Replicas < 0 {
			return nil, newStatusError(http.StatusUnprocessableEntity, types.StatusReasonInvalid,
				fmt.Sprintf("Scale.autoscaling %q is invalid: spec.replicas: Invalid value: %d: must be greater than or equal to 0", ri.Name, want.Spec.Replicas),
				&types.StatusDetails{Name: ri.Name, Group: "autoscaling", Kind: "Scale", Causes: []types.StatusCause{{
					Type: "FieldValueInvalid", Message: "Invalid value: must be greater than or equal to 0", Field: "spec.replicas"}}})
		}
		if err := setReplicas(cur, want.Spec.Replicas); err != nil {
			return nil, err
		}
		return cur, nil
	}, nil
}

// bind serves POST pods/NAME/binding and POST namespaces/NS/bindings:
// it sets spec.nodeName of an unbound Pod with compare-and-swap and, as
// Kubernetes' binding storage does, the condition PodScheduled=True.
func (s *Server) bind(c echo.Context, ri *requestInfo) error {
	ctx := c.Request().Context()
	wo, err := parseWriteOptions(c.Request().URL.Query())
	if err != nil {
		return err
	}
	if err := checkObjectMedia(c); err != nil {
		return err
	}
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	var b types.Binding
	if err := decodeObject(body, &b); err != nil {
		return err
	}
	bindRes := &types.Resource{Version: "v1", Kind: "Binding", Name: "bindings"}
	if err := checkTypeMeta(&b, bindRes); err != nil {
		return err
	}
	if b.Namespace != "" && b.Namespace != ri.Namespace {
		return errBadRequest("the namespace of the provided object (%s) does not match the namespace sent on the request (%s)", b.Namespace, ri.Namespace)
	}
	name := ri.Name
	if ri.LegacyBinding {
		name = b.Name
	} else if b.Name != "" && b.Name != name {
		return errBadRequest("the name of the object (%s) does not match the name on the URL (%s)", b.Name, name)
	}
	if name == "" || b.Target.Name == "" || (b.Target.Kind != "" && b.Target.Kind != "Node") {
		field, msg := "target.name", "Required value: the node to bind to"
		if name == "" {
			field, msg = "metadata.name", "Required value: the Pod to bind"
		} else if b.Target.Name != "" {
			field, msg = "target.kind", "Unsupported value: \""+b.Target.Kind+"\": supported values: \"Node\""
		}
		return newStatusError(http.StatusUnprocessableEntity, types.StatusReasonInvalid,
			fmt.Sprintf("Binding %q is invalid: %s: %s", name, field, msg),
			&types.StatusDetails{Name: name, Kind: "Binding", Causes: []types.StatusCause{{Type: "FieldValueInvalid", Message: msg, Field: field}}})
	}
	r := ri.Resource
	bindRI := &requestInfo{Verb: verbUpdate, Resource: r, Namespace: ri.Namespace, Name: name, Subresource: "binding"}
	_, err = s.guaranteedUpdate(ctx, bindRI, wo, func(cur types.Object) (types.Object, error) {
		pod := cur.(*types.Pod)
		if b.UID != "" && b.UID != pod.UID {
			// The binder saw another Pod of this name (deleted and
			// recreated since): never bind the new one by mistake.
			return nil, errConflict(r, name, fmt.Sprintf("Precondition failed: UID in precondition: %s, UID in object meta: %s", b.UID, pod.UID))
		}
		if pod.DeletionTimestamp != nil {
			return nil, errConflict(r, name, fmt.Sprintf("pod %s is being deleted, cannot be assigned to a host", name))
		}
		if pod.Spec.NodeName != "" {
			return nil, errConflict(r, name, fmt.Sprintf("pod %s is already assigned to node %q", name, pod.Spec.NodeName))
		}
		pod.Spec.NodeName = b.Target.Name
		for k, v := range b.Annotations {
			if pod.Annotations == nil {
				pod.Annotations = map[string]string{}
			}
			pod.Annotations[k] = v
		}
		return pod, nil
	})
	if err != nil {
		return err
	}
	st := statusSuccess(nil, "")
	st.Code = http.StatusCreated
	return writeJSON(c, http.StatusCreated, st)
}

// markScheduled sets the PodScheduled condition of a Pod just bound.
func markScheduled(pod *types.Pod, now time.Time) {
	cond := types.PodCondition{Type: types.PodScheduled, Status: types.ConditionTrue,
		LastTransitionTime: types.NewTime(now.UTC().Truncate(time.Second))}
	for i, c := range pod.Status.Conditions {
		if c.Type == types.PodScheduled {
			if c.Status != types.ConditionTrue {
				pod.Status.Conditions[i] = cond
			}
			return
		}
	}
	pod.Status.Conditions = append(pod.Status.Conditions, cond)
}

// proxyPod hands a node-served Pod subresource (log, exec, ...) to the
// configured NodeProxy.
func (s *Server) proxyPod(c echo.Context, ri *requestInfo) error {
	if ri.Verb != verbGet && ri.Verb != verbCreate {
		return errMethodNotAllowed()
	}
	obj, _, err := s.getObject(c.Request().Context(), ri.Resource, ri.Namespace, ri.Name)
	if err != nil {
		return err
	}
	pod := obj.(*types.Pod)
	if pod.Spec.NodeName == "" {
		return errBadRequest("pod %s does not have a host assigned", ri.Name)
	}
	if s.cfg.NodeProxy == nil {
		return errUnavailable(fmt.Sprintf("pods/%s is not available: this server has no node proxy configured "+
			"(server.Config.NodeProxy), so it cannot reach node %q", ri.Subresource, pod.Spec.NodeName))
	}
	s.cfg.NodeProxy.ServePod(c.Response(), c.Request(), pod, ri.Subresource)
	return nil
}
