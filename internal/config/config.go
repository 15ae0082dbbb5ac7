// Package config is provisiond's typed configuration. Every setting has a default, an
// environment variable and an equivalent command-line flag; a flag wins over the environment.
package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultDatabaseURL is the SQLite file used when no database is configured.
const DefaultDatabaseURL = "./data/provisiond.db"

// Config holds every setting of every command; each command registers the groups it uses.
type Config struct {
	// Database
	DatabaseURL  string
	DBMaxConns   int
	DBTimeout    time.Duration
	AutoMigrate  bool
	FixturesFile string

	// Logging
	LogLevel  slog.Level
	LogFormat string

	// Serving
	Addr                 string
	JWTSecret            string
	JWTTTL               time.Duration
	OCCAdminTokenTTL     time.Duration
	OCCStoreTokenTTL     time.Duration
	BodyLimit            int64
	ShutdownTimeout      time.Duration
	ShutdownDrain        time.Duration
	ReadTimeout          time.Duration
	WriteTimeout         time.Duration
	IdleTimeout          time.Duration
	PasswordConcurrency  int
	PasswordQueueTimeout time.Duration
	Timezone             string
	PasswordPolicy       string
	ValidateResponses    bool
	// Control serves the control API (/_provisiond/v1: reset, seed, inspect).
	Control bool
	// ControlBodyLimit is the largest request body of the control API (fixtures documents).
	ControlBodyLimit int64
	// JournalSize is how many requests to the vendor APIs the request journal keeps (0: none).
	JournalSize int
	// JournalBodyLimit is how many bytes of each request and response body the journal keeps.
	JournalBodyLimit int
	// CORSOrigins are the origins whose browser applications may call the server (none: CORS off).
	CORSOrigins []string
	// CredentialCacheTTL is how long a verified credential (or X-Cart JWT subject) is trusted
	// without reading the database again; 0 reads it on every request.
	CredentialCacheTTL time.Duration
	// MemoryLimit is the Go runtime's soft memory limit in bytes (runtime/debug.SetMemoryLimit):
	// 0 derives it from PasswordConcurrency, NoMemoryLimit sets none. GOMEMLIMIT, when set, wins.
	MemoryLimit int64
}

// NoMemoryLimit is the MemoryLimit that sets no limit ("off"): the Go runtime's own default.
const NoMemoryLimit = math.MaxInt64

// MinDBMaxConns is the smallest default PostgreSQL pool: under load, more connections let more
// inserts commit together (PostgreSQL flushes the WAL once for the commits that wait together)
// and let fewer requests wait for a connection handed on by another. Measured with make load
// (create, 64 clients, 2 CPUs shared by server, load generator and PostgreSQL), 32 connections
// answered about 1.5 times as many creates as 8 (4 per CPU) and 1.2 times as many as 16, with a
// lower p99; 64 no more than 32.
const MinDBMaxConns = 32

// DefaultDBMaxConns is the default PostgreSQL pool on cpus CPUs: 4 per CPU, and at least
// MinDBMaxConns (a small machine), which leaves room in PostgreSQL's default max_connections
// (100) for a second instance and for administration.
func DefaultDBMaxConns(cpus int) int { return max(MinDBMaxConns, 4*cpus) }

// Default is the configuration before any environment variable or flag is read.
func Default() Config {
	return Config{
		DatabaseURL:          DefaultDatabaseURL,
		DBMaxConns:           DefaultDBMaxConns(runtime.NumCPU()),
		DBTimeout:            5 * time.Second,
		AutoMigrate:          true,
		LogLevel:             slog.LevelInfo,
		LogFormat:            "json",
		Addr:                 ":8080",
		JWTTTL:               time.Hour,
		OCCAdminTokenTTL:     5 * time.Minute,
		OCCStoreTokenTTL:     930 * time.Second,
		BodyLimit:            1 << 20,
		ShutdownTimeout:      15 * time.Second,
		ShutdownDrain:        2 * time.Second,
		ReadTimeout:          30 * time.Second,
		WriteTimeout:         30 * time.Second,
		IdleTimeout:          120 * time.Second,
		PasswordConcurrency:  runtime.NumCPU(),
		PasswordQueueTimeout: 5 * time.Second,
		Timezone:             "UTC",
		PasswordPolicy:       "min=8,letter,digit",
		Control:              true,
		ControlBodyLimit:     64 << 20,
		JournalSize:          1000,
		JournalBodyLimit:     16 << 10,
		CredentialCacheTTL:   5 * time.Second,
	}
}

// Set is a group of settings registered on a flag set together with their environment variables.
type Set struct {
	fs  *flag.FlagSet
	env map[string]string // flag name → environment variable
}

// NewSet starts registering settings on fs.
func NewSet(fs *flag.FlagSet) *Set { return &Set{fs: fs, env: map[string]string{}} }

func (s *Set) add(name, env, usage string, register func(name, usage string)) {
	register(name, usage+" (env "+env+")")
	s.env[name] = env
}

// Database registers the settings every command that opens the database needs.
func (s *Set) Database(c *Config) {
	s.add("database-url", "PROVISIOND_DATABASE_URL", "database: postgres://… for PostgreSQL, a file path or sqlite: URL for SQLite", func(n, u string) { s.fs.StringVar(&c.DatabaseURL, n, c.DatabaseURL, u) })
	s.add("db-max-conns", "PROVISIOND_DB_MAX_CONNS", "database connection pool size, open and idle: PostgreSQL's pool; on SQLite the readers' pool (writes and transactions share one connection)", func(n, u string) { s.fs.IntVar(&c.DBMaxConns, n, c.DBMaxConns, u) })
	s.add("db-timeout", "PROVISIOND_DB_TIMEOUT", "deadline of each database call and transaction; past it the request is answered 503 with Retry-After (0: none)", func(n, u string) { s.fs.DurationVar(&c.DBTimeout, n, c.DBTimeout, u) })
	s.Log(c)
}

// Log registers the logging settings.
func (s *Set) Log(c *Config) {
	s.add("log-level", "PROVISIOND_LOG_LEVEL", "log level: debug, info, warn or error", func(n, u string) { s.fs.TextVar(&c.LogLevel, n, c.LogLevel, u) })
	s.add("log-format", "PROVISIOND_LOG_FORMAT", "log format: json or text", func(n, u string) {
		s.fs.Func(n, u+" (default \"json\")", func(v string) error {
			if v != "json" && v != "text" {
				return errors.New(`must be "json" or "text"`)
			}
			c.LogFormat = v
			return nil
		})
	})
}

// Fixtures registers the fixtures file setting.
func (s *Set) Fixtures(c *Config) {
	s.add("fixtures", "PROVISIOND_FIXTURES", "fixtures file to load at start and after every reset (idempotent)", func(n, u string) { s.fs.StringVar(&c.FixturesFile, n, c.FixturesFile, u) })
}

// Serve registers the settings of the server.
func (s *Set) Serve(c *Config) {
	s.Database(c)
	s.add("addr", "PROVISIOND_ADDR", "address to listen on", func(n, u string) { s.fs.StringVar(&c.Addr, n, c.Addr, u) })
	s.add("auto-migrate", "PROVISIOND_AUTO_MIGRATE", "apply pending migrations at start", func(n, u string) { s.fs.BoolVar(&c.AutoMigrate, n, c.AutoMigrate, u) })
	s.Fixtures(c)
	s.add("jwt-secret", "PROVISIOND_JWT_SECRET", "secret that signs JWTs; generated and kept in the database when empty", func(n, u string) { s.fs.StringVar(&c.JWTSecret, n, c.JWTSecret, u) })
	s.add("jwt-ttl", "PROVISIOND_JWT_TTL", "lifetime of an issued JWT", func(n, u string) { s.fs.DurationVar(&c.JWTTTL, n, c.JWTTTL, u) })
	s.add("occadmin-token-ttl", "PROVISIOND_OCCADMIN_TOKEN_TTL", "lifetime of an Oracle Commerce Cloud admin access token (application key login), whole seconds", func(n, u string) {
		s.fs.DurationVar(&c.OCCAdminTokenTTL, n, c.OCCAdminTokenTTL, u)
	})
	s.add("occstore-token-ttl", "PROVISIOND_OCCSTORE_TOKEN_TTL", "lifetime of an Oracle Commerce Cloud shopper access token, whole seconds", func(n, u string) {
		s.fs.DurationVar(&c.OCCStoreTokenTTL, n, c.OCCStoreTokenTTL, u)
	})
	s.add("body-limit", "PROVISIOND_BODY_LIMIT", "largest request body in bytes (413 beyond)", func(n, u string) { s.fs.Int64Var(&c.BodyLimit, n, c.BodyLimit, u) })
	s.add("shutdown-timeout", "PROVISIOND_SHUTDOWN_TIMEOUT", "how long SIGTERM waits for in-flight requests", func(n, u string) { s.fs.DurationVar(&c.ShutdownTimeout, n, c.ShutdownTimeout, u) })
	s.add("shutdown-drain", "PROVISIOND_SHUTDOWN_DRAIN", "how long SIGTERM keeps serving, with /readyz at 503 and every response closing its connection, before it stops accepting (0: stop at once)", func(n, u string) { s.fs.DurationVar(&c.ShutdownDrain, n, c.ShutdownDrain, u) })
	s.add("read-timeout", "PROVISIOND_READ_TIMEOUT", "HTTP server read timeout", func(n, u string) { s.fs.DurationVar(&c.ReadTimeout, n, c.ReadTimeout, u) })
	s.add("write-timeout", "PROVISIOND_WRITE_TIMEOUT", "HTTP server write timeout", func(n, u string) { s.fs.DurationVar(&c.WriteTimeout, n, c.WriteTimeout, u) })
	s.add("idle-timeout", "PROVISIOND_IDLE_TIMEOUT", "HTTP server keep-alive idle timeout", func(n, u string) { s.fs.DurationVar(&c.IdleTimeout, n, c.IdleTimeout, u) })
	s.add("timezone", "PROVISIOND_TIMEZONE", "time zone of ActivePlatform timestamps and of X-Cart filter dates without one: an IANA name (Europe/Moscow) or an offset (+03:00)", func(n, u string) { s.fs.StringVar(&c.Timezone, n, c.Timezone, u) })
	s.add("password-policy", "PROVISIOND_PASSWORD_POLICY", "ActivePlatform password policy: min=N plus any of letter, digit, upper, lower, symbol", func(n, u string) { s.fs.StringVar(&c.PasswordPolicy, n, c.PasswordPolicy, u) })
	s.add("control", "PROVISIOND_CONTROL", "serve the control API at /_provisiond/v1 (reset, seed, inspect); false for a server that only other services, not test suites, call", func(n, u string) { s.fs.BoolVar(&c.Control, n, c.Control, u) })
	s.add("control-body-limit", "PROVISIOND_CONTROL_BODY_LIMIT", "largest request body of the control API in bytes (a fixtures document of 10,000 users is about 2 MB)", func(n, u string) { s.fs.Int64Var(&c.ControlBodyLimit, n, c.ControlBodyLimit, u) })
	s.add("journal-size", "PROVISIOND_JOURNAL_SIZE", "requests to the vendor APIs the control API's request journal keeps, secrets masked (0: no journal)", func(n, u string) { s.fs.IntVar(&c.JournalSize, n, c.JournalSize, u) })
	s.add("journal-body-limit", "PROVISIOND_JOURNAL_BODY_LIMIT", "bytes of each request and response body the request journal keeps", func(n, u string) { s.fs.IntVar(&c.JournalBodyLimit, n, c.JournalBodyLimit, u) })
	s.add("validate-responses", "PROVISIOND_VALIDATE_RESPONSES", "check every API response against its spec and log each violation (for testing clients and the server)", func(n, u string) { s.fs.BoolVar(&c.ValidateResponses, n, c.ValidateResponses, u) })
	s.add("password-concurrency", "PROVISIOND_PASSWORD_CONCURRENCY", "password hashes computed at once (each takes about 19 MiB)", func(n, u string) { s.fs.IntVar(&c.PasswordConcurrency, n, c.PasswordConcurrency, u) })
	s.add("password-queue-timeout", "PROVISIOND_PASSWORD_QUEUE_TIMEOUT", "longest wait for a password-hashing slot; past it the request is answered 503 with Retry-After before anything is written (0: until the request's deadline)", func(n, u string) { s.fs.DurationVar(&c.PasswordQueueTimeout, n, c.PasswordQueueTimeout, u) })
	s.add("credential-cache-ttl", "PROVISIOND_CREDENTIAL_CACHE_TTL", "how long a verified credential or X-Cart JWT subject is trusted without reading the database again; another instance's revocation takes effect within it (0: read on every request)", func(n, u string) { s.fs.DurationVar(&c.CredentialCacheTTL, n, c.CredentialCacheTTL, u) })
	s.add("cors-origins", "PROVISIOND_CORS_ORIGINS", "origins whose browser applications may call every route, comma-separated (http://localhost:3000,https://app.example), or * for any (then without cookies); none answers no CORS preflight", func(n, u string) {
		s.fs.Func(n, u, func(v string) (err error) {
			c.CORSOrigins, err = ParseOrigins(v)
			return err
		})
	})
	s.add("memory-limit", "PROVISIOND_MEMORY_LIMIT", "soft limit of the Go runtime's memory, as GOMEMLIMIT writes it (160MiB, 1GiB, bytes): auto derives it from password-concurrency, off sets none; GOMEMLIMIT, when set, wins", func(n, u string) {
		s.fs.Func(n, u+" (default auto)", func(v string) (err error) {
			c.MemoryLimit, err = ParseMemoryLimit(v)
			return err
		})
	})
}

// ParseOrigins reads a comma-separated list of CORS origins: each scheme://host[:port] (http or
// https, no path), or "*" alone for any origin. Spaces around the commas are ignored.
func ParseOrigins(v string) ([]string, error) {
	var origins, bad []string
	for o := range strings.SplitSeq(v, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		u, err := url.Parse(o)
		if o != "*" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil) {
			bad = append(bad, strconv.Quote(o))
			continue
		}
		origins = append(origins, o)
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s: want origins such as http://localhost:3000 (scheme, host and port only), or *", strings.Join(bad, ", "))
	}
	if slices.Contains(origins, "*") && len(origins) > 1 {
		return nil, errors.New(`"*" allows every origin: give it alone`)
	}
	return origins, nil
}

// ParseMemoryLimit reads a memory limit: "auto" (0), "off" (NoMemoryLimit), or a positive size in
// GOMEMLIMIT's syntax, a number of bytes with an optional unit B, KiB, MiB, GiB or TiB.
func ParseMemoryLimit(v string) (int64, error) {
	switch v {
	case "auto":
		return 0, nil
	case "off":
		return NoMemoryLimit, nil
	}
	digits := strings.TrimRight(v, "BKMGTi")
	unit := int64(1)
	switch v[len(digits):] {
	case "", "B":
	case "KiB":
		unit = 1 << 10
	case "MiB":
		unit = 1 << 20
	case "GiB":
		unit = 1 << 30
	case "TiB":
		unit = 1 << 40
	default:
		return 0, fmt.Errorf("%q: want auto, off, or a size such as 160MiB (units B, KiB, MiB, GiB, TiB)", v)
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/unit {
		return 0, fmt.Errorf("%q: want auto, off, or a positive size such as 160MiB", v)
	}
	return n * unit, nil
}

// Parse applies the environment (read through getenv), then the command line, then checks the result.
func (s *Set) Parse(c *Config, args []string, getenv func(string) string) error {
	var errs []error
	s.fs.VisitAll(func(f *flag.Flag) {
		env, ok := s.env[f.Name]
		if !ok {
			return
		}
		if v := getenv(env); v != "" {
			if err := s.fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %s", env, v, problem(f, err)))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := s.fs.Parse(args); err != nil {
		return err
	}
	return c.Validate()
}

// problem says what is wrong with a value that f refused with err: the flag package's own
// errors ("parse error") name no expected form.
func problem(f *flag.Flag, err error) string {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return err.Error()
	}
	switch g.Get().(type) {
	case int, int64:
		return "want a whole number (" + err.Error() + ")"
	case bool:
		return "want true or false"
	case time.Duration:
		return "want a duration such as 500ms, 30s, 5m or 1h30m"
	}
	return err.Error()
}

// Args are the command-line arguments left after the flags.
func (s *Set) Args() []string { return s.fs.Args() }

// Validate checks the settings that a flag's type alone cannot.
func (c *Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.DatabaseURL) == "" {
		errs = append(errs, errors.New("database URL must not be empty"))
	}
	if c.DBMaxConns < 1 {
		errs = append(errs, errors.New("db-max-conns must be at least 1"))
	}
	if c.JournalSize < 0 || c.JournalBodyLimit < 0 {
		errs = append(errs, errors.New("journal-size and journal-body-limit must not be negative"))
	}
	if c.BodyLimit < 1 || c.ControlBodyLimit < 1 {
		errs = append(errs, errors.New("body-limit and control-body-limit must be at least 1 byte"))
	}
	if c.JWTTTL <= 0 {
		errs = append(errs, errors.New("jwt-ttl must be positive"))
	}
	// OCC's expires_in is an integer number of seconds, so a lifetime is one too.
	for _, ttl := range []struct {
		name string
		d    time.Duration
	}{{"occadmin-token-ttl", c.OCCAdminTokenTTL}, {"occstore-token-ttl", c.OCCStoreTokenTTL}} {
		if ttl.d < time.Second || ttl.d%time.Second != 0 {
			errs = append(errs, fmt.Errorf("%s must be a positive whole number of seconds, not %s", ttl.name, ttl.d))
		}
	}
	if c.DBTimeout < 0 || c.PasswordQueueTimeout < 0 || c.CredentialCacheTTL < 0 {
		errs = append(errs, errors.New("db-timeout, password-queue-timeout and credential-cache-ttl must not be negative"))
	}
	if c.PasswordConcurrency < 1 {
		errs = append(errs, errors.New("password-concurrency must be at least 1"))
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		errs = append(errs, errors.New("jwt-secret must be at least 32 bytes"))
	}
	return errors.Join(errs...)
}

// Location reads a time zone: an IANA name ("Europe/Moscow", "UTC") or a fixed offset ("+03:00").
func Location(tz string) (*time.Location, error) {
	if t, err := time.Parse("-07:00", tz); err == nil {
		_, offset := t.Zone()
		return time.FixedZone(tz, offset), nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", tz, err)
	}
	return loc, nil
}
