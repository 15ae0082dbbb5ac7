package activeplatform_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/config"
)

type ap struct {
	*apitest.Server
	token string
}

func start(t *testing.T, dialect string, configure func(*config.Config)) *ap {
	t.Helper()
	s := apitest.Start(t, dialect, apitest.Options{Configure: configure})
	return &ap{Server: s, token: s.Keys["activeplatform"]}
}

func (x *ap) call(t *testing.T, method, path string, body any, header ...string) *apitest.Response {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return x.Call(t, method, path+sep+"api_token="+url.QueryEscape(x.token), body, header...)
}

func john(email string) map[string]any {
	return map[string]any{
		"first_name": "John", "middle_name": "", "last_name": "Doe", "password": "N;T@o;y!4TNqlV", "email": email,
		"custom_attributes": []map[string]string{{"key": "age", "value": "21"}},
	}
}

func johnForm(email string) string {
	v := url.Values{}
	v.Set("first_name", "John")
	v.Set("middle_name", "")
	v.Set("last_name", "Doe")
	v.Set("password", "N;T@o;y!4TNqlV")
	v.Set("email", email)
	return v.Encode() + "&custom_attributes%5B%5D%5Bkey%5D=age&custom_attributes%5B%5D%5Bvalue%5D=21"
}

const form = "application/x-www-form-urlencoded"

var stamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$`)

// listed GETs path, a list of users, and joins what show says of each with sep.
func (x *ap) listed(t *testing.T, path, sep string, show func(u map[string]any) string) string {
	t.Helper()
	res := x.call(t, "GET", path, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, res.Status, res.Body)
	}
	var list []map[string]any
	res.JSON(t, &list)
	out := make([]string, len(list))
	for i, u := range list {
		out[i] = show(u)
	}
	return strings.Join(out, sep)
}

func errorOf(t *testing.T, res *apitest.Response) string {
	t.Helper()
	e, _ := res.Map(t)["error"].(string)
	return e
}

func TestSeedExampleInBothEncodings(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect, nil)
		viaJSON := x.call(t, "POST", "/api/vendor/v1/users.json", john("john.doe8@activeplatfrom.com"))
		viaForm := x.call(t, "POST", "/api/vendor/v1/users", johnForm("john.form@activeplatfrom.com"), "Content-Type", form)
		for name, res := range map[string]*apitest.Response{"json": viaJSON, "form": viaForm} {
			if res.Status != http.StatusCreated {
				t.Fatalf("%s: %d %s", name, res.Status, res.Body)
			}
			m := res.Map(t)
			// Attached to no account yet: inactive (vendor: "A user's status for all Accounts, to
			// which it was linked").
			if m["status"] != "inactive" || fmt.Sprint(m["custom_attributes"]) != "[map[name:Age value:21]]" || m["first_name"] != "John" || m["middle_name"] != "" {
				t.Errorf("%s: %s", name, res.Body)
			}
			for _, k := range []string{"created_at", "updated_at"} {
				if s, _ := m[k].(string); !stamp.MatchString(s) {
					t.Errorf("%s: %s = %q, want ISO 8601 with milliseconds and +00:00", name, k, s)
				}
			}
			if _, ok := m["password"]; ok {
				t.Errorf("%s: the password is returned", name)
			}
		}
		a, b := viaJSON.Map(t), viaForm.Map(t)
		delete(a, "id")
		delete(b, "id")
		a["email"], b["email"] = "", ""
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("JSON and form gave different users:\n%v\n%v", a, b)
		}
	})
}

func TestTimezone(t *testing.T) {
	x := start(t, "sqlite", func(c *config.Config) { c.Timezone = "+03:00" })
	res := x.call(t, "POST", "/api/vendor/v1/users", john("tz@example.com"))
	if s, _ := res.Map(t)["created_at"].(string); !strings.HasSuffix(s, "+03:00") || s != "2026-01-02T06:04:05.000+03:00" {
		t.Errorf("created_at %q, want 2026-01-02T06:04:05.000+03:00", s)
	}
}

func TestErrors(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect, nil)
		x.call(t, "POST", "/api/vendor/v1/users", john("taken@example.com"))
		without := func(keys ...string) map[string]any {
			m := john("new@example.com")
			for _, k := range keys {
				delete(m, k)
			}
			return m
		}
		with := func(k string, v any) map[string]any {
			m := john("new@example.com")
			m[k] = v
			return m
		}
		for _, c := range []struct {
			name   string
			body   any
			status int
			want   string
		}{
			{"first_name", without("first_name"), 400, "first_name is missing"},
			{"first_name and password", without("first_name", "password"), 400, "first_name is missing, password is missing"},
			{"all", map[string]any{}, 400, "first_name is missing, last_name is missing, password is missing, email is missing"},
			{"last_name and email", without("last_name", "email"), 400, "last_name is missing, email is missing"},
			{"invalid email", with("email", "nope"), 400, "email is invalid"},
			{"weak password", with("password", "password"), 400, "password is too weak: at least 8 characters, a letter, a digit"},
			{"short password", with("password", "ab1"), 400, "password is too weak: at least 8 characters, a letter, a digit"},
			{"unknown attribute", with("custom_attributes", []map[string]string{{"key": "age", "value": "3"}, {"key": "shoe", "value": "9"}}), 400, "custom_attributes[1][key] does not have a valid value"},
			{"attribute of the wrong type", with("custom_attributes", []map[string]string{{"key": "age", "value": "old"}}), 400, "custom_attributes[0][value] is invalid"},
			{"attribute without value", with("custom_attributes", []map[string]string{{"key": "age"}}), 400, "custom_attributes[0][value] is missing"},
			{"duplicate email", with("email", "TAKEN@example.com"), 422, "Email has already been taken"},
			{"malformed JSON", `{"first_name":`, 400, "body is not valid JSON"},
		} {
			res := x.call(t, "POST", "/api/vendor/v1/users.json", c.body)
			if res.Status != c.status || errorOf(t, res) != c.want {
				t.Errorf("%s: %d %q, want %d %q", c.name, res.Status, errorOf(t, res), c.status, c.want)
			}
		}
		// The same rules for a form body.
		if res := x.call(t, "POST", "/api/vendor/v1/users", "first_name=A&email=x%40example.com", "Content-Type", form); res.Status != 400 || errorOf(t, res) != "last_name is missing, password is missing" {
			t.Errorf("form: %d %q", res.Status, errorOf(t, res))
		}
		for _, c := range []struct{ query, want string }{{"", "401 Unauthorized"}, {"?api_token=wrong-token-of-nobody", "401 Unauthorized"}} {
			res := x.Call(t, "GET", "/api/vendor/v1/users.json"+c.query, nil)
			if res.Status != 401 || errorOf(t, res) != c.want {
				t.Errorf("token %q: %d %s", c.query, res.Status, res.Body)
			}
		}
		for _, id := range []string{"999999", "abc"} {
			res := x.call(t, "GET", "/api/vendor/v1/users/"+id+".json", nil)
			if res.Status != 404 || errorOf(t, res) != "Couldn't find User with 'id'="+id {
				t.Errorf("GET %s: %d %q", id, res.Status, errorOf(t, res))
			}
		}
	})
}

func TestGetPutAndList(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect, nil)
		ids := map[string]string{}
		for i, first := range []string{"Cleo", "Abe", "Bea"} {
			m := john(strings.ToLower(first) + "@example.com")
			m["first_name"] = first
			ids[first] = fmt.Sprint(x.call(t, "POST", "/api/vendor/v1/users", m).Map(t)["id"])
			if i == 0 {
				x.Clock.Advance(48 * time.Hour)
			}
		}
		for _, path := range []string{"/api/vendor/v1/users/" + ids["Abe"], "/api/vendor/v1/users/" + ids["Abe"] + ".json"} {
			if res := x.call(t, "GET", path, nil); res.Status != 200 || res.Map(t)["first_name"] != "Abe" {
				t.Errorf("GET %s: %d %s", path, res.Status, res.Body)
			}
		}
		x.Clock.Advance(time.Hour)
		res := x.call(t, "PUT", "/api/vendor/v1/users/"+ids["Abe"]+".json", map[string]any{"last_name": "Smith", "custom_attributes": []map[string]string{{"key": "age", "value": "22"}}})
		m := res.Map(t)
		if res.Status != 200 || m["last_name"] != "Smith" || m["first_name"] != "Abe" || fmt.Sprint(m["custom_attributes"]) != "[map[name:Age value:22]]" || m["updated_at"] == m["created_at"] {
			t.Errorf("PUT: %d %s", res.Status, res.Body)
		}
		if res := x.call(t, "PUT", "/api/vendor/v1/users/"+ids["Abe"], map[string]any{"email": "new@example.com"}); res.Status != 400 || errorOf(t, res) != "email cannot be changed" {
			t.Errorf("PUT email: %d %s", res.Status, res.Body)
		}
		if res := x.call(t, "PUT", "/api/vendor/v1/users/"+ids["Abe"], "last_name=Form", "Content-Type", form); res.Status != 200 || res.Map(t)["last_name"] != "Form" {
			t.Errorf("PUT form: %d %s", res.Status, res.Body)
		}
		// Cleo and Bea are attached to an active account, Abe to an inactive one.
		apply(t, x, "activeplatform:\n  accounts: [{id: 7, name: Acme}, {id: 8, name: Closed, status: inactive}]\n", false)
		for first, account := range map[string]string{"Cleo": "7", "Bea": "7", "Abe": "8"} {
			if res := x.call(t, "POST", "/api/v2/vendor/account_accesses?account_id="+account+"&user_id="+ids[first], nil); res.Status != http.StatusCreated {
				t.Fatalf("attach %s: %d %s", first, res.Status, res.Body)
			}
		}
		names := func(query string) string {
			return x.listed(t, "/api/vendor/v1/users.json?"+query, ",", func(u map[string]any) string { return u["first_name"].(string) })
		}
		for _, c := range []struct{ query, want string }{
			{"", "Cleo,Abe,Bea"},
			{"sorting%5Bfield%5D=first_name", "Abe,Bea,Cleo"},
			{"sorting%5Bfield%5D=first_name&sorting%5Breversed%5D=true", "Cleo,Bea,Abe"},
			{"per_page=2", "Cleo,Abe"},
			{"per_page=2&page=2", "Bea"},
			{"filters%5Bemail%5D=BEA", "Bea"},
			{"filters%5Bstatus%5D=active", "Cleo,Bea"},
			{"filters%5Bstatus%5D=inactive", "Abe"},
			{"filters%5Bcreated_at%5D=2026-01-02", "Cleo"},
			{"filters%5Bcreated_at%5D=2026-01-04", "Abe,Bea"},
			{"filters%5Bupdated_at%5D=2026-01-04", "Abe,Bea"},
		} {
			if got := names(c.query); got != c.want {
				t.Errorf("list ?%s: %s, want %s", c.query, got, c.want)
			}
		}
		if res := x.call(t, "GET", "/api/vendor/v1/users?sorting%5Bfield%5D=password", nil); res.Status != 400 {
			t.Errorf("sorting on password: %d", res.Status)
		}
	})
}

// TestEveryMissingParameterCombination sends the seed example without each non-empty subset of the
// required parameters and expects every missing one named, in the documented order, in one message.
func TestEveryMissingParameterCombination(t *testing.T) {
	x := start(t, "sqlite", nil)
	required := []string{"first_name", "last_name", "password", "email"}
	for mask := 1; mask < 1<<len(required); mask++ {
		body := john("combo@example.com")
		var want []string
		for i, name := range required {
			if mask&(1<<i) != 0 {
				delete(body, name)
				want = append(want, name+" is missing")
			}
		}
		res := x.call(t, "POST", "/api/vendor/v1/users.json", body)
		if res.Status != http.StatusBadRequest || errorOf(t, res) != strings.Join(want, ", ") {
			t.Errorf("without %v: %d %q, want 400 %q", want, res.Status, errorOf(t, res), strings.Join(want, ", "))
		}
	}
}
