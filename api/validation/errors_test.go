package validation

import (
	"errors"
	"net/http"
	"testing"
)

func TestErrorFormat(t *testing.T) {
	p := NewPath("spec").Child("containers").Index(0).Child("image")
	tests := []struct {
		err  *Error
		want string
	}{
		{Required(p, ""), "spec.containers[0].image: Required value"},
		{Required(p, "is needed"), "spec.containers[0].image: Required value: is needed"},
		{Invalid(NewPath("metadata", "name"), "Web", "bad"), `metadata.name: Invalid value: "Web": bad`},
		{Invalid(NewPath("spec", "replicas"), int32(-1), "must be greater than or equal to 0"), "spec.replicas: Invalid value: -1: must be greater than or equal to 0"},
		{Duplicate(NewPath("spec", "volumes").Index(1).Child("name"), "data"), `spec.volumes[1].name: Duplicate value: "data"`},
		{NotSupported(NewPath("spec", "restartPolicy"), "Sometimes", []string{"Always", "Never"}), `spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never"`},
		{Forbidden(NewPath("spec"), "no"), "spec: Forbidden: no"},
		{TooLong(NewPath("metadata", "annotations"), 10), "metadata.annotations: Too long: must have at most 10 bytes"},
		{TooMany(NewPath("items"), 5, 3), "items: Too many: 5: must have at most 3 items"},
		{NotFound(NewPath("m").Key("k"), "x"), `m[k]: Not found: "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestErrorList(t *testing.T) {
	var empty ErrorList
	if empty.Err() != nil {
		t.Error("empty list: Err() != nil")
	}
	one := ErrorList{Required(NewPath("spec", "containers").Index(0).Child("image"), "")}
	if got := one.Error(); got != "spec.containers[0].image: Required value" {
		t.Errorf("one: %q", got)
	}
	var asList ErrorList
	if err := one.Err(); !errors.As(err, &asList) || len(asList) != 1 {
		t.Errorf("Err() does not unwrap to the list: %v", err)
	}
	two := append(one, Required(NewPath("spec", "x"), ""), Required(NewPath("spec", "x"), ""))
	if got := two.Error(); got != "[spec.containers[0].image: Required value, spec.x: Required value]" {
		t.Errorf("two: %q", got)
	}

	st := one.Status("", "Pod", "web")
	if st.Code != http.StatusUnprocessableEntity || st.Reason != "Invalid" || st.Status != "Failure" || st.Kind != "Status" || st.APIVersion != "v1" {
		t.Errorf("status header: %+v", st)
	}
	if want := `Pod "web" is invalid: spec.containers[0].image: Required value`; st.Message != want {
		t.Errorf("message = %q, want %q", st.Message, want)
	}
	if st.Details == nil || st.Details.Kind != "Pod" || st.Details.Name != "web" || len(st.Details.Causes) != 1 {
		t.Fatalf("details: %+v", st.Details)
	}
	c := st.Details.Causes[0]
	if c.Type != "FieldValueRequired" || c.Field != "spec.containers[0].image" || c.Message != "Required value" {
		t.Errorf("cause: %+v", c)
	}
	if got := one.Status("apps", "Deployment", "d").Message; got != `Deployment.apps "d" is invalid: spec.containers[0].image: Required value` {
		t.Errorf("grouped message: %q", got)
	}
}
