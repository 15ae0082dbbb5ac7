package xcart

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	gen "github.com/provisiond/provisiond/gen/xcart"
	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/golden"
	"github.com/provisiond/provisiond/internal/httpserver"
)

func TestRender(t *testing.T) {
	str := &openapi3.Schema{Type: &openapi3.Types{"string"}, MinLength: 5}
	max2 := uint64(2)
	short := &openapi3.Schema{Type: &openapi3.Types{"string"}, MaxLength: &max2}
	integer := &openapi3.Schema{Type: &openapi3.Types{"integer"}, Enum: []any{0.0, 100.0}}
	maxInt := float64(math.MaxInt64)
	bounded := &openapi3.Schema{Type: &openapi3.Types{"integer"}, Max: &maxInt}
	cases := []struct {
		name   string
		err    error
		status int
		body   string
	}{
		{"internal", errors.New("disk on fire"), 500, `{"type":"T","title":"An error occurred","detail":"Internal Server Error","instance":"/p"}`},
		{"apperr internal", apperr.Internal(errors.New("x")), 500, `{"type":"T","title":"An error occurred","detail":"Internal Server Error","instance":"/p"}`},
		{"unavailable", apperr.Unavailable(errors.New("db down")), 503, `{"type":"T","title":"An error occurred","detail":"Service Unavailable","instance":"/p"}`},
		{"internal wrapping unavailable", apperr.Internal(fmt.Errorf("list: %w", apperr.Unavailable(errors.New("db down")))), 503, `{"type":"T","title":"An error occurred","detail":"Service Unavailable","instance":"/p"}`},
		{"unavailable among invalid", errors.Join(apperr.Invalid("role_ids", "exists", "Role with ID 4 not found"), apperr.Unavailable(errors.New("db down"))), 503, `{"type":"T","title":"An error occurred","detail":"Service Unavailable","instance":"/p"}`},
		{"invalid", errors.Join(apperr.Invalid("membership_id", "exists", "Membership with ID 9 not found"), apperr.Invalid("role_ids", "exists", "Role with ID 4 not found")), 422,
			`{"type":"T","title":"An error occurred","detail":"membership_id: Membership with ID 9 not found\nrole_ids: Role with ID 4 not found","instance":"/p","violations":[{"propertyPath":"membership_id","message":"Membership with ID 9 not found"},{"propertyPath":"role_ids","message":"Role with ID 4 not found"}]}`},
		{"conflict", apperr.Conflict("login", "unique", `Field "login" must be unique`), 400, `{"type":"T","title":"An error occurred","detail":"Field \"login\" must be unique","instance":"/p"}`},
		{"not found", apperr.NotFound("whatever"), 404, `{"type":"T","title":"An error occurred","detail":"Not Found","instance":"/p"}`},
		{"unauthenticated", apperr.Unauthenticated("Invalid JWT Token"), 401, `{"type":"T","title":"An error occurred","detail":"Invalid JWT Token","instance":"/p"}`},
		{"bad login", errBadCredentials, 401, `{"type":"T","title":"An error occurred","detail":"Invalid credentials.","instance":"/p","code":401,"message":"Invalid credentials."}`},
		{"forbidden", apperr.Forbidden("Access Denied."), 403, `{"type":"T","title":"An error occurred","detail":"Access Denied.","instance":"/p"}`},
		{"wrapped apperr", fmt.Errorf("ctx: %w", apperr.NotFound("x")), 404, `{"type":"T","title":"An error occurred","detail":"Not Found","instance":"/p"}`},
		{"route not found", echo.ErrNotFound, 404, `{"type":"T","title":"An error occurred","detail":"Not Found","instance":"/p"}`},
		{"method not allowed", echo.ErrMethodNotAllowed, 405, `{"type":"T","title":"An error occurred","detail":"Method Not Allowed","instance":"/p"}`},
		{"bind error", echo.NewHTTPError(400, "unmarshal"), 400, `{"type":"T","title":"An error occurred","detail":"Syntax error","instance":"/p"}`},
		{"too large", &http.MaxBytesError{Limit: 10}, 413, `{"type":"T","title":"An error occurred","detail":"Request Entity Too Large","instance":"/p"}`},
		{"media type", &httpserver.UnsupportedMediaType{Got: "text/xml", Supported: []string{"application/json"}}, 415,
			`{"type":"T","title":"An error occurred","detail":"The content-type \"text/xml\" is not supported. Supported MIME types are \"application/json\".","instance":"/p"}`},
		{"syntax", &httpserver.InvalidRequest{Issues: []httpserver.Issue{{In: "body", Rule: "syntax"}}}, 400, `{"type":"T","title":"An error occurred","detail":"Syntax error","instance":"/p"}`},
		{"missing body", &httpserver.InvalidRequest{Issues: []httpserver.Issue{{In: "body", Rule: "missing"}}}, 400, `{"type":"T","title":"An error occurred","detail":"Syntax error","instance":"/p"}`},
		{"path", &httpserver.InvalidRequest{Issues: []httpserver.Issue{{In: "path", Field: "profile_id", Rule: "type"}}}, 404, `{"type":"T","title":"An error occurred","detail":"Not Found","instance":"/p"}`},
		{"query", &httpserver.InvalidRequest{Issues: []httpserver.Issue{{In: "query", Field: "page", Rule: "minimum"}}}, 400, `{"type":"T","title":"An error occurred","detail":"Page should not be less than 1","instance":"/p"}`},
		{"type", &httpserver.InvalidRequest{Issues: []httpserver.Issue{{In: "body", Field: "login", Rule: "type", Schema: str, Value: 5.0}}}, 400,
			`{"type":"T","title":"An error occurred","detail":"The type of the \"login\" attribute must be \"string\", \"int\" given.","instance":"/p"}`},
		{"enum of the wrong type", &httpserver.InvalidRequest{Issues: []httpserver.Issue{{In: "body", Field: "access_level", Rule: "enum", Schema: integer, Value: "100"}}}, 400,
			`{"type":"T","title":"An error occurred","detail":"The type of the \"access_level\" attribute must be \"int\", \"string\" given.","instance":"/p"}`},
		{"violations", &httpserver.InvalidRequest{Issues: []httpserver.Issue{
			{In: "body", Field: "login", Rule: "minLength", Schema: str, Value: "a"},
			{In: "body", Field: "language", Rule: "maxLength", Schema: short, Value: "abc"},
			{In: "body", Field: "access_level", Rule: "enum", Schema: integer, Value: 50.0},
		}}, 422, `{"type":"T","title":"An error occurred","detail":"login: This value is too short. It should have 5 characters or more.\nlanguage: This value is too long. It should have 2 characters or less.\naccess_level: The value you selected is not a valid choice.","instance":"/p","violations":[{"propertyPath":"login","message":"This value is too short. It should have 5 characters or more."},{"propertyPath":"language","message":"This value is too long. It should have 2 characters or less."},{"propertyPath":"access_level","message":"The value you selected is not a valid choice."}]}`},
		{"login body", &httpserver.InvalidRequest{OperationID: "login", Issues: []httpserver.Issue{{In: "body", Field: "username", Rule: "required"}}}, 400,
			`{"type":"T","title":"An error occurred","detail":"The key \"username\" must be provided.","instance":"/p"}`},
		{"login U+0000", &httpserver.InvalidRequest{OperationID: "login", Issues: []httpserver.Issue{{In: "body", Field: "username", Rule: "pattern", Schema: str, Value: "\x00"}}}, 401,
			`{"type":"T","title":"An error occurred","detail":"Invalid credentials.","instance":"/p","code":401,"message":"Invalid credentials."}`},
		{"U+0000", &httpserver.InvalidRequest{Issues: []httpserver.Issue{
			{In: "body", Field: "login", Rule: "pattern", Schema: str, Value: "a\x00"},
			{In: "body", Field: "login", Rule: "minLength", Schema: str, Value: "a\x00"},
			{In: "body", Field: "referer", Rule: "pattern", Schema: str, Value: "\x00"},
		}}, 422, `{"type":"T","title":"An error occurred","detail":"login: This value is too short. It should have 5 characters or more.\nreferer: This value is not valid.","instance":"/p","violations":[{"propertyPath":"login","message":"This value is too short. It should have 5 characters or more."},{"propertyPath":"referer","message":"This value is not valid."}]}`},
		{"integer beyond 64 bits", &httpserver.InvalidRequest{Issues: []httpserver.Issue{{In: "body", Field: "role_ids[2]", Rule: "maximum", Schema: bounded, Value: json.Number("1e20")}}}, 400,
			`{"type":"T","title":"An error occurred","detail":"The type of the \"role_ids\" attribute must be \"int\", \"float\" given.","instance":"/p"}`},
		{"integer with a fraction", &httpserver.InvalidRequest{Issues: []httpserver.Issue{{In: "body", Field: "access_level", Rule: "enum", Schema: integer, Value: json.Number("1.0")}}}, 400,
			`{"type":"T","title":"An error occurred","detail":"The type of the \"access_level\" attribute must be \"int\", \"float\" given.","instance":"/p"}`},
		{"integer the binder cannot hold", echo.NewHTTPError(400, "unmarshal").SetInternal(&json.UnmarshalTypeError{Value: "number 9223372036854775808", Type: reflect.TypeFor[int](), Field: "membership_id"}), 400,
			`{"type":"T","title":"An error occurred","detail":"The type of the \"membership_id\" attribute must be \"int\", \"float\" given.","instance":"/p"}`},
		{"string the binder cannot hold", echo.NewHTTPError(400, "unmarshal").SetInternal(&json.UnmarshalTypeError{Value: "number 1", Type: reflect.TypeFor[string](), Field: "login"}), 400,
			`{"type":"T","title":"An error occurred","detail":"Syntax error","instance":"/p"}`},
		{"page too large", &httpserver.InvalidRequest{Issues: []httpserver.Issue{{In: "query", Field: "page", Rule: "type", Value: "99999999999999999999"}}}, 400,
			`{"type":"T","title":"An error occurred","detail":"Page parameter is too large.","instance":"/p"}`},
		{"date filter", &httpserver.InvalidRequest{Issues: []httpserver.Issue{{In: "query", Field: "added.after", Rule: "pattern", Value: "\x00"}}}, 400,
			`{"type":"T","title":"An error occurred","detail":"Invalid value for the \"added[after]\" query parameter.","instance":"/p"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Render(c.err, "/p")
			if r.Status != c.status || r.ContentType != "application/problem+json" {
				t.Errorf("Render(%v): %d %s, want %d application/problem+json", c.err, r.Status, r.ContentType, c.status)
			}
			got, err := json.Marshal(r.Body)
			if err != nil {
				t.Fatal(err)
			}
			var gotV, wantV any
			_ = json.Unmarshal(got, &gotV)
			if err := json.Unmarshal([]byte(c.body), &wantV); err != nil {
				t.Fatalf("bad want: %v", err)
			}
			wantV.(map[string]any)["type"] = problemType
			if fmt.Sprint(gotV) != fmt.Sprint(wantV) {
				t.Errorf("Render(%v) body\n got %s\nwant %v", c.err, got, wantV)
			}
		})
	}
	// The wire bodies, every case at once, reviewed as one file (go test -update rewrites it).
	wire := map[string]golden.Response{}
	for _, c := range cases {
		r := Render(c.err, "/p")
		wire[c.name] = golden.NewResponse(t, r.Status, r.ContentType, r.Body)
	}
	golden.JSON(t, "testdata/render.json", wire)
}

// TestRenderInstance checks that a problem's instance is the path as sent, percent-encoded, so
// that a path holding U+0000 is answered without it.
func TestRenderInstance(t *testing.T) {
	for path, want := range map[string]string{
		"/api/profiles/1":               "/api/profiles/1",
		"/api/profiles/1\x00":           "/api/profiles/1%00",
		"/api/profiles/é":               "/api/profiles/%C3%A9",
		"/api/profiles/1.x\x00":         "/api/profiles/1.x%00",
		"/api/profiles/1/addresses/a b": "/api/profiles/1/addresses/a%20b",
	} {
		p, ok := Render(apperr.NotFound("x"), path).Body.(gen.Problem)
		if got := p.Instance.MustGet(); !ok || got != want || strings.ContainsRune(p.Detail.MustGet(), 0) {
			t.Errorf("Render(not found, %q): instance %q, detail %q, want instance %q", path, got, p.Detail.MustGet(), want)
		}
	}
}
