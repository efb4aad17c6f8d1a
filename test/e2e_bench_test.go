package test

import (
	"os/exec"
	"testing"
)

// BenchmarkCLIGet runs one `get configmaps` process per iteration against
// `wharf up`: "kubectl" is the floor (the same listing by kubectl 1.32,
// with its discovery cache warm), "wharf" is the wharf binary. Each
// iteration is a whole process: start, request, table, exit.
//
//	go test -run '^$' -bench BenchmarkCLIGet -count 6 ./test/
func BenchmarkCLIGet(b *testing.B) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		b.Skip("kubectl is not on PATH")
	}
	s := startServer(b, b.TempDir())
	s.mustWharf(b, "apply", "-f", writeFile(b, "app.yaml", appManifest))
	k := newKubectl(b, s)
	k.must(b, "get", "configmaps") // fills kubectl's discovery cache
	b.Run("kubectl", func(b *testing.B) {
		for b.Loop() {
			k.must(b, "get", "configmaps")
		}
	})
	b.Run("wharf", func(b *testing.B) {
		for b.Loop() {
			s.mustWharf(b, "get", "configmaps")
		}
	})
}
