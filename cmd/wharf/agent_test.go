package main

import (
	"reflect"
	"testing"

	"github.com/wharfhq/wharf/api/types"
)

func TestParseLabels(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]string
		wantErr bool
	}{
		{"", map[string]string{}, false},
		{"zone=a, disk=ssd", map[string]string{"zone": "a", "disk": "ssd"}, false},
		{"empty=", map[string]string{"empty": ""}, false},
		{"novalue", nil, true},
		{"=x", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseLabels(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseTaints(t *testing.T) {
	tests := []struct {
		in      string
		want    []types.Taint
		wantErr bool
	}{
		{"", nil, false},
		{"dedicated=wasm:NoSchedule,gpu:NoExecute", []types.Taint{
			{Key: "dedicated", Value: "wasm", Effect: types.TaintEffectNoSchedule},
			{Key: "gpu", Effect: types.TaintEffectNoExecute},
		}, false},
		{"k=v", nil, true},
		{"k=v:Sometimes", nil, true},
		{":NoSchedule", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseTaints(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestBuildRuntimesRefusesUnknown(t *testing.T) {
	for _, want := range []string{"docker", "wasm,nope", " , "} {
		if _, _, err := buildRuntimes(t.TempDir(), want, nil); err == nil {
			t.Errorf("--runtimes %q: want an error", want)
		}
	}
}

func TestBuildRuntimesWasmOnly(t *testing.T) {
	rts, versions, err := buildRuntimes(t.TempDir(), "wasm", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rts) != 1 || rts["wasm"] == nil || rts["wasm"].Name() != "wasm" {
		t.Errorf("runtimes = %v", rts)
	}
	if versions["wasm"] == "" {
		t.Errorf("versions = %v", versions)
	}
}
