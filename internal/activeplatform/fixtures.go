package activeplatform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/email"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/module"
	"github.com/provisiond/provisiond/internal/password"
	"github.com/provisiond/provisiond/openapi"
)

// Fixtures is ActivePlatform's section of a fixtures file: the custom attribute definitions, the
// accounts and users.
type Fixtures struct {
	CustomAttributes []AttributeFixture `yaml:"custom_attributes"`
	Accounts         []AccountFixture   `yaml:"accounts"`
	Users            []UserFixture      `yaml:"users"`
}

// AccountFixture is an account (vendor: the account model's id, name and status), to which
// POST /api/v2/vendor/account_accesses attaches users: its id (a positive integer, as the vendor's
// ids), its name and its status (active or inactive; active when left out). A user is active
// while attached to an active account.
type AccountFixture struct {
	ID     int64  `yaml:"id"`
	Name   string `yaml:"name"`
	Status string `yaml:"status"`
}

// AttributeFixture defines a custom attribute: the key requests use, the name responses show,
// and the value type (string, integer or boolean).
type AttributeFixture struct {
	Key  string `yaml:"key"`
	Name string `yaml:"name"`
	Type string `yaml:"type"`
}

// UserFixture is a user: the body of POST /api/vendor/v1/users (first_name, middle_name,
// last_name, email, password, custom_attributes), checked by the same rules, plus what the
// create call cannot set:
//   - password_hash, instead of password: a hash made elsewhere (argon2id PHC or bcrypt),
//     stored as it is, so that many users load without hashing;
//   - status (active or inactive; active when left out, as create makes it): the user's global
//     status (the vendor's "Global Deactivation of a User"). The status the API shows is active
//     only while this one is and the user is attached to an active account.
//
// The fields are pointers so that a field left out is told from one sent empty, as the create
// call tells them (first_name "" is accepted, a missing first_name is not).
type UserFixture struct {
	FirstName        *string        `yaml:"first_name"`
	MiddleName       *string        `yaml:"middle_name"`
	LastName         *string        `yaml:"last_name"`
	Email            *string        `yaml:"email"`
	Password         *string        `yaml:"password"`
	PasswordHash     *string        `yaml:"password_hash"`
	Status           *string        `yaml:"status"`
	CustomAttributes []ValueFixture `yaml:"custom_attributes"`
}

// ValueFixture is a custom attribute of a user, as the create call sets it: the definition's key
// and the value as text (a YAML number or boolean is read as its text: value: 21 is "21").
type ValueFixture struct {
	Key   *string `yaml:"key"`
	Value *string `yaml:"value"`
}

var fixtures = module.Section(checkFixtures, prepareFixtures)

// createSchemas are the spec's schemas of the create call's body and of a user's status: the
// rules a user of a fixtures file is checked by, where the spec states them.
var createSchemas = sync.OnceValues(func() (*openapi3.Schema, *openapi3.Schema) {
	_, doc, err := openapi.Load(Name)
	if err != nil {
		panic(err)
	}
	return doc.Components.Schemas["UserCreate"].Value, doc.Components.Schemas["User"].Value.Properties["status"].Value
})

// problem is one problem of the section: Error is "<path>: <message>", the path within the
// section ("users[2].email"). It unwraps to an invalid apperr.Error, so that a caller can tell a
// refused file from a fault of the server, also when the write (which checks what only the
// database knows) finds it.
type problem struct{ path, msg string }

func (p problem) Error() string { return p.path + ": " + p.msg }
func (p problem) Unwrap() error { return apperr.Invalid(p.path, "fixtures", p.msg) }

// noNUL is the problem of a stored text holding U+0000, which the databases cannot store (the
// API refuses it by the spec's patterns).
const noNUL = "no text can hold U+0000"

func checkFixtures(env module.Env, f *Fixtures) []error {
	// Plain passwords are checked against the server's policy (PROVISIOND_PASSWORD_POLICY), as
	// the create checks them; a password_hash is not.
	policy, err := ParsePolicy(env.Config.PasswordPolicy)
	if err != nil {
		return []error{fmt.Errorf("users: the server's password policy: %w", err)}
	}
	var errs []error
	seen := map[string]bool{}
	defs := map[string]Definition{}
	for i, a := range f.CustomAttributes {
		where := fmt.Sprintf("custom_attributes[%d]", i)
		if a.Key == "" || a.Name == "" || seen[a.Key] {
			errs = append(errs, fmt.Errorf("%s: a key (listed once) and a name are required", where))
		}
		if strings.ContainsRune(a.Key+a.Name, 0) {
			errs = append(errs, fmt.Errorf("%s: %s", where, noNUL))
		}
		seen[a.Key] = true
		if !slices.Contains([]string{TypeString, TypeInteger, TypeBoolean}, a.Type) {
			errs = append(errs, fmt.Errorf("%s: type must be string, integer or boolean", where))
		} else if a.Key != "" {
			defs[a.Key] = Definition(a)
		}
	}
	ids := map[int64]bool{}
	for i, a := range f.Accounts {
		where := fmt.Sprintf("accounts[%d]", i)
		if a.ID < 1 || ids[a.ID] {
			errs = append(errs, fmt.Errorf("%s: an id (a positive integer, listed once) is required", where))
		}
		ids[a.ID] = true
		if a.Name == "" {
			errs = append(errs, fmt.Errorf("%s: a name is required", where))
		}
		if strings.ContainsRune(a.Name, 0) {
			errs = append(errs, fmt.Errorf("%s: %s", where, noNUL))
		}
		if a.Status != "" && a.Status != StatusActive && a.Status != StatusInactive {
			errs = append(errs, fmt.Errorf("%s: status must be active or inactive", where))
		}
	}
	for _, p := range checkUsers(f.Users, defs, policy) {
		errs = append(errs, p)
	}
	return errs
}

// checkUsers lists the problems of users, each entry's in the order of its fields' paths. An
// entry's custom attributes are checked here against the definitions of the same document
// (defs); a key it does not define is checked by the write, against the definitions stored.
func checkUsers(users []UserFixture, defs map[string]Definition, policy Policy) []problem {
	var out []problem
	create, status := createSchemas()
	first := map[string]int{}
	for i, u := range users {
		where := fmt.Sprintf("users[%d]", i)
		var ps []problem
		add := func(field, msg string) { ps = append(ps, problem{where + "." + field, msg}) }
		// The spec's rules: required fields and their types. The email's format (and U+0000) is
		// worded below, with the check for an email listed twice.
		for _, is := range httpserver.SchemaIssues(create, u.body()) {
			if is.Rule == "format" || (is.Field == "email" && is.Rule == "pattern") ||
				(is.Field == "password" && (u.PasswordHash != nil || policyRule(is))) {
				continue
			}
			add(is.Field, schemaMessage(is))
		}
		if u.Email != nil {
			key := strings.ToLower(*u.Email)
			if !email.Valid(*u.Email) {
				add("email", "is not a valid email address")
			} else if j, dup := first[key]; dup {
				add("email", fmt.Sprintf("%s is listed twice (also users[%d]; emails are compared in any letter case)", *u.Email, j))
			} else {
				first[key] = i
			}
		}
		switch {
		case u.Password != nil && u.PasswordHash != nil:
			add("password_hash", "give password or password_hash, not both")
		case u.Password != nil && !strings.ContainsRune(*u.Password, 0) && !policy.Allows(*u.Password): // U+0000: invalid above
			add("password", "is too weak: "+policy.Describe())
		case u.PasswordHash != nil:
			if _, err := password.Import(*u.PasswordHash); err != nil {
				add("password_hash", err.Error())
			}
		}
		if u.Status != nil {
			for _, is := range httpserver.SchemaIssues(status, *u.Status) {
				add("status", schemaMessage(is))
			}
		}
		// Keys the document defines are checked here; others by the write (attributeErrors).
		for _, p := range attributeProblems(defs, u.attributes()) {
			if p.Field == "value" && u.CustomAttributes[p.Index].Value != nil {
				ps = append(ps, attributeError(i, u.attributes(), p))
			}
		}
		slices.SortStableFunc(ps, func(a, b problem) int { return strings.Compare(a.path, b.path) })
		out = append(out, ps...)
	}
	return out
}

// body is the entry as the create call's JSON body: the fields it has, for the spec's schema.
func (u UserFixture) body() map[string]any {
	b := map[string]any{}
	for k, v := range map[string]*string{
		"first_name": u.FirstName, "middle_name": u.MiddleName, "last_name": u.LastName,
		"email": u.Email, "password": u.Password,
	} {
		if v != nil {
			b[k] = *v
		}
	}
	if u.CustomAttributes != nil {
		attrs := make([]any, len(u.CustomAttributes))
		for i, a := range u.CustomAttributes {
			m := map[string]any{}
			if a.Key != nil {
				m["key"] = *a.Key
			}
			if a.Value != nil {
				m["value"] = *a.Value
			}
			attrs[i] = m
		}
		b["custom_attributes"] = attrs
	}
	return b
}

// attributes are the entry's custom attributes as the service takes them (a missing key or value,
// which the schema reports, as "").
func (u UserFixture) attributes() []Attribute {
	out := make([]Attribute, len(u.CustomAttributes))
	for i, a := range u.CustomAttributes {
		out[i] = Attribute{Key: deref(a.Key), Value: deref(a.Value)}
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// schemaMessage words a schema problem of an entry: "is missing" for a required field, and
// kin-openapi's own words for a value not in an enum (the status), as the section always said
// them; any other problem, which the fields' types do not let an entry have, "is invalid", as the
// API answers it.
// policyRule reports whether a problem of a password is the spec's statement of the default
// policy (minLength, pattern), which the server's own policy words below; a password holding
// U+0000 stays refused as invalid.
func policyRule(is httpserver.Issue) bool {
	s, _ := is.Value.(string)
	return (is.Rule == "minLength" || is.Rule == "pattern") && !strings.ContainsRune(s, 0)
}

func schemaMessage(is httpserver.Issue) string {
	switch is.Rule {
	case "required":
		return "is missing"
	case "enum":
		allowed, _ := json.Marshal(is.Schema.Enum)
		return "value is not one of the allowed values " + string(allowed)
	}
	return "is invalid"
}

// attributeError words a custom attribute of users[i] that the definitions do not allow.
func attributeError(i int, attrs []Attribute, p attributeProblem) problem {
	where := fmt.Sprintf("users[%d].custom_attributes[%d]", i, p.Index)
	a := attrs[p.Index]
	if p.Field == "key" {
		return problem{where + ".key", fmt.Sprintf("%q is not a defined custom attribute", a.Key)}
	}
	what := map[string]string{TypeInteger: "an integer attribute (digits)", TypeBoolean: "a boolean attribute (true or false)"}[p.Def.Type]
	return problem{where + ".value", fmt.Sprintf("%q is invalid: %s is %s", a.Value, p.Def.Key, what)}
}

// attributeErrors are the problems of the users' custom attributes against the stored
// definitions: the same rule as the create call's.
func attributeErrors(defs map[string]Definition, users []User) []error {
	var errs []error
	for i, u := range users {
		for _, p := range attributeProblems(defs, u.Attributes) {
			errs = append(errs, attributeError(i, u.Attributes, p))
		}
	}
	return errs
}

// prepareFixtures hashes the users' plain passwords, the slow part, before the start-up lock is
// taken (a password_hash is stored as given). The write stores the definitions and the accounts,
// checks the users' custom attributes against the definitions then stored (the file's and those
// already there), and upserts the users by email, in any letter case.
func prepareFixtures(ctx context.Context, env module.Env, f *Fixtures) (module.Write, error) {
	defs := make([]Definition, len(f.CustomAttributes))
	for i, a := range f.CustomAttributes {
		defs[i] = Definition(a)
	}
	accounts := make([]Account, len(f.Accounts))
	for i, a := range f.Accounts {
		accounts[i] = Account(a)
		if a.Status == "" {
			accounts[i].Status = StatusActive
		}
	}
	users, err := fixtureUsers(ctx, env.Hasher, f.Users)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, tx *gorm.DB, overwrite bool, applied module.Applied) error {
		st := NewStore(tx)
		if err := st.LoadDefinitions(ctx, defs, overwrite, applied); err != nil {
			return err
		}
		if err := st.LoadAccounts(ctx, accounts, overwrite, applied); err != nil {
			return err
		}
		if len(users) == 0 {
			return nil
		}
		stored, err := st.Definitions(ctx)
		if err != nil {
			return err
		}
		if errs := attributeErrors(stored, users); len(errs) > 0 {
			return errors.Join(errs...)
		}
		now := env.Now().UTC()
		for i := range users {
			users[i].CreatedAt, users[i].UpdatedAt = now, now
		}
		return st.SeedUsers(ctx, users, overwrite, applied)
	}, nil
}

// fixtureUsers are the users of a checked section, their plain passwords hashed with the
// server's hasher.
func fixtureUsers(ctx context.Context, hasher *password.Hasher, in []UserFixture) ([]User, error) {
	users := make([]User, len(in))
	var plain []int
	var pws []string
	for i, u := range in {
		users[i] = User{
			Email: deref(u.Email), FirstName: deref(u.FirstName), MiddleName: deref(u.MiddleName), LastName: deref(u.LastName),
			Global: StatusActive, Attributes: u.attributes(),
		}
		if u.Status != nil {
			users[i].Global = *u.Status
		}
		if u.PasswordHash != nil {
			hash, err := password.Import(*u.PasswordHash)
			if err != nil {
				return nil, fmt.Errorf("users[%d].password_hash: %w", i, err)
			}
			users[i].PasswordHash = hash
		} else {
			plain = append(plain, i)
			pws = append(pws, deref(u.Password))
		}
	}
	hashes, err := hasher.HashAll(ctx, pws)
	if err != nil {
		return nil, err
	}
	for k, i := range plain {
		users[i].PasswordHash = hashes[k]
	}
	return users, nil
}
