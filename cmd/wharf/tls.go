package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/spf13/cobra"
)

// HTTPS for the API. kubectl (client-go) sends credentials such as
// --token only over HTTPS, so a server that requires tokens serves TLS
// for kubectl to be usable with it (and so that tokens do not cross the
// network in clear text).

// addTLSClientFlags adds the global flags that say how clients (the CLI
// and `wharf agent`) check the API server's certificate, as kubectl's.
func (a *app) addTLSClientFlags(cmd *cobra.Command) {
	pf := cmd.PersistentFlags()
	pf.StringVar(&a.caFile, "certificate-authority", "", "PEM file of the certificate authority that signed the API server's certificate (an https --server)")
	pf.BoolVar(&a.insecureTLS, "insecure-skip-tls-verify", false, "do not check the API server's certificate (insecure: anyone in the way can read the token)")
}

// tlsClientConfig returns the TLS configuration of API clients: nil (the
// system's roots) unless --certificate-authority or
// --insecure-skip-tls-verify is set.
func (a *app) tlsClientConfig() (*tls.Config, error) {
	switch {
	case a.caFile == "" && !a.insecureTLS:
		return nil, nil
	case a.caFile != "" && a.insecureTLS:
		// As kubectl: the file would be ignored, which the user did not mean.
		return nil, errors.New("--certificate-authority and --insecure-skip-tls-verify cannot be given together: the certificate would not be checked")
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: a.insecureTLS}
	if a.caFile != "" {
		b, err := os.ReadFile(a.caFile)
		if err != nil {
			return nil, fmt.Errorf("--certificate-authority: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("--certificate-authority: no PEM certificate in %s", a.caFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// httpClient returns the HTTP client of API requests made outside the
// SDK (logs): http.DefaultClient unless the TLS flags are set.
func (a *app) httpClient() (*http.Client, error) {
	cfg, err := a.tlsClientConfig()
	if err != nil || cfg == nil {
		return http.DefaultClient, err
	}
	return &http.Client{Transport: transportWithTLS(cfg)}, nil
}

// transportWithTLS is a copy of http.DefaultTransport using cfg.
func transportWithTLS(cfg *tls.Config) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = cfg
	return t
}

// loadServingCert reads --tls-cert-file and --tls-private-key-file: both
// or neither (nil).
func loadServingCert(certFile, keyFile string) (*tls.Certificate, error) {
	switch {
	case certFile == "" && keyFile == "":
		return nil, nil
	case certFile == "" || keyFile == "":
		return nil, errors.New("--tls-cert-file and --tls-private-key-file go together: give both")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert-file/--tls-private-key-file: %w", err)
	}
	return &cert, nil
}

// servingTLS is the server's TLS configuration for cert (HTTP/1.1: the
// upgrades of exec and attach need it).
func servingTLS(cert *tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12}
}

// loopbackTLS is the TLS configuration of the server's own client to its
// listener: it accepts exactly the server's certificate, whatever names
// and issuer it has (the server dials 127.0.0.1, which the certificate
// may not name).
func loopbackTLS(cert *tls.Certificate) *tls.Config {
	leaf := cert.Certificate[0]
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The chain is not checked against roots; VerifyConnection pins
		// the certificate instead.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, leaf) {
				return errors.New("the API answered with another certificate than the server's own")
			}
			return nil
		},
	}
}
