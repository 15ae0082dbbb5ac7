package platformos_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/fixtures"
	"github.com/provisiond/provisiond/internal/module"
	"github.com/provisiond/provisiond/internal/password"
	"github.com/provisiond/provisiond/internal/platformos"
)

// phpHash is PHP's password_hash("rasmuslerdorf") from its manual.
const phpHash = "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a"

var loader = fixtures.New(module.List{platformos.Module})

func parse(doc string) (fixtures.File, error) { return loader.Parse(strings.NewReader(doc)) }

// seed parses doc and applies it to x's database.
func seed(t testing.TB, x *pos, doc string, overwrite bool) (string, error) {
	t.Helper()
	f, err := parse(doc)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	applied, err := loader.Apply(context.Background(), x.DB, f, overwrite)
	return counts(applied), err
}

// counts renders what an apply did as "kind +created ~updated" items, by kind.
func counts(a fixtures.Applied) string {
	var out []string
	for _, m := range a {
		for kind, c := range m {
			out = append(out, fmt.Sprintf("%s +%d ~%d", kind, c.Created, c.Updated))
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

func bcryptHash(t testing.TB, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func argonHash(t testing.TB, pw string) string {
	t.Helper()
	h, err := password.New(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16}, 1).Hash(context.Background(), pw)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func storedHash(t testing.TB, x *pos, email string) string {
	t.Helper()
	var h []string
	if err := x.DB.Table("platformos_users").Where("email_key = ?", strings.ToLower(email)).Pluck("password_hash", &h).Error; err != nil || len(h) != 1 {
		t.Fatalf("stored hash of %s: %v %v", email, h, err)
	}
	return h[0]
}

func users(t testing.TB, x *pos) []module.User {
	t.Helper()
	list, total, err := platformos.Module.Users.List(context.Background(), x.DB, 0, 1000)
	if err != nil || int(total) != len(list) {
		t.Fatalf("Users.List: %d of %d, %v", len(list), total, err)
	}
	return list
}

func byEmail(t testing.TB, x *pos, email string) module.User {
	t.Helper()
	for _, u := range users(t, x) {
		if strings.EqualFold(u.Email, email) {
			return u
		}
	}
	t.Fatalf("no user %s", email)
	return module.User{}
}

// TestFixtureUsersRefusedWhenRead: the problems that need no form configuration are found when
// the file is read, every one of every entry, each naming entry and field.
func TestFixtureUsersRefusedWhenRead(t *testing.T) {
	for _, c := range []struct {
		name, users string
		want        []string // the lines of the error, without "fixtures: platformos."
	}{
		{"no email", `[{first_name: A, password: abcdef}]`, []string{"users[0].email: can't be blank"}},
		{"blank email", `[{email: " ", first_name: A, password: abcdef}]`, []string{"users[0].email: can't be blank"}},
		{"invalid email", `[{email: not-an-email, first_name: A, password: abcdef}]`, []string{"users[0].email: is invalid"}},
		{"blank password", `[{email: a@example.com, first_name: A, password: ""}]`, []string{"users[0].password: can't be blank"}},
		{"password and hash", `[{email: a@example.com, first_name: A, password: abcdef, password_hash: '` + phpHash + `'}]`,
			[]string{"users[0].password_hash: can't be given with password"}},
		{"blank hash", `[{email: a@example.com, first_name: A, password_hash: ""}]`, []string{"users[0].password_hash: can't be blank"}},
		{"not a hash", `[{email: a@example.com, first_name: A, password_hash: secret-password}]`,
			[]string{"users[0].password_hash: is not an argon2id PHC string or a bcrypt hash ($2a$, $2b$, $2y$)"}},
		{"broken bcrypt", `[{email: a@example.com, first_name: A, password_hash: '$2y$10$short'}]`,
			[]string{"users[0].password_hash: is not an argon2id PHC string or a bcrypt hash ($2a$, $2b$, $2y$)"}},
		{"broken argon2id", `[{email: a@example.com, first_name: A, password_hash: '$argon2id$v=19$m=64,t=1,p=1$$'}]`,
			[]string{"users[0].password_hash: is not an argon2id PHC string or a bcrypt hash ($2a$, $2b$, $2y$)"}},
		{"profile not an object", `[{email: a@example.com, first_name: A, password: abcdef, profiles: {buyer: 5}}]`,
			[]string{"users[0].profiles.buyer: is invalid"}},
		{"properties not an object", `[{email: a@example.com, first_name: A, password: abcdef, profiles: {buyer: {properties: [1]}}}]`,
			[]string{"users[0].profiles.buyer.properties: is invalid"}},
		{"U+0000", `[{email: a@example.com, first_name: "A\0B", password: abcdef, profiles: {buyer: {properties: {"k\0": 1}}}}]`,
			[]string{"users[0].first_name: is invalid (it holds U+0000)", "users[0].profiles: is invalid (it holds U+0000)"}},
		{"same email in another case", `[{email: a@example.com, first_name: A, password: abcdef}, {email: B@example.com}, {email: A@Example.COM}]`,
			[]string{"users[2].email: is listed already, as users[0].email (emails are compared case-insensitively)"}},
		{"every problem of every entry", `[{email: bad, password: ""}, {first_name: B, password: abc, password_hash: nope}, {email: Bad, profiles: {p: x}}]`,
			[]string{
				"users[0].password: can't be blank",
				"users[0].email: is invalid",
				"users[1].email: can't be blank",
				"users[1].password_hash: can't be given with password",
				"users[2].email: is invalid",
				"users[2].profiles.p: is invalid",
				"users[2].email: is listed already, as users[0].email (emails are compared case-insensitively)",
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parse("platformos:\n  users: " + c.users + "\n")
			var got []string
			if err != nil {
				for line := range strings.Lines(err.Error()) {
					got = append(got, strings.TrimPrefix(strings.TrimSuffix(line, "\n"), "fixtures: platformos."))
				}
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(c.want, "\n  "))
			}
		})
	}
	// What the decoder refuses: a field no create form has, a value of the wrong type.
	for doc, want := range map[string]string{
		`[{email: a@example.com, shoe_size: 42}]`:     "field shoe_size not found",
		`[{email: a@example.com, featured: 3}]`:       "into bool",
		`[{email: a@example.com, profiles: [a, b]}]`:  "into map[string]interface {}",
		`[{email: [a@example.com], first_name: A}]`:   "into string",
		`{email: a@example.com}`:                      "into []platformos.UserFixture",
		`[{email: a@example.com, form_name: [a, b]}]`: "into string",
	} {
		if _, err := parse("platformos:\n  users: " + doc + "\n"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("users %s: %v, want an error with %q", doc, err, want)
		}
	}
}

// TestFixtureUsersRefusedWhenApplied: the rules of the form configuration an entry names (or
// reference_rest_api_create_user) are those stored when the file is applied, this file's own
// configurations included; every problem of every entry is listed, and nothing of the file is
// written.
func TestFixtureUsersRefusedWhenApplied(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		doc := `platformos:
  form_configurations:
    - {name: long_passwords, kind: create, fields: [email, password], required: [email, password], password_min_length: 12}
  users:
    - {email: ok@example.com, first_name: Ok, password: ok-password}
    - {email: a@example.com}
    - {email: b@example.com, first_name: B, password: abc}
    - {form_configuration_name: signup_strict, email: c@example.com, first_name: C, password_hash: '` + phpHash + `'}
    - {form_configuration_name: signup_strict, email: d@example.com, last_name: D, password: short-pw}
    - {form_configuration_name: nope, email: e@example.com}
    - {form_name: reference_rest_api_update_user, email: f@example.com}
    - {form_name: long_passwords, email: g@example.com, password: eleven-char}
    - {form_name: long_passwords, email: h@example.com, password: twelve-chars}
credentials:
  - {api: platformos, secret: must-not-be-stored-0001}
`
		_, err := seed(t, x, doc, true)
		want := []string{
			"fixtures: platformos.users[1].password: can't be blank",
			"fixtures: platformos.users[1].first_name: can't be blank",
			"fixtures: platformos.users[2].password: is too short (minimum is 6 characters)",
			"fixtures: platformos.users[3].first_name: is not allowed",
			"fixtures: platformos.users[3].last_name: can't be blank",
			"fixtures: platformos.users[4].password: is too short (minimum is 10 characters)",
			"fixtures: platformos.users[5].form_configuration_name: is not a known form configuration",
			"fixtures: platformos.users[6].form_name: is not a known form configuration",
			"fixtures: platformos.users[7].password: is too short (minimum is 12 characters)",
		}
		if err == nil || err.Error() != strings.Join(want, "\n") {
			t.Fatalf("apply: %v\nwant\n%s", err, strings.Join(want, "\n"))
		}
		if apperr.KindOf(err) != apperr.KindInvalid {
			t.Errorf("kind %v, want invalid", apperr.KindOf(err))
		}
		var fields []string
		for _, e := range apperr.All(err) {
			if e.Kind != apperr.KindInvalid {
				t.Errorf("%v: kind %v", e, e.Kind)
			}
			fields = append(fields, e.Field)
		}
		if fields[0] != "users[1].password" || len(fields) != len(want) {
			t.Errorf("apperr fields %v", fields)
		}
		var n int64
		x.DB.Table("platformos_users").Count(&n)
		if n != 0 {
			t.Errorf("%d users stored, want none", n)
		}
		x.DB.Table("platformos_form_configurations").Where("name = ?", "long_passwords").Count(&n)
		if n != 0 {
			t.Errorf("the refused file's form configuration is stored")
		}
		if res := x.Call(t, "POST", "/api/users", create("signup_open", map[string]any{"email": "x@example.com"}), "Authorization", "Token token=must-not-be-stored-0001"); res.Status != 401 {
			t.Errorf("the refused file's credential works: %d", res.Status)
		}
	})
}

// TestFixtureUsersSeeded: seeded users are users of the API (their email taken, updatable, able
// to log in), the counts are right, a second apply updates them all, and without overwrite the
// users that exist are left alone.
func TestFixtureUsersSeeded(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		doc := `platformos:
  form_configurations:
    - {name: seed_open, kind: create, fields: [email, password, first_name, last_name, external_id, featured, profiles, transactables], required: [email]}
  users:
    # As POST /api/users with reference_rest_api_create_user (email, password, first_name required).
    - email: Ann@Example.com
      password: ann-password
      first_name: Ann
      last_name: Lee
      middle_name: M
      external_id: crm-1
      featured: true
      public_profile: false
      profiles: {buyer: {properties: {age: 30, tags: [a, b]}}}
      relationship_users: {friend: 2}
    - {form_configuration_name: seed_open, email: bob@example.com, transactables: {listing: {name: Boat}}}
    - {form_name: signup_strict, email: cy@example.com, last_name: Cy, password_hash: '` + argonHash(t, "cy-password-1") + `'}
`
		got, err := seed(t, x, doc, true)
		if err != nil || got != "form_configurations +1 ~0, users +3 ~0" {
			t.Fatalf("apply: %q %v", got, err)
		}
		ann := byEmail(t, x, "ann@example.com")
		extra, _ := json.Marshal(ann.Extra)
		if ann.Email != "Ann@Example.com" || ann.Login != ann.Email || ann.FirstName != "Ann" || ann.LastName != "Lee" || ann.Status != "" ||
			string(extra) != `{"external_id":"crm-1","featured":true,"middle_name":"M","name":null,"profiles":{"buyer":{"properties":{"age":30,"tags":["a","b"]}}},"public_profile":false,"relationship_users":{"friend":2},"transactables":{}}` {
			t.Errorf("Ann as stored: %+v extra %s", ann, extra)
		}
		if bob := byEmail(t, x, "bob@example.com"); bob.FirstName != "" || fmt.Sprint(bob.Extra["transactables"]) != "map[listing:map[name:Boat]]" {
			t.Errorf("Bob as stored: %+v", bob)
		}

		// The API's own rules see them: the email is taken in any case, the user can be updated and log in.
		if res := x.call(t, "POST", "/api/users", create("signup_open", map[string]any{"email": "ANN@example.com"})); res.Status != 422 || errs(t, res) != "email: has already been taken" {
			t.Errorf("create of a seeded email: %d %s", res.Status, res.Body)
		}
		if res := x.call(t, "PUT", "/api/users/"+ann.ID, create("reference_rest_api_update_user", map[string]any{"first_name": "Ann", "last_name": "Changed"})); res.Status != 204 {
			t.Errorf("update of a seeded user: %d %s", res.Status, res.Body)
		}
		for email, pw := range map[string]string{"ann@example.com": "ann-password", "CY@example.com": "cy-password-1"} {
			if res := x.call(t, "POST", "/api/sessions", create("reference_rest_api_create_session", map[string]any{"email": email, "password": pw})); res.Status != 200 {
				t.Errorf("login of %s: %d %s", email, res.Status, res.Body)
			}
		}

		// Again: every row is updated, none created; ids are kept and the file's values restored.
		got, err = seed(t, x, doc, true)
		if err != nil || got != "form_configurations +0 ~1, users +0 ~3" {
			t.Fatalf("second apply: %q %v", got, err)
		}
		if again := byEmail(t, x, "ann@example.com"); again.ID != ann.ID || again.LastName != "Lee" || !again.CreatedAt.Equal(ann.CreatedAt) {
			t.Errorf("Ann after the second apply: %+v, want id %s, last name Lee, created %v", again, ann.ID, ann.CreatedAt)
		}
		if n := len(users(t, x)); n != 3 {
			t.Errorf("%d users after the second apply, want 3", n)
		}

		// Without overwrite: existing users (any letter case) are left alone and not counted; new ones are created.
		x.call(t, "PUT", "/api/users/"+ann.ID, create("reference_rest_api_update_user", map[string]any{"first_name": "Ann", "last_name": "Kept"}))
		got, err = seed(t, x, `platformos:
  users:
    - {email: ANN@example.com, first_name: Other, password: other-password}
    - {email: dee@example.com, first_name: Dee, password_hash: '`+phpHash+`'}
`, false)
		if err != nil || got != "users +1 ~0" {
			t.Fatalf("apply without overwrite: %q %v", got, err)
		}
		if kept := byEmail(t, x, "ann@example.com"); kept.LastName != "Kept" || kept.FirstName != "Ann" || kept.Email != "Ann@Example.com" {
			t.Errorf("Ann after an apply without overwrite: %+v", kept)
		}
		if n := len(users(t, x)); n != 4 {
			t.Errorf("%d users, want 4", n)
		}
	})
}

// TestFixtureUsersLogIn: users seeded with a bcrypt hash (Go's, PHP's $2y$) or an argon2id one log
// in with their passwords; a bcrypt one is stored again as argon2id by the first successful login.
func TestFixtureUsersLogIn(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		goHash, argon := bcryptHash(t, "go-password"), argonHash(t, "argon-password")
		_, err := seed(t, x, `platformos:
  users:
    - {email: go@example.com, first_name: Go, password_hash: '`+goHash+`'}
    - {email: php@example.com, first_name: Php, password_hash: '`+phpHash+`'}
    - {email: argon@example.com, first_name: Argon, password_hash: '`+argon+`'}
`, true)
		if err != nil {
			t.Fatal(err)
		}
		login := func(email, pw string) int {
			return x.call(t, "POST", "/api/sessions", create("reference_rest_api_create_session", map[string]any{"email": email, "password": pw})).Status
		}
		if status := login("go@example.com", "wrong-password"); status != 422 {
			t.Errorf("wrong password: %d", status)
		}
		if h := storedHash(t, x, "go@example.com"); h != goHash {
			t.Errorf("a failed login changed the hash to %s", h)
		}
		for _, c := range []struct{ email, pw, before string }{
			{"go@example.com", "go-password", goHash},
			{"php@example.com", "rasmuslerdorf", phpHash},
		} {
			if status := login(c.email, c.pw); status != 200 {
				t.Errorf("%s: login %d", c.email, status)
			}
			h := storedHash(t, x, c.email)
			if !strings.HasPrefix(h, "$argon2id$") {
				t.Errorf("%s: stored %s after a login, want argon2id", c.email, h)
			}
			if status := login(c.email, c.pw); status != 200 || storedHash(t, x, c.email) != h {
				t.Errorf("%s: second login %d, or the hash changed again", c.email, status)
			}
		}
		if status := login("argon@example.com", "argon-password"); status != 200 || storedHash(t, x, "argon@example.com") != argon {
			t.Errorf("argon2id login: %d, hash changed: %v", status, storedHash(t, x, "argon@example.com") != argon)
		}

		// The rehash replaces only the hash it verified: a password changed meanwhile stays.
		st := platformos.NewStore(x.DB)
		id := byEmail(t, x, "argon@example.com").ID
		var n int64
		fmt.Sscan(id, &n)
		if err := st.Rehash(context.Background(), n, goHash, "$argon2id$replaced"); err != nil {
			t.Fatal(err)
		}
		if h := storedHash(t, x, "argon@example.com"); h != argon {
			t.Errorf("Rehash with a stale hash replaced it with %s", h)
		}
	})
}

// TestFixtureUsersRace: an apply that seeds user K while the API creates K many times at once, in
// two letter cases: one user K, the file's; the apply succeeds; every create is a 201 or the
// API's "has already been taken".
func TestFixtureUsersRace(t *testing.T) {
	const creates = 20
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		for r := range apitest.RaceRounds(t) {
			email := fmt.Sprintf("race%d@example.com", r)
			doc := fmt.Sprintf("platformos:\n  users:\n    - {form_configuration_name: signup_open, email: %s, first_name: Seeded, password_hash: '%s'}\n", strings.ToUpper(email), phpHash)
			f, err := parse(doc)
			if err != nil {
				t.Fatal(err)
			}
			out := apitest.Concurrently(creates+1, func(i int) string {
				if i == creates/2 {
					applied, err := loader.Apply(context.Background(), x.DB, f, true)
					return fmt.Sprintf("apply %s %v", counts(applied), err)
				}
				e := email
				if i%2 == 1 {
					e = strings.ToUpper(email[:1]) + email[1:]
				}
				res := x.Call(t, "POST", "/api/users", create("signup_open", map[string]any{"email": e, "first_name": "Created"}), "Authorization", x.auth)
				switch {
				case res.Status == http.StatusCreated:
					return "created"
				case res.Status == http.StatusUnprocessableEntity && fmt.Sprint(res.Map(t)["errors"]) == "map[email:[has already been taken]]":
					return "taken"
				}
				return fmt.Sprintf("%d %s", res.Status, res.Body)
			})
			created := 0
			for i, o := range out {
				switch {
				case i == creates/2:
					if o != "apply users +1 ~0 <nil>" && o != "apply users +0 ~1 <nil>" {
						t.Errorf("round %d: %s", r, o)
					}
				case o == "created":
					created++
				case o != "taken":
					t.Errorf("round %d: create %d: %s", r, i, o)
				}
			}
			if created > 1 {
				t.Errorf("round %d: %d creates succeeded", r, created)
			}
			if n := apitest.Stored(t, x.DB, "platformos_users", "email_key", email); n != 1 {
				t.Errorf("round %d: %d users %s stored, want 1", r, n, email)
			}
			if u := byEmail(t, x, email); u.FirstName != "Seeded" || u.Email != strings.ToUpper(email) {
				t.Errorf("round %d: stored %s %q, want the file's", r, u.Email, u.FirstName)
			}
		}
	})
}

// TestUsersInspection: Users.List and Users.Get read back what the API stored, seeded or
// created through the API, never a password or its hash.
func TestUsersInspection(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		if _, err := seed(t, x, `platformos:
  users:
    - {email: one@example.com, first_name: One, password: one-password}
    - {email: two@example.com, first_name: Two, password_hash: '`+phpHash+`'}
`, true); err != nil {
			t.Fatal(err)
		}
		res := x.call(t, "POST", "/api/users", create("reference_rest_api_create_user", map[string]any{
			"email": "Three@example.com", "first_name": "Three", "last_name": "T", "password": "three-password", "external_id": "ext-3",
			"profiles": map[string]any{"seller": map[string]any{"properties": map[string]any{"big": json.Number("12345678901234567890")}}},
		}))
		if res.Status != 201 {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		id := fmt.Sprint(res.Map(t)["id"])
		ctx := context.Background()
		list, total, err := platformos.Module.Users.List(ctx, x.DB, 0, 10)
		if err != nil || total != 3 || len(list) != 3 {
			t.Fatalf("List: %d of %d, %v", len(list), total, err)
		}
		for i, want := range []string{"one@example.com", "two@example.com", "Three@example.com"} {
			if list[i].Email != want {
				t.Errorf("List[%d] is %s, want %s (by id)", i, list[i].Email, want)
			}
		}
		three := list[2]
		extra, _ := json.Marshal(three.Extra)
		if three.ID != id || three.Login != "Three@example.com" || three.FirstName != "Three" || three.LastName != "T" ||
			!three.CreatedAt.Equal(x.Clock.Now()) || three.UpdatedAt == nil ||
			!strings.Contains(string(extra), `"external_id":"ext-3"`) || !strings.Contains(string(extra), `"big":12345678901234567890`) {
			t.Errorf("user created through the API: %+v extra %s", three, extra)
		}
		page, total, err := platformos.Module.Users.List(ctx, x.DB, 1, 1)
		if err != nil || total != 3 || len(page) != 1 || page[0].Email != "two@example.com" {
			t.Errorf("List(1, 1): %+v %d %v", page, total, err)
		}
		if none, total, err := platformos.Module.Users.List(ctx, x.DB, 5, 10); err != nil || total != 3 || len(none) != 0 {
			t.Errorf("List past the end: %+v %d %v", none, total, err)
		}
		secrets := map[string]string{"one@example.com": "one-password", "two@example.com": "rasmuslerdorf", "Three@example.com": "three-password"}
		for _, u := range list {
			got, err := platformos.Module.Users.Get(ctx, x.DB, u.ID)
			if err != nil {
				t.Fatalf("Get %s: %v", u.ID, err)
			}
			a, _ := json.Marshal(got)
			b, _ := json.Marshal(u)
			if string(a) != string(b) {
				t.Errorf("Get %s = %s, List has %s", u.ID, a, b)
			}
			hash := storedHash(t, x, u.Email)
			if strings.Contains(string(a), hash) || strings.Contains(string(a), secrets[u.Email]) || strings.Contains(strings.ToLower(string(a)), "password") {
				t.Errorf("user %s shows its password or hash: %s", u.ID, a)
			}
		}
		for _, bad := range []string{"999999", "0", "-1", "abc", "", "01", " 1", "1.0", "99999999999999999999"} {
			if _, err := platformos.Module.Users.Get(ctx, x.DB, bad); err != module.ErrNoUser {
				t.Errorf("Get(%q): %v, want ErrNoUser", bad, err)
			}
		}
	})
}

// BenchmarkSeed10k reads and applies a file of 10,000 new users with password_hash (bcrypt).
func BenchmarkSeed10k(b *testing.B) {
	hash := bcryptHash(b, "bench-password")
	for _, dialect := range apitest.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			s := apitest.Start(b, dialect, apitest.Options{})
			round := 0
			for b.Loop() {
				b.StopTimer()
				round++
				var doc strings.Builder
				doc.WriteString("platformos:\n  users:\n")
				for i := range 10000 {
					fmt.Fprintf(&doc, "    - {email: u%d-%d@example.com, first_name: U%d, password_hash: '%s'}\n", round, i, i, hash)
				}
				b.StartTimer()
				f, err := loader.Parse(strings.NewReader(doc.String()))
				if err != nil {
					b.Fatal(err)
				}
				applied, err := loader.Apply(context.Background(), s.DB, f, true)
				if err != nil || counts(applied) != "users +10000 ~0" {
					b.Fatalf("apply: %s %v", counts(applied), err)
				}
			}
		})
	}
}

// TestRehashRacesPasswordChange logs in with a seeded bcrypt password (which stores it again as
// argon2id) while the password is changed through the API: whatever the order, the change is
// never lost, so afterwards the new password logs in and the old one does not.
func TestRehashRacesPasswordChange(t *testing.T) {
	const logins = 4
	rounds := apitest.RaceRounds(t)
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		login := func(email, pw string) *apitest.Response {
			return x.call(t, "POST", "/api/sessions", create("reference_rest_api_create_session", map[string]any{"email": email, "password": pw}))
		}
		for r := range rounds {
			email, oldPW, newPW := fmt.Sprintf("rehash%d@example.com", r), fmt.Sprintf("old-password-%d", r), fmt.Sprintf("new-password-%d", r)
			if _, err := seed(t, x, fmt.Sprintf("platformos:\n  users:\n    - {email: %s, first_name: R, password_hash: '%s'}\n", email, bcryptHash(t, oldPW)), true); err != nil {
				t.Fatal(err)
			}
			id := byEmail(t, x, email).ID
			answers := apitest.Concurrently(logins+1, func(i int) *apitest.Response {
				if i == logins/2 {
					return x.call(t, "PUT", "/api/users/"+id, create("update_any", map[string]any{"password": newPW}))
				}
				return login(email, oldPW)
			})
			for i, res := range answers {
				if i == logins/2 && res.Status != http.StatusNoContent || i != logins/2 && res.Status != http.StatusOK && res.Status != http.StatusUnprocessableEntity {
					t.Errorf("round %d, request %d: %d %s", r, i, res.Status, res.Body)
				}
			}
			if res := login(email, newPW); res.Status != http.StatusOK {
				t.Errorf("round %d: the new password after the race: %d %s, want 200 (the change was lost)", r, res.Status, res.Body)
			}
			if res := login(email, oldPW); res.Status != http.StatusUnprocessableEntity {
				t.Errorf("round %d: the old password after the race: %d, want 422", r, res.Status)
			}
		}
	})
}
