package occadmin_test

import (
	"net/http"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
)

// TestCreateStatements pins the statements a create runs once the access token is issued: the
// roles read (the rules need every role's privileges) and the INSERT … RETURNING; a taken email
// is the insert's unique violation, looked up beforehand only when another problem is answered
// with it.
func TestCreateStatements(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		create := func(name string, body map[string]any, status, want int) apitest.StatementCase {
			return apitest.StatementCase{Name: name, Method: http.MethodPost, Path: "/ccadmin/v1/adminProfiles/", Body: body,
				Header: []string{"Authorization", "Bearer " + x.token}, Status: status, Want: want}
		}
		unknownRole := profile("taken@example.com")
		unknownRole["roles"] = []string{"noSuchRole"}
		withPassword := profile("password@example.com")
		withPassword["password"] = "Secret-Passw0rd!"
		apitest.StatementCount(t, x.Server, create("warm", profile("taken@example.com"), http.StatusOK, 0), []apitest.StatementCase{
			create("plain", profile("plain@example.com"), http.StatusOK, 2),
			create("password", withPassword, http.StatusOK, 2),
			create("email taken", profile("TAKEN@example.com"), http.StatusBadRequest, 2),
			create("unknown role and email taken", unknownRole, http.StatusBadRequest, 2),
		})
	})
}
