package activeplatform_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/config"
)

// TestValueRules: the spec's value rules (U+0000 refused by pattern, integer bounds, the
// password policy) are answered as Grape answers an invalid value, with every other problem of
// the request in one message in the parameters' order; ids that cannot be ids are unknown ids.
// On both databases: a value that slipped through would be a 500 on PostgreSQL.
func TestValueRules(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect, nil)
		apply(t, x, accountsDoc, false)
		ann := x.created(t, "ann@example.com")
		with := func(kv ...any) map[string]any {
			m := john("new@example.com")
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i+1] == nil {
					delete(m, kv[i].(string))
				} else {
					m[kv[i].(string)] = kv[i+1]
				}
			}
			return m
		}
		attrs := func(key, value string) []map[string]string { return []map[string]string{{"key": key, "value": value}} }
		const weak = "password is too weak: at least 8 characters, a letter, a digit"
		for _, c := range []struct {
			name, method, path string
			body               any
			contentType        string
			status             int
			want               string
		}{
			// U+0000 in each string of a create, JSON and form-encoded.
			{"NUL first_name", "POST", "/api/vendor/v1/users", with("first_name", "A\x00"), "", 400, "first_name is invalid"},
			{"NUL middle_name", "POST", "/api/vendor/v1/users", with("middle_name", "\x00"), "", 400, "middle_name is invalid"},
			{"NUL last_name", "POST", "/api/vendor/v1/users", with("last_name", "\x00B"), "", 400, "last_name is invalid"},
			{"NUL email", "POST", "/api/vendor/v1/users", with("email", "a\x00@example.com"), "", 400, "email is invalid"},
			{"NUL password", "POST", "/api/vendor/v1/users", with("password", "abcdefg1\x00"), "", 400, "password is invalid"},
			{"NUL attribute key", "POST", "/api/vendor/v1/users", with("custom_attributes", attrs("a\x00ge", "1")), "", 400, "custom_attributes[0][key] does not have a valid value"},
			{"NUL attribute value", "POST", "/api/vendor/v1/users", with("custom_attributes", attrs("age", "2\x001")), "", 400, "custom_attributes[0][value] is invalid"},
			{"NUL in an ignored key", "POST", "/api/vendor/v1/users", with("x\x00y", "z\x00", "email", "ignored@example.com"), "", 201, ""},
			{"NUL with the other problems, in the parameters' order", "POST", "/api/vendor/v1/users.json",
				with("first_name", nil, "last_name", "B\x00", "password", "short", "email", "a\x00b", "custom_attributes", attrs("age", "\x00")), "", 400,
				"first_name is missing, last_name is invalid, " + weak + ", email is invalid, custom_attributes[0][value] is invalid"},
			{"form: NUL and a missing parameter", "POST", "/api/vendor/v1/users", "first_name=A%00&password=abcdefg1&email=f%40example.com&custom_attributes[][key]=age&custom_attributes[][value]=1%00", form, 400,
				"first_name is invalid, last_name is missing, custom_attributes[0][value] is invalid"},
			{"form: NUL in an ignored key", "POST", "/api/vendor/v1/users", "first_name=A&last_name=B&password=abcdefg1&email=form.nul%40example.com&x%00y=1", form, 201, ""},
			// The password policy, stated by the schema, answered as the policy check words it.
			{"short password", "POST", "/api/vendor/v1/users", with("password", "abc1"), "", 400, weak},
			{"no digit", "POST", "/api/vendor/v1/users", with("password", "abcdefgh"), "", 400, weak},
			{"no letter", "POST", "/api/vendor/v1/users", with("password", "12345678"), "", 400, weak},
			{"weak password and a missing parameter", "POST", "/api/vendor/v1/users", with("password", "abcdefgh", "email", nil), "", 400, weak + ", email is missing"},
			{"digit then letter", "POST", "/api/vendor/v1/users", with("password", "1234567a", "email", "digits.first@example.com", "custom_attributes", nil), "", 201, ""},
			// An update: the same rules.
			{"update: NUL last_name", "PUT", "/api/vendor/v1/users/" + ann, map[string]any{"last_name": "\x00"}, "", 400, "last_name is invalid"},
			{"update: weak password", "PUT", "/api/vendor/v1/users/" + ann + ".json", map[string]any{"password": "short"}, "", 400, weak},
			{"update: NUL password", "PUT", "/api/vendor/v1/users/" + ann, "password=abcdefg1%00", form, 400, "password is invalid"},
			// The list's query.
			{"page 0", "GET", "/api/vendor/v1/users?page=0", nil, "", 400, "page is invalid"},
			{"last page", "GET", "/api/vendor/v1/users.json?page=2147483647", nil, "", 200, ""},
			{"page past int32", "GET", "/api/vendor/v1/users?page=2147483648", nil, "", 400, "page is invalid"},
			{"page 10^20", "GET", "/api/vendor/v1/users?page=100000000000000000000", nil, "", 400, "page is invalid"},
			{"per_page 0 and 101", "GET", "/api/vendor/v1/users?per_page=101&page=0", nil, "", 400, "page is invalid, per_page is invalid"},
			{"NUL in filters[email]", "GET", "/api/vendor/v1/users?filters%5Bemail%5D=a%00b&per_page=0", nil, "", 400, "per_page is invalid, filters[email] is invalid"},
			{"NUL in sorting[field]", "GET", "/api/vendor/v1/users?sorting%5Bfield%5D=id%00", nil, "", 400, "sorting[field] does not have a valid value"},
			// Path ids that cannot be ids: unknown ids.
			{"user 0", "GET", "/api/vendor/v1/users/0", nil, "", 404, "Couldn't find User with 'id'=0"},
			{"user -1", "GET", "/api/vendor/v1/users/-1.json", nil, "", 404, "Couldn't find User with 'id'=-1"},
			{"last user id", "GET", "/api/vendor/v1/users/9223372036854775807", nil, "", 404, "Couldn't find User with 'id'=9223372036854775807"},
			{"user past int64", "GET", "/api/vendor/v1/users/9223372036854775808.json", nil, "", 404, "Couldn't find User with 'id'=9223372036854775808"},
			{"update user past int64", "PUT", "/api/vendor/v1/users/100000000000000000000", map[string]any{"last_name": "X"}, "", 404, "Couldn't find User with 'id'=100000000000000000000"},
			{"user NUL", "GET", "/api/vendor/v1/users/1%00", nil, "", 404, "Couldn't find User with 'id'=1\uFFFD"},
			{"account past int64", "GET", "/api/vendor/v1/accounts/9223372036854775808/users.json", nil, "", 404, "Couldn't find Account with 'id'=9223372036854775808"},
			{"last account id", "GET", "/api/vendor/v1/accounts/9223372036854775807/users", nil, "", 404, "Couldn't find Account with 'id'=9223372036854775807"},
			{"account NUL", "GET", "/api/vendor/v1/accounts/7%00/users", nil, "", 404, "Couldn't find Account with 'id'=7\uFFFD"},
			// The accesses' query ids: an integer out of range is an unknown id, the user's first.
			{"access: user 0", "POST", "/api/v2/vendor/account_accesses?account_id=7&user_id=0", nil, "", 404, "Couldn't find User with 'id'=0"},
			{"access: user past int64", "POST", "/api/v2/vendor/account_accesses?account_id=7&user_id=9223372036854775808", nil, "", 404, "Couldn't find User with 'id'=9223372036854775808"},
			{"access: both out of range", "POST", "/api/v2/vendor/account_accesses?account_id=-1&user_id=100000000000000000000", nil, "", 404, "Couldn't find User with 'id'=100000000000000000000"},
			{"access: account past int64", "POST", "/api/v2/vendor/account_accesses.json?account_id=9223372036854775808&user_id=" + ann, nil, "", 404, "Couldn't find Account with 'id'=9223372036854775808"},
			{"access: last account id", "POST", "/api/v2/vendor/account_accesses?account_id=9223372036854775807&user_id=" + ann, nil, "", 404, "Couldn't find Account with 'id'=9223372036854775807"},
			{"access: out of range and a bad role", "POST", "/api/v2/vendor/account_accesses?account_id=0&role=root&user_id=" + ann, nil, "", 400, "role does not have a valid value"},
			{"access: not integers", "POST", "/api/v2/vendor/account_accesses?account_id=1e3&user_id=1.5", nil, "", 400, "account_id is invalid, user_id is invalid"},
			{"access: NUL", "POST", "/api/v2/vendor/account_accesses?account_id=7%00&user_id=" + ann, nil, "", 400, "account_id is invalid"},
			{"access: NUL role", "POST", "/api/v2/vendor/account_accesses?account_id=7&role=user%00&user_id=" + ann, nil, "", 400, "role does not have a valid value"},
		} {
			var header []string
			if c.contentType != "" {
				header = []string{"Content-Type", c.contentType}
			}
			res := x.call(t, c.method, c.path, c.body, header...)
			got := ""
			if res.Status >= 400 {
				got = errorOf(t, res)
			}
			if res.Status != c.status || got != c.want {
				t.Errorf("%s: %d %q, want %d %q", c.name, res.Status, got, c.status, c.want)
			}
		}
	})
}

// TestConfiguredPasswordPolicy: a server configured with another password policy validates
// passwords by it, answers its words, and serves a spec that states it (YAML and JSON).
func TestConfiguredPasswordPolicy(t *testing.T) {
	x := start(t, "sqlite", func(c *config.Config) { c.PasswordPolicy = "min=10,upper,digit,symbol" })
	const weak = "password is too weak: at least 10 characters, a digit, an upper-case letter, a symbol"
	for _, c := range []struct {
		password string
		status   int
		want     string
	}{
		{"abcdefg1", 400, weak},    // the default policy's, refused by this one
		{"Abcdefgh1!", 201, ""},    // upper, digit, symbol: one each
		{"!1Abcdefgh", 201, ""},    // in another order
		{"Abcdefghi12", 400, weak}, // no symbol
		{"ABCDEFGHI!1", 201, ""},   // no lower-case letter needed
		{"Ab1!", 400, weak},        // short
		{"Abcdefgh1!\x00", 400, "password is invalid"},
	} {
		body := john(strings.ToLower(strings.Map(func(r rune) rune {
			if r < 'a' || r > 'z' {
				return 'x'
			}
			return r
		}, c.password)) + "@example.com")
		body["password"] = c.password
		res := x.call(t, "POST", "/api/vendor/v1/users", body)
		got := ""
		if res.Status >= 400 {
			got = errorOf(t, res)
		}
		if res.Status != c.status || got != c.want {
			t.Errorf("password %q: %d %q, want %d %q", c.password, res.Status, got, c.status, c.want)
		}
	}
	const pattern = `^[^\x00]*([A-Z][^\x00]*[0-9][^\x00]*[^\x00A-Za-z0-9]|`
	yaml := x.Call(t, "GET", "/openapi/activeplatform.yaml", nil)
	if s := string(yaml.Body); yaml.Status != http.StatusOK || !strings.Contains(s, "\n      minLength: 10\n") || !strings.Contains(s, "      pattern: '"+pattern) {
		t.Errorf("served YAML does not state the policy: %d", yaml.Status)
	}
	js := x.Call(t, "GET", "/openapi/activeplatform.json", nil)
	if s := string(js.Body); js.Status != http.StatusOK || !strings.Contains(s, `"minLength":10`) || !strings.Contains(s, `"pattern":"^[^\\u0000]*([A-Z]`) && !strings.Contains(s, `"pattern":"^[^\\x00]*([A-Z]`) {
		t.Errorf("served JSON does not state the policy: %d", js.Status)
	}
}
