package xcart_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/config"
)

// countReads counts the reads of each table through db from now on.
func countReads(t testing.TB, db *gorm.DB) map[string]*atomic.Int64 {
	t.Helper()
	counts := map[string]*atomic.Int64{"credentials": {}, "xcart_profiles": {}}
	name := fmt.Sprintf("test:count-%p", counts)
	err := db.Callback().Query().Before("gorm:query").Register(name, func(tx *gorm.DB) {
		if n, ok := counts[tx.Statement.Table]; ok {
			n.Add(1)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Callback().Query().Remove(name) })
	return counts
}

// TestAuthenticationReadsOncePerLifetime: a GET by id with an API key reads the credential only
// the first time, and one with a JWT reads its profile to authorize only the first time, until
// the entries expire (PROVISIOND_CREDENTIAL_CACHE_TTL); with the cache off, every time.
func TestAuthenticationReadsOncePerLifetime(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		for _, ttl := range []time.Duration{5 * time.Second, 0} {
			t.Run(ttl.String(), func(t *testing.T) {
				s := apitest.Start(t, dialect, apitest.Options{Configure: func(c *config.Config) { c.CredentialCacheTTL = ttl }})
				x := &xc{Server: s, key: s.Keys["xcart"]}
				admin := id(t, x.create(t, map[string]any{"login": "admin@example.com", "password": "admin-password", "access_level": 100}))
				res := login(t, x, "admin@example.com", "admin-password")
				if res.Status != http.StatusOK {
					t.Fatalf("login: %d %s", res.Status, res.Body)
				}
				bearer := []string{"Authorization", "Bearer " + res.Map(t)["token"].(string)}
				key := []string{"X-Auth-Token", x.key}
				path := fmt.Sprintf("/api/profiles/%d", admin)
				get := func() {
					for _, h := range [][]string{key, bearer} {
						if res := x.Call(t, "GET", path, nil, h...); res.Status != http.StatusOK {
							t.Fatalf("GET with %s: %d %s", h[0], res.Status, res.Body)
						}
					}
				}
				get() // fills the cache
				reads := countReads(t, s.DB)
				get()
				get()
				// Each GET reads its profile once itself; the JWT's authorization reads it again
				// only without the cache.
				wantCreds, wantProfiles := int64(0), int64(4)
				if ttl == 0 {
					wantCreds, wantProfiles = 2, 6
				}
				if n := reads["credentials"].Load(); n != wantCreds {
					t.Errorf("two GETs with the key read the credentials %d times, want %d", n, wantCreds)
				}
				if n := reads["xcart_profiles"].Load(); n != wantProfiles {
					t.Errorf("two GETs with each scheme read profiles %d times, want %d", n, wantProfiles)
				}
				if ttl == 0 {
					return
				}
				s.Clock.Advance(ttl)
				get()
				if n := reads["credentials"].Load(); n != 1 {
					t.Errorf("after the lifetime, the key was read %d times, want 1", n)
				}
				if n := reads["xcart_profiles"].Load(); n != 7 {
					t.Errorf("after the lifetime, profiles were read %d times in all, want 7", n)
				}
			})
		}
	})
}

// BenchmarkGetProfile measures one GET /api/profiles/{id} with an API key over SQLite (and
// PostgreSQL with PROVISIOND_TEST_DATABASE_URL), with the credential cache and without it.
func BenchmarkGetProfile(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		for _, ttl := range []time.Duration{5 * time.Second, 0} {
			name := dialect + "-cached"
			if ttl == 0 {
				name = dialect + "-uncached"
			}
			b.Run(name, func(b *testing.B) {
				s := apitest.Start(b, dialect, apitest.Options{Configure: func(c *config.Config) {
					c.ValidateResponses = false
					c.CredentialCacheTTL = ttl
				}})
				key := s.Keys["xcart"]
				rec := httptest.NewRecorder()
				s.Handler.ServeHTTP(rec, creates([]byte(`{"login":"bench`+apitest.CreateNumber+`@example.com"}`), key).Next())
				if rec.Code != http.StatusCreated {
					b.Fatalf("create: %d %s", rec.Code, rec.Body)
				}
				b.ResetTimer()
				for b.Loop() {
					req := httptest.NewRequest(http.MethodGet, "/api/profiles/1", nil)
					req.Header.Set("X-Auth-Token", key)
					rec := httptest.NewRecorder()
					s.Handler.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("GET: %d %s", rec.Code, rec.Body)
					}
				}
			})
		}
	}
}
