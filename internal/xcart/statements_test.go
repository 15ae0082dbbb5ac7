package xcart_test

import (
	"net/http"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
)

// TestCreateStatements pins the statements a create runs once the credential is cached: the
// INSERT … RETURNING alone, and one look-up more for the memberships and roles it names.
func TestCreateStatements(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		create := func(name string, body map[string]any, want int) apitest.StatementCase {
			return apitest.StatementCase{Name: name, Method: http.MethodPost, Path: "/api/profiles", Body: body,
				Header: []string{"X-Auth-Token", x.key}, Status: http.StatusCreated, Want: want}
		}
		apitest.StatementCount(t, x.Server, create("warm", map[string]any{"login": "warm@example.com"}, 0), []apitest.StatementCase{
			create("plain", map[string]any{"login": "plain@example.com"}, 1),
			create("membership", map[string]any{"login": "member@example.com", "membership_id": 1}, 2),
			create("roles", map[string]any{"login": "roles@example.com", "role_ids": []int{1}}, 2),
			create("membership and roles", map[string]any{"login": "both@example.com", "membership_id": 1, "role_ids": []int{1, 2}}, 2),
		})
	})
}
