package occstore_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/app"
	"github.com/provisiond/provisiond/internal/config"
	"github.com/provisiond/provisiond/internal/occ/occtest"
)

const form = "application/x-www-form-urlencoded"

type st struct {
	*apitest.Server
	ada string // a token of Ada, delegated administrator of Acme, Globex and (inactive) Closed
}

func start(t *testing.T, dialect string) *st {
	t.Helper()
	s := apitest.Start(t, dialect, apitest.Options{Configure: func(c *config.Config) { c.FixturesFile = "testdata/fixtures.yaml" }})
	x := &st{Server: s}
	x.ada = x.login(t, "ada@acme.example", "ada-password")
	return x
}

func (x *st) loginRes(t *testing.T, body string) *apitest.Response {
	t.Helper()
	return x.Call(t, "POST", "/ccstore/v1/login", body, "Content-Type", form)
}

func (x *st) login(t *testing.T, user, pw string) string {
	t.Helper()
	res := x.loginRes(t, "grant_type=password&username="+user+"&password="+pw)
	if res.Status != http.StatusOK {
		t.Fatalf("login %s: %d %s", user, res.Status, res.Body)
	}
	return res.Map(t)["access_token"].(string)
}

func (x *st) as(t *testing.T, token, method, path string, body any, header ...string) *apitest.Response {
	t.Helper()
	return x.Call(t, method, path, body, append([]string{"Authorization", "Bearer " + token}, header...)...)
}

func (x *st) create(t *testing.T, body map[string]any, header ...string) string {
	t.Helper()
	res := x.as(t, x.ada, "POST", "/ccstore/v1/organizationMembers", body, header...)
	if res.Status != http.StatusOK {
		t.Fatalf("create %v: %d %s", body, res.Status, res.Body)
	}
	return res.Map(t)["id"].(string)
}

func leota() map[string]any {
	return map[string]any{
		"firstName": "Leota", "lastName": "Dilliard", "roles": []map[string]string{{"function": "admin"}, {"function": "buyer"}},
		"active": true, "receiveEmail": "yes", "email": "leota@example.com", "Age": 30, "Nickname": "Leota",
	}
}

func member(email string) map[string]any {
	return map[string]any{"firstName": "bcd", "lastName": "K", "roles": []map[string]string{{"function": "buyer"}}, "receiveEmail": "yes", "active": true, "email": email}
}

func codes(t *testing.T, res *apitest.Response) []string {
	t.Helper()
	m := res.Map(t)
	var out []string
	if list, ok := m["errors"].([]any); ok {
		for _, e := range list {
			e := e.(map[string]any)
			out = append(out, fmt.Sprintf("%v %v", e["errorCode"], e["o:errorPath"]))
		}
	} else {
		out = append(out, fmt.Sprintf("%v %v", m["errorCode"], m["o:errorPath"]))
	}
	sort.Strings(out)
	return out
}

func TestSeedExamples(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		numeric := regexp.MustCompile(`^[0-9]+$`)
		id := x.create(t, leota(), "X-CCAsset-Language", "de")
		bcd := x.create(t, member("bcd@abc.com"))
		if !numeric.MatchString(id) || !numeric.MatchString(bcd) || id == bcd {
			t.Fatalf("ids %q and %q, want distinct numeric strings", id, bcd)
		}
		got := x.as(t, x.ada, "GET", "/ccstore/v1/organizationMembers/"+id, nil)
		if got.Status != http.StatusOK {
			t.Fatalf("GET: %d %s", got.Status, got.Body)
		}
		// Dynamic properties come back as sent: the number stays a number.
		for _, want := range []string{`"Age":30`, `"Nickname":"Leota"`, `"locale":"de"`, `"parentOrganization":{"id":"or-acme","name":"Acme"}`, `"receiveEmail":"yes"`, `"roles":[{"function":"admin"},{"function":"buyer"}]`} {
			if !strings.Contains(string(got.Body), want) {
				t.Errorf("GET member %s lacks %s", got.Body, want)
			}
		}
		if b := x.as(t, x.ada, "GET", "/ccstore/v1/organizationMembers/"+bcd, nil).Map(t); b["locale"] != nil || b["email"] != "bcd@abc.com" {
			t.Errorf("bcd: %v", b)
		}
	})
}

func TestErrorCodes(t *testing.T) {
	with := func(change func(map[string]any)) map[string]any {
		m := member("code@example.com")
		change(m)
		return m
	}
	cases := []struct {
		name string
		body any
		want []string
	}{
		{"email missing", with(func(m map[string]any) { delete(m, "email") }), []string{"22003 /email"}},
		{"email empty", with(func(m map[string]any) { m["email"] = "" }), []string{"22003 /email"}},
		{"email invalid", with(func(m map[string]any) { m["email"] = "nope" }), []string{"23006 /email"}},
		{"email in use", with(func(m map[string]any) { m["email"] = "ADA@acme.example" }), []string{"22006 /email"}},
		{"first name missing", with(func(m map[string]any) { delete(m, "firstName") }), []string{"22007 /firstName"}},
		{"receiveEmail not yes or no", with(func(m map[string]any) { m["receiveEmail"] = "maybe" }), []string{"22007 /receiveEmail"}},
		{"receiveEmail a boolean", with(func(m map[string]any) { m["receiveEmail"] = true }), []string{"22007 /receiveEmail"}},
		{"role function unknown", with(func(m map[string]any) { m["roles"] = []map[string]string{{"function": "owner"}} }), []string{"22007 /roles/0/function"}},
		{"active a string", with(func(m map[string]any) { m["active"] = "true" }), []string{"22007 /active"}},
		{"reserved dynamic property", with(func(m map[string]any) { m["id"] = "1" }), []string{"22007 /id"}},
		{"malformed JSON", `{"email":`, []string{"22007 <nil>"}},
		{"several problems", map[string]any{"email": "", "active": "no", "receiveEmail": "yes"}, []string{"22003 /email", "22007 /active", "22007 /firstName", "22007 /lastName", "22007 /roles"}},
		// U+0000 (issue 17): the answer of any other invalid value of the field, each listed once;
		// in a dynamic property (at any depth, in a string or a key, or in its name), 22007 at the property.
		{"first name U+0000", with(func(m map[string]any) { m["firstName"] = "A\x00" }), []string{"22007 /firstName"}},
		{"last name too long and U+0000", with(func(m map[string]any) { m["lastName"] = strings.Repeat("l", 255) + "\x00" }), []string{"22007 /lastName"}},
		{"email U+0000", with(func(m map[string]any) { m["email"] = "a\x00@example.com" }), []string{"23006 /email"}},
		{"dynamic value U+0000", with(func(m map[string]any) { m["Nickname"] = "N\x00" }), []string{"22007 /Nickname"}},
		{"dynamic value U+0000 inside", with(func(m map[string]any) { m["Prefs"] = map[string]any{"a": []any{1, "\x00"}} }), []string{"22007 /Prefs"}},
		{"dynamic name U+0000", with(func(m map[string]any) { m["Nick\x00"] = 1 }), []string{`22007 /Nick\u0000`}},
		{"dynamic key U+0000 inside", with(func(m map[string]any) { m["Prefs"] = map[string]any{"ok": map[string]any{"k\x00": nil}} }), []string{"22007 /Prefs"}},
		{"dynamic number beyond a double", `{"firstName":"A","lastName":"B","email":"big@example.com","active":true,"receiveEmail":"yes","roles":[],"Big":1e400,"Deep":[1,{"x":-2e308}]}`, []string{"22007 /Big"}},
		{"dynamic name U+0000, a reserved name, a taken email", with(func(m map[string]any) { m["\x00"] = "x"; m["id"] = "1"; m["email"] = "ada@acme.example" }),
			[]string{"22006 /email", `22007 /\u0000`, "22007 /id"}},
	}
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		for _, c := range cases {
			res := x.as(t, x.ada, "POST", "/ccstore/v1/organizationMembers", c.body)
			if res.Status != http.StatusBadRequest {
				t.Errorf("%s: %d %s, want 400", c.name, res.Status, res.Body)
				continue
			}
			if got := codes(t, res); strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Errorf("%s: codes %v, want %v; body %s", c.name, got, c.want, res.Body)
			}
		}
	})
}

func TestWhoMayDoWhat(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		bea := x.login(t, "bea@acme.example", "bea-password")
		gus := x.login(t, "gus@globex.example", "gus-password")
		beaID := ""
		for _, m := range x.as(t, x.ada, "GET", "/ccstore/v1/organizationMembers?q=email%20eq%20%22bea@acme.example%22", nil).Map(t)["items"].([]any) {
			beaID = m.(map[string]any)["id"].(string)
		}

		// A buyer may not create, list or change members, but may read itself.
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/ccstore/v1/organizationMembers", member("new@example.com")},
			{"GET", "/ccstore/v1/organizationMembers", nil},
			{"PUT", "/ccstore/v1/organizationMembers/" + beaID, map[string]any{"firstName": "B"}},
		} {
			if res := x.as(t, bea, c.method, c.path, c.body); res.Status != http.StatusForbidden || res.Map(t)["errorCode"] != "403" {
				t.Errorf("buyer %s %s: %d %s, want 403", c.method, c.path, res.Status, res.Body)
			}
		}
		if res := x.as(t, bea, "GET", "/ccstore/v1/organizationMembers/"+beaID, nil); res.Status != http.StatusOK {
			t.Errorf("buyer reads itself: %d %s", res.Status, res.Body)
		}

		// X-CCOrganization: an organization of the caller's, another's, an inactive one.
		id := x.create(t, member("in-globex@example.com"), "X-CCOrganization", "or-globex")
		if got := x.as(t, gus, "GET", "/ccstore/v1/organizationMembers/"+id, nil).Map(t)["parentOrganization"]; fmt.Sprint(got) != "map[id:or-globex name:Globex]" {
			t.Errorf("created in Globex, parentOrganization %v", got)
		}
		for _, c := range []struct{ token, org string }{{gus, "or-acme"}, {x.ada, "or-closed"}, {x.ada, "or-nowhere"}} {
			if res := x.as(t, c.token, "POST", "/ccstore/v1/organizationMembers", member("x-"+c.org+"@example.com"), "X-CCOrganization", c.org); res.Status != http.StatusForbidden {
				t.Errorf("create in %s: %d %s, want 403", c.org, res.Status, res.Body)
			}
		}
		// Members of another organization are not visible from this one.
		if res := x.as(t, gus, "GET", "/ccstore/v1/organizationMembers/"+beaID, nil); res.Status != http.StatusNotFound {
			t.Errorf("Gus reads Acme's Bea: %d, want 404", res.Status)
		}
		list := x.as(t, gus, "GET", "/ccstore/v1/organizationMembers", nil).Map(t)
		if list["total"] != 3.0 {
			t.Errorf("Globex has %v members, want 3 (Gus, Ada, the new one): %v", list["total"], list)
		}
	})
}

func TestLoginAndDeactivation(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		for _, c := range []struct {
			body   string
			status int
		}{
			{"grant_type=password&username=ada@acme.example&password=wrong", 401},
			{"grant_type=password&username=ghost@acme.example&password=ada-password", 401},
			{"grant_type=client_credentials&username=ada@acme.example&password=ada-password", 400},
			{"grant_type=password&username=ada@acme.example", 400},
		} {
			if res := x.loginRes(t, c.body); res.Status != c.status {
				t.Errorf("login %s: %d %s, want %d", c.body, res.Status, res.Body, c.status)
			}
		}
		bea := x.login(t, "BEA@acme.example", "bea-password")
		beaID := x.as(t, x.ada, "GET", "/ccstore/v1/organizationMembers?q=firstName%20eq%20%22bea%22", nil).Map(t)["items"].([]any)[0].(map[string]any)["id"].(string)
		res := x.as(t, x.ada, "PUT", "/ccstore/v1/organizationMembers/"+beaID, map[string]any{"active": false, "Nickname": "B"})
		if res.Status != http.StatusOK || res.Map(t)["active"] != false || res.Map(t)["Nickname"] != "B" || res.Map(t)["firstName"] != "Bea" {
			t.Fatalf("deactivate: %d %s", res.Status, res.Body)
		}
		if res := x.loginRes(t, "grant_type=password&username=bea@acme.example&password=bea-password"); res.Status != http.StatusUnauthorized {
			t.Errorf("login of a deactivated member: %d, want 401", res.Status)
		}
		if res := x.as(t, bea, "GET", "/ccstore/v1/organizationMembers/"+beaID, nil); res.Status != http.StatusUnauthorized {
			t.Errorf("token of a deactivated member: %d, want 401", res.Status)
		}

		// Tokens expire after 930 s; refresh renews a valid one, always with a new token; the other
		// OCC API refuses them.
		if got := x.loginRes(t, "grant_type=password&username=ada@acme.example&password=ada-password").Map(t)["expires_in"]; got != 930.0 {
			t.Errorf("expires_in %v, want 930", got)
		}
		x.Clock.Advance(15 * time.Minute)
		fresh := x.as(t, x.ada, "POST", "/ccstore/v1/refresh", nil)
		if fresh.Status != http.StatusOK || fresh.Map(t)["access_token"] == x.ada || fresh.Map(t)["expires_in"] != 930.0 {
			t.Fatalf("refresh: %d %s, want a new token for 930 s", fresh.Status, fresh.Body)
		}
		x.Clock.Advance(31 * time.Second)
		if res := x.as(t, x.ada, "GET", "/ccstore/v1/organizationMembers", nil); res.Status != http.StatusUnauthorized {
			t.Errorf("expired token: %d, want 401", res.Status)
		}
		tok := fresh.Map(t)["access_token"].(string)
		if res := x.as(t, tok, "GET", "/ccstore/v1/organizationMembers", nil); res.Status != http.StatusOK {
			t.Errorf("refreshed token: %d", res.Status)
		}
		if res := x.as(t, tok, "GET", "/ccadmin/v1/adminRoles", nil); res.Status != http.StatusUnauthorized {
			t.Errorf("a store token on the admin API: %d, want 401", res.Status)
		}
	})
}

func TestListFilters(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		x.create(t, leota())
		x.create(t, member("bcd@abc.com"))
		names := func(q string) string {
			res := x.as(t, x.ada, "GET", "/ccstore/v1/organizationMembers?"+q, nil)
			if res.Status != http.StatusOK {
				t.Fatalf("list %s: %d %s", q, res.Status, res.Body)
			}
			var out []string
			for _, it := range res.Map(t)["items"].([]any) {
				out = append(out, it.(map[string]any)["email"].(string))
			}
			return strings.Join(out, ",")
		}
		for _, c := range []struct{ q, want string }{
			{"", "ada@acme.example,bea@acme.example,leota@example.com,bcd@abc.com"},
			{`q=roles%20eq%20%22admin%22`, "ada@acme.example,leota@example.com"},
			{`q=roles%20eq%20%22buyer%22%20and%20email%20co%20%22acme%22`, "bea@acme.example"},
			{`q=lastName%20sw%20%22d%22%20or%20firstName%20eq%20%22BCD%22`, "leota@example.com,bcd@abc.com"},
			{"sort=email:desc&limit=2", "leota@example.com,bea@acme.example"},
			{"sort=email:asc&offset=3", "leota@example.com"},
		} {
			if got := names(c.q); got != c.want {
				t.Errorf("list ?%s: %s, want %s", c.q, got, c.want)
			}
		}
		for _, bad := range []string{`q=roles%20gt%20%22a%22`, `q=Age%20eq%2030`, `sort=Age:asc`} {
			if res := x.as(t, x.ada, "GET", "/ccstore/v1/organizationMembers?"+bad, nil); res.Status != 400 || res.Map(t)["errorCode"] != "22007" {
				t.Errorf("list ?%s: %d %s, want 400 22007", bad, res.Status, res.Body)
			}
		}
	})
}

func TestMembersOfOtherOrganizationsAndSecrets(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		gus := x.login(t, "gus@globex.example", "gus-password")
		adaID := x.as(t, x.ada, "GET", "/ccstore/v1/organizationMembers?q=firstName%20eq%20%22ada%22", nil).Map(t)["items"].([]any)[0].(map[string]any)["id"].(string)
		// Gus administers Globex, which Ada belongs to, but Ada was created in Acme: Gus may read
		// her, not change her roles or deactivate her.
		if res := x.as(t, gus, "GET", "/ccstore/v1/organizationMembers/"+adaID, nil); res.Status != http.StatusOK {
			t.Errorf("Gus reads Ada: %d", res.Status)
		}
		if res := x.as(t, gus, "PUT", "/ccstore/v1/organizationMembers/"+adaID, map[string]any{"active": false}); res.Status != http.StatusForbidden {
			t.Errorf("Gus deactivates Ada from Globex: %d %s, want 403", res.Status, res.Body)
		}
		// A password is not a dynamic property: it would be kept in clear.
		m := member("pw@example.com")
		m["password"] = "hunter2-secret"
		m["email"] = "ADA@acme.example"
		res := x.as(t, x.ada, "POST", "/ccstore/v1/organizationMembers", m)
		if got := codes(t, res); strings.Join(got, ",") != "22006 /email,22007 /password" {
			t.Errorf("password and a taken email: %v, want both; body %s", got, res.Body)
		}
	})
}

func TestFixturesReloadKeepsDeactivation(t *testing.T) {
	x := start(t, "sqlite")
	beaID := x.as(t, x.ada, "GET", "/ccstore/v1/organizationMembers?q=firstName%20eq%20%22bea%22", nil).Map(t)["items"].([]any)[0].(map[string]any)["id"].(string)
	if res := x.as(t, x.ada, "PUT", "/ccstore/v1/organizationMembers/"+beaID, map[string]any{"active": false}); res.Status != http.StatusOK {
		t.Fatalf("deactivate: %d %s", res.Status, res.Body)
	}
	if err := app.Fixtures().LoadFile(context.Background(), x.DB, "testdata/fixtures.yaml"); err != nil {
		t.Fatal(err)
	}
	if res := x.loginRes(t, "grant_type=password&username=bea@acme.example&password=bea-password"); res.Status != http.StatusUnauthorized {
		t.Errorf("login after reloading the fixtures: %d, want 401 (still deactivated)", res.Status)
	}
}

// TestParentOrganizationOfEachMember checks that each member answers with the organization it
// was created in, whichever organization the caller acts in: Ada, created in Acme, is also a
// member of Globex.
func TestParentOrganizationOfEachMember(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		gus := x.login(t, "gus@globex.example", "gus-password")
		acme, globex := "map[id:or-acme name:Acme]", "map[id:or-globex name:Globex]"
		parents := map[string]string{}
		for _, m := range x.as(t, gus, "GET", "/ccstore/v1/organizationMembers", nil).Map(t)["items"].([]any) {
			m := m.(map[string]any)
			parents[m["email"].(string)] = fmt.Sprint(m["parentOrganization"])
		}
		for email, want := range map[string]string{"ada@acme.example": acme, "gus@globex.example": globex} {
			if got := parents[email]; got != want {
				t.Errorf("Gus lists Globex: %s has parentOrganization %s, want %s", email, got, want)
			}
		}
		adaID := x.as(t, x.ada, "GET", "/ccstore/v1/organizationMembers?q=firstName%20eq%20%22ada%22", nil).Map(t)["items"].([]any)[0].(map[string]any)["id"].(string)
		for _, c := range []struct{ method, org string }{{"GET", "or-globex"}, {"GET", "or-acme"}, {"PUT", "or-acme"}} {
			var body any
			if c.method == "PUT" {
				body = map[string]any{"lastName": "Lovelace"}
			}
			res := x.as(t, x.ada, c.method, "/ccstore/v1/organizationMembers/"+adaID, body, "X-CCOrganization", c.org)
			if got := fmt.Sprint(res.Map(t)["parentOrganization"]); res.Status != http.StatusOK || got != acme {
				t.Errorf("Ada %s herself in %s: %d, parentOrganization %s, want 200 and %s", c.method, c.org, res.Status, got, acme)
			}
		}
	})
}

func TestLogout(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		a := start(t, dialect)
		b := apitest.Start(t, dialect, apitest.Options{DatabaseURL: a.Config.DatabaseURL})
		occtest.TestLogout(t, occtest.API{
			Login: func(t *testing.T, s *apitest.Server) string {
				return (&st{Server: s}).login(t, "ada@acme.example", "ada-password")
			},
			Base: "/ccstore/v1", Probe: "/ccstore/v1/organizationMembers",
		}, a.Server, b)
	})
}

// TestTokenLifetimes: each OCC API has its own token lifetime setting, and expires_in is that
// lifetime in whole seconds; refresh answers a new token even within the same second.
func TestTokenLifetimes(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s := apitest.Start(t, dialect, apitest.Options{Configure: func(c *config.Config) {
			c.FixturesFile = "testdata/fixtures.yaml"
			c.OCCAdminTokenTTL = 61 * time.Second
			c.OCCStoreTokenTTL = 1234 * time.Second
		}})
		admin := s.Call(t, "POST", "/ccadmin/v1/login", "grant_type=client_credentials", "Content-Type", form, "Authorization", "Bearer "+s.Keys["occadmin"])
		store := s.Call(t, "POST", "/ccstore/v1/login", "grant_type=password&username=ada@acme.example&password=ada-password", "Content-Type", form)
		if got := admin.Map(t)["expires_in"]; got != 61.0 {
			t.Errorf("occadmin expires_in %v (%s), want 61", got, admin.Body)
		}
		if got := store.Map(t)["expires_in"]; got != 1234.0 {
			t.Errorf("occstore expires_in %v (%s), want 1234", got, store.Body)
		}
		for _, c := range []struct{ path, token string }{
			{"/ccadmin/v1/refresh", admin.Map(t)["access_token"].(string)},
			{"/ccstore/v1/refresh", store.Map(t)["access_token"].(string)},
		} {
			res := s.Call(t, "POST", c.path, nil, "Authorization", "Bearer "+c.token)
			if res.Status != http.StatusOK || res.Map(t)["access_token"] == c.token {
				t.Errorf("%s within the same second: %d %s, want a new token", c.path, res.Status, res.Body)
			}
		}
		s.Clock.Advance(62 * time.Second)
		if res := s.Call(t, "GET", "/ccadmin/v1/adminRoles", nil, "Authorization", "Bearer "+admin.Map(t)["access_token"].(string)); res.Status != http.StatusUnauthorized {
			t.Errorf("occadmin token after 62 s of 61: %d, want 401", res.Status)
		}
		if res := s.Call(t, "GET", "/ccstore/v1/organizationMembers", nil, "Authorization", "Bearer "+store.Map(t)["access_token"].(string)); res.Status != http.StatusOK {
			t.Errorf("occstore token after 62 s of 1234: %d, want 200", res.Status)
		}
	})
}

// TestCurrentProfile: the logged-in member with the organization in force, its parent and its
// other organizations, in each organization it names; an organization it may not use is a 403.
func TestCurrentProfile(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		acme, globex, closed := map[string]any{"id": "or-acme", "name": "Acme"}, map[string]any{"id": "or-globex", "name": "Globex"}, map[string]any{"id": "or-closed", "name": "Closed"}
		for _, c := range []struct {
			org     string // X-CCOrganization, or none
			query   string
			current map[string]any
		}{
			{"", "", acme},
			{"or-globex", "", globex},
			{"or-acme", "?includedRoles=allRolesForCurrentOrganization", acme},
			{"", "?includedRoles=organizationalRolesForCurrentOrganization", acme},
		} {
			var header []string
			if c.org != "" {
				header = []string{"X-CCOrganization", c.org}
			}
			res := x.as(t, x.ada, "GET", "/ccstore/v1/profiles/current"+c.query, nil, header...)
			if res.Status != http.StatusOK {
				t.Fatalf("current in %q%s: %d %s", c.org, c.query, res.Status, res.Body)
			}
			got := res.Map(t)
			want := map[string]any{
				"id": got["id"], "repositoryId": got["id"], "email": "ada@acme.example", "firstName": "Ada", "lastName": "Admin",
				"active": true, "receiveEmail": "no", "locale": nil, "roles": []any{map[string]any{"function": "admin"}},
				"parentOrganization": acme, "currentOrganization": c.current, "secondaryOrganizations": []any{closed, globex},
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("current in %q%s = %v, want %v", c.org, c.query, got, want)
			}
		}
		for org, msg := range map[string]string{
			"or-closed":  "The organization or-closed is not active.",
			"or-nowhere": "The caller does not belong to the organization or-nowhere.",
		} {
			res := x.as(t, x.ada, "GET", "/ccstore/v1/profiles/current", nil, "X-CCOrganization", org)
			if res.Status != http.StatusForbidden || res.Map(t)["message"] != msg {
				t.Errorf("current in %s: %d %s, want 403 %q", org, res.Status, res.Body, msg)
			}
		}
		if res := x.as(t, x.ada, "GET", "/ccstore/v1/profiles/current?includedRoles=every", nil); res.Status != http.StatusBadRequest || res.Map(t)["errorCode"] != "22007" {
			t.Errorf("includedRoles=every: %d %s, want 400 22007", res.Status, res.Body)
		}
		bea := x.login(t, "bea@acme.example", "bea-password")
		res := x.as(t, bea, "GET", "/ccstore/v1/profiles/current", nil)
		if got := res.Map(t); res.Status != http.StatusOK || fmt.Sprint(got["roles"]) != "[map[function:buyer]]" || fmt.Sprint(got["secondaryOrganizations"]) != "[]" {
			t.Errorf("Bea's current profile: %d %s, want a buyer of Acme alone", res.Status, res.Body)
		}
		if res := x.Call(t, "GET", "/ccstore/v1/profiles/current", nil); res.Status != http.StatusUnauthorized {
			t.Errorf("current without a token: %d, want 401", res.Status)
		}
	})
}

// multi starts the server over testdata/roles.yaml and logs in as each of its people.
func multi(t *testing.T, dialect string) (x *st, tokens map[string]string, ids map[string]string) {
	t.Helper()
	x = &st{Server: apitest.Start(t, dialect, apitest.Options{Configure: func(c *config.Config) { c.FixturesFile = "testdata/roles.yaml" }})}
	tokens, ids = map[string]string{}, map[string]string{}
	for _, who := range []string{"pat", "bo", "cy", "di"} {
		tokens[who] = x.login(t, who+"@multi.example", who+"-password")
		ids[who] = x.as(t, tokens[who], "GET", "/ccstore/v1/profiles/current", nil).Map(t)["id"].(string)
	}
	return x, tokens, ids
}

// TestRolesPerOrganization: a member's roles hold in one organization each; every check uses the
// roles of the organization in force, and the reads answer them.
func TestRolesPerOrganization(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x, tok, ids := multi(t, dialect)
		in := func(org string) []string { return []string{"X-CCOrganization", org} }
		pat, bo := tok["pat"], tok["bo"]
		members := "/ccstore/v1/organizationMembers"

		// Pat administers A, not B, where Pat is a buyer: OCC answers 403 there.
		if res := x.as(t, pat, "GET", members, nil, in("or-a")...); res.Status != http.StatusOK {
			t.Errorf("Pat lists A: %d %s", res.Status, res.Body)
		}
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"GET", members, nil},
			{"POST", members, member("by-pat@multi.example")},
			{"GET", members + "/" + ids["bo"], nil},
			{"PUT", members + "/" + ids["bo"], map[string]any{"roles": []map[string]string{{"function": "buyer"}}}},
		} {
			if res := x.as(t, pat, c.method, c.path, c.body, in("or-b")...); res.Status != http.StatusForbidden {
				t.Errorf("Pat, a buyer of B, %s %s there: %d %s, want 403", c.method, c.path, res.Status, res.Body)
			}
		}
		for org, want := range map[string]string{"or-a": "[map[function:admin]]", "or-b": "[map[function:buyer]]"} {
			for _, path := range []string{members + "/" + ids["pat"], "/ccstore/v1/profiles/current", "/ccstore/v1/profiles/current?includedRoles=allRolesForCurrentOrganization"} {
				if got := x.as(t, pat, "GET", path, nil, in(org)...).Map(t)["roles"]; fmt.Sprint(got) != want {
					t.Errorf("Pat's roles by %s in %s: %v, want %s", path, org, got, want)
				}
			}
		}
		admins := func(org string) string {
			res := x.as(t, bo, "GET", members+`?q=roles%20eq%20%22admin%22&includedRoles=organizationalRolesForCurrentOrganization`, nil, in(org)...)
			var emails []string
			for _, it := range res.Map(t)["items"].([]any) {
				emails = append(emails, it.(map[string]any)["email"].(string))
			}
			return strings.Join(emails, ",")
		}
		if got := admins("or-b"); got != "bo@multi.example" {
			t.Errorf("admins of B: %s, want Bo alone (Pat administers A only)", got)
		}

		// The last active administrator of B may not demote or deactivate itself.
		for body, path := range map[string]string{`{"roles":[{"function":"buyer"}]}`: "/roles", `{"active":false}`: "/active"} {
			res := x.as(t, bo, "PUT", members+"/"+ids["bo"], body, in("or-b")...)
			if got := codes(t, res); res.Status != http.StatusBadRequest || fmt.Sprint(got) != "[22007 "+path+"]" {
				t.Errorf("Bo, B's last administrator, sends %s: %d %s, want 400 22007 at %s", body, res.Status, res.Body, path)
			}
		}
		// Nor may Pat, the last of A, be deactivated, from A.
		if res := x.as(t, pat, "PUT", members+"/"+ids["pat"], map[string]any{"active": false}, in("or-a")...); res.Status != http.StatusBadRequest {
			t.Errorf("deactivate Pat, A's last administrator: %d %s, want 400", res.Status, res.Body)
		}

		// Bo makes Pat an administrator of B (roles may be changed from any organization of the
		// member; its other fields only from its parent organization, A).
		res := x.as(t, bo, "PUT", members+"/"+ids["pat"], map[string]any{"roles": []map[string]string{{"function": "admin"}, {"function": "buyer"}}}, in("or-b")...)
		if res.Status != http.StatusOK || fmt.Sprint(res.Map(t)["roles"]) != "[map[function:admin] map[function:buyer]]" {
			t.Fatalf("Bo promotes Pat in B: %d %s", res.Status, res.Body)
		}
		if res := x.as(t, bo, "PUT", members+"/"+ids["pat"], map[string]any{"firstName": "Patricia"}, in("or-b")...); res.Status != http.StatusForbidden {
			t.Errorf("Bo renames Pat from B: %d %s, want 403", res.Status, res.Body)
		}
		if got := x.as(t, pat, "GET", "/ccstore/v1/profiles/current", nil, in("or-a")...).Map(t)["roles"]; fmt.Sprint(got) != "[map[function:admin]]" {
			t.Errorf("Pat's roles in A after B's change: %v, want admin alone", got)
		}
		if res := x.as(t, pat, "GET", members, nil, in("or-b")...); res.Status != http.StatusOK {
			t.Errorf("Pat, now an administrator of B, lists it: %d %s", res.Status, res.Body)
		}
		if got := admins("or-b"); got != "pat@multi.example,bo@multi.example" {
			t.Errorf("admins of B: %s, want Pat and Bo", got)
		}
		// Now Bo is not the last one: it may step down.
		if res := x.as(t, bo, "PUT", members+"/"+ids["bo"], map[string]any{"roles": []map[string]string{{"function": "buyer"}}}, in("or-b")...); res.Status != http.StatusOK {
			t.Errorf("Bo steps down with Pat administering B: %d %s", res.Status, res.Body)
		}

		// A member created in one organization holds its roles there only.
		id := x.create2(t, pat, "or-b", "made-in-b@multi.example", "admin")
		if res := x.as(t, pat, "GET", members+"/"+id, nil, in("or-a")...); res.Status != http.StatusNotFound {
			t.Errorf("a member of B read from A: %d, want 404", res.Status)
		}
	})
}

// create2 creates email in org as token, with one role function; it answers the new id.
func (x *st) create2(t *testing.T, token, org, email, function string) string {
	t.Helper()
	body := member(email)
	body["roles"] = []map[string]string{{"function": function}}
	res := x.as(t, token, "POST", "/ccstore/v1/organizationMembers", body, "X-CCOrganization", org)
	if res.Status != http.StatusOK {
		t.Fatalf("create %s in %s: %d %s", email, org, res.Status, res.Body)
	}
	return res.Map(t)["id"].(string)
}

// TestLastAdministratorRace: C's two administrators demote each other at once, in each of
// apitest.RaceRounds rounds: one of them is refused, and C keeps an administrator.
func TestLastAdministratorRace(t *testing.T) {
	rounds := apitest.RaceRounds(t)
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x, tok, ids := multi(t, dialect)
		buyer := map[string]any{"roles": []map[string]string{{"function": "buyer"}}}
		admin := map[string]any{"roles": []map[string]string{{"function": "admin"}}}
		path := func(who string) string { return "/ccstore/v1/organizationMembers/" + ids[who] }
		for r := 1; r <= rounds; r++ {
			answers := apitest.Concurrently(2, func(i int) *apitest.Response {
				by, target := "cy", "di"
				if i == 1 {
					by, target = "di", "cy"
				}
				return x.as(t, tok[by], "PUT", path(target), buyer, "X-CCOrganization", "or-c")
			})
			ok := 0
			for _, res := range answers {
				switch res.Status {
				case http.StatusOK:
					ok++
				case http.StatusBadRequest, http.StatusForbidden: // the last one, or no longer an administrator
				default:
					t.Errorf("round %d: %d %s", r, res.Status, res.Body)
				}
			}
			if ok != 1 {
				t.Fatalf("round %d: %d demotions succeeded, want exactly 1: %s / %s", r, ok, answers[0].Body, answers[1].Body)
			}
			left := x.as(t, tok["cy"], "GET", "/ccstore/v1/organizationMembers?q=roles%20eq%20%22admin%22", nil, "X-CCOrganization", "or-c")
			if left.Status == http.StatusForbidden {
				left = x.as(t, tok["di"], "GET", "/ccstore/v1/organizationMembers?q=roles%20eq%20%22admin%22", nil, "X-CCOrganization", "or-c")
			}
			if left.Map(t)["total"] != 1.0 {
				t.Fatalf("round %d: C has %v administrators, want 1: %s", r, left.Map(t)["total"], left.Body)
			}
			// The remaining administrator restores the other.
			for _, who := range []string{"cy", "di"} {
				x.as(t, tok[who], "PUT", path(map[string]string{"cy": "di", "di": "cy"}[who]), admin, "X-CCOrganization", "or-c")
			}
		}
	})
}

// TestNULNullsAndBounds (issue 17): a dynamic property may be null, at the top as inside (and a
// PUT with null clears it); a path id that is not a number (U+0000 included) is the 404 of any
// unknown id; the list's offset out of range, and the login's fields with U+0000, are error 22007.
func TestNULNullsAndBounds(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		m := member("nulls@example.com")
		m["Nickname"], m["Prefs"] = nil, map[string]any{"a": nil, "b": []any{nil}}
		id := x.create(t, m)
		dyn := func(res *apitest.Response) string {
			t.Helper()
			if res.Status != http.StatusOK {
				t.Fatalf("%d %s", res.Status, res.Body)
			}
			got := res.Map(t)
			return fmt.Sprintf("Nickname=%v Prefs=%v", got["Nickname"], got["Prefs"])
		}
		path := "/ccstore/v1/organizationMembers/" + id
		if got := dyn(x.as(t, x.ada, "GET", path, nil)); got != "Nickname=<nil> Prefs=map[a:<nil> b:[<nil>]]" {
			t.Errorf("created with nulls, read back %s", got)
		}
		if got := dyn(x.as(t, x.ada, "PUT", path, map[string]any{"Nickname": "Nick"})); got != "Nickname=Nick Prefs=map[a:<nil> b:[<nil>]]" {
			t.Errorf("set Nickname: %s", got)
		}
		if got := dyn(x.as(t, x.ada, "PUT", path, map[string]any{"Nickname": nil, "Prefs": nil})); got != "Nickname=<nil> Prefs=<nil>" {
			t.Errorf("cleared with null: %s", got)
		}
		if res := x.as(t, x.ada, "PUT", path, map[string]any{"Nick\x00": nil, "Deep": map[string]any{"x": "\x00"}}); res.Status != http.StatusBadRequest || fmt.Sprint(codes(t, res)) != `[22007 /Deep 22007 /Nick\u0000]` {
			t.Errorf("PUT with U+0000 in a value and a name: %d %s", res.Status, res.Body)
		}
		if res := x.as(t, x.ada, "PUT", path, map[string]any{"Nick\x00": nil, "id": 1}); res.Status != http.StatusBadRequest || fmt.Sprint(codes(t, res)) != `[22007 /Nick\u0000 22007 /id]` {
			t.Errorf("PUT with U+0000 in a name and a reserved name: %d %s", res.Status, res.Body)
		}

		for _, c := range []struct{ id, message string }{
			{id + "%00", "No member has the id " + id + `\u0000.`},
			{"%00", `No member has the id \u0000.`},
			{"abc", "No member has the id abc."},
			{"99999999999999999999", "No member has the id 99999999999999999999."},
		} {
			want := `{"errorCode":"404","message":` + strconv.Quote(c.message) + `,"status":"404"}`
			for _, method := range []string{"GET", "PUT"} {
				res := x.as(t, x.ada, method, "/ccstore/v1/organizationMembers/"+c.id, map[string]any{"active": true})
				if res.Status != http.StatusNotFound || strings.TrimSpace(string(res.Body)) != want {
					t.Errorf("%s %s: %d %s, want 404 %s", method, c.id, res.Status, res.Body, want)
				}
			}
		}

		for _, c := range []struct{ query, want string }{
			{"offset=2147483648", "[22007 /offset]"},
			{"offset=100000000000000000000", "[22007 /offset]"},
			{"offset=-1", "[22007 /offset]"},
			{"offset=abc", "[22007 /offset]"},
			{"limit=-1", "[22007 /limit]"},
			{"limit=251", "[22007 /limit]"},
			{"q=email%20eq%20%22a%00%22", "[22007 /q]"},
		} {
			res := x.as(t, x.ada, "GET", "/ccstore/v1/organizationMembers?"+c.query, nil)
			if got := fmt.Sprint(codes(t, res)); res.Status != http.StatusBadRequest || got != c.want {
				t.Errorf("list ?%s: %d %s, want 400 %s", c.query, res.Status, res.Body, c.want)
			}
		}
		if res := x.as(t, x.ada, "GET", "/ccstore/v1/organizationMembers?offset=2147483647", nil); res.Status != http.StatusOK || res.Map(t)["offset"] != 2147483647.0 {
			t.Errorf("list at the largest offset: %d %s", res.Status, res.Body)
		}
		for _, c := range []struct{ body, want string }{
			{"grant_type=password&username=ada%00@acme.example&password=ada-password", "[22007 /username]"},
			{"grant_type=password&username=ada@acme.example&password=ada-password%00", "[22007 /password]"},
			{"grant_type=pass%00word&username=ada@acme.example&password=ada-password", "[22007 /grant_type]"},
		} {
			res := x.loginRes(t, c.body)
			if got := fmt.Sprint(codes(t, res)); res.Status != http.StatusBadRequest || got != c.want {
				t.Errorf("login %s: %d %s, want 400 %s", c.body, res.Status, res.Body, c.want)
			}
		}
	})
}
