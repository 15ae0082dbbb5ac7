package occ

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

func TestRender(t *testing.T) {
	d := Dialect{Special: func(is httpserver.Issue, path string) (Issue, bool) {
		if is.Field == "roles" {
			return Issue{Code: "89002", Message: "roles", Path: path}, true
		}
		return Issue{}, false
	}, NotFound: func(id string) error { return apperr.NotFound("No record has the id " + id + ".") }}
	cases := []struct {
		name   string
		err    error
		status int
		body   string
	}{
		{"unclassified", errors.New("boom"), 500, `{"errorCode":"22004","message":"An internal error occurred.","status":"500"}`},
		{"unavailable", apperr.Unavailable(errors.New("db")), 503, `{"errorCode":"503","message":"The service is temporarily unavailable; try again later.","status":"503"}`},
		{"internal wrapping unavailable", apperr.Internal(fmt.Errorf("list: %w", apperr.Unavailable(errors.New("db")))), 503, `{"errorCode":"503","message":"The service is temporarily unavailable; try again later.","status":"503"}`},
		{"unavailable among invalid", errors.Join(apperr.Invalid("/roles", "89001", "x"), apperr.Unavailable(errors.New("db"))), 503, `{"errorCode":"503","message":"The service is temporarily unavailable; try again later.","status":"503"}`},
		{"one invalid", apperr.Invalid("/email", "22006", "taken"), 400, `{"errorCode":"22006","message":"taken","status":"400","o:errorPath":"/email"}`},
		{"several invalid", errors.Join(apperr.Invalid("/roles/0", "89001", "a"), apperr.Invalid("/roles/1", "89001", "b")), 400,
			`{"message":"There are 2 errors in the request.","status":"400","errors":[{"errorCode":"89001","message":"a","status":"400","o:errorPath":"/roles/0"},{"errorCode":"89001","message":"b","status":"400","o:errorPath":"/roles/1"}]}`},
		{"conflict", apperr.Conflict("/email", "22006", "taken"), 400, `{"errorCode":"22006","message":"taken","status":"400","o:errorPath":"/email"}`},
		{"missing token", ErrNoToken(), 401, `{"errorCode":"401","message":"This request requires an access token.","status":"401"}`},
		{"bad token", apperr.Unauthenticated("expired"), 401, `{"errorCode":"401","message":"expired","status":"401"}`},
		{"forbidden", apperr.Forbidden("no"), 403, `{"errorCode":"403","message":"no","status":"403"}`},
		{"not found", apperr.NotFound("gone"), 404, `{"errorCode":"404","message":"gone","status":"404"}`},
		{"no route", echo.ErrNotFound, 404, `{"errorCode":"404","message":"Not Found","status":"404"}`},
		{"bind", echo.NewHTTPError(400, "x"), 400, `{"errorCode":"22007","message":"The request body is not valid JSON.","status":"400"}`},
		{"too large", &http.MaxBytesError{Limit: 1}, 413, `{"errorCode":"413","message":"Request Entity Too Large","status":"413"}`},
		{"media type", &httpserver.UnsupportedMediaType{Got: "text/plain"}, 415, `{"errorCode":"415","message":"Unsupported Media Type","status":"415"}`},
		{"schema problems", &httpserver.InvalidRequest{Issues: []httpserver.Issue{
			{In: "body", Field: "email", Rule: "required"},
			{In: "body", Field: "email", Rule: "format", Value: "x"},
			{In: "body", Field: "roles", Rule: "minItems"},
			{In: "body", Field: "name.first", Rule: "type", Value: 5.0},
			{In: "query", Field: "limit", Rule: "maximum"},
		}}, 400, `{"message":"There are 5 errors in the request.","status":"400","errors":[
			{"errorCode":"22003","message":"The email is missing or empty.","status":"400","o:errorPath":"/email"},
			{"errorCode":"23006","message":"The email is not a valid email address.","status":"400","o:errorPath":"/email"},
			{"errorCode":"89002","message":"roles","status":"400","o:errorPath":"/roles"},
			{"errorCode":"22007","message":"The value of name.first is invalid.","status":"400","o:errorPath":"/name/first"},
			{"errorCode":"22007","message":"The value of the parameter limit is invalid.","status":"400","o:errorPath":"/limit"}]}`},
		// U+0000 (issue 17): an email holding it is invalid as an email, listed once though it
		// breaks both the pattern and the format; a name too long that holds it, listed once.
		{"U+0000 in an email and a long name", &httpserver.InvalidRequest{Issues: []httpserver.Issue{
			{In: "body", Field: "email", Rule: "pattern", Value: "a\x00@example.com"},
			{In: "body", Field: "email", Rule: "format", Value: "a\x00@example.com"},
			{In: "body", Field: "firstName", Rule: "maxLength", Value: "f\x00"},
			{In: "body", Field: "firstName", Rule: "pattern", Value: "f\x00"},
		}}, 400, `{"message":"There are 2 errors in the request.","status":"400","errors":[
			{"errorCode":"23006","message":"The email is not a valid email address.","status":"400","o:errorPath":"/email"},
			{"errorCode":"22007","message":"The value of firstName is invalid.","status":"400","o:errorPath":"/firstName"}]}`},
		// A name or an id holding U+0000 is written \u0000 in the message and the path.
		{"U+0000 in a name", apperr.Invalid("/Nick\x00name", "22007", "The value of Nick\x00name is invalid."), 400,
			`{"errorCode":"22007","message":"The value of Nick\\u0000name is invalid.","status":"400","o:errorPath":"/Nick\\u0000name"}`},
		// A path id the spec refuses is the API's unknown id, unless the request has other problems.
		{"path id refused", &httpserver.InvalidRequest{Issues: []httpserver.Issue{{In: "path", Field: "id", Rule: "pattern", Value: "1\x002"}}}, 404,
			`{"errorCode":"404","message":"No record has the id 1\\u00002.","status":"404"}`},
		{"path id refused and a body problem", &httpserver.InvalidRequest{Issues: []httpserver.Issue{
			{In: "path", Field: "id", Rule: "pattern", Value: "x"},
			{In: "body", Field: "active", Rule: "type", Value: "yes"},
		}}, 400, `{"errorCode":"22007","message":"The value of active is invalid.","status":"400","o:errorPath":"/active"}`},
		{"syntax", &httpserver.InvalidRequest{Issues: []httpserver.Issue{{In: "body", Rule: "syntax"}}}, 400, `{"errorCode":"22007","message":"The request body is not a valid JSON object.","status":"400"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := d.Render(c.err, "/p")
			if r.Status != c.status || r.ContentType != "application/json" {
				t.Errorf("Render(%v): %d %s, want %d application/json", c.err, r.Status, r.ContentType, c.status)
			}
			got, _ := json.Marshal(r.Body)
			var g, w any
			_ = json.Unmarshal(got, &g)
			if err := json.Unmarshal([]byte(c.body), &w); err != nil {
				t.Fatal(err)
			}
			gb, _ := json.Marshal(g)
			wb, _ := json.Marshal(w)
			if string(gb) != string(wb) {
				t.Errorf("Render(%v)\n got %s\nwant %s", c.err, gb, wb)
			}
		})
	}
	// The wire bodies, every case at once, reviewed as one file (go test -update rewrites it).
	wire := map[string]golden.Response{}
	for _, c := range cases {
		r := d.Render(c.err, "/p")
		wire[c.name] = golden.NewResponse(t, r.Status, r.ContentType, r.Body)
	}
	golden.JSON(t, "testdata/render.json", wire)
}

func TestPointer(t *testing.T) {
	for in, want := range map[string]string{"": "", "email": "/email", "roles[0].function": "/roles/0/function", "a.b": "/a/b"} {
		if got := Pointer(in); got != want {
			t.Errorf("Pointer(%q) = %q, want %q", in, got, want)
		}
	}
}
