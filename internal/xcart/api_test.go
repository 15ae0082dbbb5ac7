package xcart_test

import (
	"net/http"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
)

func TestSmoke(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s := apitest.Start(t, dialect, apitest.Options{})
		res := s.Call(t, "POST", "/api/profiles", map[string]any{"login": "a@example.com"}, "X-Auth-Token", s.Keys["xcart"])
		if res.Status != http.StatusCreated {
			t.Fatalf("got %d %s", res.Status, res.Body)
		}
	})
}
