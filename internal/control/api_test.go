package control_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/config"
)

type ctl struct {
	*apitest.Server
}

func start(t *testing.T, dialect string, opts apitest.Options) *ctl {
	return &ctl{apitest.Start(t, dialect, opts)}
}

// control calls the control API with the control credential.
func (c *ctl) control(t testing.TB, method, path string, body any, header ...string) *apitest.Response {
	t.Helper()
	return c.Call(t, method, "/_provisiond/v1"+path, body, append([]string{"Authorization", "Bearer " + c.Keys["control"]}, header...)...)
}

// createProfile creates an X-Cart profile through X-Cart's API and returns its id.
func (c *ctl) createProfile(t *testing.T, login string) float64 {
	t.Helper()
	res := c.Call(t, "POST", "/api/profiles", map[string]any{"login": login}, "X-Auth-Token", c.Keys["xcart"])
	if res.Status != http.StatusCreated {
		t.Fatalf("create profile %s: %d %s", login, res.Status, res.Body)
	}
	return res.Map(t)["id"].(float64)
}

// problem checks that res is a problem+json answer with status, and returns its body.
func problem(t *testing.T, res *apitest.Response, status int) map[string]any {
	t.Helper()
	if res.Status != status || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("answered %d %s %s, want %d application/problem+json", res.Status, res.Header.Get("Content-Type"), res.Body, status)
	}
	p := res.Map(t)
	if p["status"] != float64(status) || p["title"] != http.StatusText(status) || p["type"] != "about:blank" {
		t.Errorf("problem %v: want status %d, title %q, type about:blank", p, status, http.StatusText(status))
	}
	return p
}

var routes = []struct{ method, path string }{
	{"POST", "/reset"},
	{"POST", "/fixtures"},
	{"GET", "/xcart/users"},
	{"GET", "/xcart/users/1"},
	{"GET", "/requests"},
	{"GET", "/requests/1"},
	{"DELETE", "/requests"},
	{"POST", "/requests/count"},
	{"POST", "/faults"},
	{"GET", "/faults"},
	{"DELETE", "/faults"},
	{"GET", "/faults/1"},
	{"DELETE", "/faults/1"},
}

func TestEveryRouteTakesOnlyAControlCredential(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		c := start(t, dialect, apitest.Options{})
		for _, r := range routes {
			for _, tc := range []struct {
				name   string
				header []string
				status int
			}{
				{"none", nil, http.StatusUnauthorized},
				{"not bearer", []string{"Authorization", "Basic " + c.Keys["control"]}, http.StatusUnauthorized},
				{"unknown", []string{"Authorization", "Bearer not-a-credential-at-all"}, http.StatusUnauthorized},
				{"xcart's", []string{"Authorization", "Bearer " + c.Keys["xcart"]}, http.StatusForbidden},
				{"occadmin's", []string{"Authorization", "Bearer " + c.Keys["occadmin"]}, http.StatusForbidden},
			} {
				res := c.Call(t, r.method, "/_provisiond/v1"+r.path, "{}", tc.header...)
				if res.Status != tc.status {
					t.Errorf("%s %s with %s credential: %d %s, want %d", r.method, r.path, tc.name, res.Status, res.Body, tc.status)
					continue
				}
				problem(t, res, tc.status)
			}
		}
	})
}

func TestSwitchedOff(t *testing.T) {
	c := start(t, "sqlite", apitest.Options{Configure: func(cfg *config.Config) { cfg.Control = false }})
	if _, ok := c.Keys["control"]; ok {
		t.Errorf("a control credential was created for a server whose control API is off")
	}
	for _, r := range routes {
		if res := c.Call(t, r.method, "/_provisiond/v1"+r.path, "{}", "Authorization", "Bearer x"); res.Status != http.StatusNotFound {
			t.Errorf("%s %s with the control API off: %d, want 404", r.method, r.path, res.Status)
		}
	}
	if res := c.Call(t, "GET", "/openapi/control.yaml", nil); res.Status != http.StatusNotFound {
		t.Errorf("the control spec is served with the control API off: %d", res.Status)
	}
}

func TestResetReturnsToTheBaseline(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		c := start(t, dialect, apitest.Options{})
		for i := range 3 {
			c.createProfile(t, fmt.Sprintf("before%d@example.com", i))
		}
		res := c.control(t, "POST", "/reset", nil)
		if res.Status != http.StatusOK {
			t.Fatalf("reset: %d %s", res.Status, res.Body)
		}
		if got := res.Map(t); fmt.Sprint(got["apis"]) != "[xcart occadmin occstore platformos activeplatform]" || got["credentials"] != "kept" {
			t.Errorf("reset answered %v", got)
		}
		if page := c.control(t, "GET", "/xcart/users", nil).Map(t); page["total"] != float64(0) {
			t.Errorf("after a reset X-Cart has %v profiles, want 0", page["total"])
		}
		if id := c.createProfile(t, "after@example.com"); id != 1 {
			t.Errorf("the first profile after a reset has id %v, want 1", id)
		}
		// The built-in reference data is back: X-Cart's roles.
		if res := c.Call(t, "PUT", "/api/profiles/1", map[string]any{"role_ids": []int{1}}, "X-Auth-Token", c.Keys["xcart"]); res.Status != http.StatusOK {
			t.Errorf("giving the built-in role 1 after a reset: %d %s", res.Status, res.Body)
		}
		// The credentials are kept.
		if res := c.Call(t, "GET", "/api/profiles/1", nil, "X-Auth-Token", c.Keys["xcart"]); res.Status != http.StatusOK {
			t.Errorf("the X-Cart credential after a reset: %d", res.Status)
		}
	})
}

func TestResetOnlyTheNamedAPIs(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		c := start(t, dialect, apitest.Options{})
		c.createProfile(t, "kept@example.com")
		res := c.Call(t, "POST", "/api/vendor/v1/users?api_token="+c.Keys["activeplatform"], map[string]any{"email": "ap@example.com", "first_name": "A", "last_name": "P", "password": "secret123"})
		if res.Status != http.StatusCreated {
			t.Fatalf("create ActivePlatform user: %d %s", res.Status, res.Body)
		}
		res = c.control(t, "POST", "/reset?api=activeplatform&api=activeplatform&credentials=drop", nil)
		if res.Status != http.StatusOK {
			t.Fatalf("reset: %d %s", res.Status, res.Body)
		}
		if got := res.Map(t); fmt.Sprint(got["apis"]) != "[activeplatform]" || got["credentials"] != "dropped" {
			t.Errorf("reset answered %v", got)
		}
		if page := c.control(t, "GET", "/activeplatform/users", nil).Map(t); page["total"] != float64(0) {
			t.Errorf("after its reset ActivePlatform has %v users, want 0", page["total"])
		}
		if page := c.control(t, "GET", "/xcart/users", nil).Map(t); page["total"] != float64(1) {
			t.Errorf("X-Cart, not reset, has %v profiles, want 1", page["total"])
		}
		if res := c.Call(t, "GET", "/api/vendor/v1/users?api_token="+c.Keys["activeplatform"], nil); res.Status != http.StatusUnauthorized {
			t.Errorf("the dropped ActivePlatform credential: %d, want 401", res.Status)
		}
		if res := c.Call(t, "GET", "/api/profiles", nil, "X-Auth-Token", c.Keys["xcart"]); res.Status != http.StatusOK {
			t.Errorf("the X-Cart credential, not dropped: %d, want 200", res.Status)
		}
		if res := c.control(t, "GET", "/xcart/users", nil); res.Status != http.StatusOK {
			t.Errorf("the control credential after dropping credentials: %d, want 200", res.Status)
		}
	})
}

// TestFailedResetChangesNothing injects a failure after the tables are emptied (while the
// reference data is applied again): the reset answers 500 and the data is as it was, the
// credentials it was to drop too (usable at once, though the server keeps them in memory).
func TestFailedResetChangesNothing(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		c := start(t, dialect, apitest.Options{})
		c.createProfile(t, "survivor@example.com")
		injected := errors.New("injected failure")
		err := c.DB.Callback().Create().Before("gorm:create").Register("test:fail", func(tx *gorm.DB) {
			if tx.Statement.Table == "xcart_roles" {
				_ = tx.AddError(injected)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		res := c.control(t, "POST", "/reset?credentials=drop", nil)
		_ = c.DB.Callback().Create().Remove("test:fail")
		problem(t, res, http.StatusInternalServerError)
		if page := c.control(t, "GET", "/xcart/users", nil).Map(t); page["total"] != float64(1) {
			t.Errorf("after a failed reset X-Cart has %v profiles, want the 1 it had", page["total"])
		}
		if id := c.createProfile(t, "next@example.com"); id != 2 {
			t.Errorf("after a failed reset the next profile has id %v, want 2", id)
		}
	})
}

// TestResetRacesRequests runs a reset while X-Cart profiles are created: every request is
// answered as if it came wholly before or after the reset (no 5xx), and what is stored afterwards
// is a set of whole profiles with distinct ids.
func TestResetRacesRequests(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		c := start(t, dialect, apitest.Options{})
		const n = 20
		answers := apitest.Concurrently(n+1, func(i int) *apitest.Response {
			if i == n/2 {
				return c.control(t, "POST", "/reset?api=xcart", nil)
			}
			return c.Call(t, "POST", "/api/profiles", map[string]any{"login": fmt.Sprintf("race%d@example.com", i)}, "X-Auth-Token", c.Keys["xcart"])
		})
		for i, r := range answers {
			if want := map[bool]int{true: 200, false: 201}[i == n/2]; r.Status != want {
				t.Errorf("request %d during a reset: %d %s, want %d", i, r.Status, r.Body, want)
			}
		}
		page := c.control(t, "GET", "/xcart/users?limit=1000", nil).Map(t)
		seen := map[string]bool{}
		for _, it := range page["items"].([]any) {
			u := it.(map[string]any)
			if seen[u["id"].(string)] || !strings.HasPrefix(u["login"].(string), "race") {
				t.Errorf("after the race: %v", u)
			}
			seen[u["id"].(string)] = true
		}
		if len(seen) > n || page["total"] != float64(len(seen)) {
			t.Errorf("after the race %d profiles listed, total %v", len(seen), page["total"])
		}
	})
}

func TestInspectUsers(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		c := start(t, dialect, apitest.Options{})
		for i := range 3 {
			c.createProfile(t, fmt.Sprintf("user%d@example.com", i))
		}
		page := c.control(t, "GET", "/xcart/users?offset=1&limit=1", nil)
		if page.Status != http.StatusOK {
			t.Fatalf("list: %d %s", page.Status, page.Body)
		}
		p := page.Map(t)
		items := p["items"].([]any)
		if p["total"] != float64(3) || p["offset"] != float64(1) || p["limit"] != float64(1) || len(items) != 1 {
			t.Fatalf("page %v, want the second of 3", p)
		}
		u := items[0].(map[string]any)
		if u["api"] != "xcart" || u["id"] != "2" || u["login"] != "user1@example.com" {
			t.Errorf("second profile %v", u)
		}
		got := c.control(t, "GET", "/xcart/users/2", nil)
		if got.Status != http.StatusOK || got.Map(t)["login"] != "user1@example.com" {
			t.Errorf("get profile 2: %d %s", got.Status, got.Body)
		}
		for _, id := range []string{"99", "abc", "-1"} {
			p := problem(t, c.control(t, "GET", "/xcart/users/"+id, nil), http.StatusNotFound)
			if !strings.Contains(fmt.Sprint(p["detail"]), id) {
				t.Errorf("404 for %s: %v", id, p)
			}
		}
	})
}

func TestInvalidRequestsListEveryProblem(t *testing.T) {
	c := start(t, "sqlite", apitest.Options{})
	p := problem(t, c.control(t, "GET", "/xcart/users?offset=-1&limit=5000", nil), http.StatusBadRequest)
	if errs, _ := p["errors"].([]any); len(errs) != 2 {
		t.Errorf("two bad parameters: errors %v, want both", p["errors"])
	}
	p = problem(t, c.control(t, "POST", "/reset?api=nope&credentials=maybe", nil), http.StatusBadRequest)
	if errs, _ := p["errors"].([]any); len(errs) != 2 {
		t.Errorf("two bad parameters: errors %v, want both", p["errors"])
	}
	problem(t, c.control(t, "GET", "/nope/users", nil), http.StatusBadRequest)
	problem(t, c.control(t, "GET", "/nowhere", nil), http.StatusNotFound)
	problem(t, c.control(t, "POST", "/fixtures", "x: 1", "Content-Type", "text/plain"), http.StatusUnsupportedMediaType)
}

func TestApplyFixtures(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		c := start(t, dialect, apitest.Options{})
		yamlDoc := "xcart:\n  roles:\n    - {id: 7, name: Auditor}\ncredentials:\n  - {api: xcart, secret: a-chosen-xcart-secret}\n"
		res := c.control(t, "POST", "/fixtures", yamlDoc, "Content-Type", "application/yaml")
		if res.Status != http.StatusOK {
			t.Fatalf("apply YAML: %d %s", res.Status, res.Body)
		}
		applied := func(res *apitest.Response, kind string) string {
			return fmt.Sprint(res.Map(t)["applied"].(map[string]any)["xcart"].(map[string]any)[kind])
		}
		if got := applied(res, "credentials"); got != "map[created:1 updated:0]" {
			t.Errorf("applied credentials %s, want 1 created", got)
		}
		if again := c.control(t, "POST", "/fixtures", yamlDoc, "Content-Type", "application/yaml"); applied(again, "credentials") != "map[created:0 updated:1]" || applied(again, "roles") != "map[created:0 updated:1]" {
			t.Errorf("applied again: %s, want the role and the credential updated", again.Body)
		}
		if r := c.Call(t, "GET", "/api/profiles", nil, "X-Auth-Token", "a-chosen-xcart-secret"); r.Status != http.StatusOK {
			t.Errorf("the credential the document chose: %d", r.Status)
		}
		id := c.createProfile(t, "roles@example.com")
		if r := c.Call(t, "PUT", fmt.Sprintf("/api/profiles/%v", id), map[string]any{"role_ids": []int{7}}, "X-Auth-Token", c.Keys["xcart"]); r.Status != http.StatusOK {
			t.Errorf("giving the role the document made: %d %s", r.Status, r.Body)
		}
		res = c.control(t, "POST", "/fixtures", map[string]any{"xcart": map[string]any{"roles": []any{map[string]any{"id": 8, "name": "Viewer"}}}})
		if res.Status != http.StatusOK {
			t.Errorf("apply JSON: %d %s", res.Status, res.Body)
		}

		// A document with problems is refused whole, every problem listed.
		bad := "xcart:\n  roles:\n    - {id: 9, name: Nine}\n    - {id: -1, name: ''}\ncredentials:\n  - {api: nowhere, secret: short}\n"
		p := problem(t, c.control(t, "POST", "/fixtures", bad, "Content-Type", "application/yaml"), http.StatusBadRequest)
		errs, _ := p["errors"].([]any)
		var fields []string
		for _, e := range errs {
			fields = append(fields, fmt.Sprint(e.(map[string]any)["field"]))
		}
		if len(errs) != 4 || fields[0] != "xcart.roles[1]" || fields[2] != "credentials[0]" {
			t.Errorf("problems %v (fields %v), want 4: the role's id and name, the credential's api and secret", errs, fields)
		}
		if r := c.Call(t, "PUT", fmt.Sprintf("/api/profiles/%v", id), map[string]any{"role_ids": []int{9}}, "X-Auth-Token", c.Keys["xcart"]); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("role 9 of a refused document: %d, want 422 (it must not exist)", r.Status)
		}
		p = problem(t, c.control(t, "POST", "/fixtures", "colours: []\n", "Content-Type", "application/yaml"), http.StatusBadRequest)
		if errs, _ := p["errors"].([]any); len(errs) != 1 {
			t.Errorf("an unknown section: %v", p)
		}
	})
}

// TestFailedFixturesChangeNothing injects a database failure in the middle of a fixtures
// document (after its roles are written, at its profiles): the answer is a 500 and nothing of the
// document is stored.
func TestFailedFixturesChangeNothing(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		c := start(t, dialect, apitest.Options{})
		injected := errors.New("injected failure")
		fail := func(tx *gorm.DB) {
			if tx.Statement.Table == "xcart_profiles" {
				_ = tx.AddError(injected)
			}
		}
		if err := c.DB.Callback().Create().Before("gorm:create").Register("test:fail", fail); err != nil {
			t.Fatal(err)
		}
		if err := c.DB.Callback().Raw().Before("gorm:raw").Register("test:fail", fail); err != nil {
			t.Fatal(err)
		}
		doc := "xcart:\n  roles:\n    - {id: 60, name: Sixty}\n  profiles:\n    - {login: failed@example.com}\n"
		res := c.control(t, "POST", "/fixtures", doc, "Content-Type", "application/yaml")
		_ = c.DB.Callback().Create().Remove("test:fail")
		_ = c.DB.Callback().Raw().Remove("test:fail")
		problem(t, res, http.StatusInternalServerError)
		var roles int64
		if err := c.DB.Table("xcart_roles").Where("id = 60").Count(&roles).Error; err != nil {
			t.Fatal(err)
		}
		if roles != 0 {
			t.Errorf("the role of a document that failed midway is stored")
		}
		if page := c.control(t, "GET", "/xcart/users", nil).Map(t); page["total"] != float64(0) {
			t.Errorf("after a failed document X-Cart has %v profiles, want 0", page["total"])
		}
		if !strings.Contains(c.Logs.String(), "injected failure") {
			t.Errorf("the failure's cause is not in the log")
		}
	})
}

// TestNoSecretsInTheLog applies documents, accepted and refused, and resets: the server's log
// holds none of their emails, passwords, hashes or credential secrets.
func TestNoSecretsInTheLog(t *testing.T) {
	c := start(t, "sqlite", apitest.Options{})
	const hash = "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a"
	good := "xcart:\n  profiles:\n    - {login: secret.person@example.com, password: plain-secret-pw, access_level: 100}\n" +
		"    - {login: hashed.person@example.com, access_level: 100, password_hash: '" + hash + "'}\n" +
		"credentials:\n  - {api: xcart, secret: chosen-secret-0123456789}\n"
	if res := c.control(t, "POST", "/fixtures", good, "Content-Type", "application/yaml"); res.Status != http.StatusOK {
		t.Fatalf("apply: %d %s", res.Status, res.Body)
	}
	bad := "xcart:\n  profiles:\n    - {login: refused.person@example, password: other-secret-pw, password_hash: '" + hash + "'}\n"
	problem(t, c.control(t, "POST", "/fixtures", bad, "Content-Type", "application/yaml"), http.StatusBadRequest)
	if res := c.Call(t, "POST", "/api-login/check", map[string]any{"username": "hashed.person@example.com", "password": "rasmuslerdorf"}); res.Status != http.StatusOK {
		t.Errorf("log in with the imported hash: %d %s", res.Status, res.Body)
	}
	c.control(t, "POST", "/reset", nil)
	logs := c.Logs.String()
	for _, secret := range []string{"secret.person", "hashed.person", "refused.person", "plain-secret-pw", "other-secret-pw", hash, "rasmuslerdorf", "chosen-secret-0123456789", c.Keys["control"], "$argon2id$"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}

// TestFixturesInTheServersEnvironment checks that a document is read and applied as the server
// is configured: ActivePlatform's passwords against PROVISIOND_PASSWORD_POLICY (as its create
// checks them), and what it creates stamped by the server's clock.
func TestFixturesInTheServersEnvironment(t *testing.T) {
	c := start(t, "sqlite", apitest.Options{Configure: func(cfg *config.Config) { cfg.PasswordPolicy = "min=12,digit" }})
	weak := "activeplatform:\n  users:\n    - {email: weak@example.com, first_name: W, last_name: K, password: short1pass}\n"
	p := problem(t, c.control(t, "POST", "/fixtures", weak, "Content-Type", "application/yaml"), http.StatusBadRequest)
	if errs := fmt.Sprint(p["errors"]); !strings.Contains(errs, "activeplatform.users[0].password") || !strings.Contains(errs, "12") {
		t.Errorf("a password the configured policy refuses: %v", p["errors"])
	}
	strong := "activeplatform:\n  users:\n    - {email: strong@example.com, first_name: S, last_name: G, password: long-enough-1}\n"
	if res := c.control(t, "POST", "/fixtures", strong, "Content-Type", "application/yaml"); res.Status != http.StatusOK {
		t.Fatalf("a password the configured policy takes: %d %s", res.Status, res.Body)
	}
	u := c.control(t, "GET", "/activeplatform/users/1", nil).Map(t)
	if want := c.Clock.Now().UTC().Format(time.RFC3339); u["created_at"] != want {
		t.Errorf("seeded user created at %v, want the server's clock %s", u["created_at"], want)
	}
}
