// Package platformos serves platformOS's legacy REST API for users (seed 001): create and update
// users through form configurations, and log users in and out, with Rails-style errors.
package platformos

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/email"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/password"
)

// Name is the API's short name.
const Name = "platformos"

// The kinds of form configuration: which operation may use it. KindSession logs in
// (POST /api/sessions), KindLogout logs out (DELETE /api/sessions).
const (
	KindCreate  = "create"
	KindUpdate  = "update"
	KindSession = "session"
	KindLogout  = "logout"
)

// Kinds are the kinds of form configuration.
var Kinds = []string{KindCreate, KindUpdate, KindSession, KindLogout}

// aliases are other names of platformOS's reference session configurations: the plural the
// examples of its reference pages use (platformos-documentation: pages/reference/rest-api/
// sessions_post.md and session_delete.md, app/views/pages/api-reference/rest-api/sessions.liquid),
// where its reference application defines them in the singular (form_configurations/reference/
// rest-api/{create,delete}_session.liquid), and the login configuration's former name in
// provisiond. A configuration stored under one of these names is used rather than the one it
// stands for.
var aliases = map[string]string{
	"reference_rest_api_create_sessions": "reference_rest_api_create_session",
	"reference_rest_api_user_session":    "reference_rest_api_create_session",
	"reference_rest_api_delete_sessions": "reference_rest_api_delete_session",
}

// DefaultPasswordMinLength is platformOS's default password validation.
const DefaultPasswordMinLength = 6

// SessionTTL is how long a session cookie lives.
const SessionTTL = 14 * 24 * time.Hour

// Fields are the form fields a user form may carry, in the order errors list them.
var Fields = []string{"email", "password", "external_id", "first_name", "middle_name", "last_name", "name",
	"featured", "public_profile", "profiles", "relationship_users", "transactables"}

// FormConfiguration decides which form fields an operation accepts and which it requires.
type FormConfiguration struct {
	Name              string
	Kind              string
	Fields            []string
	Required          []string
	PasswordMinLength int
}

// User is a platformOS user. The three hashes are JSON objects, kept as sent.
type User struct {
	ID                                         int64
	Email                                      string
	PasswordHash                               string
	ExternalID, FirstName, MiddleName          *string
	LastName, Name                             *string
	Featured, PublicProfile                    bool
	Profiles, RelationshipUsers, Transactables string
	CreatedAt, UpdatedAt                       time.Time
}

// Form is the form of a request: the fields sent (Sent, every name, known or not) and their values.
type Form struct {
	Sent                                       []string
	Email, Password, ExternalID, FirstName     *string
	MiddleName, LastName, Name                 *string
	Featured, PublicProfile                    *bool
	Profiles, RelationshipUsers, Transactables json.RawMessage
	// preHashed: the password comes already hashed (a fixtures user's password_hash), so it is
	// sent and not blank though Password is nil, and no length rule can see it.
	preHashed bool
}

func (f Form) sent(name string) bool { return slices.Contains(f.Sent, name) }

// blank reports whether the form lacks a value for name, in Rails' sense of blank.
func (f Form) blank(name string) bool {
	str := func(p *string) bool { return p == nil || strings.TrimSpace(*p) == "" }
	obj := func(js json.RawMessage) bool {
		s := strings.TrimSpace(string(js))
		return s == "" || s == "null" || strings.ReplaceAll(s, " ", "") == "{}"
	}
	switch name {
	case "email":
		return str(f.Email)
	case "password":
		return !f.preHashed && str(f.Password)
	case "external_id":
		return str(f.ExternalID)
	case "first_name":
		return str(f.FirstName)
	case "middle_name":
		return str(f.MiddleName)
	case "last_name":
		return str(f.LastName)
	case "name":
		return str(f.Name)
	case "featured":
		return f.Featured == nil
	case "public_profile":
		return f.PublicProfile == nil
	case "profiles":
		return obj(f.Profiles)
	case "relationship_users":
		return obj(f.RelationshipUsers)
	case "transactables":
		return obj(f.Transactables)
	}
	return true
}

// Store is what the service needs from persistence.
type Store interface {
	Create(ctx context.Context, u *User) error
	Get(ctx context.Context, id int64) (User, error)
	GetByEmail(ctx context.Context, email string) (User, error)
	// Rehash replaces the password hash of user id by hash if it is still old; a user whose hash
	// changed meanwhile keeps the new one.
	Rehash(ctx context.Context, id int64, old, hash string) error
	EmailFree(ctx context.Context, email string, self int64) error
	// Update changes the user id in one transaction that locks it first: change gets the stored
	// user and alters it, or returns an error that leaves it unchanged. It returns the user as
	// written.
	Update(ctx context.Context, id int64, change func(*User) error) (User, error)
	Form(ctx context.Context, name string) (FormConfiguration, bool, error)
	CreateSession(ctx context.Context, hash string, user int64, expires time.Time) error
	DeleteSession(ctx context.Context, hash string) error
}

// Service applies the form configurations and the rules the schema cannot express.
type Service struct {
	store  Store
	hasher *password.Hasher
	now    func() time.Time
}

// NewService returns a Service.
func NewService(store Store, hasher *password.Hasher, now func() time.Time) *Service {
	return &Service{store: store, hasher: hasher, now: now}
}

func invalid(field, rule, message string) error { return apperr.Invalid(field, rule, message) }

// errNotAcceptable marks the errors platformOS answers with 406 rather than 422.
var errNotAcceptable = errors.New("not acceptable")

// errFormConfiguration is a missing or unknown form configuration, answered with 406.
func errFormConfiguration(rule, message string) error {
	return &apperr.Error{Kind: apperr.KindInvalid, Field: "form_configuration_name", Rule: rule, Message: message, Err: errNotAcceptable}
}

// form finds the configuration name of kind, or the one name is an alias of when none is
// stored under name.
func (s *Service) form(ctx context.Context, name, kind string) (FormConfiguration, error) {
	if name == "" {
		return FormConfiguration{}, errFormConfiguration("blank", "can't be blank")
	}
	cfg, ok, err := s.store.Form(ctx, name)
	if target, alias := aliases[name]; err == nil && !ok && alias {
		cfg, ok, err = s.store.Form(ctx, target)
	}
	if err != nil {
		return FormConfiguration{}, err
	}
	if !ok || cfg.Kind != kind {
		return FormConfiguration{}, errFormConfiguration("exists", "is not a known form configuration")
	}
	if cfg.PasswordMinLength <= 0 {
		cfg.PasswordMinLength = DefaultPasswordMinLength
	}
	return cfg, nil
}

// check lists every problem of f under cfg. requireEmail holds for creates: a user always has one.
func (s *Service) check(ctx context.Context, cfg FormConfiguration, f Form, requireEmail bool, self int64) error {
	return s.withEmailTaken(ctx, f, self, requestRules(cfg, f, requireEmail))
}

// requestRules are the rules of a request's form: those of rules, and the hashes stored as sent
// refusing U+0000 (a fixtures user's hashes are checked for it with its other values).
func requestRules(cfg FormConfiguration, f Form, requireEmail bool) []error {
	return append(rules(cfg, f, requireEmail), nulHashes(cfg, f)...)
}

// nulHashes lists the hashes of f that cfg accepts and that hold U+0000 in a key or a value at
// any depth: they are stored as sent, and PostgreSQL's text cannot hold it. Each is "is invalid"
// on the hash, as Rails answers a value its column refuses.
func nulHashes(cfg FormConfiguration, f Form) []error {
	var errs []error
	for _, h := range []struct {
		name string
		js   json.RawMessage
	}{{"profiles", f.Profiles}, {"relationship_users", f.RelationshipUsers}, {"transactables", f.Transactables}} {
		if len(h.js) == 0 || !slices.Contains(cfg.Fields, h.name) {
			continue
		}
		// Numbers stay text (json.Number): 1e400 is a value profiles keep as sent, not an error.
		dec := json.NewDecoder(bytes.NewReader(h.js))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil || len(httpserver.CharacterIssues(v)) > 0 {
			errs = append(errs, invalid(h.name, "characters", "is invalid"))
		}
	}
	return errs
}

// withEmailTaken joins errs with the email of f taken, when a user other than self holds it.
func (s *Service) withEmailTaken(ctx context.Context, f Form, self int64, errs []error) error {
	if f.Email != nil && !f.blank("email") && email.Valid(*f.Email) {
		if err := s.store.EmailFree(ctx, *f.Email, self); apperr.KindOf(err) == apperr.KindConflict {
			errs = append(errs, err)
		} else if err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

// rules lists the problems of f under cfg that need no stored data (all but a taken email): the
// fields cfg does not accept, the required ones left blank, the email's format and the
// password's length. The fixtures' users (fixtures.go) are checked by it too.
func rules(cfg FormConfiguration, f Form, requireEmail bool) []error {
	var errs []error
	for _, name := range f.Sent {
		if !slices.Contains(cfg.Fields, name) {
			errs = append(errs, invalid(name, "allowed", "is not allowed"))
		}
	}
	for _, name := range Fields {
		if slices.Contains(f.Sent, name) && !slices.Contains(cfg.Fields, name) {
			continue
		}
		// A password that is sent must not be blank (Devise's rule): a blank one would replace the
		// stored hash below every minimum length.
		required := slices.Contains(cfg.Required, name) || name == "email" && (requireEmail || f.sent("email")) ||
			name == "password" && f.sent("password")
		if required && f.blank(name) {
			errs = append(errs, invalid(name, "blank", "can't be blank"))
		}
	}
	if f.Email != nil && !f.blank("email") && !email.Valid(*f.Email) {
		errs = append(errs, invalid("email", "invalid", "is invalid"))
	}
	if f.Password != nil && !f.blank("password") && len([]rune(*f.Password)) < cfg.PasswordMinLength {
		errs = append(errs, invalid("password", "too_short", fmt.Sprintf("is too short (minimum is %d characters)", cfg.PasswordMinLength)))
	}
	return errs
}

// Create makes a user from the form, under the configuration formName.
func (s *Service) Create(ctx context.Context, formName string, f Form) (int64, error) {
	cfg, err := s.form(ctx, formName, KindCreate)
	if err != nil {
		return 0, err
	}
	if errs := requestRules(cfg, f, true); len(errs) > 0 {
		// platformOS lists a taken email with the other problems. Otherwise the email is checked
		// by the insert itself (its unique violation is the same error): one round trip fewer.
		return 0, s.withEmailTaken(ctx, f, 0, errs)
	}
	hash, err := s.hash(ctx, f.Password)
	if err != nil {
		return 0, err
	}
	u := User{CreatedAt: s.now().UTC()}
	u.UpdatedAt = u.CreatedAt
	if err := apply(&u, f, hash); err != nil {
		return 0, err
	}
	if err := s.store.Create(ctx, &u); err != nil {
		return 0, err
	}
	return u.ID, nil
}

// Update changes user id with the form, under the configuration formName. The store runs it in
// one transaction that locks the user first; what needs no stored user is done before: the form
// configuration is read, the form checked (the email's owner looked up), and a new password
// hashed, so that no row lock, nor SQLite's one connection, is held while argon2id runs.
func (s *Service) Update(ctx context.Context, n int64, formName string, f Form) error {
	if n <= 0 {
		return errUserNotFound
	}
	// Reported from inside the transaction, once the user is known to exist: an unknown user is a
	// 404 whatever else is wrong.
	problems := s.checkUpdate(ctx, formName, f, n)
	var hash string
	if problems == nil {
		var err error
		if hash, err = s.hash(ctx, f.Password); err != nil {
			return err
		}
	}
	_, err := s.store.Update(ctx, n, func(u *User) error {
		if problems != nil {
			return problems
		}
		if err := apply(u, f, hash); err != nil {
			return err
		}
		u.UpdatedAt = s.now().UTC()
		return nil
	})
	return err
}

// checkUpdate finds the update configuration formName and lists every problem of f under it.
func (s *Service) checkUpdate(ctx context.Context, formName string, f Form, self int64) error {
	cfg, err := s.form(ctx, formName, KindUpdate)
	if err != nil {
		return err
	}
	return s.check(ctx, cfg, f, false, self)
}

// hash is the hash of pw, "" when pw is nil.
func (s *Service) hash(ctx context.Context, pw *string) (string, error) {
	if pw == nil {
		return "", nil
	}
	h, err := s.hasher.Hash(ctx, *pw)
	if err != nil {
		return "", apperr.Unavailable(err)
	}
	return h, nil
}

// apply copies the form's values onto u, merging the hashes by key, and sets the password hash
// when the form sends a password.
func apply(u *User, f Form, hash string) error {
	set := func(dst **string, v *string) {
		if v != nil {
			*dst = v
		}
	}
	if f.Email != nil {
		u.Email = *f.Email
	}
	set(&u.ExternalID, f.ExternalID)
	set(&u.FirstName, f.FirstName)
	set(&u.MiddleName, f.MiddleName)
	set(&u.LastName, f.LastName)
	set(&u.Name, f.Name)
	if f.Featured != nil {
		u.Featured = *f.Featured
	}
	if f.PublicProfile != nil {
		u.PublicProfile = *f.PublicProfile
	}
	var err error
	if u.Profiles, err = merge(u.Profiles, f.Profiles); err != nil {
		return err
	}
	if u.RelationshipUsers, err = merge(u.RelationshipUsers, f.RelationshipUsers); err != nil {
		return err
	}
	if u.Transactables, err = merge(u.Transactables, f.Transactables); err != nil {
		return err
	}
	if f.Password != nil {
		u.PasswordHash = hash
	}
	return nil
}

// merge sets the top-level entries of the JSON object sent over those stored. Values keep their
// exact value (numbers are never rounded); the order of object keys is not kept.
func merge(stored string, sent json.RawMessage) (string, error) {
	if len(sent) == 0 || strings.TrimSpace(string(sent)) == "null" {
		if stored == "" {
			return "{}", nil
		}
		return stored, nil
	}
	all := map[string]json.RawMessage{}
	if stored != "" {
		if err := json.Unmarshal([]byte(stored), &all); err != nil {
			return "", apperr.Internal(fmt.Errorf("decode stored hash: %w", err))
		}
	}
	var add map[string]json.RawMessage
	if err := json.Unmarshal(sent, &add); err != nil {
		return "", apperr.Internal(fmt.Errorf("decode sent hash: %w", err))
	}
	for k, v := range add {
		all[k] = v
	}
	out, err := json.Marshal(all)
	if err != nil {
		return "", apperr.Internal(err)
	}
	return string(out), nil
}

var errBadLogin = invalid("base", "credentials", "Invalid email or password")

// Login checks a user's credentials under a session configuration and returns a new session's secret.
func (s *Service) Login(ctx context.Context, formName string, email, pw *string) (string, error) {
	cfg, err := s.form(ctx, formName, KindSession)
	if err != nil {
		return "", err
	}
	f := Form{Email: email, Password: pw}
	var errs []error
	for _, name := range cfg.Required {
		if f.blank(name) {
			errs = append(errs, invalid(name, "blank", "can't be blank"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	if email == nil || pw == nil {
		return "", errBadLogin
	}
	u, err := s.store.GetByEmail(ctx, *email)
	switch {
	case apperr.KindOf(err) == apperr.KindNotFound:
		u = User{} // its empty hash costs a verification all the same
	case err != nil:
		return "", err
	}
	ok, err := s.hasher.Check(ctx, *pw, u.PasswordHash)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", errBadLogin
	}
	if err := s.rehash(ctx, u, *pw); err != nil {
		return "", err
	}
	secret := rand.Text() + rand.Text()
	if err := s.store.CreateSession(ctx, sessionHash(secret), u.ID, s.now().Add(SessionTTL)); err != nil {
		return "", err
	}
	return secret, nil
}

// rehash stores pw, just verified against u's stored hash, hashed again with argon2id when that
// hash is one Import took in (bcrypt: password.NeedsRehash), so that imported hashes go away as
// their users log in. The UPDATE changes only the hash, and only while it is still the one
// verified: a password changed meanwhile (an update) is not overwritten. When no hashing slot
// comes free the login goes on and the next one tries again; a failing database fails the login.
func (s *Service) rehash(ctx context.Context, u User, pw string) error {
	if !password.NeedsRehash(u.PasswordHash) {
		return nil
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return nil // the login stands; the bcrypt hash stays until the next one
	}
	return s.store.Rehash(ctx, u.ID, u.PasswordHash, hash)
}

// Logout ends the session whose cookie holds secret, under the logout configuration formName
// (platformOS requires one: without it, or with an unknown one, the session stays).
func (s *Service) Logout(ctx context.Context, formName, secret string) error {
	if _, err := s.form(ctx, formName, KindLogout); err != nil {
		return err
	}
	if secret == "" {
		return nil
	}
	return s.store.DeleteSession(ctx, sessionHash(secret))
}

func sessionHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
