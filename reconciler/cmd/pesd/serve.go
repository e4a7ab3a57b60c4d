package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/pes-project/terraform-provider-pes/reconciler/api"
	"github.com/pes-project/terraform-provider-pes/reconciler/buildinfo"
	"github.com/pes-project/terraform-provider-pes/reconciler/cli"
	"github.com/pes-project/terraform-provider-pes/reconciler/clock"
	"github.com/pes-project/terraform-provider-pes/reconciler/controller"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/local"
	"github.com/pes-project/terraform-provider-pes/reconciler/driver/sim"
	"github.com/pes-project/terraform-provider-pes/reconciler/governor"
	"github.com/pes-project/terraform-provider-pes/reconciler/history"
	"github.com/pes-project/terraform-provider-pes/reconciler/replica"
	"github.com/pes-project/terraform-provider-pes/reconciler/server"
	"github.com/pes-project/terraform-provider-pes/reconciler/source/prometheus"
	"github.com/pes-project/terraform-provider-pes/reconciler/store"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/postgres"
	"github.com/pes-project/terraform-provider-pes/reconciler/store/sqlite"
)

// shutdownGrace bounds how long in-flight API requests may take at
// shutdown.
const shutdownGrace = 10 * time.Second

// The API's two sides: the controller writes (and reports its counts on
// /metrics), history reads.
var (
	_ server.Service     = (*controller.Controller)(nil)
	_ server.StatsSource = (*controller.Controller)(nil)
	_ server.History     = (*history.Reader)(nil)
)

// serve runs the daemon until SIGTERM or SIGINT.
func serve(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseServe(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return cli.ExitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "pesd: %v\n", err)
		return cli.ExitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	// After the first signal, a second one kills pesd at once instead of
	// waiting for a slow shutdown.
	go func() { <-ctx.Done(); stop() }()
	logs := newLogBuffer(stderr, accessFlushAfter)
	log, access := slog.New(logHandler(cfg, logs.direct())), slog.New(logHandler(cfg, logs))
	err = daemon(ctx, cfg, stdout, log, access)
	logs.Flush()
	if err != nil {
		fmt.Fprintf(stderr, "pesd: %v\n", err)
		return cli.ExitError
	}
	return cli.ExitOK
}

// logHandler is the handler of --log-format: slog's text or JSON.
func logHandler(cfg serveConfig, w io.Writer) slog.Handler {
	opts := &slog.HandlerOptions{Level: cfg.logLevel}
	if cfg.logFormat == "json" {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

// daemon wires the store, the drivers, the controller and the HTTP
// server, and tears them down in reverse order when ctx ends. Local nodes
// keep running: the next start adopts them. The access log goes to
// access, every other line to log.
func daemon(ctx context.Context, cfg serveConfig, stdout io.Writer, log, access *slog.Logger) (err error) {
	if err := os.MkdirAll(cfg.dataDir, 0o750); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	unlock, err := lockDataDir(cfg.dataDir, cfg.storeKind)
	if err != nil {
		return err
	}
	defer unlock()

	raw, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	// Watched: /readyz fails while the store cannot write.
	st := store.Watch(raw)
	defer func() {
		if cerr := st.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close store: %w", cerr)
		}
	}()

	localDriver, err := local.New(cfg.dataDir, local.WithLogger(log.With("driver", api.DriverLocal)))
	if err != nil {
		return fmt.Errorf("local driver: %w", err)
	}
	drivers := map[string]driver.Driver{
		api.DriverLocal: localDriver,
		api.DriverSim:   sim.New(clock.Real{}),
	}
	disabled := map[string]string{}
	kube, kubeOff, err := kubeDriver(cfg, log)
	if err != nil {
		return err
	}
	if kube != nil {
		drivers[api.DriverKubernetes] = kube
	} else {
		disabled[api.DriverKubernetes] = kubeOff
	}
	defer func() {
		for name, d := range drivers {
			if cerr := d.Close(); cerr != nil {
				log.Warn("close driver", "driver", name, "err", cerr)
			}
		}
	}()

	// Replicas on one PostgreSQL share the groups by leases; the keeper
	// starts once the API listens, and the controller then takes on the
	// groups of the shards it leases. With SQLite it owns every group.
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	var (
		ctrl   *controller.Controller
		keeper *replica.Keeper
		router *replica.Router
		owner  controller.Ownership
	)
	if leases, ok := raw.(store.Leases); ok {
		addr := advertised(cfg.advertise, ln.Addr().(*net.TCPAddr))
		id := cfg.replicaID
		if id == "" {
			id = addr
		}
		keeper = replica.New(replica.Options{
			Leases: leases, ID: id, Address: addr, TTL: cfg.leaseTTL, Shards: cfg.shards,
			Logger: log.With("component", "replica", "replica", id),
			Gained: func(ctx context.Context, got []store.Acquired) {
				if err := ctrl.AdoptShards(ctx, got, keeper.Shard); err != nil {
					log.Error("take on the groups of shards", "err", err)
				}
			},
			Lost:  func(shards []int) { ctrl.DropShards(keeper.InShards(shards)) },
			Round: func(ctx context.Context) { _ = router.Refresh(ctx) },
		})
		router = replica.NewRouter(keeper)
		owner = keeper
	}

	// New re-adopts the nodes recorded before a restart.
	clk := clock.Real{}
	// One governing for live decisions and for backtests' replays, each
	// over its own store.
	newGovernor := func(st store.Reader) controller.Governor {
		return governor.New(st, governor.WithClock(clk), governor.WithLogger(log.With("component", "governor")))
	}
	ctrl, err = controller.New(controller.Options{
		Store:              st,
		Drivers:            drivers,
		DisabledDrivers:    disabled,
		Clock:              clk,
		Logger:             log,
		EvaluationInterval: cfg.evaluationInterval,
		ObserveInterval:    cfg.observeInterval,
		LaunchWindow:       cfg.launchWindow,
		Retention:          cfg.retention,
		MetricHistory:      cfg.metricHistory,
		Sources:            controller.SourceOptions{PrometheusURL: cfg.prometheusURL, Client: &prometheus.Client{}},
		MaxSeriesPerGroup:  cfg.maxSeriesPerGroup,
		NotifyAllow:        cfg.notifyAllow,
		NotifyAttempts:     cfg.notifyAttempts,
		NotifyBackoff:      cfg.notifyBackoff,
		DataDir:            cfg.dataDir,
		Governor:           newGovernor(st),
		ReplayGovernor:     newGovernor,
		Ownership:          owner,
	})
	if err != nil {
		ln.Close()
		return err
	}

	if cfg.pprof != "" {
		psrv, _, err := listenPprof(cfg.pprof, log)
		if err != nil {
			return err
		}
		defer psrv.Close()
	}

	if keeper != nil {
		// A first round before the API answers: this replica holds its
		// shards (or knows who does) by its first request.
		if err := keeper.Step(ctx); err != nil {
			log.Warn("leases", "err", err)
		}
		_ = router.Refresh(ctx)
	}
	opts := []server.Option{server.WithLimits(cfg.limits), server.ReadyWhenWritable(st), server.WithIdentity(st),
		server.WithAccessLog(access)}
	if router != nil {
		opts = append(opts, server.WithReplicas(router))
	}
	if cfg.metricsPublic {
		opts = append(opts, server.WithMetricsPublic())
	}
	srv := server.HTTPServer(server.New(ctrl, history.New(st, history.WithClock(clk)), cfg.token, log, opts...),
		slog.NewLogLogger(log.Handler(), slog.LevelWarn), server.DefaultTimeouts)
	scheme := "http"
	serveErr := make(chan error, 1)
	if cfg.tlsCert != "" {
		certs, err := server.LoadCertificates(cfg.tlsCert, cfg.tlsKey, cfg.clientCA)
		if err != nil {
			ln.Close()
			return err
		}
		scheme, srv.TLSConfig = "https", certs.Config()
		stopReload := reloadOnHangup(certs, log)
		defer stopReload()
		go func() { serveErr <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { serveErr <- srv.Serve(ln) }()
	}

	loopCtx, stopLoop := context.WithCancel(context.Background())
	loopDone := make(chan error, 1)
	go func() { loopDone <- ctrl.Run(loopCtx) }()
	keeperCtx, stopKeeper := context.WithCancel(context.Background())
	keeperDone := make(chan struct{})
	if keeper != nil {
		go func() {
			defer close(keeperDone)
			keeper.Run(keeperCtx)
		}()
		log.Info("replica started", "replica", keeper.ID(), "lease_ttl", cfg.leaseTTL, "shards", cfg.shards)
	} else {
		close(keeperDone)
	}

	// The one line scripts and tests read: the real address (port 0
	// resolved).
	fmt.Fprintf(stdout, "pesd listening on %s://%s (data dir %s, store %s)\n", scheme, ln.Addr(), cfg.dataDir, cfg.storeKind)
	bi := buildinfo.Get()
	log.Info("pesd started", "addr", ln.Addr().String(), "data_dir", cfg.dataDir, "store", cfg.storeKind,
		"version", bi.Version, "commit", bi.Commit, "go", bi.GoVersion)

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err = <-serveErr:
		err = fmt.Errorf("http server: %w", err)
	}

	shutCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if serr := srv.Shutdown(shutCtx); serr != nil {
		log.Warn("http shutdown", "err", serr)
	}
	stopLoop()
	if lerr := <-loopDone; lerr != nil {
		log.Warn("controller loop", "err", lerr)
	}
	// The leases go once the loop has stopped writing: the other
	// replicas take the groups at once instead of after the TTL.
	stopKeeper()
	<-keeperDone
	if cerr := ctrl.Close(); cerr != nil {
		log.Warn("controller close", "err", cerr)
	}
	if err == nil {
		log.Info("pesd stopped; local nodes keep running and are adopted at the next start")
	}
	return err
}

// advertised is the address other replicas reach this one at: --advertise,
// else the listening address, with the host's name when it listens on
// every address.
func advertised(flag string, ln *net.TCPAddr) string {
	if flag != "" {
		return flag
	}
	if ln.IP.IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			return net.JoinHostPort(h, strconv.Itoa(ln.Port))
		}
	}
	return ln.String()
}

func openStore(ctx context.Context, cfg serveConfig) (store.Store, error) {
	switch cfg.storeKind {
	case "sqlite":
		st, err := sqlite.Open(filepath.Join(cfg.dataDir, "pes.db"))
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return st, nil
	case "postgres":
		st, err := postgres.Open(ctx, cfg.dsn)
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return st, nil
	default:
		// Checked by parseServe.
		return nil, fmt.Errorf("--store: want sqlite or postgres, got %q", cfg.storeKind)
	}
}

// lockDataDir takes an exclusive lock on <dataDir>/pesd.lock so that two
// pesd never run the same nodes. The kernel drops the lock when the
// process dies, even by kill -9. Replicas on PostgreSQL share the
// database, never a data dir: each has its own.
func lockDataDir(dataDir, storeKind string) (func(), error) {
	path := filepath.Join(dataDir, "pesd.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("lock data dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			how := "SQLite serves one pesd: to run several replicas, use --store postgres with one database and a --data-dir each"
			if storeKind == "postgres" {
				how = "replicas on one database each need a --data-dir of their own"
			}
			return nil, fmt.Errorf("data dir %s is in use by another pesd (%s is locked): %s", dataDir, path, how)
		}
		return nil, fmt.Errorf("lock data dir: %w", err)
	}
	return func() { f.Close() }, nil
}

// reloadOnHangup reads the TLS certificate and key again on each SIGHUP,
// as certificate renewals expect; a file that does not load leaves the
// certificate served as it was. It returns the function that stops it.
func reloadOnHangup(certs *server.Certificates, log *slog.Logger) func() {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				if err := certs.Reload(); err != nil {
					log.Error("TLS certificate not reloaded; serving the one loaded before", "err", err)
					continue
				}
				log.Info("TLS certificate reloaded")
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(hup); close(done) }
}
