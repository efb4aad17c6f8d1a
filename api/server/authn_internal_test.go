package server

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strings"
	"testing"
)

// TestAuthenticateTokenComparesEveryEntry checks that a token is compared
// with every entry through the constant-time compare, wherever (or
// whether) it matches: the time taken does not say which entry matched.
func TestAuthenticateTokenComparesEveryEntry(t *testing.T) {
	var lines strings.Builder
	const n = 5
	for i := range n {
		fmt.Fprintf(&lines, "token-%d,user-%d,%d\n", i, i, i)
	}
	f, err := ParseTokenFile(strings.NewReader(lines.String()))
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	constantTimeCompare = func(x, y []byte) int {
		calls++
		if len(x) != len(y) {
			t.Errorf("compared %d bytes with %d: sums of different lengths", len(x), len(y))
		}
		return subtle.ConstantTimeCompare(x, y)
	}
	t.Cleanup(func() { constantTimeCompare = subtle.ConstantTimeCompare })
	for _, tc := range []struct {
		token, user string
	}{
		{"token-0", "user-0"},
		{"token-2", "user-2"},
		{"token-4", "user-4"},
		{"token-9", ""},
		{"a much longer token than any listed one", ""},
	} {
		t.Run(tc.token, func(t *testing.T) {
			calls = 0
			u, ok := f.AuthenticateToken(context.Background(), tc.token)
			if calls != n {
				t.Errorf("%d constant-time compares, want %d (one per entry)", calls, n)
			}
			switch {
			case tc.user == "" && ok:
				t.Errorf("accepted as %q", u.Name)
			case tc.user != "" && (!ok || u.Name != tc.user):
				t.Errorf("user %+v %v, want %q", u, ok, tc.user)
			}
		})
	}
}
