package main

import (
	"bytes"
	"testing"

	"github.com/wharfhq/wharf/api/types"
)

func TestPrefixWriter(t *testing.T) {
	var buf bytes.Buffer
	w := &prefixWriter{w: &buf, prefix: "[p] "}
	for _, chunk := range []string{"one\ntw", "o\n", "", "three"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := buf.String(), "[p] one\n[p] two\n[p] three"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLineWriter(t *testing.T) {
	var buf bytes.Buffer
	w := &lineWriter{w: &buf}
	_, _ = w.Write([]byte("a\nb"))
	if buf.String() != "a\n" {
		t.Fatalf("after a partial line: %q", buf.String())
	}
	_, _ = w.Write([]byte("c\nd"))
	if buf.String() != "a\nbc\n" || string(w.buf) != "d" {
		t.Errorf("got %q, kept %q", buf.String(), w.buf)
	}
}

func TestSelectorOf(t *testing.T) {
	tests := []struct {
		name    string
		obj     types.Object
		want    string
		wantErr bool
	}{
		{"deployment", &types.Deployment{Spec: types.DeploymentSpec{Selector: &types.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}, "app=web", false},
		{"service", &types.Service{Spec: types.ServiceSpec{Selector: map[string]string{"app": "web"}}}, "app=web", false},
		{"configmap", &types.ConfigMap{}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := selectorOf(tt.obj)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("selectorOf = %q, %v; want %q (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
