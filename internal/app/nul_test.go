package app_test

import (
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
)

// TestNULIsRefusedEverywhere checks that U+0000, which PostgreSQL text cannot hold, is refused
// in the vendor's own format wherever a request carries text — never a 500.
func TestNULIsRefusedEverywhere(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s := apitest.Start(t, dialect, apitest.Options{})
		x := []string{"X-Auth-Token", s.Keys["xcart"]}
		p := []string{"Authorization", "Token token=" + s.Keys["platformos"]}
		form := []string{"Content-Type", "application/x-www-form-urlencoded"}
		for _, c := range []struct {
			name, method, path string
			body               any
			header             []string
			status             int
		}{
			{"xcart body", "POST", "/api/profiles", `{"login":"nul@example.com","status_comment":"a\u0000b"}`, x, 422},
			{"xcart query", "GET", "/api/profiles?login=a%00b", nil, x, 400},
			{"occstore login form", "POST", "/ccstore/v1/login", "grant_type=password&username=a%00b@example.com&password=x", form, 400},
			{"platformos body", "POST", "/api/users", `{"form_configuration_name":"reference_rest_api_create_user","form":{"email":"nul@example.com","password":"abcdef","first_name":"A\u0000B"}}`, p, 422},
			{"platformos session", "POST", "/api/sessions", `{"form_configuration_name":"reference_rest_api_create_session","form":{"email":"a\u0000@example.com","password":"abcdef"}}`, p, 422},
		} {
			res := s.Call(t, c.method, c.path, c.body, c.header...)
			if res.Status != c.status {
				t.Errorf("%s: %d %s, want %d", c.name, res.Status, res.Body, c.status)
			}
		}
	})
}
