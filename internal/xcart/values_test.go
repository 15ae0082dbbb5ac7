package xcart_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
)

// TestOutOfRangeInEitherMediaType checks that a body answers the same in JSON and in JSON-LD: a
// number PHP reads as a float (beyond 64 bits, where the schema check, comparing float64s, lets
// 2^63 through) is API Platform's type error for the attribute, and U+0000 a violation, on every
// operation with a body.
func TestOutOfRangeInEitherMediaType(t *testing.T) {
	const twoTo63 = "9223372036854775808"
	typeError := func(attribute string) string {
		return fmt.Sprintf(`The type of the "%s" attribute must be "int", "float" given.`, attribute)
	}
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		profile := id(t, x.create(t, map[string]any{"login": "media@example.com"}))
		address := id(t, x.addAddress(t, profile, newAddress(nil)))
		address2 := fmt.Sprintf(`{"firstname":"J","lastname":"D","phone":"1","street":"S","zipcode":"Z","city":"C","country_code":"US","state":%s}`, twoTo63)
		cases := []struct {
			method, path, body string
			status             int
			detail             string
			violations         map[string][]string
		}{
			{"POST", "/api/profiles", `{"login":"big@example.com","access_level":100,"role_ids":[` + twoTo63 + `]}`, 400, typeError("role_ids"), nil},
			{"POST", "/api/profiles", `{"login":"big@example.com","mail_chimp_lists":[-9223372036854775809]}`, 400, typeError("mail_chimp_lists"), nil},
			{"POST", "/api/profiles", `{"login":"big@example.com","access_level":100.0}`, 400, typeError("access_level"), nil},
			{"PUT", fmt.Sprintf("/api/profiles/%d", profile), `{"membership_id":` + twoTo63 + `}`, 400, typeError("membership_id"), nil},
			{"PUT", fmt.Sprintf("/api/profiles/%d", profile), `{"pending_membership_id":1e20}`, 400, typeError("pending_membership_id"), nil},
			{"POST", addressesOf(profile), address2, 400, typeError("state"), nil},
			{"PUT", addressPath(profile, address), `{"state":` + twoTo63 + `}`, 400, typeError("state"), nil},
			{"POST", "/api/profiles", `{"login":"n\u0000l@example.com","status_comment":"\u0000","password":"\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000"}`, 422, "", map[string][]string{
				"login":          {"This value is not a valid email address."},
				"status_comment": {"This value is not valid."},
				"password":       {"This value is not valid."},
			}},
			{"PUT", fmt.Sprintf("/api/profiles/%d", profile), `{"referer":"\u0000","stored_selectors":["a","\u0000"],"x\u0000":"\u0000"}`, 422, "", map[string][]string{
				"referer":             {"This value is not valid."},
				"stored_selectors[1]": {"This value is not valid."},
			}},
			{"PUT", addressPath(profile, address), `{"city":"\u0000","zipcode":"","custom_fields":[{"name":"\u0000","value":"v"}]}`, 422, "", map[string][]string{
				"city":                  {"This value is not valid."},
				"zipcode":               {"This value is too short. It should have 1 character or more."},
				"custom_fields[0].name": {"This value is not valid."},
			}},
		}
		for _, media := range []string{"application/json", "application/ld+json"} {
			for _, c := range cases {
				res := x.Call(t, c.method, c.path, c.body, "X-Auth-Token", x.key, "Content-Type", media, "Accept", "application/json")
				if res.Status != c.status {
					t.Errorf("%s %s %s (%s): status %d, want %d; body %s", c.method, c.path, c.body, media, res.Status, c.status, res.Body)
					continue
				}
				if c.detail != "" {
					if got := detail(t, res); got != c.detail {
						t.Errorf("%s %s %s (%s): detail %q, want %q", c.method, c.path, c.body, media, got, c.detail)
					}
				}
				if c.violations != nil {
					if got := violations(t, res); fmt.Sprint(got) != fmt.Sprint(c.violations) {
						t.Errorf("%s %s %s (%s): violations %v, want %v", c.method, c.path, c.body, media, got, c.violations)
					}
				}
			}
		}
	})
}

// TestIntegerBounds checks that every integer of a body holds its column's whole range.
func TestIntegerBounds(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		body := `{"login":"bounds@example.com","mail_chimp_lists":[-9223372036854775808,9223372036854775807],"mail_chimp_interests":[-9223372036854775808],"mail_chimp_segments":[9223372036854775807]}`
		res := x.call(t, "POST", "/api/profiles", body)
		if res.Status != http.StatusCreated {
			t.Fatalf("POST %s: status %d, want 201; body %s", body, res.Status, res.Body)
		}
		for _, want := range []string{`"mail_chimp_lists":[-9223372036854775808,9223372036854775807]`, `"mail_chimp_interests":[-9223372036854775808]`, `"mail_chimp_segments":[9223372036854775807]`} {
			if !strings.Contains(string(res.Body), want) {
				t.Errorf("created %s, want %s", res.Body, want)
			}
		}
		again := x.call(t, "GET", fmt.Sprintf("/api/profiles/%d", id(t, res.Map(t))), nil)
		if !strings.Contains(string(again.Body), `"mail_chimp_lists":[-9223372036854775808,9223372036854775807]`) {
			t.Errorf("read back %s, want the bounds as stored", again.Body)
		}
	})
}

// TestUnknownIDs checks that a path id that cannot name a profile or address (not a number,
// U+0000, 0, out of range) is the 404 of every unknown id, with the path as sent in instance.
func TestUnknownIDs(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		profile := id(t, x.create(t, map[string]any{"login": "ids@example.com"}))
		address := id(t, x.addAddress(t, profile, newAddress(nil)))
		bad := []struct{ segment, escaped string }{
			{"abc", "abc"}, {"1%00", "1%00"}, {"%00", "%00"}, {"0", "0"}, {"-1", "-1"},
			{"9223372036854775808", "9223372036854775808"}, {"99999999999999999999", "99999999999999999999"},
			{"9223372036854775807", "9223372036854775807"},
		}
		for _, b := range bad {
			paths := []string{
				"/api/profiles/" + b.segment,
				fmt.Sprintf("/api/profiles/%d/addresses/%s", profile, b.segment),
				fmt.Sprintf("/api/profiles/%s/addresses/%d", b.segment, address),
			}
			for _, p := range paths {
				for _, method := range []string{"GET", "PUT", "DELETE"} {
					var body any
					if method == "PUT" {
						body = map[string]any{}
					}
					res := x.call(t, method, p, body)
					want := strings.Replace(p, b.segment, b.escaped, 1)
					if m := res.Map(t); res.Status != http.StatusNotFound || m["detail"] != "Not Found" || m["instance"] != want {
						t.Errorf("%s %s: %d %s, want 404 Not Found at %s", method, p, res.Status, res.Body, want)
					}
				}
			}
		}
		// A profile id that is a number names a profile or none: a list of no addresses, as
		// X-Cart's filter by profile id answers; one that is not a number names nothing.
		for _, c := range []struct {
			segment string
			status  int
		}{{"0", 200}, {"9223372036854775807", 200}, {"1%00", 404}, {"abc", 404}, {"9223372036854775808", 404}} {
			res := x.call(t, "GET", "/api/profiles/"+c.segment+"/addresses", nil)
			if res.Status != c.status || c.status == 200 && strings.TrimSpace(string(res.Body)) != "[]" {
				t.Errorf("GET addresses of %s: %d %s, want %d", c.segment, res.Status, res.Body, c.status)
			}
		}
	})
}

// TestListQueryBounds checks the answers to paging parameters at and beyond their ranges, and to
// filters holding U+0000.
func TestListQueryBounds(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		profile := id(t, x.create(t, map[string]any{"login": "query@example.com"}))
		invalid := func(name string) string { return fmt.Sprintf(`Invalid value for the "%s" query parameter.`, name) }
		for _, list := range []string{"/api/profiles", addressesOf(profile)} {
			for _, c := range []struct {
				query  string
				status int
				detail string
			}{
				{"page=9007199254740991", 200, ""},
				{"page=9007199254740991&itemsPerPage=100", 200, ""},
				{"page=9007199254740992", 400, "Page parameter is too large."},
				{"page=9223372036854775807", 400, "Page parameter is too large."},
				{"page=99999999999999999999", 400, "Page parameter is too large."},
				{"page=0", 400, "Page should not be less than 1"},
				{"page=1.5", 400, invalid("page")},
				{"itemsPerPage=9223372036854775807", 200, ""},
				{"itemsPerPage=9223372036854775808", 400, invalid("itemsPerPage")},
				{"itemsPerPage=-1", 400, "Item per page parameter should not be less than 0"},
			} {
				res := x.call(t, "GET", list+"?"+c.query, nil)
				if res.Status != c.status || c.detail != "" && detail(t, res) != c.detail {
					t.Errorf("GET %s?%s: %d %s, want %d %q", list, c.query, res.Status, res.Body, c.status, c.detail)
				}
			}
		}
		// itemsPerPage beyond 100 is read as 100.
		res := x.Call(t, "GET", "/api/profiles?itemsPerPage=9223372036854775807", nil, "X-Auth-Token", x.key, "Accept", "application/ld+json")
		if !strings.Contains(string(res.Body), "itemsPerPage=9223372036854775807") || res.Status != http.StatusOK {
			t.Errorf("GET itemsPerPage=max in JSON-LD: %d %s", res.Status, res.Body)
		}
		for _, c := range []struct{ query, name string }{
			{"login=a%00", "login"}, {"searchFakeField=%00", "searchFakeField"},
			{"added[after]=2024-01-01%00", "added[after]"}, {"first_login[strictly_before]=%00", "first_login[strictly_before]"},
		} {
			res := x.call(t, "GET", "/api/profiles?"+c.query, nil)
			if res.Status != http.StatusBadRequest || detail(t, res) != invalid(c.name) {
				t.Errorf("GET ?%s: %d %s, want 400 %q", c.query, res.Status, res.Body, invalid(c.name))
			}
		}
	})
}

// TestLoginAndNUL checks the login firewall reads only username and password: any other key is
// ignored whatever it holds, and a username or password holding U+0000 names no profile (401).
func TestLoginAndNUL(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		x.create(t, map[string]any{"login": "nuladmin@example.com", "password": "admin-password", "access_level": 100})
		for _, body := range []string{
			`{"username":"nuladmin@example.com","password":"admin-password","x\u0000":1}`,
			`{"username":"nuladmin@example.com","password":"admin-password","\u0000":"\u0000","other":{"\u0000":[1e400]}}`,
		} {
			res := x.Call(t, "POST", "/api-login/check", body)
			if res.Status != http.StatusOK {
				t.Errorf("login %q: %d %s, want 200", body, res.Status, res.Body)
			}
		}
		for _, body := range []string{
			`{"username":"nuladmin@example.com\u0000","password":"admin-password"}`,
			`{"username":"nuladmin@example.com","password":"admin-password\u0000"}`,
			`{"username":"\u0000","password":"\u0000"}`,
		} {
			res := x.Call(t, "POST", "/api-login/check", body)
			if m := res.Map(t); res.Status != http.StatusUnauthorized || m["message"] != "Invalid credentials." || m["code"] != 401.0 {
				t.Errorf("login %q: %d %s, want 401 Invalid credentials.", body, res.Status, res.Body)
			}
		}
		// A key missing or mistyped is the firewall's 400 whatever else holds U+0000.
		for _, c := range []struct{ body, detail string }{
			{`{"username":"\u0000"}`, `The key "password" must be provided.`},
			{`{"username":"\u0000","password":1}`, `The key "password" must be a string.`},
		} {
			res := x.Call(t, "POST", "/api-login/check", c.body)
			if res.Status != http.StatusBadRequest || detail(t, res) != c.detail {
				t.Errorf("login %q: %d %s, want 400 %q", c.body, res.Status, res.Body, c.detail)
			}
		}
	})
}
