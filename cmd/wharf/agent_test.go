package main

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/nodes/nodeinfo"
	"github.com/wharfhq/wharf/runtimes/logs"
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
		if _, _, err := buildRuntimes(t.TempDir(), want, logs.Rotation{}, nil); err == nil {
			t.Errorf("--runtimes %q: want an error", want)
		}
	}
}

func TestBuildRuntimesWasmOnly(t *testing.T) {
	rts, versions, err := buildRuntimes(t.TempDir(), "wasm", logs.Rotation{}, nil)
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

func TestMaxPodsFlag(t *testing.T) {
	tests := []struct {
		args    []string
		want    int
		wantErr bool
	}{
		{nil, nodeinfo.DefaultMaxPods, false},
		{[]string{"--max-pods", "1100"}, 1100, false},
		{[]string{"--max-pods", "0"}, 0, true},
		{[]string{"--max-pods", "-5"}, 0, true},
		{[]string{"--max-pods", "many"}, 0, true},
	}
	for _, newCmd := range []func(*app) *cobra.Command{newAgentCmd, newUpCmd} {
		for _, tt := range tests {
			cmd := newCmd(&app{})
			t.Run(cmd.Name()+" "+strings.Join(tt.args, " "), func(t *testing.T) {
				err := cmd.ParseFlags(tt.args)
				if tt.wantErr {
					if err == nil || !strings.Contains(err.Error(), "max-pods") {
						t.Fatalf("err = %v, want an error naming --max-pods", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := cmd.Flags().Lookup("max-pods").Value.String(); got != strconv.Itoa(tt.want) {
					t.Errorf("--max-pods = %s, want %d", got, tt.want)
				}
			})
		}
	}
}
