package platformos_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/platformos"
)

// vendorFlow is one generation of platformOS's documented REST API examples: the request bodies
// of its reference pages, verbatim, in the order a new user would follow them.
type vendorFlow struct {
	name                              string
	create, login, update, logout     string
	email, password, updatedFirstName string
}

// vendorFlows are platformOS's examples. Sources (GitHub Platform-OS/platformos-documentation):
// pages/reference/rest-api/{users_post,sessions_post,users_put,session_delete}.md (the earlier
// pages, form_configuration_name), app/views/pages/api-reference/rest-api/{users,sessions}.liquid
// (the current pages, form_name), and the payloads of the vendor's own API tests, which name the
// session configurations as its reference application defines them
// (form_configurations/reference/rest-api/{create,delete}_session.liquid: singular, where the
// pages' examples say reference_rest_api_create_sessions and reference_rest_api_delete_sessions).
var vendorFlows = []vendorFlow{{
	name: "earlier pages",
	create: `{
  "form_configuration_name": "reference_rest_api_create_user",
  "form": {
    "first_name": "Example",
    "email": "example1@platformos.com",
    "password": "somepassword"
  }
}`,
	login: `{
  "form_configuration_name": "reference_rest_api_create_sessions",
  "form": {
    "email": "example1@platformos.com",
    "password": "somepassword"
  }
}`,
	update: `{
  "form_configuration_name": "reference_rest_api_update_user",
  "form": {
    "first_name": "Example"
  }
}`,
	logout: `{
  "form_configuration_name": "reference_rest_api_delete_sessions"
}`,
	email: "example1@platformos.com", password: "somepassword", updatedFirstName: "Example",
}, {
	name: "current pages",
	create: `{
  "form_name": "reference_rest_api_create_user",
  "form": {
    "first_name": "Example",
    "email": "example1@example.com",
    "password": "somepassword"
  }
}`,
	login: `{
  "form_name": "reference_rest_api_create_sessions",
  "form": {
    "email": "example1@example.com",
    "password": "somepassword"
  }
}`,
	update: `{
  "form_name": "reference_rest_api_update_user",
  "form": {
    "first_name": "Example"
  }
}`,
	logout: `{
  "form_name": "reference_rest_api_delete_sessions"
}`,
	email: "example1@example.com", password: "somepassword", updatedFirstName: "Example",
}, {
	name:   "vendor tests",
	create: `{"form_configuration_name": "reference_rest_api_create_user", "form": {"first_name": "Example", "email": "existing_user@platformos.com", "password": "somepassword"}}`,
	login:  `{"form_configuration_name": "reference_rest_api_create_session", "form": {"email": "existing_user@platformos.com", "password": "somepassword"}}`,
	update: `{"form_configuration_name": "reference_rest_api_update_user", "form": {"first_name": "Mike"}}`,
	logout: `{"form_configuration_name": "reference_rest_api_delete_session"}`,
	email:  "existing_user@platformos.com", password: "somepassword", updatedFirstName: "Mike",
}}

// TestVendorExamples replays each generation of platformOS's examples as a new user would: create
// a user, log in, update the user, log out; every step succeeds, with the vendor's headers
// (Authorization: Token token=…, Accept and Content-Type application/json).
func TestVendorExamples(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		headers := []string{"Accept", "application/json", "Content-Type", "application/json"}
		sessions := func() int64 {
			var n int64
			x.DB.Table("platformos_sessions").Count(&n)
			return n
		}
		for _, f := range vendorFlows {
			res := x.call(t, "POST", "/api/users", f.create, headers...)
			if res.Status != http.StatusCreated {
				t.Fatalf("%s: create: %d %s, want 201", f.name, res.Status, res.Body)
			}
			id := fmt.Sprint(res.Map(t)["id"])

			res = x.call(t, "POST", "/api/sessions", f.login, headers...)
			cookie, _, _ := strings.Cut(res.Header.Get("Set-Cookie"), ";")
			if res.Status != http.StatusOK || !strings.HasPrefix(cookie, "_platformos_session=") || cookie == "_platformos_session=" {
				t.Fatalf("%s: log in: %d %s, Set-Cookie %q; want 200 and a session cookie", f.name, res.Status, res.Body, res.Header.Get("Set-Cookie"))
			}

			if res := x.call(t, "PUT", "/api/users/"+id, f.update, headers...); res.Status != http.StatusNoContent {
				t.Errorf("%s: update: %d %s, want 204", f.name, res.Status, res.Body)
			}
			var first string
			x.DB.Table("platformos_users").Where("id = ?", id).Pluck("first_name", &first)
			if first != f.updatedFirstName {
				t.Errorf("%s: first_name %q after the update, want %q", f.name, first, f.updatedFirstName)
			}

			before := sessions()
			res = x.call(t, "DELETE", "/api/sessions", f.logout, append(headers, "Cookie", cookie)...)
			if res.Status != http.StatusNoContent || !strings.Contains(res.Header.Get("Set-Cookie"), "Max-Age=0") {
				t.Errorf("%s: log out: %d %s, Set-Cookie %q; want 204 and the cookie expired", f.name, res.Status, res.Body, res.Header.Get("Set-Cookie"))
			}
			if after := sessions(); after != before-1 {
				t.Errorf("%s: %d sessions after the log out, want %d", f.name, after, before-1)
			}
		}
	})
}

// TestLogoutForms: DELETE /api/sessions takes a logout configuration, as platformOS documents;
// without one, or with one that is unknown or of another kind, it is platformOS's 406 and the
// session stays. The name may be in the body or in the query; the body's wins.
func TestLogoutForms(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		if res := x.call(t, "POST", "/api/users", create("reference_rest_api_create_user", map[string]any{"first_name": "Lou", "email": "lou@example.com", "password": "lou-password"})); res.Status != 201 {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		login := func() string {
			res := x.call(t, "POST", "/api/sessions", create("reference_rest_api_create_session", map[string]any{"email": "lou@example.com", "password": "lou-password"}))
			if res.Status != 200 {
				t.Fatalf("log in: %d %s", res.Status, res.Body)
			}
			cookie, _, _ := strings.Cut(res.Header.Get("Set-Cookie"), ";")
			return cookie
		}
		stored := func() bool {
			var n int64
			x.DB.Table("platformos_sessions").Count(&n)
			return n > 0
		}
		cookie := login()
		for _, c := range []struct {
			name, query string
			body        any
			status      int
			want        string
		}{
			{"no body", "", nil, 406, "form_configuration_name: can't be blank"},
			{"no name", "", map[string]any{}, 406, "form_configuration_name: can't be blank"},
			{"blank name", "", map[string]any{"form_name": ""}, 406, "form_configuration_name: can't be blank"},
			{"unknown name", "", map[string]any{"form_name": "nope"}, 406, "form_configuration_name: is not a known form configuration"},
			{"the login configuration", "", map[string]any{"form_name": "reference_rest_api_create_session"}, 406, "form_configuration_name: is not a known form configuration"},
			{"a create configuration", "", map[string]any{"form_configuration_name": "reference_rest_api_create_user"}, 406, "form_configuration_name: is not a known form configuration"},
			{"the body's name wins", "?form_name=reference_rest_api_delete_session", map[string]any{"form_name": "nope"}, 406, "form_configuration_name: is not a known form configuration"},
			{"malformed JSON", "", `{"form_name":`, 400, "base: is not valid JSON"},
			{"a name that is no string", "", map[string]any{"form_name": 5}, 422, "form_name: is invalid"},
			{"U+0000 in the body's name", "", map[string]any{"form_name": "reference_rest_api_delete_session\x00"}, 422, "form_name: is invalid"},
			{"U+0000 in the query's name", "?form_configuration_name=reference_rest_api_delete_session%00", nil, 422, "form_configuration_name: is invalid"},
		} {
			res := x.call(t, "DELETE", "/api/sessions"+c.query, c.body, "Cookie", cookie)
			if res.Status != c.status || errs(t, res) != c.want {
				t.Errorf("log out, %s: %d %q, want %d %q", c.name, res.Status, errs(t, res), c.status, c.want)
			}
			if !stored() {
				t.Fatalf("log out, %s: the session ended, want it kept", c.name)
			}
		}
		for _, c := range []struct {
			name, query string
			body        any
		}{
			{"named in the query", "?form_configuration_name=reference_rest_api_delete_session", nil},
			{"named in the query by form_name", "?form_name=reference_rest_api_delete_sessions", nil},
			{"the body's name wins", "?form_name=nope", map[string]any{"form_configuration_name": "reference_rest_api_delete_session"}},
		} {
			if !stored() {
				cookie = login()
			}
			res := x.call(t, "DELETE", "/api/sessions"+c.query, c.body, "Cookie", cookie)
			if res.Status != 204 || stored() {
				t.Errorf("log out, %s: %d %s, session stored %v; want 204 and the session ended", c.name, res.Status, res.Body, stored())
			}
		}
		// Without a cookie there is no session to end: a 204 all the same.
		if res := x.call(t, "DELETE", "/api/sessions", map[string]any{"form_name": "reference_rest_api_delete_session"}); res.Status != 204 {
			t.Errorf("log out without a cookie: %d %s, want 204", res.Status, res.Body)
		}
	})
}

// TestSessionAliases: the login configuration answers to platformOS's name, to the plural of
// the vendor's pages and to provisiond's former name; a configuration an operator stores under an
// alias is used instead of the one it stands for.
func TestSessionAliases(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		if res := x.call(t, "POST", "/api/users", create("reference_rest_api_create_user", map[string]any{"first_name": "Al", "email": "al@example.com", "password": "al-password"})); res.Status != 201 {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		for _, name := range []string{"reference_rest_api_create_session", "reference_rest_api_create_sessions", "reference_rest_api_user_session"} {
			if res := x.call(t, "POST", "/api/sessions", create(name, map[string]any{"email": "al@example.com", "password": "al-password"})); res.Status != 200 {
				t.Errorf("log in with %s: %d %s, want 200", name, res.Status, res.Body)
			}
			if res := x.call(t, "POST", "/api/sessions", create(name, map[string]any{"email": "al@example.com"})); res.Status != 422 || errs(t, res) != "password: can't be blank" {
				t.Errorf("log in with %s and no password: %d %q, want 422 password: can't be blank", name, res.Status, errs(t, res))
			}
		}
		for _, name := range []string{"reference_rest_api_delete_sessions", "reference_rest_api_user_session"} {
			if res := x.call(t, "POST", "/api/users", create(name, map[string]any{"first_name": "X", "email": "x@example.com", "password": "x-password"})); res.Status != 406 {
				t.Errorf("create with %s: %d %s, want 406 (an alias has the kind of the configuration it stands for)", name, res.Status, res.Body)
			}
		}

		// An operator makes reference_rest_api_delete_sessions a login configuration of its own:
		// it is no alias any more.
		if _, err := seed(t, x, `platformos:
  form_configurations:
    - {name: reference_rest_api_delete_sessions, kind: session, fields: [email, password], required: [email, password]}
`, true); err != nil {
			t.Fatal(err)
		}
		if res := x.call(t, "POST", "/api/sessions", create("reference_rest_api_delete_sessions", map[string]any{"email": "al@example.com", "password": "al-password"})); res.Status != 200 {
			t.Errorf("log in with the stored reference_rest_api_delete_sessions: %d %s, want 200", res.Status, res.Body)
		}
		if res := x.call(t, "DELETE", "/api/sessions", map[string]any{"form_name": "reference_rest_api_delete_sessions"}); res.Status != 406 {
			t.Errorf("log out with the stored reference_rest_api_delete_sessions (a login configuration): %d %s, want 406", res.Status, res.Body)
		}
	})
}

// TestReferenceFormsMigration: migration 0402 gives a database that has the built-in
// configurations of before platformOS's reference rules: reference_rest_api_update_user requires
// first_name, and reference_rest_api_user_session goes (an alias now). Configurations an operator
// redefined are left alone.
func TestReferenceFormsMigration(t *testing.T) {
	migration := platformos.Migrations()[1]
	if migration.ID != "0402_platformos_reference_forms" {
		t.Fatalf("second migration %s, want 0402_platformos_reference_forms", migration.ID)
	}
	all := `["email","password","external_id","first_name","middle_name","last_name","name","featured","public_profile","profiles","relationship_users","transactables"]`
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		for _, c := range []struct {
			name                 string
			updatePML, updateReq string
			sessionFields        string
			wantRequired         string
			wantSession          bool
		}{
			{"as built in", `0`, `[]`, `["email","password"]`, `["first_name"]`, false},
			{"redefined", `8`, `[]`, `["email"]`, `[]`, true},
		} {
			x := start(t, dialect)
			for _, q := range []string{
				"DELETE FROM platformos_form_configurations WHERE name IN ('reference_rest_api_update_user', 'reference_rest_api_user_session')",
				"INSERT INTO platformos_form_configurations (name, kind, fields, required, password_min_length) VALUES ('reference_rest_api_update_user', 'update', '" + all + "', '" + c.updateReq + "', " + c.updatePML + ")",
				"INSERT INTO platformos_form_configurations (name, kind, fields, required, password_min_length) VALUES ('reference_rest_api_user_session', 'session', '" + c.sessionFields + "', '[\"email\",\"password\"]', 0)",
			} {
				if err := x.DB.Exec(q).Error; err != nil {
					t.Fatalf("%s: %s: %v", c.name, q, err)
				}
			}
			if err := migration.Up(x.DB); err != nil {
				t.Fatalf("%s: migrate: %v", c.name, err)
			}
			var required string
			x.DB.Table("platformos_form_configurations").Where("name = ?", "reference_rest_api_update_user").Pluck("required", &required)
			if required != c.wantRequired {
				t.Errorf("%s: reference_rest_api_update_user requires %s after 0402, want %s", c.name, required, c.wantRequired)
			}
			var n int64
			x.DB.Table("platformos_form_configurations").Where("name = ?", "reference_rest_api_user_session").Count(&n)
			if (n == 1) != c.wantSession {
				t.Errorf("%s: %d reference_rest_api_user_session rows after 0402, want kept %v", c.name, n, c.wantSession)
			}
		}
	})
}
