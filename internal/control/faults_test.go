package control_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/fault"
	"github.com/provisiond/provisiond/openapi"
)

// rule is a fault rule as the control API answers it.
type rule struct {
	ID     int64
	Match  map[string]any
	Action struct {
		Type       string
		Status     int
		RetryAfter *int `json:"retry_after"`
	}
	Times       *int
	Probability float64
	Remaining   *int
	Matched     int64
	Applied     int64
}

// addFault adds the fault rule in and returns it as answered.
func (c *ctl) addFault(t *testing.T, in map[string]any) rule {
	t.Helper()
	res := c.control(t, "POST", "/faults", in)
	if res.Status != http.StatusCreated {
		t.Fatalf("POST /faults %v: %d %s", in, res.Status, res.Body)
	}
	var r rule
	res.JSON(t, &r)
	if want := fmt.Sprintf("/_provisiond/v1/faults/%d", r.ID); res.Header.Get("Location") != want {
		t.Errorf("POST /faults %v: Location %q, want %q", in, res.Header.Get("Location"), want)
	}
	return r
}

// items are the items of the control API's page at path.
func items[T any](t *testing.T, c *ctl, path string) []T {
	t.Helper()
	res := c.control(t, "GET", path, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, res.Status, res.Body)
	}
	var page struct{ Items []T }
	res.JSON(t, &page)
	return page.Items
}

// faults lists the fault rules.
func (c *ctl) faults(t *testing.T) []rule {
	t.Helper()
	return items[rule](t, c, "/faults")
}

// users is how many users the control API lists for api.
func (c *ctl) users(t *testing.T, api string) float64 {
	t.Helper()
	res := c.control(t, "GET", "/"+api+"/users", nil)
	if res.Status != http.StatusOK {
		t.Fatalf("GET /%s/users: %d %s", api, res.Status, res.Body)
	}
	return res.Map(t)["total"].(float64)
}

// faultedEntry is a journaled request with the fault that answered it.
type faultedEntry struct {
	journaled
	Fault *struct {
		Rule   int64
		Action string
	}
}

// faulted lists the journaled requests a fault rule acted on, newest first.
func (c *ctl) faulted(t *testing.T) []faultedEntry {
	t.Helper()
	return items[faultedEntry](t, c, "/requests?faulted=true")
}

// creator is one vendor API's user create as a client makes it: prepare logs in or seeds what the
// create needs and returns the create of the user with the given email, and the secrets the
// client sent with it (a password, a credential), which no journal entry may hold.
type creator struct {
	api, operation string
	created        int // the status of a create that succeeds
	prepare        func(t *testing.T, c *ctl) (create func(email string) *apitest.Response, secrets []string)
	// The error bodies of the API for 503 and 500, their media type and their schema in the spec.
	unavailable, internal string
	mediaType, schema     string
}

const password = "Fault-Passw0rd-42"

var creators = []creator{
	{
		api: "xcart", operation: "createProfile", created: http.StatusCreated,
		prepare: func(t *testing.T, c *ctl) (func(string) *apitest.Response, []string) {
			return func(email string) *apitest.Response {
				return c.Call(t, "POST", "/api/profiles", map[string]any{"login": email, "password": password}, "X-Auth-Token", c.Keys["xcart"])
			}, []string{password, c.Keys["xcart"]}
		},
		unavailable: `{"type":"https://tools.ietf.org/html/rfc2616#section-10","title":"An error occurred","detail":"Service Unavailable","instance":"/api/profiles"}`,
		internal:    `{"type":"https://tools.ietf.org/html/rfc2616#section-10","title":"An error occurred","detail":"Internal Server Error","instance":"/api/profiles"}`,
		mediaType:   "application/problem+json", schema: "Problem",
	},
	{
		api: "platformos", operation: "createUser", created: http.StatusCreated,
		prepare: func(t *testing.T, c *ctl) (func(string) *apitest.Response, []string) {
			return func(email string) *apitest.Response {
				body := map[string]any{"form_configuration_name": "reference_rest_api_create_user", "form": map[string]any{"email": email, "password": password, "first_name": "Pat"}}
				return c.Call(t, "POST", "/api/users", body, "Authorization", "Token token="+c.Keys["platformos"])
			}, []string{password, c.Keys["platformos"]}
		},
		unavailable: `{"errors":{"base":["Service Unavailable"]},"id":null}`,
		internal:    `{"errors":{"base":["Internal Server Error"]},"id":null}`,
		mediaType:   "application/vnd.api+json", schema: "Errors",
	},
	{
		api: "occadmin", operation: "createAdminProfile", created: http.StatusOK,
		prepare: func(t *testing.T, c *ctl) (func(string) *apitest.Response, []string) {
			token := occToken(t, c, "/ccadmin/v1/login", "grant_type=client_credentials", "Authorization", "Bearer "+c.Keys["occadmin"])
			return func(email string) *apitest.Response {
				body := map[string]any{"firstName": "Amber", "lastName": "Admin", "roles": []string{"adminRole"}, "active": true, "email": email}
				return c.Call(t, "POST", "/ccadmin/v1/adminProfiles/", body, "Authorization", "Bearer "+token)
			}, []string{token, c.Keys["occadmin"]}
		},
		unavailable: `{"errorCode":"503","message":"The service is temporarily unavailable; try again later.","status":"503"}`,
		internal:    `{"errorCode":"22004","message":"An internal error occurred.","status":"500"}`,
		mediaType:   "application/json", schema: "Error",
	},
	{
		api: "occstore", operation: "createMember", created: http.StatusOK,
		prepare: func(t *testing.T, c *ctl) (func(string) *apitest.Response, []string) {
			doc := map[string]any{"occstore": map[string]any{"organizations": []any{map[string]any{
				"id": "or-acme", "name": "Acme",
				"admins": []any{map[string]any{"email": "ada@acme.example", "firstName": "Ada", "lastName": "Admin", "password": password}},
			}}}}
			if res := c.control(t, "POST", "/fixtures", doc); res.Status != http.StatusOK {
				t.Fatalf("seed an OCC organization: %d %s", res.Status, res.Body)
			}
			token := occToken(t, c, "/ccstore/v1/login", "grant_type=password&username=ada%40acme.example&password="+password)
			return func(email string) *apitest.Response {
				body := map[string]any{"firstName": "Bea", "lastName": "Buyer", "roles": []map[string]string{{"function": "buyer"}}, "receiveEmail": "yes", "active": true, "email": email}
				return c.Call(t, "POST", "/ccstore/v1/organizationMembers", body, "Authorization", "Bearer "+token)
			}, []string{token}
		},
		unavailable: `{"errorCode":"503","message":"The service is temporarily unavailable; try again later.","status":"503"}`,
		internal:    `{"errorCode":"22004","message":"An internal error occurred.","status":"500"}`,
		mediaType:   "application/json", schema: "Error",
	},
	{
		api: "activeplatform", operation: "createUser", created: http.StatusCreated,
		prepare: func(t *testing.T, c *ctl) (func(string) *apitest.Response, []string) {
			return func(email string) *apitest.Response {
				body := map[string]any{"first_name": "John", "last_name": "Doe", "password": password, "email": email}
				return c.Call(t, "POST", "/api/vendor/v1/users?api_token="+url.QueryEscape(c.Keys["activeplatform"]), body)
			}, []string{password, c.Keys["activeplatform"]}
		},
		unavailable: `{"error":"Service Unavailable"}`,
		internal:    `{"error":"Internal Server Error"}`,
		mediaType:   "application/json", schema: "Error",
	},
}

// occToken logs in to an OCC API with the form body and returns the access token.
func occToken(t *testing.T, c *ctl, path, form string, header ...string) string {
	t.Helper()
	res := c.Call(t, "POST", path, form, append([]string{"Content-Type", "application/x-www-form-urlencoded"}, header...)...)
	if res.Status != http.StatusOK {
		t.Fatalf("log in at %s: %d %s", path, res.Status, res.Body)
	}
	return res.Map(t)["access_token"].(string)
}

// sameJSON reports whether the JSON texts a and b hold the same value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

// declares reports whether api's spec declares status for operation: a generated client then
// decodes the faulted answer as one the vendor gives.
func declares(t *testing.T, api, operation string, status int) bool {
	t.Helper()
	_, doc, err := openapi.Load(api)
	if err != nil {
		t.Fatal(err)
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.OperationID == operation {
				return op.Responses.Status(status) != nil
			}
		}
	}
	t.Fatalf("%s has no operation %s", api, operation)
	return false
}

// A status fault on each API's create answers that API's own error body for the status, with
// Retry-After only when the rule gives one; nothing is written; the create after the rules are
// used up succeeds; the journal holds each faulted request as sent (secrets masked) with its rule,
// and the rules show what they did.
func TestStatusFaults(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		for _, cr := range creators {
			t.Run(cr.api, func(t *testing.T) {
				c := start(t, dialect, apitest.Options{})
				create, secrets := cr.prepare(t, c)
				before := c.users(t, cr.api)
				match := map[string]any{"api": cr.api, "operation": cr.operation}
				rules := []struct {
					action     map[string]any
					status     int
					retryAfter string
					body       string
				}{
					{map[string]any{"type": "status", "status": 503, "retry_after": 7}, 503, "7", cr.unavailable},
					{map[string]any{"type": "status", "status": 503}, 503, "", cr.unavailable},
					{map[string]any{"type": "status", "status": 500}, 500, "", cr.internal},
				}
				ids := make([]int64, len(rules))
				for i, r := range rules {
					ids[i] = c.addFault(t, map[string]any{"match": match, "action": r.action, "times": 1}).ID
				}
				for i, r := range rules {
					email := fmt.Sprintf("faulted%d@example.com", i)
					res := create(email)
					if res.Status != r.status || res.Header.Get("Retry-After") != r.retryAfter || !sameJSON(t, res.Body, []byte(r.body)) ||
						!strings.HasPrefix(res.Header.Get("Content-Type"), cr.mediaType) {
						t.Errorf("create %s under rule %v: %d, Retry-After %q, %s %s; want %d, Retry-After %q, %s %s",
							email, r.action, res.Status, res.Header.Get("Retry-After"), res.Header.Get("Content-Type"), res.Body, r.status, r.retryAfter, cr.mediaType, r.body)
					}
					// The server's response validation does not see faulted answers (they never
					// reach the API's operation): check them against the spec here.
					if !declares(t, cr.api, cr.operation, r.status) {
						t.Errorf("%s's spec does not declare %d for %s", cr.api, r.status, cr.operation)
					}
					c.ValidateSchema(t, cr.api, cr.schema, res.Body)
				}
				if got := c.users(t, cr.api); got != before {
					t.Errorf("after %d faulted creates %s has %v users, want the %v it had", len(rules), cr.api, got, before)
				}
				if res := create("after@example.com"); res.Status != cr.created {
					t.Errorf("the create after the rules are used up: %d %s, want %d", res.Status, res.Body, cr.created)
				}
				if got := c.users(t, cr.api); got != before+1 {
					t.Errorf("after one create that went through %s has %v users, want %v", cr.api, got, before+1)
				}

				entries := c.faulted(t)
				if len(entries) != len(rules) {
					t.Fatalf("%d faulted requests journaled, want %d: %+v", len(entries), len(rules), entries)
				}
				for i, e := range entries {
					n := len(rules) - 1 - i // newest first
					email := fmt.Sprintf("faulted%d@example.com", n)
					if e.Fault == nil || e.Fault.Rule != ids[n] || e.Fault.Action != "status" || e.Operation != cr.operation ||
						e.Response.Status != rules[n].status || !strings.Contains(e.Request.Body, email) {
						t.Errorf("faulted create %s as journaled: %+v, fault %+v; want rule %d, action status, answer %d and the body sent", email, e.journaled, e.Fault, ids[n], rules[n].status)
					}
					text := fmt.Sprintf("%+v", e)
					for _, secret := range secrets {
						if strings.Contains(text, secret) {
							t.Errorf("faulted create %s: the journal holds a secret: %s", email, text)
						}
					}
				}
				if cr.api != "occadmin" && cr.api != "occstore" && !strings.Contains(entries[0].Request.Body, `"password":"***"`) {
					t.Errorf("the password of a faulted create is not masked: %s", entries[0].Request.Body)
				}

				for i, r := range c.faults(t) {
					if r.ID != ids[i] || r.Times == nil || *r.Times != 1 || r.Remaining == nil || *r.Remaining != 0 || r.Matched != 1 || r.Applied != 1 {
						t.Errorf("rule %d after its request: %+v, want times 1, remaining 0, matched 1, applied 1", ids[i], r)
					}
				}
			})
		}
	})
}

// A rule can be read and deleted alone or with all others; a deleted rule no longer answers.
func TestFaultLifecycle(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		c := start(t, dialect, apitest.Options{})
		unavailable := map[string]any{"match": map[string]any{"api": "xcart"}, "action": map[string]any{"type": "status", "status": 503, "retry_after": 2}}
		first := c.addFault(t, unavailable)
		second := c.addFault(t, unavailable)
		if first.Times != nil || first.Remaining != nil || first.Probability != 1 || first.Action.RetryAfter == nil || *first.Action.RetryAfter != 2 {
			t.Errorf("an unlimited rule as added: %+v, want no times, no remaining, probability 1, retry_after 2", first)
		}
		if res := c.control(t, "GET", fmt.Sprintf("/faults/%d", first.ID), nil); res.Status != http.StatusOK || res.Map(t)["id"] != float64(first.ID) {
			t.Errorf("GET /faults/%d: %d %s", first.ID, res.Status, res.Body)
		}
		if res := c.control(t, "DELETE", fmt.Sprintf("/faults/%d", first.ID), nil); res.Status != http.StatusNoContent {
			t.Fatalf("DELETE /faults/%d: %d %s", first.ID, res.Status, res.Body)
		}
		problem(t, c.control(t, "GET", fmt.Sprintf("/faults/%d", first.ID), nil), http.StatusNotFound)
		problem(t, c.control(t, "DELETE", fmt.Sprintf("/faults/%d", first.ID), nil), http.StatusNotFound)
		if got := c.faults(t); len(got) != 1 || got[0].ID != second.ID {
			t.Errorf("after deleting rule %d: %+v, want rule %d alone", first.ID, got, second.ID)
		}
		if res := c.Call(t, "GET", "/api/profiles", nil, "X-Auth-Token", c.Keys["xcart"]); res.Status != http.StatusServiceUnavailable {
			t.Errorf("with rule %d left: %d, want 503", second.ID, res.Status)
		}
		if got := c.faults(t); got[0].Times != nil || got[0].Remaining != nil || got[0].Matched != 1 || got[0].Applied != 1 {
			t.Errorf("an unlimited rule after one request: %+v, want no remaining, matched 1, applied 1", got[0])
		}

		// DELETE /faults and a reset each remove every rule; ids go on after DELETE /faults.
		var added []int64
		for _, remove := range []struct {
			method, path string
			status       int
		}{{"DELETE", "/faults", http.StatusNoContent}, {"POST", "/reset", http.StatusOK}} {
			added = append(added, c.addFault(t, unavailable).ID)
			if res := c.control(t, remove.method, remove.path, nil); res.Status != remove.status {
				t.Fatalf("%s %s: %d %s", remove.method, remove.path, res.Status, res.Body)
			}
			if got := c.faults(t); len(got) != 0 {
				t.Errorf("after %s %s: %+v, want no rule", remove.method, remove.path, got)
			}
			if res := c.Call(t, "GET", "/api/profiles", nil, "X-Auth-Token", c.Keys["xcart"]); res.Status != http.StatusOK {
				t.Errorf("after %s %s: %d, want 200", remove.method, remove.path, res.Status)
			}
		}
		if added[0] <= second.ID || added[1] <= added[0] {
			t.Errorf("rules added after %d, then after DELETE /faults, have ids %v: want ids that go on", second.ID, added)
		}
	})
}

// vendorCall is a request to a vendor API with that API's credential, and the status it must get.
type vendorCall struct {
	api, method, path string
	want              int
}

func (c *ctl) vendor(t *testing.T, v vendorCall, n int) *apitest.Response {
	t.Helper()
	switch v.api {
	case "xcart":
		var body any
		if v.method == "POST" {
			body = map[string]any{"login": fmt.Sprintf("match%d@example.com", n)}
		}
		return c.Call(t, v.method, v.path, body, "X-Auth-Token", c.Keys["xcart"])
	case "activeplatform":
		return c.Call(t, v.method, v.path+"?api_token="+url.QueryEscape(c.Keys["activeplatform"]), nil)
	}
	t.Fatalf("no credential for %s", v.api)
	return nil
}

// A rule faults the requests its matcher names and no other; the first rule that fires decides;
// the control API is never faulted.
func TestFaultMatching(t *testing.T) {
	status := func(s int) map[string]any { return map[string]any{"type": "status", "status": s} }
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		c := start(t, dialect, apitest.Options{})
		c.createProfile(t, "one@example.com")
		n := 0
		for _, tc := range []struct {
			name  string
			rules []map[string]any
			calls []vendorCall
		}{
			{"method", []map[string]any{{"match": map[string]any{"api": "xcart", "method": "GET"}, "action": status(503)}}, []vendorCall{
				{"xcart", "GET", "/api/profiles", 503}, {"xcart", "GET", "/api/profiles/1", 503}, {"xcart", "POST", "/api/profiles", 201},
			}},
			{"operation", []map[string]any{{"match": map[string]any{"api": "xcart", "operation": "getProfile"}, "action": status(503)}}, []vendorCall{
				{"xcart", "GET", "/api/profiles/1", 503}, {"xcart", "GET", "/api/profiles", 200}, {"xcart", "POST", "/api/profiles", 201},
			}},
			// ActivePlatform serves "users.json" by the route of "users", but the spec names it apart.
			{"an operation of a suffixed path", []map[string]any{{"match": map[string]any{"api": "activeplatform", "operation": "listUsersJson"}, "action": status(503)}}, []vendorCall{
				{"activeplatform", "GET", "/api/vendor/v1/users.json", 503}, {"activeplatform", "GET", "/api/vendor/v1/users", 200},
			}},
			{"another API", []map[string]any{{"match": map[string]any{"api": "activeplatform"}, "action": status(503)}}, []vendorCall{
				{"activeplatform", "GET", "/api/vendor/v1/users", 503}, {"xcart", "GET", "/api/profiles", 200}, {"xcart", "POST", "/api/profiles", 201},
			}},
			{"every API", []map[string]any{{"match": map[string]any{}, "action": status(503)}}, []vendorCall{
				{"activeplatform", "GET", "/api/vendor/v1/users", 503}, {"xcart", "GET", "/api/profiles", 503}, {"xcart", "POST", "/api/profiles", 503},
			}},
			{"probability 1", []map[string]any{{"match": map[string]any{"api": "xcart"}, "action": status(503), "probability": 1}}, []vendorCall{
				{"xcart", "GET", "/api/profiles", 503}, {"xcart", "GET", "/api/profiles", 503}, {"xcart", "GET", "/api/profiles", 503},
			}},
			{"first rule added", []map[string]any{
				{"match": map[string]any{"api": "xcart"}, "action": status(503)},
				{"match": map[string]any{"api": "xcart"}, "action": status(500)},
			}, []vendorCall{{"xcart", "GET", "/api/profiles", 503}, {"xcart", "GET", "/api/profiles", 503}}},
			{"narrower rule added first", []map[string]any{
				{"match": map[string]any{"api": "xcart", "operation": "listProfiles"}, "action": status(500)},
				{"match": map[string]any{"api": "xcart"}, "action": status(503)},
			}, []vendorCall{{"xcart", "GET", "/api/profiles", 500}, {"xcart", "GET", "/api/profiles/1", 503}}},
			{"next rule once the first is used up", []map[string]any{
				{"match": map[string]any{"api": "xcart"}, "action": status(503), "times": 1},
				{"match": map[string]any{"api": "xcart"}, "action": status(500), "times": 1},
			}, []vendorCall{{"xcart", "GET", "/api/profiles", 503}, {"xcart", "GET", "/api/profiles", 500}, {"xcart", "GET", "/api/profiles", 200}}},
		} {
			if res := c.control(t, "DELETE", "/faults", nil); res.Status != http.StatusNoContent {
				t.Fatalf("DELETE /faults: %d %s", res.Status, res.Body)
			}
			for _, r := range tc.rules {
				if added := c.addFault(t, r); added.Probability != 1 {
					t.Errorf("%s: rule %v has probability %v, want 1", tc.name, r, added.Probability)
				}
			}
			for _, call := range tc.calls {
				n++
				if res := c.vendor(t, call, n); res.Status != call.want {
					t.Errorf("%s: %s %s %s: %d %s, want %d", tc.name, call.api, call.method, call.path, res.Status, res.Body, call.want)
				}
			}
		}

		// The control API is never faulted, even by a rule that matches every request.
		c.addFault(t, map[string]any{"match": map[string]any{}, "action": status(503)})
		if res := c.vendor(t, vendorCall{"xcart", "GET", "/api/profiles", 503}, 0); res.Status != http.StatusServiceUnavailable {
			t.Errorf("X-Cart under a rule that matches everything: %d, want 503", res.Status)
		}
		for _, r := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/faults", nil}, {"GET", "/xcart/users", nil}, {"GET", "/requests", nil},
			{"POST", "/requests/count", map[string]any{}}, {"POST", "/faults", map[string]any{"match": map[string]any{}, "action": status(500)}},
		} {
			if res := c.control(t, r.method, r.path, r.body); res.Status >= 300 {
				t.Errorf("%s %s with a rule that matches everything: %d %s", r.method, r.path, res.Status, res.Body)
			}
		}
	})
}

// Every problem of a rule is answered with 422 listing all of them at once, those of the schema
// or those the service finds (the service checks only a body the schema takes). A body that is not
// JSON is 400.
func TestAddFaultRefusals(t *testing.T) {
	apitest.ForEachDialect(t, testAddFaultRefusals)
}

func testAddFaultRefusals(t *testing.T, dialect string) {
	c := start(t, dialect, apitest.Options{})
	xcartOps := []string{"createProfile", "deleteProfile", "getProfile", "listProfiles", "login", "updateProfile"}
	status := map[string]any{"type": "status", "status": 503}
	for _, tc := range []struct {
		name   string
		body   map[string]any
		fields []string // the fields the problem lists, sorted
	}{
		{"unknown operation", map[string]any{"match": map[string]any{"api": "xcart", "operation": "createUser"}, "action": status}, []string{"match.operation"}},
		{"operation without api", map[string]any{"match": map[string]any{"operation": "createProfile"}, "action": status}, []string{"match.operation"}},
		{"delay over 60 s", map[string]any{"match": map[string]any{}, "action": map[string]any{"type": "delay", "delay_ms": 60001}}, []string{"action.delay_ms"}},
		{"negative delay", map[string]any{"match": map[string]any{}, "action": map[string]any{"type": "delay", "delay_ms": -1}}, []string{"action.delay_ms"}},
		{"delay without delay_ms", map[string]any{"match": map[string]any{}, "action": map[string]any{"type": "delay"}}, []string{"action.delay_ms"}},
		{"upper bound below the delay", map[string]any{"match": map[string]any{}, "action": map[string]any{"type": "delay", "delay_ms": 500, "delay_max_ms": 499}}, []string{"action.delay_max_ms"}},
		{"status without status", map[string]any{"match": map[string]any{}, "action": map[string]any{"type": "status"}}, []string{"action.status"}},
		{"status out of range", map[string]any{"match": map[string]any{}, "action": map[string]any{"type": "status", "status": 200}}, []string{"action.status"}},
		{"retry_after with 500", map[string]any{"match": map[string]any{}, "action": map[string]any{"type": "status", "status": 500, "retry_after": 1}}, []string{"action.retry_after"}},
		{"drop with a delay", map[string]any{"match": map[string]any{}, "action": map[string]any{"type": "drop", "delay_ms": 10}}, []string{"action.delay_ms"}},
		{"probability 0", map[string]any{"match": map[string]any{}, "action": status, "probability": 0}, []string{"probability"}},
		{"probability 1.5", map[string]any{"match": map[string]any{}, "action": status, "probability": 1.5}, []string{"probability"}},
		{"times 0", map[string]any{"match": map[string]any{}, "action": status, "times": 0}, []string{"times"}},
		{"unknown member", map[string]any{"match": map[string]any{"path": "/api"}, "action": status, "when": "now"}, []string{"match.path", "when"}},
		{"unknown API", map[string]any{"match": map[string]any{"api": "shopify"}, "action": status}, []string{"match.api"}},
		{"unknown action", map[string]any{"match": map[string]any{}, "action": map[string]any{"type": "explode"}}, []string{"action.type"}},
		{"no match, no action", map[string]any{}, []string{"action", "match"}},
		{"every schema problem", map[string]any{
			"match": map[string]any{}, "action": map[string]any{"type": "delay", "delay_ms": 60001, "delay_max_ms": -1}, "probability": 1.5, "times": 0,
		}, []string{"action.delay_max_ms", "action.delay_ms", "probability", "times"}},
		{"every service problem", map[string]any{
			"match": map[string]any{"api": "xcart", "operation": "nope"}, "action": map[string]any{"type": "drop", "status": 503, "retry_after": 1, "delay_ms": 1, "delay_max_ms": 2},
		}, []string{"action.delay_max_ms", "action.delay_ms", "action.retry_after", "action.status", "match.operation"}},
	} {
		res := c.control(t, "POST", "/faults", tc.body)
		if res.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s, want 422", tc.name, res.Status, res.Body)
			continue
		}
		p := problem(t, res, http.StatusUnprocessableEntity)
		if got := problemFields(p); fmt.Sprint(got) != fmt.Sprint(tc.fields) {
			t.Errorf("%s: the problem lists %v (%v), want %v", tc.name, got, p["errors"], tc.fields)
		}
		if tc.name == "unknown operation" {
			msg := fmt.Sprint(p["errors"])
			for _, op := range xcartOps {
				if !strings.Contains(msg, op) {
					t.Errorf("the problem of an unknown operation does not name X-Cart's %s: %s", op, msg)
				}
			}
		}
	}
	if got := c.faults(t); len(got) != 0 {
		t.Errorf("after refused rules: %+v, want none", got)
	}
	for _, body := range []string{`{"match":`, `{"match": {}, "action": {"type": drop}}`, `not JSON`} {
		problem(t, c.control(t, "POST", "/faults", body), http.StatusBadRequest)
	}
}

// problemFields are the fields a problem's errors name, sorted.
func problemFields(p map[string]any) []string {
	items, _ := p["errors"].([]any)
	fields := make([]string, 0, len(items))
	for _, it := range items {
		f, _ := it.(map[string]any)["field"].(string)
		fields = append(fields, f)
	}
	sort.Strings(fields)
	return fields
}

// At most fault.MaxRules rules exist at once: the next is refused until one is deleted.
func TestFaultRulesAreBounded(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		c := start(t, dialect, apitest.Options{})
		in := map[string]any{"match": map[string]any{"api": "occstore"}, "action": map[string]any{"type": "drop"}}
		var last rule
		for range fault.MaxRules {
			last = c.addFault(t, in)
		}
		p := problem(t, c.control(t, "POST", "/faults", in), http.StatusUnprocessableEntity)
		if !strings.Contains(fmt.Sprint(p["errors"]), fmt.Sprint(fault.MaxRules)) {
			t.Errorf("rule %d: %v, want a problem that names the limit", fault.MaxRules+1, p)
		}
		if got := len(c.faults(t)); got != fault.MaxRules {
			t.Errorf("%d rules listed, want %d", got, fault.MaxRules)
		}
		if res := c.control(t, "DELETE", fmt.Sprintf("/faults/%d", last.ID), nil); res.Status != http.StatusNoContent {
			t.Fatalf("DELETE /faults/%d: %d", last.ID, res.Status)
		}
		c.addFault(t, in)
	})
}

// Many rules added at once each get their own id, and every one is listed, in id order.
func TestAddFaultsRace(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		c := start(t, dialect, apitest.Options{})
		const n = 50
		added := apitest.Concurrently(n, func(i int) *apitest.Response {
			return c.control(t, "POST", "/faults", map[string]any{"match": map[string]any{"api": "xcart"}, "action": map[string]any{"type": "status", "status": 503}, "times": i + 1})
		})
		ids := map[float64]bool{}
		for i, res := range added {
			if res.Status != http.StatusCreated {
				t.Fatalf("rule %d of %d added at once: %d %s", i, n, res.Status, res.Body)
			}
			ids[res.Map(t)["id"].(float64)] = true
		}
		if len(ids) != n {
			t.Errorf("%d rules added at once got %d distinct ids", n, len(ids))
		}
		listed := c.faults(t)
		if len(listed) != n {
			t.Fatalf("%d rules listed, want %d", len(listed), n)
		}
		for i, r := range listed {
			if !ids[float64(r.ID)] || i > 0 && r.ID <= listed[i-1].ID {
				t.Errorf("rule %d listed at %d: not one added, or not in the order added", r.ID, i)
			}
		}
	})
}

// A rule for the next 5 creates, under 40 creates at once: exactly 5 are answered 503 and write
// nothing, the other 35 are stored, and the journal and the rule agree.
func TestFaultTimesRace(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		c := start(t, dialect, apitest.Options{})
		r := c.addFault(t, map[string]any{"match": map[string]any{"api": "xcart", "operation": "createProfile"}, "action": map[string]any{"type": "status", "status": 503}, "times": 5})
		const n, times = 40, 5
		answers := apitest.Concurrently(n, func(i int) *apitest.Response {
			return c.Call(t, "POST", "/api/profiles", map[string]any{"login": fmt.Sprintf("race%d@example.com", i)}, "X-Auth-Token", c.Keys["xcart"])
		})
		count := map[int]int{}
		for _, res := range answers {
			count[res.Status]++
		}
		if count[503] != times || count[201] != n-times {
			t.Errorf("%d creates at once under a rule for %d: answers %v, want %d × 503 and %d × 201", n, times, count, times, n-times)
		}
		if got := c.users(t, "xcart"); got != n-times {
			t.Errorf("%v profiles stored, want %d", got, n-times)
		}
		for _, tc := range []struct {
			matcher map[string]any
			want    int
		}{
			{map[string]any{"faulted": true}, times},
			{map[string]any{"api": "xcart", "operation": "createProfile", "status": 503}, times},
			{map[string]any{"faulted": false, "status": 201}, n - times},
		} {
			if got := c.count(t, tc.matcher); got != tc.want {
				t.Errorf("count %v: %d, want %d", tc.matcher, got, tc.want)
			}
		}
		got := c.faults(t)
		if len(got) != 1 || got[0].Remaining == nil || *got[0].Remaining != 0 || got[0].Applied != times || got[0].Matched != times {
			t.Errorf("rule %d after the race: %+v, want remaining 0, matched and applied %d", r.ID, got, times)
		}
	})
}
