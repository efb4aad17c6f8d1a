package main

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/wharfhq/wharf/runtimes/logs"
)

func TestContainerLogFlags(t *testing.T) {
	tests := []struct {
		args    []string
		want    logs.Rotation
		wantErr string // names the flag and says what is wrong
	}{
		{nil, logs.Rotation{MaxSize: 10 << 20, MaxFiles: 5}, ""},
		{[]string{"--container-log-max-size", "500Ki", "--container-log-max-files", "2"}, logs.Rotation{MaxSize: 500 << 10, MaxFiles: 2}, ""},
		{[]string{"--container-log-max-size=1G"}, logs.Rotation{MaxSize: 1e9, MaxFiles: 5}, ""},
		{[]string{"--container-log-max-size", "ten"}, logs.Rotation{}, `"--container-log-max-size" flag: "ten" is not a size: use a Kubernetes quantity`},
		{[]string{"--container-log-max-size", "0"}, logs.Rotation{}, `"--container-log-max-size" flag: "0": the size must be a whole number of bytes above 0`},
		{[]string{"--container-log-max-size", "-1Mi"}, logs.Rotation{}, "above 0"},
		{[]string{"--container-log-max-size", "100m"}, logs.Rotation{}, "whole number of bytes"},
		{[]string{"--container-log-max-files", "1"}, logs.Rotation{}, `"--container-log-max-files" flag: 1: keep at least 2 files`},
		{[]string{"--container-log-max-files", "0"}, logs.Rotation{}, "at least 2"},
		{[]string{"--container-log-max-files", "lots"}, logs.Rotation{}, `"--container-log-max-files" flag: "lots" is not a whole number`},
	}
	for _, newCmd := range []func(*app) *cobra.Command{newAgentCmd, newUpCmd} {
		for _, tt := range tests {
			cmd := newCmd(&app{})
			t.Run(cmd.Name()+" "+strings.Join(tt.args, " "), func(t *testing.T) {
				err := cmd.ParseFlags(tt.args)
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				got := logs.Rotation{
					MaxSize:  *cmd.Flags().Lookup("container-log-max-size").Value.(*logSizeFlag).bytes,
					MaxFiles: *cmd.Flags().Lookup("container-log-max-files").Value.(*logFilesFlag).n,
				}
				if got != tt.want {
					t.Errorf("rotation %+v, want %+v", got, tt.want)
				}
			})
		}
	}
}

func TestEncryptFlag(t *testing.T) {
	key := func(n int) string { return base64.StdEncoding.EncodeToString(make([]byte, n)) }
	tests := []struct {
		key     string
		wantErr string
	}{
		{"", ""},
		{key(16), ""},
		{key(24), ""},
		{key(32), ""},
		{key(10), "10 bytes: a gossip key is base64 of 16, 24 or 32 random bytes (AES-128, AES-192 or AES-256)"},
		{key(64), "64 bytes"},
		{"not*base64", "not base64"},
	}
	for _, newCmd := range []func(*app) *cobra.Command{newAgentCmd, newUpCmd, newServerCmd} {
		for _, tt := range tests {
			cmd := newCmd(&app{})
			t.Run(cmd.Name()+" "+tt.key, func(t *testing.T) {
				if help := cmd.Flags().Lookup("encrypt").Usage; !strings.Contains(help, "16, 24 or 32 bytes") {
					t.Errorf("help %q does not give the key sizes", help)
				}
				err := cmd.ParseFlags([]string{"--encrypt=" + tt.key})
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "--encrypt") {
						t.Fatalf("err = %v, want one naming --encrypt and containing %q", err, tt.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if got := cmd.Flags().Lookup("encrypt").Value.String(); got != tt.key {
					t.Errorf("--encrypt = %q", got)
				}
			})
		}
	}
}

// TestBuildRuntimesPassesRotation: the rotation settings reach the
// runtimes, which refuse what logs refuses.
func TestBuildRuntimesPassesRotation(t *testing.T) {
	_, _, err := buildRuntimes(t.TempDir(), "wasm", logs.Rotation{MaxFiles: 1}, nil)
	if !errors.Is(err, logs.ErrBadRotation) {
		t.Fatalf("err = %v, want ErrBadRotation", err)
	}
}
