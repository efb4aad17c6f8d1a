package validation

import (
	"slices"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/types"
)

// expectErrors checks that errs holds exactly the problems in want, each
// written "field:Type" with Type the short form of the error type
// (Required, Invalid, Duplicate, NotSupported, Forbidden, TooLong,
// TooMany, NotFound).
func expectErrors(t *testing.T, errs ErrorList, want ...string) {
	t.Helper()
	var got []string
	for _, e := range errs {
		got = append(got, e.Field+":"+strings.TrimPrefix(string(e.Type), "FieldValue"))
	}
	slices.Sort(got)
	got = slices.Compact(got)
	want = slices.Clone(want)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("errors = %v\nwant %v\nfull: %v", got, want, errs)
	}
}

func validPod() *types.Pod {
	p := &types.Pod{
		TypeMeta:   types.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: types.ObjectMeta{Name: "web", Namespace: "default", Labels: map[string]string{"app": "web"}},
		Spec: types.PodSpec{
			Containers: []types.Container{{
				Name:  "app",
				Image: "nginx:1.27",
				Ports: []types.ContainerPort{{Name: "http", ContainerPort: 80}},
				Env:   []types.EnvVar{{Name: "MODE", Value: "prod"}},
				Resources: types.ResourceRequirements{
					Requests: types.ResourceList{types.ResourceCPU: types.MustParse("100m")},
					Limits:   types.ResourceList{types.ResourceCPU: types.MustParse("1"), types.ResourceMemory: types.MustParse("128Mi")},
				},
				VolumeMounts: []types.VolumeMount{{Name: "data", MountPath: "/data"}},
				ReadinessProbe: &types.Probe{ProbeHandler: types.ProbeHandler{
					HTTPGet: &types.HTTPGetAction{Port: types.FromString("http")},
				}},
			}},
			Volumes: []types.Volume{{Name: "data", VolumeSource: types.VolumeSource{EmptyDir: &types.EmptyDirVolumeSource{}}}},
		},
	}
	Default(p)
	return p
}

func validTemplate(labels map[string]string) types.PodTemplateSpec {
	p := validPod()
	return types.PodTemplateSpec{ObjectMeta: types.ObjectMeta{Labels: labels}, Spec: p.Spec}
}
