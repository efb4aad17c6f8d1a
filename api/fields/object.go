package fields

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/wharfhq/wharf/api/types"
)

// kindFields lists, per kind, the selectable fields besides metadata.name
// and (for namespaced kinds) metadata.namespace. ObjectFields must give
// exactly these; a test holds the two together.
var kindFields = map[string][]string{
	"Pod": {
		"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
		"spec.hostNetwork", "status.phase", "status.podIP",
	},
	"Event": {
		"involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
		"involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
		"reason", "reportingComponent", "source", "type",
	},
	"Node":      {"spec.unschedulable"},
	"Secret":    {"type"},
	"Namespace": {"status.phase"},
}

func boolString(b bool) string { return strconv.FormatBool(b) }

// ObjectFields returns the fields of obj a field selector can test:
// metadata.name for every kind, metadata.namespace for namespaced kinds,
// and per kind those SupportedFields lists.
func ObjectFields(obj types.Object) Fields {
	m := obj.GetObjectMeta()
	f := Fields{"metadata.name": m.Name}
	if namespaced(obj) {
		f["metadata.namespace"] = m.Namespace
	}
	switch o := obj.(type) {
	case *types.Pod:
		f["spec.nodeName"] = o.Spec.NodeName
		f["spec.restartPolicy"] = string(o.Spec.RestartPolicy)
		f["spec.schedulerName"] = o.Spec.SchedulerName
		f["spec.serviceAccountName"] = o.Spec.ServiceAccountName
		f["spec.hostNetwork"] = boolString(o.Spec.HostNetwork)
		f["status.phase"] = string(o.Status.Phase)
		f["status.podIP"] = o.Status.PodIP
	case *types.Event:
		ref := o.InvolvedObject
		f["involvedObject.kind"] = ref.Kind
		f["involvedObject.namespace"] = ref.Namespace
		f["involvedObject.name"] = ref.Name
		f["involvedObject.uid"] = ref.UID
		f["involvedObject.apiVersion"] = ref.APIVersion
		f["involvedObject.resourceVersion"] = ref.ResourceVersion
		f["involvedObject.fieldPath"] = ref.FieldPath
		f["reason"] = o.Reason
		f["reportingComponent"] = o.ReportingController
		// As in Kubernetes: the legacy source component, else the reporter.
		source := o.Source.Component
		if source == "" {
			source = o.ReportingController
		}
		f["source"] = source
		f["type"] = o.Type
	case *types.Node:
		f["spec.unschedulable"] = boolString(o.Spec.Unschedulable)
	case *types.Secret:
		f["type"] = string(o.Type)
	case *types.Namespace:
		f["status.phase"] = string(o.Status.Phase)
	}
	return f
}

// namespaced reports whether obj's kind is namespaced; kinds the registry
// does not know count as namespaced when the object has a namespace.
func namespaced(obj types.Object) bool {
	if r, ok := types.ResourceForObject(obj); ok {
		return r.Namespaced
	}
	return obj.GetObjectMeta().Namespace != ""
}

// SupportedFields returns the fields a selector may use for kind ("Pod"),
// sorted.
func SupportedFields(kind string) []string {
	out := []string{"metadata.name"}
	if kindNamespaced(kind) {
		out = append(out, "metadata.namespace")
	}
	out = append(out, kindFields[kind]...)
	slices.Sort(out)
	return out
}

func kindNamespaced(kind string) bool {
	for _, r := range types.Resources() {
		if r.Kind == kind {
			return r.Namespaced
		}
	}
	return true
}

// ValidateFor checks that every field sel uses is one kind supports; the
// error names the field and lists the supported ones.
func ValidateFor(kind string, sel Selector) error {
	var supported []string
	for _, r := range sel.reqs {
		if supported == nil {
			supported = SupportedFields(kind)
		}
		if _, ok := slices.BinarySearch(supported, r.Field); !ok {
			return fmt.Errorf("%w: field %q is not supported for %s (supported: %s)", ErrInvalidSelector, r.Field, kind, strings.Join(supported, ", "))
		}
	}
	return nil
}
