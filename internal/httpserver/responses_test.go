package httpserver_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"log/slog"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/httpserver"
)

const thingsSpec = `
openapi: 3.0.3
info: {title: things, version: "1"}
paths:
  /things/{id}:
    get:
      operationId: getThing
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: a thing
          content:
            application/json:
              schema:
                type: object
                required: [id, name]
                properties:
                  id: {type: integer}
                  name: {type: string, maxLength: 5}
        "404":
          description: no such thing
          content:
            application/json:
              schema:
                type: object
                required: [error]
                properties:
                  error: {type: string}
`

// thingsServer serves a one-operation API whose handler answers each id in its own way, some of
// them breaking the spec on purpose.
func thingsServer(t *testing.T, validate bool) (*echo.Echo, *strings.Builder) {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData([]byte(thingsSpec))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatal(err)
	}
	api := &httpserver.API{
		Name:     "things",
		Spec:     doc,
		Prefixes: []string{"/things"},
		Register: func(e *echo.Echo) {
			e.GET("/things/:id", func(c echo.Context) error {
				switch c.Param("id") {
				case "good":
					return c.JSON(http.StatusOK, map[string]any{"id": 1, "name": "ok"})
				case "broken":
					// id of the wrong type, name too long, and a value that must not reach the log.
					return c.JSON(http.StatusOK, map[string]any{"id": "one", "name": "secret-value"})
				case "teapot":
					return c.JSON(http.StatusTeapot, map[string]any{"id": 1, "name": "ok"})
				}
				return apperr.NotFound("no such thing")
			})
		},
		Render: func(err error, path string) httpserver.Reply {
			// Deliberately off-spec: the 404 documents "error", this sends "message".
			return httpserver.Reply{Status: http.StatusNotFound, ContentType: "application/json", Body: map[string]string{"message": "gone"}}
		},
	}
	logs := &strings.Builder{}
	e, err := httpserver.New(httpserver.Options{
		Logger:            slog.New(httpserver.NewLogHandler(slog.NewJSONHandler(logs, nil))),
		APIs:              []*httpserver.API{api},
		ValidateResponses: validate,
	})
	if err != nil {
		t.Fatal(err)
	}
	return e, logs
}

type violation struct {
	Msg       string `json:"msg"`
	RequestID string `json:"request_id"`
	Operation string `json:"operation"`
	Status    int    `json:"status"`
	Violation string `json:"violation"`
}

func violations(t *testing.T, logs string) []violation {
	t.Helper()
	var out []violation
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		var v violation
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if v.Msg == httpserver.ResponseViolation {
			out = append(out, v)
		}
	}
	return out
}

// TestResponseValidationCatchesBrokenResponses checks the response-validation mode: a response
// that breaks its operation's schema, an undocumented status, and an error body of the wrong
// shape are each logged with the request id, every problem on its own line, without the values;
// the client still gets the response as the handler wrote it; a conforming response logs nothing.
func TestResponseValidationCatchesBrokenResponses(t *testing.T) {
	e, logs := thingsServer(t, true)
	get := func(id string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/things/"+id, nil))
		return rec
	}

	if rec := get("good"); rec.Code != http.StatusOK {
		t.Fatalf("GET /things/good = %d, want 200", rec.Code)
	}
	if v := violations(t, logs.String()); len(v) != 0 {
		t.Fatalf("a conforming response logged violations: %+v", v)
	}

	for _, c := range []struct {
		id     string
		status int
		body   string
		want   []string // one per violation, each a part of its line
	}{
		{"broken", 200, `{"id":"one","name":"secret-value"}`, []string{`at /id: value must be an integer (schema keyword "type")`, `at /name: maximum string length is 5 (schema keyword "maxLength")`}},
		{"teapot", 418, `{"id":1,"name":"ok"}`, []string{"status is not supported"}},
		{"missing", 404, `{"message":"gone"}`, []string{`at /error: property "error" is missing (schema keyword "required")`}},
	} {
		logs.Reset()
		rec := get(c.id)
		if rec.Code != c.status || strings.TrimSpace(rec.Body.String()) != c.body {
			t.Errorf("GET /things/%s = %d %s, want the handler's %d %s unchanged", c.id, rec.Code, rec.Body, c.status, c.body)
		}
		got := violations(t, logs.String())
		if len(got) != len(c.want) {
			t.Errorf("GET /things/%s logged %d violations, want %d:\n%s", c.id, len(got), len(c.want), logs)
			continue
		}
		id := rec.Header().Get(echo.HeaderXRequestID)
		for i, v := range got {
			if v.RequestID != id || v.Operation != "getThing" || v.Status != c.status {
				t.Errorf("GET /things/%s: violation logged as %+v, want request id %q, operation getThing, status %d", c.id, v, id, c.status)
			}
			if !strings.Contains(v.Violation, c.want[i]) {
				t.Errorf("GET /things/%s: violation %d is %q, want it to say %q", c.id, i, v.Violation, c.want[i])
			}
		}
		if strings.Contains(logs.String(), "secret-value") {
			t.Errorf("GET /things/%s: a response value reached the log:\n%s", c.id, logs)
		}
	}
}

// TestResponseValidationIsOffByDefault checks that without the mode nothing is checked or logged.
func TestResponseValidationIsOffByDefault(t *testing.T) {
	e, logs := thingsServer(t, false)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/things/broken", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /things/broken = %d, want 200", rec.Code)
	}
	if v := violations(t, logs.String()); len(v) != 0 {
		t.Errorf("violations logged with the mode off: %+v", v)
	}
}
