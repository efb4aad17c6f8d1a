package main

import (
	"encoding/base64"
	"fmt"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/nodes/membership"
)

// Flag values of the node and cluster flags that are checked as they are
// parsed, so that a bad value stops the command before anything starts.
var (
	_ pflag.Value = (*logSizeFlag)(nil)
	_ pflag.Value = (*logFilesFlag)(nil)
	_ pflag.Value = gossipKeyFlag{}
)

// logSizeFlag is --container-log-max-size: a Kubernetes quantity of
// bytes, as the kubelet's containerLogMaxSize.
type logSizeFlag struct {
	bytes *int64
	text  string
}

func (f *logSizeFlag) String() string { return f.text }

// Set parses a quantity ("10Mi", "500Ki", "1G") of whole bytes above 0.
func (f *logSizeFlag) Set(s string) error {
	q, err := types.ParseQuantity(s)
	if err != nil {
		return fmt.Errorf("%q is not a size: use a Kubernetes quantity such as 10Mi or 500Ki", s)
	}
	if q.Sign() <= 0 || q.MilliValue()%1000 != 0 {
		return fmt.Errorf("%q: the size must be a whole number of bytes above 0, such as 10Mi", s)
	}
	*f.bytes, f.text = q.Value(), s
	return nil
}

// Type names the flag's value in help.
func (f *logSizeFlag) Type() string { return "quantity" }

// logFilesFlag is --container-log-max-files, as the kubelet's
// containerLogMaxFiles: at least 2.
type logFilesFlag struct{ n *int }

func (f *logFilesFlag) String() string { return strconv.Itoa(*f.n) }

// Set parses a whole number of files, at least 2.
func (f *logFilesFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%q is not a whole number", s)
	}
	if n < 2 {
		return fmt.Errorf("%d: keep at least 2 files (the current one and one rotated)", n)
	}
	*f.n = n
	return nil
}

// Type names the flag's value in help.
func (f *logFilesFlag) Type() string { return "int" }

// gossipKeyHelp says what a gossip key is.
const gossipKeyHelp = "a gossip key is base64 of 16, 24 or 32 random bytes (AES-128, AES-192 or AES-256), " +
	"the same on every member, e.g. `head -c32 /dev/urandom | base64`"

// gossipKeyFlag is --encrypt: "" (no encryption) or a key serf accepts.
type gossipKeyFlag struct{ key *string }

func (f gossipKeyFlag) String() string { return *f.key }

// Set checks s as membership does when it starts.
func (f gossipKeyFlag) Set(s string) error {
	if s != "" {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return fmt.Errorf("not base64 (%v): %s", err, gossipKeyHelp)
		}
		if _, err := membership.DecodeKey(s); err != nil {
			return fmt.Errorf("%d bytes: %s", len(b), gossipKeyHelp)
		}
	}
	*f.key = s
	return nil
}

// Type names the flag's value in help.
func (f gossipKeyFlag) Type() string { return "key" }
