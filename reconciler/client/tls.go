package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
)

// EnvCACert names the environment variable the CLI reads a CA certificate
// from (PEM, or the path of a PEM file).
const EnvCACert = "PES_CA_CERT"

// WithCACert makes the client trust the certificate authority in
// pemOrPath, PEM text or the path of a PEM file, instead of the system's,
// to verify pesd's certificate (pesd serve --tls-cert). Verification is
// always on unless WithInsecure.
func WithCACert(pemOrPath string) Option { return func(s *settings) { s.caCert = pemOrPath } }

// WithInsecure turns off the verification of pesd's certificate. Anyone
// between the client and pesd can then read the token: for a test
// against a throwaway certificate only.
func WithInsecure(skip bool) Option { return func(s *settings) { s.insecure = skip } }

// WithClientCertificate presents cert to a pesd that asks for a client
// certificate (pesd serve --client-ca).
func WithClientCertificate(cert tls.Certificate) Option {
	return func(s *settings) { s.clientCert = &cert }
}

// LoadCACert reads pemOrPath, PEM text or the path of a PEM file, into a
// pool; it fails when it holds no certificate.
func LoadCACert(pemOrPath string) (*x509.CertPool, error) {
	raw := []byte(pemOrPath)
	if !strings.Contains(pemOrPath, "-----BEGIN") {
		b, err := os.ReadFile(pemOrPath)
		if err != nil {
			return nil, fmt.Errorf("CA certificate: %w", err)
		}
		raw = b
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(raw) {
		return nil, errors.New("CA certificate: no PEM certificate in it")
	}
	return pool, nil
}

// errNoClientCert fails the handshake with a pesd that asks for a client
// certificate when the client has none: without it, TLS 1.3 finishes
// the handshake and the refusal arrives later as a broken pipe.
var errNoClientCert = errors.New("pesd asks for a client certificate (serve --client-ca) and this client has none")

// tlsConfig is the TLS configuration s asks for: the system's roots
// unless WithCACert, and a client certificate only when given.
func (s *settings) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: s.insecure} //nolint:gosec // only when asked
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		if s.clientCert == nil {
			return nil, errNoClientCert
		}
		return s.clientCert, nil
	}
	if s.caCert != "" {
		pool, err := LoadCACert(s.caCert)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if s.clientCert != nil {
		cfg.Certificates = []tls.Certificate{*s.clientCert}
	}
	return cfg, nil
}

// withTLS returns hc with a transport that uses cfg: a copy of its own
// transport (or of the default one). A transport of another kind is kept
// as it is, unless TLS options were asked for (explicit).
func withTLS(hc *http.Client, cfg *tls.Config, explicit bool) (*http.Client, error) {
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	t, ok := base.(*http.Transport)
	if !ok {
		if !explicit {
			return hc, nil
		}
		return nil, fmt.Errorf("TLS options need an *http.Transport, the HTTP client has a %T", base)
	}
	if t.TLSClientConfig != nil && !explicit {
		return hc, nil // the caller's own TLS settings
	}
	t = t.Clone()
	t.TLSClientConfig = cfg
	hc.Transport = t
	return hc, nil
}

// explainTLS rewrites a failed TLS handshake as what to do about it.
func explainTLS(err error) error {
	var (
		unknown  x509.UnknownAuthorityError
		verify   *tls.CertificateVerificationError
		hostname x509.HostnameError
	)
	switch {
	case errors.As(err, &unknown):
		return fmt.Errorf("pesd's certificate is not signed by a CA this client trusts: "+
			"give the CA that signed it (CLI --ca-cert or %s, provider ca_cert): %w", EnvCACert, err)
	case errors.As(err, &hostname):
		return fmt.Errorf("pesd's certificate is not for this endpoint's host: use the name the certificate holds: %w", err)
	case errors.As(err, &verify):
		return fmt.Errorf("pesd's certificate cannot be verified: %w", err)
	case errors.Is(err, errNoClientCert):
		return fmt.Errorf("%w: give it one of the CA pesd trusts", err)
	case strings.Contains(err.Error(), "certificate required"):
		return fmt.Errorf("pesd asks for a client certificate (serve --client-ca) and none was sent: %w", err)
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return fmt.Errorf("pesd serves plain http here: use an http:// endpoint, or start pesd with --tls-cert and --tls-key: %w", err)
	}
	return err
}
