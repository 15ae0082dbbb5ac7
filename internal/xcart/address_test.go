package xcart_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/credential"
	"github.com/provisiond/provisiond/internal/xcart"
)

// newAddress is a create body with every required field, and the fields of extra on top.
func newAddress(extra map[string]any) map[string]any {
	body := map[string]any{
		"firstname": "Jane", "lastname": "Doe", "phone": "+1 555 0100", "street": "1 Main Street",
		"zipcode": "10001", "city": "New York", "country_code": "US",
	}
	for k, v := range extra {
		if v == nil {
			delete(body, k)
			continue
		}
		body[k] = v
	}
	return body
}

func addressesOf(profile int) string { return fmt.Sprintf("/api/profiles/%d/addresses", profile) }

func addressPath(profile, address int) string {
	return fmt.Sprintf("/api/profiles/%d/addresses/%d", profile, address)
}

// addAddress creates an address of profile and fails the test unless it answers 201.
func (x *xc) addAddress(t *testing.T, profile int, body map[string]any) map[string]any {
	t.Helper()
	res := x.call(t, "POST", addressesOf(profile), body)
	if res.Status != http.StatusCreated {
		t.Fatalf("create address %v: status %d, want 201; body %s", body, res.Status, res.Body)
	}
	return res.Map(t)
}

// flagged lists the ids of profile's addresses, in id order, whose flag (is_billing or
// is_shipping) is set.
func (x *xc) flagged(t *testing.T, profile int, flag string) []int {
	t.Helper()
	res := x.call(t, "GET", addressesOf(profile)+"?itemsPerPage=100", nil)
	if res.Status != http.StatusOK {
		t.Fatalf("list addresses of %d: %d %s", profile, res.Status, res.Body)
	}
	var list []map[string]any
	res.JSON(t, &list)
	var out []int
	for _, a := range list {
		if a[flag] == true {
			out = append(out, id(t, a))
		}
	}
	return out
}

func TestAddressFieldRules(t *testing.T) {
	type want struct {
		status int
		field  string // the violation's propertyPath (422) — "" for other statuses
		msg    string // the violation message (422) or the detail (400)
	}
	ok := want{status: http.StatusCreated}
	blank := "This value should not be blank."
	cases := []struct {
		name string
		body map[string]any
		want want
	}{
		{"required fields only", newAddress(nil), ok},
		{"every field", newAddress(map[string]any{"is_billing": true, "is_shipping": true, "is_work": true, "type": "C", "title": "Ms",
			"state": 35, "state_name": "New York", "custom_fields": []any{}}), ok},
		{"firstname missing", newAddress(map[string]any{"firstname": nil}), want{422, "firstname", blank}},
		{"lastname missing", newAddress(map[string]any{"lastname": nil}), want{422, "lastname", blank}},
		{"phone missing", newAddress(map[string]any{"phone": nil}), want{422, "phone", blank}},
		{"street missing", newAddress(map[string]any{"street": nil}), want{422, "street", blank}},
		{"zipcode missing", newAddress(map[string]any{"zipcode": nil}), want{422, "zipcode", blank}},
		{"city missing", newAddress(map[string]any{"city": nil}), want{422, "city", blank}},
		{"country_code missing", newAddress(map[string]any{"country_code": nil}), want{422, "country_code", blank}},
		{"firstname empty", newAddress(map[string]any{"firstname": ""}), want{422, "firstname", "This value is too short. It should have 1 character or more."}},
		{"firstname 255", newAddress(map[string]any{"firstname": strings.Repeat("f", 255)}), ok},
		{"firstname 256", newAddress(map[string]any{"firstname": strings.Repeat("f", 256)}), want{422, "firstname", "This value is too long. It should have 255 characters or less."}},
		{"zipcode 32", newAddress(map[string]any{"zipcode": strings.Repeat("9", 32)}), ok},
		{"zipcode 33", newAddress(map[string]any{"zipcode": strings.Repeat("9", 33)}), want{422, "zipcode", "This value is too long. It should have 32 characters or less."}},
		{"country_code lower case", newAddress(map[string]any{"country_code": "us"}), want{422, "country_code", "This value is not valid."}},
		{"country_code 3 letters", newAddress(map[string]any{"country_code": "USA"}), want{422, "country_code", "This value is too long. It should have 2 characters or less."}},
		{"country_code 1 letter", newAddress(map[string]any{"country_code": "X"}), want{422, "country_code", "This value is too short. It should have 2 characters or more."}},
		{"type X", newAddress(map[string]any{"type": "X"}), want{422, "type", "The value you selected is not a valid choice."}},
		{"state negative", newAddress(map[string]any{"state": -1}), want{422, "state", "This value should be greater than or equal to 0."}},
		{"custom state", newAddress(map[string]any{"state_name": "Bavaria", "country_code": "DE"}), ok},
		{"state a string", newAddress(map[string]any{"state": "NY"}), want{400, "", `The type of the "state" attribute must be "int", "string" given.`}},
		{"is_billing a string", newAddress(map[string]any{"is_billing": "yes"}), want{400, "", `The type of the "is_billing" attribute must be "bool", "string" given.`}},
		{"custom field", newAddress(map[string]any{"custom_fields": []any{map[string]any{"name": "company", "value": "ACME"}}}),
			want{422, "custom_fields[0].name", `Field with "company" service name not found`}},
		{"unknown attribute ignored", newAddress(map[string]any{"favourite_colour": "blue"}), ok},
		{"unknown attribute with U+0000 ignored", newAddress(map[string]any{"favourite\x00colour": "\x00"}), ok},
		{"firstname U+0000", newAddress(map[string]any{"firstname": "Ja\x00ne"}), want{422, "firstname", "This value is not valid."}},
		{"street U+0000", newAddress(map[string]any{"street": "\x00"}), want{422, "street", "This value is not valid."}},
		{"country_code U+0000", newAddress(map[string]any{"country_code": "U\x00"}), want{422, "country_code", "This value is not valid."}},
		{"custom field name U+0000", newAddress(map[string]any{"custom_fields": []any{map[string]any{"name": "co\x00", "value": "ACME"}}}),
			want{422, "custom_fields[0].name", "This value is not valid."}},
		{"custom field value U+0000", newAddress(map[string]any{"custom_fields": []any{map[string]any{"name": "company", "value": "\x00"}}}),
			want{422, "custom_fields[0].value", "This value is not valid."}},
		{"state int64 max", newAddress(map[string]any{"state": json.Number("9223372036854775807")}), ok},
		{"state 2^63", newAddress(map[string]any{"state": json.Number("9223372036854775808")}), want{400, "", `The type of the "state" attribute must be "int", "float" given.`}},
		{"state 10^20", newAddress(map[string]any{"state": json.Number("1e20")}), want{400, "", `The type of the "state" attribute must be "int", "float" given.`}},
		{"state 1.0", newAddress(map[string]any{"state": json.Number("1.0")}), want{400, "", `The type of the "state" attribute must be "int", "float" given.`}},
	}
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		profile := id(t, x.create(t, map[string]any{"login": "rules@example.com"}))
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				res := x.call(t, "POST", addressesOf(profile), c.body)
				switch {
				case res.Status != c.want.status:
					t.Errorf("POST %v: status %d, want %d; body %s", c.body, res.Status, c.want.status, res.Body)
				case c.want.status == http.StatusUnprocessableEntity:
					if got := violations(t, res)[c.want.field]; !contains(got, c.want.msg) {
						t.Errorf("POST %v: violations of %s = %q, want %q; body %s", c.body, c.want.field, got, c.want.msg, res.Body)
					}
				case c.want.status == http.StatusBadRequest:
					if got := detail(t, res); got != c.want.msg {
						t.Errorf("POST %v: detail %q, want %q", c.body, got, c.want.msg)
					}
				}
			})
		}
	})
}

func TestAddressViolationsListedAtOnce(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		profile := id(t, x.create(t, map[string]any{"login": "every@example.com"}))
		res := x.call(t, "POST", addressesOf(profile), map[string]any{"zipcode": strings.Repeat("9", 33), "country_code": "us"})
		got := violations(t, res)
		for _, field := range []string{"firstname", "lastname", "phone", "street", "city", "zipcode", "country_code"} {
			if res.Status != http.StatusUnprocessableEntity || len(got[field]) == 0 {
				t.Errorf("POST with 7 bad fields: status %d, violations %v; want 422 with one for %s", res.Status, got, field)
			}
		}
	})
}

func TestAddressLifecycle(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		profile := id(t, x.create(t, map[string]any{"login": "life@example.com"}))
		other := id(t, x.create(t, map[string]any{"login": "other@example.com"}))

		res := x.call(t, "POST", addressesOf(profile), newAddress(map[string]any{"is_billing": true, "state": 0, "state_name": "NY"}))
		if res.Status != http.StatusCreated {
			t.Fatalf("POST: %d %s, want 201", res.Status, res.Body)
		}
		created := res.Map(t)
		a := id(t, created)
		if loc := res.Header.Get("Location"); loc != addressPath(profile, a) {
			t.Errorf("Location = %q, want %q", loc, addressPath(profile, a))
		}
		wantCreated := map[string]any{
			"is_billing": true, "is_shipping": false, "is_work": false, "type": "R", "title": "", "firstname": "Jane", "lastname": "Doe",
			"phone": "+1 555 0100", "street": "1 Main Street", "zipcode": "10001", "city": "New York", "country_code": "US",
			"state": nil, "state_name": "NY", "custom_fields": []any{},
		}
		for k, v := range wantCreated {
			if fmt.Sprint(created[k]) != fmt.Sprint(v) {
				t.Errorf("created %s = %v, want %v", k, created[k], v)
			}
		}

		path := addressPath(profile, a)
		if res := x.call(t, "GET", path, nil); res.Status != http.StatusOK || fmt.Sprint(res.Map(t)) != fmt.Sprint(created) {
			t.Errorf("GET: %d %s, want 200 %v", res.Status, res.Body, created)
		}
		for _, p := range []string{addressPath(other, a), addressPath(profile, a+1000), addressPath(999999, a), "/api/profiles/1/addresses/x"} {
			if res := x.call(t, "GET", p, nil); res.Status != http.StatusNotFound || detail(t, res) != "Not Found" {
				t.Errorf("GET %s: %d %s, want 404 Not Found", p, res.Status, res.Body)
			}
		}

		// PUT changes only what it sends; the rules of the create hold for the result.
		res = x.call(t, "PUT", path, map[string]any{"phone": "+1 555 0199", "state": 35, "country_code": nil})
		if res.Status != http.StatusOK {
			t.Fatalf("PUT: %d %s, want 200", res.Status, res.Body)
		}
		got := res.Map(t)
		if got["phone"] != "+1 555 0199" || got["state"] != float64(35) || got["country_code"] != "US" || got["firstname"] != "Jane" || got["is_billing"] != true {
			t.Errorf("PUT phone and state: %s; want them changed and the rest kept", res.Body)
		}
		if res := x.call(t, "PUT", path, map[string]any{"firstname": "", "custom_fields": []any{map[string]any{"name": "x"}}}); res.Status != http.StatusUnprocessableEntity {
			t.Errorf("PUT empty firstname: %d %s, want 422", res.Status, res.Body)
		}
		if res := x.call(t, "PUT", addressPath(other, a), map[string]any{"phone": "1"}); res.Status != http.StatusNotFound {
			t.Errorf("PUT through another profile: %d %s, want 404", res.Status, res.Body)
		}
		if res := x.call(t, "PUT", addressPath(profile, a+1000), map[string]any{"custom_fields": []any{map[string]any{"name": "x"}}}); res.Status != http.StatusNotFound {
			t.Errorf("PUT unknown address with a bad body: %d %s, want 404", res.Status, res.Body)
		}
		if res := x.call(t, "POST", addressesOf(999999), newAddress(nil)); res.Status != http.StatusNotFound || detail(t, res) != "Not Found" {
			t.Errorf("POST to an unknown profile: %d %s, want 404 Not Found", res.Status, res.Body)
		}

		// The list is the profile's own; an unknown profile has none.
		x.addAddress(t, other, newAddress(nil))
		if res := x.call(t, "GET", addressesOf(profile), nil); res.Status != http.StatusOK || len(listOf(t, res)) != 1 {
			t.Errorf("list: %d %s, want the one address", res.Status, res.Body)
		}
		if res := x.call(t, "GET", addressesOf(999999), nil); res.Status != http.StatusOK || strings.TrimSpace(string(res.Body)) != "[]" {
			t.Errorf("list of an unknown profile: %d %s, want 200 []", res.Status, res.Body)
		}

		if res := x.call(t, "DELETE", addressPath(other, a), nil); res.Status != http.StatusNotFound {
			t.Errorf("DELETE through another profile: %d %s, want 404", res.Status, res.Body)
		}
		if res := x.call(t, "DELETE", path, nil); res.Status != http.StatusNoContent || len(res.Body) != 0 {
			t.Fatalf("DELETE: %d %s, want 204 and no body", res.Status, res.Body)
		}
		for _, m := range []string{"GET", "DELETE"} {
			if res := x.call(t, m, path, nil); res.Status != http.StatusNotFound {
				t.Errorf("%s after DELETE: %d %s, want 404", m, res.Status, res.Body)
			}
		}
	})
}

func listOf(t *testing.T, res *apitest.Response) []map[string]any {
	t.Helper()
	var list []map[string]any
	res.JSON(t, &list)
	return list
}

func TestAddressPaging(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		profile := id(t, x.create(t, map[string]any{"login": "pages@example.com"}))
		var ids []int
		for i := range 5 {
			ids = append(ids, id(t, x.addAddress(t, profile, newAddress(map[string]any{"street": strconv.Itoa(i)}))))
		}
		cases := []struct {
			query string
			want  []int
		}{
			{"", ids},
			{"?itemsPerPage=2", ids[:2]},
			{"?itemsPerPage=2&page=3", ids[4:]},
			{"?itemsPerPage=2&page=4", nil},
			{"?itemsPerPage=0", nil},
			{"?itemsPerPage=1000", ids},
		}
		for _, c := range cases {
			res := x.call(t, "GET", addressesOf(profile)+c.query, nil)
			var got []int
			for _, a := range listOf(t, res) {
				got = append(got, id(t, a))
			}
			if res.Status != http.StatusOK || fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("GET %s: %d %v, want 200 %v", c.query, res.Status, got, c.want)
			}
		}
		if res := x.call(t, "GET", addressesOf(profile)+"?page=0", nil); res.Status != http.StatusBadRequest || detail(t, res) != "Page should not be less than 1" {
			t.Errorf("page 0: %d %s, want 400 Page should not be less than 1", res.Status, res.Body)
		}
	})
}

// TestAddressFlagsMove checks that setting the billing or shipping flag on an address takes it
// from the profile's address that held it, on create and on update, and leaves other profiles'
// flags alone.
func TestAddressFlagsMove(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		profile := id(t, x.create(t, map[string]any{"login": "flags@example.com"}))
		other := id(t, x.create(t, map[string]any{"login": "flags2@example.com"}))
		o := id(t, x.addAddress(t, other, newAddress(map[string]any{"is_billing": true, "is_shipping": true})))
		a := id(t, x.addAddress(t, profile, newAddress(map[string]any{"is_billing": true, "is_shipping": true})))
		b := id(t, x.addAddress(t, profile, newAddress(map[string]any{"is_billing": true})))
		check := func(step string, billing, shipping []int) {
			t.Helper()
			if got := x.flagged(t, profile, "is_billing"); fmt.Sprint(got) != fmt.Sprint(billing) {
				t.Errorf("%s: billing addresses %v, want %v", step, got, billing)
			}
			if got := x.flagged(t, profile, "is_shipping"); fmt.Sprint(got) != fmt.Sprint(shipping) {
				t.Errorf("%s: shipping addresses %v, want %v", step, got, shipping)
			}
		}
		check("create a billing address", []int{b}, []int{a})
		if res := x.call(t, "PUT", addressPath(profile, b), map[string]any{"is_shipping": true}); res.Status != http.StatusOK {
			t.Fatalf("PUT is_shipping: %d %s", res.Status, res.Body)
		}
		check("update to shipping", []int{b}, []int{b})
		if res := x.call(t, "PUT", addressPath(profile, a), map[string]any{"is_billing": true, "phone": "2"}); res.Status != http.StatusOK {
			t.Fatalf("PUT is_billing: %d %s", res.Status, res.Body)
		}
		check("update back to billing", []int{a}, []int{b})
		if res := x.call(t, "PUT", addressPath(profile, a), map[string]any{"is_billing": false}); res.Status != http.StatusOK {
			t.Fatalf("PUT is_billing false: %d %s", res.Status, res.Body)
		}
		check("clear billing", nil, []int{b})
		if got := x.flagged(t, other, "is_billing"); fmt.Sprint(got) != fmt.Sprint([]int{o}) {
			t.Errorf("the other profile's billing addresses: %v, want [%d]", got, o)
		}
	})
}

// TestAddressFlagsRace creates and updates addresses of one profile concurrently, each taking
// both flags: every request is acknowledged, and the profile ends with exactly one billing and
// one shipping address, the database's partial unique indexes notwithstanding.
func TestAddressFlagsRace(t *testing.T) {
	const n = 20
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		profile := id(t, x.create(t, map[string]any{"login": "race@example.com"}))
		existing := id(t, x.addAddress(t, profile, newAddress(nil)))
		for r := range apitest.RaceRounds(t) {
			answers := apitest.Concurrently(n, func(i int) *apitest.Response {
				flags := map[string]any{"is_billing": true, "is_shipping": true, "street": fmt.Sprintf("%d-%d", r, i)}
				if i%2 == 0 {
					return x.Call(t, "PUT", addressPath(profile, existing), flags, "X-Auth-Token", x.key)
				}
				return x.Call(t, "POST", addressesOf(profile), newAddress(flags), "X-Auth-Token", x.key)
			})
			for i, res := range answers {
				if res.Status/100 != 2 {
					t.Errorf("round %d, request %d of %d at once: %d %s, want 2xx", r, i, n, res.Status, res.Body)
				}
			}
			for _, flag := range []string{"is_billing", "is_shipping"} {
				if got := x.flagged(t, profile, flag); len(got) != 1 {
					t.Errorf("round %d, after %d concurrent writes setting %s: addresses %v hold it, want exactly one", r, n, flag, got)
				}
			}
		}
	})
}

// TestAddressesGoWithTheirProfile checks the cascade: deleting a profile deletes its addresses
// in the database, on SQLite as on PostgreSQL.
func TestAddressesGoWithTheirProfile(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		profile := id(t, x.create(t, map[string]any{"login": "gone@example.com"}))
		kept := id(t, x.create(t, map[string]any{"login": "kept@example.com"}))
		x.addAddress(t, profile, newAddress(map[string]any{"is_billing": true}))
		x.addAddress(t, profile, newAddress(map[string]any{"is_shipping": true}))
		x.addAddress(t, kept, newAddress(nil))
		if res := x.call(t, "DELETE", fmt.Sprintf("/api/profiles/%d", profile), nil); res.Status != http.StatusNoContent {
			t.Fatalf("delete profile: %d %s", res.Status, res.Body)
		}
		count := func(p int) int64 {
			var n int64
			if err := x.DB.Table("xcart_addresses").Where("profile_id = ?", p).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(profile); n != 0 {
			t.Errorf("addresses of the deleted profile: %d stored, want 0", n)
		}
		if n := count(kept); n != 1 {
			t.Errorf("addresses of the other profile: %d stored, want 1", n)
		}
	})
}

// TestAddressAuthentication checks both of X-Cart's schemes on the addresses: a read-only key
// reads but may not write, and an administrator's JWT does both.
func TestAddressAuthentication(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		x.create(t, map[string]any{"login": "admin@example.com", "password": "s3cret-passw0rd", "access_level": 100})
		profile := id(t, x.create(t, map[string]any{"login": "auth@example.com"}))
		a := id(t, x.addAddress(t, profile, newAddress(nil)))

		if res := x.Call(t, "GET", addressesOf(profile), nil); res.Status != http.StatusUnauthorized {
			t.Errorf("GET without credentials: %d %s, want 401", res.Status, res.Body)
		}
		readOnly, err := credential.NewStore(x.DB).Create(context.Background(), "xcart", true)
		if err != nil {
			t.Fatal(err)
		}
		if res := x.Call(t, "GET", addressPath(profile, a), nil, "X-Auth-Token", readOnly); res.Status != http.StatusOK {
			t.Errorf("GET with a read-only key: %d %s, want 200", res.Status, res.Body)
		}
		for _, w := range []struct{ method, path string }{{"POST", addressesOf(profile)}, {"PUT", addressPath(profile, a)}, {"DELETE", addressPath(profile, a)}} {
			if res := x.Call(t, w.method, w.path, newAddress(nil), "X-Auth-Token", readOnly); res.Status != http.StatusForbidden {
				t.Errorf("%s with a read-only key: %d %s, want 403", w.method, res.Status, res.Body)
			}
		}

		login := x.Call(t, "POST", "/api-login/check", map[string]any{"username": "admin@example.com", "password": "s3cret-passw0rd"})
		token, _ := login.Map(t)["token"].(string)
		if login.Status != http.StatusOK || token == "" {
			t.Fatalf("login: %d %s", login.Status, login.Body)
		}
		res := x.Call(t, "POST", addressesOf(profile), newAddress(map[string]any{"is_billing": true}), "Authorization", "Bearer "+token)
		if res.Status != http.StatusCreated {
			t.Errorf("POST with a JWT: %d %s, want 201", res.Status, res.Body)
		}
	})
}

// xcAddressUpdater is X-Cart's adapter for apitest.UpdateContract over a profile's address: the
// profile adapter's update and read, on the ids "<profile>/addresses/<address>" it creates.
type xcAddressUpdater struct{ *xcUpdater }

func (x xcAddressUpdater) Create(t testing.TB) string {
	profile := x.xcUpdater.Create(t)
	res := x.Call(t, "POST", "/api/profiles/"+profile+"/addresses", newAddress(nil), "X-Auth-Token", x.key)
	if res.Status != http.StatusCreated {
		t.Fatalf("create an address of %s: status %d, want 201; body %s", profile, res.Status, res.Body)
	}
	return profile + "/addresses/" + strconv.Itoa(id(t, res.Map(t)))
}

func TestAddressUpdateContract(t *testing.T) {
	apitest.UpdateContract{
		Start: func(t *testing.T, dialect string) apitest.Updater {
			return xcAddressUpdater{&xcUpdater{xc: start(t, dialect)}}
		},
		Fields: map[string]func(int) any{
			"firstname":   apitest.Text("first"),
			"lastname":    apitest.Text("last"),
			"phone":       apitest.Text("phone"),
			"street":      apitest.Text("street"),
			"city":        apitest.Text("city"),
			"zipcode":     apitest.Text("zip"),
			"title":       apitest.Text("title"),
			"state_name":  apitest.Text("state"),
			"type":        apitest.Toggle("R", "C"),
			"is_work":     apitest.Toggle(false, true),
			"is_billing":  apitest.Toggle(false, true),
			"is_shipping": apitest.Toggle(true, false),
		},
	}.Run(t)
}

// TestAddressNamesTheUser checks the control API's neutral user: its first and last name are
// those of the profile's billing address, else its shipping address, else its first address, as
// X-Cart's Profile::getName() reads them; a profile without addresses has none.
func TestAddressNamesTheUser(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		ctx := context.Background()
		profile := func(login string, addresses ...map[string]any) string {
			p := id(t, x.create(t, map[string]any{"login": login}))
			for _, a := range addresses {
				x.addAddress(t, p, newAddress(a))
			}
			return strconv.Itoa(p)
		}
		cases := []struct {
			id          string
			first, last string
		}{
			{profile("none@example.com"), "", ""},
			{profile("first@example.com", map[string]any{"firstname": "First", "lastname": "One"}, map[string]any{"firstname": "Second"}), "First", "One"},
			{profile("shipping@example.com", map[string]any{"firstname": "Plain"}, map[string]any{"firstname": "Ship", "lastname": "To", "is_shipping": true}), "Ship", "To"},
			{profile("billing@example.com", map[string]any{"firstname": "Ship", "is_shipping": true}, map[string]any{"firstname": "Bill", "lastname": "Payer", "is_billing": true}), "Bill", "Payer"},
		}
		list, _, err := xcart.Module.Users.List(ctx, x.DB, 0, 10)
		if err != nil || len(list) != len(cases) {
			t.Fatalf("List = %d users, %v; want %d", len(list), err, len(cases))
		}
		for i, c := range cases {
			got, err := xcart.Module.Users.Get(ctx, x.DB, c.id)
			if err != nil || got.FirstName != c.first || got.LastName != c.last {
				t.Errorf("Get(%s) = %q %q, %v; want %q %q", c.id, got.FirstName, got.LastName, err, c.first, c.last)
			}
			if list[i].FirstName != c.first || list[i].LastName != c.last {
				t.Errorf("List's user %s = %q %q; want %q %q", c.id, list[i].FirstName, list[i].LastName, c.first, c.last)
			}
		}
	})
}

// TestResetEmptiesAddresses checks that the control API's reset, which empties the API's tables
// children first, empties the addresses and restarts their ids too.
func TestResetEmptiesAddresses(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		for i := range 2 {
			profile := id(t, x.create(t, map[string]any{"login": fmt.Sprintf("before%d@example.com", i)}))
			x.addAddress(t, profile, newAddress(map[string]any{"is_billing": true}))
		}
		if res := x.Call(t, "POST", "/_provisiond/v1/reset?api=xcart", nil, "Authorization", "Bearer "+x.Keys["control"]); res.Status != http.StatusOK {
			t.Fatalf("reset: %d %s", res.Status, res.Body)
		}
		var n int64
		if err := x.DB.Table("xcart_addresses").Count(&n).Error; err != nil || n != 0 {
			t.Errorf("addresses after a reset: %d, %v; want 0", n, err)
		}
		profile := id(t, x.create(t, map[string]any{"login": "after@example.com"}))
		if a := id(t, x.addAddress(t, profile, newAddress(nil))); profile != 1 || a != 1 {
			t.Errorf("first profile and address after a reset: %d and %d, want 1 and 1", profile, a)
		}
	})
}
