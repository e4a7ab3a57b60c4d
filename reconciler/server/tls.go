package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
)

// Certificates serves pesd's TLS certificate from files, and loads them
// again on Reload (pesd does on SIGHUP): a renewed certificate is served
// from the next handshake on, while open connections go on.
type Certificates struct {
	certFile, keyFile string
	cert              atomic.Pointer[tls.Certificate]
	clientCAs         *x509.CertPool
}

// LoadCertificates reads the certificate and key; clientCA, when not
// empty, is a PEM file of the CAs whose client certificates pesd then
// requires (mutual TLS).
func LoadCertificates(certFile, keyFile, clientCA string) (*Certificates, error) {
	c := &Certificates{certFile: certFile, keyFile: keyFile}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	if clientCA != "" {
		raw, err := os.ReadFile(clientCA)
		if err != nil {
			return nil, fmt.Errorf("--client-ca: %w", err)
		}
		c.clientCAs = x509.NewCertPool()
		if !c.clientCAs.AppendCertsFromPEM(raw) {
			return nil, errors.New("--client-ca: no PEM certificate in " + clientCA)
		}
	}
	return c, nil
}

// Reload reads the files again. On an error the certificate served stays
// the one loaded before.
func (c *Certificates) Reload() error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	c.cert.Store(&cert)
	return nil
}

// Config is the TLS configuration of pesd's listener.
func (c *Certificates) Config() *tls.Config {
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.cert.Load(), nil
		},
	}
	if c.clientCAs != nil {
		cfg.ClientCAs = c.clientCAs
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg
}
