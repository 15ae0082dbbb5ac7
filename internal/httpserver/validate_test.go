package httpserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/labstack/echo/v4"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/fault"
	"github.com/provisiond/provisiond/internal/httpserver"
)

const notesSpec = `
openapi: 3.0.3
info: {title: notes, version: "1"}
components:
  securitySchemes:
    token: {type: http, scheme: bearer}
security: [{token: []}]
paths:
  /notes/{id}:
    put:
      operationId: putNote
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [title]
              properties:
                title: {type: string, maxLength: 10}
                tags: {type: array, items: {type: string}}
      responses:
        "204": {description: stored}
`

// notes is a one-operation API whose authentication function and handler report what they saw.
type notes struct {
	authBodies [][]byte // the body as each call of the authentication function read it
	handled    func(c echo.Context) error
	rendered   error
	faults     *fault.Rules // the server's fault rules (nil: none)
}

func (n *notes) server(tb testing.TB, register func(*echo.Echo, echo.HandlerFunc)) (*echo.Echo, error) {
	tb.Helper()
	doc, err := openapi3.NewLoader().LoadFromData([]byte(notesSpec))
	if err != nil {
		tb.Fatal(err)
	}
	handler := func(c echo.Context) error { return n.handled(c) }
	api := &httpserver.API{
		Name:     "notes",
		Spec:     doc,
		Prefixes: []string{"/notes"},
		Register: func(e *echo.Echo) { register(e, handler) },
		Authenticate: func(ctx context.Context, in *openapi3filter.AuthenticationInput) error {
			body, err := io.ReadAll(in.RequestValidationInput.Request.Body)
			if err != nil {
				return err
			}
			n.authBodies = append(n.authBodies, body)
			if token, ok := httpserver.Bearer(in.RequestValidationInput.Request); !ok || token != "secret" {
				return apperr.Unauthenticated("no token")
			}
			httpserver.SetPrincipal(ctx, "alice")
			return nil
		},
		Render: func(err error, path string) httpserver.Reply {
			n.rendered = err
			return httpserver.Reply{Status: http.StatusBadRequest, ContentType: "application/json", Body: map[string]string{"error": "refused"}}
		},
	}
	return httpserver.New(httpserver.Options{APIs: []*httpserver.API{api}, Faults: n.faults})
}

func putNote(e *echo.Echo, id, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPut, "/notes/"+id, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer secret")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

func registerPut(e *echo.Echo, h echo.HandlerFunc) { e.PUT("/notes/:id", h) }

// TestHandlerSeesTheBodyTheValidatorDecoded: the body is read once, yet the authentication
// function and the handler each read all of it, and the handler finds on it the value the
// validator decoded and checked (the generated handlers bind that value instead of decoding).
func TestHandlerSeesTheBodyTheValidatorDecoded(t *testing.T) {
	const sent = `{"title":"caf\u00e9","tags":["a","b"],"extra":1}`
	n := &notes{}
	var value any
	var raw []byte
	var principal any
	var requestID string
	n.handled = func(c echo.Context) error {
		vb, ok := c.Request().Body.(interface{ ValidatedValue() any })
		if !ok {
			t.Fatalf("handler's body %T carries no validated value", c.Request().Body)
		}
		value = vb.ValidatedValue()
		var err error
		if raw, err = io.ReadAll(c.Request().Body); err != nil {
			t.Fatal(err)
		}
		principal, requestID = httpserver.Principal(c.Request().Context()), httpserver.RequestID(c.Request().Context())
		return c.NoContent(http.StatusNoContent)
	}
	e, err := n.server(t, registerPut)
	if err != nil {
		t.Fatal(err)
	}
	rec := putNote(e, "7", sent)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("PUT: status %d %s, want 204 (%v)", rec.Code, rec.Body, n.rendered)
	}
	if want := map[string]any{"title": "café", "tags": []any{"a", "b"}, "extra": json.Number("1")}; !reflect.DeepEqual(value, want) {
		t.Errorf("validated value %#v, want %#v", value, want)
	}
	if string(raw) != sent {
		t.Errorf("handler read body %q, want %q", raw, sent)
	}
	if len(n.authBodies) != 1 || string(n.authBodies[0]) != sent {
		t.Errorf("authentication function read %q, want %q", n.authBodies, sent)
	}
	if principal != "alice" {
		t.Errorf("principal %v, want alice", principal)
	}
	if requestID == "" || requestID != rec.Header().Get(echo.HeaderXRequestID) {
		t.Errorf("request id %q, response's %q", requestID, rec.Header().Get(echo.HeaderXRequestID))
	}
}

// TestEveryProblemOfParametersAndBody: the validator checks the body itself, yet reports the
// parameters' problems and the body's together, parameters first, as kin-openapi lists them.
func TestEveryProblemOfParametersAndBody(t *testing.T) {
	n := &notes{handled: func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }}
	e, err := n.server(t, registerPut)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id, body string
		want     []string // In/Field/Rule of each issue
	}{
		{"x", `{"title":"far too long a title","tags":[1]}`, []string{"path/id/type", "body/tags[0]/type", "body/title/maxLength"}},
		{"1", `{"tags":[]}`, []string{"body/title/required"}},
		{"x", `{"title":`, []string{"path/id/type", "body//syntax"}},
		{"1", `{"title":"t"} {}`, []string{"body//syntax"}},
		{"1", ``, []string{"body//missing"}},
	} {
		n.rendered = nil
		rec := putNote(e, c.id, c.body)
		var invalid *httpserver.InvalidRequest
		if rec.Code != http.StatusBadRequest || !errors.As(n.rendered, &invalid) {
			t.Errorf("PUT /notes/%s %s: status %d, error %v, want 400 InvalidRequest", c.id, c.body, rec.Code, n.rendered)
			continue
		}
		var got []string
		for _, is := range invalid.Issues {
			got = append(got, is.In+"/"+is.Field+"/"+is.Rule)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("PUT /notes/%s %s: issues %v, want %v", c.id, c.body, got, c.want)
		}
	}
}

// TestRouteWithoutOperationIsRefusedAtStart: the validator finds a route's operation by Echo's
// matched route, so a route of an API that its spec lacks would reach its handler unchecked; the
// server refuses to start with one.
func TestRouteWithoutOperationIsRefusedAtStart(t *testing.T) {
	n := &notes{}
	_, err := n.server(t, func(e *echo.Echo, h echo.HandlerFunc) {
		e.PUT("/notes/:id", h)
		e.GET("/notes/:id", h)
	})
	if err == nil || !strings.Contains(err.Error(), "GET /notes/:id") {
		t.Errorf("New with GET /notes/:id outside the spec: error %v, want one naming the route", err)
	}
}

// BenchmarkValidatedRequest is one authenticated PUT with a JSON body through the middleware and
// the validator; its allocs/op show what the shared request path costs each request.
func BenchmarkValidatedRequest(b *testing.B) {
	benchmarkValidatedRequest(b, nil)
}

// BenchmarkValidatedRequestWith100FaultRules is BenchmarkValidatedRequest with 100 fault rules
// in force, none of which matches: what the rules cost every request while a test uses them.
func BenchmarkValidatedRequestWith100FaultRules(b *testing.B) {
	rules := &fault.Rules{}
	rules.Cover("notes")
	for i := range 100 {
		r := fault.Rule{Match: fault.Matcher{API: "notes", Operation: fmt.Sprintf("operation%d", i)}, Action: fault.Action{Type: fault.Drop}}
		if _, err := rules.Add(r, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	benchmarkValidatedRequest(b, rules)
}

func benchmarkValidatedRequest(b *testing.B, faults *fault.Rules) {
	n := &notes{handled: func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }, faults: faults}
	e, err := n.server(b, registerPut)
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"title":"a note","tags":["x","y","z"]}`)
	header := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer secret"}}
	b.ReportAllocs()
	for b.Loop() {
		n.authBodies = n.authBodies[:0]
		req := httptest.NewRequest(http.MethodPut, "/notes/1", bytes.NewReader(body))
		req.Header = header
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent {
			b.Fatalf("status %d %s", rec.Code, rec.Body)
		}
	}
}
