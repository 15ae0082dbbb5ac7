// Package activeplatform serves ActivePlatform's API v1 for vendor users (seed 003): create,
// list, read and update users with JSON or form-encoded bodies, attach users to accounts
// (reference data) and list an account's users, Grape-style errors.
package activeplatform

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/password"
)

// Name is the API's short name.
const Name = "activeplatform"

// The value types of custom attributes.
const (
	TypeString  = "string"
	TypeInteger = "integer"
	TypeBoolean = "boolean"
)

// The statuses of a user and of an account. A user's status (User.Status) is active while the
// user is active globally (User.Global: a user the API creates is) and attached to an active
// account (vendor: "A user's status for all Accounts, to which it was linked").
const (
	StatusActive   = "active"
	StatusInactive = "inactive"
)

// User is an ActivePlatform user.
type User struct {
	ID                              int64
	Email                           string
	FirstName, MiddleName, LastName string
	PasswordHash                    string
	// Status is the status responses show (statusOf); Global the user's own, stored one.
	Status, Global       string
	Attributes           []Attribute
	CreatedAt, UpdatedAt time.Time
}

// Attribute is a custom attribute's value, by the definition's key.
type Attribute struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Definition is an operator-defined custom attribute: its key, display name and value type.
type Definition struct {
	Key  string
	Name string
	Type string
}

// statusOf is a user's status: active while global is and the user is attached to an active
// account (linked).
func statusOf(global string, linked bool) string {
	if global == StatusActive && linked {
		return StatusActive
	}
	return StatusInactive
}

// The roles of an access; RoleUser is the default.
const (
	RoleUser  = "user"
	RoleAdmin = "admin"
	RoleOwner = "owner"
)

// Account is an account (reference data): its id, name and status (active or inactive).
type Account struct {
	ID     int64
	Name   string
	Status string
}

// Access attaches a user to an account with a role.
type Access struct {
	AccountID, UserID int64
	Role              string
}

// DefaultPerPage is a list page's size when per_page is not sent.
const DefaultPerPage = 25

// ListQuery selects a page of users.
type ListQuery struct {
	Email, Status            string
	CreatedFrom, UpdatedFrom *time.Time
	Sort                     string
	Reversed                 bool
	Offset, Limit            int
}

// Store is what the service needs from persistence.
type Store interface {
	Create(ctx context.Context, u *User) error
	Get(ctx context.Context, id int64) (User, error)
	// Update changes the user id in one transaction that locks it first: change gets the stored
	// user and alters it, or returns an error that leaves it unchanged. It returns the user as
	// written.
	Update(ctx context.Context, id int64, change func(*User) error) (User, error)
	List(ctx context.Context, q ListQuery) ([]User, error)
	Definitions(ctx context.Context) (map[string]Definition, error)
	// Attach stores an access: an unknown user or account is not found, the same user and
	// account twice, or a second owner of an account, a conflict.
	Attach(ctx context.Context, a Access) error
	// AccountUsers reads the users attached to account id, by id; an unknown account is not found.
	AccountUsers(ctx context.Context, id int64) ([]User, error)
}

// Policy is the password policy.
type Policy struct {
	MinLength                           int
	Letter, Digit, Upper, Lower, Symbol bool
	text                                string
	re                                  *regexp.Regexp // Schema's pattern, compiled
}

// DefaultPolicy is the policy of a server that configures none (PROVISIOND_PASSWORD_POLICY's
// default), the one the spec states.
var DefaultPolicy, _ = ParsePolicy("min=8,letter,digit")

// ParsePolicy reads "min=8,letter,digit" (any of letter, digit, upper, lower, symbol).
func ParsePolicy(s string) (Policy, error) {
	p := Policy{text: s}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		switch {
		case strings.HasPrefix(part, "min="):
			n, err := strconv.Atoi(strings.TrimPrefix(part, "min="))
			if err != nil || n < 1 {
				return Policy{}, fmt.Errorf("password policy: min must be a positive number")
			}
			p.MinLength = n
		case part == "letter":
			p.Letter = true
		case part == "digit":
			p.Digit = true
		case part == "upper":
			p.Upper = true
		case part == "lower":
			p.Lower = true
		case part == "symbol":
			p.Symbol = true
		case part == "":
		default:
			return Policy{}, fmt.Errorf("password policy: unknown rule %q", part)
		}
	}
	_, pattern := p.Schema()
	p.re = regexp.MustCompile(pattern)
	return p, nil
}

// The character classes of the policy's rules, as the spec's pattern states them (Schema):
// ASCII letters and digits, so that one pattern means the same in every tool (JSON Schema has no
// portable Unicode classes). A symbol is any other character. None matches U+0000, which the
// spec refuses in a password (answered "password is invalid").
const (
	classLetter = `[A-Za-z]`
	classDigit  = `[0-9]`
	classUpper  = `[A-Z]`
	classLower  = `[a-z]`
	classSymbol = `[^\x00A-Za-z0-9]`
)

// classes are the classes of which pw needs a character each: distinct characters, since no two
// overlap (a letter is implied by an upper- or a lower-case one, and then not listed).
func (p Policy) classes() []string {
	var out []string
	if p.Letter && !p.Upper && !p.Lower {
		out = append(out, classLetter)
	}
	for _, c := range []struct {
		on    bool
		class string
	}{{p.Upper, classUpper}, {p.Lower, classLower}, {p.Digit, classDigit}, {p.Symbol, classSymbol}} {
		if c.on {
			out = append(out, c.class)
		}
	}
	return out
}

// Allows reports whether pw satisfies the policy: the spec's minLength (in characters) and
// pattern (Schema), as the validator applies them.
func (p Policy) Allows(pw string) bool {
	re := p.re
	if re == nil {
		_, pattern := p.Schema()
		re = regexp.MustCompile(pattern)
	}
	return utf8.RuneCountInString(pw) >= p.MinLength && re.MatchString(pw)
}

// Schema is the policy as the spec states a password's rules: a minLength and an anchored
// pattern that refuses U+0000 and needs a character of each class the policy requires, in any
// order (RE2 has no lookahead: one alternative per order).
func (p Policy) Schema() (minLength int, pattern string) {
	const anyText = `[^\x00]*`
	var orders []string
	for _, order := range permutations(p.classes()) {
		orders = append(orders, strings.Join(order, anyText))
	}
	if len(orders) == 0 {
		return p.MinLength, "^" + anyText + "$"
	}
	return p.MinLength, "^" + anyText + "(" + strings.Join(orders, "|") + ")" + anyText + "$"
}

// permutations lists every order of xs.
func permutations(xs []string) [][]string {
	if len(xs) <= 1 {
		return [][]string{xs}
	}
	var out [][]string
	for i := range xs {
		rest := append(slices.Clone(xs[:i]), xs[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]string{xs[i]}, p...))
		}
	}
	return out
}

// weak is the message of a password the policy refuses.
func (p Policy) weak() string { return "password is too weak: " + p.Describe() }

// Describe words the policy for an error message.
func (p Policy) Describe() string {
	parts := []string{fmt.Sprintf("at least %d characters", p.MinLength)}
	for _, c := range []struct {
		on   bool
		what string
	}{{p.Letter, "a letter"}, {p.Digit, "a digit"}, {p.Upper, "an upper-case letter"}, {p.Lower, "a lower-case letter"}, {p.Symbol, "a symbol"}} {
		if c.on {
			parts = append(parts, c.what)
		}
	}
	return strings.Join(parts, ", ")
}

// Service applies ActivePlatform's rules that the schema cannot express.
type Service struct {
	store  Store
	hasher *password.Hasher
	policy Policy
	now    func() time.Time
}

// NewService returns a Service.
func NewService(store Store, hasher *password.Hasher, policy Policy, now func() time.Time) *Service {
	return &Service{store: store, hasher: hasher, policy: policy, now: now}
}

func invalid(field, message string) error { return apperr.Invalid(field, "invalid", message) }

// check lists the problems of a password (when set) and of custom attributes, and returns the
// attribute definitions it read to check them (nil when attrs is empty).
func (s *Service) check(ctx context.Context, pw *string, attrs []Attribute) (map[string]Definition, error) {
	var errs []error
	if pw != nil && !s.policy.Allows(*pw) {
		errs = append(errs, invalid("password", s.policy.weak()))
	}
	var defs map[string]Definition
	if len(attrs) > 0 {
		var err error
		if defs, err = s.store.Definitions(ctx); err != nil {
			return nil, err
		}
		for _, p := range attributeProblems(defs, attrs) {
			field := fmt.Sprintf("custom_attributes[%d][%s]", p.Index, p.Field)
			if p.Field == "key" {
				errs = append(errs, invalid(field, field+" does not have a valid value"))
			} else {
				errs = append(errs, invalid(field, field+" is invalid"))
			}
		}
	}
	return defs, errors.Join(errs...)
}

// attributeProblem is a custom attribute that the definitions do not allow: Field is "key" when
// no attribute has its key, "value" when its value does not suit the attribute's type.
type attributeProblem struct {
	Index int
	Field string
	Def   Definition // the definition, when Field is "value"
}

// attributeProblems lists the custom attributes of attrs that defs do not allow: the rule of
// create and update, and of the users of a fixtures file.
func attributeProblems(defs map[string]Definition, attrs []Attribute) []attributeProblem {
	var out []attributeProblem
	for i, a := range attrs {
		d, ok := defs[a.Key]
		switch {
		case !ok:
			out = append(out, attributeProblem{Index: i, Field: "key"})
		case !fits(d.Type, a.Value):
			out = append(out, attributeProblem{Index: i, Field: "value", Def: d})
		}
	}
	return out
}

func fits(typ, v string) bool {
	switch typ {
	case TypeInteger:
		_, err := strconv.ParseInt(v, 10, 64)
		return err == nil
	case TypeBoolean:
		return v == "true" || v == "false"
	}
	return true
}

// Create stores a new, active user. A taken email is the insert's unique violation (the email is
// never answered with other problems): no look-up beforehand, one round trip fewer; such a create
// hashes its password before it fails. It also returns the attribute definitions u's custom
// attributes were checked against (nil when it has none), for the answer to name them by without
// reading them again.
func (s *Service) Create(ctx context.Context, u User, pw string) (User, map[string]Definition, error) {
	defs, err := s.check(ctx, &pw, u.Attributes)
	if err != nil {
		return User{}, nil, err
	}
	if u.PasswordHash, err = s.hasher.Hash(ctx, pw); err != nil {
		return User{}, nil, apperr.Unavailable(err)
	}
	// Attached to no account yet.
	u.Global, u.Status = StatusActive, statusOf(StatusActive, false)
	u.CreatedAt = s.now().UTC()
	u.UpdatedAt = u.CreatedAt
	if err := s.store.Create(ctx, &u); err != nil {
		return User{}, nil, err
	}
	return u, defs, nil
}

// Get reads user id (the spec lets only ids of 1 or more through).
func (s *Service) Get(ctx context.Context, id int64) (User, error) { return s.store.Get(ctx, id) }

// Change is an update: the fields sent. (An email is refused before: the spec makes
// UserUpdate.email readOnly, and the renderer answers it "email cannot be changed".)
type Change struct {
	FirstName, MiddleName, LastName, Password *string
	Attributes                                []Attribute
}

// Update applies a change to user id. The store runs it in one transaction that locks the user
// first; what needs no stored user is done before: the change is checked (against the attribute
// definitions) and a new password hashed, so that no row lock, nor SQLite's one connection, is
// held while argon2id runs.
func (s *Service) Update(ctx context.Context, id int64, c Change) (User, error) {
	// Reported from inside the transaction, once the user is known to exist: an unknown user is a
	// 404 whatever else is wrong.
	_, problems := s.check(ctx, c.Password, c.Attributes)
	var hash string
	if problems == nil && c.Password != nil {
		var err error
		if hash, err = s.hasher.Hash(ctx, *c.Password); err != nil {
			return User{}, apperr.Unavailable(err)
		}
	}
	return s.store.Update(ctx, id, func(u *User) error {
		if problems != nil {
			return problems
		}
		for _, f := range []struct {
			dst *string
			v   *string
		}{{&u.FirstName, c.FirstName}, {&u.MiddleName, c.MiddleName}, {&u.LastName, c.LastName}} {
			if f.v != nil {
				*f.dst = *f.v
			}
		}
		for _, a := range c.Attributes {
			set := false
			for i := range u.Attributes {
				if u.Attributes[i].Key == a.Key {
					u.Attributes[i].Value, set = a.Value, true
				}
			}
			if !set {
				u.Attributes = append(u.Attributes, a)
			}
		}
		if c.Password != nil {
			u.PasswordHash = hash
		}
		u.UpdatedAt = s.now().UTC()
		return nil
	})
}

// List reads the page of the users q selects: page counts from 1 (default 1), perPage defaults
// to DefaultPerPage.
func (s *Service) List(ctx context.Context, q ListQuery, page, perPage *int) ([]User, error) {
	q.Limit = DefaultPerPage
	if perPage != nil {
		q.Limit = *perPage
	}
	if page != nil {
		q.Offset = (*page - 1) * q.Limit
	}
	return s.store.List(ctx, q)
}

// Attach attaches a user to an account; an empty role is RoleUser (vendor: "the User gets the
// User role if the role parameter is empty").
func (s *Service) Attach(ctx context.Context, a Access) error {
	if a.Role == "" {
		a.Role = RoleUser
	}
	return s.store.Attach(ctx, a)
}

// AccountUsers reads the users attached to account id.
func (s *Service) AccountUsers(ctx context.Context, id int64) ([]User, error) {
	return s.store.AccountUsers(ctx, id)
}

// Definitions reads the custom attribute definitions.
func (s *Service) Definitions(ctx context.Context) (map[string]Definition, error) {
	return s.store.Definitions(ctx)
}
