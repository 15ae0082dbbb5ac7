package control_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/config"
)

type journaled struct {
	ID        int64
	API       string
	Operation string
	Method    string
	Path      string
	Request   struct {
		Headers map[string]string
		Body    string
	}
	Response struct {
		Status  int
		Headers map[string]string
		Body    string
	}
	RequestID string `json:"request_id"`
	Truncated bool
}

func (c *ctl) requests(t *testing.T, query string) []journaled {
	t.Helper()
	res := c.control(t, "GET", "/requests"+query, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("GET /requests%s: %d %s", query, res.Status, res.Body)
	}
	var page struct{ Items []journaled }
	res.JSON(t, &page)
	return page.Items
}

// The journal holds every request to the vendor APIs with its answer, newest first, never a
// secret: the password of a create, the key and the JWT of a login, each masked as ***; it
// holds no request of the control API; filters select; a cleared journal and a reset are empty.
func TestJournal(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		c := start(t, dialect, apitest.Options{})
		const pw = "Secret-Passw0rd-42"
		res := c.Call(t, "POST", "/api/profiles", map[string]any{"login": "admin@example.com", "password": pw, "access_level": 100},
			"X-Auth-Token", c.Keys["xcart"], "X-Request-Id", "journal-test-1")
		if res.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		login := c.Call(t, "POST", "/api-login/check", map[string]any{"username": "admin@example.com", "password": pw})
		token, _ := login.Map(t)["token"].(string)
		if login.Status != http.StatusOK || token == "" {
			t.Fatalf("login: %d %s", login.Status, login.Body)
		}
		c.Call(t, "GET", "/api/profiles/999", nil, "Authorization", "Bearer "+token)
		c.Call(t, "GET", "/api-login/nothing-here", nil)

		all := c.requests(t, "")
		if len(all) != 4 {
			t.Fatalf("%d requests journaled, want 4 (the control API's own are not): %+v", len(all), all)
		}
		for _, e := range all {
			text := fmt.Sprintf("%+v", e)
			for _, secret := range []string{pw, token, c.Keys["xcart"]} {
				if strings.Contains(text, secret) {
					t.Errorf("%s %s: the journal holds a secret: %s", e.Method, e.Path, text)
				}
			}
		}
		create := all[3]
		if create.API != "xcart" || create.Operation != "createProfile" || create.Method != "POST" || create.Path != "/api/profiles" ||
			create.Response.Status != http.StatusCreated || create.RequestID != "journal-test-1" || create.Request.Headers["X-Auth-Token"] != "***" ||
			!strings.Contains(create.Request.Body, `"password":"***"`) || !strings.Contains(create.Request.Body, `"login":"admin@example.com"`) ||
			!strings.Contains(create.Response.Body, `"login":"admin@example.com"`) {
			t.Errorf("the create as journaled: %+v", create)
		}
		if l := all[2]; l.Operation != "login" || !strings.Contains(l.Response.Body, `"token":"***"`) {
			t.Errorf("the login as journaled: %+v", l)
		}
		if g := all[1]; g.Request.Headers["Authorization"] != "***" || g.Response.Status != http.StatusNotFound {
			t.Errorf("the get as journaled: %+v", g)
		}
		if u := all[0]; u.Operation != "unmatched" {
			t.Errorf("a request no operation matches: %+v", u)
		}

		if got := c.requests(t, "?api=xcart&method=POST&status=201"); len(got) != 1 || got[0].ID != create.ID {
			t.Errorf("api=xcart&method=POST&status=201: %+v, want the create", got)
		}
		if got := c.requests(t, "?operation=createProfile"); len(got) != 1 {
			t.Errorf("operation=createProfile: %d entries, want 1", len(got))
		}
		if got := c.requests(t, "?limit=2"); len(got) != 2 || got[0].ID != all[0].ID {
			t.Errorf("limit=2: %+v, want the 2 newest", got)
		}
		if got := c.requests(t, "?api=occadmin"); len(got) != 0 {
			t.Errorf("api=occadmin: %+v, want none", got)
		}
		if res := c.control(t, "GET", fmt.Sprintf("/requests/%d", create.ID), nil); res.Status != http.StatusOK || res.Map(t)["operation"] != "createProfile" {
			t.Errorf("GET /requests/%d: %d %s", create.ID, res.Status, res.Body)
		}
		problem(t, c.control(t, "GET", "/requests/999999", nil), http.StatusNotFound)
		problem(t, c.control(t, "GET", "/requests?status=42", nil), http.StatusBadRequest)

		if res := c.control(t, "DELETE", "/requests", nil); res.Status != http.StatusNoContent {
			t.Fatalf("DELETE /requests: %d %s", res.Status, res.Body)
		}
		if got := c.requests(t, ""); len(got) != 0 {
			t.Errorf("after DELETE: %d entries", len(got))
		}
		problem(t, c.control(t, "GET", fmt.Sprintf("/requests/%d", create.ID), nil), http.StatusNotFound)
		c.createProfile(t, "after@example.com")
		if res := c.control(t, "POST", "/reset", nil); res.Status != http.StatusOK {
			t.Fatalf("reset: %d %s", res.Status, res.Body)
		}
		if got := c.requests(t, ""); len(got) != 0 {
			t.Errorf("after a reset: %d entries", len(got))
		}
	})
}

// With PROVISIOND_JOURNAL_SIZE=0 nothing is journaled; the bodies kept are cut at
// PROVISIOND_JOURNAL_BODY_LIMIT, and say so.
func TestJournalSettings(t *testing.T) {
	off := start(t, "sqlite", apitest.Options{Configure: func(c *config.Config) { c.JournalSize = 0 }})
	off.createProfile(t, "a@example.com")
	if got := off.requests(t, ""); len(got) != 0 {
		t.Errorf("journal off: %d entries", len(got))
	}
	small := start(t, "sqlite", apitest.Options{Configure: func(c *config.Config) { c.JournalBodyLimit = 10 }})
	small.createProfile(t, "b@example.com")
	got := small.requests(t, "")
	if len(got) != 1 || len(got[0].Request.Body) != 10 || !got[0].Truncated {
		t.Errorf("body limit 10: %+v, want a request body of 10 bytes, truncated", got)
	}
}
