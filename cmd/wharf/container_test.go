package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/jobs/controller/controllertest"
	"github.com/wharfhq/wharf/sdk"
)

// TestDefaultContainer: without -c, logs and exec use the container the
// default-container annotation names, else the first, and say so when
// the Pod has others, in kubectl's words.
func TestDefaultContainer(t *testing.T) {
	env := controllertest.NewEnv(t)
	ctx := env.Ctx()
	ctr := func(names ...string) []types.Container {
		var cs []types.Container
		for _, n := range names {
			cs = append(cs, types.Container{Name: n, Image: "busybox"})
		}
		return cs
	}
	pods := []*types.Pod{
		{ObjectMeta: types.ObjectMeta{Name: "one"}, Spec: types.PodSpec{Containers: ctr("app")}},
		{ObjectMeta: types.ObjectMeta{Name: "two"}, Spec: types.PodSpec{Containers: ctr("app", "side")}},
		{ObjectMeta: types.ObjectMeta{Name: "init"}, Spec: types.PodSpec{Containers: ctr("app"), InitContainers: ctr("setup")}},
		{ObjectMeta: types.ObjectMeta{Name: "annotated", Annotations: map[string]string{DefaultContainerAnnotation: "side"}},
			Spec: types.PodSpec{Containers: ctr("app", "side")}},
		{ObjectMeta: types.ObjectMeta{Name: "stale", Annotations: map[string]string{DefaultContainerAnnotation: "gone"}},
			Spec: types.PodSpec{Containers: ctr("app", "side")}},
	}
	for _, p := range pods {
		if _, err := sdk.Typed[*types.Pod](env.Client).Namespace("default").Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	a := &app{server: env.URL, namespace: "default"}
	tests := []struct {
		pod, want, warn string
	}{
		{"one", "app", ""},
		{"two", "app", "Defaulted container \"app\" out of: app, side\n"},
		{"init", "app", "Defaulted container \"app\" out of: app, setup (init)\n"},
		{"annotated", "side", ""},
		{"stale", "app", "Warning: default container name \"gone\" not found in pod stale\nDefaulted container \"app\" out of: app, side\n"},
	}
	for _, tt := range tests {
		t.Run(tt.pod, func(t *testing.T) {
			var warn bytes.Buffer
			got, err := defaultContainer(ctx, a, tt.pod, &warn)
			if err != nil || got != tt.want || warn.String() != tt.warn {
				t.Fatalf("defaultContainer(%s) = %q, %v, warned %q; want %q, warned %q", tt.pod, got, err, warn.String(), tt.want, tt.warn)
			}
		})
	}

	// exec and logs ask for it (the Pod has no node here, so they fail after).
	for _, verb := range [][]string{{"exec", "two", "--", "ls"}, {"logs", "two"}} {
		var out, errOut bytes.Buffer
		code := run(ctx, append([]string{"--server", env.URL}, verb...), strings.NewReader(""), &out, &errOut)
		if code != 1 || !strings.HasPrefix(errOut.String(), "Defaulted container \"app\" out of: app, side\nerror: ") {
			t.Errorf("wharf %v: exit %d, err %q; want the defaulted container said first", verb, code, errOut.String())
		}
	}
	// A missing Pod is worded as by get, whichever verb asks.
	for _, verb := range [][]string{{"exec", "nope", "--", "ls"}, {"logs", "nope"}, {"logs", "nope", "-c", "app"}, {"get", "pod", "nope"}} {
		var out, errOut bytes.Buffer
		if code := run(ctx, append([]string{"--server", env.URL}, verb...), strings.NewReader(""), &out, &errOut); code != 1 ||
			errOut.String() != "error: pods \"nope\" not found\n" {
			t.Errorf("wharf %v: exit %d, err %q", verb, code, errOut.String())
		}
	}
}
