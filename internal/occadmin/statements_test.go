package occadmin_test

import (
	"net/http"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
)

// TestCreateStatements pins the statements a create runs once the access token is issued: the
// token's revocation looked up (a logout ends a token on every instance, so no instance may
// remember that it was not revoked), the roles read (the rules need every role's privileges) and the INSERT … RETURNING; a taken email
// is the insert's unique violation, looked up beforehand only when another problem is answered
// with it.
func TestCreateStatements(t *testing.T) {
	unknownRole := profile("taken@example.com")
	unknownRole["roles"] = []string{"noSuchRole"}
	withPassword := profile("password@example.com")
	withPassword["password"] = "Secret-Passw0rd!"
	apitest.StatementCount(t, func(t *testing.T, dialect string) (*apitest.Server, apitest.StatementCase) {
		x := start(t, dialect)
		return x.Server, apitest.StatementCase{Method: http.MethodPost, Path: "/ccadmin/v1/adminProfiles/", Header: []string{"Authorization", "Bearer " + x.token}}
	}, apitest.StatementCase{Name: "warm", Body: profile("taken@example.com"), Status: http.StatusOK}, []apitest.StatementCase{
		{Name: "plain", Body: profile("plain@example.com"), Status: http.StatusOK, Want: 3},
		{Name: "password", Body: withPassword, Status: http.StatusOK, Want: 3},
		{Name: "email taken", Body: profile("TAKEN@example.com"), Status: http.StatusBadRequest, Want: 3},
		{Name: "unknown role and email taken", Body: unknownRole, Status: http.StatusBadRequest, Want: 3},
	})
}
