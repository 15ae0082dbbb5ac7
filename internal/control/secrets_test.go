package control_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
)

// wire sends requests to the vendor APIs and keeps every secret that went over the wire, in
// either direction, and which request each one was.
type wire struct {
	c        *ctl
	secrets  map[string]string // secret → what it is
	requests map[string]string // X-Request-Id → the request's name
}

// secret is a new secret, distinct in every run, kept as what.
func (w *wire) secret(t *testing.T, what string) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return w.keep("Sx"+hex.EncodeToString(b), what)
}

// keep adds secret, a value read off the wire, as what.
func (w *wire) keep(secret, what string) string {
	w.secrets[secret] = what
	return secret
}

// send sends one request to a vendor API, under a request id of its own, and fails unless it is
// answered with status; body is as apitest.Server.Call takes it, a string one being sent as a
// form unless header names another Content-Type.
func (w *wire) send(t *testing.T, name string, status int, method, path string, body any, header ...string) *apitest.Response {
	t.Helper()
	id := fmt.Sprintf("secrets-%03d", len(w.requests)+1)
	w.requests[id] = name
	header = append(header, "X-Request-Id", id)
	if _, ok := body.(string); ok {
		header = append([]string{"Content-Type", "application/x-www-form-urlencoded"}, header...)
	}
	res := w.c.Call(t, method, path, body, header...)
	if res.Status != status {
		t.Fatalf("%s: %s %s answered %d %s, want %d", name, method, path, res.Status, res.Body, status)
	}
	return res
}

// field is the string member name of res's JSON object body, kept as a secret when it is one.
func field(t *testing.T, res *apitest.Response, name string) string {
	t.Helper()
	s, ok := res.Map(t)[name].(string)
	if !ok || s == "" {
		t.Fatalf("no %s in %s", name, res.Body)
	}
	return s
}

func form(pairs ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Set(pairs[i], pairs[i+1])
	}
	return v.Encode()
}

// TestNoSecretInJournalOrLog sends every request of the five vendor APIs that carries a secret,
// in either direction (passwords, API keys in headers and in the query, JWTs, access tokens,
// session cookies), in JSON and form bodies, with wrong keys and refused passwords too: neither
// the journal nor the server's log holds any of those secrets.
func TestNoSecretInJournalOrLog(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		c := start(t, dialect, apitest.Options{})
		w := &wire{c: c, secrets: map[string]string{}, requests: map[string]string{}}
		keys := map[string]string{}
		doc := "credentials:\n"
		for _, api := range []string{"xcart", "platformos", "occadmin", "activeplatform"} {
			keys[api] = w.secret(t, api+" API key")
			doc += fmt.Sprintf("  - {api: %s, secret: %s}\n", api, keys[api])
		}
		adaPassword := w.secret(t, "OCC store member password (fixtures)")
		doc += "occstore:\n  organizations:\n    - id: or-acme\n      name: Acme\n      admins:\n" +
			"        - {email: ada@acme.example, firstName: Ada, lastName: Admin, password: " + adaPassword + "}\n"
		if res := c.control(t, "POST", "/fixtures", doc, "Content-Type", "application/yaml"); res.Status != http.StatusOK {
			t.Fatalf("fixtures: %d %s", res.Status, res.Body)
		}

		xcart(t, w, keys["xcart"])
		platformOS(t, w, keys["platformos"], keys["xcart"])
		occAdmin(t, w, keys["occadmin"])
		occStore(t, w, adaPassword)
		activePlatform(t, w, keys["activeplatform"])

		// Each entry as the control API answers it, whole: every field is searched.
		res := c.control(t, "GET", "/requests?limit=100000", nil)
		var page struct{ Items []json.RawMessage }
		res.JSON(t, &page)
		if len(page.Items) != len(w.requests) {
			t.Errorf("%d requests journaled, want the %d sent", len(page.Items), len(w.requests))
		}
		for _, raw := range page.Items {
			var e journaled
			if err := json.Unmarshal(raw, &e); err != nil {
				t.Fatal(err)
			}
			for secret, what := range w.secrets {
				if strings.Contains(string(raw), secret) {
					t.Errorf("the journal entry of %q (%s %s) holds the %s: %s", w.requests[e.RequestID], e.Method, e.Path, what, raw)
				}
			}
		}
		logs := c.Logs.String()
		for id, name := range w.requests {
			if !strings.Contains(logs, `"request_id":"`+id+`"`) {
				t.Errorf("the log has no record of %q (%s): nothing of it was searched", name, id)
			}
		}
		for line := range strings.Lines(logs) {
			for secret, what := range w.secrets {
				if strings.Contains(line, secret) {
					t.Errorf("the log holds the %s, in a record of %q: %s", what, w.requests[requestID(line)], line)
				}
			}
		}
	})
}

// requestID is the request id of a JSON log record, "" when it has none.
func requestID(line string) string {
	_, rest, ok := strings.Cut(line, `"request_id":"`)
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, `"`)
	return id
}

// xcart sends every X-Cart request with a secret: a password in a create, an update and a login,
// the JWT out of a login and back in, the API key, wrong ones, and passwords in odd spellings.
func xcart(t *testing.T, w *wire, key string) {
	t.Helper()
	apiKey := []string{"X-Auth-Token", key}
	pw := w.secret(t, "X-Cart administrator password")
	res := w.send(t, "X-Cart create an administrator with a password", 201, "POST", "/api/profiles",
		map[string]any{"login": "admin@example.com", "password": pw, "access_level": 100}, apiKey...)
	admin := fmt.Sprint(res.Map(t)["id"])
	res = w.send(t, "X-Cart login", 200, "POST", "/api-login/check", map[string]any{"username": "admin@example.com", "password": pw})
	jwt := []string{"Authorization", "Bearer " + w.keep(field(t, res, "token"), "X-Cart JWT")}
	w.send(t, "X-Cart list with the JWT", 200, "GET", "/api/profiles", nil, jwt...)
	w.send(t, "X-Cart get with the API key", 200, "GET", "/api/profiles/"+admin, nil, apiKey...)
	pw2 := w.secret(t, "X-Cart changed password")
	w.send(t, "X-Cart update the password with the JWT", 200, "PUT", "/api/profiles/"+admin, map[string]any{"password": pw2}, jwt...)
	res = w.send(t, "X-Cart login with the changed password", 200, "POST", "/api-login/check", map[string]any{"username": "admin@example.com", "password": pw2})
	jwt2 := []string{"Authorization", "Bearer " + w.keep(field(t, res, "token"), "second X-Cart JWT")}
	res = w.send(t, "X-Cart create a customer with a password", 201, "POST", "/api/profiles",
		map[string]any{"login": "customer@example.com", "password": w.secret(t, "X-Cart customer password")}, jwt2...)
	customer := fmt.Sprint(res.Map(t)["id"])
	w.send(t, "X-Cart update a password with the API key", 200, "PUT", "/api/profiles/"+customer,
		map[string]any{"password": w.secret(t, "X-Cart customer's new password")}, apiKey...)
	w.send(t, "X-Cart delete with the JWT", 204, "DELETE", "/api/profiles/"+customer, nil, jwt2...)
	w.send(t, "X-Cart login with the old password", 401, "POST", "/api-login/check", map[string]any{"username": "admin@example.com", "password": pw})
	w.send(t, "X-Cart login with a wrong password", 401, "POST", "/api-login/check",
		map[string]any{"username": "admin@example.com", "password": w.secret(t, "wrong X-Cart password")})
	w.send(t, "X-Cart a wrong API key", 401, "GET", "/api/profiles", nil, "X-Auth-Token", w.secret(t, "wrong X-Cart API key"))
	w.send(t, "X-Cart a wrong JWT", 401, "GET", "/api/profiles", nil, "Authorization", "Bearer "+w.secret(t, "wrong X-Cart JWT"))
	w.send(t, "X-Cart a password too short", 422, "POST", "/api/profiles",
		map[string]any{"login": "short@example.com", "password": w.secret(t, "X-Cart password too short")[:7]}, apiKey...)
	w.send(t, "X-Cart the password member spelt in capitals", 201, "POST", "/api/profiles",
		map[string]any{"login": "capitals@example.com", "PASSWORD": w.secret(t, "X-Cart password spelt PASSWORD")}, apiKey...)
	w.send(t, "X-Cart the password member spelt with an escape", 201, "POST", "/api/profiles",
		`{"login":"escaped@example.com","pass\u0077ord":"`+w.secret(t, "X-Cart password spelt with an escape")+`"}`, append([]string{"Content-Type", "application/json"}, apiKey...)...)
	w.send(t, "X-Cart a body that is not JSON", 400, "POST", "/api/profiles",
		`{"login":"broken@example.com","password":"`+w.secret(t, "X-Cart password in broken JSON")+`"`, append([]string{"Content-Type", "application/json"}, apiKey...)...)
	w.send(t, "X-Cart a password in a second JSON value", 400, "POST", "/api/profiles",
		`{"login":"second@example.com"} {"password":"`+w.secret(t, "X-Cart password in a second JSON value")+`"}`, append([]string{"Content-Type", "application/json"}, apiKey...)...)
	w.send(t, "X-Cart the ActivePlatform query key sent to X-Cart", 401, "GET", "/api/profiles?api_token="+w.secret(t, "API key in a query to the wrong API"), nil)
}

// platformOS sends every platformOS request with a secret: a password in a create, an update and a
// session, the session cookie out and back in, the token (plain and quoted), a wrong one, and
// X-Cart's key sent to platformOS.
func platformOS(t *testing.T, w *wire, key, xcartKey string) {
	t.Helper()
	token := []string{"Authorization", "Token token=" + key}
	pw := w.secret(t, "platformOS password")
	user := func(form string, fields map[string]any) map[string]any {
		return map[string]any{"form_configuration_name": form, "form": fields}
	}
	res := w.send(t, "platformOS create a user with a password", 201, "POST", "/api/users",
		user("reference_rest_api_create_user", map[string]any{"email": "pos@example.com", "first_name": "P", "password": pw}), token...)
	id := fmt.Sprint(res.Map(t)["id"])
	pw2 := w.secret(t, "platformOS changed password")
	w.send(t, "platformOS update the password", 204, "PUT", "/api/users/"+id,
		user("reference_rest_api_update_user", map[string]any{"first_name": "P", "password": pw2}), "Authorization", `Token token="`+key+`"`)
	res = w.send(t, "platformOS log in", 200, "POST", "/api/sessions",
		user("reference_rest_api_create_session", map[string]any{"email": "pos@example.com", "password": pw2}), token...)
	cookie, _, _ := strings.Cut(res.Header.Get("Set-Cookie"), ";")
	name, value, _ := strings.Cut(cookie, "=")
	if name != "_platformos_session" || value == "" {
		t.Fatalf("platformOS log in: Set-Cookie %q", res.Header.Get("Set-Cookie"))
	}
	w.keep(value, "platformOS session cookie")
	w.send(t, "platformOS log out", 204, "DELETE", "/api/sessions", map[string]any{"form_configuration_name": "reference_rest_api_delete_session"}, append([]string{"Cookie", cookie}, token...)...)
	w.send(t, "platformOS log in with a wrong password", 422, "POST", "/api/sessions",
		user("reference_rest_api_create_session", map[string]any{"email": "pos@example.com", "password": w.secret(t, "wrong platformOS password")}), token...)
	w.send(t, "platformOS a password too short", 422, "POST", "/api/users",
		user("reference_rest_api_create_user", map[string]any{"email": "short@example.com", "first_name": "S", "password": w.secret(t, "platformOS password too short")[:5]}), token...)
	w.send(t, "platformOS a wrong token", 401, "POST", "/api/users",
		user("reference_rest_api_create_user", map[string]any{"email": "x@example.com", "first_name": "X", "password": w.secret(t, "platformOS password with a wrong token")}),
		"Authorization", "Token token="+w.secret(t, "wrong platformOS token"))
	w.send(t, "platformOS the X-Cart key sent to platformOS", 401, "POST", "/api/users",
		user("reference_rest_api_create_user", map[string]any{"email": "y@example.com", "first_name": "Y", "password": w.secret(t, "platformOS password with the X-Cart key")}),
		"X-Auth-Token", xcartKey)
}

// occAdmin sends every OCC admin request: the application key in a form login, the access tokens
// out of the login and the refresh and back in to every operation, passwords of new profiles and
// a profile's password login, and wrong keys, passwords and tokens.
func occAdmin(t *testing.T, w *wire, key string) {
	t.Helper()
	res := w.send(t, "OCC admin login", 200, "POST", "/ccadmin/v1/login", "grant_type=client_credentials", "Authorization", "Bearer "+key)
	access := w.keep(field(t, res, "access_token"), "OCC admin access token")
	res = w.send(t, "OCC admin refresh", 200, "POST", "/ccadmin/v1/refresh", nil, "Authorization", "Bearer "+access)
	bearer := []string{"Authorization", "Bearer " + w.keep(field(t, res, "access_token"), "refreshed OCC admin access token")}
	profile := func(email, what string) map[string]any {
		return map[string]any{"email": email, "firstName": "A", "lastName": "B", "roles": []string{"adminRole"}, "password": w.secret(t, what)}
	}
	withPassword := profile("a@example.com", "OCC admin profile password")
	res = w.send(t, "OCC admin create a profile with a password", 200, "POST", "/ccadmin/v1/adminProfiles/", withPassword, bearer...)
	id := field(t, res, "id")
	w.send(t, "OCC admin create a profile with a password, without the slash", 200, "POST", "/ccadmin/v1/adminProfiles",
		profile("b@example.com", "OCC admin profile password (no slash)"), bearer...)
	w.send(t, "OCC admin list profiles", 200, "GET", "/ccadmin/v1/adminProfiles", nil, bearer...)
	w.send(t, "OCC admin get a profile", 200, "GET", "/ccadmin/v1/adminProfiles/"+id, nil, bearer...)
	w.send(t, "OCC admin update a profile", 200, "PUT", "/ccadmin/v1/adminProfiles/"+id, map[string]any{"lastName": "C"}, bearer...)
	w.send(t, "OCC admin list roles", 200, "GET", "/ccadmin/v1/adminRoles", nil, bearer...)
	w.send(t, "OCC admin login with a wrong key", 401, "POST", "/ccadmin/v1/login", "grant_type=client_credentials", "Authorization", "Bearer "+w.secret(t, "wrong OCC application key"))
	w.send(t, "OCC admin the application key as an access token", 401, "GET", "/ccadmin/v1/adminRoles", nil, "Authorization", "Bearer "+key)
	w.send(t, "OCC admin a wrong access token", 401, "POST", "/ccadmin/v1/refresh", nil, "Authorization", "Bearer "+w.secret(t, "wrong OCC admin access token"))
	res = w.send(t, "OCC admin password login", 200, "POST", "/ccadmin/v1/login",
		form("grant_type", "password", "username", "a@example.com", "password", withPassword["password"].(string)))
	own := []string{"Authorization", "Bearer " + w.keep(field(t, res, "access_token"), "OCC admin profile's access token")}
	w.send(t, "OCC admin current profile", 200, "GET", "/ccadmin/v1/adminProfiles/current", nil, own...)
	w.send(t, "OCC admin logout", 200, "POST", "/ccadmin/v1/logout", nil, own...)
	w.send(t, "OCC admin password login with a wrong password", 401, "POST", "/ccadmin/v1/login",
		form("grant_type", "password", "username", "a@example.com", "password", w.secret(t, "wrong OCC admin profile password")))
}

// occStore sends every OCC store request: the password of a form login, the access tokens out of
// the login and the refresh and back in to every operation, a refused member password, and wrong
// passwords and tokens.
func occStore(t *testing.T, w *wire, password string) {
	t.Helper()
	res := w.send(t, "OCC store login", 200, "POST", "/ccstore/v1/login", form("grant_type", "password", "username", "ada@acme.example", "password", password))
	access := w.keep(field(t, res, "access_token"), "OCC store access token")
	res = w.send(t, "OCC store refresh", 200, "POST", "/ccstore/v1/refresh", nil, "Authorization", "Bearer "+access)
	bearer := []string{"Authorization", "Bearer " + w.keep(field(t, res, "access_token"), "refreshed OCC store access token")}
	member := func(email string) map[string]any {
		return map[string]any{"firstName": "M", "lastName": "N", "email": email, "active": true, "receiveEmail": "no", "roles": []map[string]string{{"function": "buyer"}}}
	}
	res = w.send(t, "OCC store create a member", 200, "POST", "/ccstore/v1/organizationMembers", member("m@example.com"), bearer...)
	id := field(t, res, "id")
	withPassword := member("p@example.com")
	withPassword["password"] = w.secret(t, "OCC store member password (refused)")
	w.send(t, "OCC store create a member with a password", 400, "POST", "/ccstore/v1/organizationMembers", withPassword, bearer...)
	w.send(t, "OCC store list members", 200, "GET", "/ccstore/v1/organizationMembers", nil, bearer...)
	w.send(t, "OCC store get a member", 200, "GET", "/ccstore/v1/organizationMembers/"+id, nil, bearer...)
	w.send(t, "OCC store update a member", 200, "PUT", "/ccstore/v1/organizationMembers/"+id, map[string]any{"lastName": "O"}, bearer...)
	w.send(t, "OCC store login with a wrong password", 401, "POST", "/ccstore/v1/login",
		form("grant_type", "password", "username", "ada@acme.example", "password", w.secret(t, "wrong OCC store password")))
	w.send(t, "OCC store a wrong access token", 401, "GET", "/ccstore/v1/organizationMembers", nil, "Authorization", "Bearer "+w.secret(t, "wrong OCC store access token"))
	w.send(t, "OCC store current profile", 200, "GET", "/ccstore/v1/profiles/current", nil, bearer...)
	w.send(t, "OCC store logout", 200, "POST", "/ccstore/v1/logout", nil, bearer...)
}

// activePlatform sends every ActivePlatform operation (with and without .json) with the key in the
// query, passwords in JSON and form bodies (also as Rack reads odd form names), a wrong key and a
// refused password.
func activePlatform(t *testing.T, w *wire, key string) {
	t.Helper()
	q := "?api_token=" + key
	user := func(email, what string) map[string]any {
		return map[string]any{"first_name": "A", "last_name": "P", "email": email, "password": w.secret(t, what)}
	}
	res := w.send(t, "ActivePlatform create a user (JSON)", 201, "POST", "/api/vendor/v1/users"+q, user("a@example.com", "ActivePlatform password (JSON)"))
	id := fmt.Sprint(res.Map(t)["id"])
	w.send(t, "ActivePlatform create a user (.json, form)", 201, "POST", "/api/vendor/v1/users.json"+q,
		form("first_name", "F", "last_name", "P", "email", "f@example.com", "password", w.secret(t, "ActivePlatform password (form)")))
	w.send(t, "ActivePlatform update the password (JSON)", 200, "PUT", "/api/vendor/v1/users/"+id+q, map[string]any{"password": w.secret(t, "ActivePlatform new password (JSON)")})
	w.send(t, "ActivePlatform update the password (.json, form)", 200, "PUT", "/api/vendor/v1/users/"+id+".json"+q,
		form("password", w.secret(t, "ActivePlatform new password (form)")))
	w.send(t, "ActivePlatform list users", 200, "GET", "/api/vendor/v1/users"+q, nil)
	w.send(t, "ActivePlatform list users (.json)", 200, "GET", "/api/vendor/v1/users.json"+q+"&per_page=5", nil)
	w.send(t, "ActivePlatform get a user", 200, "GET", "/api/vendor/v1/users/"+id+q, nil)
	w.send(t, "ActivePlatform get a user (.json)", 200, "GET", "/api/vendor/v1/users/"+id+".json"+q, nil)
	w.send(t, "ActivePlatform a wrong token", 401, "GET", "/api/vendor/v1/users?api_token="+w.secret(t, "wrong ActivePlatform token"), nil)
	noDigit := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return 'g' + r - '0'
		}
		return r
	}, w.secret(t, "ActivePlatform password the policy refuses (digits and all)"))
	w.send(t, "ActivePlatform a password the policy refuses", 400, "POST", "/api/vendor/v1/users"+q,
		map[string]any{"first_name": "W", "last_name": "P", "email": "w@example.com", "password": w.keep(noDigit, "ActivePlatform password the policy refuses")})
	w.send(t, "ActivePlatform a form password after a space", 201, "POST", "/api/vendor/v1/users"+q,
		"first_name=S&last_name=P&email=s%40example.com&  password="+w.secret(t, "ActivePlatform password after a space"))
	w.send(t, "ActivePlatform a form field name percent-encoded", 201, "POST", "/api/vendor/v1/users"+q,
		"first_name=E&last_name=P&email=e%40example.com&pass%77ord="+w.secret(t, "ActivePlatform password under a percent-encoded name"))
	w.send(t, "ActivePlatform a form password nested", 201, "POST", "/api/vendor/v1/users"+q,
		"first_name=N&last_name=P&email=n%40example.com&password="+w.secret(t, "ActivePlatform password (nested form test)")+"&user%5Bpassword%5D="+w.secret(t, "ActivePlatform nested form password"))
}
