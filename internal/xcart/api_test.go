package xcart_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/credential"
	"github.com/provisiond/provisiond/internal/xcart"
)

// xc wraps a test server with X-Cart shortcuts.
type xc struct {
	*apitest.Server
	key string
}

func start(t *testing.T, dialect string) *xc {
	t.Helper()
	s := apitest.Start(t, dialect, apitest.Options{})
	return &xc{Server: s, key: s.Keys["xcart"]}
}

// call sends a request with the read/write key.
func (x *xc) call(t *testing.T, method, path string, body any) *apitest.Response {
	t.Helper()
	return x.Call(t, method, path, body, "X-Auth-Token", x.key)
}

// create creates a profile and fails the test unless it answers 201.
func (x *xc) create(t *testing.T, body map[string]any) map[string]any {
	t.Helper()
	res := x.call(t, "POST", "/api/profiles", body)
	if res.Status != http.StatusCreated {
		t.Fatalf("create %v: status %d, want 201; body %s", body, res.Status, res.Body)
	}
	return res.Map(t)
}

func id(t testing.TB, m map[string]any) int {
	t.Helper()
	v, ok := m["id"].(float64)
	if !ok {
		t.Fatalf("no numeric id in %v", m)
	}
	return int(v)
}

// detail is the problem's detail.
func detail(t *testing.T, res *apitest.Response) string {
	t.Helper()
	d, _ := res.Map(t)["detail"].(string)
	return d
}

// violations maps each propertyPath of a 422 to its messages.
func violations(t *testing.T, res *apitest.Response) map[string][]string {
	t.Helper()
	var body struct {
		Violations []struct{ PropertyPath, Message string }
	}
	res.JSON(t, &body)
	out := map[string][]string{}
	for _, v := range body.Violations {
		out[v.PropertyPath] = append(out[v.PropertyPath], v.Message)
	}
	return out
}

func email(n int) string {
	const domain = "@example.com"
	return strings.Repeat("a", n-len(domain)) + domain
}

func TestCreateFieldRules(t *testing.T) {
	type want struct {
		status int
		field  string // the violation's propertyPath (422) — "" for other statuses
		msg    string // the violation message (422) or the detail (400)
	}
	ok := want{status: http.StatusCreated}
	cases := []struct {
		name string
		body map[string]any
		want want
	}{
		{"login 4 characters", map[string]any{"login": "a@bc"}, want{422, "login", "This value is too short. It should have 5 characters or more."}},
		{"login 5 characters", map[string]any{"login": "a@b.c"}, ok},
		{"login 128 characters", map[string]any{"login": email(128)}, ok},
		{"login 129 characters", map[string]any{"login": email(129)}, want{422, "login", "This value is too long. It should have 128 characters or less."}},
		{"login not an email", map[string]any{"login": "not-an-email"}, want{422, "login", "This value is not a valid email address."}},
		{"login missing", map[string]any{"status": "E"}, want{422, "login", "This value should not be blank."}},
		{"login null", map[string]any{"login": nil}, want{400, "", `The type of the "login" attribute must be "string", "NULL" given.`}},
		{"login a number", map[string]any{"login": 12345}, want{400, "", `The type of the "login" attribute must be "string", "int" given.`}},
		{"password 7", map[string]any{"login": "p7@example.com", "password": "1234567"}, want{422, "password", "This value is too short. It should have 8 characters or more."}},
		{"password 8", map[string]any{"login": "p8@example.com", "password": "12345678"}, ok},
		{"password 128", map[string]any{"login": "p128@example.com", "password": strings.Repeat("p", 128)}, ok},
		{"password 129", map[string]any{"login": "p129@example.com", "password": strings.Repeat("p", 129)}, want{422, "password", "This value is too long. It should have 128 characters or less."}},
		{"password null", map[string]any{"login": "pnull@example.com", "password": nil}, ok},
		{"language 2", map[string]any{"login": "l2@example.com", "language": "en"}, ok},
		{"language 3", map[string]any{"login": "l3@example.com", "language": "eng"}, want{422, "language", "This value is too long. It should have 2 characters or less."}},
		{"access_level 0", map[string]any{"login": "al0@example.com", "access_level": 0}, ok},
		{"access_level 100", map[string]any{"login": "al100@example.com", "access_level": 100}, ok},
		{"access_level 50", map[string]any{"login": "al50@example.com", "access_level": 50}, want{422, "access_level", "The value you selected is not a valid choice."}},
		{"access_level a string", map[string]any{"login": "als@example.com", "access_level": "100"}, want{400, "", `The type of the "access_level" attribute must be "int", "string" given.`}},
		{"status E", map[string]any{"login": "se@example.com", "status": "E"}, ok},
		{"status D", map[string]any{"login": "sd@example.com", "status": "D"}, ok},
		{"status X", map[string]any{"login": "sx@example.com", "status": "X"}, want{422, "status", "The value you selected is not a valid choice."}},
		{"referer 255", map[string]any{"login": "r255@example.com", "referer": strings.Repeat("r", 255)}, ok},
		{"referer 256", map[string]any{"login": "r256@example.com", "referer": strings.Repeat("r", 256)}, want{422, "referer", "This value is too long. It should have 255 characters or less."}},
		{"social_login_provider 128", map[string]any{"login": "s128@example.com", "social_login_provider": strings.Repeat("s", 128)}, ok},
		{"social_login_provider 129", map[string]any{"login": "s129@example.com", "social_login_provider": strings.Repeat("s", 129)}, want{422, "social_login_provider", "This value is too long. It should have 128 characters or less."}},
		{"social_login_id 129", map[string]any{"login": "si129@example.com", "social_login_id": strings.Repeat("s", 129)}, want{422, "social_login_id", "This value is too long. It should have 128 characters or less."}},
		{"concierge_user_id 129", map[string]any{"login": "c129@example.com", "concierge_user_id": strings.Repeat("c", 129)}, want{422, "concierge_user_id", "This value is too long. It should have 128 characters or less."}},
		{"stripe_customer_id 129", map[string]any{"login": "st129@example.com", "stripe_customer_id": strings.Repeat("s", 129)}, want{422, "stripe_customer_id", "This value is too long. It should have 128 characters or less."}},
		{"nullable strings null", map[string]any{"login": "nulls@example.com", "social_login_provider": nil, "social_login_id": nil, "concierge_user_id": nil, "stripe_customer_id": nil}, ok},
		{"membership_id existing", map[string]any{"login": "m1@example.com", "membership_id": 1}, ok},
		{"membership_id null", map[string]any{"login": "mnull@example.com", "membership_id": nil}, ok},
		{"membership_id unknown", map[string]any{"login": "m99@example.com", "membership_id": 99}, want{422, "membership_id", "Membership with ID 99 not found"}},
		{"membership_id negative", map[string]any{"login": "mneg@example.com", "membership_id": -1}, want{422, "membership_id", "This value should be greater than or equal to 0."}},
		{"pending_membership_id unknown", map[string]any{"login": "pm99@example.com", "pending_membership_id": 98}, want{422, "pending_membership_id", "Pending membership with ID 98 not found"}},
		{"role_ids unknown", map[string]any{"login": "r42@example.com", "access_level": 100, "role_ids": []int{1, 42}}, want{422, "role_ids", "Role with ID 42 not found"}},
		{"role_ids wrong item type", map[string]any{"login": "rt@example.com", "role_ids": []any{"x"}}, want{400, "", `The type of the "role_ids[0]" attribute must be "int", "string" given.`}},
		{"status a number", map[string]any{"login": "sn@example.com", "status": 1}, want{400, "", `The type of the "status" attribute must be "string", "int" given.`}},
		{"access_level a fraction", map[string]any{"login": "alf@example.com", "access_level": 1.5}, want{400, "", `The type of the "access_level" attribute must be "int", "float" given.`}},
		{"force_change_password a string", map[string]any{"login": "fcp@example.com", "force_change_password": "yes"}, want{400, "", `The type of the "force_change_password" attribute must be "bool", "string" given.`}},
		{"mail chimp arrays", map[string]any{"login": "mc@example.com", "mail_chimp_lists": []int{1, 2}, "mail_chimp_interests": []int{3}, "mail_chimp_segments": []int{}}, ok},
		{"stored_selectors", map[string]any{"login": "ss@example.com", "stored_selectors": []string{"#a", ".b"}}, ok},
		{"unknown attribute ignored", map[string]any{"login": "unk@example.com", "favourite_colour": "blue"}, ok},
		{"unknown attribute with U+0000 ignored", map[string]any{"login": "unknul@example.com", "favourite_colour\x00": "blue\x00"}, ok},
		// U+0000: no stored text holds it, so a string with it is Symfony's Regex violation, or
		// only the violation of the field's other constraint when it breaks one.
		{"status_comment U+0000", map[string]any{"login": "nul1@example.com", "status_comment": "a\x00b"}, want{422, "status_comment", "This value is not valid."}},
		{"social_login_id U+0000", map[string]any{"login": "nul2@example.com", "social_login_id": "\x00"}, want{422, "social_login_id", "This value is not valid."}},
		{"stored_selectors item U+0000", map[string]any{"login": "nul3@example.com", "stored_selectors": []string{"#a", "\x00"}}, want{422, "stored_selectors[1]", "This value is not valid."}},
		{"password U+0000", map[string]any{"login": "nul4@example.com", "password": "12345678\x00"}, want{422, "password", "This value is not valid."}},
		{"login U+0000", map[string]any{"login": "nul\x00@example.com"}, want{422, "login", "This value is not a valid email address."}},
		// Integers have their column's range; beyond 64 bits, or with a fraction or an exponent,
		// a number is a float to PHP: API Platform's type error for the attribute.
		{"role_ids 10^20", map[string]any{"login": "rbig@example.com", "access_level": 100, "role_ids": []any{json.Number("100000000000000000000")}}, want{400, "", `The type of the "role_ids" attribute must be "int", "float" given.`}},
		{"role_ids 2^63", map[string]any{"login": "r263@example.com", "access_level": 100, "role_ids": []any{1, json.Number("9223372036854775808")}}, want{400, "", `The type of the "role_ids" attribute must be "int", "float" given.`}},
		{"role_ids int64 max", map[string]any{"login": "rmax@example.com", "access_level": 100, "role_ids": []any{json.Number("9223372036854775807")}}, want{422, "role_ids", "Role with ID 9223372036854775807 not found"}},
		{"role_ids int64 min", map[string]any{"login": "rmin@example.com", "role_ids": []any{json.Number("-9223372036854775808")}}, want{422, "role_ids", "Role with ID -9223372036854775808 not found"}},
		{"membership_id int64 max", map[string]any{"login": "mmax@example.com", "membership_id": json.Number("9223372036854775807")}, want{422, "membership_id", "Membership with ID 9223372036854775807 not found"}},
		{"membership_id 2^63", map[string]any{"login": "m263@example.com", "membership_id": json.Number("9223372036854775808")}, want{400, "", `The type of the "membership_id" attribute must be "int", "float" given.`}},
		{"pending_membership_id -10^20", map[string]any{"login": "pmneg@example.com", "pending_membership_id": json.Number("-1e20")}, want{400, "", `The type of the "pending_membership_id" attribute must be "int", "float" given.`}},
		{"mail_chimp_lists below int64", map[string]any{"login": "mcmin@example.com", "mail_chimp_lists": []any{json.Number("-9223372036854775809")}}, want{400, "", `The type of the "mail_chimp_lists" attribute must be "int", "float" given.`}},
		{"mail_chimp_segments 10^20", map[string]any{"login": "mcbig@example.com", "mail_chimp_segments": []any{json.Number("1e20")}}, want{400, "", `The type of the "mail_chimp_segments" attribute must be "int", "float" given.`}},
		{"mail_chimp_interests 1.0", map[string]any{"login": "mcdot@example.com", "mail_chimp_interests": []any{json.Number("1.0")}}, want{400, "", `The type of the "mail_chimp_interests" attribute must be "int", "float" given.`}},
		{"access_level 100.0", map[string]any{"login": "al100f@example.com", "access_level": json.Number("100.0")}, want{400, "", `The type of the "access_level" attribute must be "int", "float" given.`}},
		{"access_level 10^20", map[string]any{"login": "albig@example.com", "access_level": json.Number("1e20")}, want{400, "", `The type of the "access_level" attribute must be "int", "float" given.`}},
	}
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				res := x.call(t, "POST", "/api/profiles", c.body)
				if res.Status != c.want.status {
					t.Fatalf("POST %v: status %d, want %d; body %s", c.body, res.Status, c.want.status, res.Body)
				}
				switch c.want.status {
				case http.StatusCreated:
					got := res.Map(t)
					for k, v := range c.body {
						if k == "password" || strings.HasPrefix(k, "favourite_colour") {
							if _, present := got[k]; present {
								t.Errorf("response carries %q: %s", k, res.Body)
							}
							continue
						}
						if k == "role_ids" {
							continue
						}
						if fmt.Sprint(got[k]) != fmt.Sprint(v) {
							t.Errorf("%s: got %v, want %v", k, got[k], v)
						}
					}
				case http.StatusUnprocessableEntity:
					v := violations(t, res)
					if !contains(v[c.want.field], c.want.msg) {
						t.Errorf("violations %v, want %s: %q", v, c.want.field, c.want.msg)
					}
					if d := detail(t, res); !strings.Contains(d, c.want.field+": "+c.want.msg) {
						t.Errorf("detail %q does not list %s: %s", d, c.want.field, c.want.msg)
					}
				case http.StatusBadRequest:
					if d := detail(t, res); d != c.want.msg {
						t.Errorf("detail %q, want %q", d, c.want.msg)
					}
				}
			})
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestCreateListsEveryViolation(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		res := x.call(t, "POST", "/api/profiles", map[string]any{
			"login": "abc", "password": "short", "access_level": 50, "status": "X", "language": "eng",
		})
		if res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("status %d, want 422; body %s", res.Status, res.Body)
		}
		v := violations(t, res)
		for _, f := range []string{"login", "password", "access_level", "status", "language"} {
			if len(v[f]) == 0 {
				t.Errorf("no violation for %s in %s", f, res.Body)
			}
		}
		// Reference checks run after the schema passes, and list every unknown id too.
		res = x.call(t, "POST", "/api/profiles", map[string]any{
			"login": "refs@example.com", "access_level": 100, "membership_id": 77, "pending_membership_id": 78, "role_ids": []int{1, 55, 56},
		})
		v = violations(t, res)
		want := map[string][]string{
			"membership_id":         {"Membership with ID 77 not found"},
			"pending_membership_id": {"Pending membership with ID 78 not found"},
			"role_ids":              {"Role with ID 55 not found", "Role with ID 56 not found"},
		}
		if fmt.Sprint(v) != fmt.Sprint(want) {
			t.Errorf("violations %v, want %v", v, want)
		}
	})
}

func TestCreateResponse(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		res := x.call(t, "POST", "/api/profiles", map[string]any{"login": "Jane.Doe@Example.com", "password": "correct horse", "role_ids": []int{1}})
		if res.Status != http.StatusCreated {
			t.Fatalf("status %d, want 201; body %s", res.Status, res.Body)
		}
		p := res.Map(t)
		if got, want := res.Header.Get("Location"), fmt.Sprintf("/api/profiles/%d", id(t, p)); got != want {
			t.Errorf("Location %q, want %q", got, want)
		}
		if got := res.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type %q, want application/json", got)
		}
		wants := map[string]any{
			"login": "Jane.Doe@Example.com", "access_level": 0.0, "status": "E", "force_change_password": false,
			"create_date": "2026-01-02T03:04:05Z", "first_login_date": nil, "last_login_date": nil,
			"membership_id": nil, "role_ids": []any{}, "mail_chimp_lists": []any{}, "stored_selectors": []any{},
		}
		for k, want := range wants {
			if fmt.Sprint(p[k]) != fmt.Sprint(want) {
				t.Errorf("%s = %v, want %v (customer role_ids are dropped)", k, p[k], want)
			}
		}
		if _, ok := p["password"]; ok {
			t.Errorf("the password is returned: %s", res.Body)
		}
		var hash string
		if err := x.DB.Raw("SELECT password_hash FROM xcart_profiles WHERE id = ?", id(t, p)).Scan(&hash).Error; err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
			t.Errorf("stored password %q is not an argon2id PHC hash", hash)
		}
		admin := x.create(t, map[string]any{"login": "boss@example.com", "access_level": 100, "role_ids": []int{1, 2}})
		if fmt.Sprint(admin["role_ids"]) != "[1 2]" {
			t.Errorf("administrator role_ids = %v, want [1 2]", admin["role_ids"])
		}
	})
}

func TestProfileLifecycle(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		created := x.create(t, map[string]any{"login": "life@example.com", "membership_id": 1, "language": "en", "status_comment": "new", "mail_chimp_lists": []int{3}})
		path := fmt.Sprintf("/api/profiles/%d", id(t, created))

		res := x.call(t, "GET", path, nil)
		if res.Status != http.StatusOK || fmt.Sprint(res.Map(t)) != fmt.Sprint(created) {
			t.Fatalf("GET %s: %d %s, want 200 and %v", path, res.Status, res.Body, created)
		}

		// PUT: fields left out keep their value; null clears a nullable field.
		res = x.call(t, "PUT", path, map[string]any{"status": "D", "membership_id": nil, "referer": "ads"})
		if res.Status != http.StatusOK {
			t.Fatalf("PUT: %d %s", res.Status, res.Body)
		}
		got := res.Map(t)
		for k, want := range map[string]any{"status": "D", "membership_id": nil, "referer": "ads", "language": "en", "status_comment": "new", "login": "life@example.com", "mail_chimp_lists": []any{3.0}, "create_date": created["create_date"]} {
			if fmt.Sprint(got[k]) != fmt.Sprint(want) {
				t.Errorf("after PUT %s = %v, want %v", k, got[k], want)
			}
		}
		if res := x.call(t, "GET", path, nil); fmt.Sprint(res.Map(t)) != fmt.Sprint(got) {
			t.Errorf("GET after PUT: %s, want %v", res.Body, got)
		}
		// PUT validates like create.
		res = x.call(t, "PUT", path, map[string]any{"language": "eng", "membership_id": 99})
		if res.Status != http.StatusUnprocessableEntity {
			t.Errorf("PUT invalid: %d %s, want 422", res.Status, res.Body)
		}
		res = x.call(t, "PUT", "/api/profiles/999999", map[string]any{"status": "D"})
		if res.Status != http.StatusNotFound {
			t.Errorf("PUT unknown id: %d %s, want 404", res.Status, res.Body)
		}

		res = x.call(t, "DELETE", path, nil)
		if res.Status != http.StatusNoContent || len(res.Body) != 0 {
			t.Fatalf("DELETE: %d %s, want 204 and no body", res.Status, res.Body)
		}
		for _, m := range []string{"GET", "DELETE"} {
			if res := x.call(t, m, path, nil); res.Status != http.StatusNotFound {
				t.Errorf("%s after DELETE: %d %s, want 404", m, res.Status, res.Body)
			}
		}
		if res := x.call(t, "GET", "/api/profiles/not-a-number", nil); res.Status != http.StatusNotFound {
			t.Errorf("GET non-numeric id: %d %s, want 404", res.Status, res.Body)
		}
	})
}

func TestLastAdministrator(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		a := id(t, x.create(t, map[string]any{"login": "a1@example.com", "access_level": 100}))
		b := id(t, x.create(t, map[string]any{"login": "a2@example.com", "access_level": 100}))
		customer := id(t, x.create(t, map[string]any{"login": "c@example.com"}))

		if res := x.call(t, "DELETE", fmt.Sprintf("/api/profiles/%d", a), nil); res.Status != http.StatusNoContent {
			t.Fatalf("delete first of two admins: %d %s", res.Status, res.Body)
		}
		res := x.call(t, "DELETE", fmt.Sprintf("/api/profiles/%d", b), nil)
		if res.Status != http.StatusBadRequest || detail(t, res) != "Cannot remove the last admin profile" {
			t.Fatalf("delete last admin: %d %s, want 400 Cannot remove the last admin profile", res.Status, res.Body)
		}
		if res := x.call(t, "GET", fmt.Sprintf("/api/profiles/%d", b), nil); res.Status != http.StatusOK {
			t.Errorf("last admin is gone: %d", res.Status)
		}
		res = x.call(t, "PUT", fmt.Sprintf("/api/profiles/%d", b), map[string]any{"access_level": 0})
		if res.Status != http.StatusBadRequest || detail(t, res) != "Cannot remove the last admin profile" {
			t.Errorf("demote last admin: %d %s, want 400 Cannot remove the last admin profile", res.Status, res.Body)
		}
		if res := x.call(t, "PUT", fmt.Sprintf("/api/profiles/%d", b), map[string]any{"status_comment": "still here"}); res.Status != http.StatusOK {
			t.Errorf("PUT keeping the last admin an admin: %d %s", res.Status, res.Body)
		}
		if res := x.call(t, "DELETE", fmt.Sprintf("/api/profiles/%d", customer), nil); res.Status != http.StatusNoContent {
			t.Errorf("delete customer: %d %s", res.Status, res.Body)
		}
	})
}

func TestListPaging(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		for i := range 105 {
			x.create(t, map[string]any{"login": fmt.Sprintf("user%03d@example.com", i)})
		}
		x.create(t, map[string]any{"login": "Someone.Else@Other.org"})
		logins := func(res *apitest.Response) []string {
			var list []map[string]any
			res.JSON(t, &list)
			out := make([]string, len(list))
			for i, p := range list {
				out[i] = p["login"].(string)
			}
			return out
		}
		cases := []struct {
			query      string
			n          int
			first      string
			wantStatus int
		}{
			{"", 30, "user000@example.com", 200},
			{"?page=2", 30, "user030@example.com", 200},
			{"?itemsPerPage=10&page=3", 10, "user020@example.com", 200},
			{"?itemsPerPage=1000", 100, "user000@example.com", 200},
			{"?itemsPerPage=100&page=2", 6, "user100@example.com", 200},
			{"?page=99", 0, "", 200},
			{"?itemsPerPage=0", 0, "", 200},
			{"?login=ELSE@other", 1, "Someone.Else@Other.org", 200},
			{"?login=user10", 5, "user100@example.com", 200},
			{"?login=%25", 0, "", 200},
			{"?login=_", 0, "", 200},
			{"?page=0", 0, "", 400},
			{"?page=abc", 0, "", 400},
			{"?itemsPerPage=-1", 0, "", 400},
		}
		for _, c := range cases {
			res := x.call(t, "GET", "/api/profiles"+c.query, nil)
			if res.Status != c.wantStatus {
				t.Errorf("GET %s: %d %s, want %d", c.query, res.Status, res.Body, c.wantStatus)
				continue
			}
			if c.wantStatus != 200 {
				continue
			}
			got := logins(res)
			if len(got) != c.n || c.n > 0 && got[0] != c.first {
				t.Errorf("GET %s: %d profiles starting %v, want %d starting %q", c.query, len(got), got[:min(len(got), 1)], c.n, c.first)
			}
		}
		if res := x.call(t, "GET", "/api/profiles?page=0", nil); detail(t, res) != "Page should not be less than 1" {
			t.Errorf("page=0 detail %q", detail(t, res))
		}
	})
}

func TestDuplicateLogin(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		x.create(t, map[string]any{"login": "dup@example.com"})
		other := id(t, x.create(t, map[string]any{"login": "other@example.com"}))
		for _, login := range []string{"dup@example.com", "DUP@Example.COM"} {
			res := x.call(t, "POST", "/api/profiles", map[string]any{"login": login})
			if res.Status != http.StatusBadRequest || detail(t, res) != `Field "login" must be unique` {
				t.Errorf("POST %s: %d %s, want 400 Field \"login\" must be unique", login, res.Status, res.Body)
			}
		}
		res := x.call(t, "PUT", fmt.Sprintf("/api/profiles/%d", other), map[string]any{"login": "Dup@example.com"})
		if res.Status != http.StatusBadRequest || detail(t, res) != `Field "login" must be unique` {
			t.Errorf("PUT to a taken login: %d %s, want 400", res.Status, res.Body)
		}
		// A profile may keep its own login, in another letter case too.
		if res := x.call(t, "PUT", fmt.Sprintf("/api/profiles/%d", other), map[string]any{"login": "OTHER@example.com"}); res.Status != http.StatusOK {
			t.Errorf("PUT own login in another case: %d %s, want 200", res.Status, res.Body)
		}
	})
}

func TestMalformedRequests(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		huge := `{"login":"big@example.com","status_comment":"` + strings.Repeat("x", 1<<20) + `"}`
		cases := []struct {
			name, method, path string
			body               any
			header             []string
			status             int
			detail             string
		}{
			{"malformed JSON", "POST", "/api/profiles", `{"login": "a@b.c"`, nil, 400, "Syntax error"},
			{"data after the JSON value", "POST", "/api/profiles", `{"login": "a@b.c"} {}`, nil, 400, "Syntax error"},
			{"not an object", "POST", "/api/profiles", `[1,2]`, nil, 400, "The input data is misformatted."},
			{"empty body", "POST", "/api/profiles", ``, nil, 400, "Syntax error"},
			{"wrong type", "POST", "/api/profiles", `{"login": true}`, nil, 400, `The type of the "login" attribute must be "string", "bool" given.`},
			{"form body", "POST", "/api/profiles", `login=a@b.c`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, `The content-type "application/x-www-form-urlencoded" is not supported. Supported MIME types are "application/json", "application/ld+json".`},
			{"text body", "PUT", "/api/profiles/1", `{}`, []string{"Content-Type", "text/plain"}, 415, `The content-type "text/plain" is not supported. Supported MIME types are "application/json", "application/ld+json".`},
			{"oversize body", "POST", "/api/profiles", huge, nil, 413, "Request Entity Too Large"},
			{"unknown route", "GET", "/api/profiles/1/children", nil, nil, 404, "Not Found"},
			{"wrong method", "PATCH", "/api/profiles", `{}`, nil, 405, "Method Not Allowed"},
			{"wrong method on item", "POST", "/api/profiles/1", `{}`, nil, 405, "Method Not Allowed"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				header := append([]string{"X-Auth-Token", x.key}, c.header...)
				res := x.Call(t, c.method, c.path, c.body, header...)
				if res.Status != c.status {
					t.Fatalf("%s %s: %d %s, want %d", c.method, c.path, res.Status, res.Body, c.status)
				}
				if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("Content-Type %q, want application/problem+json", ct)
				}
				if detail(t, res) != c.detail {
					t.Errorf("detail %q, want %q", detail(t, res), c.detail)
				}
				if res.Operation == "" {
					x.ValidateSchema(t, "xcart", "Problem", res.Body)
				}
			})
		}
		if got := x.call(t, "PATCH", "/api/profiles", `{}`).Header.Get("Allow"); !strings.Contains(got, "GET") || !strings.Contains(got, "POST") {
			t.Errorf("405 Allow header %q, want GET and POST", got)
		}
	})
}

func TestReadOnlyKey(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		ro, err := credential.NewStore(x.DB).Create(context.Background(), "xcart", true)
		if err != nil {
			t.Fatal(err)
		}
		p := id(t, x.create(t, map[string]any{"login": "ro@example.com"}))
		item := fmt.Sprintf("/api/profiles/%d", p)
		for _, c := range []struct {
			method, path string
			body         any
			status       int
		}{
			{"GET", "/api/profiles", nil, 200},
			{"GET", item, nil, 200},
			{"POST", "/api/profiles", map[string]any{"login": "new@example.com"}, 403},
			{"PUT", item, map[string]any{"status": "D"}, 403},
			{"DELETE", item, nil, 403},
			// Security comes before the body: an invalid body with a read-only key is still a 403.
			{"POST", "/api/profiles", `{"login":`, 403},
		} {
			res := x.Call(t, c.method, c.path, c.body, "X-Auth-Token", ro)
			if res.Status != c.status {
				t.Errorf("%s %s with a read-only key: %d %s, want %d", c.method, c.path, res.Status, res.Body, c.status)
			}
			if c.status == 403 && detail(t, res) != "Access Denied." {
				t.Errorf("403 detail %q", detail(t, res))
			}
		}
		if res := x.call(t, "GET", item, nil); res.Map(t)["status"] != "E" {
			t.Errorf("a read-only PUT changed the profile: %s", res.Body)
		}
	})
}

// TestRecordLoginOnAFailingDatabase: a database that cannot record a login (here: the request's
// deadline has passed) is unavailable, answered 503, not an internal error.
func TestRecordLoginOnAFailingDatabase(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel()
		err := xcart.NewStore(start(t, dialect).DB).RecordLogin(ctx, 1, time.Now())
		if kind := apperr.KindOf(err); kind != apperr.KindUnavailable {
			t.Errorf("record a login past the deadline: %v (kind %v), want unavailable", err, kind)
		}
	})
}
