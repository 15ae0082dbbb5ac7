package xcart_test

import (
	"net/http"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
)

// TestCreateStatements pins the statements a create runs once the credential is cached: the
// INSERT … RETURNING alone, and one look-up more for the memberships and roles it names.
func TestCreateStatements(t *testing.T) {
	apitest.StatementCount(t, func(t *testing.T, dialect string) (*apitest.Server, apitest.StatementCase) {
		x := start(t, dialect)
		return x.Server, apitest.StatementCase{Method: http.MethodPost, Path: "/api/profiles", Header: []string{"X-Auth-Token", x.key}}
	}, apitest.StatementCase{Name: "warm", Body: map[string]any{"login": "warm@example.com"}, Status: http.StatusCreated}, []apitest.StatementCase{
		{Name: "plain", Body: map[string]any{"login": "plain@example.com"}, Status: http.StatusCreated, Want: 1},
		{Name: "membership", Body: map[string]any{"login": "member@example.com", "membership_id": 1}, Status: http.StatusCreated, Want: 2},
		{Name: "roles", Body: map[string]any{"login": "roles@example.com", "role_ids": []int{1}}, Status: http.StatusCreated, Want: 2},
		{Name: "membership and roles", Body: map[string]any{"login": "both@example.com", "membership_id": 1, "role_ids": []int{1, 2}}, Status: http.StatusCreated, Want: 2},
	})
}
