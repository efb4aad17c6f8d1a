package main

import "testing"

func TestStamp(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2026-11-23T12:01:56Z", "Mon, 23 Nov 2026 12:01:56 +0000"},
		{"2026-11-23T12:01:56+02:00", "Mon, 23 Nov 2026 12:01:56 +0200"},
		{"", ""},
		{"yesterday", "yesterday"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := stamp(tc.in); got != tc.want {
				t.Errorf("stamp(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestSmartLabel: field names become kubectl's generic describer's
// labels.
func TestSmartLabel(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"apiVersion", "API Version"},
		{"podFixed", "Pod Fixed"},
		{"uid", "UID"},
		{"handler", "Handler"},
		{"HTTPServer", "HTTP Server"},
		{"nodeURLs", "Node UR Ls"}, // as camelcase splits it
		{"foo-bar", "Foo - Bar"},
		{"kubernetes.io/arch", "kubernetes.io/arch"},
		{"k8s", "k8s"},
		{"", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := smartLabel(tc.in); got != tc.want {
				t.Errorf("smartLabel(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
