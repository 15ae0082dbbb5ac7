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
