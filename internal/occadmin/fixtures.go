package occadmin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/module"
	"github.com/provisiond/provisiond/internal/password"
	"github.com/provisiond/provisiond/openapi"
)

// Fixtures is the OCC admin API's section of a fixtures file: the admin roles and the admin
// profiles.
type Fixtures struct {
	Roles    []RoleFixture    `yaml:"roles"`
	Profiles []ProfileFixture `yaml:"profiles"`
}

// RoleFixture is an OCC admin role: an id such as adminRole, a name, OCC's description and
// category (optional), and the privileges it grants.
type RoleFixture struct {
	ID          string   `yaml:"id"`
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Category    string   `yaml:"category"`
	Privileges  []string `yaml:"privileges"`
}

// ProfileFixture is an admin profile: the body of createAdminProfile, by its JSON names, so that
// a create body pastes in as it is, plus password_hash, the one thing the create cannot set: a
// password hashed elsewhere (argon2id PHC or bcrypt), stored as given. A field left out is left
// out of the body (email, firstName, lastName and roles are required; active defaults to true).
// Profiles are found by email, whatever its letter case; their "iuser…" id is the server's.
type ProfileFixture struct {
	Email        *string  `yaml:"email"`
	FirstName    *string  `yaml:"firstName"`
	LastName     *string  `yaml:"lastName"`
	Active       *bool    `yaml:"active"`
	Roles        []string `yaml:"roles"`
	Password     *string  `yaml:"password"`
	PasswordHash string   `yaml:"password_hash"`
}

var fixtures = module.Section(checkFixtures, prepareFixtures)

func checkFixtures(_ module.Env, f *Fixtures) []error {
	var errs []error
	seen := map[string]bool{}
	for i, r := range f.Roles {
		if r.ID == "" || r.Name == "" {
			errs = append(errs, fmt.Errorf("roles[%d]: id and name are required", i))
		}
		if seen[r.ID] {
			errs = append(errs, fmt.Errorf("roles: id %s listed twice", r.ID))
		}
		seen[r.ID] = true
	}
	return append(errs, checkProfiles(f.Profiles)...)
}

// createSchema is the schema of createAdminProfile's body, from the spec the server validates
// requests with.
var createSchema = sync.OnceValues(func() (*openapi3.Schema, error) {
	_, doc, err := openapi.Load(Name)
	if err != nil {
		return nil, err
	}
	ref := doc.Components.Schemas["AdminProfileCreate"]
	if ref == nil || ref.Value == nil {
		return nil, errors.New("occadmin spec: no schema AdminProfileCreate")
	}
	return ref.Value, nil
})

// checkProfiles lists every problem of every profile: what the create's schema refuses, as the
// request validator finds it (httpserver.SchemaIssues) and in the words the API answers it with
// (the same classification into OCC's messages), a password together with a hash, a hash that is neither argon2id nor bcrypt,
// and an email listed twice. The roles are checked when the file is written, against the roles
// stored then (those of the file included), as the create checks them (checkRoles).
func checkProfiles(ps []ProfileFixture) []error {
	if len(ps) == 0 {
		return nil
	}
	schema, err := createSchema()
	if err != nil {
		return []error{fmt.Errorf("profiles: %w", err)}
	}
	var errs []error
	first := map[string]int{}
	for i, p := range ps {
		at := fmt.Sprintf("profiles[%d]", i)
		for _, problem := range httpserver.SchemaIssues(schema, p.body()) {
			is := dialect.Classify(problem)
			errs = append(errs, newEntryError(at, is.Path, is.Code, is.Message))
		}
		if p.Password != nil && p.PasswordHash != "" {
			errs = append(errs, newEntryError(at, "/password_hash", CodeInvalidInput, "password and password_hash exclude each other: give one."))
		} else if p.PasswordHash != "" {
			if _, err := password.Import(p.PasswordHash); err != nil {
				errs = append(errs, newEntryError(at, "/password_hash", CodeInvalidInput, err.Error()))
			}
		}
		if p.Email == nil || *p.Email == "" {
			continue
		}
		key := strings.ToLower(*p.Email)
		if j, dup := first[key]; dup {
			errs = append(errs, newEntryError(at, "/email", CodeProfileExists, fmt.Sprintf("The email is listed already, by profiles[%d].", j)))
			continue
		}
		first[key] = i
	}
	return errs
}

// body is p as the JSON body of a create: only the fields it gives.
func (p ProfileFixture) body() map[string]any {
	b := map[string]any{}
	if p.Email != nil {
		b["email"] = *p.Email
	}
	if p.FirstName != nil {
		b["firstName"] = *p.FirstName
	}
	if p.LastName != nil {
		b["lastName"] = *p.LastName
	}
	if p.Active != nil {
		b["active"] = *p.Active
	}
	if p.Roles != nil {
		roles := make([]any, len(p.Roles))
		for i, r := range p.Roles {
			roles[i] = r
		}
		b["roles"] = roles
	}
	if p.Password != nil {
		b["password"] = *p.Password
	}
	return b
}

// entryError is one problem of one entry of the section: "profiles[2].email: The email is not a
// valid email address.". It unwraps to the invalid-input error the API would answer, so that
// apperr.KindOf classifies it.
type entryError struct {
	// Entry is the entry ("profiles[2]"), Path the field in it as a JSON pointer ("/roles/0";
	// "" for the entry as a whole).
	Entry, Path string
	// Code is OCC's error code for the problem, "" when the API has none.
	Code, Message string
}

func newEntryError(entry, path, code, message string) *entryError {
	return &entryError{Entry: entry, Path: path, Code: code, Message: message}
}

func (e *entryError) Error() string {
	where := e.Entry
	if e.Path != "" {
		where += "." + httpserver.JoinPath("", strings.Split(strings.TrimPrefix(e.Path, "/"), "/"))
	}
	return where + ": " + e.Message
}

func (e *entryError) Unwrap() error { return apperr.Invalid(e.Path, e.Code, e.Message) }

// prepareFixtures hashes the profiles' plain passwords, on every core (the slow part, done before
// the start-up lock is taken); a password_hash is stored as given.
func prepareFixtures(ctx context.Context, env module.Env, f *Fixtures) (module.Write, error) {
	roles := make([]Role, len(f.Roles))
	for i, r := range f.Roles {
		roles[i] = Role(r)
	}
	profiles, err := seedProfiles(ctx, env, f.Profiles)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, tx *gorm.DB, overwrite bool, applied module.Applied) error {
		st := NewStore(tx)
		if err := st.LoadRoles(ctx, roles, overwrite, func(created bool) { applied.Add("roles", created) }); err != nil {
			return err
		}
		if len(profiles) == 0 {
			return nil
		}
		stored, err := st.Roles(ctx)
		if err != nil {
			return err
		}
		var errs []error
		for i, p := range profiles {
			for _, e := range apperr.All(checkRoles(p.Roles, stored)) {
				errs = append(errs, newEntryError(fmt.Sprintf("profiles[%d]", i), e.Field, e.Rule, e.Message))
			}
		}
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
		return st.LoadProfiles(ctx, profiles, overwrite, func(created bool) { applied.Add("profiles", created) })
	}, nil
}

// seedProfiles turns the entries into profiles registered now, hashing plain passwords with the
// server's hasher.
func seedProfiles(ctx context.Context, env module.Env, ps []ProfileFixture) ([]AdminProfile, error) {
	now := env.Now().UTC().Truncate(time.Millisecond)
	out := make([]AdminProfile, len(ps))
	var plain []int
	var pws []string
	for i, p := range ps {
		out[i] = AdminProfile{
			Email: deref(p.Email), FirstName: deref(p.FirstName), LastName: deref(p.LastName), Active: p.Active == nil || *p.Active,
			Roles: p.Roles, PasswordHash: p.PasswordHash, RegistrationDate: now,
		}
		if p.Password != nil {
			plain = append(plain, i)
			pws = append(pws, *p.Password)
		}
	}
	hashes, err := env.Hasher.HashAll(ctx, pws)
	if err != nil {
		return nil, fmt.Errorf("hash the profiles' passwords: %w", err)
	}
	for k, i := range plain {
		out[i].PasswordHash = hashes[k]
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
