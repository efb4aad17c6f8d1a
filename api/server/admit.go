package server

import (
	"errors"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/api/validation"
)

// Defaulting and validation of api/validation, as the server applies them.
// Every function returns a 422 Invalid Status error for a bad object.

// defaultFunc fills an object's defaults before validation.
func defaultFunc(obj types.Object) { validation.Default(obj) }

func invalid(r *types.Resource, name string, errs validation.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	return &StatusError{Status: *errs.Status(r.Group, r.Kind, name)}
}

func validateCreate(r *types.Resource, obj types.Object) error {
	return invalid(r, obj.GetObjectMeta().Name, validation.Validate(obj))
}

func validateUpdate(r *types.Resource, obj, old types.Object) error {
	errs := validation.ValidateUpdate(obj, old)
	errs = append(errs, checkFinalizersUpdate(obj, old)...)
	return invalid(r, obj.GetObjectMeta().Name, errs)
}

func validateStatusUpdate(r *types.Resource, obj, old types.Object) error {
	return invalid(r, obj.GetObjectMeta().Name, validation.ValidateStatusUpdate(obj, old))
}

// checkFinalizersUpdate refuses new finalizers on an object being deleted,
// as Kubernetes does.
func checkFinalizersUpdate(obj, old types.Object) validation.ErrorList {
	om := old.GetObjectMeta()
	if om.DeletionTimestamp == nil {
		return nil
	}
	had := make(map[string]bool, len(om.Finalizers))
	for _, f := range om.Finalizers {
		had[f] = true
	}
	for _, f := range obj.GetObjectMeta().Finalizers {
		if !had[f] {
			return validation.ErrorList{validation.Forbidden(validation.NewPath("metadata", "finalizers"),
				"no new finalizers can be added if the object is being deleted, found new finalizers []string{\""+f+"\"}")}
		}
	}
	return nil
}

// isStatusError reports whether err is a Status error with code.
func isStatusError(err error, code int32) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Status.Code == code
}
