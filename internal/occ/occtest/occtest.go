// Package occtest holds the API tests both OCC APIs (occadmin, occstore) share: their token
// lifecycle is the same code (internal/occ), and so is its test.
package occtest

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
)

// API is what the shared tests need to know of one OCC API.
type API struct {
	// Login logs a new session in on s and returns its access token.
	Login func(t *testing.T, s *apitest.Server) string
	// Base is the API's path prefix, such as "/ccadmin/v1".
	Base string
	// Probe is a GET path any logged-in caller may read.
	Probe string
}

func (a API) call(t *testing.T, s *apitest.Server, token, method, path string) *apitest.Response {
	t.Helper()
	return s.Call(t, method, path, nil, "Authorization", "Bearer "+token)
}

// TestLogout checks logout over two instances a and b sharing one database: a logged-out token
// is refused by both (the revocation is in the database), on every operation (logout and refresh
// too), while the same caller's other tokens keep working; and many logouts at once, of distinct
// tokens and of one token, are each answered {"result": true} and each end their token.
func TestLogout(t *testing.T, api API, a, b *apitest.Server) {
	t.Helper()
	ended, kept := api.Login(t, a), api.Login(t, a)
	if ended == kept {
		t.Fatal("two logins of one caller in the same second gave the same token")
	}
	res := api.call(t, b, ended, "POST", api.Base+"/logout")
	if res.Status != http.StatusOK || string(res.Body) != "{\"result\":true}\n" {
		t.Fatalf("logout: %d %s, want 200 {\"result\":true}", res.Status, res.Body)
	}
	refused := func(token, why string) {
		t.Helper()
		for name, s := range map[string]*apitest.Server{"a": a, "b": b} {
			for _, c := range [][2]string{{"GET", api.Probe}, {"POST", api.Base + "/refresh"}, {"POST", api.Base + "/logout"}} {
				if res := api.call(t, s, token, c[0], c[1]); res.Status != http.StatusUnauthorized {
					t.Errorf("%s: %s %s on instance %s: %d %s, want 401", why, c[0], c[1], name, res.Status, res.Body)
				}
			}
		}
	}
	refused(ended, "a logged-out token")
	for name, s := range map[string]*apitest.Server{"a": a, "b": b} {
		if res := api.call(t, s, kept, "GET", api.Probe); res.Status != http.StatusOK {
			t.Errorf("another token of the same caller on instance %s: %d %s, want 200", name, res.Status, res.Body)
		}
	}

	// Many logouts at once: each of its own token, half on each instance, and four of one token.
	const n = 8
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = api.Login(t, a)
	}
	shared := api.Login(t, b)
	answers := apitest.Concurrently(n+4, func(i int) *apitest.Response {
		s, token := a, shared
		if i%2 == 1 {
			s = b
		}
		if i < n {
			token = tokens[i]
		}
		return api.call(t, s, token, "POST", api.Base+"/logout")
	})
	for i, res := range answers {
		var body struct{ Result bool }
		if res.Status != http.StatusOK || json.Unmarshal(res.Body, &body) != nil || !body.Result {
			// A concurrent logout of the shared token may find it already ended: 401.
			if i >= n && res.Status == http.StatusUnauthorized {
				continue
			}
			t.Errorf("concurrent logout %d: %d %s, want 200 {\"result\":true}", i, res.Status, res.Body)
		}
	}
	for _, token := range append(tokens, shared) {
		refused(token, "a token logged out concurrently")
	}
	if res := api.call(t, a, kept, "GET", api.Probe); res.Status != http.StatusOK {
		t.Errorf("the kept token after the concurrent logouts: %d %s, want 200", res.Status, res.Body)
	}
}
