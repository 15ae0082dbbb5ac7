package app_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/config"
	"github.com/provisiond/provisiond/openapi"
)

// With PROVISIOND_CORS_ORIGINS, the preflight of every operation of every spec is answered for an
// allowed origin, so that a browser application on a development server can call any API.
func TestCORSPreflightOfEveryOperation(t *testing.T) {
	const origin = "http://localhost:5173"
	s := apitest.Start(t, "sqlite", apitest.Options{Configure: func(c *config.Config) { c.CORSOrigins = []string{origin} }})
	param := regexp.MustCompile(`\{[^}]+\}`)
	n := 0
	for _, api := range openapi.Names() {
		_, doc, err := openapi.Load(api)
		if err != nil {
			t.Fatal(err)
		}
		for path, item := range doc.Paths.Map() {
			for method := range item.Operations() {
				p := param.ReplaceAllString(path, "1")
				// Not through s.Call, which wants every answer to be an operation's: a
				// preflight is answered before the APIs see it.
				req := httptest.NewRequest(http.MethodOptions, p, nil)
				req.Header.Set("Origin", origin)
				req.Header.Set("Access-Control-Request-Method", method)
				rec := httptest.NewRecorder()
				s.Handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") != origin || rec.Header().Get("Access-Control-Allow-Methods") == "" {
					t.Errorf("%s: preflight of %s %s: %d %v, want 204 allowing %s", api, method, p, rec.Code, rec.Header(), origin)
				}
				n++
			}
		}
	}
	if n < 30 {
		t.Errorf("%d operations tried, want every operation of the specs", n)
	}
}
