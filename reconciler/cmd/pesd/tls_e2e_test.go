//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/client"
	"github.com/pes-project/terraform-provider-pes/reconciler/server/tlstest"
)

// TestE2ETLS: pesd serves https with a certificate of a CA generated in
// the test. The Go client verifies it by default, trusts it with the CA
// given, and says what to do when the CA is not the one that signed it.
// SIGHUP serves a renewed certificate from the next handshake while an
// open connection goes on. With --client-ca, a client without a
// certificate is refused and one with a certificate of that CA served.
func TestE2ETLS(t *testing.T) {
	needE2E(t)
	ca, wrong := tlstest.NewCA(t, "pes test CA"), tlstest.NewCA(t, "another CA")
	certDir := t.TempDir()
	certFile, keyFile, caFile := ca.Files(t, certDir, "pesd")
	const token = "tls-token"
	d := startDaemon(t, t.TempDir(), token, "--tls-cert", certFile, "--tls-key", keyFile)
	ctx := context.Background()

	trusting, err := client.New(d.url, token, client.WithCACert(caFile), client.WithRetryMax(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trusting.ListGroups(ctx, client.GroupFilter{}); err != nil {
		t.Fatalf("with the CA: %v", err)
	}
	for name, opts := range map[string][]client.Option{
		"the system's CAs": nil,
		"another CA":       {client.WithCACert(string(wrong.PEM))},
	} {
		c, err := client.New(d.url, token, append(opts, client.WithRetryMax(0))...)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.ListGroups(ctx, client.GroupFilter{})
		if err == nil || !strings.Contains(err.Error(), "not signed by a CA this client trusts") ||
			!strings.Contains(err.Error(), "--ca-cert") {
			t.Errorf("with %s: %v, want the wrong CA named and --ca-cert advised", name, err)
		}
	}

	// The CLI over https: the CA from --ca-cert or PES_CA_CERT; another
	// CA is refused with what to do.
	cli := func(env []string, args ...string) (int, string) {
		cmd := exec.Command(pesdBin, append([]string{"groups", "--endpoint", d.url, "--token", token}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), string(out)
	}
	wrongFile := filepath.Join(certDir, "wrong.pem")
	if err := os.WriteFile(wrongFile, wrong.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := cli(nil, "--ca-cert", caFile); code != 0 {
		t.Errorf("pesd groups --ca-cert: exit %d: %s", code, out)
	}
	if code, out := cli([]string{"PES_CA_CERT=" + caFile}); code != 0 {
		t.Errorf("pesd groups with PES_CA_CERT: exit %d: %s", code, out)
	}
	if code, out := cli(nil, "--ca-cert", wrongFile); code != 1 || !strings.Contains(out, "not signed by a CA this client trusts") {
		t.Errorf("pesd groups with another CA: exit %d: %s", code, out)
	}

	// A connection opened before the renewal.
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.PEM)
	host := strings.TrimPrefix(d.url, "https://")
	open, err := tls.Dial("tcp", host, &tls.Config{RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	first := open.ConnectionState().PeerCertificates[0].SerialNumber

	renewed, renewedKey := ca.Issue(t, "pesd")
	if err := os.WriteFile(certFile, renewed, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, renewedKey, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "a new handshake gets the renewed certificate", func() (bool, string) {
		c, err := tls.Dial("tcp", host, &tls.Config{RootCAs: pool})
		if err != nil {
			return false, err.Error()
		}
		defer c.Close()
		got := c.ConnectionState().PeerCertificates[0].SerialNumber
		return got.Cmp(first) != 0, "serial " + got.String()
	})
	// The connection opened before still answers.
	if _, err := open.Write([]byte("GET /healthz HTTP/1.1\r\nHost: " + host + "\r\n\r\n")); err != nil {
		t.Fatalf("the open connection after SIGHUP: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(open), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the open connection after SIGHUP: %v, %v", resp, err)
	}
	resp.Body.Close()
	if code := d.term(t); code != 0 {
		t.Errorf("pesd exited %d", code)
	}

	// Mutual TLS.
	m := startDaemon(t, t.TempDir(), token, "--tls-cert", certFile, "--tls-key", keyFile, "--client-ca", caFile)
	anon, err := client.New(m.url, token, client.WithCACert(caFile), client.WithRetryMax(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anon.ListGroups(ctx, client.GroupFilter{}); err == nil || !strings.Contains(err.Error(), "client certificate") {
		t.Errorf("mTLS without a client certificate: %v, want it refused, saying a client certificate is needed", err)
	}
	for name, cert := range map[string]tls.Certificate{"the CA's": ca.KeyPair(t, "ci"), "another CA's": wrong.KeyPair(t, "ci")} {
		c, err := client.New(m.url, token, client.WithCACert(caFile), client.WithClientCertificate(cert), client.WithRetryMax(0))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.ListGroups(ctx, client.GroupFilter{})
		if want := name == "the CA's"; (err == nil) != want {
			t.Errorf("mTLS with %s certificate: %v, want served %v", name, err, want)
		}
	}
	if raw := tail(m.logPath, 200); bytes.Contains([]byte(raw), []byte(token)) {
		t.Error("the log holds the token")
	}
}
