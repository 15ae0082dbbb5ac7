package activeplatform_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
)

// TestCreateStatements pins the statements a create runs once the credential is cached: the
// INSERT … RETURNING, and when custom attributes are sent the attribute definitions read once,
// to check them and to name them in the answer; a taken email is the insert's unique violation,
// not looked up beforehand.
func TestCreateStatements(t *testing.T) {
	plain := john("plain@example.com")
	delete(plain, "custom_attributes")
	apitest.StatementCount(t, func(t *testing.T, dialect string) (*apitest.Server, apitest.StatementCase) {
		x := start(t, dialect, nil)
		return x.Server, apitest.StatementCase{Method: http.MethodPost, Path: "/api/vendor/v1/users?api_token=" + url.QueryEscape(x.token)}
	}, apitest.StatementCase{Name: "warm", Body: john("taken@example.com"), Status: http.StatusCreated}, []apitest.StatementCase{
		{Name: "plain", Body: plain, Status: http.StatusCreated, Want: 1},
		{Name: "custom attributes", Body: john("attrs@example.com"), Status: http.StatusCreated, Want: 2},
		{Name: "email taken", Body: john("TAKEN@example.com"), Status: http.StatusUnprocessableEntity, Want: 2},
	})
}

// TestAccessStatements pins the statements of an attachment and of an account's users: the user
// and the account looked up in one statement, then the INSERT, whose keys decide a duplicate
// (looked up only then, to name it); the account, then its users with their status, then the
// attribute definitions their custom attributes are named by.
func TestAccessStatements(t *testing.T) {
	// A token the cases' paths can carry: the fixtures' credential.
	const token = "statements-activeplatform-token-0001"
	path := func(query string) string { return "/api/v2/vendor/account_accesses?api_token=" + token + "&" + query }
	apitest.StatementCount(t, func(t *testing.T, dialect string) (*apitest.Server, apitest.StatementCase) {
		x := start(t, dialect, nil)
		apply(t, x, "credentials:\n  - {api: activeplatform, secret: "+token+"}\n"+accountsDoc, false)
		x.created(t, "ann@example.com")
		x.created(t, "bob@example.com")
		return x.Server, apitest.StatementCase{Method: http.MethodPost}
	}, apitest.StatementCase{Name: "warm", Path: path("account_id=7&user_id=1"), Status: http.StatusCreated}, []apitest.StatementCase{
		{Name: "attach", Path: path("account_id=8&user_id=1"), Status: http.StatusCreated, Want: 2},
		{Name: "attached twice", Path: path("account_id=8&user_id=1&role=admin"), Status: http.StatusUnprocessableEntity, Want: 3},
		{Name: "unknown user", Path: path("account_id=8&user_id=99"), Status: http.StatusNotFound, Want: 1},
		// And the attribute definitions, to name the users' custom attributes.
		{Name: "account users", Method: http.MethodGet, Path: "/api/vendor/v1/accounts/7/users?api_token=" + token, Status: http.StatusOK, Want: 3},
	})
}
