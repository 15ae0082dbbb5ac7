package occstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/fixtures"
	"github.com/provisiond/provisiond/internal/module"
	"github.com/provisiond/provisiond/internal/occstore"
	"github.com/provisiond/provisiond/internal/password"
)

// phpHash is PHP's documented password_hash example: the password rasmuslerdorf, bcrypt $2y$.
const phpHash = "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a"

func parse(doc string) (fixtures.File, error) {
	return fixtures.New(module.List{occstore.Module}).Parse(strings.NewReader(doc))
}

// apply parses doc and applies it to db.
func apply(t testing.TB, db *gorm.DB, doc string, overwrite bool) fixtures.Applied {
	t.Helper()
	f, err := parse(doc)
	if err != nil {
		t.Fatalf("parse fixtures: %v\n%s", err, doc)
	}
	applied, err := fixtures.New(module.List{occstore.Module}).Apply(context.Background(), db, f, overwrite)
	if err != nil {
		t.Fatalf("apply fixtures: %v", err)
	}
	return applied
}

// counts renders what applying created and updated: "members 1+2 organizations 0+1".
func counts(a fixtures.Applied) string {
	var out []string
	for _, kind := range []string{"members", "organizations"} {
		if c := a[occstore.Name][kind]; c != nil {
			out = append(out, fmt.Sprintf("%s %d+%d", kind, c.Created, c.Updated))
		}
	}
	return strings.Join(out, " ")
}

func bcryptHash(t testing.TB, pw string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func argon2Hash(t testing.TB, pw string) string {
	t.Helper()
	h, err := password.New(password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1).Hash(context.Background(), pw)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// storedHash is the password hash stored for email.
func storedHash(t testing.TB, db *gorm.DB, email string) string {
	t.Helper()
	var hash string
	if err := db.Table("occstore_members").Where("email_key = ?", strings.ToLower(email)).Select("password_hash").Scan(&hash).Error; err != nil {
		t.Fatalf("read the hash of %s: %v", email, err)
	}
	return hash
}

func TestFixturesRefused(t *testing.T) {
	org := "occstore:\n  organizations:\n    - id: or-a\n      name: A\n"
	m := func(list string, entries ...string) string {
		return "      " + list + ":\n        - " + strings.Join(entries, "\n        - ") + "\n"
	}
	long := strings.Repeat("x", 36)
	cases := []struct {
		name string
		doc  string
		want []string
	}{
		{"every problem of one member at once, by field",
			org + m("members", `{email: not-an-email, receiveEmail: maybe, roles: [owner, {function: admin}], password: short, id: "1", Firstname: X, locale: `+long+`}`),
			[]string{
				"organizations[0].members[0].Firstname: not a field of a member entry (did you mean firstName?)",
				"organizations[0].members[0].email: The email is not a valid email address.",
				"organizations[0].members[0].firstName: The value of firstName is missing.",
				"organizations[0].members[0].id: id cannot be set.",
				"organizations[0].members[0].lastName: The value of lastName is missing.",
				"organizations[0].members[0].locale: The value of locale is invalid.",
				"organizations[0].members[0].password: must be at least 8 characters long",
				"organizations[0].members[0].receiveEmail: The value of receiveEmail is invalid.",
				"organizations[0].members[0].roles[0].function: The value of roles[0].function is invalid.",
			}},
		{"email missing, no password",
			org + m("admins", `{firstName: A, lastName: B}`),
			[]string{
				"organizations[0].admins[0].email: The email is missing or empty.",
				"organizations[0].admins[0].password: is required (or password_hash, pre-hashed)",
			}},
		{"email empty, a name too long, U+0000 in a name",
			org + m("members", `{email: "", firstName: "A\0B", lastName: `+strings.Repeat("l", 256)+`, password: long-enough}`),
			[]string{
				"organizations[0].members[0].email: The email is missing or empty.",
				"organizations[0].members[0].firstName: The value of firstName is invalid.",
				"organizations[0].members[0].lastName: The value of lastName is invalid.",
			}},
		{"password and password_hash",
			org + m("members", `{email: a@a.example, firstName: A, lastName: B, password: long-enough, password_hash: "`+phpHash+`"}`),
			[]string{"organizations[0].members[0]: give password or password_hash, not both"}},
		{"password_hash neither argon2id nor bcrypt, or a broken bcrypt",
			org + m("members",
				`{email: a@a.example, firstName: A, lastName: B, password_hash: plain-text}`,
				`{email: b@a.example, firstName: A, lastName: B, password_hash: "$2y$10$short"}`,
				`{email: c@a.example, firstName: A, lastName: B, password_hash: "$argon2id$v=19$m=64,t=1,p=1$$"}`),
			[]string{
				"organizations[0].members[0].password_hash: not an argon2id PHC string or a bcrypt hash ($2a$, $2b$, $2y$): password hash: not an argon2id PHC string",
				"organizations[0].members[1].password_hash: not a valid bcrypt hash: crypto/bcrypt: hashedSecret too short to be a bcrypted password",
				"organizations[0].members[2].password_hash: not an argon2id PHC string or a bcrypt hash ($2a$, $2b$, $2y$): password hash: empty salt or key",
			}},
		{"dynamic properties: reserved names, a typo of a field, a number JSON has not",
			org + m("members", `{email: a@a.example, firstName: A, lastName: B, password: long-enough, repositoryId: "7", parentOrganization: x, Password_Hash: y, Score: .inf}`),
			[]string{
				"organizations[0].members[0].Password_Hash: not a field of a member entry (did you mean password_hash?)",
				"organizations[0].members[0].Score: line 6: .inf is not a JSON number",
				"organizations[0].members[0].parentOrganization: parentOrganization cannot be set.",
				"organizations[0].members[0].repositoryId: repositoryId cannot be set.",
			}},
		{"one email twice in an organization, in any letter case; an organization twice; no id or name",
			org + m("admins", `{email: ada@a.example, firstName: A, lastName: B, password: long-enough}`) +
				m("members", `{email: ADA@a.example, firstName: A, lastName: B, password: long-enough}`) +
				"    - {id: or-a, name: Again}\n    - {name: ''}\n",
			[]string{
				"organizations[0].members[0].email: ADA@a.example is listed twice in organizations[0] (also admins[0])",
				"organizations[1].id: or-a is also the id of organizations[0]",
				"organizations[2].id: is required",
				"organizations[2].name: is required",
			}},
		{"every entry's problems, across organizations",
			org + m("members", `{email: a@a.example, firstName: A, lastName: B, password: long-enough, receiveEmail: "true"}`) +
				"    - id: or-b\n      name: B\n" + m("admins", `{email: b@b.example, firstName: A, lastName: B, password: x}`),
			[]string{
				"organizations[0].members[0].receiveEmail: The value of receiveEmail is invalid.",
				"organizations[1].admins[0].password: must be at least 8 characters long",
			}},
		{"a role with another key",
			org + m("members", `{email: a@a.example, firstName: A, lastName: B, password: long-enough, roles: [{function: admin, scope: all}]}`),
			[]string{"fixtures: line 6: field scope not found in a role (known: function)"}},
		{"active not a boolean",
			org + m("members", `{email: a@a.example, firstName: A, lastName: B, password: long-enough, active: maybe}`),
			[]string{"fixtures: yaml: unmarshal errors:", "  line 6: cannot unmarshal !!str `maybe` into bool"}},
	}
	for _, c := range cases {
		_, err := parse(c.doc)
		var got []string
		if err != nil {
			got = strings.Split(err.Error(), "\n")
		}
		want := c.want
		if !strings.HasPrefix(want[0], "fixtures: ") {
			want = make([]string, len(c.want))
			for i, w := range c.want {
				want[i] = "fixtures: occstore." + w
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\n%s\ngot:\n%s\nwant:\n%s", c.name, c.doc, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// TestFixturesAccepted checks the forms a member entry may take: the test fixtures' (names,
// password, roles by name) and a create member body pasted with a password_hash.
func TestFixturesAccepted(t *testing.T) {
	b, err := os.ReadFile("testdata/fixtures.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range []string{string(b), seedDoc(argon2Hash(t, "leota-password"))} {
		if _, err := parse(doc); err != nil {
			t.Errorf("%s: %v", doc, err)
		}
	}
}

// seedDoc has two organizations: Seed, with an administrator (a password in clear, a locale),
// Leota (a create member body pasted, with a password_hash) and an inactive member; and Other,
// which Leota belongs to as well.
func seedDoc(leotaHash string) string {
	return `
occstore:
  organizations:
    - id: or-seed
      name: Seed
      admins:
        - {email: Sam@Seed.example, firstName: Sam, lastName: Admin, password: sam-password, locale: de}
      members:
        - firstName: Leota
          lastName: Dilliard
          roles:
            - function: admin
            - function: buyer
          active: true
          receiveEmail: 'yes'
          email: leota@seed.example
          Age: 30
          Nickname: Leota
          Born: 1990-05-01
          Big: 12345678901234567890
          Tags: [a, 1.50, null]
          password_hash: '` + leotaHash + `'
        - {email: off@seed.example, firstName: Off, lastName: Line, active: false, receiveEmail: yes, password: off-password}
    - id: or-other
      name: Other
      members:
        - {email: LEOTA@seed.example, firstName: Leota, lastName: Dilliard, password_hash: '` + leotaHash + `', roles: [buyer]}
`
}

func TestFixturesSeedMembers(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := &st{Server: apitest.Start(t, dialect, apitest.Options{})}
		doc := seedDoc(argon2Hash(t, "leota-password"))
		if got, want := counts(apply(t, x.DB, doc, true)), "members 3+0 organizations 2+0"; got != want {
			t.Errorf("first apply: %s, want %s", got, want)
		}
		sam := x.login(t, "sam@seed.example", "sam-password")
		list := func() []byte {
			t.Helper()
			res := x.as(t, sam, "GET", "/ccstore/v1/organizationMembers", nil)
			if res.Status != http.StatusOK {
				t.Fatalf("list: %d %s", res.Status, res.Body)
			}
			return res.Body
		}
		before := list()
		var page struct{ Items []map[string]json.RawMessage }
		if err := json.Unmarshal(before, &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 3 {
			t.Fatalf("or-seed lists %d members, want 3: %s", len(page.Items), before)
		}
		want := []map[string]string{
			{"email": `"Sam@Seed.example"`, "locale": `"de"`, "roles": `[{"function":"admin"}]`, "receiveEmail": `"no"`, "active": "true"},
			{"email": `"LEOTA@seed.example"`, "locale": "null", "roles": `[{"function":"admin"},{"function":"buyer"}]`, "receiveEmail": `"yes"`,
				"Age": "30", "Nickname": `"Leota"`, "Born": `"1990-05-01"`, "Big": "12345678901234567890", "Tags": `["a",1.50,null]`,
				"parentOrganization": `{"id":"or-seed","name":"Seed"}`},
			{"email": `"off@seed.example"`, "active": "false", "roles": "[]", "receiveEmail": `"yes"`},
		}
		for i, w := range want {
			for k, v := range w {
				if got := string(page.Items[i][k]); got != v {
					t.Errorf("member %d: %s = %s, want %s", i, k, got, v)
				}
			}
		}
		if res := x.loginRes(t, "grant_type=password&username=off@seed.example&password=off-password"); res.Status != http.StatusUnauthorized {
			t.Errorf("login of an inactive seeded member: %d, want 401", res.Status)
		}
		leota := x.login(t, "Leota@seed.example", "leota-password")
		// Roles are per organization: Leota administers or-seed, and is a buyer of or-other.
		if other := x.as(t, leota, "GET", "/ccstore/v1/organizationMembers", nil, "X-CCOrganization", "or-other"); other.Status != http.StatusForbidden {
			t.Errorf("Leota, a buyer of or-other, lists it: %d %s, want 403", other.Status, other.Body)
		}
		if cur := x.as(t, leota, "GET", "/ccstore/v1/profiles/current", nil, "X-CCOrganization", "or-other"); fmt.Sprint(cur.Map(t)["roles"]) != "[map[function:buyer]]" {
			t.Errorf("Leota's current profile in or-other: %s, want the buyer role alone", cur.Body)
		}

		// Applied again: everything is updated, nothing created, and the API shows the same.
		if got, want := counts(apply(t, x.DB, doc, true)), "members 0+3 organizations 0+2"; got != want {
			t.Errorf("second apply: %s, want %s", got, want)
		}
		if after := list(); string(after) != string(before) {
			t.Errorf("after the second apply the list is\n%s\nwant\n%s", after, before)
		}

		// A member deactivated through the API: the file's active: true applies again; a member
		// whose entry leaves active out stays as the API left it.
		ids := map[string]string{}
		for _, it := range page.Items {
			var email, id string
			_ = json.Unmarshal(it["email"], &email)
			_ = json.Unmarshal(it["id"], &id)
			ids[strings.ToLower(email)] = id
		}
		// (Another administrator first, so that deactivating both leaves one.)
		spare := member("spare@seed.example")
		spare["roles"] = []map[string]string{{"function": "admin"}}
		if res := x.as(t, sam, "POST", "/ccstore/v1/organizationMembers", spare); res.Status != http.StatusOK {
			t.Fatalf("create another administrator: %d %s", res.Status, res.Body)
		}
		for _, email := range []string{"leota@seed.example", "sam@seed.example"} {
			if res := x.as(t, sam, "PUT", "/ccstore/v1/organizationMembers/"+ids[email], map[string]any{"active": false, "Nickname": "Off"}); res.Status != http.StatusOK {
				t.Fatalf("deactivate %s: %d %s", email, res.Status, res.Body)
			}
		}
		apply(t, x.DB, doc, true)
		if res := x.loginRes(t, "grant_type=password&username=leota@seed.example&password=leota-password"); res.Status != http.StatusOK {
			t.Errorf("Leota, deactivated, then active: true in the file: login %d, want 200", res.Status)
		}
		if res := x.loginRes(t, "grant_type=password&username=sam@seed.example&password=sam-password"); res.Status != http.StatusUnauthorized {
			t.Errorf("Sam, deactivated, active left out of the file: login %d, want 401", res.Status)
		}

		// Without overwrite, existing members and organizations are left alone and not counted.
		if res := x.as(t, leota, "PUT", "/ccstore/v1/organizationMembers/"+ids["leota@seed.example"], map[string]any{"Nickname": "Kept"}, "X-CCOrganization", "or-seed"); res.Status != http.StatusOK {
			t.Fatalf("change Leota: %d %s", res.Status, res.Body)
		}
		more := doc + "    - id: or-new\n      name: New\n      members:\n        - {email: new@seed.example, firstName: N, lastName: Ew, password: new-password}\n"
		more = strings.Replace(more, "name: Seed", "name: Renamed", 1)
		if got, want := counts(apply(t, x.DB, more, false)), "members 1+0 organizations 1+0"; got != want {
			t.Errorf("apply without overwrite: %s, want %s", got, want)
		}
		got := x.as(t, leota, "GET", "/ccstore/v1/organizationMembers/"+ids["leota@seed.example"], nil).Map(t)
		if fmt.Sprint(got["parentOrganization"]) != "map[id:or-seed name:Seed]" || got["Nickname"] != "Kept" {
			t.Errorf("without overwrite, Leota reads %v, want her organization named Seed and her Nickname Kept", got)
		}
	})
}

func TestFixturesPreHashedPasswordsLogIn(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := &st{Server: apitest.Start(t, dialect, apitest.Options{})}
		hashes := map[string]string{
			"bcrypt@h.example": bcryptHash(t, "bcrypt-password"),
			"php@h.example":    phpHash,
			"argon@h.example":  argon2Hash(t, "argon-password"),
		}
		passwords := map[string]string{"bcrypt@h.example": "bcrypt-password", "php@h.example": "rasmuslerdorf", "argon@h.example": "argon-password"}
		doc := "occstore:\n  organizations:\n    - id: or-h\n      name: H\n      admins:\n"
		for _, email := range []string{"bcrypt@h.example", "php@h.example", "argon@h.example"} {
			doc += fmt.Sprintf("        - {email: %s, firstName: H, lastName: Ash, password_hash: '%s'}\n", email, hashes[email])
		}
		apply(t, x.DB, doc, true)

		// A re-hash replaces only the hash it read: not one that changed since.
		ctx := context.Background()
		st := occstore.NewStore(x.DB)
		m, err := st.GetByEmail(ctx, "bcrypt@h.example")
		if err != nil {
			t.Fatal(err)
		}
		if err := st.ReplacePasswordHash(ctx, m.ID, "$2a$04$a-hash-read-before-a-change", argon2Hash(t, "other")); err != nil {
			t.Fatal(err)
		}
		if got := storedHash(t, x.DB, "bcrypt@h.example"); got != hashes["bcrypt@h.example"] {
			t.Errorf("a re-hash over a stale hash replaced the stored one: %s", got)
		}

		for email, pw := range passwords {
			if res := x.loginRes(t, "grant_type=password&username="+email+"&password=wrong-password"); res.Status != http.StatusUnauthorized {
				t.Errorf("%s with a wrong password: %d, want 401", email, res.Status)
			}
			if got := storedHash(t, x.DB, email); got != hashes[email] {
				t.Errorf("%s: a failed login changed the stored hash to %s", email, got)
			}
			x.login(t, email, pw)
			got := storedHash(t, x.DB, email)
			switch {
			case email == "argon@h.example" && got != hashes[email]:
				t.Errorf("%s: an argon2id hash was replaced by %s after a login", email, got)
			case email != "argon@h.example" && !strings.HasPrefix(got, "$argon2id$"):
				t.Errorf("%s: after a login the stored hash is %s, want argon2id", email, got)
			}
			// The new hash verifies the same password, and only it.
			x.login(t, email, pw)
			if res := x.loginRes(t, "grant_type=password&username="+email+"&password=wrong-password"); res.Status != http.StatusUnauthorized {
				t.Errorf("%s with a wrong password after the re-hash: %d, want 401", email, res.Status)
			}
		}
	})
}

// TestFixturesApplyRacesCreates applies fixtures naming member K while the API creates K many
// times, in two letter cases, in each of apitest.RaceRounds rounds: one member K remains, the
// apply succeeds, every create is either created or OCC's "taken" (22006), and K has the file's
// values whichever came first (an apply after a create updates it).
func TestFixturesApplyRacesCreates(t *testing.T) {
	rounds := apitest.RaceRounds(t)
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		loader := fixtures.New(module.List{occstore.Module})
		const creates = 20
		for r := 1; r <= rounds; r++ {
			k := fmt.Sprintf("race%d@acme.example", r)
			f, err := parse(fmt.Sprintf("occstore:\n  organizations:\n    - id: or-acme\n      name: Acme\n      members:\n"+
				"        - {email: %s, firstName: Fix, lastName: Ture, password: fixture-password, roles: [buyer]}\n", k))
			if err != nil {
				t.Fatal(err)
			}
			var applied fixtures.Applied
			errs := apitest.Concurrently(1+creates, func(i int) error {
				if i == 0 {
					var err error
					applied, err = loader.Apply(context.Background(), x.DB, f, true)
					return err
				}
				email := k
				if i%2 == 0 {
					email = strings.ToUpper(k)
				}
				res := x.as(t, x.ada, "POST", "/ccstore/v1/organizationMembers", member(email))
				if res.Status == http.StatusOK || res.Status == http.StatusBadRequest && strings.Join(codes(t, res), ",") == "22006 /email" {
					return nil
				}
				return fmt.Errorf("create %s: %d %s, want 200 or 400 22006", email, res.Status, res.Body)
			})
			for i, err := range errs {
				if err != nil {
					t.Errorf("round %d, call %d: %v", r, i, err)
				}
			}
			if n := apitest.Stored(t, x.DB, "occstore_members", "email_key", k); n != 1 {
				t.Fatalf("round %d: %d members %s, want 1", r, n, k)
			}
			if c := applied[occstore.Name]["members"]; c == nil || c.Created+c.Updated != 1 {
				t.Errorf("round %d: applied %s, want one member created or updated", r, counts(applied))
			}
			x.login(t, k, "fixture-password")
			res := x.as(t, x.ada, "GET", "/ccstore/v1/organizationMembers?q=email%20eq%20%22"+k+"%22", nil)
			items, _ := res.Map(t)["items"].([]any)
			if len(items) != 1 || items[0].(map[string]any)["firstName"] != "Fix" {
				t.Errorf("round %d: %s reads %s, want one member with the file's firstName", r, k, res.Body)
			}
		}
	})
}

// TestFixturesMemberCreatedDuringApply holds a create of member K uncommitted (PostgreSQL) until
// an apply of fixtures naming K waits for it: the apply does not see K when it looks for the
// existing members, and its insert of K then conflicts with the committed create. The apply
// must succeed and update K as an existing member.
func TestFixturesMemberCreatedDuringApply(t *testing.T) {
	if os.Getenv(apitest.EnvDatabaseURL) == "" {
		t.Skip(apitest.EnvDatabaseURL + " is not set: on SQLite an apply holds the one write lock from its start")
	}
	x := start(t, "postgres")
	ctx := context.Background()
	const k = "meanwhile@acme.example"
	f, err := parse("occstore:\n  organizations:\n    - id: or-acme\n      name: Acme\n      admins:\n" +
		"        - {email: " + k + ", firstName: Fix, lastName: Ture, password: fixture-password}\n")
	if err != nil {
		t.Fatal(err)
	}
	tx := x.DB.Begin()
	defer tx.Rollback()
	created := occstore.Member{Email: k, FirstName: "Api", LastName: "Made", Active: true, ReceiveEmail: "yes",
		Roles: []string{occstore.RoleBuyer}, ParentOrganization: "or-acme", CreatedAt: time.Now().UTC()}
	if err := occstore.NewStore(tx).Create(ctx, &created); err != nil {
		t.Fatal(err)
	}
	var pid int64
	if err := tx.Raw("SELECT pg_backend_pid()").Scan(&pid).Error; err != nil {
		t.Fatal(err)
	}
	type result struct {
		applied fixtures.Applied
		err     error
	}
	done := make(chan result, 1)
	go func() {
		a, err := fixtures.New(module.List{occstore.Module}).Apply(ctx, x.DB, f, true)
		done <- result{a, err}
	}()
	for waited := 0; ; waited++ {
		var n int64
		if err := x.DB.Raw("SELECT count(*) FROM pg_stat_activity WHERE ?::int = ANY(pg_blocking_pids(pid))", pid).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if waited == 1000 {
			t.Fatal("the apply never waited for the uncommitted create")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := tx.Commit().Error; err != nil {
		t.Fatal(err)
	}
	res := <-done
	if res.err != nil {
		t.Fatalf("apply: %v", res.err)
	}
	if got := counts(res.applied); got != "members 0+1 organizations 0+1" {
		t.Errorf("applied %s, want K updated", got)
	}
	m, err := occstore.NewStore(x.DB).GetByEmail(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	roles, _, err := occstore.NewStore(x.DB).RolesIn(ctx, m.ID, "or-acme")
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != created.ID || m.FirstName != "Fix" || strings.Join(roles, ",") != "buyer,admin" || m.ReceiveEmail != "yes" {
		t.Errorf("K reads %+v with the roles %v in or-acme, want member %d with the file's names and the roles buyer and admin", m, roles, created.ID)
	}
	x.login(t, k, "fixture-password")
}

func TestUsers(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		leotaID := x.create(t, leota(), "X-CCAsset-Language", "de")
		ctx := context.Background()
		users, total, err := occstore.Module.Users.List(ctx, x.DB, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var emails []string
		for _, u := range users {
			emails = append(emails, u.Email)
		}
		if total != 4 || strings.Join(emails, ",") != "ada@acme.example,bea@acme.example,gus@globex.example,leota@example.com" {
			t.Fatalf("List: total %d, %v; want 4: ada, bea, gus, leota in id order", total, emails)
		}
		page, total, err := occstore.Module.Users.List(ctx, x.DB, 1, 2)
		if err != nil || total != 4 || len(page) != 2 || page[0].Email != "bea@acme.example" || page[1].Email != "gus@globex.example" {
			t.Errorf("List(1, 2): %v, %d, %v; want bea and gus of 4", page, total, err)
		}

		// Each user is what the API's get member shows, plus its organizations.
		for _, u := range users {
			got, err := occstore.Module.Users.Get(ctx, x.DB, u.ID)
			if err != nil {
				t.Fatalf("Get %s: %v", u.ID, err)
			}
			a, b := jsonOf(t, got), jsonOf(t, u)
			if a != b {
				t.Errorf("Get %s = %s, want what List gave: %s", u.ID, a, b)
			}
			parent, _ := u.Extra["parentOrganization"].(map[string]any)
			res := x.as(t, x.ada, "GET", "/ccstore/v1/organizationMembers/"+u.ID, nil, "X-CCOrganization", fmt.Sprint(parent["id"]))
			if res.Status != http.StatusOK {
				t.Fatalf("GET member %s: %d %s", u.ID, res.Status, res.Body)
			}
			var api map[string]json.RawMessage
			res.JSON(t, &api)
			for k, v := range api {
				var inUser any
				switch k {
				case "id":
					inUser = u.ID
				case "email":
					inUser = u.Email
				case "firstName":
					inUser = u.FirstName
				case "lastName":
					inUser = u.LastName
				default:
					inUser = u.Extra[k]
				}
				if got := jsonOf(t, inUser); got != string(v) {
					t.Errorf("user %s: %s = %s, the API shows %s", u.Email, k, got, v)
				}
			}
			if u.Login != u.Email || u.Status != "active" || u.CreatedAt.IsZero() {
				t.Errorf("user %s: login %q, status %q, created %v", u.Email, u.Login, u.Status, u.CreatedAt)
			}
		}
		if got := jsonOf(t, users[0].Extra["organizations"]) + " " + jsonOf(t, users[0].Extra["secondaryOrganizations"]); got !=
			`["or-acme","or-closed","or-globex"] [{"id":"or-closed","name":"Closed"},{"id":"or-globex","name":"Globex"}]` {
			t.Errorf("Ada's organizations: %s", got)
		}
		if l := users[3]; l.ID != leotaID || jsonOf(t, l.Extra["organizations"]) != `["or-acme"]` || l.Extra["locale"] != "de" {
			t.Errorf("Leota, created through the API as %s: %+v", leotaID, l)
		}

		// Never a password or a hash.
		hash := storedHash(t, x.DB, "ada@acme.example")
		for _, u := range users {
			js := jsonOf(t, u)
			for _, secret := range []string{"ada-password", "bea-password", "gus-password", hash, "$argon2id$", "password"} {
				if strings.Contains(js, secret) {
					t.Errorf("user %s holds %q: %s", u.Email, secret, js)
				}
			}
		}

		for _, id := range []string{"999999", "abc", "0", "-1", "", "007", "1.0", "99999999999999999999"} {
			if _, err := occstore.Module.Users.Get(ctx, x.DB, id); err != module.ErrNoUser {
				t.Errorf("Get %q: %v, want ErrNoUser", id, err)
			}
		}
	})
}

func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// bulkDoc is n members of one organization, each with hash.
func bulkDoc(n int, hash string) string {
	var b strings.Builder
	b.WriteString("occstore:\n  organizations:\n    - id: or-bulk\n      name: Bulk\n      members:\n")
	for i := range n {
		fmt.Fprintf(&b, "        - {email: m%05d@bulk.example, firstName: M%d, lastName: Bulk, roles: [buyer], password_hash: '%s'}\n", i, i, hash)
	}
	return b.String()
}

// TestSeed10k applies 10,000 members with a password_hash, twice, and logs how long each apply
// took (a figure to read, not a limit).
func TestSeed10k(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 members")
	}
	const n = 10000
	hash := bcryptHash(t, "bulk-password")
	f, err := parse(bulkDoc(n, hash))
	if err != nil {
		t.Fatal(err)
	}
	loader := fixtures.New(module.List{occstore.Module})
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := &st{Server: apitest.Start(t, dialect, apitest.Options{})}
		for _, want := range []string{"members 10000+0 organizations 1+0", "members 0+10000 organizations 0+1"} {
			start := time.Now()
			applied, err := loader.Apply(context.Background(), x.DB, f, true)
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			if got := counts(applied); got != want {
				t.Errorf("applied %s, want %s", got, want)
			}
			t.Logf("%s: applied %d members with password_hash (%s) in %v", dialect, n, want, took)
		}
		if _, total, err := occstore.Module.Users.List(context.Background(), x.DB, 0, 1); err != nil || total != n {
			t.Errorf("List: total %d, %v; want %d", total, err, n)
		}
		x.login(t, "m09999@bulk.example", "bulk-password")
	})
}
