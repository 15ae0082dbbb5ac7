package platformos

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
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

// Fixtures is platformOS's section of a fixtures file: the form configurations and the users.
type Fixtures struct {
	FormConfigurations []FormFixture `yaml:"form_configurations"`
	Users              []UserFixture `yaml:"users"`
}

// FormFixture names the user form fields an operation (kind create, update, session or logout)
// accepts and those it requires, and the shortest password it takes (default 6). A logout
// configuration (DELETE /api/sessions) takes no fields.
type FormFixture struct {
	Name              string   `yaml:"name"`
	Kind              string   `yaml:"kind"`
	Fields            []string `yaml:"fields"`
	Required          []string `yaml:"required"`
	PasswordMinLength int      `yaml:"password_min_length"`
}

// UserFixture is a user as POST /api/users would create it: the create body's form_configuration_name
// (or form_name) next to the fields of its form, under the form's own names, so that a create body's
// form can be pasted in. One field the create call has not: password_hash, a password hashed
// elsewhere (an argon2id PHC string, or a bcrypt hash $2a$/$2b$/$2y$ such as PHP's password_hash or
// Rails' has_secure_password make), instead of password; a login with a bcrypt one stores the
// password again as argon2id. platformOS users have no status or roles, so nothing else is needed.
//
// Which rules: those of the create under the form configuration the entry names, as a create
// naming it would meet them — its fields (a field it does not accept: "is not allowed"), its
// required fields ("can't be blank"; password_hash counts as a password), its password length
// (which password_hash, hashed already, skips), and the rules of every create: an email, valid.
// Left out, the configuration is reference_rest_api_create_user, platformOS's reference create
// form (so email, first_name and a password are required). The configuration is the one stored
// when the file is applied, this file's own form_configurations included, as a create would
// find it: the rules that need it are checked when the file is applied (every entry's problems
// listed at once, nothing written), the others when it is read.
//
// A user is stored by its email in any letter case, the API's unique key. An email already stored
// takes, when the file overwrites (fixtures load, PROVISIOND_FIXTURES), every value of the entry,
// those it leaves out included, as a create would leave them (no password, empty hashes): applying
// the file again brings its users back to what it says. The stored user keeps its id and its
// created_at. Without overwrite, a user that exists is left alone.
type UserFixture struct {
	FormConfigurationName string         `yaml:"form_configuration_name"`
	FormName              string         `yaml:"form_name"`
	Email                 *string        `yaml:"email"`
	Password              *string        `yaml:"password"`
	PasswordHash          *string        `yaml:"password_hash"`
	ExternalID            *string        `yaml:"external_id"`
	FirstName             *string        `yaml:"first_name"`
	MiddleName            *string        `yaml:"middle_name"`
	LastName              *string        `yaml:"last_name"`
	Name                  *string        `yaml:"name"`
	Featured              *bool          `yaml:"featured"`
	PublicProfile         *bool          `yaml:"public_profile"`
	Profiles              map[string]any `yaml:"profiles"`
	RelationshipUsers     map[string]any `yaml:"relationship_users"`
	Transactables         map[string]any `yaml:"transactables"`
}

// DefaultCreateForm is the form configuration of a fixtures user that names none.
const DefaultCreateForm = "reference_rest_api_create_user"

var fixtures = module.Section(checkFixtures, prepareFixtures)

func checkFixtures(_ module.Env, f *Fixtures) []error {
	var errs []error
	seen := map[string]bool{}
	for i, fc := range f.FormConfigurations {
		where := fmt.Sprintf("form_configurations[%d]", i)
		if fc.Name == "" || seen[fc.Name] {
			errs = append(errs, fmt.Errorf("%s: a name is required, once", where))
		}
		seen[fc.Name] = true
		if !slices.Contains(Kinds, fc.Kind) {
			errs = append(errs, fmt.Errorf("%s: kind must be create, update, session or logout", where))
		}
		if fc.Kind == KindLogout && len(fc.Fields) > 0 {
			errs = append(errs, fmt.Errorf("%s: a logout configuration takes no fields (DELETE /api/sessions sends no form)", where))
		}
		for _, field := range slices.Concat(fc.Fields, fc.Required) {
			if !slices.Contains(Fields, field) {
				errs = append(errs, fmt.Errorf("%s: %q is not a user form field (%v)", where, field, Fields))
			}
		}
		for _, field := range fc.Required {
			if !slices.Contains(fc.Fields, field) {
				errs = append(errs, fmt.Errorf("%s: required field %q is not among its fields", where, field))
			}
		}
		if fc.Kind == KindCreate && !slices.Contains(fc.Fields, "email") {
			errs = append(errs, fmt.Errorf("%s: a create configuration must accept email (every user has one)", where))
		}
		if fc.PasswordMinLength < 0 {
			errs = append(errs, fmt.Errorf("%s: password_min_length must be 0 or more", where))
		}
	}
	return append(errs, checkUsers(f.Users)...)
}

// entryError is a problem of one field of one fixtures user: its text is "users[2].email: is
// invalid", and it is classified (apperr, KindInvalid, Field "users[2].email"), so that whoever
// applies a file can tell a refused file from a failing database.
type entryError struct{ e *apperr.Error }

func (e entryError) Error() string { return e.e.Field + ": " + e.e.Message }
func (e entryError) Unwrap() error { return e.e }

func entryErr(i int, field, rule, message string) error {
	return entryError{apperr.Invalid(fmt.Sprintf("users[%d].%s", i, field), rule, message)}
}

// anyForm accepts every form field and requires none: under it, rules finds the problems of a
// user that no form configuration changes (a blank or invalid email, a blank password).
var anyForm = FormConfiguration{Fields: Fields}

// checkUsers lists the problems of the users that need no form configuration: the rules of every
// create (an email, valid; a password sent is not blank), the create body's schema (the hashes'
// shapes), password_hash's format, U+0000 (which PostgreSQL's text cannot hold, refused as the API
// refuses it), and an email listed twice in any letter case (the key users are stored by).
func checkUsers(users []UserFixture) []error {
	var errs []error
	first := map[string]int{}
	for i, u := range users {
		form, problems := u.form(i)
		if len(problems) == 0 {
			for _, err := range rules(anyForm, form, true) {
				errs = append(errs, fieldErr(i, form.preHashed, err))
			}
			problems = schemaProblems(i, form)
		}
		errs = append(errs, problems...)
		if u.PasswordHash != nil {
			switch _, err := password.Import(*u.PasswordHash); {
			case u.Password != nil:
				errs = append(errs, entryErr(i, "password_hash", "exclusive", "can't be given with password"))
			case strings.TrimSpace(*u.PasswordHash) == "":
				errs = append(errs, entryErr(i, "password_hash", "blank", "can't be blank"))
			case err != nil:
				errs = append(errs, entryErr(i, "password_hash", "format", "is not an argon2id PHC string or a bcrypt hash ($2a$, $2b$, $2y$)"))
			}
		}
		errs = append(errs, u.nulProblems(i)...)
		if u.Email == nil || strings.TrimSpace(*u.Email) == "" {
			continue
		}
		key := strings.ToLower(*u.Email)
		if j, ok := first[key]; ok {
			errs = append(errs, entryErr(i, "email", "unique", fmt.Sprintf("is listed already, as users[%d].email (emails are compared case-insensitively)", j)))
		} else {
			first[key] = i
		}
	}
	return errs
}

// fieldErr turns a problem rules found, of a form field, into one of entry i, naming the
// entry's own field: password_hash for a pre-hashed password.
func fieldErr(i int, preHashed bool, err error) error {
	var e *apperr.Error
	if !errors.As(err, &e) {
		return fmt.Errorf("users[%d]: %w", i, err)
	}
	field := e.Field
	if field == "password" && preHashed {
		field = "password_hash"
	}
	return entryErr(i, field, e.Rule, e.Message)
}

// formField is the key of the entry that names its form configuration, and the name (the
// handler's rule: form_configuration_name, else form_name; DefaultCreateForm when neither).
func (u UserFixture) formField() (key, name string) {
	switch {
	case u.FormConfigurationName != "":
		return "form_configuration_name", u.FormConfigurationName
	case u.FormName != "":
		return "form_name", u.FormName
	}
	return "form_configuration_name", DefaultCreateForm
}

// form is the entry as the create call's form; its problems are hashes that are no JSON.
func (u UserFixture) form(i int) (Form, []error) {
	f := Form{
		Email: u.Email, Password: u.Password, ExternalID: u.ExternalID, FirstName: u.FirstName,
		MiddleName: u.MiddleName, LastName: u.LastName, Name: u.Name, Featured: u.Featured,
		PublicProfile: u.PublicProfile, preHashed: u.PasswordHash != nil && u.Password == nil,
	}
	var errs []error
	hash := func(name string, m map[string]any) json.RawMessage {
		if m == nil {
			return nil
		}
		js, err := json.Marshal(jsonValue(m))
		if err != nil {
			errs = append(errs, entryErr(i, name, "json", "is invalid (not representable in JSON)"))
		}
		return js
	}
	f.Profiles = hash("profiles", u.Profiles)
	f.RelationshipUsers = hash("relationship_users", u.RelationshipUsers)
	f.Transactables = hash("transactables", u.Transactables)
	sent := map[string]bool{
		"email": u.Email != nil, "password": u.Password != nil || u.PasswordHash != nil, "external_id": u.ExternalID != nil,
		"first_name": u.FirstName != nil, "middle_name": u.MiddleName != nil, "last_name": u.LastName != nil,
		"name": u.Name != nil, "featured": u.Featured != nil, "public_profile": u.PublicProfile != nil,
		"profiles": u.Profiles != nil, "relationship_users": u.RelationshipUsers != nil, "transactables": u.Transactables != nil,
	}
	for _, name := range Fields {
		if sent[name] {
			f.Sent = append(f.Sent, name)
		}
	}
	return f, errs
}

// jsonValue is v, decoded from YAML, as JSON can hold it: mappings with keys that are not strings
// get them as text, timestamps are RFC 3339 text.
func jsonValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonValue(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = jsonValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return x // json.Marshal refuses it: the hash is reported invalid
		}
	}
	return v
}

// userForm is the create body's form schema (UserForm in openapi/platformos.yaml).
var userForm = sync.OnceValues(func() (*openapi3.Schema, error) {
	_, doc, err := openapi.Load(Name)
	if err != nil {
		return nil, err
	}
	ref := doc.Components.Schemas["UserForm"]
	if ref == nil || ref.Value == nil {
		return nil, errors.New("openapi/platformos.yaml has no schema UserForm")
	}
	return ref.Value, nil
})

// schemaProblems checks the entry's form against the create body's form schema, as the API's
// request validation does (httpserver.SchemaIssues; a profile that is not an object, say): each
// value that breaks it is "is invalid", as the API answers, at its path with a dot between any
// two keys (profiles.0 for the profile "0", a key of digits as any other).
func schemaProblems(i int, f Form) []error {
	schema, err := userForm()
	if err != nil {
		return []error{fmt.Errorf("users[%d]: %w", i, err)}
	}
	body := map[string]any{}
	for name, js := range map[string]json.RawMessage{"profiles": f.Profiles, "relationship_users": f.RelationshipUsers, "transactables": f.Transactables} {
		if js == nil {
			continue
		}
		var v any
		if err := json.Unmarshal(js, &v); err != nil {
			return []error{fmt.Errorf("users[%d].%s: %w", i, name, err)}
		}
		body[name] = v
	}
	var paths []string
	for _, is := range httpserver.SchemaIssues(schema, body) {
		paths = append(paths, strings.Join(is.Pointer, "."))
	}
	slices.Sort(paths)
	var errs []error
	for _, p := range slices.Compact(paths) {
		errs = append(errs, entryErr(i, cmp.Or(p, "form"), "schema", "is invalid"))
	}
	return errs
}

// nulProblems lists the entry's fields that hold U+0000 anywhere (a key of a hash too).
func (u UserFixture) nulProblems(i int) []error {
	var errs []error
	nul := func(s string) bool { return strings.ContainsRune(s, 0) }
	var deep func(v any) bool
	deep = func(v any) bool {
		switch x := v.(type) {
		case string:
			return nul(x)
		case map[string]any:
			for k, e := range x {
				if nul(k) || deep(e) {
					return true
				}
			}
		case map[any]any:
			for k, e := range x {
				if deep(fmt.Sprint(k)) || deep(e) {
					return true
				}
			}
		case []any:
			return slices.ContainsFunc(x, deep)
		}
		return false
	}
	for _, v := range []struct {
		name  string
		value any
	}{
		{"form_configuration_name", u.FormConfigurationName}, {"form_name", u.FormName},
		{"email", u.Email}, {"password", u.Password}, {"password_hash", u.PasswordHash},
		{"external_id", u.ExternalID}, {"first_name", u.FirstName}, {"middle_name", u.MiddleName},
		{"last_name", u.LastName}, {"name", u.Name},
		{"profiles", u.Profiles}, {"relationship_users", u.RelationshipUsers}, {"transactables", u.Transactables},
	} {
		value := v.value
		if p, ok := value.(*string); ok {
			if p == nil {
				continue
			}
			value = *p
		}
		if deep(value) {
			errs = append(errs, entryErr(i, v.name, "characters", "is invalid (it holds U+0000)"))
		}
	}
	return errs
}

// seedUser is a fixtures user ready to be checked against its form configuration and written.
type seedUser struct {
	index             int
	form              Form
	formKey, formName string
	user              User
	password          *string
}

// prepareFixtures does the slow work: it hashes the users' plain passwords, several at once,
// before the start-up lock is taken (imported hashes are taken as they are).
func prepareFixtures(ctx context.Context, env module.Env, f *Fixtures) (module.Write, error) {
	forms := make([]FormConfiguration, len(f.FormConfigurations))
	for i, fc := range f.FormConfigurations {
		forms[i] = FormConfiguration(fc)
		if forms[i].Fields == nil {
			forms[i].Fields = []string{}
		}
		if forms[i].Required == nil {
			forms[i].Required = []string{}
		}
	}
	users := make([]seedUser, len(f.Users))
	for i, u := range f.Users {
		form, errs := u.form(i)
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		key, name := u.formField()
		users[i] = seedUser{index: i, form: form, formKey: key, formName: name, password: u.Password}
		if err := apply(&users[i].user, form, ""); err != nil {
			return nil, fmt.Errorf("users[%d]: %w", i, err)
		}
		if u.PasswordHash != nil && u.Password == nil {
			users[i].user.PasswordHash = *u.PasswordHash
		}
	}
	if err := hashPasswords(ctx, env.Hasher, users); err != nil {
		return nil, err
	}
	return func(ctx context.Context, tx *gorm.DB, overwrite bool, applied module.Applied) error {
		st := NewStore(tx)
		created, updated, err := st.LoadForms(ctx, forms, overwrite)
		if err != nil {
			return err
		}
		count(applied, "form_configurations", created, updated)
		if len(users) == 0 {
			return nil
		}
		if err := checkForms(ctx, st, users); err != nil {
			return err
		}
		now := env.Now().UTC().Truncate(time.Microsecond)
		rows := make([]userRow, len(users))
		for i := range users {
			u := users[i].user
			u.CreatedAt, u.UpdatedAt = now, now
			rows[i] = toRow(&u)
		}
		created, updated, err = st.Seed(ctx, rows, overwrite)
		if err != nil {
			return err
		}
		count(applied, "users", created, updated)
		return nil
	}, nil
}

func count(applied module.Applied, kind string, created, updated int) {
	for range created {
		applied.Add(kind, true)
	}
	for range updated {
		applied.Add(kind, false)
	}
}

// hashPasswords hashes the plain passwords of users with the server's hasher (argon2id, the
// API's parameters).
func hashPasswords(ctx context.Context, hasher *password.Hasher, users []seedUser) error {
	var todo []int
	var pws []string
	for i, u := range users {
		if u.password != nil {
			todo = append(todo, i)
			pws = append(pws, *u.password)
		}
	}
	hashes, err := hasher.HashAll(ctx, pws)
	if err != nil {
		return err
	}
	for k, i := range todo {
		users[i].user.PasswordHash = hashes[k]
	}
	return nil
}

// checkForms checks every user against the form configuration it names, as stored now (after
// this file's own configurations): an unknown one, or one not of kind create, is refused as the
// API refuses it; the configuration's fields, required fields and password length as a create
// under it would meet them. It lists every problem of every user, and writes nothing.
func checkForms(ctx context.Context, st *DBStore, users []seedUser) error {
	svc := &Service{store: st}
	type found struct {
		cfg FormConfiguration
		err error
	}
	cache := map[string]found{}
	var errs []error
	for _, u := range users {
		c, ok := cache[u.formName]
		if !ok {
			c.cfg, c.err = svc.form(ctx, u.formName, KindCreate)
			cache[u.formName] = c
		}
		if c.err != nil {
			var e *apperr.Error
			if !errors.As(c.err, &e) || !errors.Is(c.err, errNotAcceptable) {
				return c.err
			}
			errs = append(errs, entryErr(u.index, u.formKey, e.Rule, e.Message))
			continue
		}
		for _, err := range rules(c.cfg, u.form, true) {
			errs = append(errs, fieldErr(u.index, u.form.preHashed, err))
		}
	}
	return errors.Join(errs...)
}
