package main

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
)

// TestErrorLines: an error is printed once, as "error: " and a message
// starting in lower case; a mistake in the command line (flag, arguments)
// is followed by the command's usage, an error of the command's run is
// not.
func TestErrorLines(t *testing.T) {
	const noServer = "http://127.0.0.1:1" // nothing listens: runs fail
	tests := []struct {
		name      string
		args      []string
		wantMsg   string // the error line holds this
		wantUsage string // the usage line that follows, "" for none
	}{
		{"create job without NAME", []string{"create", "job"},
			"create job needs a NAME: wharf create job NAME --from=cronjob/CRONJOB", "wharf create job NAME"},
		{"create job with two names", []string{"create", "job", "a", "b", "--image=x"}, "create job takes one NAME", "wharf create job NAME"},
		{"unknown flag", []string{"get", "pods", "--bogus"}, "unknown flag: --bogus", "wharf get KIND"},
		{"bad flag value", []string{"logs", "web", "--tail", "many"}, `invalid argument "many"`, "wharf logs"},
		{"missing argument", []string{"image", "pull"}, "wharf image pull accepts 1 arg(s), received 0", "wharf image pull REF"},
		{"required flag", []string{"apply"}, `required flag(s) "filename" not set`, "wharf apply -f"},
		{"scale without --replicas", []string{"scale", "deploy/web"}, "--replicas is required", "wharf scale"},
		{"exec without --", []string{"exec", "web", "ls"}, "put -- between the Pod and the command", "wharf exec"},
		{"server unreachable", []string{"get", "pods", "--server", noServer}, "refused", ""},
		{"not found kind", []string{"get", "nopes", "--server", noServer}, "", ""},
		{"missing kind", []string{"get", "--server", noServer}, "you must specify the type of resource", ""},
		{"unknown command", []string{"gett", "pods"}, `unknown command "gett" for "wharf"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(t.Context(), tt.args, strings.NewReader(""), &out, &errOut)
			stderr := errOut.String()
			first, rest, _ := strings.Cut(stderr, "\n")
			msg, ok := strings.CutPrefix(first, "error: ")
			if code != 1 || !ok || !strings.Contains(first, tt.wantMsg) {
				t.Fatalf("wharf %v: exit %d, stderr %q; want exit 1 and an error line with %q", tt.args, code, stderr, tt.wantMsg)
			}
			if r := []rune(msg); len(r) == 0 || unicode.IsUpper(r[0]) {
				t.Errorf("error message %q does not start in lower case", msg)
			}
			if n := strings.Count(strings.ToLower(stderr), "error:"); n != 1 {
				t.Errorf("%d error lines in %q, want 1", n, stderr)
			}
			if tt.wantUsage == "" {
				if rest != "" {
					t.Errorf("more than the error line after a failed run: %q", stderr)
				}
				return
			}
			if !strings.HasPrefix(rest, "\nUsage:\n  "+tt.wantUsage) {
				t.Errorf("after the error line: %q, want the usage of %q", rest, tt.wantUsage)
			}
		})
	}
}
