package activeplatform_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
)

// TestCreateStatements pins the statements a create runs once the credential is cached: the
// INSERT … RETURNING, and when custom attributes are sent the attribute definitions read to
// check them and again to name them in the answer; a taken email is the insert's unique
// violation, not looked up beforehand.
func TestCreateStatements(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect, nil)
		post := func(name string, body map[string]any, status, want int) apitest.StatementCase {
			return apitest.StatementCase{Name: name, Method: http.MethodPost, Path: "/api/vendor/v1/users?api_token=" + url.QueryEscape(x.token),
				Body: body, Status: status, Want: want}
		}
		plain := john("plain@example.com")
		delete(plain, "custom_attributes")
		apitest.StatementCount(t, x.Server, post("warm", john("taken@example.com"), http.StatusCreated, 0), []apitest.StatementCase{
			post("plain", plain, http.StatusCreated, 1),
			post("custom attributes", john("attrs@example.com"), http.StatusCreated, 3),
			post("email taken", john("TAKEN@example.com"), http.StatusUnprocessableEntity, 2),
		})
	})
}
