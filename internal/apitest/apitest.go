// Package apitest runs the whole provisiond server in process for API tests, on a fresh
// database per test (a temporary SQLite file, or a fresh schema of the PostgreSQL database
// named by PROVISIOND_TEST_DATABASE_URL), and validates every response against the spec of
// the operation it answers.
package apitest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/app"
	"github.com/provisiond/provisiond/internal/config"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/store"
	"github.com/provisiond/provisiond/openapi"
)

// EnvDatabaseURL names the PostgreSQL database the tests also run on when it is set.
const EnvDatabaseURL = "PROVISIOND_TEST_DATABASE_URL"

// Clock is a settable clock for tests: it starts at a fixed instant and moves only when told.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock at start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Dialects are the databases the tests run on: "sqlite", and "postgres" when
// PROVISIOND_TEST_DATABASE_URL is set.
func Dialects() []string {
	if os.Getenv(EnvDatabaseURL) != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// ForEachDialect runs f as a subtest on every database of Dialects.
func ForEachDialect(t *testing.T, f func(t *testing.T, dialect string)) {
	if os.Getenv(EnvDatabaseURL) == "" {
		Gap(t, PostgresGap)
	}
	for _, d := range Dialects() {
		t.Run(d, func(t *testing.T) { f(t, d) })
	}
}

// DatabaseURL returns the URL of a fresh, empty database of dialect that lives as long as t.
func DatabaseURL(t testing.TB, dialect string) string {
	t.Helper()
	if dialect == "sqlite" {
		return filepath.Join(t.TempDir(), "provisiond.db")
	}
	RequirePostgres(t)
	u, drop, err := FreshSchema(os.Getenv(EnvDatabaseURL))
	if err != nil {
		t.Fatalf("%s: %v", EnvDatabaseURL, err)
	}
	t.Cleanup(func() { _ = drop() })
	return u
}

// FreshSchema creates an empty schema in the PostgreSQL database at base and returns base
// pointed at it (search_path), and how to drop it.
func FreshSchema(base string) (dbURL string, drop func() error, err error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	schema := "t_" + strings.ToLower(rand.Text())
	admin, err := store.Open(context.Background(), base, store.Options{MaxConns: 1})
	if err != nil {
		return "", nil, fmt.Errorf("open: %w", err)
	}
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		_ = store.Close(admin)
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	drop = func() error {
		return errors.Join(admin.Exec("DROP SCHEMA "+schema+" CASCADE").Error, store.Close(admin))
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

// Server is provisiond running in process on a fresh database.
type Server struct {
	Handler http.Handler
	DB      *gorm.DB
	Config  config.Config
	Clock   *Clock
	// Keys are the read/write credentials created at first start, by API name.
	Keys map[string]string
	// Logs holds everything the server logged.
	Logs *SyncBuffer

	specs []spec
}

// Database is the server's database.
func (s *Server) Database() *gorm.DB { return s.DB }

type spec struct {
	name   string
	doc    *openapi3.T
	router routers.Router
}

// Options change how Start builds the server.
type Options struct {
	// DatabaseURL reuses a database (to test a restart); a fresh one of the dialect when empty.
	DatabaseURL string
	// Configure may change the configuration before the server is built.
	Configure func(*config.Config)
	// Deps replace dependencies; its Now is set to the test clock when nil.
	Deps app.Deps
}

// Start builds the server on a fresh database of dialect and closes it when t ends.
func Start(t testing.TB, dialect string, opts Options) *Server {
	t.Helper()
	ctx := context.Background()
	cfg := config.Default()
	cfg.DatabaseURL = opts.DatabaseURL
	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL = DatabaseURL(t, dialect)
	}
	cfg.DBMaxConns = 8
	cfg.PasswordConcurrency = 2
	cfg.ValidateResponses = true
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	s := &Server{Config: cfg, Clock: NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), Logs: &SyncBuffer{}}
	deps := opts.Deps
	if deps.Now == nil {
		deps.Now = s.Clock.Now
	}
	logger := app.NewLogger(config.Config{LogLevel: slog.LevelDebug, LogFormat: "json"}, s.Logs)

	db, err := app.OpenDB(ctx, cfg)
	if err != nil {
		t.Fatalf("open database: %v", err)
	}
	t.Cleanup(func() { _ = store.Close(db) })
	s.DB = db
	if err := app.Prepare(ctx, cfg, db, logger); err != nil {
		t.Fatalf("prepare database: %v", err)
	}
	if s.Keys, err = app.BootstrapCredentials(ctx, cfg, db); err != nil {
		t.Fatalf("bootstrap credentials: %v", err)
	}
	h, err := app.NewHandler(ctx, cfg, db, logger, deps)
	if err != nil {
		t.Fatalf("build handler: %v", err)
	}
	s.Handler = h
	s.specs = loadSpecs(t)
	t.Cleanup(func() {
		for _, v := range s.Logs.Unclaimed() {
			t.Errorf("the server's response validation found: %s", v)
		}
	})
	return s
}

// Violations are the records of a JSON log that the server's response-validation mode wrote:
// the responses it found in breach of its spec.
func Violations(logs string) []string {
	var out []string
	for line := range strings.Lines(logs) {
		if !strings.Contains(line, httpserver.ResponseViolation) {
			continue
		}
		var rec struct {
			Msg string `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == httpserver.ResponseViolation {
			out = append(out, strings.TrimSuffix(line, "\n"))
		}
	}
	return out
}

// Records are the records of a JSON log at level ("ERROR", "WARN", …), one line each.
func Records(logs, level string) []string {
	var out []string
	for line := range strings.Lines(logs) {
		var rec struct {
			Level string `json:"level"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Level == level {
			out = append(out, strings.TrimSuffix(line, "\n"))
		}
	}
	return out
}

// FailOnViolations fails t for every violation in logs (Violations): the response-validation
// mode is on in every test.
func FailOnViolations(t testing.TB, logs string) {
	t.Helper()
	for _, v := range Violations(logs) {
		t.Errorf("the server's response validation found: %s", v)
	}
}

var (
	specsOnce sync.Once
	specsErr  error
	specsAll  []spec
)

// loadSpecs loads every spec of openapi/ for response validation, with servers cleared so that
// routes match by path alone.
func loadSpecs(t testing.TB) []spec {
	specsOnce.Do(func() {
		for _, name := range openapi.Names() {
			_, doc, err := openapi.Load(name)
			if err != nil {
				specsErr = err
				return
			}
			doc.Servers = nil
			r, err := legacy.NewRouter(doc)
			if err != nil {
				specsErr = fmt.Errorf("%s: %w", name, err)
				return
			}
			specsAll = append(specsAll, spec{name: name, doc: doc, router: r})
		}
	})
	if specsErr != nil {
		t.Fatalf("load specs: %v", specsErr)
	}
	return specsAll
}

// Response is an answer of the server.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// Operation is the id of the spec operation that answered, "" when no route matched.
	Operation string
}

// JSON decodes the body into v.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("response body %q: %v", r.Body, err)
	}
}

// Map decodes the body as a JSON object.
func (r *Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Do serves req and validates the response against the spec of the operation it names; a
// request outside every spec must be answered with 404 or 405.
func (s *Server) Do(t testing.TB, req *http.Request) *Response {
	t.Helper()
	var reqBody []byte
	if req.Body != nil {
		var err error
		reqBody, err = io.ReadAll(req.Body)
		var rest io.Reader = bytes.NewReader(reqBody)
		if err != nil {
			// A body that fails (a client that stops sending) fails the server's reading too.
			rest = io.MultiReader(rest, failing{err})
		}
		req.Body = io.NopCloser(rest)
	}
	rec := httptest.NewRecorder()
	s.Handler.ServeHTTP(rec, req)
	res := &Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	if res.Header.Get("X-Request-Id") == "" {
		t.Errorf("%s %s: no X-Request-Id header", req.Method, req.URL)
	}
	// Validate against a copy of the request, since the server consumed the body.
	vreq := req.Clone(context.Background())
	vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	s.validate(t, vreq, res)
	return res
}

// failing is a reader that always fails with err.
type failing struct{ err error }

func (f failing) Read([]byte) (int, error) { return 0, f.err }

// validate names the operation that answered and reports the violations the server's own
// response validation logged for this request (the one response validator, which also runs in
// the end-to-end tests and for users); a request outside every spec must be answered with 404
// or 405.
func (s *Server) validate(t testing.TB, req *http.Request, res *Response) {
	t.Helper()
	for _, v := range s.Logs.Violations(res.Header.Get("X-Request-Id")) {
		t.Errorf("%s %s → %d does not conform to its spec: %s\nbody: %s", req.Method, req.URL.Path, res.Status, v, res.Body)
	}
	for _, sp := range s.specs {
		route, _, err := sp.router.FindRoute(req)
		if err != nil {
			continue
		}
		res.Operation = route.Operation.OperationID
		return
	}
	if operational(req.URL.Path) {
		return
	}
	if res.Status != http.StatusNotFound && res.Status != http.StatusMethodNotAllowed {
		t.Errorf("%s %s is in no spec but answered %d, want 404 or 405", req.Method, req.URL.Path, res.Status)
	}
}

// operational reports whether path is one of the server's own endpoints, which no vendor spec describes.
func operational(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return strings.HasPrefix(path, "/openapi/") || path == "/docs" || strings.HasPrefix(path, "/docs/")
}

// ValidateSchema checks that body conforms to the named component schema of api's spec; it is
// for responses to requests that match no operation (unknown route, wrong method).
func (s *Server) ValidateSchema(t testing.TB, api, schema string, body []byte) {
	t.Helper()
	for _, sp := range s.specs {
		if sp.name != api {
			continue
		}
		ref := sp.doc.Components.Schemas[schema]
		if ref == nil {
			t.Fatalf("%s.yaml has no schema %s", api, schema)
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("body %q is not JSON: %v", body, err)
		}
		if err := ref.Value.VisitJSON(v, openapi3.MultiErrors()); err != nil {
			t.Errorf("body %s does not conform to %s.yaml %s: %v", body, api, schema, err)
		}
		return
	}
	t.Fatalf("no spec %s", api)
}

// Call builds a request and serves it with Do. body is sent as is when it is a string or
// []byte and as JSON otherwise (nil: no body); header lists name, value pairs. A JSON or
// string body gets Content-Type application/json unless header sets one.
func (s *Server) Call(t testing.TB, method, path string, body any, header ...string) *Response {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal request body: %v", err)
		}
		r = bytes.NewReader(js)
	}
	req := httptest.NewRequest(method, path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return s.Do(t, req)
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers. It keeps the response violations
// written to it (a JSON log's records, one per Write) by request id, so that the request that
// caused one can report it.
type SyncBuffer struct {
	mu         sync.Mutex
	buf        bytes.Buffer
	violations map[string][]string
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if v := Violations(string(p)); len(v) > 0 {
		var rec struct {
			RequestID string `json:"request_id"`
		}
		_ = json.Unmarshal(p, &rec)
		if b.violations == nil {
			b.violations = map[string][]string{}
		}
		b.violations[rec.RequestID] = append(b.violations[rec.RequestID], v...)
	}
	return b.buf.Write(p)
}

// String is what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Violations returns, once, the response violations logged for the request with id.
func (b *SyncBuffer) Violations(id string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	v := b.violations[id]
	delete(b.violations, id)
	return v
}

// Unclaimed returns the response violations no request has taken with Violations.
func (b *SyncBuffer) Unclaimed() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, v := range b.violations {
		out = append(out, v...)
	}
	return out
}

// Concurrently runs f(0), …, f(n-1) at once and returns their results in order: n clients racing
// for the same resource.
func Concurrently[T any](n int, f func(i int) T) []T {
	out := make([]T, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { out[i] = f(i) })
	}
	wg.Wait()
	return out
}
