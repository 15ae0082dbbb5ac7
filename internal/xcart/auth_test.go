package xcart_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/apitest"
)

func login(t *testing.T, x *xc, username, password any) *apitest.Response {
	t.Helper()
	return x.Call(t, "POST", "/api-login/check", map[string]any{"username": username, "password": password})
}

func TestAuthentication(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		for _, c := range []struct {
			name   string
			header []string
			detail string
		}{
			{"no credential", nil, "Full authentication is required to access this resource."},
			{"unknown key", []string{"X-Auth-Token", "not-a-key-of-this-server"}, "Invalid API key."},
			{"empty bearer", []string{"Authorization", "Bearer "}, "Full authentication is required to access this resource."},
			{"bearer garbage", []string{"Authorization", "Bearer abc.def.ghi"}, "Invalid JWT Token"},
			{"basic auth", []string{"Authorization", "Basic YTpi"}, "Full authentication is required to access this resource."},
		} {
			for _, m := range []string{"GET", "POST"} {
				res := x.Call(t, m, "/api/profiles", map[string]any{"login": "nobody@example.com"}, c.header...)
				if res.Status != http.StatusUnauthorized || detail(t, res) != c.detail {
					t.Errorf("%s %s: %d %s, want 401 %q", c.name, m, res.Status, res.Body, c.detail)
				}
			}
		}
		// Security comes before the body: a malformed body without a credential is a 401.
		if res := x.Call(t, "POST", "/api/profiles", `{"login":`); res.Status != http.StatusUnauthorized {
			t.Errorf("malformed body without credential: %d, want 401", res.Status)
		}
	})
}

func TestJWTLogin(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		admin := id(t, x.create(t, map[string]any{"login": "Admin@example.com", "password": "admin-password", "access_level": 100}))
		x.create(t, map[string]any{"login": "customer@example.com", "password": "customer-password"})
		x.create(t, map[string]any{"login": "disabled@example.com", "password": "disabled-password", "access_level": 100, "status": "D"})
		x.create(t, map[string]any{"login": "nopass@example.com", "access_level": 100})

		for _, c := range []struct {
			name               string
			username, password any
		}{
			{"wrong password", "admin@example.com", "not-the-password"},
			{"unknown login", "ghost@example.com", "admin-password"},
			{"customer", "customer@example.com", "customer-password"},
			{"disabled administrator", "disabled@example.com", "disabled-password"},
			{"administrator without password", "nopass@example.com", ""},
		} {
			res := login(t, x, c.username, c.password)
			m := res.Map(t)
			if res.Status != http.StatusUnauthorized || m["code"] != 401.0 || m["message"] != "Invalid credentials." || m["detail"] != "Invalid credentials." {
				t.Errorf("login %s: %d %s, want 401 Invalid credentials.", c.name, res.Status, res.Body)
			}
		}
		for _, c := range []struct {
			name   string
			body   any
			detail string
		}{
			{"no username", map[string]any{"password": "x"}, `The key "username" must be provided.`},
			{"numeric password", map[string]any{"username": "a", "password": 5}, `The key "password" must be a string.`},
			{"malformed", `{"username":`, "Syntax error"},
		} {
			res := x.Call(t, "POST", "/api-login/check", c.body)
			if res.Status != http.StatusBadRequest || detail(t, res) != c.detail {
				t.Errorf("login %s: %d %s, want 400 %q", c.name, res.Status, res.Body, c.detail)
			}
		}

		// The login is matched in any letter case.
		res := login(t, x, "ADMIN@example.com", "admin-password")
		if res.Status != http.StatusOK {
			t.Fatalf("login: %d %s, want 200", res.Status, res.Body)
		}
		token, _ := res.Map(t)["token"].(string)
		bearer := []string{"Authorization", "Bearer " + token}
		if res := x.Call(t, "GET", "/api/profiles", nil, bearer...); res.Status != http.StatusOK {
			t.Errorf("GET with JWT: %d %s", res.Status, res.Body)
		}
		if res := x.Call(t, "POST", "/api/profiles", map[string]any{"login": "viajwt@example.com"}, bearer...); res.Status != http.StatusCreated {
			t.Errorf("POST with JWT: %d %s", res.Status, res.Body)
		}
		got := x.call(t, "GET", fmt.Sprintf("/api/profiles/%d", admin), nil).Map(t)
		if got["first_login_date"] != "2026-01-02T03:04:05Z" || got["last_login_date"] != "2026-01-02T03:04:05Z" {
			t.Errorf("login dates %v / %v, want the login time", got["first_login_date"], got["last_login_date"])
		}

		// A tampered token is refused.
		parts := strings.Split(token, ".")
		tampered := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
		if res := x.Call(t, "GET", "/api/profiles", nil, "Authorization", "Bearer "+tampered); res.Status != http.StatusUnauthorized || detail(t, res) != "Invalid JWT Token" {
			t.Errorf("tampered JWT: %d %s, want 401 Invalid JWT Token", res.Status, res.Body)
		}
		// An unsigned token (alg none) is refused.
		if res := x.Call(t, "GET", "/api/profiles", nil, "Authorization", "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."+parts[1]+"."); res.Status != http.StatusUnauthorized {
			t.Errorf("alg none JWT: %d %s, want 401", res.Status, res.Body)
		}

		// A token expires after an hour.
		x.Clock.Advance(59 * time.Minute)
		if res := x.Call(t, "GET", "/api/profiles", nil, bearer...); res.Status != http.StatusOK {
			t.Errorf("JWT after 59 minutes: %d %s, want 200", res.Status, res.Body)
		}
		x.Clock.Advance(2 * time.Minute)
		if res := x.Call(t, "GET", "/api/profiles", nil, bearer...); res.Status != http.StatusUnauthorized || detail(t, res) != "Expired JWT Token" {
			t.Errorf("JWT after 61 minutes: %d %s, want 401 Expired JWT Token", res.Status, res.Body)
		}
	})
}

func TestJWTOfDisabledOrDeletedProfile(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		a := id(t, x.create(t, map[string]any{"login": "a@example.com", "password": "a-password", "access_level": 100}))
		x.create(t, map[string]any{"login": "b@example.com", "password": "b-password", "access_level": 100})
		tokenOf := func(user, pw string) []string {
			res := login(t, x, user, pw)
			if res.Status != http.StatusOK {
				t.Fatalf("login %s: %d %s", user, res.Status, res.Body)
			}
			return []string{"Authorization", "Bearer " + res.Map(t)["token"].(string)}
		}
		bearer := tokenOf("a@example.com", "a-password")
		for _, change := range []struct {
			name string
			body map[string]any
		}{
			{"disabled", map[string]any{"status": "D"}},
			{"demoted", map[string]any{"access_level": 0}},
			{"password removed", map[string]any{"password": nil}},
		} {
			if res := x.call(t, "PUT", fmt.Sprintf("/api/profiles/%d", a), change.body); res.Status != http.StatusOK {
				t.Fatalf("PUT %v: %d %s", change.body, res.Status, res.Body)
			}
			if res := x.Call(t, "GET", "/api/profiles", nil, bearer...); res.Status != http.StatusUnauthorized {
				t.Errorf("JWT of a %s profile: %d, want 401", change.name, res.Status)
			}
			restore := map[string]any{"status": "E", "access_level": 100, "password": "a-password"}
			if res := x.call(t, "PUT", fmt.Sprintf("/api/profiles/%d", a), restore); res.Status != http.StatusOK {
				t.Fatalf("restore: %d %s", res.Status, res.Body)
			}
			if res := x.Call(t, "GET", "/api/profiles", nil, bearer...); res.Status != http.StatusOK {
				t.Errorf("JWT after restoring the profile: %d, want 200", res.Status)
			}
		}
		if res := x.call(t, "DELETE", fmt.Sprintf("/api/profiles/%d", a), nil); res.Status != http.StatusNoContent {
			t.Fatalf("DELETE: %d %s", res.Status, res.Body)
		}
		if res := x.Call(t, "GET", "/api/profiles", nil, bearer...); res.Status != http.StatusUnauthorized {
			t.Errorf("JWT of a deleted profile: %d, want 401", res.Status)
		}
	})
}
