package httpserver_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/provisiond/provisiond/internal/httpserver"
)

// TestPanicsBecomeTheAPIsInternalError checks that a panic in a handler is answered by the
// owning API's renderer as its internal error, logged with the request id and the stack.
func TestPanicsBecomeTheAPIsInternalError(t *testing.T) {
	var logs strings.Builder
	var rendered error
	api := &httpserver.API{
		Name:     "test",
		Spec:     getSpec("/test/boom"),
		Prefixes: []string{"/test"},
		Register: func(e *echo.Echo) {
			e.GET("/test/boom", func(echo.Context) error { panic("kaboom") })
		},
		Render: func(err error, path string) httpserver.Reply {
			rendered = err
			return httpserver.Reply{Status: http.StatusInternalServerError, ContentType: "application/json", Body: map[string]string{"error": "internal"}}
		},
	}
	e, err := httpserver.New(httpserver.Options{
		Logger: slog.New(httpserver.NewLogHandler(slog.NewJSONHandler(&logs, nil))),
		APIs:   []*httpserver.API{api},
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("GET", "/test/boom", nil))
	if rec.Code != http.StatusInternalServerError || rec.Body.String() != "{\"error\":\"internal\"}\n" {
		t.Errorf("panic answered %d %q, want the renderer's 500", rec.Code, rec.Body)
	}
	if rendered == nil || !strings.Contains(rendered.Error(), "kaboom") {
		t.Errorf("renderer got %v, want the panic", rendered)
	}
	id := rec.Header().Get("X-Request-Id")
	if !strings.Contains(logs.String(), `"request_id":"`+id+`"`) || !strings.Contains(logs.String(), "panic: kaboom") {
		t.Errorf("the panic is not logged with its request id %q:\n%s", id, logs.String())
	}

	// A path no API owns gets a generic problem.
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("GET", "/nowhere", nil))
	if rec.Code != http.StatusNotFound || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Errorf("unowned path: %d %s, want a 404 problem", rec.Code, rec.Header().Get("Content-Type"))
	}
}

func TestTransportStatus(t *testing.T) {
	for _, c := range []struct {
		err    error
		status int
		ok     bool
	}{
		{&http.MaxBytesError{Limit: 1}, 413, true},
		{&httpserver.UnsupportedMediaType{Got: "text/plain"}, 415, true},
		{echo.ErrMethodNotAllowed, 405, true},
		{errors.New("other"), 0, false},
	} {
		if status, ok := httpserver.TransportStatus(c.err); status != c.status || ok != c.ok {
			t.Errorf("TransportStatus(%v) = %d %v, want %d %v", c.err, status, ok, c.status, c.ok)
		}
	}
}

// TestDrainingClosesConnectionsAndIsNotReady checks that once Options.Draining says so, /readyz
// answers 503 and every response, success or error, asks the client to close its connection;
// and that none does before.
func TestDrainingClosesConnectionsAndIsNotReady(t *testing.T) {
	var draining bool
	api := &httpserver.API{
		Name:     "test",
		Spec:     getSpec("/test/ok", "/test/fail"),
		Prefixes: []string{"/test"},
		Register: func(e *echo.Echo) {
			e.GET("/test/ok", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
			e.GET("/test/fail", func(echo.Context) error { return errors.New("fails") })
		},
		Render: func(err error, path string) httpserver.Reply {
			return httpserver.Reply{Status: http.StatusInternalServerError, ContentType: "application/json", Body: map[string]string{"error": "internal"}}
		},
	}
	e, err := httpserver.New(httpserver.Options{
		APIs:     []*httpserver.API{api},
		Ready:    func(context.Context) error { return nil },
		Draining: func() bool { return draining },
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, draining = range []bool{false, true} {
		wantReady, wantConnection := http.StatusOK, ""
		if draining {
			wantReady, wantConnection = http.StatusServiceUnavailable, "close"
		}
		for _, path := range []string{"/readyz", "/healthz", "/test/ok", "/test/fail", "/nowhere"} {
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
			if got := rec.Header().Get("Connection"); got != wantConnection {
				t.Errorf("draining %v, GET %s: Connection %q, want %q", draining, path, got, wantConnection)
			}
			if path == "/readyz" && rec.Code != wantReady {
				t.Errorf("draining %v, GET /readyz: %d %s, want %d", draining, rec.Code, rec.Body, wantReady)
			}
		}
	}
}

// getSpec is a spec with one GET operation without parameters or body at each of paths.
func getSpec(paths ...string) *openapi3.T {
	doc := &openapi3.T{OpenAPI: "3.0.3", Paths: openapi3.NewPaths()}
	for _, p := range paths {
		doc.Paths.Set(p, &openapi3.PathItem{Get: &openapi3.Operation{OperationID: "get" + p, Responses: openapi3.NewResponses()}})
	}
	return doc
}

// TestNegotiate checks that an API's Negotiate sees every error reply with its request and the
// path as sent, before RewritePath, and that what it returns is what is written.
func TestNegotiate(t *testing.T) {
	var sent []string
	api := &httpserver.API{
		Name:        "test",
		Spec:        getSpec("/test/item"),
		Prefixes:    []string{"/test"},
		Register:    func(e *echo.Echo) { e.GET("/test/item", func(echo.Context) error { return echo.ErrNotFound }) },
		RewritePath: func(p string) string { return strings.TrimSuffix(p, ".alt") },
		Render: func(err error, path string) httpserver.Reply {
			return httpserver.Reply{Status: http.StatusNotFound, ContentType: "application/problem+json", Body: map[string]string{"path": path}}
		},
		Negotiate: func(r httpserver.Reply, req *http.Request, path string) httpserver.Reply {
			sent = append(sent, path)
			if strings.HasSuffix(path, ".alt") || req.Header.Get("Accept") == "application/alt" {
				r.ContentType, r.Body = "application/alt", map[string]string{"alt": r.Body.(map[string]string)["path"]}
			}
			return r
		},
	}
	e, err := httpserver.New(httpserver.Options{APIs: []*httpserver.API{api}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, accept, media, body string }{
		{"/test/item", "", "application/problem+json", `{"path":"/test/item"}`},
		{"/test/item.alt", "", "application/alt", `{"alt":"/test/item"}`},
		{"/test/item", "application/alt", "application/alt", `{"alt":"/test/item"}`},
		{"/test/none", "", "application/problem+json", `{"path":"/test/none"}`},
	} {
		req := httptest.NewRequest("GET", tc.path, nil)
		req.Header.Set("Accept", tc.accept)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusNotFound || rec.Header().Get("Content-Type") != tc.media || strings.TrimSpace(rec.Body.String()) != tc.body {
			t.Errorf("GET %s (Accept %q): %d %s %s, want 404 %s %s", tc.path, tc.accept, rec.Code, rec.Header().Get("Content-Type"), rec.Body, tc.media, tc.body)
		}
	}
	if want := []string{"/test/item", "/test/item.alt", "/test/item", "/test/none"}; strings.Join(sent, " ") != strings.Join(want, " ") {
		t.Errorf("Negotiate saw the paths %v, want %v (as sent)", sent, want)
	}
}
