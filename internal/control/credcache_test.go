package control_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/config"
)

// adminJWT creates an X-Cart administrator with a password and returns a bearer header with its
// JWT, and its id.
func (c *ctl) adminJWT(t *testing.T, login string) ([]string, float64) {
	t.Helper()
	res := c.Call(t, "POST", "/api/profiles", map[string]any{"login": login, "password": "admin-password", "access_level": 100}, "X-Auth-Token", c.Keys["xcart"])
	if res.Status != http.StatusCreated {
		t.Fatalf("create %s: %d %s", login, res.Status, res.Body)
	}
	id := res.Map(t)["id"].(float64)
	res = c.Call(t, "POST", "/api-login/check", map[string]any{"username": login, "password": "admin-password"})
	if res.Status != http.StatusOK {
		t.Fatalf("login %s: %d %s", login, res.Status, res.Body)
	}
	return []string{"Authorization", "Bearer " + res.Map(t)["token"].(string)}, id
}

// status is the status of an authenticated X-Cart read on s.
func status(t *testing.T, s *apitest.Server, header ...string) int {
	t.Helper()
	return s.Call(t, "GET", "/api/profiles", nil, header...).Status
}

// TestResetForgetsWhatTheServerKeeps: a credential dropped by a reset, and the JWT of a profile
// that a reset removed, fail at once on the server that reset, though each was used (and so
// kept in memory) just before.
func TestResetForgetsWhatTheServerKeeps(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		c := start(t, dialect, apitest.Options{})
		key := []string{"X-Auth-Token", c.Keys["xcart"]}
		bearer, _ := c.adminJWT(t, "admin@example.com")
		if s := status(t, c.Server, key...); s != http.StatusOK {
			t.Fatalf("the X-Cart key: %d", s)
		}
		if s := status(t, c.Server, bearer...); s != http.StatusOK {
			t.Fatalf("the JWT: %d", s)
		}
		if res := c.control(t, "POST", "/reset?api=xcart&credentials=drop", nil); res.Status != http.StatusOK {
			t.Fatalf("reset: %d %s", res.Status, res.Body)
		}
		if s := status(t, c.Server, key...); s != http.StatusUnauthorized {
			t.Errorf("the dropped X-Cart key right after the reset: %d, want 401", s)
		}
		if s := status(t, c.Server, bearer...); s != http.StatusUnauthorized {
			t.Errorf("the JWT of a profile the reset removed: %d, want 401", s)
		}
	})
}

// TestRevocationAcrossInstances runs two servers on one database: what one revokes, the other
// refuses once its cache lifetime has passed (its clock is moved by that much), never later.
func TestRevocationAcrossInstances(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		a := start(t, dialect, apitest.Options{})
		b := apitest.Start(t, dialect, apitest.Options{DatabaseURL: a.Config.DatabaseURL})
		ttl := b.Config.CredentialCacheTTL
		key := []string{"X-Auth-Token", a.Keys["xcart"]}
		bearer, admin := a.adminJWT(t, "admin@example.com")
		a.adminJWT(t, "other@example.com") // so that admin is not the last administrator
		for _, h := range [][]string{key, bearer} {
			if s := status(t, b, h...); s != http.StatusOK {
				t.Fatalf("%s on the second server: %d", h[0], s)
			}
		}

		// A profile disabled on a: its JWT works on b until b's entry expires.
		if res := a.Call(t, "PUT", fmt.Sprintf("/api/profiles/%v", admin), map[string]any{"status": "D"}, key...); res.Status != http.StatusOK {
			t.Fatalf("disable: %d %s", res.Status, res.Body)
		}
		if s := status(t, a.Server, bearer...); s != http.StatusUnauthorized {
			t.Errorf("the JWT of a disabled profile on the server that disabled it: %d, want 401", s)
		}
		if s := status(t, b, bearer...); s != http.StatusOK {
			t.Errorf("the JWT on the other server, within the cache lifetime: %d, want 200 (kept)", s)
		}
		b.Clock.Advance(ttl)
		if s := status(t, b, bearer...); s != http.StatusUnauthorized {
			t.Errorf("the JWT of a disabled profile on the other server after %s: %d, want 401", ttl, s)
		}

		// A credential dropped on a: refused on b once b's entry expires.
		if s := status(t, b, key...); s != http.StatusOK { // kept again, from b's new time
			t.Fatalf("the key on the second server: %d", s)
		}
		if res := a.control(t, "POST", "/reset?api=xcart&credentials=drop", nil); res.Status != http.StatusOK {
			t.Fatalf("reset: %d %s", res.Status, res.Body)
		}
		if s := status(t, b, key...); s != http.StatusOK {
			t.Errorf("the dropped key on the other server, within the cache lifetime: %d, want 200 (kept)", s)
		}
		b.Clock.Advance(ttl)
		if s := status(t, b, key...); s != http.StatusUnauthorized {
			t.Errorf("the dropped key on the other server after %s: %d, want 401", ttl, s)
		}
	})
}

// TestCacheOff: with PROVISIOND_CREDENTIAL_CACHE_TTL=0 a revocation elsewhere shows at once.
func TestCacheOff(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		a := start(t, dialect, apitest.Options{})
		b := apitest.Start(t, dialect, apitest.Options{DatabaseURL: a.Config.DatabaseURL, Configure: func(c *config.Config) { c.CredentialCacheTTL = 0 }})
		key := []string{"X-Auth-Token", a.Keys["xcart"]}
		if s := status(t, b, key...); s != http.StatusOK {
			t.Fatalf("the key on the second server: %d", s)
		}
		if res := a.control(t, "POST", "/reset?api=xcart&credentials=drop", nil); res.Status != http.StatusOK {
			t.Fatalf("reset: %d %s", res.Status, res.Body)
		}
		if s := status(t, b, key...); s != http.StatusUnauthorized {
			t.Errorf("the dropped key on a server without cache: %d, want 401", s)
		}
	})
}
