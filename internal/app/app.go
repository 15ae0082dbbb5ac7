// Package app is provisiond's composition root: configuration → database → migrations →
// reference data → APIs → HTTP server → graceful shutdown. Nothing else reads the
// configuration or builds long-lived dependencies.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/activeplatform"
	"github.com/provisiond/provisiond/internal/config"
	"github.com/provisiond/provisiond/internal/control"
	"github.com/provisiond/provisiond/internal/credential"
	"github.com/provisiond/provisiond/internal/fault"
	"github.com/provisiond/provisiond/internal/fixtures"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/journal"
	"github.com/provisiond/provisiond/internal/module"
	"github.com/provisiond/provisiond/internal/occadmin"
	"github.com/provisiond/provisiond/internal/occstore"
	"github.com/provisiond/provisiond/internal/password"
	"github.com/provisiond/provisiond/internal/platformos"
	"github.com/provisiond/provisiond/internal/store"
	"github.com/provisiond/provisiond/internal/version"
	"github.com/provisiond/provisiond/internal/xcart"
)

// Modules are the APIs provisiond serves, one line each, in the order they are migrated,
// mounted and loaded from fixtures. Everything that lists the APIs derives from this list.
var Modules = module.List{
	xcart.Module,
	occadmin.Module,
	occstore.Module,
	platformos.Module,
	activeplatform.Module,
	control.Module,
}

// Migrations is the whole schema history, in order: the credentials, then each API's.
func Migrations() []store.Migration {
	return Modules.Migrations(credential.Migrations()...)
}

// Fixtures reads and applies fixtures files for the APIs of Modules.
func Fixtures() *fixtures.Loader { return fixtures.New(Modules) }

// FixturesFor is the fixtures loader of the APIs as a server configured by cfg reads and applies
// a file: its configuration (ActivePlatform's password policy), a hasher with its concurrency,
// the wall clock.
func FixturesFor(cfg config.Config) *fixtures.Loader {
	return Fixtures().With(module.Env{Config: cfg, Hasher: password.New(password.OWASP, cfg.PasswordConcurrency), Now: time.Now})
}

// NewLogger builds the process logger: JSON or text on w, every line of a request carrying its id.
func NewLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if cfg.LogFormat == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(httpserver.NewLogHandler(h))
}

// OpenDB opens the configured database.
func OpenDB(ctx context.Context, cfg config.Config) (*gorm.DB, error) {
	return store.Open(ctx, cfg.DatabaseURL, store.Options{MaxConns: cfg.DBMaxConns, Timeout: cfg.DBTimeout})
}

// Prepare brings db up to date: migrations (or a check that none is pending), the built-in
// reference data, and the configured fixtures file.
func Prepare(ctx context.Context, cfg config.Config, db *gorm.DB, logger *slog.Logger) error {
	if cfg.AutoMigrate {
		applied, err := store.Migrate(ctx, db, Migrations())
		if err != nil {
			return err
		}
		if len(applied) > 0 {
			logger.InfoContext(ctx, "migrations applied", "ids", applied)
		}
	} else {
		pending, err := store.Pending(ctx, db, Migrations())
		if err != nil {
			return err
		}
		if len(pending) > 0 {
			return fmt.Errorf("migrations pending (run provisiond migrate): %v", pending)
		}
	}
	if err := FixturesFor(cfg).ApplyDefaults(ctx, db); err != nil {
		return err
	}
	if cfg.FixturesFile != "" {
		if err := FixturesFor(cfg).LoadFile(ctx, db, cfg.FixturesFile); err != nil {
			return err
		}
		logger.InfoContext(ctx, "fixtures loaded", "file", cfg.FixturesFile)
	}
	return nil
}

// Deps are what the handler needs besides the configuration: what tests may replace, and the
// shutdown state that Serve shares with it.
type Deps struct {
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Hasher hashes passwords; one with OWASP parameters and cfg.PasswordConcurrency slots when nil.
	Hasher *password.Hasher
	// Draining reports whether the server is shutting down (httpserver.Options.Draining); Serve
	// sets it. Never when nil.
	Draining func() bool
	// Stopping is closed once the server starts shutting down (httpserver.Options.Stopping);
	// Serve sets it. Never when nil.
	Stopping <-chan struct{}
}

// NewHandler builds the HTTP handler over a prepared database.
func NewHandler(ctx context.Context, cfg config.Config, db *gorm.DB, logger *slog.Logger, deps Deps) (*echo.Echo, error) {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Hasher == nil {
		deps.Hasher = password.New(password.OWASP, cfg.PasswordConcurrency).WithWait(cfg.PasswordQueueTimeout)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), buildInfo(), passwordWait(deps.Hasher))
	pools, err := store.Pools(db)
	if err != nil {
		return nil, err
	}
	for name, pool := range pools {
		reg.MustRegister(collectors.NewDBStatsCollector(pool, name))
	}
	key, err := credential.SigningKey(ctx, db, cfg.JWTSecret)
	if err != nil {
		return nil, err
	}
	journal := journal.New(cfg.JournalSize, cfg.JournalBodyLimit)
	faults := &fault.Rules{}
	d := module.Deps{DB: db, Hasher: deps.Hasher, SigningKey: key, Now: deps.Now, Config: cfg,
		Credentials: credential.NewCachedStore(db, cfg.CredentialCacheTTL, deps.Now), Modules: Modules, Journal: journal, Faults: faults}
	var apis []*httpserver.API
	for _, m := range Modules.On(cfg) {
		api, err := m.Build(d)
		if err != nil {
			return nil, err
		}
		apis = append(apis, api)
		if len(m.Migrations()) > 0 { // an API that holds data: a vendor API, which the journal records and faults cover
			journal.Record(api.Name, api.Spec)
			faults.Cover(api.Name)
		}
	}

	return httpserver.New(httpserver.Options{
		Logger:    logger,
		BodyLimit: cfg.BodyLimit,
		Journal:   journal,
		Ready:     func(ctx context.Context) error { return store.Ping(ctx, db) },
		Registry:  reg,
		APIs:      apis,

		RequestTimeout: RequestTimeout(cfg.WriteTimeout),
		RequestScope: func(ctx context.Context) (context.Context, func()) {
			return store.Scope(ctx, CommitBy(time.Now(), cfg.WriteTimeout))
		},

		ValidateResponses: cfg.ValidateResponses,
		Draining:          deps.Draining,
		Faults:            faults,
		Stopping:          deps.Stopping,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		CORSOrigins:       cfg.CORSOrigins,
	})
}

// RequestTimeout is the deadline of a request's work: a margin before the HTTP write timeout, so
// that a request still waiting (for a hashing slot, for the database) when it passes is answered
// 503 while its answer can still be delivered, and nothing is committed after it — a commit that
// the client would never hear about. 0 (no write timeout) means no deadline.
func RequestTimeout(writeTimeout time.Duration) time.Duration {
	if writeTimeout <= 0 {
		return 0
	}
	return writeTimeout - min(time.Second, writeTimeout/4)
}

// CommitBy is when a write begun at start must have committed for its answer to be delivered:
// shortly before the write timeout (zero when there is none).
func CommitBy(start time.Time, writeTimeout time.Duration) time.Time {
	if writeTimeout <= 0 {
		return time.Time{}
	}
	return start.Add(writeTimeout - min(250*time.Millisecond, writeTimeout/10))
}

// BootstrapCredentials creates one read/write credential for every API that takes credentials
// (module.Credentials), is on (module.API.Off) and has none yet and
// returns their secrets by API name. On the next start they exist and nothing is created. It
// counts and creates under the start-up lock (store.WithStartupLock): of instances starting
// together, only the first finds none, so the credentials are created, and printed, once.
func BootstrapCredentials(ctx context.Context, cfg config.Config, db *gorm.DB) (map[string]string, error) {
	created := map[string]string{}
	err := store.WithStartupLock(ctx, db, func(tx *gorm.DB) error {
		creds := credential.NewStore(tx)
		for _, api := range Modules.On(cfg).Keyed() {
			n, err := creds.Count(ctx, api)
			if err != nil {
				return fmt.Errorf("count credentials: %w", err)
			}
			if n > 0 {
				continue
			}
			if created[api], err = creds.Create(ctx, api, false); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return created, nil
}

// Serve sets the memory limit (MemoryLimit) until it returns, runs the server on ln until ctx
// ends, then drains (drain), stops accepting, waits up to cfg.ShutdownTimeout for in-flight
// requests, and closes the database.
func Serve(ctx context.Context, cfg config.Config, ln net.Listener, out io.Writer, logger *slog.Logger, deps Deps) (err error) {
	defer applyMemoryLimit(cfg, os.Getenv, logger)()
	db, err := OpenDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := store.Close(db); cerr != nil && err == nil {
			err = fmt.Errorf("close database: %w", cerr)
		}
	}()
	if err := Prepare(ctx, cfg, db, logger); err != nil {
		return err
	}
	created, err := BootstrapCredentials(ctx, cfg, db)
	if err != nil {
		return err
	}
	for _, api := range Modules.Keyed() {
		if secret, ok := created[api]; ok {
			fmt.Fprintf(out, "provisiond: created a read/write credential for %s (shown only this once): %s\n", api, secret)
		}
	}
	var draining atomic.Bool
	stopping := make(chan struct{})
	deps.Draining, deps.Stopping = draining.Load, stopping
	h, err := NewHandler(ctx, cfg, db, logger, deps)
	if err != nil {
		return err
	}
	conns := newConnCount()
	srv := &http.Server{
		ConnState:         conns.track,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	logger.InfoContext(ctx, "serving", "addr", ln.Addr().String(), "database", describeDB(cfg.DatabaseURL))

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	draining.Store(true)
	close(stopping)
	drain(cfg.ShutdownDrain, conns, logger)
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// drain keeps serving for up to period, or until no connection is left, while /readyz answers
// 503 and every response closes its connection (httpserver.Options.Draining). http.Server's
// Shutdown alone closes idle keep-alive connections at once, and a client may be sending its next
// request on one at that moment: the request is lost, unanswered. Draining first lets each
// client's next request be answered with "Connection: close", so that by Shutdown the busy
// connections have closed themselves.
func drain(period time.Duration, conns *connCount, logger *slog.Logger) {
	if period <= 0 {
		return
	}
	logger.Info("draining", "period", period.String())
	timer := time.NewTimer(period)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-conns.none():
	}
}

// connCount counts a server's open connections (http.Server.ConnState).
type connCount struct {
	mu    sync.Mutex
	n     int
	empty chan struct{} // closed while n is 0
}

func newConnCount() *connCount {
	c := &connCount{empty: make(chan struct{})}
	close(c.empty)
	return c
}

func (c *connCount) track(_ net.Conn, state http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch state {
	case http.StateNew:
		if c.n == 0 {
			c.empty = make(chan struct{})
		}
		c.n++
	case http.StateClosed, http.StateHijacked:
		c.n--
		if c.n == 0 {
			close(c.empty)
		}
	}
}

// none is closed while no connection is open.
func (c *connCount) none() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.empty
}

// describeDB names the database for the log without its credentials.
func describeDB(url string) string {
	if store.IsPostgres(url) {
		return "postgres"
	}
	return "sqlite " + url
}

// Listen opens the TCP listener for cfg.Addr.
func Listen(cfg config.Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	return ln, nil
}

// buildInfo is the provisiond_build_info metric: always 1, labelled with the running build.
func buildInfo() prometheus.Collector {
	b := version.Get()
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "provisiond_build_info",
		Help:        "The running build of provisiond: always 1, with its version, commit, build date and Go version as labels.",
		ConstLabels: prometheus.Labels{"version": b.Version, "commit": b.Commit, "date": b.Date, "goversion": b.GoVersion},
	})
	g.Set(1)
	return g
}

// passwordWait is the provisiond_password_wait_seconds histogram: how long each password hash or
// check waited for a hashing slot (PROVISIOND_PASSWORD_CONCURRENCY), 0 when one was free.
func passwordWait(h *password.Hasher) prometheus.Collector {
	hist := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "provisiond_password_wait_seconds",
		Help:    "Time a password hash or check waited for a hashing slot (0 when one was free), including waits that gave up.",
		Buckets: []float64{0, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	})
	h.ObserveWait(func(d time.Duration) { hist.Observe(d.Seconds()) })
	return hist
}
