package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"strings"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/controller"
	"github.com/pes-project/terraform-provider-pes/reconciler/replica"
	"github.com/pes-project/terraform-provider-pes/reconciler/server"
)

// serveConfig is `pesd serve`'s command line, checked.
type serveConfig struct {
	listen             string
	dataDir            string
	token              string
	tokenFile          string
	tlsCert, tlsKey    string
	clientCA           string
	metricsPublic      bool
	evaluationInterval time.Duration
	observeInterval    time.Duration
	launchWindow       time.Duration
	storeKind          string
	dsn                string
	retention          time.Duration
	metricHistory      time.Duration
	logLevel           slog.Level
	kubeconfig         string
	kubeContext        string
	logFormat          string // text or json
	prometheusURL      string
	limits             server.Limits
	maxSeriesPerGroup  int
	pprof              string // loopback address of the profiling listener, or ""
	// Replicas on one PostgreSQL (--store postgres).
	replicaID      string
	advertise      string
	leaseTTL       time.Duration
	shards         int
	notifyAllow    []string
	notifyAttempts int
	notifyBackoff  time.Duration
}

// parseServe reads serve's flags; every error it returns is a usage error
// (exit 2).
func parseServe(args []string, stderr io.Writer) (serveConfig, error) {
	fs := flag.NewFlagSet("pesd serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg        serveConfig
		evaluation = fs.String("evaluation-interval", "5s", "how often triggers are evaluated (`duration`)")
		observe    = fs.String("observe-interval", "5s", "how often every group is observed again (`duration`); drivers push node changes and periods end on time without it")
		launch     = fs.String("launch-window", controller.DefaultLaunchWindow.String(), "nodes of one launch that become ready within this `duration` of the first are one change (0: each observation's own)")
		retention  = fs.String("retention", "90d", "how long the history of a deleted group is kept (`duration`, d for days)")
		history    = fs.String("metric-history", "14d", "how long pushed, observed and pulled (metric source) samples are kept, at full resolution, for backtests (`duration`, d for days)")
		level      = fs.String("log-level", "info", "log `level`: debug, info, warn or error")
		leaseTTL   = fs.String("lease-ttl", replica.DefaultTTL.String(), "with --store postgres: how long a replica's lease on its groups lasts unrenewed (`duration`); another replica takes them over after it")
		allow      = fs.String("notify-allow", "", "comma-separated `hosts` (names or IPs) that notify triggers may POST to, besides loopback")
		backoff    = fs.String("notify-backoff", controller.DefaultNotifyBackoff.String(), "wait before a notify delivery's first retry (`duration`), doubled for each next one up to a minute")
	)
	fs.StringVar(&cfg.replicaID, "replica-id", "", "with --store postgres: this replica's `id`, unique among the replicas (default: its --advertise address)")
	fs.StringVar(&cfg.advertise, "advertise", "", "with --store postgres: the `host:port` other replicas forward writes for this replica's groups to (default: the --listen address, with the host name when it listens on all addresses)")
	fs.IntVar(&cfg.shards, "shards", replica.DefaultShards, "with --store postgres: how many shards the groups are split into, the same on every replica")
	fs.IntVar(&cfg.notifyAttempts, "notify-attempts", controller.DefaultNotifyAttempts, "times a notify firing is POSTed before its delivery is recorded failed")
	cfg.limits = server.DefaultLimits
	fs.IntVar(&cfg.limits.MaxInFlight, "max-in-flight", cfg.limits.MaxInFlight, "most API requests answered at once; past it 503 with Retry-After (0: no cap)")
	fs.Float64Var(&cfg.limits.RatePerToken, "rate-limit", cfg.limits.RatePerToken, "API requests per second per token; past it 429 with Retry-After (0: no limit)")
	fs.IntVar(&cfg.limits.RateBurst, "rate-burst", cfg.limits.RateBurst, "requests a token may send at once above --rate-limit")
	fs.IntVar(&cfg.maxSeriesPerGroup, "max-series-per-group", controller.DefaultMaxSeriesPerGroup, "most metric series (names) a group holds at once; a push past it gets 429 naming the cap")
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:7400", "`address` to serve the API on (port 0 picks a free one)")
	fs.StringVar(&cfg.dataDir, "data-dir", "./.pes", "`directory` of the database and the node logs")
	fs.StringVar(&cfg.token, "token", "", "bootstrap API bearer `token`, the admin principal \"admin\" (default: PES_TOKEN); --token-file keeps it out of ps")
	fs.StringVar(&cfg.tokenFile, "token-file", "", "`file` holding the bootstrap token (instead of --token)")
	fs.StringVar(&cfg.tlsCert, "tls-cert", "", "PEM certificate `file` to serve https with (with --tls-key); read again on SIGHUP")
	fs.StringVar(&cfg.tlsKey, "tls-key", "", "PEM private key `file` of --tls-cert")
	fs.StringVar(&cfg.clientCA, "client-ca", "", "PEM `file` of the CAs whose client certificates pesd requires (mutual TLS; with --tls-cert)")
	fs.BoolVar(&cfg.metricsPublic, "metrics-public", false, "serve /metrics without a token, then with aggregate series only (no group names or ids)")
	fs.StringVar(&cfg.storeKind, "store", "sqlite", "`store`: sqlite or postgres")
	fs.StringVar(&cfg.logFormat, "log-format", "text", "log `format`: text (key=value) or json (one object a line)")
	fs.StringVar(&cfg.dsn, "dsn", "", "PostgreSQL `DSN` (with --store postgres; default: PES_DSN)")
	fs.StringVar(&cfg.kubeconfig, "kubeconfig", "", "kubeconfig `file` of the cluster the kubernetes driver runs pods on (default: in-cluster, then $KUBECONFIG, then ~/.kube/config; none: the driver is off)")
	fs.StringVar(&cfg.prometheusURL, "prometheus-url", "", "Prometheus server `URL` of groups' metric sources that name no address (e.g. http://prometheus:9090)")
	fs.StringVar(&cfg.kubeContext, "kube-context", "", "kubeconfig `context` to use (default: the current one)")
	fs.StringVar(&cfg.pprof, "pprof", "", "loopback `address` (such as 127.0.0.1:6060) to serve Go's profiles on at /debug/pprof/, without a token (default: off)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: pesd serve --listen 127.0.0.1:7400 --data-dir ./.pes --token \"$PES_TOKEN\" [flags]\n\nflags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	if cfg.tokenFile != "" {
		if cfg.token != "" {
			return cfg, fmt.Errorf("serve: --token and --token-file both given: pass one")
		}
		tok, err := readTokenFile(cfg.tokenFile)
		if err != nil {
			return cfg, fmt.Errorf("--token-file: %w", err)
		}
		cfg.token = tok
	}
	if cfg.token == "" {
		cfg.token = os.Getenv("PES_TOKEN")
	}
	if strings.TrimSpace(cfg.token) == "" {
		return cfg, fmt.Errorf("serve: no API token: pass --token-file, --token or set PES_TOKEN (the bootstrap admin token; clients send it as a bearer token)")
	}
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return cfg, fmt.Errorf("serve: --tls-cert and --tls-key go together: pass both to serve https")
	}
	if cfg.clientCA != "" && cfg.tlsCert == "" {
		return cfg, fmt.Errorf("--client-ca: needs --tls-cert and --tls-key (client certificates are asked for in the TLS handshake)")
	}
	if _, _, err := net.SplitHostPort(cfg.listen); err != nil {
		return cfg, fmt.Errorf("--listen: want host:port such as 127.0.0.1:7400, got %q", cfg.listen)
	}
	if cfg.maxSeriesPerGroup < 1 {
		return cfg, fmt.Errorf("--max-series-per-group: want 1 or more, got %d", cfg.maxSeriesPerGroup)
	}
	if cfg.limits.MaxInFlight < 0 {
		return cfg, fmt.Errorf("--max-in-flight: want 0 (no cap) or more, got %d", cfg.limits.MaxInFlight)
	}
	if cfg.limits.RatePerToken < 0 || math.IsNaN(cfg.limits.RatePerToken) || math.IsInf(cfg.limits.RatePerToken, 0) {
		return cfg, fmt.Errorf("--rate-limit: want 0 (no limit) or a positive number, got %g", cfg.limits.RatePerToken)
	}
	if cfg.limits.RatePerToken > 0 && cfg.limits.RateBurst < 1 {
		return cfg, fmt.Errorf("--rate-burst: want 1 or more with --rate-limit, got %d", cfg.limits.RateBurst)
	}
	if cfg.pprof != "" {
		if err := checkLoopback(cfg.pprof); err != nil {
			return cfg, fmt.Errorf("--pprof: %w", err)
		}
	}
	if cfg.dataDir == "" {
		return cfg, fmt.Errorf("--data-dir: must not be empty")
	}
	for _, d := range []struct {
		name string
		v    string
		dst  *time.Duration
	}{
		{"evaluation-interval", *evaluation, &cfg.evaluationInterval},
		{"observe-interval", *observe, &cfg.observeInterval},
		{"retention", *retention, &cfg.retention},
		{"metric-history", *history, &cfg.metricHistory},
	} {
		v, err := api.ParseDuration(d.v)
		if err != nil || v <= 0 {
			return cfg, fmt.Errorf("--%s: want a positive duration such as 5s, 10m or 90d, got %q", d.name, d.v)
		}
		*d.dst = v
	}
	if v, err := api.ParseDuration(*leaseTTL); err != nil || v < time.Second {
		return cfg, fmt.Errorf("--lease-ttl: want a duration of 1s or more such as 10s, got %q", *leaseTTL)
	} else {
		cfg.leaseTTL = v
	}
	if cfg.shards < 1 || cfg.shards > 4096 {
		return cfg, fmt.Errorf("--shards: want 1 to 4096, got %d", cfg.shards)
	}
	v, err := api.ParseDuration(*launch)
	if err != nil || v < 0 {
		return cfg, fmt.Errorf("--launch-window: want a duration such as 3s, or 0 to record each observation's nodes apart, got %q", *launch)
	}
	cfg.launchWindow = v
	if v, err = api.ParseDuration(*backoff); err != nil || v <= 0 {
		return cfg, fmt.Errorf("--notify-backoff: want a positive duration such as 1s, got %q", *backoff)
	}
	cfg.notifyBackoff = v
	if cfg.notifyAttempts < 1 {
		return cfg, fmt.Errorf("--notify-attempts: want 1 or more, got %d", cfg.notifyAttempts)
	}
	for _, h := range strings.Split(*allow, ",") {
		if h = strings.TrimSpace(h); h == "" {
			continue
		}
		if strings.ContainsAny(h, "/:@ ") && net.ParseIP(h) == nil {
			return cfg, fmt.Errorf("--notify-allow: want host names or IPs separated by commas (no scheme, port or path), got %q", h)
		}
		cfg.notifyAllow = append(cfg.notifyAllow, h)
	}
	switch cfg.storeKind {
	case "sqlite":
		if cfg.dsn != "" {
			return cfg, fmt.Errorf("--dsn: only with --store postgres (sqlite lives in --data-dir)")
		}
	case "postgres":
		if cfg.dsn == "" {
			cfg.dsn = os.Getenv("PES_DSN")
		}
		if strings.TrimSpace(cfg.dsn) == "" {
			return cfg, fmt.Errorf("--dsn: required with --store postgres: pass --dsn or set PES_DSN (e.g. postgres://user@host:5432/pes)")
		}
	default:
		return cfg, fmt.Errorf("--store: want sqlite or postgres, got %q", cfg.storeKind)
	}
	if cfg.logFormat != "text" && cfg.logFormat != "json" {
		return cfg, fmt.Errorf("--log-format: want text or json, got %q", cfg.logFormat)
	}
	if cfg.prometheusURL != "" {
		if err := api.ValidatePrometheusURL(cfg.prometheusURL); err != nil {
			return cfg, fmt.Errorf("--prometheus-url: %v", err)
		}
	}
	if err := cfg.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return cfg, fmt.Errorf("--log-level: want debug, info, warn or error, got %q", *level)
	}
	return cfg, nil
}

// checkLoopback accepts host:port only with a loopback IP as host: the
// profiling listener has no token, so only someone on pesd's machine
// (an admin) may reach it. A name such as localhost is refused rather
// than trusted to resolve to loopback.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want a loopback host:port such as 127.0.0.1:6060, got %q", addr)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("want a loopback IP address such as 127.0.0.1:6060 or [::1]:6060 (the profiles are served without a token), got %q", addr)
	}
	return nil
}

// readTokenFile reads a token from a file, as secrets are mounted: the
// whole file, surrounding white space trimmed.
func readTokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" || strings.ContainsAny(tok, " \t\r\n") {
		return "", fmt.Errorf("%s must hold one token on one line", path)
	}
	return tok, nil
}
