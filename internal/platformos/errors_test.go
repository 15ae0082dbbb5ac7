package platformos

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

// TestRender: every kind of error, as platformOS's {id, errors} envelope.
func TestRender(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		status int
		body   string
	}{
		{"internal", errors.New("disk on fire"), 500, `{"errors":{"base":["Internal Server Error"]},"id":null}`},
		{"apperr internal", apperr.Internal(errors.New("x")), 500, `{"errors":{"base":["Internal Server Error"]},"id":null}`},
		{"unavailable", apperr.Unavailable(errors.New("db down")), 503, `{"errors":{"base":["Service Unavailable"]},"id":null}`},
		{"internal wrapping unavailable", apperr.Internal(fmt.Errorf("read: %w", apperr.Unavailable(errors.New("db down")))), 503, `{"errors":{"base":["Service Unavailable"]},"id":null}`},
		{"unavailable among invalid", errors.Join(apperr.Invalid("email", "blank", "can't be blank"), apperr.Unavailable(errors.New("db down"))), 503, `{"errors":{"base":["Service Unavailable"]},"id":null}`},
		{"invalid", errors.Join(apperr.Invalid("email", "blank", "can't be blank"), apperr.Invalid("password", "too_short", "is too short (minimum is 6 characters)")), 422,
			`{"errors":{"email":["can't be blank"],"password":["is too short (minimum is 6 characters)"]},"id":null}`},
		{"conflict", errEmailTaken, 422, `{"errors":{"email":["has already been taken"]},"id":null}`},
		{"not acceptable", errFormConfiguration("exists", "is not a known form configuration"), 406, `{"errors":{"form_configuration_name":["is not a known form configuration"]},"id":null}`},
		{"not found", errUserNotFound, 404, `{"errors":{"base":["User not found"]},"id":null}`},
		{"unauthenticated", apperr.Unauthenticated("Invalid Authentication"), 401, `{"errors":{"base":["Invalid Authentication"]},"id":null}`},
		{"route not found", echo.ErrNotFound, 404, `{"errors":{"base":["Not Found"]},"id":null}`},
		{"too large", &http.MaxBytesError{Limit: 10}, 413, `{"errors":{"base":["Request Entity Too Large"]},"id":null}`},
		{"syntax", &httpserver.InvalidRequest{Issues: []httpserver.Issue{{In: "body", Rule: "syntax"}}}, 400, `{"errors":{"base":["is not valid JSON"]},"id":null}`},
		{"schema", &httpserver.InvalidRequest{Issues: []httpserver.Issue{{In: "body", Field: "form.email", Rule: "required"}, {In: "body", Field: "form.featured", Rule: "type"}}}, 422,
			`{"errors":{"email":["can't be blank"],"featured":["is invalid"]},"id":null}`},
		{"U+0000 with other problems", &httpserver.InvalidRequest{Issues: []httpserver.Issue{{In: "body", Field: "form.first_name", Rule: "pattern"}, {In: "body", Field: "form_name", Rule: "pattern"}, {In: "body", Field: "form.featured", Rule: "type"}}}, 422,
			`{"errors":{"featured":["is invalid"],"first_name":["is invalid"],"form_name":["is invalid"]},"id":null}`},
		{"no form configuration named", &httpserver.InvalidRequest{Issues: []httpserver.Issue{{In: "body", Field: "form.featured", Rule: "type"}, {In: "body", Rule: "anyOf"}}}, 406,
			`{"errors":{"form_configuration_name":["can't be blank"]},"id":null}`},
		{"user id that cannot exist", &httpserver.InvalidRequest{Issues: []httpserver.Issue{{In: "body", Rule: "anyOf"}, {In: "path", Field: "user_id", Rule: "maximum"}}}, 404,
			`{"errors":{"base":["User not found"]},"id":null}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Render(c.err, "/api/users")
			got, err := json.Marshal(r.Body)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != c.status || r.ContentType != mediaType || string(got) != c.body {
				t.Errorf("Render(%v) = %d %s %s, want %d %s %s", c.err, r.Status, r.ContentType, got, c.status, mediaType, c.body)
			}
		})
	}
	// The wire bodies, every case at once, reviewed as one file (go test -update rewrites it).
	wire := map[string]golden.Response{}
	for _, c := range cases {
		r := Render(c.err, "/api/users")
		wire[c.name] = golden.NewResponse(t, r.Status, r.ContentType, r.Body)
	}
	golden.JSON(t, "testdata/render.json", wire)
}
