package deployment_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/internal/testutil"
	"github.com/wharfhq/wharf/jobs/controller/controllertest"
)

// TestKubectlRollout drives the controllers with the real kubectl: scale,
// rollout restart, status, history and undo must work as on Kubernetes.
func TestKubectlRollout(t *testing.T) {
	t.Parallel() // mostly waiting (deadlines, minReadySeconds, kubectl)
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		testutil.Unavailable(t, "kubectl is not on PATH")
	}
	env := controllertest.NewEnv(t)
	env.Start(build)
	cfg := filepath.Join(t.TempDir(), "kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: w, cluster: {server: %q}}]
contexts: [{name: w, context: {cluster: w, namespace: default}}]
current-context: w
users: []
`, env.URL)
	if err := os.WriteFile(cfg, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", cfg}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// rollout status waits while this marks Pods ready, as agents would.
	status := func() string {
		t.Helper()
		done := make(chan struct{})
		go func() {
			for {
				select {
				case <-done:
					return
				case <-time.After(50 * time.Millisecond):
					_, _ = env.TryMarkAllReady(ns, "app=kc") // a failure shows as a rollout that never ends
				}
			}
		}()
		defer close(done)
		return run("rollout", "status", "deployment/kc", "--timeout=60s")
	}
	if _, err := dClient(env).Create(env.Ctx(), newDeployment("kc", 2, "app:1")); err != nil {
		t.Fatal(err)
	}
	if out := status(); !strings.Contains(out, `deployment "kc" successfully rolled out`) {
		t.Fatalf("rollout status: %s", out)
	}
	if out := run("scale", "deployment/kc", "--replicas=3"); !strings.Contains(out, "deployment.apps/kc scaled") {
		t.Fatalf("scale: %s", out)
	}
	status()
	run("rollout", "restart", "deployment/kc")
	status()
	if out := run("rollout", "history", "deployment/kc"); !strings.Contains(out, "1         <none>") || !strings.Contains(out, "2         <none>") {
		t.Fatalf("history: %s", out)
	}
	if out := run("rollout", "undo", "deployment/kc"); !strings.Contains(out, "rolled back") {
		t.Fatalf("undo: %s", out)
	}
	status()
	d := getD(env, "kc")
	if _, ok := d.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"]; ok || d.Annotations["deployment.kubernetes.io/revision"] != "3" {
		t.Fatalf("after undo: template annotations %v, revision %q", d.Spec.Template.Annotations, d.Annotations["deployment.kubernetes.io/revision"])
	}
	if n := len(env.LivePods(ns, "app=kc")); n != 3 {
		t.Fatalf("%d pods, want 3", n)
	}
	if c := condition(d, types.DeploymentProgressing); c == nil || c.Reason != "NewReplicaSetAvailable" {
		t.Fatalf("Progressing %+v", c)
	}
}
