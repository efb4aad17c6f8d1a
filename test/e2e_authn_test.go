package test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wharfhq/wharf/api/types"
	"github.com/wharfhq/wharf/runtimes/wasm/wasmtest"
	"github.com/wharfhq/wharf/sdk"
)

// The tokens of the authentication tests' token file.
const (
	adminToken = "e2e-admin-token-0123456789"
	nodeToken  = "e2e-node-token-0123456789"
)

// authnTokenFile writes a token file with an admin and the node
// authn-agent, mode 0600, and returns its path.
func authnTokenFile(t *testing.T) string {
	t.Helper()
	return writeFile(t, "tokens.csv", fmt.Sprintf(`# token,user,uid,groups
%s,admin,1,"system:masters"
%s,system:node:authn-agent,2,system:nodes
`, adminToken, nodeToken))
}

// selfSignedCert writes a self-signed certificate for 127.0.0.1 and
// localhost and its key, and returns their paths.
func selfSignedCert(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "wharf e2e"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile = writeFile(t, "server.crt", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	keyFile = writeFile(t, "server.key", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})))
	return certFile, keyFile
}

// printModule writes a Wasm module printing text and returns its path.
func printModule(t *testing.T, text string) string {
	t.Helper()
	mod := filepath.Join(t.TempDir(), "hello.wasm")
	if err := os.WriteFile(mod, wasmtest.Print(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return mod
}

// wasmPrintPod is a Wasm Pod name, never restarted, of one container
// "hello" running the module file mod.
func wasmPrintPod(name, mod string) *types.Pod {
	wasmClass := "wasm"
	return &types.Pod{ObjectMeta: types.ObjectMeta{Name: name}, Spec: types.PodSpec{
		RuntimeClassName: &wasmClass, RestartPolicy: types.RestartPolicyNever,
		Containers: []types.Container{{Name: "hello", Image: "file://" + mod}},
	}}
}

var reAPIS = regexp.MustCompile(`wharf API listening on (https://\S+)`)

// TestTokenAuthCluster runs a server that serves HTTPS and requires the
// tokens of a token file, and one agent with its node token: the
// scheduler (the server's loopback identity) places a Pod on the agent,
// which runs it; the CLI without a token gets a one-line Unauthorized,
// with --token it works, and so do kubectl --token (get and watch) and
// an SDK watch. An agent with a wrong token stops with a clear error.
func TestTokenAuthCluster(t *testing.T) {
	tokens := authnTokenFile(t)
	certFile, keyFile := selfSignedCert(t)
	server := startProc(t, "server", "server", "--data-dir", t.TempDir(), "--listen", "127.0.0.1:0",
		"--serf-bind", "127.0.0.1:0", "--encrypt", gossipKey, "--token-auth-file", tokens,
		"--tls-cert-file", certFile, "--tls-private-key-file", keyFile)
	url := server.await(t, reAPIS)
	gossip := server.await(t, reGossip)

	// A wrong token: the agent says so and stops.
	bad := startProc(t, "agent with a wrong token", "agent", "--join", gossip, "--node-name", "bad-agent",
		"--data-dir", t.TempDir(), "--serf-bind", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--encrypt", gossipKey,
		"--runtimes", "wasm", "--certificate-authority", certFile, "--token", "not-a-token")
	select {
	case <-bad.done:
	case <-time.After(startTimeout):
		t.Fatalf("the agent with a wrong token did not stop within %v:\n%s", startTimeout, bad.logs())
	}
	if l := bad.logs(); !strings.Contains(l, "does not accept the agent's token (Unauthorized)") {
		t.Errorf("agent with a wrong token logged:\n%s", l)
	}

	startProc(t, "authn-agent", "agent", "--join", gossip, "--node-name", "authn-agent",
		"--data-dir", t.TempDir(), "--serf-bind", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--encrypt", gossipKey,
		"--runtimes", "wasm", "--certificate-authority", certFile, "--token-file", writeFile(t, "node.token", nodeToken+"\n"))

	pool := x509.NewCertPool()
	pemCert, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool.AppendCertsFromPEM(pemCert)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	client, err := sdk.New(url, sdk.WithBearerToken(adminToken), sdk.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	anon, err := sdk.New(url, sdk.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.Typed[*types.Pod](anon).Namespace("default").List(context.Background(), sdk.ListOptions{}); sdk.ReasonForError(err) != types.StatusReasonUnauthorized {
		t.Fatalf("list without a token: %v", err)
	}
	if _, err := anon.ServerVersion(context.Background()); err != nil {
		t.Fatalf("/version without a token: %v", err)
	}
	c := &clusterEnv{client: client}
	poll(t, 60*time.Second, "node authn-agent Ready", func() bool {
		n := c.node(t, "authn-agent")
		return n != nil && nodeReady(n)
	})

	// An SDK watch with the token sees the Pod come and run.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := sdk.Typed[*types.Pod](client).Namespace("default").Watch(ctx, sdk.ListOptions{})
	if err != nil {
		t.Fatalf("watch with a token: %v", err)
	}
	defer w.Stop()
	mod := printModule(t, "hello with a token\n")
	c.createPod(t, wasmPrintPod("hello", mod))
	var p *types.Pod
	for ev := range w.Events() {
		if ev.Object.Name == "hello" && ev.Object.Status.Phase == types.PodSucceeded {
			p = ev.Object
			break
		}
	}
	if p == nil {
		t.Fatalf("the watch ended before the Pod succeeded: %v", w.Err())
	}
	if p.Spec.NodeName != "authn-agent" {
		t.Errorf("pod ran on %q, want authn-agent", p.Spec.NodeName)
	}

	env := []string{"WHARF_SERVER=" + url}
	r := run(t, env, "", wharfBin, "--certificate-authority", certFile, "get", "pods")
	if want := "error: Unauthorized: the server requires a bearer token: pass --token or set WHARF_TOKEN\n"; r.Code != 1 || r.Stderr != want {
		t.Errorf("wharf get pods without a token: %s\nwant stderr %q", r, want)
	}
	r = run(t, env, "", wharfBin, "--certificate-authority", certFile, "--token", "nope", "get", "pods")
	if r.Code != 1 || !strings.Contains(r.Stderr, "Unauthorized: the server does not accept the token") {
		t.Errorf("wharf get pods with a wrong token: %s", r)
	}
	r = run(t, env, "", wharfBin, "--token", adminToken, "get", "pods")
	if r.Code != 1 || !strings.Contains(r.Stderr, "--certificate-authority") {
		t.Errorf("wharf get pods without the CA: %s", r)
	}
	r = run(t, env, "", wharfBin, "--certificate-authority", certFile, "--token", adminToken, "get", "pods")
	if r.Code != 0 || !regexp.MustCompile(`(?m)^hello\s+0/1\s+Completed`).MatchString(r.Stdout) {
		t.Errorf("wharf get pods --token: %s", r)
	}
	r = run(t, append(env, "WHARF_TOKEN="+adminToken), "", wharfBin, "--certificate-authority", certFile, "logs", "hello")
	if r.Code != 0 || r.Stdout != "hello with a token\n" {
		t.Errorf("wharf logs with WHARF_TOKEN: %s", r)
	}

	kc := newKubectl(t, &wharfServer{URL: url})
	kflags := []string{"--certificate-authority", certFile, "--token", adminToken}
	if out := kc.must(t, append(kflags, "get", "pods")...).Stdout; !regexp.MustCompile(`(?m)^hello\s+0/1\s+Completed`).MatchString(out) {
		t.Errorf("kubectl --token get pods:\n%s", out)
	}
	if out := kc.must(t, append(kflags, "auth", "whoami")...).Stdout; !regexp.MustCompile(`Username\s+admin\n`).MatchString(out) {
		t.Errorf("kubectl --token auth whoami:\n%s", out)
	}
	if r := kc.run(t, "", "--certificate-authority", certFile, "--token", "nope", "get", "pods"); r.Code == 0 || !strings.Contains(r.Stderr, "You must be logged in to the server") {
		t.Errorf("kubectl with a wrong token: %s", r)
	}
	kw := startWatch(t, kc.env, kc.bin, append(kflags, "get", "pods", "-w", "--output-watch-events")...)
	kw.waitLine(t, "hello")
	c.createPod(t, wasmPrintPod("second", mod))
	kw.waitLine(t, "second")
	c.awaitPhase(t, "second", types.PodSucceeded)
	// Delete the Pods while the agent runs, so that it cleans up.
	for _, name := range []string{"hello", "second"} {
		kc.must(t, append(kflags, "delete", "pod", name, "--wait=true")...)
	}
}

var reAgentAPI = regexp.MustCompile(`agent API listening.* addr=(\S+)`)

// TestTokenAuthUp checks `wharf up --token-auth-file` over plain HTTP: its
// own node (the in-process agent, with the loopback identity) registers
// and the CLI reads it with a token, not without. Its agent's API, on a
// loopback port without --encrypt, refuses a caller without the token
// the process keeps in memory (it served anyone's logs and exec before),
// while `wharf logs` through the API server works.
func TestTokenAuthUp(t *testing.T) {
	s := startServer(t, t.TempDir(), "--token-auth-file", authnTokenFile(t))
	poll(t, 60*time.Second, "wharf get nodes with a token shows e2e-node Ready", func() bool {
		r := s.wharf(t, "--token", adminToken, "get", "nodes")
		return r.Code == 0 && regexp.MustCompile(`(?m)^e2e-node\s+Ready`).MatchString(r.Stdout)
	})
	r := s.wharf(t, "get", "nodes")
	if r.Code != 1 || !strings.Contains(r.Stderr, "error: Unauthorized: the server requires a bearer token: pass --token or set WHARF_TOKEN") {
		t.Errorf("wharf get nodes without a token: %s", r)
	}

	client, err := sdk.New(s.URL, sdk.WithBearerToken(adminToken))
	if err != nil {
		t.Fatal(err)
	}
	c := &clusterEnv{client: client}
	c.createPod(t, wasmPrintPod("hello", printModule(t, "hello up\n")))
	c.awaitPhase(t, "hello", types.PodSucceeded)
	if r := s.wharf(t, "--token", adminToken, "logs", "hello"); r.Code != 0 || r.Stdout != "hello up\n" {
		t.Errorf("wharf logs --token: %s", r)
	}
	m := reAgentAPI.FindStringSubmatch(s.logs())
	if m == nil {
		t.Fatalf("no agent API address in the logs:\n%s", s.logs())
	}
	resp, err := http.Get("http://" + m[1] + "/pods/default/hello/containers/hello/log")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || strings.Contains(string(body), "hello up") {
		t.Errorf("the agent API without a token answered %d %q, want 401", resp.StatusCode, body)
	}
	s.wharf(t, "--token", adminToken, "delete", "pod", "hello") // while the agent runs, so that it cleans up
	if strings.Contains(s.logs(), adminToken) {
		t.Errorf("the server logged a token:\n%s", s.logs())
	}
}
