package occadmin_test

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
	"github.com/provisiond/provisiond/internal/credential"
	"github.com/provisiond/provisiond/internal/occ/occtest"
)

type oa struct {
	*apitest.Server
	token string
}

const form = "application/x-www-form-urlencoded"

func login(t *testing.T, s *apitest.Server, key, body string) *apitest.Response {
	t.Helper()
	return s.Call(t, "POST", "/ccadmin/v1/login", body, "Content-Type", form, "Authorization", "Bearer "+key)
}

func start(t *testing.T, dialect string) *oa {
	t.Helper()
	s := apitest.Start(t, dialect, apitest.Options{})
	res := login(t, s, s.Keys["occadmin"], "grant_type=client_credentials")
	if res.Status != http.StatusOK {
		t.Fatalf("login: %d %s", res.Status, res.Body)
	}
	return &oa{Server: s, token: res.Map(t)["access_token"].(string)}
}

func (x *oa) call(t *testing.T, method, path string, body any) *apitest.Response {
	t.Helper()
	return x.Call(t, method, path, body, "Authorization", "Bearer "+x.token)
}

func (x *oa) create(t *testing.T, body map[string]any) string {
	t.Helper()
	res := x.call(t, "POST", "/ccadmin/v1/adminProfiles/", body)
	if res.Status != http.StatusOK {
		t.Fatalf("create %v: %d %s", body, res.Status, res.Body)
	}
	return res.Map(t)["id"].(string)
}

func profile(email string) map[string]any {
	return map[string]any{"firstName": "Amber", "lastName": "Admin", "roles": []string{"adminRole"}, "active": true, "email": email}
}

// codes lists the (errorCode, o:errorPath) pairs of an OCC error body, flat or under errors[].
func codes(t *testing.T, res *apitest.Response) []string {
	t.Helper()
	m := res.Map(t)
	var out []string
	add := func(e map[string]any) {
		out = append(out, fmt.Sprintf("%v %v", e["errorCode"], e["o:errorPath"]))
		if st, _ := e["status"].(string); st != fmt.Sprint(res.Status) {
			t.Errorf("status %q in the body, %d on the wire", st, res.Status)
		}
	}
	if list, ok := m["errors"].([]any); ok {
		for _, e := range list {
			add(e.(map[string]any))
		}
	} else {
		add(m)
	}
	sort.Strings(out)
	return out
}

func TestSeedExample(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		for _, path := range []string{"/ccadmin/v1/adminProfiles/", "/ccadmin/v1/adminProfiles"} {
			email := "amber@example.com"
			if path == "/ccadmin/v1/adminProfiles" {
				email = "amber2@example.com"
			}
			res := x.call(t, "POST", path, profile(email))
			if res.Status != http.StatusOK {
				t.Fatalf("POST %s: %d %s, want 200", path, res.Status, res.Body)
			}
			id, _ := res.Map(t)["id"].(string)
			if !regexp.MustCompile(`^iuser[0-9]+$`).MatchString(id) || len(res.Map(t)) != 1 {
				t.Fatalf("POST %s answered %s, want only an iuser id", path, res.Body)
			}
			got := x.call(t, "GET", "/ccadmin/v1/adminProfiles/"+id, nil).Map(t)
			want := map[string]any{"id": id, "repositoryId": id, "email": email, "firstName": "Amber", "lastName": "Admin", "active": true,
				"roles": []any{map[string]any{"repositoryId": "adminRole", "name": "Administrator"}}, "registrationDate": "2026-01-02T03:04:05.000Z"}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("GET %s = %v, want %v", id, got, want)
			}
		}
	})
}

func TestErrorCodes(t *testing.T) {
	with := func(change func(map[string]any)) map[string]any {
		p := profile("code@example.com")
		change(p)
		return p
	}
	cases := []struct {
		name string
		body any
		want []string
	}{
		{"email missing", with(func(p map[string]any) { delete(p, "email") }), []string{"22003 /email"}},
		{"email empty", with(func(p map[string]any) { p["email"] = "" }), []string{"22003 /email"}},
		{"email null", with(func(p map[string]any) { p["email"] = nil }), []string{"22003 /email"}},
		{"email invalid", with(func(p map[string]any) { p["email"] = "not-an-email" }), []string{"23006 /email"}},
		{"email duplicate", with(func(p map[string]any) { p["email"] = "TAKEN@example.com" }), []string{"22006 /email"}},
		{"first name missing", with(func(p map[string]any) { delete(p, "firstName") }), []string{"22007 /firstName"}},
		{"active a string", with(func(p map[string]any) { p["active"] = "yes" }), []string{"22007 /active"}},
		{"malformed JSON", `{"email":`, []string{"22007 <nil>"}},
		{"roles missing", with(func(p map[string]any) { delete(p, "roles") }), []string{"89002 /roles"}},
		{"roles empty", with(func(p map[string]any) { p["roles"] = []string{} }), []string{"89002 /roles"}},
		{"roles null", with(func(p map[string]any) { p["roles"] = nil }), []string{"89002 /roles"}},
		{"role unknown", with(func(p map[string]any) { p["roles"] = []string{"adminRole", "bogusRole", "otherRole"} }), []string{"89001 /roles/1", "89001 /roles/2"}},
		{"no privilege", with(func(p map[string]any) { p["roles"] = []string{"noPrivilegesRole"} }), []string{"89012 /roles"}},
		{"password empty", with(func(p map[string]any) { p["password"] = "" }), []string{"22005 /password"}},
		{"several problems", map[string]any{"email": "bad", "lastName": 5, "roles": []string{}}, []string{"22007 /firstName", "22007 /lastName", "23006 /email", "89002 /roles"}},
		// U+0000 (issue 17): the answer of any other invalid value of the field, each listed once.
		{"first name U+0000", with(func(p map[string]any) { p["firstName"] = "A\x00B" }), []string{"22007 /firstName"}},
		{"last name too long and U+0000", with(func(p map[string]any) { p["lastName"] = strings.Repeat("l", 255) + "\x00" }), []string{"22007 /lastName"}},
		{"email U+0000", with(func(p map[string]any) { p["email"] = "a\x00b@example.com" }), []string{"23006 /email"}},
		{"password U+0000", with(func(p map[string]any) { p["password"] = "pass\x00word" }), []string{"22007 /password"}},
		{"role U+0000", with(func(p map[string]any) { p["roles"] = []string{"adminRole", "admin\x00Role"} }), []string{"89001 /roles/1"}},
		{"U+0000 among other problems", map[string]any{"email": "x\x00@example.com", "firstName": "\x00", "roles": []string{"\x00"}},
			[]string{"22007 /firstName", "22007 /lastName", "23006 /email", "89001 /roles/0"}},
	}
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		x.create(t, profile("taken@example.com"))
		for _, c := range cases {
			res := x.call(t, "POST", "/ccadmin/v1/adminProfiles/", c.body)
			if res.Status != http.StatusBadRequest {
				t.Errorf("%s: %d %s, want 400", c.name, res.Status, res.Body)
				continue
			}
			if got := codes(t, res); strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Errorf("%s: codes %v, want %v; body %s", c.name, got, c.want, res.Body)
			}
		}
		// A profile with a password is created (22005 only for an empty one).
		x.create(t, with(func(p map[string]any) { p["email"] = "withpw@example.com"; p["password"] = "secret-password" }))
	})
}

func TestLoginFlows(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s := apitest.Start(t, dialect, apitest.Options{})
		key := s.Keys["occadmin"]
		for _, c := range []struct {
			name, key, body string
			status          int
			code            string
		}{
			{"wrong grant type", key, "grant_type=authorization_code", 400, "22007"},
			{"no grant type", key, "scope=x", 400, "22007"},
			{"wrong key", "not-a-key-of-this-server", "grant_type=client_credentials", 401, "401"},
			{"key of another API", s.Keys["xcart"], "grant_type=client_credentials", 401, "401"},
		} {
			res := login(t, s, c.key, c.body)
			if res.Status != c.status || res.Map(t)["errorCode"] != c.code {
				t.Errorf("login %s: %d %s, want %d with errorCode %s", c.name, res.Status, res.Body, c.status, c.code)
			}
		}
		if res := s.Call(t, "POST", "/ccadmin/v1/login", "grant_type=client_credentials", "Content-Type", form); res.Status != 401 || res.Map(t)["message"] != "This request requires an application key." {
			t.Errorf("login without a key: %d %s, want 401 saying an application key is needed", res.Status, res.Body)
		}
		if res := login(t, s, "not-a-key-of-this-server", "grant_type=client_credentials"); res.Map(t)["message"] != "The application key is not valid." {
			t.Errorf("login with an unknown key: %s, want it to say the key is not valid", res.Body)
		}
		if res := s.Call(t, "POST", "/ccadmin/v1/login", `{"grant_type":"client_credentials"}`, "Authorization", "Bearer "+key); res.Status != 415 {
			t.Errorf("login with a JSON body: %d %s, want 415", res.Status, res.Body)
		}

		res := login(t, s, key, "grant_type=client_credentials")
		tok := res.Map(t)
		if res.Status != 200 || tok["token_type"] != "bearer" || tok["expires_in"] != 300.0 {
			t.Fatalf("login: %d %s", res.Status, res.Body)
		}
		access := tok["access_token"].(string)
		get := func(token string) int {
			return s.Call(t, "GET", "/ccadmin/v1/adminRoles", nil, "Authorization", "Bearer "+token).Status
		}
		if st := get(access); st != 200 {
			t.Errorf("GET with the access token: %d", st)
		}
		if st := get(key); st != 401 {
			t.Errorf("the application key used as an access token: %d, want 401", st)
		}
		if st := s.Call(t, "GET", "/ccadmin/v1/adminRoles", nil).Status; st != 401 {
			t.Errorf("no token: %d, want 401", st)
		}

		// The xcart API refuses an occadmin token, and occadmin an xcart JWT.
		if st := s.Call(t, "GET", "/api/profiles", nil, "Authorization", "Bearer "+access).Status; st != 401 {
			t.Errorf("occadmin token on xcart: %d, want 401", st)
		}
		s.Call(t, "POST", "/api/profiles", map[string]any{"login": "x@example.com", "password": "x-password", "access_level": 100}, "X-Auth-Token", s.Keys["xcart"])
		xjwt := s.Call(t, "POST", "/api-login/check", map[string]any{"username": "x@example.com", "password": "x-password"}).Map(t)["token"].(string)
		if st := get(xjwt); st != 401 {
			t.Errorf("xcart JWT on occadmin: %d, want 401", st)
		}

		// Refresh renews a valid token; tokens expire after 5 minutes.
		s.Clock.Advance(4 * time.Minute)
		res = s.Call(t, "POST", "/ccadmin/v1/refresh", nil, "Authorization", "Bearer "+access)
		if res.Status != 200 {
			t.Fatalf("refresh: %d %s", res.Status, res.Body)
		}
		fresh := res.Map(t)["access_token"].(string)
		s.Clock.Advance(2 * time.Minute)
		if st := get(access); st != 401 {
			t.Errorf("token after 6 minutes: %d, want 401", st)
		}
		if st := s.Call(t, "POST", "/ccadmin/v1/refresh", nil, "Authorization", "Bearer "+access).Status; st != 401 {
			t.Errorf("refresh of an expired token: %d, want 401", st)
		}
		if st := get(fresh); st != 200 {
			t.Errorf("refreshed token 2 minutes later: %d, want 200", st)
		}
	})
}

func TestUpdateAndRoles(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		id := x.create(t, profile("upd@example.com"))
		res := x.call(t, "PUT", "/ccadmin/v1/adminProfiles/"+id, map[string]any{"active": false, "roles": []string{"adminRole", "catalogRole"}})
		got := res.Map(t)
		if res.Status != 200 || got["active"] != false || got["firstName"] != "Amber" || len(got["roles"].([]any)) != 2 {
			t.Errorf("PUT: %d %s", res.Status, res.Body)
		}
		if res := x.call(t, "PUT", "/ccadmin/v1/adminProfiles/"+id, map[string]any{"roles": []string{"nope"}}); res.Status != 400 || codes(t, res)[0] != "89001 /roles/0" {
			t.Errorf("PUT unknown role: %d %s", res.Status, res.Body)
		}
		x.create(t, profile("other@example.com"))
		if res := x.call(t, "PUT", "/ccadmin/v1/adminProfiles/"+id, map[string]any{"email": "OTHER@example.com"}); res.Status != 400 || codes(t, res)[0] != "22006 /email" {
			t.Errorf("PUT to a taken email: %d %s", res.Status, res.Body)
		}
		for _, bad := range []string{"iuser999999", "user1", "iuser", "iuser-1", "1"} {
			if res := x.call(t, "GET", "/ccadmin/v1/adminProfiles/"+bad, nil); res.Status != 404 {
				t.Errorf("GET %s: %d, want 404", bad, res.Status)
			}
		}
		if res := x.call(t, "PUT", "/ccadmin/v1/adminProfiles/iuser999999", map[string]any{"active": true}); res.Status != 404 {
			t.Errorf("PUT unknown: %d, want 404", res.Status)
		}
		roles := x.call(t, "GET", "/ccadmin/v1/adminRoles", nil)
		if !strings.Contains(string(roles.Body), `"repositoryId":"adminRole"`) || !strings.Contains(string(roles.Body), `"privileges":[]`) {
			t.Errorf("adminRoles: %s", roles.Body)
		}
	})
}

func TestListFilterSortPaging(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		people := []struct{ first, last, email string }{
			{"Amber", "Admin", "amber@example.com"}, {"Bob", "Builder", "bob@example.org"},
			{"Carol", "Admin", "carol@example.com"}, {"Dave", "Daring", "dave@example.com"},
		}
		ids := map[string]string{}
		for _, p := range people {
			ids[p.first] = x.create(t, map[string]any{"firstName": p.first, "lastName": p.last, "email": p.email, "roles": []string{"adminRole"}})
		}
		x.call(t, "PUT", "/ccadmin/v1/adminProfiles/"+ids["Dave"], map[string]any{"active": false})
		names := func(res *apitest.Response) string {
			var out []string
			for _, it := range res.Map(t)["items"].([]any) {
				out = append(out, it.(map[string]any)["firstName"].(string))
			}
			return strings.Join(out, ",")
		}
		for _, c := range []struct{ query, want string }{
			{"", "Amber,Bob,Carol,Dave"},
			{`q=lastName eq "admin"`, "Amber,Carol"},
			{`q=email co ".ORG"`, "Bob"},
			{`q=firstName sw "c" or firstName sw "d"`, "Carol,Dave"},
			{`q=active eq false`, "Dave"},
			{`q=(lastName eq "Admin" or lastName eq "Daring") and active eq true`, "Amber,Carol"},
			{"sort=firstName:desc", "Dave,Carol,Bob,Amber"},
			{"sort=email:asc&limit=2&offset=1", "Bob,Carol"},
			{"limit=0", ""},
		} {
			q := strings.ReplaceAll(strings.ReplaceAll(c.query, " ", "%20"), `"`, "%22")
			res := x.call(t, "GET", "/ccadmin/v1/adminProfiles?"+q, nil)
			if res.Status != 200 || names(res) != c.want {
				t.Errorf("list ?%s: %d %q, want %q (%s)", c.query, res.Status, names(res), c.want, res.Body)
			}
		}
		res := x.call(t, "GET", "/ccadmin/v1/adminProfiles?limit=1&sort=email:desc", nil).Map(t)
		if res["total"] != 4.0 || res["totalResults"] != 4.0 || res["limit"] != 1.0 || fmt.Sprint(res["sort"]) != "[map[order:desc property:email]]" {
			t.Errorf("list metadata: %v", res)
		}
		for _, bad := range []string{`q=email%20gt%20%22a%22`, `q=email`, `q=(email%20eq%20%22a%22`, `q=password%20eq%20%22x%22`, `sort=password:asc`, `sort=email`, `limit=-1`, `limit=251`} {
			res := x.call(t, "GET", "/ccadmin/v1/adminProfiles?"+bad, nil)
			if res.Status != 400 || res.Map(t)["errorCode"] != "22007" {
				t.Errorf("list ?%s: %d %s, want 400 22007", bad, res.Status, res.Body)
			}
		}
	})
}

func TestReadOnlyApplicationKey(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		ro, err := credential.NewStore(x.DB).Create(context.Background(), "occadmin", true)
		if err != nil {
			t.Fatal(err)
		}
		res := login(t, x.Server, ro, "grant_type=client_credentials")
		if res.Status != http.StatusOK {
			t.Fatalf("login with a read-only key: %d %s", res.Status, res.Body)
		}
		tok := res.Map(t)["access_token"].(string)
		if st := x.Call(t, "GET", "/ccadmin/v1/adminProfiles", nil, "Authorization", "Bearer "+tok).Status; st != http.StatusOK {
			t.Errorf("read with a read-only token: %d, want 200", st)
		}
		res = x.Call(t, "POST", "/ccadmin/v1/adminProfiles/", profile("ro@example.com"), "Authorization", "Bearer "+tok)
		if res.Status != http.StatusForbidden || res.Map(t)["errorCode"] != "403" {
			t.Errorf("create with a read-only token: %d %s, want 403", res.Status, res.Body)
		}
		if st := x.Call(t, "POST", "/ccadmin/v1/refresh", nil, "Authorization", "Bearer "+tok).Status; st != http.StatusOK {
			t.Errorf("refresh of a read-only token: %d, want 200", st)
		}
	})
}

func TestEveryServiceProblemAtOnce(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		x.create(t, profile("taken@example.com"))
		p := profile("Taken@example.com")
		p["roles"] = []string{"bogusRole"}
		res := x.call(t, "POST", "/ccadmin/v1/adminProfiles/", p)
		if got := codes(t, res); strings.Join(got, ",") != "22006 /email,89001 /roles/0" {
			t.Errorf("duplicate email and unknown role: %v, want both; body %s", got, res.Body)
		}
	})
}

func TestLogout(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		a := apitest.Start(t, dialect, apitest.Options{})
		b := apitest.Start(t, dialect, apitest.Options{DatabaseURL: a.Config.DatabaseURL})
		occtest.TestLogout(t, occtest.API{
			Login: func(t *testing.T, s *apitest.Server) string {
				res := login(t, s, a.Keys["occadmin"], "grant_type=client_credentials")
				if res.Status != http.StatusOK {
					t.Fatalf("login: %d %s", res.Status, res.Body)
				}
				return res.Map(t)["access_token"].(string)
			},
			Base: "/ccadmin/v1", Probe: "/ccadmin/v1/adminRoles",
		}, a, b)

		// A token of a read-only key may log out: that changes no data.
		ro, err := credential.NewStore(a.DB).Create(context.Background(), "occadmin", true)
		if err != nil {
			t.Fatal(err)
		}
		tok := login(t, a, ro, "grant_type=client_credentials").Map(t)["access_token"].(string)
		if res := a.Call(t, "POST", "/ccadmin/v1/logout", nil, "Authorization", "Bearer "+tok); res.Status != http.StatusOK {
			t.Errorf("logout with a read-only token: %d %s, want 200", res.Status, res.Body)
		}
	})
}

func TestCurrentAdminProfileOfAnApplicationKey(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		res := x.call(t, "GET", "/ccadmin/v1/adminProfiles/current", nil)
		want := `{"errorCode":"404","message":"No admin profile is logged in: this access token was obtained with an application key.","status":"404"}`
		if res.Status != http.StatusNotFound || strings.TrimSpace(string(res.Body)) != want {
			t.Errorf("current with an application key's token: %d %s, want 404 %s", res.Status, res.Body, want)
		}
		if res := x.Call(t, "GET", "/ccadmin/v1/adminProfiles/current", nil); res.Status != http.StatusUnauthorized {
			t.Errorf("current without a token: %d, want 401", res.Status)
		}
	})
}

// TestPasswordLogin: an admin profile logs in with its own email and password, its token reads
// its current profile and works like a key's, ends when the profile is deactivated; a refused
// login says why in OCC's model; imported bcrypt hashes are upgraded on login.
func TestPasswordLogin(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		withPassword := profile("amber@example.com")
		withPassword["password"] = "Amber-Passw0rd"
		id := x.create(t, withPassword)
		x.create(t, profile("nopass@example.com"))

		pwLogin := func(body string) *apitest.Response {
			return x.Call(t, "POST", "/ccadmin/v1/login", body, "Content-Type", form)
		}
		res := pwLogin("grant_type=password&username=AMBER@example.com&password=Amber-Passw0rd")
		if res.Status != http.StatusOK || res.Map(t)["expires_in"] != 300.0 {
			t.Fatalf("password login: %d %s", res.Status, res.Body)
		}
		tok := res.Map(t)["access_token"].(string)
		as := func(method, path string, body any) *apitest.Response {
			return x.Call(t, method, path, body, "Authorization", "Bearer "+tok)
		}
		cur := as("GET", "/ccadmin/v1/adminProfiles/current", nil)
		if cur.Status != http.StatusOK || cur.Map(t)["id"] != id || cur.Map(t)["email"] != "amber@example.com" {
			t.Errorf("current profile of a password login: %d %s, want %s", cur.Status, cur.Body, id)
		}
		if res := as("POST", "/ccadmin/v1/adminProfiles/", profile("made-by-amber@example.com")); res.Status != http.StatusOK {
			t.Errorf("create with a profile's token: %d %s", res.Status, res.Body)
		}
		// An Authorization header that is not a key is ignored by a password login.
		if res := x.Call(t, "POST", "/ccadmin/v1/login", "grant_type=password&username=amber@example.com&password=Amber-Passw0rd",
			"Content-Type", form, "Authorization", "Bearer nonsense"); res.Status != http.StatusOK {
			t.Errorf("password login with a stray bearer: %d %s", res.Status, res.Body)
		}

		const refused = `{"errorCode":"401","message":"The username or password is invalid.","status":"401"}`
		for _, body := range []string{
			"grant_type=password&username=amber@example.com&password=wrong",
			"grant_type=password&username=ghost@example.com&password=Amber-Passw0rd",
			"grant_type=password&username=nopass@example.com&password=anything",
		} {
			if res := pwLogin(body); res.Status != http.StatusUnauthorized || strings.TrimSpace(string(res.Body)) != refused {
				t.Errorf("login %s: %d %s, want 401 %s", body, res.Status, res.Body, refused)
			}
		}
		res = pwLogin("grant_type=password")
		if got := codes(t, res); res.Status != http.StatusBadRequest || fmt.Sprint(got) != "[22007 /password 22007 /username]" {
			t.Errorf("password login without username and password: %d %s", res.Status, res.Body)
		}

		// Deactivated: the login is refused and the profile's tokens stop working.
		if res := x.call(t, "PUT", "/ccadmin/v1/adminProfiles/"+id, map[string]any{"active": false}); res.Status != http.StatusOK {
			t.Fatalf("deactivate: %d %s", res.Status, res.Body)
		}
		if res := as("GET", "/ccadmin/v1/adminProfiles/current", nil); res.Status != http.StatusUnauthorized {
			t.Errorf("a deactivated profile's token: %d, want 401", res.Status)
		}
		if res := pwLogin("grant_type=password&username=amber@example.com&password=Amber-Passw0rd"); res.Status != http.StatusUnauthorized {
			t.Errorf("login of a deactivated profile: %d, want 401", res.Status)
		}
	})
}

// TestRolesAndRegistrationDate: admin roles carry OCC's name, repositoryId, description and
// category besides provisiond's privileges; registrationDate has milliseconds, .000 included.
func TestRolesAndRegistrationDate(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		res := x.call(t, "GET", "/ccadmin/v1/adminRoles", nil)
		want := `{"items":[` +
			`{"category":"Administrator","description":"Administrator Role","name":"Administrator","privileges":["Administrator"],"repositoryId":"adminRole"},` +
			`{"category":"Commerce Cloud","description":"Catalog Role","name":"Catalog","privileges":["Catalog"],"repositoryId":"catalogRole"},` +
			`{"category":"Commerce Cloud","description":"A role that grants nothing","name":"No privileges","privileges":[],"repositoryId":"noPrivilegesRole"}]}`
		if res.Status != http.StatusOK || strings.TrimSpace(string(res.Body)) != want {
			t.Errorf("admin roles: %d %s, want %s", res.Status, res.Body, want)
		}
		for _, c := range []struct {
			after time.Duration
			want  string
		}{{0, "2026-01-02T03:04:05.000Z"}, {123*time.Millisecond + 456*time.Microsecond, "2026-01-02T03:04:05.123Z"}} {
			x.Clock.Advance(c.after)
			id := x.create(t, profile(fmt.Sprintf("reg%d@example.com", c.after)))
			if got := x.call(t, "GET", "/ccadmin/v1/adminProfiles/"+id, nil).Map(t)["registrationDate"]; got != c.want {
				t.Errorf("registrationDate %v, want %s", got, c.want)
			}
		}
	})
}

// TestNULAndBounds (issue 17): a path id that is not iuser<n> (U+0000 included) is the 404 of any
// unknown id; a key the API ignores is ignored whatever it holds; the list's offset and limit out
// of range, q and the login's fields with U+0000, are error 22007.
func TestNULAndBounds(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		id := x.create(t, profile("nul@example.com"))
		for _, c := range []struct{ id, message string }{
			{id + "%00", `No admin profile has the id ` + id + `\u0000.`},
			{"iuser%001", `No admin profile has the id iuser\u00001.`},
			{"nobody", "No admin profile has the id nobody."},
			{"iuser99999999999999999999", "No admin profile has the id iuser99999999999999999999."},
		} {
			want := `{"errorCode":"404","message":` + strconv.Quote(c.message) + `,"status":"404"}`
			for _, method := range []string{"GET", "PUT"} {
				res := x.call(t, method, "/ccadmin/v1/adminProfiles/"+c.id, map[string]any{"active": true})
				if res.Status != http.StatusNotFound || strings.TrimSpace(string(res.Body)) != want {
					t.Errorf("%s %s: %d %s, want 404 %s", method, c.id, res.Status, res.Body, want)
				}
			}
		}
		// With a body problem too, the body's problem is answered, as for any unknown id.
		if res := x.call(t, "PUT", "/ccadmin/v1/adminProfiles/iuser%001", map[string]any{"active": "yes"}); res.Status != http.StatusBadRequest || fmt.Sprint(codes(t, res)) != "[22007 /active]" {
			t.Errorf("PUT a refused id with a bad body: %d %s, want 400 22007 /active", res.Status, res.Body)
		}

		// Keys the API ignores may hold anything.
		body := profile("ignored-keys@example.com")
		body["note\x00"] = "a\x00b"
		body["extra"] = map[string]any{"k\x00": []any{"\x00"}}
		if res := x.call(t, "POST", "/ccadmin/v1/adminProfiles/", body); res.Status != http.StatusOK {
			t.Errorf("create with ignored keys holding U+0000: %d %s, want 200", res.Status, res.Body)
		}

		for _, c := range []struct{ query, want string }{
			{"offset=2147483648", "[22007 /offset]"},
			{"offset=100000000000000000000", "[22007 /offset]"},
			{"offset=-1", "[22007 /offset]"},
			{"offset=abc", "[22007 /offset]"},
			{"limit=9223372036854775808", "[22007 /limit]"},
			{"q=email%20eq%20%22a%00%22", "[22007 /q]"},
			{"sort=email%00:asc", "[22007 /sort]"},
		} {
			res := x.call(t, "GET", "/ccadmin/v1/adminProfiles?"+c.query, nil)
			if got := fmt.Sprint(codes(t, res)); res.Status != http.StatusBadRequest || got != c.want {
				t.Errorf("list ?%s: %d %s, want 400 %s", c.query, res.Status, res.Body, c.want)
			}
		}
		if res := x.call(t, "GET", "/ccadmin/v1/adminProfiles?offset=2147483647", nil); res.Status != http.StatusOK || res.Map(t)["offset"] != 2147483647.0 {
			t.Errorf("list at the largest offset: %d %s", res.Status, res.Body)
		}

		for _, c := range []struct{ body, want string }{
			{"grant_type=password&username=nul%00@example.com&password=x", "[22007 /username]"},
			{"grant_type=password&username=nul@example.com&password=x%00", "[22007 /password]"},
		} {
			res := x.Call(t, "POST", "/ccadmin/v1/login", c.body, "Content-Type", form)
			if got := fmt.Sprint(codes(t, res)); res.Status != http.StatusBadRequest || got != c.want {
				t.Errorf("login %s: %d %s, want 400 %s", c.body, res.Status, res.Body, c.want)
			}
		}
	})
}
