package occadmin_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
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
	"github.com/provisiond/provisiond/internal/occadmin"
	"github.com/provisiond/provisiond/internal/password"
)

var loader = fixtures.New(module.List{occadmin.Module})

func parse(t testing.TB, doc string) fixtures.File {
	t.Helper()
	f, err := loader.Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("parse %q: %v", doc, err)
	}
	return f
}

func apply(t testing.TB, x *oa, doc string, overwrite bool) module.Applied {
	t.Helper()
	got, err := loader.Apply(context.Background(), x.DB, parse(t, doc), overwrite)
	if err != nil {
		t.Fatalf("apply %q: %v", doc, err)
	}
	return got["occadmin"]
}

// counts renders applied as "kind created/updated" pairs, sorted.
func counts(a module.Applied) string {
	var out []string
	for k, c := range a {
		out = append(out, fmt.Sprintf("%s %d/%d", k, c.Created, c.Updated))
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

const rasmus = "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a" // password rasmuslerdorf

func TestProfilesSectionRefused(t *testing.T) {
	long := strings.Repeat("x", 256)
	for _, c := range []struct {
		name, entries string
		want          []string
	}{
		{"email missing", `{firstName: A, lastName: B, roles: [adminRole]}`,
			[]string{"profiles[0].email: The email is missing or empty."}},
		{"email empty", `{email: "", firstName: A, lastName: B, roles: [adminRole]}`,
			[]string{"profiles[0].email: The email is missing or empty."}},
		{"email null", `{email: null, firstName: A, lastName: B, roles: [adminRole]}`,
			[]string{"profiles[0].email: The email is missing or empty."}},
		{"email invalid", `{email: not-an-email, firstName: A, lastName: B, roles: [adminRole]}`,
			[]string{"profiles[0].email: The email is not a valid email address."}},
		{"email too long", `{email: ` + long + `@example.com, firstName: A, lastName: B, roles: [adminRole]}`,
			[]string{"profiles[0].email: The value of email is invalid."}},
		{"first name missing", `{email: a@example.com, lastName: B, roles: [adminRole]}`,
			[]string{"profiles[0].firstName: The value of firstName is missing."}},
		{"last name too long", `{email: a@example.com, firstName: A, lastName: ` + long + `, roles: [adminRole]}`,
			[]string{"profiles[0].lastName: The value of lastName is invalid."}},
		{"roles missing", `{email: a@example.com, firstName: A, lastName: B}`,
			[]string{"profiles[0].roles: The roles are missing or empty."}},
		{"roles empty", `{email: a@example.com, firstName: A, lastName: B, roles: []}`,
			[]string{"profiles[0].roles: The roles are missing or empty."}},
		{"password empty", `{email: a@example.com, firstName: A, lastName: B, roles: [adminRole], password: ""}`,
			[]string{"profiles[0].password: The password is missing or empty."}},
		{"password too long", `{email: a@example.com, firstName: A, lastName: B, roles: [adminRole], password: ` + long + `}`,
			[]string{"profiles[0].password: The value of password is invalid."}},
		{"password and hash", `{email: a@example.com, firstName: A, lastName: B, roles: [adminRole], password: secret, password_hash: "` + rasmus + `"}`,
			[]string{"profiles[0].password_hash: password and password_hash exclude each other: give one."}},
		{"hash of an unknown kind", `{email: a@example.com, firstName: A, lastName: B, roles: [adminRole], password_hash: "{SHA}abc"}`,
			[]string{"profiles[0].password_hash: not an argon2id PHC string or a bcrypt hash ($2a$, $2b$, $2y$): password hash: not an argon2id PHC string"}},
		{"bcrypt hash cut short", `{email: a@example.com, firstName: A, lastName: B, roles: [adminRole], password_hash: "$2y$10$short"}`,
			[]string{"profiles[0].password_hash: not a valid bcrypt hash: crypto/bcrypt: hashedSecret too short to be a bcrypted password"}},
		{"email twice, in another letter case",
			`{email: a@example.com, firstName: A, lastName: B, roles: [adminRole]}, {email: A@Example.COM, firstName: A, lastName: B, roles: [adminRole]}`,
			[]string{"profiles[1].email: The email is listed already, by profiles[0]."}},
		{"every problem of every entry",
			`{email: bad, roles: []}, {email: b@example.com, firstName: A, lastName: B, roles: [adminRole]}, {email: B@example.com, lastName: 5, password: ""}`,
			[]string{
				"profiles[0].email: The email is not a valid email address.",
				"profiles[0].firstName: The value of firstName is missing.",
				"profiles[0].lastName: The value of lastName is missing.",
				"profiles[0].roles: The roles are missing or empty.",
				"profiles[2].firstName: The value of firstName is missing.",
				"profiles[2].password: The password is missing or empty.",
				"profiles[2].roles: The roles are missing or empty.",
				"profiles[2].email: The email is listed already, by profiles[1].",
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := loader.Parse(strings.NewReader("occadmin:\n  profiles: [" + c.entries + "]\n"))
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			want := make([]string, len(c.want))
			for i, w := range c.want {
				want[i] = "fixtures: occadmin." + w
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("profiles [%s]:\n got  %q\n want %q", c.entries, got, want)
			}
		})
	}
	// A key the create body does not have is refused by the decoder, with its line.
	_, err := loader.Parse(strings.NewReader("occadmin:\n  profiles:\n    - {email: a@example.com, login: a}\n"))
	if err == nil || !strings.Contains(err.Error(), "line 3: field login not found") {
		t.Errorf("an unknown key: %v, want it refused", err)
	}
}

// The roles are checked as the create checks them, against the roles stored when the file is
// written (those of the file included): every problem is listed, and nothing of the file is applied.
func TestProfilesSectionRoles(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		doc := `occadmin:
  roles:
    - {id: auditRole, name: Audit, privileges: []}
  profiles:
    - {email: a@example.com, firstName: A, lastName: B, roles: [adminRole, bogusRole, otherRole]}
    - {email: b@example.com, firstName: A, lastName: B, roles: [auditRole, noPrivilegesRole]}
    - {email: c@example.com, firstName: A, lastName: B, roles: [catalogRole]}
`
		_, err := loader.Apply(context.Background(), x.DB, parse(t, doc), true)
		want := "fixtures: occadmin.profiles[0].roles[1]: The role bogusRole does not exist.\n" +
			"fixtures: occadmin.profiles[0].roles[2]: The role otherRole does not exist.\n" +
			"fixtures: occadmin.profiles[1].roles: None of the roles carries a privilege."
		if err == nil || err.Error() != want {
			t.Fatalf("apply:\n got  %v\n want %s", err, want)
		}
		if all := apperr.All(err); len(all) != 3 || apperr.KindOf(err) != apperr.KindInvalid || all[0].Field != "/roles/1" || all[0].Rule != occadmin.CodeRoleUnknown {
			t.Errorf("apply error %v: classified as %v, want 3 invalid inputs, the first 89001 at /roles/1", err, all)
		}
		if n := apitest.Stored(t, x.DB, "occadmin_profiles", "email_key", "c@example.com"); n != 0 {
			t.Errorf("profile c stored %d times after a refused file, want 0", n)
		}
		if body := x.call(t, "GET", "/ccadmin/v1/adminRoles", nil).Body; strings.Contains(string(body), "auditRole") {
			t.Errorf("the refused file's role was stored: %s", body)
		}

		// A role the same file defines may be a profile's only role once it carries a privilege.
		got := apply(t, x, `occadmin:
  roles:
    - {id: auditRole, name: Audit, privileges: [Audit]}
  profiles:
    - {email: d@example.com, firstName: A, lastName: B, roles: [auditRole]}
`, true)
		if counts(got) != "profiles 1/0, roles 1/0" {
			t.Errorf("apply of a profile with the file's own role counted %s, want profiles 1/0, roles 1/0", counts(got))
		}
	})
}

func TestProfilesSectionApply(t *testing.T) {
	ctx := context.Background()
	hasher := password.New(password.OWASP, 1)
	argon, err := hasher.Hash(ctx, "argon-password")
	if err != nil {
		t.Fatal(err)
	}
	quick, err := bcrypt.GenerateFromPassword([]byte("bcrypt-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	doc := `occadmin:
  roles:
    - {id: adminRole, name: Administrator, privileges: [Administrator]}
    - {id: accountManagerRole, name: Account Manager, privileges: [Accounts, Orders]}
  profiles:
    # A createAdminProfile body, pasted.
    - {"firstName": "Amber", "lastName": "Admin", "roles": ["adminRole"], "active": true, "email": "amber@example.com"}
    - {email: Carl@Example.com, firstName: Carl, lastName: Catalog, roles: [catalogRole, accountManagerRole], active: false, password: carl-password}
    - {email: rasmus@example.com, firstName: Rasmus, lastName: Lerdorf, roles: [adminRole], password_hash: "` + rasmus + `"}
    - {email: quick@example.com, firstName: Quick, lastName: Bcrypt, roles: [adminRole], password_hash: "` + string(quick) + `"}
    - {email: argon@example.com, firstName: Argon, lastName: Two, roles: [adminRole], password_hash: "` + argon + `"}
    - {email: Taken@example.com, firstName: Tina, lastName: Taken, roles: [catalogRole]}
`
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		takenID := x.create(t, profile("taken@example.com"))

		if got, want := counts(apply(t, x, doc, true)), "profiles 5/1, roles 1/1"; got != want {
			t.Errorf("first apply counted %s, want %s", got, want)
		}
		if got, want := counts(apply(t, x, doc, true)), "profiles 0/6, roles 0/2"; got != want {
			t.Errorf("second apply counted %s, want %s", got, want)
		}
		// Without overwrite, what exists is left alone and not counted.
		if got := counts(apply(t, x, doc, false)); got != "" {
			t.Errorf("apply without overwrite counted %s, want nothing", got)
		}

		res := x.call(t, "GET", "/ccadmin/v1/adminProfiles?sort=email:asc", nil)
		if res.Status != http.StatusOK {
			t.Fatalf("list: %d %s", res.Status, res.Body)
		}
		byEmail := map[string]map[string]any{}
		for _, it := range res.Map(t)["items"].([]any) {
			p := it.(map[string]any)
			byEmail[strings.ToLower(p["email"].(string))] = p
		}
		if len(byEmail) != 6 {
			t.Fatalf("list holds %d profiles, want 6: %s", len(byEmail), res.Body)
		}
		carl := x.call(t, "GET", "/ccadmin/v1/adminProfiles/"+byEmail["carl@example.com"]["id"].(string), nil).Map(t)
		wantRoles := "[map[name:Catalog repositoryId:catalogRole] map[name:Account Manager repositoryId:accountManagerRole]]"
		if carl["email"] != "Carl@Example.com" || carl["firstName"] != "Carl" || carl["active"] != false || fmt.Sprint(carl["roles"]) != wantRoles {
			t.Errorf("GET Carl = %v, want the file's values", carl)
		}
		if amber := byEmail["amber@example.com"]; amber["active"] != true || amber["lastName"] != "Admin" {
			t.Errorf("Amber = %v", amber)
		}
		// The profile the API created kept its id and took the file's values.
		taken := byEmail["taken@example.com"]
		if taken["id"] != takenID || taken["email"] != "Taken@example.com" || taken["firstName"] != "Tina" || taken["registrationDate"] != "2026-01-02T03:04:05.000Z" {
			t.Errorf("the API's profile after the file = %v, want id %s, the file's email and names, its registration date", taken, takenID)
		}
		// The API's duplicate-email rule covers seeded profiles, whatever the letter case.
		if res := x.call(t, "POST", "/ccadmin/v1/adminProfiles/", profile("CARL@example.com")); res.Status != 400 || res.Map(t)["errorCode"] != "22006" {
			t.Errorf("create over a seeded email: %d %s, want 400 22006", res.Status, res.Body)
		}

		// Passwords: a plain one is stored as argon2id, a hash as given; each verifies.
		for email, pw := range map[string]string{
			"carl@example.com": "carl-password", "rasmus@example.com": "rasmuslerdorf",
			"quick@example.com": "bcrypt-password", "argon@example.com": "argon-password",
		} {
			hash := storedHash(t, x, email)
			if ok, err := hasher.Check(ctx, pw, hash); !ok || err != nil {
				t.Errorf("%s: stored hash %q does not verify its password (%v)", email, hash, err)
			}
		}
		if h := storedHash(t, x, "carl@example.com"); !strings.HasPrefix(h, "$argon2id$") {
			t.Errorf("Carl's plain password stored as %q, want an argon2id hash", h)
		}
		if h := storedHash(t, x, "rasmus@example.com"); h != rasmus {
			t.Errorf("Rasmus's hash stored as %q, want it as given", h)
		}
		if h := storedHash(t, x, "amber@example.com"); h != "" {
			t.Errorf("Amber, given no password, has the hash %q", h)
		}

		// Password logins at once with an imported bcrypt hash: each is answered, and the hash
		// is stored again as argon2id (once: the others find it changed and leave it).
		logins := apitest.Concurrently(4, func(int) *apitest.Response {
			return x.Call(t, "POST", "/ccadmin/v1/login", "grant_type=password&username=rasmus@example.com&password=rasmuslerdorf", "Content-Type", form)
		})
		for i, res := range logins {
			if res.Status != http.StatusOK {
				t.Errorf("concurrent password login %d: %d %s", i, res.Status, res.Body)
			}
		}
		if h := storedHash(t, x, "rasmus@example.com"); !strings.HasPrefix(h, "$argon2id$") {
			t.Errorf("Rasmus's bcrypt hash after logins: %q, want an argon2id hash", h)
		} else if ok, err := hasher.Check(ctx, "rasmuslerdorf", h); !ok || err != nil {
			t.Errorf("Rasmus's re-hashed password does not verify (%v)", err)
		}
	})
}

func storedHash(t *testing.T, x *oa, email string) string {
	t.Helper()
	var hashes []sql.NullString
	if err := x.DB.Table("occadmin_profiles").Where("email_key = ?", strings.ToLower(email)).Pluck("password_hash", &hashes).Error; err != nil || len(hashes) != 1 {
		t.Fatalf("read the hash of %s: %v (%d rows)", email, err, len(hashes))
	}
	return hashes[0].String
}

// A file that seeds K while clients create K through the API: one profile K in the end, the file
// applied, and every create either created or refused as taken (22006).
func TestProfilesSectionRace(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		for round := range 3 {
			email := fmt.Sprintf("race%d@example.com", round)
			f := parse(t, fmt.Sprintf("occadmin:\n  profiles:\n    - {email: %s, firstName: File, lastName: Seed, roles: [adminRole]}\n", email))
			const creates = 20
			results := apitest.Concurrently(creates+1, func(i int) string {
				if i == creates {
					got, err := loader.Apply(context.Background(), x.DB, f, true)
					if err != nil {
						return "apply: " + err.Error()
					}
					return "applied " + counts(got["occadmin"])
				}
				e := email
				if i%2 == 1 {
					e = strings.ToUpper(email)
				}
				res := x.call(t, "POST", "/ccadmin/v1/adminProfiles/", profile(e))
				switch {
				case res.Status == http.StatusOK:
					return "created"
				case res.Status == http.StatusBadRequest && res.Map(t)["errorCode"] == "22006":
					return "taken"
				}
				return fmt.Sprintf("create: %d %s", res.Status, res.Body)
			})
			created := 0
			for _, r := range results[:creates] {
				switch r {
				case "created":
					created++
				case "taken":
				default:
					t.Errorf("round %d: %s", round, r)
				}
			}
			applied := results[creates]
			if created > 1 || (created == 1) != (applied == "applied profiles 0/1") || (created == 0) != (applied == "applied profiles 1/0") {
				t.Errorf("round %d: %d creates succeeded and the file %s", round, created, applied)
			}
			if n := apitest.Stored(t, x.DB, "occadmin_profiles", "email_key", email); n != 1 {
				t.Errorf("round %d: %d profiles %s, want 1", round, n, email)
			}
		}
	})
}

func TestUsers(t *testing.T) {
	ctx := context.Background()
	quick, err := bcrypt.GenerateFromPassword([]byte("bcrypt-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users := occadmin.Module.Users
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		x := start(t, dialect)
		body := profile("api@example.com")
		body["password"] = "api-password"
		apiID := x.create(t, body)
		apply(t, x, `occadmin:
  profiles:
    - {email: Seeded@example.com, firstName: Sea, lastName: Ded, roles: [catalogRole, noPrivilegesRole], active: false, password_hash: "`+string(quick)+`"}
    - {email: plain@example.com, firstName: Plain, lastName: Text, roles: [adminRole], password: plain-password}
`, true)

		list, total, err := users.List(ctx, x.DB, 0, 10)
		if err != nil || total != 3 || len(list) != 3 {
			t.Fatalf("List = %d users of %d, %v; want 3 of 3", len(list), total, err)
		}
		if list[0].ID != apiID {
			t.Errorf("List[0].ID = %s, want the API's profile %s first (by id)", list[0].ID, apiID)
		}
		seeded := list[1]
		want := module.User{
			ID: seeded.ID, Email: "Seeded@example.com", Login: "Seeded@example.com", FirstName: "Sea", LastName: "Ded", Status: "inactive",
			CreatedAt: seeded.CreatedAt,
			Extra: map[string]any{"active": false, "roles": []map[string]any{
				{"repositoryId": "catalogRole", "name": "Catalog"}, {"repositoryId": "noPrivilegesRole", "name": "No privileges"}}},
		}
		if fmt.Sprint(seeded) != fmt.Sprint(want) || seeded.CreatedAt.IsZero() {
			t.Errorf("List[1] = %+v, want %+v", seeded, want)
		}
		page, total, err := users.List(ctx, x.DB, 1, 1)
		if err != nil || total != 3 || len(page) != 1 || page[0].ID != seeded.ID {
			t.Errorf("List(1, 1) = %v of %d, %v; want the second user of 3", page, total, err)
		}

		// Get answers what the API shows.
		for _, u := range list {
			got, err := users.Get(ctx, x.DB, u.ID)
			if err != nil || fmt.Sprint(got) != fmt.Sprint(u) {
				t.Errorf("Get(%s) = %+v, %v; want %+v", u.ID, got, err, u)
			}
			api := x.call(t, "GET", "/ccadmin/v1/adminProfiles/"+u.ID, nil).Map(t)
			status := map[bool]string{true: "active", false: "inactive"}[api["active"].(bool)]
			if api["email"] != u.Email || api["firstName"] != u.FirstName || api["lastName"] != u.LastName || status != u.Status ||
				api["registrationDate"] != u.CreatedAt.Format(occadmin.DateFormat) || fmt.Sprint(api["roles"]) != fmt.Sprint(u.Extra["roles"]) {
				t.Errorf("user %+v, the API shows %v", u, api)
			}
			// Never a password or a hash.
			b, err := json.Marshal(u)
			if err != nil {
				t.Fatal(err)
			}
			hash := storedHash(t, x, u.Email)
			for _, secret := range []string{"api-password", "plain-password", "bcrypt-password", hash, "$argon2id$", "$2a$"} {
				if secret != "" && strings.Contains(string(b), secret) {
					t.Errorf("user %s as JSON holds %q: %s", u.ID, secret, b)
				}
			}
		}
		for _, id := range []string{"iuser999999", "iuser0", "iuser-1", "iuser", "abc", "1", "", "iuser1x", "IUSER1"} {
			if _, err := users.Get(ctx, x.DB, id); !errors.Is(err, module.ErrNoUser) {
				t.Errorf("Get(%q) = %v, want ErrNoUser", id, err)
			}
		}
	})
}

// BenchmarkSeed10k applies a file of 10,000 profiles with a password_hash to a fresh database.
func BenchmarkSeed10k(b *testing.B) {
	hash, err := password.New(password.OWASP, 1).Hash(context.Background(), "seed-password")
	if err != nil {
		b.Fatal(err)
	}
	var doc strings.Builder
	doc.WriteString("occadmin:\n  profiles:\n")
	for i := range 10000 {
		fmt.Fprintf(&doc, "    - {email: seed%05d@example.com, firstName: Seed, lastName: N%d, roles: [adminRole], password_hash: %q}\n", i, i, hash)
	}
	for _, dialect := range apitest.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				s := apitest.Start(b, dialect, apitest.Options{})
				b.StartTimer()
				f, err := loader.Parse(strings.NewReader(doc.String()))
				if err != nil {
					b.Fatal(err)
				}
				got, err := loader.Apply(context.Background(), s.DB, f, true)
				if err != nil || got["occadmin"]["profiles"].Created != 10000 {
					b.Fatalf("apply: %v, %v", got, err)
				}
			}
		})
	}
}
