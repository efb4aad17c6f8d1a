package validation

import (
	"maps"
	"slices"
	"strings"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/api/validation/names"
)

// TotalAnnotationSizeLimitB is the most bytes an object's annotations
// (keys plus values) may hold, as in Kubernetes.
const TotalAnnotationSizeLimitB = 256 * 1024

var metadataPath = NewPath("metadata")

// nameFunc returns the rule obj's name must follow: a DNS-1123 label for
// Namespaces, a DNS-1035 label for Services (Kubernetes' rule: a Service
// name becomes a DNS label and an environment variable prefix, so it must
// start with a letter), a DNS-1123 subdomain for everything else.
func nameFunc(obj types.Object) func(string) []string {
	switch obj.(type) {
	case *types.Namespace:
		return names.IsDNS1123Label
	case *types.Service:
		return names.IsDNS1035Label
	}
	return names.IsDNS1123Subdomain
}

// validateObjectMeta checks the metadata of an object being created or
// updated: name (or generateName), namespace presence as the kind
// requires, labels, annotations, owner references and finalizers.
func validateObjectMeta(obj types.Object) ErrorList {
	m := obj.GetObjectMeta()
	var errs ErrorList
	isName := nameFunc(obj)
	if m.GenerateName != "" {
		// A prefix may end in '-': check it as if a suffix followed.
		prefix := m.GenerateName
		if strings.HasSuffix(prefix, "-") {
			prefix = prefix[:len(prefix)-1] + "a"
		}
		for _, msg := range isName(prefix) {
			errs = append(errs, Invalid(metadataPath.Child("generateName"), m.GenerateName, msg))
		}
	}
	if m.Name == "" {
		if m.GenerateName == "" {
			errs = append(errs, Required(metadataPath.Child("name"), "name or generateName is required"))
		}
	} else {
		for _, msg := range isName(m.Name) {
			errs = append(errs, Invalid(metadataPath.Child("name"), m.Name, msg))
		}
	}
	if r, ok := types.ResourceForObject(obj); ok {
		switch {
		case r.Namespaced && m.Namespace == "":
			errs = append(errs, Required(metadataPath.Child("namespace"), ""))
		case r.Namespaced:
			for _, msg := range names.IsDNS1123Label(m.Namespace) {
				errs = append(errs, Invalid(metadataPath.Child("namespace"), m.Namespace, msg))
			}
		case m.Namespace != "":
			errs = append(errs, Forbidden(metadataPath.Child("namespace"), "not allowed on this type"))
		}
	}
	if m.Generation < 0 {
		errs = append(errs, Invalid(metadataPath.Child("generation"), m.Generation, "must be greater than or equal to 0"))
	}
	errs = append(errs, validateLabels(m.Labels, metadataPath.Child("labels"))...)
	errs = append(errs, validateAnnotations(m.Annotations, metadataPath.Child("annotations"))...)
	errs = append(errs, validateOwnerReferences(m.OwnerReferences, metadataPath.Child("ownerReferences"))...)
	errs = append(errs, validateFinalizers(m.Finalizers, metadataPath.Child("finalizers"))...)
	return errs
}

// validateLabels checks label keys (qualified names) and values.
func validateLabels(l map[string]string, p Path) ErrorList {
	var errs ErrorList
	for _, k := range sortedKeys(l) {
		for _, msg := range names.IsQualifiedName(k) {
			errs = append(errs, Invalid(p, k, msg))
		}
		for _, msg := range names.IsValidLabelValue(l[k]) {
			errs = append(errs, Invalid(p.Key(k), l[k], msg))
		}
	}
	return errs
}

// validateAnnotations checks annotation keys and their total size.
func validateAnnotations(a map[string]string, p Path) ErrorList {
	var errs ErrorList
	total := 0
	for _, k := range sortedKeys(a) {
		for _, msg := range names.IsQualifiedName(strings.ToLower(k)) {
			errs = append(errs, Invalid(p, k, msg))
		}
		total += len(k) + len(a[k])
	}
	if total > TotalAnnotationSizeLimitB {
		errs = append(errs, TooLong(p, TotalAnnotationSizeLimitB))
	}
	return errs
}

func validateOwnerReferences(refs []types.OwnerReference, p Path) ErrorList {
	var errs ErrorList
	controllers := 0
	for i, r := range refs {
		rp := p.Index(i)
		if r.APIVersion == "" {
			errs = append(errs, Invalid(rp.Child("apiVersion"), r.APIVersion, "version must not be empty"))
		}
		if r.Kind == "" {
			errs = append(errs, Invalid(rp.Child("kind"), r.Kind, "kind must not be empty"))
		}
		if r.Name == "" {
			errs = append(errs, Invalid(rp.Child("name"), r.Name, "name must not be empty"))
		}
		if r.UID == "" {
			errs = append(errs, Invalid(rp.Child("uid"), r.UID, "uid must not be empty"))
		}
		if r.Controller != nil && *r.Controller {
			controllers++
		}
	}
	if controllers > 1 {
		errs = append(errs, Invalid(p, refs, "Only one reference can have Controller set to true"))
	}
	return errs
}

func validateFinalizers(fs []string, p Path) ErrorList {
	var errs ErrorList
	for i, f := range fs {
		for _, msg := range names.IsQualifiedName(f) {
			errs = append(errs, Invalid(p.Index(i), f, msg))
		}
	}
	return errs
}

// validateObjectMetaUpdate checks that an update keeps the object's
// identity: name, namespace, uid and creationTimestamp. An update that
// omits uid or creationTimestamp (a client sending a manifest rather than
// what it read) is not changing them: the server carries them over.
func validateObjectMetaUpdate(m, old *types.ObjectMeta) ErrorList {
	var errs ErrorList
	if m.Name != old.Name {
		errs = append(errs, immutable(metadataPath.Child("name"), m.Name))
	}
	if m.Namespace != old.Namespace {
		errs = append(errs, immutable(metadataPath.Child("namespace"), m.Namespace))
	}
	if m.UID != "" && m.UID != old.UID {
		errs = append(errs, immutable(metadataPath.Child("uid"), m.UID))
	}
	if !m.CreationTimestamp.IsZero() && !m.CreationTimestamp.Equal(old.CreationTimestamp.Time) {
		errs = append(errs, immutable(metadataPath.Child("creationTimestamp"), m.CreationTimestamp.UTC().Format("2006-01-02T15:04:05Z")))
	}
	if old.DeletionTimestamp != nil && m.DeletionTimestamp != nil && !m.DeletionTimestamp.Equal(old.DeletionTimestamp.Time) {
		errs = append(errs, Invalid(metadataPath.Child("deletionTimestamp"), m.DeletionTimestamp.UTC().Format("2006-01-02T15:04:05Z"), "field is immutable; may only be changed via deletion"))
	}
	if old.DeletionTimestamp != nil {
		for _, f := range m.Finalizers {
			if !slices.Contains(old.Finalizers, f) {
				errs = append(errs, Forbidden(metadataPath.Child("finalizers"), "no new finalizers can be added if the object is being deleted, found new finalizer "+f))
			}
		}
	}
	return errs
}

// validateMetadataUnchanged checks that a status update leaves all of the
// object's metadata alone (resourceVersion, managedFields aside).
func validateMetadataUnchanged(m, old *types.ObjectMeta) ErrorList {
	errs := validateObjectMetaUpdate(m, old)
	const detail = "may not be changed through the status subresource; update the object itself"
	if !maps.Equal(m.Labels, old.Labels) {
		errs = append(errs, Forbidden(metadataPath.Child("labels"), detail))
	}
	if !maps.Equal(m.Annotations, old.Annotations) {
		errs = append(errs, Forbidden(metadataPath.Child("annotations"), detail))
	}
	if !slices.Equal(m.Finalizers, old.Finalizers) {
		errs = append(errs, Forbidden(metadataPath.Child("finalizers"), detail))
	}
	if !slices.EqualFunc(m.OwnerReferences, old.OwnerReferences, ownerRefEqual) {
		errs = append(errs, Forbidden(metadataPath.Child("ownerReferences"), detail))
	}
	return errs
}

func ownerRefEqual(a, b types.OwnerReference) bool {
	return a.APIVersion == b.APIVersion && a.Kind == b.Kind && a.Name == b.Name && a.UID == b.UID &&
		boolValue(a.Controller) == boolValue(b.Controller) && boolValue(a.BlockOwnerDeletion) == boolValue(b.BlockOwnerDeletion)
}

func boolValue(b *bool) bool { return b != nil && *b }

// immutable reports a change to a field that may not change.
func immutable(p Path, value any) *Error {
	return Invalid(p, value, "field is immutable")
}

func sortedKeys[K ~string, V any](m map[K]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, string(k))
	}
	slices.Sort(keys)
	return keys
}
