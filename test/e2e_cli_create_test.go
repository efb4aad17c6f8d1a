package test

import (
	"strings"
	"testing"
)

// TestCLICreateDryRunAutoscale drives the built binary against `wharf
// server`: create namespace, configmap and secret generic, apply and delete
// with --dry-run=server (nothing stored, nothing deleted), and autoscale,
// reading the objects back with kubectl.
func TestCLICreateDryRunAutoscale(t *testing.T) {
	s := startServer(t, t.TempDir())
	k := newKubectl(t, s)
	conf := writeFile(t, "app.properties", "color=blue\n")

	for _, step := range []struct {
		args []string
		want string
	}{
		{[]string{"create", "namespace", "team"}, "namespace/team created\n"},
		{[]string{"create", "configmap", "app", "-n", "team", "--from-literal=a=1", "--from-file=" + conf}, "configmap/app created\n"},
		{[]string{"create", "secret", "generic", "creds", "-n", "team", "--from-literal=password=s3cret"}, "secret/creds created\n"},
		{[]string{"delete", "configmap", "app", "-n", "team", "--dry-run=server"}, "configmap \"app\" deleted (server dry run)\n"},
	} {
		if r := s.mustWharf(t, step.args...); r.Stdout != step.want {
			t.Errorf("wharf %s: %q, want %q", strings.Join(step.args, " "), r.Stdout, step.want)
		}
	}
	for _, read := range []struct {
		args []string
		want string
	}{
		{[]string{"get", "configmap", "app", "-n", "team", "-o", "jsonpath={.data.a} {.data.app\\.properties}"}, "1 color=blue\n"},
		{[]string{"get", "secret", "creds", "-n", "team", "-o", "jsonpath={.data.password} {.type}"}, "czNjcmV0 Opaque"},
	} {
		if r := k.must(t, read.args...); r.Stdout != read.want {
			t.Errorf("kubectl %s: %q, want %q", strings.Join(read.args, " "), r.Stdout, read.want)
		}
	}

	path := writeFile(t, "app.yaml", appManifest)
	r := s.mustWharf(t, "apply", "-f", path, "-n", "team", "--dry-run=server")
	for _, want := range []string{"configmap/web-config created (server dry run)", "deployment.apps/web created (server dry run)", "service/web created (server dry run)"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("apply --dry-run=server: no %q in\n%s", want, r.Stdout)
		}
	}
	if r := k.run(t, "", "get", "deployment", "web", "-n", "team"); r.Code == 0 {
		t.Errorf("a server dry run stored the deployment: %s", r)
	}

	s.mustWharf(t, "apply", "-f", path, "-n", "team")
	if r := s.mustWharf(t, "autoscale", "deployment/web", "-n", "team", "--min=1", "--max=3", "--cpu-percent=50"); r.Stdout != "horizontalpodautoscaler.autoscaling/web autoscaled\n" {
		t.Errorf("autoscale: %q", r.Stdout)
	}
	r = k.must(t, "get", "hpa.v2.autoscaling", "web", "-n", "team", "-o", "jsonpath={.spec.maxReplicas} {.spec.scaleTargetRef.name} {.spec.metrics[0].resource.target.averageUtilization}")
	if r.Stdout != "3 web 50" {
		t.Errorf("kubectl get hpa: %q, want %q", r.Stdout, "3 web 50")
	}
}
