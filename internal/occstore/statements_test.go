package occstore_test

import (
	"net/http"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
)

// TestCreateStatements pins the statements a create runs: the caller read (its token names it),
// the organization it acts in (the first active one of its own, or the one X-CCOrganization
// names, with its membership, in one statement), and the member and its membership inserted in
// one transaction; a taken email is the insert's unique violation, looked up beforehand only
// when another problem is answered with it.
func TestCreateStatements(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		create := func(name string, body map[string]any, status, want, tx int, header ...string) apitest.StatementCase {
			return apitest.StatementCase{Name: name, Method: http.MethodPost, Path: "/ccstore/v1/organizationMembers", Body: body,
				Header: append([]string{"Authorization", "Bearer " + x.ada}, header...), Status: status, Want: want, Tx: tx}
		}
		reserved := member("taken@example.com")
		reserved["parentOrganization"] = "or-acme"
		apitest.StatementCount(t, x.Server, create("warm", member("taken@example.com"), http.StatusOK, 0, 0), []apitest.StatementCase{
			create("plain", member("plain@example.com"), http.StatusOK, 4, 2),
			create("organization named", member("named@example.com"), http.StatusOK, 4, 2, "X-CCOrganization", "or-globex"),
			create("email taken", member("TAKEN@example.com"), http.StatusBadRequest, 3, 1),
			create("reserved property and email taken", reserved, http.StatusBadRequest, 3, 0),
		})
	})
}
