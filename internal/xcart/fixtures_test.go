package xcart_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/app"
	"github.com/provisiond/provisiond/internal/fixtures"
	"github.com/provisiond/provisiond/internal/module"
	"github.com/provisiond/provisiond/internal/password"
	"github.com/provisiond/provisiond/internal/xcart"
)

// phpHash is PHP's documentation example of password_hash: the password "rasmuslerdorf".
const phpHash = "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a"

// parse parses a fixtures document, failing the test when it does not parse.
func parse(t testing.TB, doc string) fixtures.File {
	t.Helper()
	f, err := app.Fixtures().Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("parse %q: %v", doc, err)
	}
	return f
}

// apply parses and applies a fixtures document and returns what it did for X-Cart.
func apply(t testing.TB, db *gorm.DB, doc string, overwrite bool) (map[string]module.Count, error) {
	t.Helper()
	applied, err := app.Fixtures().Apply(context.Background(), db, parse(t, doc), overwrite)
	if err != nil {
		return nil, err
	}
	out := map[string]module.Count{}
	for kind, c := range applied["xcart"] {
		out[kind] = *c
	}
	return out, nil
}

// mustApply is apply that fails the test on an error.
func mustApply(t testing.TB, db *gorm.DB, doc string, overwrite bool) map[string]module.Count {
	t.Helper()
	counts, err := apply(t, db, doc, overwrite)
	if err != nil {
		t.Fatalf("apply %q: %v", apitest.LastLines(doc, 5), err)
	}
	return counts
}

func lines(err error) []string {
	if err == nil {
		return nil
	}
	out := strings.Split(err.Error(), "\n")
	slices.Sort(out)
	return out
}

func TestProfilesSectionRefused(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want []string // every line of the error, in any order
	}{
		{
			"every problem of an entry at once",
			`{login: not-an-email, password: short, access_level: 50, status: X, language: eng, membership_id: -1, referer: ` + strings.Repeat("r", 256) + `, social_login_id: ` + strings.Repeat("s", 129) + `}`,
			[]string{
				"fixtures: xcart.profiles[0].access_level: The value you selected is not a valid choice.",
				"fixtures: xcart.profiles[0].language: This value is too long. It should have 2 characters or less.",
				"fixtures: xcart.profiles[0].login: This value is not a valid email address.",
				"fixtures: xcart.profiles[0].membership_id: This value should be greater than or equal to 0.",
				"fixtures: xcart.profiles[0].password: This value is too short. It should have 8 characters or more.",
				"fixtures: xcart.profiles[0].referer: This value is too long. It should have 255 characters or less.",
				"fixtures: xcart.profiles[0].social_login_id: This value is too long. It should have 128 characters or less.",
				"fixtures: xcart.profiles[0].status: The value you selected is not a valid choice.",
			},
		},
		{"login missing", `{status: E}`, []string{"fixtures: xcart.profiles[0].login: This value should not be blank."}},
		{"U+0000", `{login: a@example.com, status_comment: "a\0b", stored_selectors: ["\0"]}`, []string{
			"fixtures: xcart.profiles[0].status_comment: This value is not valid.",
			"fixtures: xcart.profiles[0].stored_selectors[0]: This value is not valid.",
		}},
		{"login null", `{login: null}`, []string{"fixtures: xcart.profiles[0].login: This value should not be blank."}},
		{"login too short", `{login: a@bc}`, []string{
			"fixtures: xcart.profiles[0].login: This value is not a valid email address.",
			"fixtures: xcart.profiles[0].login: This value is too short. It should have 5 characters or more.",
		}},
		{"login too long", `{login: ` + email(129) + `}`, []string{"fixtures: xcart.profiles[0].login: This value is too long. It should have 128 characters or less."}},
		{"login not an address of the HTML5 definition", `{login: zoë@example.com}`, []string{"fixtures: xcart.profiles[0].login: This value is not a valid email address."}},
		{"password too long", `{login: a@example.com, password: ` + strings.Repeat("p", 129) + `}`, []string{"fixtures: xcart.profiles[0].password: This value is too long. It should have 128 characters or less."}},
		{"password and password_hash", `{login: a@example.com, password: correct-horse, password_hash: '` + phpHash + `'}`, []string{"fixtures: xcart.profiles[0].password_hash: give password or password_hash, not both"}},
		{"password_hash not a hash", `{login: a@example.com, password_hash: secret}`, []string{"fixtures: xcart.profiles[0].password_hash: not an argon2id PHC string or a bcrypt hash ($2a$, $2b$, $2y$): password hash: not an argon2id PHC string"}},
		{"password_hash a broken bcrypt", `{login: a@example.com, password_hash: '$2y$10$short'}`, []string{"fixtures: xcart.profiles[0].password_hash: not a valid bcrypt hash: crypto/bcrypt: hashedSecret too short to be a bcrypted password"}},
		{"password_hash a broken argon2id", `{login: a@example.com, password_hash: '$argon2id$v=19$m=19456,t=2,p=1$$'}`, []string{"fixtures: xcart.profiles[0].password_hash: not an argon2id PHC string or a bcrypt hash ($2a$, $2b$, $2y$): password hash: empty salt or key"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := "xcart:\n  profiles:\n    - " + c.doc + "\n"
			_, err := app.Fixtures().Parse(strings.NewReader(doc))
			want := slices.Sorted(slices.Values(c.want))
			if got := lines(err); !slices.Equal(got, want) {
				t.Errorf("Parse(%q):\ngot  %q\nwant %q", doc, got, want)
			}
		})
	}
	t.Run("every entry's problems, duplicates in any letter case", func(t *testing.T) {
		doc := `xcart:
  profiles:
    - {login: Ann@Example.com}
    - {login: bad}
    - {login: ann@example.COM}
    - {login: bob@example.com, status: Z}
    - {login: BOB@example.com}
`
		want := []string{
			"fixtures: xcart.profiles[1].login: This value is not a valid email address.",
			"fixtures: xcart.profiles[1].login: This value is too short. It should have 5 characters or more.",
			"fixtures: xcart.profiles[2].login: already listed as profiles[0].login (logins are compared in any letter case)",
			"fixtures: xcart.profiles[3].status: The value you selected is not a valid choice.",
			"fixtures: xcart.profiles[4].login: already listed as profiles[3].login (logins are compared in any letter case)",
		}
		_, err := app.Fixtures().Parse(strings.NewReader(doc))
		if got := lines(err); !slices.Equal(got, want) {
			t.Errorf("Parse:\ngot  %q\nwant %q", got, want)
		}
	})
	t.Run("keys and types", func(t *testing.T) {
		for _, c := range []struct{ entry, want string }{
			{"{login: a@example.com, favourite_colour: blue}", "field favourite_colour not found in type xcart.ProfileFixture"},
			{"{login: a@example.com, access_level: admin}", "cannot unmarshal !!str `admin` into int"},
			{"{login: a@example.com, role_ids: 1}", "cannot unmarshal !!int `1` into []int"},
		} {
			doc := "xcart:\n  profiles:\n    - " + c.entry + "\n"
			if _, err := app.Fixtures().Parse(strings.NewReader(doc)); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Parse(%q) = %v, want an error about %q", doc, err, c.want)
			}
		}
	})
}

// profiles reads every stored profile through the API, by login.
func (x *xc) profiles(t *testing.T) map[string]map[string]any {
	t.Helper()
	res := x.call(t, "GET", "/api/profiles?itemsPerPage=100", nil)
	if res.Status != http.StatusOK {
		t.Fatalf("list profiles: %d %s", res.Status, res.Body)
	}
	var list []map[string]any
	res.JSON(t, &list)
	out := map[string]map[string]any{}
	for _, p := range list {
		out[p["login"].(string)] = p
	}
	return out
}

// TestReferenceNamesRefused checks the names of reference data: required, and without U+0000,
// which no stored text can hold.
func TestReferenceNamesRefused(t *testing.T) {
	doc := "xcart:\n  memberships:\n    - {id: 1, name: \"Gold\\0\"}\n    - {id: 2, name: ''}\n  roles:\n    - {id: 1, name: \"\\0\"}\n"
	_, err := app.Fixtures().Parse(strings.NewReader(doc))
	want := []string{
		"fixtures: xcart.memberships[0]: name must not hold U+0000",
		"fixtures: xcart.memberships[1]: name is required",
		"fixtures: xcart.roles[0]: name must not hold U+0000",
	}
	if got := lines(err); !slices.Equal(got, want) {
		t.Errorf("Parse(%q):\ngot  %q\nwant %q", doc, got, want)
	}
}

func TestSeedReferencesMustExist(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		doc := `xcart:
  memberships:
    - {id: 7, name: Gold}
  roles:
    - {id: 8, name: Support}
  profiles:
    - {login: fine@example.com, membership_id: 7, access_level: 100, role_ids: [1, 8]}
    - {login: lost@example.com, membership_id: 42, pending_membership_id: 43, access_level: 100, role_ids: [9, 1, 9, 5]}
    - {login: customer@example.com, role_ids: [6]}
`
		_, err := apply(t, x.DB, doc, true)
		want := []string{
			"fixtures: xcart: profiles[1].membership_id: Membership with ID 42 not found",
			"profiles[1].pending_membership_id: Pending membership with ID 43 not found",
			"profiles[1].role_ids: Role with ID 5 not found",
			"profiles[1].role_ids: Role with ID 9 not found",
			// A customer's roles are checked, as the create checks them, though never stored.
			"profiles[2].role_ids: Role with ID 6 not found",
		}
		if got := strings.Split(fmt.Sprint(err), "\n"); !slices.Equal(got, want) {
			t.Errorf("apply:\ngot  %q\nwant %q", got, want)
		}
		if got := x.profiles(t); len(got) != 0 {
			t.Errorf("after a refused file, profiles %v; want none", got)
		}
		var n int64
		x.DB.Table("xcart_memberships").Where("id = 7").Count(&n)
		if n != 0 {
			t.Errorf("after a refused file, membership 7 is stored; want nothing of the file")
		}
	})
}

const seedDoc = `xcart:
  memberships:
    - {id: 7, name: Gold}
  roles:
    - {id: 8, name: Support}
  profiles:
    - login: Admin@Example.com
      password: correct-horse-battery
      access_level: 100
      status: E
      role_ids: [1, 8]
      membership_id: 7
      language: en
      status_comment: seeded
      mail_chimp_lists: [3, 7]
      stored_selectors: ['#cart']
      social_login_provider: null
    - login: customer@example.com
      role_ids: [2]
      pending_membership_id: 1
      status: D
      force_change_password: true
      stripe_customer_id: cus_1
    - {login: bare@example.com}
`

func TestSeedProfiles(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		counts := mustApply(t, x.DB, seedDoc, true)
		want := map[string]module.Count{"memberships": {Created: 1}, "roles": {Created: 1}, "profiles": {Created: 3}}
		if !equalCounts(counts, want) {
			t.Errorf("first apply: %v, want %v", counts, want)
		}
		got := x.profiles(t)
		admin, customer, bare := got["Admin@Example.com"], got["customer@example.com"], got["bare@example.com"]
		if admin == nil || customer == nil || bare == nil {
			t.Fatalf("seeded profiles through the API: %v; want the three of the file", got)
		}
		for _, c := range []struct {
			profile map[string]any
			field   string
			want    any
		}{
			{admin, "access_level", 100.0}, {admin, "status", "E"}, {admin, "role_ids", []any{1.0, 8.0}},
			{admin, "membership_id", 7.0}, {admin, "language", "en"}, {admin, "status_comment", "seeded"},
			{admin, "mail_chimp_lists", []any{3.0, 7.0}}, {admin, "stored_selectors", []any{"#cart"}},
			{admin, "social_login_provider", nil},
			{customer, "access_level", 0.0}, {customer, "status", "D"}, {customer, "role_ids", []any{}},
			{customer, "pending_membership_id", 1.0}, {customer, "membership_id", nil},
			{customer, "force_change_password", true}, {customer, "stripe_customer_id", "cus_1"},
			{bare, "access_level", 0.0}, {bare, "status", "E"}, {bare, "role_ids", []any{}},
			{bare, "mail_chimp_segments", []any{}}, {bare, "language", ""}, {bare, "first_login_date", nil},
		} {
			if g := c.profile[c.field]; !jsonEqual(g, c.want) {
				t.Errorf("%s.%s = %v, want %v", c.profile["login"], c.field, g, c.want)
			}
		}
		// Fixtures have no clock of the server's: a seeded profile is created now.
		if _, err := time.Parse(time.RFC3339, fmt.Sprint(admin["create_date"])); err != nil {
			t.Errorf("create_date %v: %v", admin["create_date"], err)
		}
		// The seeded administrator logs in with the file's password.
		if res := logIn(t, x, "admin@example.com", "correct-horse-battery"); res.Status != http.StatusOK {
			t.Errorf("login of the seeded administrator: %d %s", res.Status, res.Body)
		}

		// The same file again: everything updated, nothing created, ids and create dates kept.
		x.Clock.Advance(3600e9)
		counts = mustApply(t, x.DB, seedDoc, true)
		want = map[string]module.Count{"memberships": {Updated: 1}, "roles": {Updated: 1}, "profiles": {Updated: 3}}
		if !equalCounts(counts, want) {
			t.Errorf("second apply: %v, want %v", counts, want)
		}
		again := x.profiles(t)
		for login, p := range got {
			q := again[login]
			for _, f := range []string{"id", "create_date", "access_level", "role_ids"} {
				if !jsonEqual(p[f], q[f]) {
					t.Errorf("%s.%s after the second apply: %v, was %v", login, f, q[f], p[f])
				}
			}
		}
		// The first login is kept: it is the profile's, not the file's.
		if again["Admin@Example.com"]["last_login_date"] == nil {
			t.Errorf("the second apply cleared the administrator's login dates")
		}
	})
}

func TestSeedOverwrite(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		mustApply(t, x.DB, seedDoc, true)
		changed := `xcart:
  profiles:
    - {login: ADMIN@example.com, access_level: 100, status: D, role_ids: [2]}
    - {login: new@example.com}
`
		// Without overwrite, stored profiles are left alone and not counted.
		counts := mustApply(t, x.DB, changed, false)
		if want := map[string]module.Count{"profiles": {Created: 1}}; !equalCounts(counts, want) {
			t.Errorf("apply without overwrite: %v, want %v", counts, want)
		}
		admin := x.profiles(t)["Admin@Example.com"]
		if admin["status"] != "E" || !jsonEqual(admin["role_ids"], []any{1.0, 8.0}) {
			t.Errorf("without overwrite, the stored administrator changed: %v", admin)
		}
		// With overwrite, the stored profile takes the file's fields, its login's letter case
		// included, and what the entry leaves out is as the create leaves it: no password.
		counts = mustApply(t, x.DB, changed, true)
		if want := map[string]module.Count{"profiles": {Updated: 2}}; !equalCounts(counts, want) {
			t.Errorf("apply with overwrite: %v, want %v", counts, want)
		}
		got := x.profiles(t)
		admin = got["ADMIN@example.com"]
		if admin == nil || admin["status"] != "D" || !jsonEqual(admin["role_ids"], []any{2.0}) || admin["membership_id"] != nil || admin["language"] != "" {
			t.Errorf("with overwrite, the administrator is %v; want the file's fields", admin)
		}
		if len(got) != 4 {
			t.Errorf("profiles after both: %d, want 4", len(got))
		}
	})
}

func TestSeedKeepsAnAdministrator(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		mustApply(t, x.DB, "xcart:\n  profiles:\n    - {login: only@example.com, access_level: 100}\n", true)
		_, err := apply(t, x.DB, "xcart:\n  profiles:\n    - {login: new@example.com}\n    - {login: only@example.com, access_level: 0}\n", true)
		if want := "fixtures: xcart: profiles[1].access_level: Cannot remove the last admin profile"; fmt.Sprint(err) != want {
			t.Errorf("demoting the last administrator: %v, want %q", err, want)
		}
		if got := x.profiles(t); len(got) != 1 || got["only@example.com"]["access_level"] != 100.0 {
			t.Errorf("after the refused file: %v; want the administrator alone, unchanged", got)
		}
		// Another administrator in the same file makes it fine.
		counts := mustApply(t, x.DB, "xcart:\n  profiles:\n    - {login: only@example.com, access_level: 0}\n    - {login: next@example.com, access_level: 100}\n", true)
		if want := map[string]module.Count{"profiles": {Created: 1, Updated: 1}}; !equalCounts(counts, want) {
			t.Errorf("demotion with a new administrator: %v, want %v", counts, want)
		}
	})
}

// logIn logs in through the API.
func logIn(t *testing.T, x *xc, username, pw string) *apitest.Response {
	t.Helper()
	return x.Call(t, "POST", "/api-login/check", map[string]any{"username": username, "password": pw})
}

// storedHash reads a profile's password hash from the database ("" for none).
func storedHash(t *testing.T, db *gorm.DB, login string) string {
	t.Helper()
	var hash []sql.NullString
	if err := db.Table("xcart_profiles").Where("login_key = ?", strings.ToLower(login)).Pluck("password_hash", &hash).Error; err != nil || len(hash) != 1 {
		t.Fatalf("read the hash of %s: %v (%d rows)", login, err, len(hash))
	}
	return hash[0].String
}

func TestSeededHashesLogIn(t *testing.T) {
	minCost, err := bcrypt.GenerateFromPassword([]byte("bcrypt-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	argon, err := password.New(password.OWASP, 1).Hash(context.Background(), "argon-password")
	if err != nil {
		t.Fatal(err)
	}
	users := []struct {
		login, hash, password string
		bcrypt                bool
	}{
		{"gocost@example.com", string(minCost), "bcrypt-password", true},
		{"php@example.com", phpHash, "rasmuslerdorf", true},
		{"argon@example.com", argon, "argon-password", false},
	}
	doc := "xcart:\n  profiles:\n"
	for _, u := range users {
		doc += fmt.Sprintf("    - {login: %s, access_level: 100, password_hash: '%s'}\n", u.login, u.hash)
	}
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		mustApply(t, x.DB, doc, true)
		for _, u := range users {
			if res := logIn(t, x, u.login, "wrong-password"); res.Status != http.StatusUnauthorized {
				t.Errorf("%s with a wrong password: %d, want 401", u.login, res.Status)
			}
			if got := storedHash(t, x.DB, u.login); got != u.hash {
				t.Errorf("%s: a failed login changed the stored hash", u.login)
			}
			for i := range 2 {
				if res := logIn(t, x, u.login, u.password); res.Status != http.StatusOK {
					t.Errorf("%s login %d: %d %s, want 200", u.login, i+1, res.Status, res.Body)
				}
				got := storedHash(t, x.DB, u.login)
				if u.bcrypt && !strings.HasPrefix(got, "$argon2id$") {
					t.Errorf("%s after login %d: stored hash %.7s…, want argon2id", u.login, i+1, got)
				}
				if !u.bcrypt && got != u.hash {
					t.Errorf("%s after login %d: an argon2id hash was replaced", u.login, i+1)
				}
			}
		}
		// The rehash writes only over the hash it verified: a password changed meanwhile stays.
		var id int
		x.DB.Table("xcart_profiles").Where("login_key = ?", "argon@example.com").Pluck("id", &id)
		if err := xcart.NewStore(x.DB).RehashPassword(context.Background(), id, phpHash, "$argon2id$other"); err != nil {
			t.Fatal(err)
		}
		if got := storedHash(t, x.DB, "argon@example.com"); got != argon {
			t.Errorf("a rehash over a hash that changed meanwhile replaced it")
		}
	})
}

// TestRehashRacesPasswordChange logs in with a seeded bcrypt password (which stores it again as
// argon2id) while the password is changed through the API: whatever the order, the change is
// never lost, so afterwards the new password logs in and the old one does not.
func TestRehashRacesPasswordChange(t *testing.T) {
	const logins = 4
	rounds := apitest.RaceRounds(t)
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		for r := range rounds {
			login, oldPW, newPW := fmt.Sprintf("rehash%d@example.com", r), fmt.Sprintf("old-password-%d", r), fmt.Sprintf("new-password-%d", r)
			hash, err := bcrypt.GenerateFromPassword([]byte(oldPW), bcrypt.MinCost)
			if err != nil {
				t.Fatal(err)
			}
			mustApply(t, x.DB, fmt.Sprintf("xcart:\n  profiles:\n    - {login: %s, access_level: 100, password_hash: '%s'}\n", login, hash), true)
			var id int
			if err := x.DB.Table("xcart_profiles").Where("login_key = ?", login).Pluck("id", &id).Error; err != nil {
				t.Fatal(err)
			}
			answers := apitest.Concurrently(logins+1, func(i int) *apitest.Response {
				if i == logins/2 {
					return x.Call(t, "PUT", fmt.Sprintf("/api/profiles/%d", id), map[string]any{"password": newPW}, "X-Auth-Token", x.key)
				}
				return logIn(t, x, login, oldPW)
			})
			for i, res := range answers {
				if want := []int{http.StatusOK, http.StatusUnauthorized}; i == logins/2 && res.Status != http.StatusOK || !slices.Contains(want, res.Status) {
					t.Errorf("round %d, request %d: %d %s", r, i, res.Status, res.Body)
				}
			}
			if res := logIn(t, x, login, newPW); res.Status != http.StatusOK {
				t.Errorf("round %d: the new password after the race: %d %s, want 200 (the change was lost)", r, res.Status, res.Body)
			}
			if res := logIn(t, x, login, oldPW); res.Status != http.StatusUnauthorized {
				t.Errorf("round %d: the old password after the race: %d, want 401", r, res.Status)
			}
		}
	})
}

// TestSeedRacesCreates applies a file with profile K while the API creates K many times at once,
// in two letter cases: exactly one K is stored, the apply succeeds, and every create is answered
// either 201 or X-Cart's "must be unique".
func TestSeedRacesCreates(t *testing.T) {
	const creates = 20
	rounds := apitest.RaceRounds(t)
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		u := &xcUpdater{xc: x}
		for r := range rounds {
			k := fmt.Sprintf("Race%d@Example.com", r)
			f := parse(t, fmt.Sprintf("xcart:\n  profiles:\n    - {login: %s, access_level: 100, status: D}\n", k))
			type result struct {
				res     *apitest.Response
				applied fixtures.Applied
				err     error
			}
			results := apitest.Concurrently(creates+1, func(i int) result {
				if i == creates/2 {
					applied, err := app.Fixtures().Apply(context.Background(), x.DB, f, true)
					return result{applied: applied, err: err}
				}
				login := k
				if i%2 == 0 {
					login = strings.ToLower(k)
				}
				return result{res: u.CreateWith(t, login)}
			})
			created := 0
			for i, got := range results {
				switch {
				case i == creates/2:
					if got.err != nil {
						t.Errorf("round %d: apply: %v", r, got.err)
						continue
					}
					if c := got.applied["xcart"]["profiles"]; c == nil || c.Created+c.Updated != 1 {
						t.Errorf("round %d: apply counted %v, want one profile", r, c)
					}
				case got.res.Status == http.StatusCreated:
					created++
				case !u.Taken(t, got.res):
					t.Errorf("round %d: create %d: %d %s; want 201 or the login taken", r, i, got.res.Status, got.res.Body)
				}
			}
			if n := u.Stored(t, strings.ToLower(k)); n != 1 {
				t.Errorf("round %d: %d profiles %s stored, want 1", r, n, k)
			}
			if created > 1 {
				t.Errorf("round %d: %d creates of %s succeeded, want at most one", r, created, k)
			}
			// The file was applied last or first: either way it holds, or a create's own.
			p := x.profiles(t)
			if p[k] == nil && p[strings.ToLower(k)] == nil {
				t.Errorf("round %d: %s not served by the API", r, k)
			}
		}
	})
}

func TestUsers(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		ctx := context.Background()
		mustApply(t, x.DB, seedDoc, true)
		x.create(t, map[string]any{"login": "api@example.com", "password": "api-password-1", "access_level": 100, "role_ids": []int{3}})
		users := xcart.Module.Users

		list, total, err := users.List(ctx, x.DB, 0, 10)
		if err != nil || total != 4 || len(list) != 4 {
			t.Fatalf("List(0, 10) = %d users, total %d, %v; want 4, 4", len(list), total, err)
		}
		page, total, err := users.List(ctx, x.DB, 1, 2)
		if err != nil || total != 4 || len(page) != 2 || page[0].ID != list[1].ID || page[1].ID != list[2].ID {
			t.Errorf("List(1, 2) = %v, total %d, %v; want users 2 and 3 of 4", page, total, err)
		}
		for i, u := range list {
			if i > 0 {
				prev, _ := strconv.Atoi(list[i-1].ID)
				if cur, _ := strconv.Atoi(u.ID); cur <= prev {
					t.Errorf("List: id %s after %s, want id order", u.ID, list[i-1].ID)
				}
			}
			res := x.call(t, "GET", "/api/profiles/"+u.ID, nil)
			if res.Status != http.StatusOK {
				t.Fatalf("GET profile %s: %d", u.ID, res.Status)
			}
			api := res.Map(t)
			want := module.User{
				ID: u.ID, Email: api["login"].(string), Login: api["login"].(string), Status: api["status"].(string),
				Extra: map[string]any{},
			}
			for k, v := range api {
				if !slices.Contains([]string{"id", "login", "status", "create_date"}, k) {
					want.Extra[k] = v
				}
			}
			got, err := users.Get(ctx, x.DB, u.ID)
			if err != nil {
				t.Fatalf("Get(%s): %v", u.ID, err)
			}
			if created := got.CreatedAt.Format("2006-01-02T15:04:05Z07:00"); created != api["create_date"] {
				t.Errorf("Get(%s).CreatedAt = %s, want the API's create_date %v", u.ID, created, api["create_date"])
			}
			if got.UpdatedAt != nil || got.FirstName != "" || got.LastName != "" {
				t.Errorf("Get(%s) = %+v: X-Cart keeps no names and no update date", u.ID, got)
			}
			if !jsonEqual(list[i], got) {
				t.Errorf("List's user %s = %s, Get's %s", u.ID, apitest.JSONText(list[i]), apitest.JSONText(got))
			}
			got.CreatedAt = want.CreatedAt
			if !jsonEqual(got, want) {
				t.Errorf("Get(%s) =\n%s\nwant (the API's profile)\n%s", u.ID, apitest.JSONText(got), apitest.JSONText(want))
			}
			hash := storedHash(t, x.DB, u.Login)
			text := apitest.JSONText(got)
			for _, secret := range []string{"correct-horse-battery", "api-password-1", `"password"`, "password_hash"} {
				if strings.Contains(text, secret) {
					t.Errorf("user %s shows %q: %s", u.ID, secret, text)
				}
			}
			if hash != "" && strings.Contains(text, hash) {
				t.Errorf("user %s shows its password hash", u.ID)
			}
		}
		for _, id := range []string{"999", "abc", "", "-1", "01", "+1", "1.0", "99999999999999999999"} {
			if _, err := users.Get(ctx, x.DB, id); !errors.Is(err, module.ErrNoUser) {
				t.Errorf("Get(%q) = %v, want ErrNoUser", id, err)
			}
		}
	})
}

// jsonEqual reports whether a and b are the same JSON, whatever Go types hold them (json.Number
// or float64).
func jsonEqual(a, b any) bool { return apitest.JSONText(a) == apitest.JSONText(b) }

func equalCounts(got, want map[string]module.Count) bool {
	for k, c := range got {
		if c != want[k] {
			return false
		}
	}
	for k, c := range want {
		if got[k] != c {
			return false
		}
	}
	return true
}

// TestSeedOverAnUncommittedCreate seeds, on PostgreSQL, a login that another transaction has
// inserted but not committed when the seed looks it up: the seed's insert waits for that
// transaction, finds the login taken once it commits, and then updates the profile (or leaves it,
// without overwrite), counting it as updated, not created. SQLite has one writer at a time, so
// nothing is ever uncommitted there while a seed runs.
func TestSeedOverAnUncommittedCreate(t *testing.T) {
	if !slices.Contains(apitest.Dialects(), "postgres") {
		t.Skip(apitest.EnvDatabaseURL + " is not set")
	}
	for _, overwrite := range []bool{true, false} {
		t.Run(fmt.Sprintf("overwrite %v", overwrite), func(t *testing.T) {
			x := start(t, "postgres")
			ctx := context.Background()
			other := x.DB.Begin()
			if err := xcart.NewStore(other).Create(ctx, &xcart.Profile{Login: "k@example.com", Status: "E"}); err != nil {
				t.Fatal(err)
			}
			var xid string
			if err := other.Raw("SELECT pg_current_xact_id()::xid::text").Scan(&xid).Error; err != nil {
				t.Fatal(err)
			}
			doc := "xcart:\n  profiles:\n    - {login: K@example.com, status: D}\n    - {login: fresh@example.com}\n"
			done := make(chan map[string]module.Count, 1)
			go func() {
				counts, err := apply(t, x.DB, doc, overwrite)
				if err != nil {
					t.Errorf("apply: %v", err)
				}
				done <- counts
			}()
			// Wait until the seed waits for the other transaction.
			for waiting := int64(0); waiting == 0; time.Sleep(time.Millisecond) {
				select {
				case counts := <-done:
					_ = other.Rollback()
					t.Fatalf("the seed ended (%v) without waiting for the uncommitted create", counts)
				default:
				}
				err := x.DB.Raw("SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'transactionid' AND transactionid::text = ?", xid).Scan(&waiting).Error
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := other.Commit().Error; err != nil {
				t.Fatal(err)
			}
			counts := <-done
			want := map[string]module.Count{"profiles": {Created: 1}}
			status := "E"
			if overwrite {
				want["profiles"] = module.Count{Created: 1, Updated: 1}
				status = "D"
			}
			if !equalCounts(counts, want) {
				t.Errorf("apply: %v, want %v", counts, want)
			}
			got := x.profiles(t)
			if len(got) != 2 {
				t.Errorf("profiles: %v, want k and fresh", got)
			}
			for login, p := range got {
				if strings.EqualFold(login, "k@example.com") && p["status"] != status {
					t.Errorf("%s status %v, want %s", login, p["status"], status)
				}
			}
		})
	}
}

// seed10k is a fixtures document of 10,000 profiles, each with a password_hash (a bcrypt hash of
// PHP's, imported as it is) and a membership and roles to check.
func seed10k() string {
	var b strings.Builder
	b.WriteString("xcart:\n  profiles:\n")
	for i := range 10_000 {
		level := 0
		if i%10 == 0 {
			level = 100
		}
		fmt.Fprintf(&b, "    - {login: seed%05d@example.com, password_hash: '%s', access_level: %d, membership_id: 1, role_ids: [1, 2], language: en}\n", i, phpHash, level)
	}
	return b.String()
}

// BenchmarkSeed10k measures parsing and applying a document of 10,000 profiles with a
// password_hash: "create" into an empty database, "update" over the same profiles already
// stored (with overwrite).
func BenchmarkSeed10k(b *testing.B) {
	doc := seed10k()
	for _, dialect := range apitest.Dialects() {
		b.Run(dialect+"/create", func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				x := apitest.Start(b, dialect, apitest.Options{})
				b.StartTimer()
				if counts := mustApply(b, x.DB, doc, true); counts["profiles"].Created != 10_000 {
					b.Fatalf("apply: %v, want 10000 profiles created", counts)
				}
			}
		})
		b.Run(dialect+"/update", func(b *testing.B) {
			x := apitest.Start(b, dialect, apitest.Options{})
			mustApply(b, x.DB, doc, true)
			for b.Loop() {
				if counts := mustApply(b, x.DB, doc, true); counts["profiles"].Updated != 10_000 {
					b.Fatalf("apply: %v, want 10000 profiles updated", counts)
				}
			}
		})
	}
}

func TestExampleFixtures(t *testing.T) {
	doc, err := os.ReadFile("testdata/fixtures.yaml")
	if err != nil {
		t.Fatal(err)
	}
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		counts := mustApply(t, x.DB, string(doc), true)
		want := map[string]module.Count{"memberships": {Created: 1}, "roles": {Created: 1}, "profiles": {Created: 3}}
		if !equalCounts(counts, want) {
			t.Errorf("apply testdata/fixtures.yaml: %v, want %v", counts, want)
		}
		for login, pw := range map[string]string{"admin@shop.example": "ci-admin-password", "imported@shop.example": "rasmuslerdorf"} {
			if res := logIn(t, x, login, pw); res.Status != http.StatusOK {
				t.Errorf("login %s: %d %s", login, res.Status, res.Body)
			}
		}
		if jane := x.profiles(t)["jane.doe@shop.example"]; jane["social_login_id"] != "1234567890" || jane["membership_id"] != 3.0 {
			t.Errorf("jane.doe@shop.example: %v", jane)
		}
	})
}
