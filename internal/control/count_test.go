package control_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
)

// count is how many journaled requests the matcher selects.
func (c *ctl) count(t *testing.T, matcher map[string]any) int {
	t.Helper()
	res := c.control(t, "POST", "/requests/count", matcher)
	if res.Status != http.StatusOK {
		t.Fatalf("count %v: %d %s", matcher, res.Status, res.Body)
	}
	return int(res.Map(t)["count"].(float64))
}

// A client test can count what its client sent: "exactly one profile with this login was
// created", by operation, method, path, status, faulted or not, and by what the JSON or form body
// contains; a reset starts the counts again.
func TestCountRequests(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		c := start(t, dialect, apitest.Options{})
		xcart := func(method, path string, body any) *apitest.Response {
			return c.Call(t, method, path, body, "X-Auth-Token", c.Keys["xcart"])
		}
		jane := map[string]any{"login": "jane@example.com", "password": password, "role_ids": []int{1}}
		if res := xcart("POST", "/api/profiles", jane); res.Status != http.StatusCreated {
			t.Fatalf("create jane: %d %s", res.Status, res.Body)
		}
		if res := xcart("POST", "/api/profiles", jane); res.Status != http.StatusBadRequest {
			t.Fatalf("create jane again: %d %s, want 400", res.Status, res.Body)
		}
		c.createProfile(t, "john@example.com")
		xcart("GET", "/api/profiles/1", nil)
		xcart("GET", "/api-login/nothing-here", nil)
		c.addFault(t, map[string]any{"match": map[string]any{"api": "xcart", "operation": "createProfile"}, "action": map[string]any{"type": "status", "status": 503}, "times": 1})
		if res := xcart("POST", "/api/profiles", map[string]any{"login": "jane@example.com"}); res.Status != http.StatusServiceUnavailable {
			t.Fatalf("create jane under a fault: %d %s, want 503", res.Status, res.Body)
		}

		ap := "/api/vendor/v1/users?api_token=" + url.QueryEscape(c.Keys["activeplatform"])
		form := url.Values{"first_name": {"Formy"}, "last_name": {"Doe"}, "password": {password}, "email": {"formy@example.com"}}
		if res := c.Call(t, "POST", ap, form.Encode(), "Content-Type", "application/x-www-form-urlencoded"); res.Status != http.StatusCreated {
			t.Fatalf("ActivePlatform form create: %d %s", res.Status, res.Body)
		}
		if res := c.Call(t, "POST", ap, map[string]any{"first_name": "Jason", "last_name": "Doe", "password": password, "email": "jason@example.com"}); res.Status != http.StatusCreated {
			t.Fatalf("ActivePlatform JSON create: %d %s", res.Status, res.Body)
		}
		apJSON := "/api/vendor/v1/users.json?api_token=" + url.QueryEscape(c.Keys["activeplatform"])
		if res := c.Call(t, "POST", apJSON, map[string]any{"first_name": "Sue", "last_name": "Suffix", "password": password, "email": "sue@example.com"}); res.Status != http.StatusCreated {
			t.Fatalf("ActivePlatform create through users.json: %d %s", res.Status, res.Body)
		}

		for _, tc := range []struct {
			name    string
			matcher map[string]any
			want    int
		}{
			{"everything", map[string]any{}, 9},
			{"one profile created with this login", map[string]any{"api": "xcart", "operation": "createProfile", "status": 201, "body": map[string]any{"login": "jane@example.com"}}, 1},
			{"every create with this login", map[string]any{"api": "xcart", "operation": "createProfile", "body": map[string]any{"login": "jane@example.com"}}, 3},
			{"a nested array item", map[string]any{"body": map[string]any{"role_ids": []int{1}}}, 2},
			{"a value not sent", map[string]any{"body": map[string]any{"login": "jane@example.org"}}, 0},
			{"a secret, which is never journaled", map[string]any{"body": map[string]any{"password": password}}, 0},
			{"refused", map[string]any{"api": "xcart", "status": 400}, 1},
			{"method", map[string]any{"method": "GET"}, 2},
			{"path", map[string]any{"path": "/api/profiles"}, 4},
			{"path exactly", map[string]any{"path": "/api/profiles/"}, 0},
			{"unmatched", map[string]any{"api": "xcart", "operation": "unmatched"}, 1},
			{"faulted", map[string]any{"faulted": true}, 1},
			{"faulted, with its status", map[string]any{"faulted": true, "status": 503, "body": map[string]any{"login": "jane@example.com"}}, 1},
			{"not faulted", map[string]any{"faulted": false}, 8},
			{"another API", map[string]any{"api": "occadmin"}, 0},
			{"a form body", map[string]any{"api": "activeplatform", "operation": "createUser", "body": map[string]any{"email": "formy@example.com", "first_name": "Formy"}}, 1},
			{"form and JSON bodies alike", map[string]any{"api": "activeplatform", "body": map[string]any{"last_name": "Doe"}}, 2},
			{"the operation of users.json, by the path sent", map[string]any{"api": "activeplatform", "operation": "createUserJson", "path": "/api/vendor/v1/users.json"}, 1},
			{"createUser is not createUserJson", map[string]any{"api": "activeplatform", "operation": "createUser"}, 2},
		} {
			if got := c.count(t, tc.matcher); got != tc.want {
				t.Errorf("%s: count %v = %d, want %d", tc.name, tc.matcher, got, tc.want)
			}
		}

		if res := c.control(t, "POST", "/reset", nil); res.Status != http.StatusOK {
			t.Fatalf("reset: %d %s", res.Status, res.Body)
		}
		for _, m := range []map[string]any{{}, {"api": "xcart", "body": map[string]any{"login": "jane@example.com"}}} {
			if got := c.count(t, m); got != 0 {
				t.Errorf("after a reset: count %v = %d, want 0", m, got)
			}
		}
	})
}

// A matcher that names what does not exist is 422 listing every problem; one that is not JSON
// is 400.
func TestCountRefusals(t *testing.T) {
	apitest.ForEachDialect(t, testCountRefusals)
}

func testCountRefusals(t *testing.T, dialect string) {
	c := start(t, dialect, apitest.Options{})
	for _, tc := range []struct {
		name    string
		matcher map[string]any
		fields  []string
	}{
		{"unknown operation", map[string]any{"api": "activeplatform", "operation": "createProfile"}, []string{"operation"}},
		{"operation without api", map[string]any{"operation": "createProfile"}, []string{"operation"}},
		{"unknown API", map[string]any{"api": "shopify"}, []string{"api"}},
		{"every schema problem", map[string]any{"method": "FETCH", "status": 600, "body": "login=x", "faulted": "yes", "query": "a=b"}, []string{"body", "faulted", "method", "query", "status"}},
	} {
		p := problem(t, c.control(t, "POST", "/requests/count", tc.matcher), http.StatusUnprocessableEntity)
		if got := problemFields(p); fmt.Sprint(got) != fmt.Sprint(tc.fields) {
			t.Errorf("%s: the problem lists %v (%v), want %v", tc.name, got, p["errors"], tc.fields)
		}
		if tc.name == "unknown operation" {
			msg := fmt.Sprint(p["errors"])
			for _, op := range []string{"createUser", "createUserJson", "getUser", "getUserJson", "listUsers", "listUsersJson", "updateUser", "updateUserJson"} {
				if !strings.Contains(msg, op) {
					t.Errorf("the problem of an unknown operation does not name ActivePlatform's %s: %s", op, msg)
				}
			}
		}
	}
	for _, body := range []string{`{"api":`, `{"api": xcart}`, `not JSON`} {
		problem(t, c.control(t, "POST", "/requests/count", body), http.StatusBadRequest)
	}
}

// X-Cart's format-suffixed routes are journaled, and matched by fault rules, as the operation
// the client called: createProfileJson for /api/profiles.json, getProfileJsonld for
// /api/profiles/1.jsonld, although both are served by the routes without the suffix.
func TestCountXCartFormatSuffixes(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		c := start(t, dialect, apitest.Options{})
		xcart := func(method, path string, body any) *apitest.Response {
			return c.Call(t, method, path, body, "X-Auth-Token", c.Keys["xcart"])
		}
		if res := xcart("POST", "/api/profiles.json", map[string]any{"login": "suffix@example.com"}); res.Status != http.StatusCreated {
			t.Fatalf("POST /api/profiles.json: %d %s", res.Status, res.Body)
		}
		for _, path := range []string{"/api/profiles/1.jsonld", "/api/profiles/1", "/api/profiles.jsonld"} {
			if res := xcart("GET", path, nil); res.Status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", path, res.Status, res.Body)
			}
		}
		c.addFault(t, map[string]any{"match": map[string]any{"api": "xcart", "operation": "listProfilesJson"}, "action": map[string]any{"type": "status", "status": 503}, "times": 1})
		if res := xcart("GET", "/api/profiles", nil); res.Status != http.StatusOK {
			t.Errorf("GET /api/profiles under a fault of listProfilesJson: %d, want 200", res.Status)
		}
		if res := xcart("GET", "/api/profiles.json", nil); res.Status != http.StatusServiceUnavailable {
			t.Errorf("GET /api/profiles.json under a fault of listProfilesJson: %d, want 503", res.Status)
		}
		for _, tc := range []struct {
			operation string
			want      int
		}{
			{"createProfileJson", 1},
			{"createProfile", 0},
			{"getProfileJsonld", 1},
			{"getProfile", 1},
			{"listProfilesJsonld", 1},
			{"listProfilesJson", 1},
			{"listProfiles", 1},
		} {
			if got := c.count(t, map[string]any{"api": "xcart", "operation": tc.operation}); got != tc.want {
				t.Errorf("count of %s = %d, want %d", tc.operation, got, tc.want)
			}
		}
		if got := c.count(t, map[string]any{"path": "/api/profiles/1.jsonld"}); got != 1 {
			t.Errorf("count of the path /api/profiles/1.jsonld = %d, want 1 (the path as sent)", got)
		}
		// A JSON-LD body is matched like a JSON one, its secrets masked alike.
		ld := map[string]any{"login": "linked@example.com", "password": password}
		if res := c.Call(t, "POST", "/api/profiles.jsonld", ld, "X-Auth-Token", c.Keys["xcart"], "Content-Type", "application/ld+json"); res.Status != http.StatusCreated {
			t.Fatalf("POST /api/profiles.jsonld in ld+json: %d %s", res.Status, res.Body)
		}
		for _, tc := range []struct {
			body map[string]any
			want int
		}{{map[string]any{"login": "linked@example.com"}, 1}, {map[string]any{"password": password}, 0}} {
			if got := c.count(t, map[string]any{"operation": "createProfileJsonld", "api": "xcart", "body": tc.body}); got != tc.want {
				t.Errorf("count of createProfileJsonld with the body %v = %d, want %d", tc.body, got, tc.want)
			}
		}
	})
}

// X-Cart's format-suffixed address routes are journaled, and matched by fault rules, as the
// operation the client called (createProfileAddressJson for /api/profiles/1/addresses.json),
// although the routes without the suffix serve them.
func TestCountXCartAddressFormatSuffixes(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		c := start(t, dialect, apitest.Options{})
		xcart := func(method, path string, body any, header ...string) *apitest.Response {
			return c.Call(t, method, path, body, append([]string{"X-Auth-Token", c.Keys["xcart"]}, header...)...)
		}
		if res := xcart("POST", "/api/profiles", map[string]any{"login": "addresses@example.com"}); res.Status != http.StatusCreated {
			t.Fatalf("POST /api/profiles: %d %s", res.Status, res.Body)
		}
		address := map[string]any{
			"firstname": "Jane", "lastname": "Doe", "phone": "+1 555 0100", "street": "1 Main Street",
			"zipcode": "10001", "city": "New York", "country_code": "US",
		}
		if res := xcart("POST", "/api/profiles/1/addresses.json", address); res.Status != http.StatusCreated {
			t.Fatalf("POST /api/profiles/1/addresses.json: %d %s", res.Status, res.Body)
		}
		address["city"] = "Boston"
		if res := xcart("POST", "/api/profiles/1/addresses.jsonld", address, "Content-Type", "application/ld+json"); res.Status != http.StatusCreated {
			t.Fatalf("POST /api/profiles/1/addresses.jsonld in ld+json: %d %s", res.Status, res.Body)
		}
		c.addFault(t, map[string]any{"match": map[string]any{"api": "xcart", "operation": "getProfileAddressJsonld"}, "action": map[string]any{"type": "status", "status": 503}, "times": 1})
		if res := xcart("GET", "/api/profiles/1/addresses/1", nil); res.Status != http.StatusOK {
			t.Errorf("GET /api/profiles/1/addresses/1 under a fault of getProfileAddressJsonld: %d, want 200", res.Status)
		}
		if res := xcart("GET", "/api/profiles/1/addresses/1.jsonld", nil); res.Status != http.StatusServiceUnavailable {
			t.Errorf("GET /api/profiles/1/addresses/1.jsonld under a fault of getProfileAddressJsonld: %d, want 503", res.Status)
		}
		for _, tc := range []struct {
			operation string
			body      map[string]any
			want      int
		}{
			{"createProfileAddressJson", nil, 1},
			{"createProfileAddressJsonld", nil, 1},
			{"createProfileAddressJsonld", map[string]any{"city": "Boston"}, 1},
			{"createProfileAddress", nil, 0},
			{"getProfileAddressJsonld", nil, 1},
			{"getProfileAddress", nil, 1},
		} {
			match := map[string]any{"api": "xcart", "operation": tc.operation}
			if tc.body != nil {
				match["body"] = tc.body
			}
			if got := c.count(t, match); got != tc.want {
				t.Errorf("count of %s %v = %d, want %d", tc.operation, tc.body, got, tc.want)
			}
		}
	})
}
