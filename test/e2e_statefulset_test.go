package test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/runtimes/wasm/wasmtest"
	"github.com/wharfhq/wharf/sdk"
)

// testWasmStatefulSet applies a StatefulSet of long-running Wasm Pods
// written as a user would (no updateStrategy, no podManagementPolicy: the
// API fills them), waits with `kubectl rollout status`, checks the Pods'
// stable names and hostnames, scales it with `kubectl scale` and rolls a
// template change out, highest ordinal first, as Kubernetes does.
func testWasmStatefulSet(t *testing.T, s *wharfServer, k *kubectl, client *sdk.Client) {
	app, err := wasmtest.BuildGoApp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s.mustWharf(t, "apply", "-f", writeFile(t, "sts.yaml", fmt.Sprintf(`apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      runtimeClassName: wasm
      containers:
      - {name: s, image: "file://%s", args: [sleep]}
`, app)))
	status := func() {
		t.Helper()
		k.must(t, "rollout", "status", "statefulset/db", "--timeout="+ctlWait.String())
	}
	status()

	for path, want := range map[string]string{
		"{.spec.updateStrategy.type}":                    "RollingUpdate",
		"{.spec.updateStrategy.rollingUpdate.partition}": "0",
		"{.spec.podManagementPolicy}":                    "OrderedReady",
		"{.spec.revisionHistoryLimit}":                   "10",
	} {
		if got := k.must(t, "get", "statefulset/db", "-o", "jsonpath="+path).Stdout; got != want {
			t.Errorf("statefulset/db %s = %q, want the default %q", path, got, want)
		}
	}

	names := func() []string {
		var out []string
		for _, p := range ctlLivePods(t, client, "app=db") {
			out = append(out, p.Name)
			if p.Spec.Hostname != p.Name || p.Spec.Subdomain != "db" {
				t.Errorf("pod %s: hostname %q subdomain %q, want %q and db", p.Name, p.Spec.Hostname, p.Spec.Subdomain, p.Name)
			}
		}
		slices.Sort(out)
		return out
	}
	if got := names(); !slices.Equal(got, []string{"db-0", "db-1"}) {
		t.Errorf("pods of statefulset/db = %q, want db-0 and db-1", got)
	}

	k.must(t, "scale", "statefulset/db", "--replicas=3")
	status()
	if got := names(); !slices.Equal(got, []string{"db-0", "db-1", "db-2"}) {
		t.Errorf("pods of statefulset/db after scale to 3 = %q, want db-0..db-2", got)
	}

	// A template change rolls every Pod, each replaced under its own name.
	k.must(t, "set", "env", "statefulset/db", "ROUND=2")
	status()
	for _, p := range ctlLivePods(t, client, "app=db") {
		if p.Status.Phase != types.PodRunning || !slices.ContainsFunc(p.Spec.Containers[0].Env, func(e types.EnvVar) bool { return e.Name == "ROUND" && e.Value == "2" }) {
			t.Errorf("pod %s after the rollout: phase %s, env %v; want Running with ROUND=2", p.Name, p.Status.Phase, p.Spec.Containers[0].Env)
		}
	}
	if got := names(); !slices.Equal(got, []string{"db-0", "db-1", "db-2"}) {
		t.Errorf("pods of statefulset/db after the rollout = %q, want db-0..db-2", got)
	}
	if out := k.must(t, "rollout", "history", "statefulset/db").Stdout; !strings.Contains(out, "2 ") {
		t.Errorf("kubectl rollout history statefulset/db: want revision 2:\n%s", out)
	}
	k.must(t, "delete", "statefulset/db")
	poll(t, ctlWait, "db Pods removed with their StatefulSet", func() bool { return len(ctlLivePods(t, client, "app=db")) == 0 })
}
