package httpserver_test

import (
	"net/http"
	"testing"

	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/journal"
)

// With CORS origins set, a preflight of an allowed origin is answered for every API route before
// the API, the journal or the fault rules see it, and the answers carry the CORS headers a
// browser needs; another origin gets none. Without origins, nothing of CORS is answered.
func TestCORS(t *testing.T) {
	send := func(t *testing.T, s *shop, method, origin string, header ...string) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, s.url+"/shop/items", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", origin)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	const app = "http://localhost:3000"
	preflight := []string{"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type,x-auth-token"}

	t.Run("allowed origin", func(t *testing.T) {
		s := newShop(t, httpserver.Options{CORSOrigins: []string{app, "https://app.example"}}, nil)
		res := send(t, s, http.MethodOptions, app, preflight...)
		h := res.Header
		if res.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != app || h.Get("Access-Control-Allow-Credentials") != "true" ||
			h.Get("Access-Control-Allow-Headers") != "content-type,x-auth-token" || h.Get("Access-Control-Allow-Methods") == "" {
			t.Errorf("preflight from %s: %d %v, want 204 allowing it, its headers and credentials", app, res.StatusCode, h)
		}
		s.notServed(t, "a preflight")
		if n := len(s.journal.List(journal.Filter{})); n != 0 {
			t.Errorf("a preflight was journaled (%d entries)", n)
		}
		res = send(t, s, http.MethodGet, app)
		if res.StatusCode != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != app || res.Header.Get("Access-Control-Expose-Headers") != "Location,Retry-After,X-Request-Id" {
			t.Errorf("GET from %s: %d %v, want 200 with the origin allowed and Location, Retry-After, X-Request-Id exposed", app, res.StatusCode, res.Header)
		}
		<-s.served
		if res := send(t, s, http.MethodOptions, "http://evil.example", preflight...); res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight from another origin: allowed %q", res.Header.Get("Access-Control-Allow-Origin"))
		}
	})
	t.Run("any origin", func(t *testing.T) {
		s := newShop(t, httpserver.Options{CORSOrigins: []string{"*"}}, nil)
		res := send(t, s, http.MethodOptions, "http://any.example", preflight...)
		if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "*" || res.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("preflight under *: %d %v, want 204, any origin, no credentials", res.StatusCode, res.Header)
		}
	})
	t.Run("off", func(t *testing.T) {
		s := newShop(t, httpserver.Options{}, nil)
		res := send(t, s, http.MethodOptions, app, preflight...)
		if res.Header.Get("Access-Control-Allow-Origin") != "" || res.Header.Get("Access-Control-Allow-Methods") != "" {
			t.Errorf("preflight without CORS origins: %d %v, want no CORS answer", res.StatusCode, res.Header)
		}
	})
}
