package activeplatform

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/golden"
	"github.com/provisiond/provisiond/internal/httpserver"
)

// TestRender: every kind of error, as Grape's {"error": …}.
func TestRender(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		status int
		body   string
	}{
		{"internal", errors.New("disk on fire"), 500, `{"error":"Internal Server Error"}`},
		{"apperr internal", apperr.Internal(errors.New("x")), 500, `{"error":"Internal Server Error"}`},
		{"unavailable", apperr.Unavailable(errors.New("db down")), 503, `{"error":"Service Unavailable"}`},
		{"internal wrapping unavailable", apperr.Internal(fmt.Errorf("list: %w", apperr.Unavailable(errors.New("db down")))), 503, `{"error":"Service Unavailable"}`},
		{"unavailable among invalid", errors.Join(invalid("password", "password is too weak"), apperr.Unavailable(errors.New("db down"))), 503, `{"error":"Service Unavailable"}`},
		{"invalid", errors.Join(invalid("email", "email cannot be changed"), invalid("password", "password is too weak")), 400, `{"error":"email cannot be changed, password is too weak"}`},
		{"conflict", errEmailTaken, 422, `{"error":"Email has already been taken"}`},
		{"not found", notFound(7), 404, `{"error":"Couldn't find User with 'id'=7"}`},
		{"account not found", accountNotFound(2000533), 404, `{"error":"Couldn't find Account with 'id'=2000533"}`},
		{"access taken", errAccessTaken, 422, `{"error":"User has already been taken"}`},
		{"owner taken", errOwnerTaken, 422, `{"error":"Account already has an owner"}`},
		{"missing query parameters", &httpserver.InvalidRequest{Issues: []httpserver.Issue{
			{In: "query", Field: "account_id", Rule: "required"},
			{In: "query", Field: "role", Rule: "enum"},
		}}, 400, `{"error":"account_id is missing, role does not have a valid value"}`},
		{"unauthenticated", apperr.Unauthenticated("401 Unauthorized"), 401, `{"error":"401 Unauthorized"}`},
		{"route not found", echo.ErrNotFound, 404, `{"error":"404 Not Found"}`},
		{"too large", &http.MaxBytesError{Limit: 10}, 413, `{"error":"413 Request Entity Too Large"}`},
		{"syntax", &httpserver.InvalidRequest{Issues: []httpserver.Issue{{In: "body", Rule: "syntax"}}}, 400, `{"error":"body is not valid JSON"}`},
		{"path", &httpserver.InvalidRequest{Issues: []httpserver.Issue{{In: "path", Field: "id", Rule: "type"}}}, 404, `{"error":"Couldn't find User with 'id'=abc"}`},
		{"password by the schema", &httpserver.InvalidRequest{Issues: []httpserver.Issue{
			{In: "body", Field: "password", Rule: "minLength", Value: "ab1"},
			{In: "body", Field: "password", Rule: "pattern", Value: "ab1"},
			{In: "body", Field: "first_name", Rule: "pattern", Value: "A\x00"},
		}}, 400, `{"error":"first_name is invalid, password is too weak: at least 8 characters, a letter, a digit"}`},
		{"password with U+0000", &httpserver.InvalidRequest{Issues: []httpserver.Issue{
			{In: "body", Field: "password", Rule: "pattern", Value: "abcdefg1\x00"},
		}}, 400, `{"error":"password is invalid"}`},
		{"query ids out of range", &httpserver.InvalidRequest{Issues: []httpserver.Issue{
			{In: "query", Field: "account_id", Rule: "minimum", Value: 0},
			{In: "query", Field: "user_id", Rule: "type", Value: "9223372036854775808"},
		}}, 404, `{"error":"Couldn't find User with 'id'=9223372036854775808"}`},
		{"missing and invalid", &httpserver.InvalidRequest{Issues: []httpserver.Issue{
			{In: "body", Field: "email", Rule: "format"},
			{In: "body", Field: "first_name", Rule: "required"},
			{In: "body", Field: "custom_attributes[0].key", Rule: "type"},
		}}, 400, `{"error":"first_name is missing, email is invalid, custom_attributes[0][key] is invalid"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Render(c.err, base+"/abc.json")
			got, err := json.Marshal(r.Body)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != c.status || r.ContentType != "application/json" || string(got) != c.body {
				t.Errorf("Render(%v) = %d %s %s, want %d application/json %s", c.err, r.Status, r.ContentType, got, c.status, c.body)
			}
		})
	}
	// The wire bodies, every case at once, reviewed as one file (go test -update rewrites it).
	wire := map[string]golden.Response{}
	for _, c := range cases {
		r := Render(c.err, base+"/abc.json")
		wire[c.name] = golden.NewResponse(t, r.Status, r.ContentType, r.Body)
	}
	golden.JSON(t, "testdata/render.json", wire)
}

// TestRenderPathOfAccount: an account id that is none is the account's 404, with the id as sent.
func TestRenderPathOfAccount(t *testing.T) {
	invalid := &httpserver.InvalidRequest{Issues: []httpserver.Issue{{In: "path", Field: "id", Rule: "type"}}}
	for path, want := range map[string]string{
		accounts + "/abc/users":      `{"error":"Couldn't find Account with 'id'=abc"}`,
		accounts + "/abc/users.json": `{"error":"Couldn't find Account with 'id'=abc"}`,
		base + "/abc":                `{"error":"Couldn't find User with 'id'=abc"}`,
	} {
		r := Render(invalid, path)
		got, err := json.Marshal(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != http.StatusNotFound || string(got) != want {
			t.Errorf("Render(path issue, %s) = %d %s, want 404 %s", path, r.Status, got, want)
		}
	}
}
