package platformos_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/config"
	"github.com/provisiond/provisiond/internal/platformos"
)

type pos struct {
	*apitest.Server
	auth string
}

func start(t *testing.T, dialect string) *pos {
	t.Helper()
	s := apitest.Start(t, dialect, apitest.Options{Configure: func(c *config.Config) { c.FixturesFile = "testdata/fixtures.yaml" }})
	return &pos{Server: s, auth: "Token token=" + s.Keys["platformos"]}
}

func (x *pos) call(t *testing.T, method, path string, body any, header ...string) *apitest.Response {
	t.Helper()
	return x.Call(t, method, path, body, append([]string{"Authorization", x.auth}, header...)...)
}

func create(form string, fields map[string]any) map[string]any {
	return map[string]any{"form_configuration_name": form, "form": fields}
}

// errs renders the errors envelope as sorted "field: message" lines.
func errs(t *testing.T, res *apitest.Response) string {
	t.Helper()
	var body struct {
		ID     *int                `json:"id"`
		Errors map[string][]string `json:"errors"`
	}
	res.JSON(t, &body)
	if body.ID != nil {
		t.Errorf("error envelope with id %d", *body.ID)
	}
	var out []string
	for f, msgs := range body.Errors {
		for _, m := range msgs {
			out = append(out, f+": "+m)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

func TestSeedExample(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		res := x.call(t, "POST", "/api/users", create("reference_rest_api_create_user", map[string]any{"first_name": "Example", "email": "example1@example.com", "password": "somepassword"}))
		if res.Status != http.StatusCreated || res.Header.Get("Content-Type") != "application/vnd.api+json" {
			t.Fatalf("create: %d %s %s", res.Status, res.Header.Get("Content-Type"), res.Body)
		}
		m := res.Map(t)
		if id, ok := m["id"].(float64); !ok || id < 1 || fmt.Sprint(m["errors"]) != "map[]" {
			t.Errorf("body %s, want {id: <int>, errors: {}}", res.Body)
		}
		// form_name is the newer name of the key.
		res = x.call(t, "POST", "/api/users", map[string]any{"form_name": "reference_rest_api_create_user", "form": map[string]any{"first_name": "Two", "email": "two@example.com", "password": "somepassword"}})
		if res.Status != http.StatusCreated {
			t.Errorf("create with form_name: %d %s", res.Status, res.Body)
		}
	})
}

func TestValidation(t *testing.T) {
	cases := []struct {
		name, form string
		fields     map[string]any
		status     int
		want       string
	}{
		{"no configuration", "", map[string]any{"email": "a@example.com"}, 406, "form_configuration_name: can't be blank"},
		{"unknown configuration", "nope", map[string]any{"email": "a@example.com"}, 406, "form_configuration_name: is not a known form configuration"},
		{"update configuration on create", "reference_rest_api_update_user", map[string]any{"email": "a@example.com"}, 406, "form_configuration_name: is not a known form configuration"},
		{"everything missing", "reference_rest_api_create_user", map[string]any{}, 422, "email: can't be blank; first_name: can't be blank; password: can't be blank"},
		{"blank values", "reference_rest_api_create_user", map[string]any{"email": " ", "first_name": "", "password": "abcdef"}, 422, "email: can't be blank; first_name: can't be blank"},
		{"email invalid", "reference_rest_api_create_user", map[string]any{"email": "not-an-email", "first_name": "A", "password": "abcdef"}, 422, "email: is invalid"},
		{"email taken in another case", "reference_rest_api_create_user", map[string]any{"email": "TAKEN@example.com", "first_name": "A", "password": "abcdef"}, 422, "email: has already been taken"},
		{"password too short", "reference_rest_api_create_user", map[string]any{"email": "p@example.com", "first_name": "A", "password": "abcde"}, 422, "password: is too short (minimum is 6 characters)"},
		{"field not allowed", "signup_strict", map[string]any{"email": "s@example.com", "password": "long-enough-pw", "last_name": "L", "first_name": "F"}, 422, "first_name: is not allowed"},
		{"unknown field", "reference_rest_api_create_user", map[string]any{"email": "u@example.com", "first_name": "A", "password": "abcdef", "shoe_size": 42}, 422, "shoe_size: is not allowed"},
		{"wrong type", "reference_rest_api_create_user", map[string]any{"email": "w@example.com", "first_name": "A", "password": "abcdef", "featured": "yes"}, 422, "featured: is invalid"},
		// U+0000: "is invalid" on its field, with the request's other schema problems; in a hash
		// stored as sent (a key or a value, at any depth), on the hash, with the form's other problems.
		{"U+0000 in a field, with another problem", "reference_rest_api_create_user", map[string]any{"email": "nul@example.com", "first_name": "A\x00B", "password": "abcdef", "featured": "yes"}, 422, "featured: is invalid; first_name: is invalid"},
		{"U+0000 in the email and the password", "reference_rest_api_create_user", map[string]any{"email": "a\x00@example.com", "first_name": "A", "password": "abc\x00def"}, 422, "email: is invalid; password: is invalid"},
		{"U+0000 in the configuration's name", "reference_rest_api_create_user\x00", map[string]any{"email": "nul-name@example.com", "first_name": "A", "password": "abcdef"}, 422, "form_configuration_name: is invalid"},
		{"U+0000 in a profile's property, with another problem", "signup_open", map[string]any{"email": "nul-p@example.com", "password": "abc", "profiles": map[string]any{"buyer": map[string]any{"properties": map[string]any{"v": "a\x00b"}}}}, 422, "password: is too short (minimum is 6 characters); profiles: is invalid"},
		{"U+0000 in a profile type", "signup_open", map[string]any{"email": "nul-pt@example.com", "profiles": map[string]any{"bu\x00yer": map[string]any{}}}, 422, "profiles: is invalid"},
		{"U+0000 in a property's name", "signup_open", map[string]any{"email": "nul-pk@example.com", "profiles": map[string]any{"buyer": map[string]any{"properties": map[string]any{"k\x00": 1}}}}, 422, "profiles: is invalid"},
		{"a number beyond float64 beside U+0000", "signup_open", map[string]any{"email": "nul-big@example.com", "profiles": map[string]any{"buyer": map[string]any{"properties": map[string]any{"huge": json.Number("1e400"), "v": "\x00"}}}}, 422, "profiles: is invalid"},
		{"a number beyond float64 is kept", "signup_open", map[string]any{"email": "big@example.com", "profiles": map[string]any{"buyer": map[string]any{"properties": map[string]any{"huge": json.Number("1e400")}}}}, 201, ""},
		{"U+0000 deep in a profile", "signup_open", map[string]any{"email": "nul-pd@example.com", "profiles": map[string]any{"buyer": map[string]any{"extra": []any{map[string]any{"x": []any{"\x00"}}}}}}, 422, "profiles: is invalid"},
		{"U+0000 in relationship users and transactables", "reference_rest_api_create_user", map[string]any{"email": "nul-rt@example.com", "first_name": "A", "password": "abcdef", "relationship_users": map[string]any{"r\x00": 1}, "transactables": map[string]any{"t": []any{"a\x00"}}}, 422, "relationship_users: is invalid; transactables: is invalid"},
		{"U+0000 in a hash the configuration does not accept", "signup_strict", map[string]any{"email": "nul-na@example.com", "password": "long-enough-pw", "last_name": "L", "transactables": map[string]any{"t\x00": "\x00"}}, 422, "transactables: is not allowed"},
		{"several at once", "signup_strict", map[string]any{"email": "bad", "password": "short", "middle_name": "M"}, 422, "email: is invalid; last_name: can't be blank; middle_name: is not allowed; password: is too short (minimum is 10 characters)"},
	}
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		if res := x.call(t, "POST", "/api/users", create("reference_rest_api_create_user", map[string]any{"email": "taken@example.com", "first_name": "T", "password": "abcdef"})); res.Status != 201 {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		for _, c := range cases {
			body := create(c.form, c.fields)
			if c.form == "" {
				body = map[string]any{"form": c.fields}
			}
			res := x.call(t, "POST", "/api/users", body)
			if c.status == http.StatusCreated {
				if res.Status != c.status {
					t.Errorf("%s: %d %s, want 201", c.name, res.Status, res.Body)
				}
				continue
			}
			if res.Status != c.status || errs(t, res) != c.want {
				t.Errorf("%s: %d %q, want %d %q", c.name, res.Status, errs(t, res), c.status, c.want)
			}
		}
		for _, c := range []struct {
			body   string
			status int
			want   string
		}{
			{`{"form_configuration_name": "reference_rest_api_create_user", "form": `, 400, "base: is not valid JSON"},
			{`{"form_configuration_name": "reference_rest_api_create_user"}`, 422, "form: can't be blank"},
			// the schema's anyOf: one of the two names is required, else the vendor's 406
			{`{"form": {}}`, 406, "form_configuration_name: can't be blank"},
			{`{"form": {"featured": "yes"}, "form_name": null}`, 422, "featured: is invalid; form_name: is invalid"},
			{`{"form_name": "signup_open\u0000", "form": {"email": "nul-fn@example.com"}}`, 422, "form_name: is invalid"},
		} {
			res := x.call(t, "POST", "/api/users", c.body)
			if res.Status != c.status || errs(t, res) != c.want {
				t.Errorf("body %s: %d %q, want %d %q", c.body, res.Status, errs(t, res), c.status, c.want)
			}
		}
	})
}

func TestConfigurationsDecide(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		// The same body: accepted by signup_open (email only required), refused by the built-in
		// create configuration (first_name and password required) and by signup_strict.
		fields := map[string]any{"email": "same@example.com", "last_name": "Same"}
		if res := x.call(t, "POST", "/api/users", create("reference_rest_api_create_user", fields)); res.Status != 422 || errs(t, res) != "first_name: can't be blank; password: can't be blank" {
			t.Errorf("built-in: %d %q", res.Status, errs(t, res))
		}
		if res := x.call(t, "POST", "/api/users", create("signup_strict", fields)); res.Status != 422 || errs(t, res) != "password: can't be blank" {
			t.Errorf("signup_strict: %d %q", res.Status, errs(t, res))
		}
		if res := x.call(t, "POST", "/api/users", create("signup_open", fields)); res.Status != 201 {
			t.Errorf("signup_open: %d %s", res.Status, res.Body)
		}
	})
}

func TestUpdateAndSessions(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		res := x.call(t, "POST", "/api/users", create("reference_rest_api_create_user", map[string]any{
			"first_name": "Ann", "email": "ann@example.com", "password": "ann-password",
			"profiles": map[string]any{"buyer": map[string]any{"properties": map[string]any{"age": 30, "big": json.Number("12345678901234567890")}}},
		}))
		if res.Status != 201 {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		id := fmt.Sprint(res.Map(t)["id"])
		update := func(fields map[string]any) *apitest.Response {
			return x.call(t, "PUT", "/api/users/"+id, create("update_any", fields))
		}
		// The reference update configuration requires first_name, as platformOS's does; the
		// refused update writes nothing.
		if res := x.call(t, "PUT", "/api/users/"+id, create("reference_rest_api_update_user", map[string]any{"last_name": "Refused"})); res.Status != 422 || errs(t, res) != "first_name: can't be blank" {
			t.Errorf("PUT reference_rest_api_update_user without first_name: %d %q, want 422 first_name: can't be blank", res.Status, errs(t, res))
		}
		if res := x.call(t, "PUT", "/api/users/"+id, create("reference_rest_api_update_user", map[string]any{"first_name": " ", "last_name": "Refused"})); res.Status != 422 || errs(t, res) != "first_name: can't be blank" {
			t.Errorf("PUT reference_rest_api_update_user with a blank first_name: %d %q", res.Status, errs(t, res))
		}
		var named int64
		x.DB.Table("platformos_users").Where("id = ? AND last_name IS NOT NULL", id).Count(&named)
		if named != 0 {
			t.Errorf("a last_name stored by refused updates, want none")
		}
		if res := x.call(t, "PUT", "/api/users/"+id, create("reference_rest_api_update_user", map[string]any{"first_name": "Anne"})); res.Status != 204 {
			t.Errorf("PUT reference_rest_api_update_user with first_name: %d %s, want 204", res.Status, res.Body)
		}
		if res := update(map[string]any{"last_name": "Example", "profiles": map[string]any{"seller": map[string]any{"properties": map[string]any{"shop": "A"}}}}); res.Status != 204 || len(res.Body) != 0 {
			t.Errorf("PUT: %d %s, want 204 and no body", res.Status, res.Body)
		}
		var profiles string
		x.DB.Table("platformos_users").Where("id = ?", id).Pluck("profiles", &profiles)
		if !strings.Contains(profiles, `"big":12345678901234567890`) || !strings.Contains(profiles, `"seller"`) || !strings.Contains(profiles, `"age":30`) {
			t.Errorf("stored profiles %s, want both profile types with their properties as sent", profiles)
		}
		if res := update(map[string]any{"email": ""}); res.Status != 422 || errs(t, res) != "email: can't be blank" {
			t.Errorf("PUT blank email: %d %q", res.Status, errs(t, res))
		}
		if res := x.call(t, "PUT", "/api/users/999999", create("reference_rest_api_update_user", map[string]any{"last_name": "X"})); res.Status != 404 {
			t.Errorf("PUT unknown id: %d %s", res.Status, res.Body)
		}
		if res := x.call(t, "PUT", "/api/users/abc", create("reference_rest_api_update_user", map[string]any{"last_name": "X"})); res.Status != 404 {
			t.Errorf("PUT non-numeric id: %d %s", res.Status, res.Body)
		}
		if res := x.call(t, "PUT", "/api/users/"+id, create("nope", map[string]any{"last_name": "X"})); res.Status != 406 {
			t.Errorf("PUT unknown configuration: %d %s", res.Status, res.Body)
		}

		session := func(email, pw string) *apitest.Response {
			return x.call(t, "POST", "/api/sessions", create("reference_rest_api_create_session", map[string]any{"email": email, "password": pw}))
		}
		if res := session("ann@example.com", "wrong-password"); res.Status != 422 || errs(t, res) != "base: Invalid email or password" {
			t.Errorf("wrong password: %d %q", res.Status, errs(t, res))
		}
		if res := session("ghost@example.com", "ann-password"); res.Status != 422 {
			t.Errorf("unknown email: %d", res.Status)
		}
		res = session("ANN@example.com", "ann-password")
		cookie := res.Header.Get("Set-Cookie")
		if res.Status != 200 || string(res.Body) != "{}\n" || !strings.Contains(cookie, "_platformos_session=") || !strings.Contains(cookie, "HttpOnly") {
			t.Fatalf("login: %d %s cookie %q", res.Status, res.Body, cookie)
		}
		var sessions int64
		x.DB.Table("platformos_sessions").Count(&sessions)
		if sessions != 1 {
			t.Errorf("%d sessions stored, want 1", sessions)
		}
		value := strings.TrimPrefix(strings.Split(cookie, ";")[0], "_platformos_session=")
		res = x.call(t, "DELETE", "/api/sessions", map[string]any{"form_configuration_name": "reference_rest_api_delete_session"}, "Cookie", "_platformos_session="+value)
		if res.Status != 204 || !strings.Contains(res.Header.Get("Set-Cookie"), "Max-Age=0") {
			t.Errorf("logout: %d cookie %q", res.Status, res.Header.Get("Set-Cookie"))
		}
		x.DB.Table("platformos_sessions").Count(&sessions)
		if sessions != 0 {
			t.Errorf("%d sessions left after logout, want 0", sessions)
		}
	})
}

func TestAuthentication(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		key := x.Keys["platformos"]
		body := create("reference_rest_api_create_user", map[string]any{"first_name": "A", "email": "auth@example.com", "password": "abcdef"})
		for _, c := range []struct {
			header string
			status int
		}{
			{"", 401},
			{"Token token=wrong-token-of-nobody", 401},
			{"Bearer " + key, 401},
			{"Token " + key, 401},
			{`Token token="` + key + `"`, 201},
		} {
			h := []string{}
			if c.header != "" {
				h = []string{"Authorization", c.header}
			}
			res := x.Call(t, "POST", "/api/users", body, h...)
			if res.Status != c.status {
				t.Errorf("Authorization %q: %d %s, want %d", c.header, res.Status, res.Body, c.status)
			}
			if c.status == 401 && errs(t, res) != "base: Invalid Authentication" {
				t.Errorf("401 body %s", res.Body)
			}
		}
		xkey := x.Keys["xcart"]
		if res := x.Call(t, "POST", "/api/users", body, "Authorization", "Token token="+xkey); res.Status != 401 {
			t.Errorf("an xcart key: %d, want 401", res.Status)
		}
	})
}

// TestSessionWritesOnAFailingDatabase: a database that cannot write a session (here: the
// request's deadline has passed) is unavailable, answered 503, not an internal error.
func TestSessionWritesOnAFailingDatabase(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		st := platformos.NewStore(start(t, dialect).DB)
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel()
		for name, err := range map[string]error{
			"create": st.CreateSession(ctx, "hash", 1, time.Now().Add(time.Hour)),
			"delete": st.DeleteSession(ctx, "hash"),
		} {
			if kind := apperr.KindOf(err); kind != apperr.KindUnavailable {
				t.Errorf("%s a session past the deadline: %v (kind %v), want unavailable", name, err, kind)
			}
		}
	})
}

// TestSessionsRace logs one user in many times at once (each login stores a session of its
// own), then logs one of those sessions out many times at once, with the body of platformOS's
// example: every login and logout is answered, that session is gone and every other one stays.
func TestSessionsRace(t *testing.T) {
	const n = 8
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		if res := x.call(t, "POST", "/api/users", create("reference_rest_api_create_user", map[string]any{
			"first_name": "Ann", "email": "race@example.com", "password": "race-password",
		})); res.Status != 201 {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		logins := apitest.Concurrently(n, func(int) *apitest.Response {
			return x.call(t, "POST", "/api/sessions", create("reference_rest_api_create_session", map[string]any{"email": "race@example.com", "password": "race-password"}))
		})
		for i, res := range logins {
			if res.Status != 200 {
				t.Fatalf("login %d of %d at once: %d %s", i, n, res.Status, res.Body)
			}
		}
		count := func() int64 {
			var sessions int64
			x.DB.Table("platformos_sessions").Count(&sessions)
			return sessions
		}
		if got := count(); got != n {
			t.Fatalf("%d concurrent logins stored %d sessions, want %d", n, got, n)
		}
		cookie := strings.Split(logins[0].Header.Get("Set-Cookie"), ";")[0]
		logouts := apitest.Concurrently(n, func(int) *apitest.Response {
			return x.call(t, "DELETE", "/api/sessions", map[string]any{"form_name": "reference_rest_api_delete_sessions"}, "Cookie", cookie)
		})
		for i, res := range logouts {
			if res.Status != 204 {
				t.Errorf("logout %d of one session %d times at once: %d %s", i, n, res.Status, res.Body)
			}
		}
		if got := count(); got != n-1 {
			t.Errorf("after logging one session out: %d sessions, want %d", got, n-1)
		}
	})
}
