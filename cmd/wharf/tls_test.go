package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tlsServer is an HTTPS test server answering "ok", with its certificate
// and key written as PEM files.
func tlsServer(t *testing.T) (ts *httptest.Server, certFile, keyFile string) {
	t.Helper()
	ts = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are expected
	ts.StartTLS()
	t.Cleanup(ts.Close)
	cert := ts.TLS.Certificates[0]
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	for path, block := range map[string]*pem.Block{
		certFile: {Type: "CERTIFICATE", Bytes: cert.Certificate[0]},
		keyFile:  {Type: "PRIVATE KEY", Bytes: key},
	} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return ts, certFile, keyFile
}

// getOK GETs url with a client using cfg and checks the answer.
func getOK(url string, cfg *tls.Config) error {
	c := &http.Client{Transport: transportWithTLS(cfg)}
	res, err := c.Get(url)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if string(b) != "ok" {
		return io.ErrUnexpectedEOF
	}
	return nil
}

func TestLoadServingCert(t *testing.T) {
	ts, certFile, keyFile := tlsServer(t)
	cert, err := loadServingCert("", "")
	if cert != nil || err != nil {
		t.Fatalf("no files: %v %v, want nil nil", cert, err)
	}
	for _, tc := range []struct {
		name, cert, key, want string
	}{
		{"cert only", certFile, "", "go together"},
		{"key only", "", keyFile, "go together"},
		{"missing", certFile, keyFile + ".missing", "no such file"},
		{"swapped", keyFile, certFile, "--tls-cert-file/--tls-private-key-file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadServingCert(tc.cert, tc.key)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
	cert, err = loadServingCert(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	// The server's own client accepts exactly its certificate.
	if err := getOK(ts.URL, loopbackTLS(cert)); err != nil {
		t.Errorf("loopback client to its own certificate: %v", err)
	}
	other := &tls.Certificate{Certificate: [][]byte{[]byte("another certificate")}}
	if err := getOK(ts.URL, loopbackTLS(other)); err == nil || !strings.Contains(err.Error(), "another certificate than the server's own") {
		t.Errorf("loopback client to another certificate: %v", err)
	}
}

func TestTLSClientConfig(t *testing.T) {
	ts, certFile, keyFile := tlsServer(t)
	for _, tc := range []struct {
		name   string
		app    app
		reject string // the error of the config, or of the request
	}{
		{"system roots", app{}, "certificate signed by unknown authority"},
		{"certificate authority", app{caFile: certFile}, ""},
		{"insecure", app{insecureTLS: true}, ""},
		{"missing file", app{caFile: certFile + ".missing"}, "--certificate-authority: open"},
		{"not a certificate", app{caFile: keyFile}, "--certificate-authority: no PEM certificate in"},
		// kubectl refuses the two together rather than ignore the file.
		{"both", app{caFile: certFile, insecureTLS: true}, "--certificate-authority and --insecure-skip-tls-verify cannot be given together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hc, err := tc.app.httpClient()
			if err == nil {
				var res *http.Response
				if res, err = hc.Get(ts.URL); err == nil {
					res.Body.Close()
				}
			}
			switch {
			case tc.reject == "" && err != nil:
				t.Fatalf("GET: %v", err)
			case tc.reject != "" && (err == nil || !strings.Contains(err.Error(), tc.reject)):
				t.Fatalf("error %v, want one saying %q", err, tc.reject)
			}
		})
	}
}

func TestReadTokenFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content, want, err string
	}{
		{"token and newline", "abc123\n", "abc123", ""},
		{"spaces around", "  abc123 \r\n\n", "abc123", ""},
		{"empty", " \n", "", "is empty"},
		{"two words", "abc 123\n", "", "more than one word"},
		{"two lines", "abc\n123\n", "", "more than one word"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := readTokenFile(path)
			switch {
			case tc.err == "" && (err != nil || got != tc.want):
				t.Fatalf("readTokenFile = %q, %v; want %q", got, err, tc.want)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v, want one saying %q", err, tc.err)
			}
		})
	}
	if _, err := readTokenFile(filepath.Join(dir, "missing")); err == nil || !strings.HasPrefix(err.Error(), "--token-file: ") {
		t.Fatalf("missing file: %v", err)
	}
}
