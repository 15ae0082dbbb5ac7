package platformos_test

import (
	"net/http"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
)

// TestCreateStatements pins the statements a create runs once the credential is cached: the form
// configuration read and the INSERT … RETURNING; a taken email is the insert's unique violation,
// looked up beforehand only when another problem is answered with it.
func TestCreateStatements(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		post := func(name string, fields map[string]any, status, want int) apitest.StatementCase {
			return apitest.StatementCase{Name: name, Method: http.MethodPost, Path: "/api/users", Body: create("signup_open", fields),
				Header: []string{"Authorization", x.auth}, Status: status, Want: want}
		}
		apitest.StatementCount(t, x.Server, post("warm", map[string]any{"email": "taken@example.com"}, http.StatusCreated, 0), []apitest.StatementCase{
			post("plain", map[string]any{"email": "plain@example.com"}, http.StatusCreated, 2),
			post("email taken", map[string]any{"email": "TAKEN@example.com"}, http.StatusUnprocessableEntity, 2),
			post("field not allowed and email taken", map[string]any{"email": "TAKEN@example.com", "middle_name": "M"}, http.StatusUnprocessableEntity, 2),
		})
	})
}
