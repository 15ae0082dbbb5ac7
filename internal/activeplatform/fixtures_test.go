package activeplatform_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/provisiond/provisiond/internal/activeplatform"
	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/config"
	"github.com/provisiond/provisiond/internal/fixtures"
	"github.com/provisiond/provisiond/internal/module"
	"github.com/provisiond/provisiond/internal/password"
)

// phpHash is PHP's documentation example of password_hash: the password rasmuslerdorf.
const phpHash = "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a"

// A valid argon2id PHC string (of no password in particular) and bcrypt hash.
const (
	someArgon  = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	someBcrypt = phpHash
)

func loader() *fixtures.Loader { return fixtures.New(module.List{activeplatform.Module}) }

func parse(t testing.TB, doc string) fixtures.File {
	t.Helper()
	f, err := loader().Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("parse:\n%s\n%v", doc, err)
	}
	return f
}

func apply(t testing.TB, x *ap, doc string, overwrite bool) module.Applied {
	t.Helper()
	applied, err := loader().Apply(context.Background(), x.DB, parse(t, doc), overwrite)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return applied["activeplatform"]
}

func counts(a module.Applied) map[string]module.Count {
	out := map[string]module.Count{}
	for k, c := range a {
		out[k] = *c
	}
	return out
}

func TestFixtureUsersRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		doc  string
		want []string
	}{
		{"missing fields", `users: [{middle_name: X}]`, []string{
			"users[0].email: is missing",
			"users[0].first_name: is missing",
			"users[0].last_name: is missing",
			"users[0].password: is missing",
		}},
		{"a password_hash stands for the password", `users: [{email: a@example.com, first_name: A, last_name: B, password_hash: "` + someArgon + `"}]`, nil},
		{"empty names are accepted, as by the API", `users: [{email: a@example.com, first_name: "", last_name: "", password: secret123}]`, nil},
		{"invalid email", `users: [{email: not-an-email, first_name: A, last_name: B, password: secret123}]`, []string{
			"users[0].email: is not a valid email address",
		}},
		{"weak password", `users: [{email: a@example.com, first_name: A, last_name: B, password: short}]`, []string{
			"users[0].password: is too weak: at least 8 characters, a letter, a digit",
		}},
		{"U+0000", "users: [{email: \"a\\0@example.com\", first_name: \"A\\0\", last_name: B, password: \"secret123\\0\"}]", []string{
			"users[0].email: is not a valid email address",
			"users[0].first_name: is invalid",
			"users[0].password: is invalid",
		}},
		{"U+0000 in reference data", "custom_attributes: [{key: \"a\\0\", name: A, type: string}]\naccounts: [{id: 1, name: \"B\\0\"}]", []string{
			"custom_attributes[0]: no text can hold U+0000",
			"accounts[0]: no text can hold U+0000",
		}},
		{"password and hash", `users: [{email: a@example.com, first_name: A, last_name: B, password: secret123, password_hash: "` + someArgon + `"}]`, []string{
			"users[0].password_hash: give password or password_hash, not both",
		}},
		{"not a hash", `users: [{email: a@example.com, first_name: A, last_name: B, password_hash: secret123}]`, []string{
			"users[0].password_hash: not an argon2id PHC string or a bcrypt hash ($2a$, $2b$, $2y$): password hash: not an argon2id PHC string",
		}},
		{"unknown status", `users: [{email: a@example.com, first_name: A, last_name: B, password: secret123, status: banned}]`, []string{
			`users[0].status: value is not one of the allowed values ["active","inactive"]`,
		}},
		{"accounts", `accounts:
  - {id: 7, name: Acme}
  - {id: 7, name: Again, status: closed}
  - {name: ""}
  - {id: 9, name: Fine, status: inactive}`, []string{
			"accounts[1]: an id (a positive integer, listed once) is required",
			"accounts[1]: status must be active or inactive",
			"accounts[2]: an id (a positive integer, listed once) is required",
			"accounts[2]: a name is required",
		}},
		{"duplicate email in another letter case", `users:
  - {email: a@example.com, first_name: A, last_name: B, password: secret123}
  - {email: b@example.com, first_name: A, last_name: B, password: secret123}
  - {email: A@Example.COM, first_name: A, last_name: B, password: secret123}`, []string{
			"users[2].email: A@Example.COM is listed twice (also users[0]; emails are compared in any letter case)",
		}},
		{"custom attributes defined in the document", `custom_attributes:
  - {key: vip, name: VIP, type: boolean}
  - {key: rank, name: Rank, type: integer}
users:
  - email: a@example.com
    first_name: A
    last_name: B
    password: secret123
    custom_attributes:
      - {key: vip, value: yes}
      - {key: rank, value: 12a}
      - {key: rank, value: 12}
      - {key: vip}
      - {value: x}`, []string{
			`users[0].custom_attributes[0].value: "yes" is invalid: vip is a boolean attribute (true or false)`,
			`users[0].custom_attributes[1].value: "12a" is invalid: rank is an integer attribute (digits)`,
			"users[0].custom_attributes[3].value: is missing",
			"users[0].custom_attributes[4].key: is missing",
		}},
		{"every problem of every entry", `users:
  - {email: ok@example.com, first_name: A, last_name: B, password: secret123}
  - {email: bad, last_name: B, password: x}
  - {first_name: A, last_name: B, password_hash: "$2y$10$short", status: gone}`, []string{
			"users[1].email: is not a valid email address",
			"users[1].first_name: is missing",
			"users[1].password: is too weak: at least 8 characters, a letter, a digit",
			"users[2].email: is missing",
			"users[2].password_hash: not a valid bcrypt hash: crypto/bcrypt: hashedSecret too short to be a bcrypted password",
			`users[2].status: value is not one of the allowed values ["active","inactive"]`,
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := loader().Parse(strings.NewReader("activeplatform:\n" + indent(c.doc)))
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			var want []string
			for _, w := range c.want {
				want = append(want, "fixtures: activeplatform."+w)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			for _, e := range apperr.All(err) {
				if e.Kind != apperr.KindInvalid {
					t.Errorf("%v: kind %v, want invalid", e, e.Kind)
				}
			}
		})
	}
}

func indent(doc string) string {
	lines := strings.Split(doc, "\n")
	for i, l := range lines {
		lines[i] = "  " + l
	}
	return strings.Join(lines, "\n") + "\n"
}

// Custom attributes the document does not define are checked against the definitions stored,
// when the file is applied: a file with one such problem is refused whole.
func TestFixtureUsersRefusedByStoredDefinitions(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect, nil)
		doc := `activeplatform:
  custom_attributes: [{key: team, name: Team, type: string}]
  users:
    - {email: fine@example.com, first_name: A, last_name: B, password: secret123, custom_attributes: [{key: team, value: red}]}
    - email: bad@example.com
      first_name: A
      last_name: B
      password: secret123
      custom_attributes: [{key: age, value: old}, {key: nickname, value: Bob}]
`
		_, err := loader().Apply(context.Background(), x.DB, parse(t, doc), true)
		want := `fixtures: activeplatform.users[1].custom_attributes[0].value: "old" is invalid: age is an integer attribute (digits)
fixtures: activeplatform.users[1].custom_attributes[1].key: "nickname" is not a defined custom attribute`
		if err == nil || err.Error() != want {
			t.Fatalf("apply: %v\nwant: %s", err, want)
		}
		if !apperr.Has(err, apperr.KindInvalid) || apperr.Has(err, apperr.KindInternal) {
			t.Errorf("%v: not classified as invalid", err)
		}
		if res := x.call(t, "GET", "/api/vendor/v1/users", nil); string(res.Body) != "[]\n" {
			t.Errorf("users after a refused file: %s", res.Body)
		}
		defs, err := activeplatform.NewStore(x.DB).Definitions(context.Background())
		if _, ok := defs["team"]; ok || err != nil {
			t.Errorf("the refused file's definition was stored (%v)", err)
		}
	})
}

const seedDoc = `activeplatform:
  custom_attributes:
    - {key: age, name: Age, type: integer}
    - {key: department, name: Department, type: string}
  accounts:
    - {id: 7, name: Acme}
  users:
    - email: ann@example.com
      first_name: Ann
      middle_name: Q
      last_name: Archer
      password: ann-secret-1
      custom_attributes: [{key: age, value: 41}, {key: department, value: Sales}]
    - {email: Bob@Example.com, first_name: Bob, last_name: Baker, password_hash: "%s", status: inactive}
    - {email: cy@example.com, first_name: Cy, last_name: Cole, password_hash: "%s"}
    - {email: ZED@example.com, first_name: Zed, last_name: Seeded, password: zed-secret-1}
`

func TestSeedUsers(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect, nil)
		// Created through the API first: the file's ZED@example.com is this user, in another
		// letter case, and takes the file's values.
		pre := x.call(t, "POST", "/api/vendor/v1/users", john("zed@Example.com"))
		if pre.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", pre.Status, pre.Body)
		}
		preID := pre.Map(t)["id"]
		bc, err := bcrypt.GenerateFromPassword([]byte("bob-secret-1"), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		doc := fmt.Sprintf(seedDoc, bc, phpHash)

		got := counts(apply(t, x, doc, true))
		want := map[string]module.Count{"custom_attributes": {Created: 1, Updated: 1}, "accounts": {Created: 1}, "users": {Created: 3, Updated: 1}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("first apply: %v, want %v", got, want)
		}

		// Every user attached to the active account: active, but Bob, deactivated globally.
		list := x.call(t, "GET", "/api/vendor/v1/users", nil)
		var attach []map[string]any
		list.JSON(t, &attach)
		for _, u := range attach {
			if res := x.call(t, "POST", fmt.Sprintf("/api/v2/vendor/account_accesses.json?account_id=7&user_id=%v", u["id"]), nil); res.Status != http.StatusCreated {
				t.Fatalf("attach %v: %d %s", u["email"], res.Status, res.Body)
			}
		}
		list = x.call(t, "GET", "/api/vendor/v1/users", nil)
		var users []map[string]any
		list.JSON(t, &users)
		var brief []string
		for _, u := range users {
			brief = append(brief, fmt.Sprintf("%v %v %v %v %v %v %v", u["email"], u["first_name"], u["middle_name"], u["last_name"], u["status"], u["custom_attributes"], u["created_at"] != nil))
		}
		wantBrief := []string{
			"ZED@example.com Zed  Seeded active [] true",
			"ann@example.com Ann Q Archer active [map[name:Age value:41] map[name:Department value:Sales]] true",
			"Bob@Example.com Bob  Baker inactive [] true",
			"cy@example.com Cy  Cole active [] true",
		}
		if !reflect.DeepEqual(brief, wantBrief) {
			t.Errorf("users:\n%s\nwant:\n%s", strings.Join(brief, "\n"), strings.Join(wantBrief, "\n"))
		}
		if users[0]["id"] != preID {
			t.Errorf("the user created through the API got id %v, was %v", users[0]["id"], preID)
		}
		one := x.call(t, "GET", fmt.Sprintf("/api/vendor/v1/users/%v.json", users[1]["id"]), nil)
		if one.Status != http.StatusOK || one.Map(t)["email"] != "ann@example.com" {
			t.Errorf("get: %d %s", one.Status, one.Body)
		}
		inactive := x.call(t, "GET", "/api/vendor/v1/users?filters[status]=inactive", nil)
		if strings.Count(string(inactive.Body), `"id"`) != 1 || !strings.Contains(string(inactive.Body), "Bob@Example.com") {
			t.Errorf("inactive users: %s", inactive.Body)
		}
		// A seeded email is taken, in any letter case, for the API.
		if res := x.call(t, "POST", "/api/vendor/v1/users", john("BOB@example.com")); res.Status != http.StatusUnprocessableEntity {
			t.Errorf("create of a seeded email: %d %s", res.Status, res.Body)
		}

		// The same file again creates nothing.
		got = counts(apply(t, x, doc, true))
		want = map[string]module.Count{"custom_attributes": {Updated: 2}, "accounts": {Updated: 1}, "users": {Updated: 4}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("second apply: %v, want %v", got, want)
		}
		again := x.call(t, "GET", "/api/vendor/v1/users", nil)
		var after []map[string]any
		again.JSON(t, &after)
		if len(after) != 4 {
			t.Fatalf("after the second apply: %s", again.Body)
		}
		for i := range after {
			if after[i]["id"] != users[i]["id"] || after[i]["created_at"] != users[i]["created_at"] {
				t.Errorf("user %d changed id or creation: %v → %v", i, users[i], after[i])
			}
		}

		// Without overwrite, users that exist are left alone and not counted; new ones are created.
		changed := strings.Replace(doc, "first_name: Cy,", "first_name: Cyril,", 1) +
			"    - {email: dee@example.com, first_name: Dee, last_name: Dunn, password: dee-secret-1}\n"
		got = counts(apply(t, x, changed, false))
		want = map[string]module.Count{"users": {Created: 1}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("apply without overwrite: %v, want %v", got, want)
		}
		res := x.call(t, "GET", "/api/vendor/v1/users?filters[email]=cy@", nil)
		if !strings.Contains(string(res.Body), `"first_name":"Cy"`) {
			t.Errorf("without overwrite, a user that exists changed: %s", res.Body)
		}
	})
}

// ActivePlatform's API has no password login (its requests carry a manager's api_token), so no
// login re-hashes an imported bcrypt hash: it is stored as given, and verifies with its password.
func TestSeededPasswordHashes(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect, nil)
		ctx := context.Background()
		hasher := password.New(password.OWASP, 1)
		argon, err := hasher.Hash(ctx, "argon-secret-1")
		if err != nil {
			t.Fatal(err)
		}
		bc, err := bcrypt.GenerateFromPassword([]byte("bcrypt-secret-1"), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		apply(t, x, fmt.Sprintf(`activeplatform:
  users:
    - {email: argon@example.com, first_name: A, last_name: A, password_hash: "%s"}
    - {email: bcrypt@example.com, first_name: B, last_name: B, password_hash: "%s"}
    - {email: php@example.com, first_name: P, last_name: P, password_hash: "%s"}
    - {email: plain@example.com, first_name: C, last_name: C, password: plain-secret-1}
`, argon, bc, phpHash), true)
		for email, c := range map[string]struct{ pw, hash string }{
			"argon@example.com":  {"argon-secret-1", argon},
			"bcrypt@example.com": {"bcrypt-secret-1", string(bc)},
			"php@example.com":    {"rasmuslerdorf", phpHash},
			"plain@example.com":  {"plain-secret-1", ""},
		} {
			stored := storedHash(t, x, email)
			if c.hash != "" && stored != c.hash {
				t.Errorf("%s: stored %q, want the imported %q", email, stored, c.hash)
			}
			if c.hash == "" && !strings.HasPrefix(stored, "$argon2id$") {
				t.Errorf("%s: stored %q, want an argon2id hash", email, stored)
			}
			if ok, err := hasher.Check(ctx, c.pw, stored); !ok || err != nil {
				t.Errorf("%s: the password does not verify against the stored hash (%v)", email, err)
			}
		}
	})
}

func storedHash(t testing.TB, x *ap, email string) string {
	t.Helper()
	var hash string
	if err := x.DB.Table("activeplatform_users").Where("email_key = ?", strings.ToLower(email)).Pluck("password_hash", &hash).Error; err != nil {
		t.Fatal(err)
	}
	return hash
}

// Applying a file that seeds K while the API creates K, in two letter cases: one user K, with the
// file's values, the file applies, and every create answers 201 (at most one) or the API's
// "taken". The file starts with the creates, or once the first create has answered (the creates
// hash their passwords first, so a file that starts with them is usually first).
func TestSeedRacesCreates(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		for _, late := range []bool{false, true} {
			t.Run(fmt.Sprint("after_first_create=", late), func(t *testing.T) {
				// No create gives up waiting for a hashing slot behind the others (503).
				x := start(t, dialect, func(c *config.Config) { c.PasswordQueueTimeout = 0 })
				f := parse(t, `activeplatform:
  users:
    - {email: kay@race.example, first_name: Seeded, last_name: Kay, password_hash: "`+phpHash+`"}
`)
				const creates = 20
				var wg sync.WaitGroup
				statuses := make([]*apitest.Response, creates)
				start, answered := make(chan struct{}), make(chan struct{}, creates)
				var applyErr error
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					if late {
						<-answered
					}
					_, applyErr = loader().Apply(context.Background(), x.DB, f, true)
				}()
				for i := range creates {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						email := "kay@race.example"
						if i%2 == 1 {
							email = "Kay@Race.Example"
						}
						statuses[i] = x.call(t, "POST", "/api/vendor/v1/users", john(email))
						answered <- struct{}{}
					}()
				}
				close(start)
				wg.Wait()
				if applyErr != nil {
					t.Fatalf("apply: %v", applyErr)
				}
				won := 0
				for i, res := range statuses {
					if res.Status == http.StatusCreated {
						won++
					}
					if res.Status != http.StatusCreated && (res.Status != http.StatusUnprocessableEntity || errorOf(t, res) != "Email has already been taken") {
						t.Errorf("create %d: %d %s", i, res.Status, res.Body)
					}
				}
				t.Logf("%d of %d creates answered 201", won, creates)
				if won > 1 || (late && won != 1) {
					t.Errorf("%d creates of one email answered 201", won)
				}
				list := x.call(t, "GET", "/api/vendor/v1/users?filters[email]=kay@race", nil)
				var users []map[string]any
				list.JSON(t, &users)
				if len(users) != 1 || users[0]["first_name"] != "Seeded" {
					t.Errorf("users K: %s", list.Body)
				}
			})
		}
	})
}

func TestUsersInspection(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect, nil)
		ctx := context.Background()
		apply(t, x, fmt.Sprintf(seedDoc, phpHash, someArgon), true)
		created := x.call(t, "POST", "/api/vendor/v1/users", john("api.user@example.com"))
		if created.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", created.Status, created.Body)
		}
		users := activeplatform.Module.Users
		all, total, err := users.List(ctx, x.DB, 0, 100)
		if err != nil || total != 5 || len(all) != 5 {
			t.Fatalf("List: %d of %d, %v", len(all), total, err)
		}
		var api []map[string]any
		x.call(t, "GET", "/api/vendor/v1/users", nil).JSON(t, &api)
		for i, u := range all {
			a := api[i]
			got := map[string]any{
				"id": u.ID, "email": u.Email, "first_name": u.FirstName, "last_name": u.LastName, "status": u.Status,
				"middle_name": u.Extra["middle_name"], "custom_attributes": u.Extra["custom_attributes"],
				"created_at": u.CreatedAt.Format(activeplatform.TimeLayout), "updated_at": u.UpdatedAt.Format(activeplatform.TimeLayout),
			}
			var norm map[string]any
			b, _ := json.Marshal(got)
			_ = json.Unmarshal(b, &norm)
			a["id"] = fmt.Sprint(a["id"])
			if !reflect.DeepEqual(norm, a) {
				t.Errorf("user %d:\n%v\nthe API shows\n%v", i, norm, a)
			}
			if u.Login != "" {
				t.Errorf("user %d: login %q, want none", i, u.Login)
			}
			one, err := users.Get(ctx, x.DB, u.ID)
			if err != nil || !reflect.DeepEqual(one, u) {
				t.Errorf("Get(%s) = %v, %v; want %v", u.ID, one, err, u)
			}
			js, _ := json.Marshal(u)
			for _, secret := range []string{storedHash(t, x, u.Email), "ann-secret-1", "zed-secret-1", "N;T@o;y!4TNqlV", "$argon2id$", "$2y$", "password"} {
				if strings.Contains(string(js), secret) {
					t.Errorf("user %d shows %q: %s", i, secret, js)
				}
			}
		}
		if api[4]["email"] != "api.user@example.com" {
			t.Errorf("the user created through the API is not last: %v", api[4])
		}
		page, total, err := users.List(ctx, x.DB, 1, 2)
		if err != nil || total != 5 || len(page) != 2 || page[0].ID != all[1].ID || page[1].ID != all[2].ID {
			t.Errorf("List(1, 2) = %v, %d, %v", page, total, err)
		}
		if page, total, err := users.List(ctx, x.DB, 5, 2); err != nil || total != 5 || len(page) != 0 {
			t.Errorf("List(5, 2) = %v, %d, %v", page, total, err)
		}
		for _, id := range []string{"999", "abc", "0", "-1", "+1", "01", "", "1.0", "99999999999999999999"} {
			if _, err := users.Get(ctx, x.DB, id); !errors.Is(err, module.ErrNoUser) {
				t.Errorf("Get(%q): %v, want ErrNoUser", id, err)
			}
		}
	})
}

// BenchmarkSeed10k applies one file of 10,000 users with password_hash (parsing and checking
// included) to an empty database, on every dialect, and logs how long the same file takes again
// (10,000 updates): go test -run '^$' -bench Seed10k -benchtime 1x.
func BenchmarkSeed10k(b *testing.B) {
	bc, err := bcrypt.GenerateFromPassword([]byte("bench-secret-1"), bcrypt.MinCost)
	if err != nil {
		b.Fatal(err)
	}
	var doc strings.Builder
	doc.WriteString("activeplatform:\n  users:\n")
	for i := range 10000 {
		fmt.Fprintf(&doc, "    - {email: user%05d@bench.example, first_name: User, last_name: N%d, password_hash: \"%s\", custom_attributes: [{key: age, value: %d}]}\n", i, i, bc, i%90)
	}
	seed := func(b *testing.B, x *ap) module.Count {
		f, err := loader().Parse(strings.NewReader(doc.String()))
		if err != nil {
			b.Fatal(err)
		}
		applied, err := loader().Apply(context.Background(), x.DB, f, true)
		if err != nil {
			b.Fatal(err)
		}
		return *applied["activeplatform"]["users"]
	}
	for _, dialect := range apitest.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				x := &ap{Server: apitest.Start(b, dialect, apitest.Options{})}
				b.StartTimer()
				began := time.Now()
				created := seed(b, x)
				b.StopTimer()
				first := time.Since(began)
				began = time.Now()
				updated := seed(b, x)
				b.Logf("%s: create %v in %v; again: %v in %v", dialect, created, first.Round(time.Millisecond), updated, time.Since(began).Round(time.Millisecond))
				b.StartTimer()
			}
		})
	}
}

// On PostgreSQL, API requests do not wait for the start-up lock: a user the API creates after the
// file looked its users up, and commits while the file's INSERT waits on it, is updated by the
// file (or left alone, without overwrite), and counted so.
func TestSeedAfterConcurrentCreate(t *testing.T) {
	if !slices.Contains(apitest.Dialects(), "postgres") {
		t.Skip("PostgreSQL only: on SQLite the file's transaction holds the write lock from its start")
	}
	for _, overwrite := range []bool{true, false} {
		t.Run(fmt.Sprint("overwrite=", overwrite), func(t *testing.T) {
			x := start(t, "postgres", nil)
			ctx := context.Background()
			other := x.DB.Begin()
			if err := other.Exec(`INSERT INTO activeplatform_users (email, email_key, first_name, middle_name, last_name, password_hash, status, attributes, created_at, updated_at)
				VALUES ('Kay@Example.com', 'kay@example.com', 'Api', '', 'Kay', '', 'active', '[]', now(), now())`).Error; err != nil {
				t.Fatal(err)
			}
			f := parse(t, `activeplatform:
  users:
    - {email: kay@example.com, first_name: Seeded, last_name: Kay, password_hash: "`+phpHash+`"}
    - {email: new@example.com, first_name: New, last_name: One, password_hash: "`+phpHash+`"}
`)
			done := make(chan error, 1)
			var applied fixtures.Applied
			go func() {
				var err error
				applied, err = loader().Apply(ctx, x.DB, f, overwrite)
				done <- err
			}()
			// Commit the other insert once the file's INSERT waits for it.
			deadline := time.Now().Add(10 * time.Second)
			for {
				var waiting int64
				if err := x.DB.Raw(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO "activeplatform_users"%'`).Scan(&waiting).Error; err != nil {
					t.Fatal(err)
				}
				if waiting > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the file's INSERT never waited for the other transaction")
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := other.Commit().Error; err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatalf("apply: %v", err)
			}
			want := map[string]module.Count{"users": {Created: 1, Updated: 1}}
			first := "Seeded"
			if !overwrite {
				want, first = map[string]module.Count{"users": {Created: 1}}, "Api"
			}
			if got := counts(applied["activeplatform"]); !reflect.DeepEqual(got, want) {
				t.Errorf("applied %v, want %v", got, want)
			}
			var users []map[string]any
			x.call(t, "GET", "/api/vendor/v1/users", nil).JSON(t, &users)
			if len(users) != 2 || users[0]["first_name"] != first || users[1]["email"] != "new@example.com" {
				t.Errorf("users: %v", users)
			}
		})
	}
}
