package xcart_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/argon2"

	gen "github.com/provisiond/provisiond/gen/xcart"
	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/app"
	"github.com/provisiond/provisiond/internal/config"
	"github.com/provisiond/provisiond/internal/credential"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/module"
	"github.com/provisiond/provisiond/internal/password"
	"github.com/provisiond/provisiond/internal/xcart"
)

// createBody is a typical create request: an administrator with a membership and roles.
// Its login is numbered afresh for each request (apitest.Creates).
func createBody(withPassword bool) []byte {
	m := map[string]any{
		"login":            "u" + apitest.CreateNumber + "@example.com",
		"access_level":     100,
		"status":           "E",
		"status_comment":   "created by a benchmark",
		"referer":          "https://example.com/landing",
		"language":         "en",
		"membership_id":    1,
		"role_ids":         []int{1, 2},
		"mail_chimp_lists": []int{},
	}
	if withPassword {
		m["password"] = "correct horse battery staple"
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// creates is one client's stream of POST /api/profiles requests with body, authenticated by
// token when it is not empty.
func creates(body []byte, token string) *apitest.Creates {
	header := http.Header{"Content-Type": {"application/json"}}
	if token != "" {
		header["X-Auth-Token"] = []string{token}
	}
	return apitest.NewCreates(http.MethodPost, "/api/profiles", header, body)
}

func benchSequential(b *testing.B, h http.Handler, body []byte, token string) {
	apitest.BenchSequential(b, h, creates(body, token), http.StatusCreated)
}

// benchParallel runs clients concurrent clients per GOMAXPROCS.
func benchParallel(b *testing.B, h http.Handler, body []byte, token string, clients int) {
	apitest.BenchParallel(b, h, func() *apitest.Creates { return creates(body, token) }, http.StatusCreated, clients)
}

// bareHandler is the baseline: Echo with one route that decodes the body as the generated
// type and answers a profile, nothing else.
func bareHandler() http.Handler {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	var ids atomic.Int64
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e.POST("/api/profiles", func(c echo.Context) error {
		var in gen.ProfileCreate
		if err := json.NewDecoder(c.Request().Body).Decode(&in); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "Syntax error")
		}
		id := int(ids.Add(1))
		return c.JSON(http.StatusCreated, gen.Profile{
			Id: id, Login: string(in.Login), AccessLevel: 100, Status: gen.ProfileStatusE,
			RoleIds: []int{1, 2}, StoredSelectors: []string{}, MailChimpLists: []int{},
			MailChimpInterests: []int{}, MailChimpSegments: []int{}, CreateDate: created,
		})
	})
	return e
}

const fakeToken = "bench-token-0123456789abcdef"

// fakeHandler is the whole HTTP stack of production (middleware chain, validator, strict
// handler, renderer, JSON access log) over the in-memory store; validateResponses turns on the
// response-validation mode.
func fakeHandler(tb testing.TB, validateResponses bool) http.Handler {
	tb.Helper()
	signer := credential.NewSigner(bytes.Repeat([]byte{7}, 32), time.Hour, nil)
	hasher := password.New(password.OWASP, runtime.NumCPU())
	svc := xcart.NewService(newFakeStore(), hasher, signer, time.Now)
	api, err := module.Mount(xcart.Name, xcart.Routes(svc, fakeCreds{fakeToken: {ID: 1, API: xcart.Name}}))
	if err != nil {
		tb.Fatal(err)
	}
	cfg := config.Default()
	e, err := httpserver.New(httpserver.Options{
		Logger:    app.NewLogger(cfg, io.Discard), // JSON at info level, with request ids
		BodyLimit: cfg.BodyLimit,
		Registry:  prometheus.NewRegistry(),
		APIs:      []*httpserver.API{api},

		ValidateResponses: validateResponses,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// benchServer is the whole server over a fresh database of dialect, configured as in production:
// as many password hashes at once as CPUs, no response validation.
func benchServer(tb testing.TB, dialect string) (http.Handler, string) {
	tb.Helper()
	s := apitest.Start(tb, dialect, apitest.Options{Configure: func(c *config.Config) {
		c.PasswordConcurrency = runtime.NumCPU()
		c.ValidateResponses = false
	}})
	return s.Handler, s.Keys[xcart.Name]
}

// BenchmarkCreateProfile measures one POST /api/profiles through http.Handler.ServeHTTP:
//   - bare: Echo decoding the body into the generated type, the floor;
//   - fake: the production stack over an in-memory store, the cost of the stack itself;
//   - fake-validate-responses: the same in the response-validation mode, its cost;
//   - sqlite: the production stack over SQLite, without a password;
//   - postgres-parallel: the production stack over PostgreSQL (PROVISIOND_TEST_DATABASE_URL; skipped
//     without), 8 clients per CPU;
//   - password: the same as sqlite with a password (argon2id with OWASP parameters);
//   - *-parallel: 8 clients per CPU, for throughput under concurrency.
func BenchmarkCreateProfile(b *testing.B) {
	plain, withPassword := createBody(false), createBody(true)
	b.Run("bare", func(b *testing.B) {
		benchSequential(b, bareHandler(), plain, "")
	})
	b.Run("fake", func(b *testing.B) {
		benchSequential(b, fakeHandler(b, false), plain, fakeToken)
	})
	b.Run("fake-validate-responses", func(b *testing.B) {
		benchSequential(b, fakeHandler(b, true), plain, fakeToken)
	})
	b.Run("fake-parallel", func(b *testing.B) {
		benchParallel(b, fakeHandler(b, false), plain, fakeToken, 8)
	})
	b.Run("sqlite", func(b *testing.B) {
		h, token := benchServer(b, "sqlite")
		benchSequential(b, h, plain, token)
	})
	b.Run("sqlite-parallel", func(b *testing.B) {
		h, token := benchServer(b, "sqlite")
		benchParallel(b, h, plain, token, 8)
	})
	b.Run("postgres-parallel", func(b *testing.B) {
		h, token := benchServer(b, "postgres")
		benchParallel(b, h, plain, token, 8)
	})
	b.Run("password", func(b *testing.B) {
		h, token := benchServer(b, "sqlite")
		benchSequential(b, h, withPassword, token)
	})
	b.Run("password-parallel", func(b *testing.B) {
		h, token := benchServer(b, "sqlite")
		benchParallel(b, h, withPassword, token, 8)
	})
}

// updateBody changes two fields of a profile, the first to a value of its own for each request.
var updateBody = []byte(`{"status_comment":"updated ` + apitest.CreateNumber + `","referer":"https://example.com/bench"}`)

// updates is one client's stream of updates of the profile at path, renumbered as creates are.
func updates(path, token string) *apitest.Creates {
	return apitest.NewCreates(http.MethodPut, path, http.Header{"Content-Type": {"application/json"}, "X-Auth-Token": {token}}, updateBody)
}

// updateServer is benchServer with one customer profile, and the path of that profile.
func updateServer(tb testing.TB, dialect string) (http.Handler, string, string) {
	tb.Helper()
	h, token := benchServer(tb, dialect)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, creates([]byte(`{"login":"bench`+apitest.CreateNumber+`@example.com"}`), token).Next())
	if rec.Code != http.StatusCreated {
		tb.Fatalf("create the profile to update: %d %s", rec.Code, rec.Body)
	}
	var p struct{ ID int }
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		tb.Fatal(err)
	}
	return h, token, "/api/profiles/" + strconv.Itoa(p.ID)
}

// BenchmarkUpdateProfile measures one PUT /api/profiles/{id} that changes two fields, through
// http.Handler.ServeHTTP over the whole server, on SQLite and (with PROVISIOND_TEST_DATABASE_URL)
// PostgreSQL:
//   - <dialect>: one client;
//   - <dialect>-parallel: 8 clients per CPU, all updating the same profile, the worst case for the
//     lock an update holds on its row.
func BenchmarkUpdateProfile(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			h, token, path := updateServer(b, dialect)
			apitest.BenchSequential(b, h, updates(path, token), http.StatusOK)
		})
		b.Run(dialect+"-parallel", func(b *testing.B) {
			h, token, path := updateServer(b, dialect)
			apitest.BenchParallel(b, h, func() *apitest.Creates { return updates(path, token) }, http.StatusOK, 8)
		})
	}
}

// BenchmarkArgon2id is the rate of bare argon2id derivations with the OWASP parameters, the
// ceiling of password-create throughput.
func BenchmarkArgon2id(b *testing.B) {
	p := password.OWASP
	pw := []byte("correct horse battery staple")
	salt := bytes.Repeat([]byte{1}, p.SaltLen)
	b.Run("sequential", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
			}
		})
	})
}

// TestBenchmarkHandlers runs every benchmark's handler once as a test, so that a broken
// benchmark shows in go test, and that the fake stack refuses a taken login as the real one does.
func TestBenchmarkHandlers(t *testing.T) {
	for _, withPassword := range []bool{false, true} {
		body := createBody(withPassword)
		h, token := benchServer(t, "sqlite")
		for name, c := range map[string]struct {
			h     http.Handler
			token string
		}{"bare": {bareHandler(), ""}, "fake": {fakeHandler(t, false), fakeToken}, "fake-validate-responses": {fakeHandler(t, true), fakeToken}, "sqlite": {h, token}} {
			if name == "bare" && withPassword {
				continue
			}
			if rec := creates(body, c.token).Serve(c.h, http.StatusCreated); rec != nil {
				t.Fatalf("%s (password %v): status %d, want 201: %s", name, withPassword, rec.Code, rec.Body)
			}
		}
	}
	// The same login twice is refused by the fake stack as by the real one.
	h := fakeHandler(t, false)
	c := creates(createBody(false), fakeToken)
	_ = c.Serve(h, http.StatusCreated)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, c.Again())
	if rec.Code != http.StatusBadRequest || !bytes.Contains(rec.Body.Bytes(), []byte(`must be unique`)) {
		t.Errorf("duplicate login: %d %s, want 400 must be unique", rec.Code, rec.Body)
	}
}
