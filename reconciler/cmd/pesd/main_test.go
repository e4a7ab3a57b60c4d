package main

import (
	"bytes"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/pes-project/terraform-provider-pes/reconciler/cli"
	"github.com/pes-project/terraform-provider-pes/reconciler/controller"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestVerbs checks the top-level verb parsing; reconciler/cli tests the
// client verbs themselves.
func TestVerbs(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string // substrings of stdout
		wantErr  []string // substrings of stderr
	}{
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: 2, wantErr: []string{`unknown command "frobnicate"`, "explain"}},
		{name: "no command", args: nil, wantCode: 2, wantErr: []string{"usage: pesd"}},
		{name: "help", args: []string{"help"}, wantOut: []string{"usage: pesd", "serve", "version"}},
		{name: "version", args: []string{"version"}, wantOut: []string{"pesd dev\n", "\ncommit ", runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH}},
		{name: "--version", args: []string{"--version"}, wantOut: []string{"pesd dev\n", "\ncommit ", runtime.Version()}},
		{name: "version with an argument", args: []string{"version", "x"}, wantCode: 2, wantErr: []string{"takes no arguments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, out, errOut)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("stdout misses %q:\n%s", w, out)
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr misses %q:\n%s", w, errOut)
				}
			}
			if tt.wantCode != 0 && out != "" && tt.wantErr != nil && !strings.Contains(out, "usage") {
				t.Errorf("a failing command wrote to stdout:\n%s", out)
			}
		})
	}
}

func TestServeFlags(t *testing.T) {
	t.Setenv("PES_TOKEN", "")
	tests := []struct {
		name    string
		args    []string
		env     string
		wantErr string
	}{
		{"no token", []string{"--data-dir", t.TempDir()}, "", "no API token: pass --token-file, --token or set PES_TOKEN"},
		{"token from env", []string{"--listen", "127.0.0.1:0"}, "t", ""},
		{"token and token file", []string{"--token", "t", "--token-file", "/nonexistent"}, "", "--token and --token-file both given"},
		{"missing token file", []string{"--token-file", "/nonexistent/token"}, "", "--token-file: open /nonexistent/token"},
		{"tls cert without key", []string{"--token", "t", "--tls-cert", "c.pem"}, "", "--tls-cert and --tls-key go together"},
		{"client ca without tls", []string{"--token", "t", "--client-ca", "ca.pem"}, "", "--client-ca: needs --tls-cert"},
		{"bad listen", []string{"--token", "t", "--listen", "7400"}, "", "--listen"},
		{"bad interval", []string{"--token", "t", "--evaluation-interval", "soon"}, "", "--evaluation-interval"},
		{"zero retention", []string{"--token", "t", "--retention", "0s"}, "", "--retention"},
		{"retention in days", []string{"--token", "t", "--retention", "30d"}, "", ""},
		{"bad store", []string{"--token", "t", "--store", "mysql"}, "", "--store: want sqlite or postgres"},
		{"postgres needs dsn", []string{"--token", "t", "--store", "postgres"}, "", "--dsn: required"},
		{"dsn without postgres", []string{"--token", "t", "--dsn", "postgres://x"}, "", "--dsn: only with --store postgres"},
		{"bad launch window", []string{"--token", "t", "--launch-window", "-1s"}, "", "--launch-window"},
		{"launch window off", []string{"--token", "t", "--launch-window", "0"}, "", ""},
		{"bad log level", []string{"--token", "t", "--log-level", "loud"}, "", "--log-level"},
		{"bad log format", []string{"--token", "t", "--log-format", "xml"}, "", "--log-format: want text or json"},
		{"json logs", []string{"--token", "t", "--log-format", "json"}, "", ""},
		{"extra argument", []string{"--token", "t", "now"}, "", "unexpected argument"},
		{"prometheus url", []string{"--token", "t", "--prometheus-url", "http://127.0.0.1:9090"}, "", ""},
		{"bad prometheus url", []string{"--token", "t", "--prometheus-url", "prometheus:9090"}, "", "--prometheus-url: must be an http(s) URL"},
		{"pprof on loopback", []string{"--token", "t", "--pprof", "127.0.0.1:6060"}, "", ""},
		{"pprof on IPv6 loopback", []string{"--token", "t", "--pprof", "[::1]:0"}, "", ""},
		{"pprof on every address", []string{"--token", "t", "--pprof", ":6060"}, "", "--pprof: want a loopback IP address"},
		{"pprof on a public address", []string{"--token", "t", "--pprof", "0.0.0.0:6060"}, "", "--pprof: want a loopback IP address"},
		{"pprof on a name", []string{"--token", "t", "--pprof", "localhost:6060"}, "", "--pprof: want a loopback IP address"},
		{"pprof without port", []string{"--token", "t", "--pprof", "127.0.0.1"}, "", "--pprof: want a loopback host:port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PES_TOKEN", tt.env)
			_, err := parseServe(tt.args, io.Discard)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	if cfg, err := parseServe([]string{"--token", "t"}, io.Discard); err != nil || cfg.launchWindow != controller.DefaultLaunchWindow {
		t.Errorf("default launch window %s (%v), want %s", cfg.launchWindow, err, controller.DefaultLaunchWindow)
	}
	// Without a token, serve refuses to start with a clear message.
	code, _, errOut := runCLI("serve", "--data-dir", t.TempDir())
	if code != cli.ExitUsage || !strings.Contains(errOut, "PES_TOKEN") {
		t.Errorf("serve without token: exit %d, stderr %q", code, errOut)
	}
}
