package test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestKillAndRestart kills `wharf up` with SIGKILL right after writes the
// server acknowledged, restarts it on the same data directory and finds
// every object as it was.
func TestKillAndRestart(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)

	var manifest strings.Builder
	var want []string
	for i := range 20 {
		fmt.Fprintf(&manifest, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%02d\ndata:\n  n: %q\n", i, fmt.Sprint(i))
		want = append(want, fmt.Sprintf("configmap/cm-%02d", i))
	}
	s.mustWharf(t, "apply", "-f", writeFile(t, "many.yaml", manifest.String()))
	s.mustWharf(t, "apply", "-f", writeFile(t, "app.yaml", appManifest))
	// An update and a delete are acknowledged writes too.
	s.mustWharf(t, "apply", "-f", writeFile(t, "app2.yaml", strings.Replace(appManifest, "greeting: hello", "greeting: after-kill", 1)))
	s.mustWharf(t, "delete", "configmap", "cm-19")
	want = append(want[:19], "configmap/web-config")
	slices.Sort(want)

	before := s.mustWharf(t, "get", "cm", "web-config", "-o", "yaml").Stdout
	s.kill()

	s2 := startServer(t, dir)
	r := s2.mustWharf(t, "get", "configmaps", "-o", "name")
	if got := strings.Fields(r.Stdout); !slices.Equal(got, want) {
		t.Errorf("configmaps after restart = %q,\nwant %q", got, want)
	}
	after := s2.mustWharf(t, "get", "cm", "web-config", "-o", "yaml").Stdout
	if after != before {
		t.Errorf("web-config changed across the restart:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	r = s2.mustWharf(t, "get", "deploy,svc", "-o", "name")
	if got := strings.Fields(r.Stdout); !slices.Equal(got, []string{"deployment.apps/web", "service/web"}) {
		t.Errorf("deployments and services after restart = %q", got)
	}
	// The restarted server takes writes and keeps counting revisions.
	r = s2.mustWharf(t, "apply", "-f", writeFile(t, "app3.yaml", appManifest))
	if !strings.Contains(r.Stdout, "configmap/web-config configured") {
		t.Errorf("apply after restart: %s", r)
	}
	// A second server on the same data dir is refused in plain words.
	r = run(t, nil, "", wharfBin, "up", "--data-dir", dir, "--listen", "127.0.0.1:0")
	if r.Code != 1 || !strings.Contains(r.Stderr, "in use by another wharf process") {
		t.Errorf("second wharf up on %s: %s", dir, r)
	}
	updated := s2.mustWharf(t, "get", "cm", "web-config", "-o", "yaml").Stdout
	if rvOld, rvNew := resourceVersion(t, before), resourceVersion(t, updated); rvNew <= rvOld {
		t.Errorf("resourceVersion after restart and update = %d, not above %d", rvNew, rvOld)
	}

	// SIGTERM is a graceful stop: exit code 0, and the data stays.
	if err := s2.stop(); err != nil {
		t.Errorf("wharf up after SIGTERM: %v\n%s", err, s2.logs())
	}
	s3 := startServer(t, dir)
	if got := s3.mustWharf(t, "get", "cm", "web-config", "-o", "yaml").Stdout; got != updated {
		t.Errorf("web-config after a graceful restart:\n%s\nwant\n%s", got, updated)
	}
}

// resourceVersion reads metadata.resourceVersion from an object in YAML.
func resourceVersion(t *testing.T, doc string) int64 {
	t.Helper()
	var obj struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
		t.Fatalf("decode: %v\n%s", err, doc)
	}
	rv, err := strconv.ParseInt(obj.Metadata.ResourceVersion, 10, 64)
	if err != nil {
		t.Fatalf("resourceVersion %q: %v", obj.Metadata.ResourceVersion, err)
	}
	return rv
}
