package agentapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wharfhq/wharf/runtimes"
)

// TestExecOverTLS runs an exec through an https:// endpoint whose
// certificate the system does not trust: with ExecRequest.TLSConfig naming
// it the command runs, without it the dial fails on the certificate.
func TestExecOverTLS(t *testing.T) {
	c := newCluster(t)
	c.rt.add(t, "web", "uid-1", "app", 0, runtimes.StateRunning, time.Now())
	target, err := url.Parse(c.api.URL)
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(target))
	front.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	front.StartTLS()
	t.Cleanup(front.Close)
	roots := front.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs

	q := url.Values{"container": {"app"}, "stdout": {"true"}, "command": {"echo", "hi"}}
	u := front.URL + "/api/v1/namespaces/default/pods/web/exec?" + q.Encode()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	var out bytes.Buffer
	code, err := Exec(ctx, ExecRequest{URL: u, TLSConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, Stdout: &out, Stderr: &out})
	if err != nil || code != 0 || out.String() != "hi\n" {
		t.Fatalf("Exec with the server's CA: exit %d, %v, output %q; want 0 and %q", code, err, out.String(), "hi\n")
	}
	out.Reset()
	code, err = Exec(ctx, ExecRequest{URL: u, Stdout: &out, Stderr: &out})
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("Exec without the CA: exit %d, %v; want a certificate error", code, err)
	}

	// A refused upgrade is explained by the server's Status, asked over
	// the same TLS settings (it was asked with the system's roots, and
	// said the certificate was unknown instead).
	q.Set("container", "nope")
	u = front.URL + "/api/v1/namespaces/default/pods/web/exec?" + q.Encode()
	_, err = Exec(ctx, ExecRequest{URL: u, TLSConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}, Stdout: &out, Stderr: &out})
	if err == nil || strings.Contains(err.Error(), "certificate") || !strings.Contains(err.Error(), "container nope") {
		t.Fatalf("Exec into a missing container with the server's CA: %v; want the server's Status naming the container", err)
	}
}
