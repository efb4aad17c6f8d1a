package main

import (
	"errors"
	"testing"

	"github.com/wharfhq/wharf/api/types"
)

func TestAboutManifest(t *testing.T) {
	ms, err := decodeManifests("big.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\n"))
	if err != nil || len(ms) != 1 {
		t.Fatalf("decodeManifests: %v, %d manifests", err, len(ms))
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"message without the object", &types.Status{Message: "Request entity too large: limit is 3145728 bytes"},
			`big.yaml: ConfigMap "big": Request entity too large: limit is 3145728 bytes`},
		{"message naming the object", &types.Status{Message: `ConfigMap "big" is invalid: data: Invalid value`},
			`ConfigMap "big" is invalid: data: Invalid value`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := aboutManifest(ms[0], tc.err)
			if got.Error() != tc.want {
				t.Errorf("aboutManifest = %q, want %q", got, tc.want)
			}
			var st *types.Status
			if !errors.As(got, &st) {
				t.Errorf("aboutManifest(%v) lost the Status", tc.err)
			}
		})
	}
}
