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
	apitest.StatementCount(t, func(t *testing.T, dialect string) (*apitest.Server, apitest.StatementCase) {
		x := start(t, dialect)
		return x.Server, apitest.StatementCase{Method: http.MethodPost, Path: "/api/users", Header: []string{"Authorization", x.auth}}
	}, apitest.StatementCase{Name: "warm", Body: create("signup_open", map[string]any{"email": "taken@example.com"}), Status: http.StatusCreated}, []apitest.StatementCase{
		{Name: "plain", Body: create("signup_open", map[string]any{"email": "plain@example.com"}), Status: http.StatusCreated, Want: 2},
		{Name: "email taken", Body: create("signup_open", map[string]any{"email": "TAKEN@example.com"}), Status: http.StatusUnprocessableEntity, Want: 2},
		{Name: "field not allowed and email taken", Body: create("signup_open", map[string]any{"email": "TAKEN@example.com", "middle_name": "M"}),
			Status: http.StatusUnprocessableEntity, Want: 2},
	})
}
