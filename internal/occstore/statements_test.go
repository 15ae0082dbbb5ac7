package occstore_test

import (
	"net/http"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
)

// TestCreateStatements pins the statements a create runs: the token's revocation looked up (a
// logout ends a token on every instance, so no instance may remember that it was not revoked),
// the caller read (its token names it),
// the organization it acts in (the first active one of its own, or the one X-CCOrganization
// names, with its membership, in one statement), and the member and its membership inserted in
// one transaction; a taken email is the insert's unique violation, looked up beforehand only
// when another problem is answered with it.
func TestCreateStatements(t *testing.T) {
	reserved := member("taken@example.com")
	reserved["parentOrganization"] = "or-acme"
	apitest.StatementCount(t, func(t *testing.T, dialect string) (*apitest.Server, apitest.StatementCase) {
		x := start(t, dialect)
		return x.Server, apitest.StatementCase{Method: http.MethodPost, Path: "/ccstore/v1/organizationMembers", Header: []string{"Authorization", "Bearer " + x.ada}}
	}, apitest.StatementCase{Name: "warm", Body: member("taken@example.com"), Status: http.StatusOK}, []apitest.StatementCase{
		{Name: "plain", Body: member("plain@example.com"), Status: http.StatusOK, Want: 5, Tx: 2},
		{Name: "organization named", Body: member("named@example.com"), Status: http.StatusOK, Want: 5, Tx: 2,
			Header: []string{"X-CCOrganization", "or-globex"}},
		{Name: "email taken", Body: member("TAKEN@example.com"), Status: http.StatusBadRequest, Want: 4, Tx: 1},
		{Name: "reserved property and email taken", Body: reserved, Status: http.StatusBadRequest, Want: 4},
	})
}
