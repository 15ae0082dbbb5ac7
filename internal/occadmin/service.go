// Package occadmin serves Oracle Commerce Cloud's admin API for admin profiles (seed 002): log in
// with an application key, create, list, read and change admin profiles, list admin roles, all
// with OCC's error model.
package occadmin

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/credential"
	"github.com/provisiond/provisiond/internal/occ"
	"github.com/provisiond/provisiond/internal/occ/scim"
	"github.com/provisiond/provisiond/internal/password"
)

// Name is the API's short name.
const Name = "occadmin"

// OCC's error codes of the admin profile operations.
const (
	CodePasswordEmpty = "22005"
	CodeProfileExists = "22006"
	CodeInvalidInput  = occ.CodeInvalidInput
	CodeRoleUnknown   = "89001"
	CodeRolesMissing  = "89002"
	CodeNoPrivilege   = "89012"
)

// MaxLimit caps a list page.
const MaxLimit = 250

// idPrefix starts every admin profile id, as in OCC.
const idPrefix = "iuser"

func formatID(id int64) string { return idPrefix + strconv.FormatInt(id, 10) }

// parseID reads an "iuser<n>" id; ok is false for anything else.
func parseID(s string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimPrefix(s, idPrefix), 10, 64)
	return n, err == nil && strings.HasPrefix(s, idPrefix) && n > 0
}

// AdminProfile is an administrator of the Commerce Cloud back office.
type AdminProfile struct {
	ID               int64
	Email            string
	FirstName        string
	LastName         string
	Active           bool
	Roles            []string // role ids
	PasswordHash     string
	RegistrationDate time.Time
}

// Role is an admin role with OCC's description and category, and the privileges it grants.
type Role struct {
	ID          string
	Name        string
	Description string
	Category    string
	Privileges  []string
}

// RoleRef is a role of a profile as the API shows it: its id and name (empty when no role has
// the id any more).
type RoleRef struct{ ID, Name string }

// ProfileView is an admin profile as the API shows it: with its roles named, in its order.
type ProfileView struct {
	AdminProfile
	RoleRefs []RoleRef
}

// ListQuery selects a page of profiles: Filter is a parsed SCIM filter (nil selects every
// profile), Sort the order (the zero Sort is by id).
type ListQuery struct {
	Filter        scim.Filter
	Sort          scim.Sort
	Offset, Limit int
}

// Store is what the service needs from persistence.
type Store interface {
	Create(ctx context.Context, p *AdminProfile) error
	Get(ctx context.Context, id int64) (AdminProfile, error)
	GetByEmail(ctx context.Context, email string) (AdminProfile, error)
	// ReplacePasswordHash stores hash as the profile's password hash if it is still old.
	ReplacePasswordHash(ctx context.Context, id int64, old, hash string) error
	// Update changes the profile id in one transaction that locks it first: change gets the stored
	// profile and alters it, or returns an error that leaves it unchanged. It returns the profile
	// as written.
	Update(ctx context.Context, id int64, change func(*AdminProfile) error) (AdminProfile, error)
	EmailFree(ctx context.Context, email string, self int64) error
	// List reads the page q selects, how many profiles the filter selects in all, and the sort
	// with its property named as the API names it.
	List(ctx context.Context, q ListQuery) (items []AdminProfile, total int64, sorted scim.Sort, err error)
	Roles(ctx context.Context) ([]Role, error)
}

// Service applies OCC's rules for admin profiles that the schema cannot express.
type Service struct {
	store  Store
	hasher *password.Hasher
	tokens *occ.Tokens
	now    func() time.Time
}

// NewService returns a Service.
func NewService(store Store, hasher *password.Hasher, tokens *occ.Tokens, now func() time.Time) *Service {
	return &Service{store: store, hasher: hasher, tokens: tokens, now: now}
}

// Login issues an access token to the holder of application key credentialID.
func (s *Service) Login(credentialID string) (occ.Token, error) { return s.tokens.Issue(credentialID) }

// PasswordLogin checks an admin profile's email and password (occ.LogIn) and issues an access
// token of that profile.
func (s *Service) PasswordLogin(ctx context.Context, email, pw string) (occ.Token, error) {
	id, err := occ.LogIn(ctx, s.hasher, email, pw, s.account, s.store.ReplacePasswordHash)
	if err != nil {
		return occ.Token{}, err
	}
	return s.tokens.Issue(profileSubject + strconv.FormatInt(id, 10))
}

// account is the login account of the profile whose email is email.
func (s *Service) account(ctx context.Context, email string) (occ.Account, error) {
	p, err := s.store.GetByEmail(ctx, email)
	return occ.Account{ID: p.ID, Hash: p.PasswordHash, Active: p.Active}, err
}

// Refresh issues a fresh access token to the subject of a valid one.
func (s *Service) Refresh(subject string) (occ.Token, error) { return s.tokens.Issue(subject) }

// Authorize checks an access token and returns its claims; the token of an admin profile also
// needs the profile to be active still.
func (s *Service) Authorize(ctx context.Context, token string) (credential.Claims, error) {
	c, err := s.tokens.Check(ctx, token)
	if err != nil || !strings.HasPrefix(c.Subject, profileSubject) {
		return c, err
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(c.Subject, profileSubject), 10, 64)
	if err != nil {
		return credential.Claims{}, apperr.Unauthenticated("The access token is invalid or has expired.")
	}
	p, err := s.store.Get(ctx, n)
	if apperr.KindOf(err) == apperr.KindNotFound || err == nil && !p.Active {
		return credential.Claims{}, apperr.Unauthenticated("The access token is invalid or has expired.")
	}
	return c, err
}

// Logout ends the access token whose claims are token.
func (s *Service) Logout(ctx context.Context, token credential.Claims) error {
	return s.tokens.Revoke(ctx, token)
}

// profileSubject starts the token subject of an admin profile that logged in with its password
// ("profile:<n>"); an application key's starts with "key:".
const profileSubject = "profile:"

// Current reads the admin profile behind the access token of subject; a token of an application
// key has none (not found).
func (s *Service) Current(ctx context.Context, subject string) (ProfileView, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(subject, profileSubject), 10, 64)
	if !strings.HasPrefix(subject, profileSubject) || err != nil {
		return ProfileView{}, apperr.NotFound("No admin profile is logged in: this access token was obtained with an application key.")
	}
	return s.Get(ctx, formatID(n))
}

// Create stores a new admin profile; password, when not nil, becomes its password.
func (s *Service) Create(ctx context.Context, p AdminProfile, pw *string) (AdminProfile, error) {
	roles, err := s.store.Roles(ctx)
	if err != nil {
		return AdminProfile{}, err
	}
	if err := checkRoles(p.Roles, roles); err != nil {
		// OCC lists a taken email with the other problems. Otherwise the email is checked by the
		// insert itself (its unique violation is the same error): one round trip fewer.
		return AdminProfile{}, errors.Join(err, s.store.EmailFree(ctx, p.Email, 0))
	}
	if pw != nil {
		h, err := s.hasher.Hash(ctx, *pw)
		if err != nil {
			return AdminProfile{}, apperr.Unavailable(err)
		}
		p.PasswordHash = h
	}
	p.RegistrationDate = s.now().UTC().Truncate(time.Millisecond)
	if err := s.store.Create(ctx, &p); err != nil {
		return AdminProfile{}, err
	}
	return p, nil
}

// Get reads an admin profile by its "iuser…" id.
func (s *Service) Get(ctx context.Context, id string) (ProfileView, error) {
	n, err := number(id)
	if err != nil {
		return ProfileView{}, err
	}
	p, err := s.store.Get(ctx, n)
	if err != nil {
		return ProfileView{}, err
	}
	roles, err := s.store.Roles(ctx)
	if err != nil {
		return ProfileView{}, err
	}
	return view(roles, p)[0], nil
}

// view names the roles of each of ps after roles, every role there is.
func view(roles []Role, ps ...AdminProfile) []ProfileView {
	names := make(map[string]string, len(roles))
	for _, r := range roles {
		names[r.ID] = r.Name
	}
	out := make([]ProfileView, len(ps))
	for i, p := range ps {
		refs := make([]RoleRef, len(p.Roles))
		for j, id := range p.Roles {
			refs[j] = RoleRef{ID: id, Name: names[id]}
		}
		out[i] = ProfileView{AdminProfile: p, RoleRefs: refs}
	}
	return out
}

// roleUnknown is error 89001 of a role id that no role has, at path.
func roleUnknown(path, id string) occ.Issue {
	return occ.Issue{Code: CodeRoleUnknown, Message: fmt.Sprintf("The role %s does not exist.", id), Path: path}
}

// number is the number of an "iuser…" id; anything else names no profile.
func number(id string) (int64, error) {
	n, ok := parseID(id)
	if !ok {
		return 0, apperr.NotFound(fmt.Sprintf("No admin profile has the id %s.", id))
	}
	return n, nil
}

// Update applies change to the stored profile id. The store runs it in one transaction that locks
// the profile first; what needs a query but no stored profile is done before: the roles (reference
// data) are read, and the owner of a sent email is looked up (an email left out is the profile's
// own). The roles are checked as the change leaves them, inside, and name them in the result.
func (s *Service) Update(ctx context.Context, id string, change func(*AdminProfile)) (ProfileView, error) {
	n, err := number(id)
	if err != nil {
		return ProfileView{}, err
	}
	roles, err := s.store.Roles(ctx)
	if err != nil {
		return ProfileView{}, err
	}
	var sent AdminProfile // applied to an empty profile, change holds exactly the email it sets
	change(&sent)
	var emailTaken error
	if sent.Email != "" {
		emailTaken = s.store.EmailFree(ctx, sent.Email, n)
	}
	p, err := s.store.Update(ctx, n, func(p *AdminProfile) error {
		change(p)
		return errors.Join(checkRoles(p.Roles, roles), emailTaken)
	})
	if err != nil {
		return ProfileView{}, err
	}
	return view(roles, p)[0], nil
}

// Roles reads every admin role.
func (s *Service) Roles(ctx context.Context) ([]Role, error) { return s.store.Roles(ctx) }

// checkRoles reports, against every role there is, every role id that names no role (89001), and,
// when all exist, roles none of which carries a privilege (89012).
func checkRoles(ids []string, roles []Role) error {
	if len(ids) == 0 {
		return apperr.Invalid("/roles", CodeRolesMissing, "The roles are missing or empty.")
	}
	known := make(map[string]Role, len(roles))
	for _, r := range roles {
		known[r.ID] = r
	}
	var errs []error
	privileged := false
	for i, id := range ids {
		r, ok := known[id]
		if !ok {
			is := roleUnknown(fmt.Sprintf("/roles/%d", i), id)
			errs = append(errs, apperr.Invalid(is.Path, is.Code, is.Message))
			continue
		}
		privileged = privileged || len(r.Privileges) > 0
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if !privileged {
		return apperr.Invalid("/roles", CodeNoPrivilege, "None of the roles carries a privilege.")
	}
	return nil
}

// ListParams are the list operation's query parameters.
type ListParams struct {
	Limit  *int // default and cap MaxLimit
	Offset int
	Sort   string // "property:asc|desc", or ""
	Filter string // SCIM, or ""
}

// Page is one page of profiles; Sort names its property as the API does, or is zero.
type Page struct {
	Items                []ProfileView
	Limit, Offset, Total int
	Sort                 scim.Sort
}

// List reads one page of the profiles the filter selects, in the requested order.
func (s *Service) List(ctx context.Context, lp ListParams) (Page, error) {
	f, sort, err := occ.ParseList(lp.Filter, lp.Sort)
	if err != nil {
		return Page{}, err
	}
	q := ListQuery{Filter: f, Sort: sort, Offset: lp.Offset, Limit: occ.Limit(lp.Limit, MaxLimit)}
	items, total, sorted, err := s.store.List(ctx, q)
	if err != nil {
		return Page{}, err
	}
	roles, err := s.store.Roles(ctx)
	if err != nil {
		return Page{}, err
	}
	return Page{Items: view(roles, items...), Limit: q.Limit, Offset: q.Offset, Total: int(total), Sort: sorted}, nil
}
