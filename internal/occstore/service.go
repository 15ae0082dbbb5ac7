// Package occstore serves Oracle Commerce Cloud's store API for organization members (seed 004):
// shoppers log in with email and password, and delegated administrators of a B2B organization
// create, list, read and change its members, all with OCC's error model.
package occstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/credential"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/occ"
	"github.com/provisiond/provisiond/internal/occ/scim"
	"github.com/provisiond/provisiond/internal/password"
)

// Name is the API's short name.
const Name = "occstore"

// OCC's error codes of the member operations.
const (
	CodeEmailInUse   = "22006"
	CodeInvalidInput = occ.CodeInvalidInput
)

// The role functions.
const (
	RoleAdmin = "admin"
	RoleBuyer = "buyer"
)

// MaxLimit caps a list page.
const MaxLimit = 250

// reserved are the names a dynamic property may not take: the member model answers with them,
// or (password) they would keep a secret in clear; members get passwords from fixtures only.
var reserved = []string{"id", "repositoryId", "parentOrganization", "locale", "password"}

// Organization is a B2B account.
type Organization struct {
	ID     string
	Name   string
	Active bool
}

// Member is an account contact. Roles are role functions ("admin", "buyer") the member holds in
// one organization, the one it is read in (roles belong to an organization, as OCC's
// organizational roles do); ParentOrganization is the organization it was created in.
type Member struct {
	ID                 int64
	Email              string
	FirstName          string
	LastName           string
	Active             bool
	ReceiveEmail       string
	Roles              []string
	Locale             *string
	PasswordHash       string
	Dynamic            map[string]any
	ParentOrganization string
	CreatedAt          time.Time
}

// HasRole reports whether m holds the role function f.
func (m Member) HasRole(f string) bool { return slices.Contains(m.Roles, f) }

// Membership is an organization a member belongs to, with the role functions it holds there.
type Membership struct {
	Organization
	Roles []string
}

// MemberView is a member as the API shows it: with its parent organization.
type MemberView struct {
	Member
	Parent Organization
}

// Actor is who makes a request and the organization it names to act in (X-CC-Organization): nil
// or empty for the caller's first active organization.
type Actor struct {
	Caller       Member
	Organization *string
}

// ListQuery selects a page of an organization's members: Filter is a parsed SCIM filter (nil
// selects every member), Sort the order (the zero Sort is by id).
type ListQuery struct {
	Organization  string
	Filter        scim.Filter
	Sort          scim.Sort
	Offset, Limit int
}

// Store is what the service needs from persistence.
type Store interface {
	Create(ctx context.Context, m *Member) error
	Get(ctx context.Context, id int64) (Member, error)
	GetByEmail(ctx context.Context, email string) (Member, error)
	EmailFree(ctx context.Context, email string, self int64) error
	// ReplacePasswordHash stores hash as the member's password hash if it is still old.
	ReplacePasswordHash(ctx context.Context, id int64, old, hash string) error
	// Update changes the member id in one transaction that locks it first: change gets the stored
	// member with its roles in org and alters it, or returns an error that leaves it unchanged;
	// the roles it leaves become the member's in org. It returns the member as written. It
	// refuses to leave an organization without an active delegated administrator.
	Update(ctx context.Context, id int64, org string, change func(*Member) error) (Member, error)
	// List reads the page q selects, how many members the filter selects in all, and the sort
	// with its property named as the API names it.
	List(ctx context.Context, q ListQuery) (items []Member, total int64, sorted scim.Sort, err error)
	// Memberships reads the organizations member belongs to, with its roles in each, in id order.
	Memberships(ctx context.Context, member int64) ([]Membership, error)
	Organization(ctx context.Context, id string) (Organization, error)
	// RolesIn reads member's roles in organization (in false when it does not belong to it).
	RolesIn(ctx context.Context, member int64, organization string) (roles []string, in bool, err error)
	// MemberOrganization reads the organization id with member's roles there, when member
	// belongs to it (ok false when not).
	MemberOrganization(ctx context.Context, member int64, id string) (m Membership, ok bool, err error)
}

// Service applies OCC's rules for members that the schema cannot express: who may act in which
// organization, email uniqueness, reserved property names, logins.
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

// Login checks a member's email and password (occ.LogIn) and issues an access token.
func (s *Service) Login(ctx context.Context, email, pw string) (occ.Token, error) {
	id, err := occ.LogIn(ctx, s.hasher, email, pw, s.account, s.store.ReplacePasswordHash)
	if err != nil {
		return occ.Token{}, err
	}
	return s.tokens.Issue(strconv.FormatInt(id, 10))
}

// account is the login account of the member whose email is email.
func (s *Service) account(ctx context.Context, email string) (occ.Account, error) {
	m, err := s.store.GetByEmail(ctx, email)
	return occ.Account{ID: m.ID, Hash: m.PasswordHash, Active: m.Active}, err
}

// Refresh issues a fresh token to an authorized caller.
func (s *Service) Refresh(caller Member) (occ.Token, error) {
	return s.tokens.Issue(strconv.FormatInt(caller.ID, 10))
}

// Authorize checks an access token and that its member is still active, and returns the member
// and the token's claims.
func (s *Service) Authorize(ctx context.Context, token string) (Member, credential.Claims, error) {
	c, err := s.tokens.Check(ctx, token)
	if err != nil {
		return Member{}, c, err
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	if err != nil {
		return Member{}, c, apperr.Unauthenticated("The access token is invalid or has expired.")
	}
	m, err := s.store.Get(ctx, id)
	if apperr.KindOf(err) == apperr.KindNotFound || err == nil && !m.Active {
		return Member{}, c, apperr.Unauthenticated("The access token is invalid or has expired.")
	}
	return m, c, err
}

// Logout ends the access token whose claims are token.
func (s *Service) Logout(ctx context.Context, token credential.Claims) error {
	return s.tokens.Revoke(ctx, token)
}

// acting resolves the organization a caller acts in, first in every operation on members: the one
// named (which the caller must belong to, and which must be active) or else the caller's first
// active organization; with the caller's roles there, which decide what it may do.
func (s *Service) acting(ctx context.Context, a Actor) (Membership, error) {
	caller, named := a.Caller, a.Organization
	if named != nil && *named != "" {
		m, in, err := s.store.MemberOrganization(ctx, caller.ID, *named)
		if err != nil {
			return Membership{}, err
		}
		return m, usable(m.Organization, in, *named)
	}
	ms, err := s.store.Memberships(ctx, caller.ID)
	if err != nil {
		return Membership{}, err
	}
	if m, ok := firstActive(ms); ok {
		return m, nil
	}
	return Membership{}, apperr.Forbidden("The caller belongs to no active organization.")
}

// usable is nil when the caller may act in org, the organization named: when it belongs to it (in)
// and org is active.
func usable(org Organization, in bool, named string) error {
	if !in {
		return apperr.Forbidden("The caller does not belong to the organization " + named + ".")
	}
	if !org.Active {
		return apperr.Forbidden("The organization " + named + " is not active.")
	}
	return nil
}

// firstActive is the first active organization of ms (the caller's, in id order): the
// organization in force when the request names none.
func firstActive(ms []Membership) (Membership, bool) {
	for _, m := range ms {
		if m.Active {
			return m, true
		}
	}
	return Membership{}, false
}

// CurrentView is the logged-in member as getCurrentProfile shows it: its parent organization, the
// organization in force (nil when it belongs to no active one and named none), and the other
// organizations it belongs to.
type CurrentView struct {
	MemberView
	Current   *Organization
	Secondary []Organization
}

// Current reads the caller's own profile in the organization a names (or its first active one).
func (s *Service) Current(ctx context.Context, a Actor) (CurrentView, error) {
	ms, err := s.store.Memberships(ctx, a.Caller.ID)
	if err != nil {
		return CurrentView{}, err
	}
	v := CurrentView{MemberView: MemberView{Member: a.Caller}, Secondary: []Organization{}}
	var current *Membership
	if named := a.Organization; named != nil && *named != "" {
		i := slices.IndexFunc(ms, func(m Membership) bool { return m.ID == *named })
		var m Membership
		if i >= 0 {
			m = ms[i]
		}
		if err := usable(m.Organization, i >= 0, *named); err != nil {
			return CurrentView{}, err
		}
		current = &m
	} else if m, ok := firstActive(ms); ok {
		current = &m
	}
	v.Roles = nil
	if current != nil {
		v.Current, v.Roles = &current.Organization, current.Roles
	}
	for _, m := range ms {
		if m.ID == a.Caller.ParentOrganization {
			v.Parent = m.Organization
		} else {
			v.Secondary = append(v.Secondary, m.Organization)
		}
	}
	if v.Parent.ID == "" { // memberships are never removed, so this is only a safeguard
		if v.Parent, err = s.store.Organization(ctx, a.Caller.ParentOrganization); err != nil {
			return CurrentView{}, err
		}
	}
	return v, nil
}

// requireAdmin is nil when acting, the caller's membership in the organization in force, holds the
// admin role there: roles elsewhere do not count.
func requireAdmin(acting Membership) error {
	if !slices.Contains(acting.Roles, RoleAdmin) {
		return apperr.Forbidden("Only a delegated administrator of the organization may do this.")
	}
	return nil
}

// Create stores a new member of the organization a acts in; only an administrator may.
func (s *Service) Create(ctx context.Context, a Actor, m Member) (Member, error) {
	org, err := s.acting(ctx, a)
	if err != nil {
		return Member{}, err
	}
	if err := requireAdmin(org); err != nil {
		return Member{}, err
	}
	if err := checkDynamic(m.Dynamic); err != nil {
		// OCC lists a taken email with the other problems. Otherwise the email is checked by the
		// insert itself (its unique violation is the same error): one round trip fewer.
		return Member{}, errors.Join(err, s.store.EmailFree(ctx, m.Email, 0))
	}
	m.ParentOrganization = org.ID
	m.CreatedAt = s.now().UTC()
	if err := s.store.Create(ctx, &m); err != nil {
		return Member{}, err
	}
	return m, nil
}

// Get reads a member of the organization a acts in: the caller itself, or anyone when the caller
// is an administrator.
func (s *Service) Get(ctx context.Context, a Actor, id string) (MemberView, error) {
	org, err := s.acting(ctx, a)
	if err != nil {
		return MemberView{}, err
	}
	n, roles, err := s.memberOf(ctx, a.Caller, org, id)
	if err != nil {
		return MemberView{}, err
	}
	m, err := s.store.Get(ctx, n)
	if err != nil {
		return MemberView{}, err
	}
	m.Roles = roles
	v, err := s.view(ctx, org.Organization, m)
	if err != nil {
		return MemberView{}, err
	}
	return v[0], nil
}

// memberOf is the number of id, a member of org (the caller's membership in force) that caller
// may see: itself, or anyone when the caller administers org; with its roles in org.
func (s *Service) memberOf(ctx context.Context, caller Member, org Membership, id string) (int64, []string, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return 0, nil, notFound(id)
	}
	if n != caller.ID {
		if err := requireAdmin(org); err != nil {
			return 0, nil, err
		}
	}
	roles, in, err := s.store.RolesIn(ctx, n, org.ID)
	if err != nil {
		return 0, nil, err
	}
	if !in {
		return 0, nil, notFound(id)
	}
	return n, roles, nil
}

// Update applies change to a member of the organization a acts in; only an administrator of it
// may. Roles are the member's in that organization; the other fields hold everywhere, so only
// an administrator of the member's parent organization may change them (rolesOnly says that
// change touches the roles alone). The store runs it in one transaction that locks the member
// first; what needs a query but no stored member is done before: the membership in the
// organization (memberships are never removed), and the owner of a sent email (an email left
// out is the member's own).
func (s *Service) Update(ctx context.Context, a Actor, id string, change func(*Member), rolesOnly bool) (MemberView, error) {
	org, err := s.acting(ctx, a)
	if err != nil {
		return MemberView{}, err
	}
	if err := requireAdmin(org); err != nil {
		return MemberView{}, err
	}
	n, _, err := s.memberOf(ctx, a.Caller, org, id)
	if err != nil {
		return MemberView{}, err
	}
	var sent Member // applied to an empty member, change holds exactly the email it sets
	change(&sent)
	var emailTaken error
	if sent.Email != "" {
		emailTaken = s.store.EmailFree(ctx, sent.Email, n)
	}
	m, err := s.store.Update(ctx, n, org.ID, func(m *Member) error {
		if m.ParentOrganization != org.ID && !rolesOnly {
			return apperr.Forbidden(fmt.Sprintf("The member %s belongs to another organization; change its profile from there (here, only its roles).", id))
		}
		change(m)
		return errors.Join(checkDynamic(m.Dynamic), emailTaken)
	})
	if err != nil {
		return MemberView{}, err
	}
	v, err := s.view(ctx, org.Organization, m)
	if err != nil {
		return MemberView{}, err
	}
	return v[0], nil
}

// ListParams are the list operation's query parameters.
type ListParams struct {
	Limit        *int // default and cap MaxLimit
	Offset       int
	Sort, Filter string
}

// Page is one page of members.
type Page struct {
	Items                []MemberView
	Limit, Offset, Total int
}

// List reads a page of the members of the organization a acts in; only an administrator may.
func (s *Service) List(ctx context.Context, a Actor, lp ListParams) (Page, error) {
	org, err := s.acting(ctx, a)
	if err != nil {
		return Page{}, err
	}
	if err := requireAdmin(org); err != nil {
		return Page{}, err
	}
	f, sort, err := occ.ParseList(lp.Filter, lp.Sort)
	if err != nil {
		return Page{}, err
	}
	q := ListQuery{Organization: org.ID, Filter: f, Sort: sort, Offset: lp.Offset, Limit: occ.Limit(lp.Limit, MaxLimit)}
	items, total, _, err := s.store.List(ctx, q)
	if err != nil {
		return Page{}, err
	}
	views, err := s.view(ctx, org.Organization, items...)
	if err != nil {
		return Page{}, err
	}
	return Page{Items: views, Limit: q.Limit, Offset: q.Offset, Total: int(total)}, nil
}

// view gives each of ms its parent organization: acting, the organization the caller acts in, or
// one read from the store, each once.
func (s *Service) view(ctx context.Context, acting Organization, ms ...Member) ([]MemberView, error) {
	orgs := map[string]Organization{acting.ID: acting}
	out := make([]MemberView, len(ms))
	for i, m := range ms {
		org, ok := orgs[m.ParentOrganization]
		if !ok {
			var err error
			if org, err = s.store.Organization(ctx, m.ParentOrganization); err != nil {
				return nil, err
			}
			orgs[m.ParentOrganization] = org
		}
		out[i] = MemberView{Member: m, Parent: org}
	}
	return out, nil
}

// checkDynamic refuses the dynamic properties that cannot be stored: a reserved name, and a name,
// or a string or object key anywhere in a value, holding U+0000 (error 22007 at the property).
func checkDynamic(dyn map[string]any) error {
	var errs []error
	for _, name := range reserved {
		if _, ok := dyn[name]; ok {
			errs = append(errs, apperr.Invalid("/"+name, CodeInvalidInput, fmt.Sprintf("%s cannot be set.", name)))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(dyn)) {
		if strings.ContainsRune(name, 0) || len(httpserver.CharacterIssues(dyn[name])) > 0 {
			errs = append(errs, invalidValue(name))
		}
	}
	return errors.Join(errs...)
}

// invalidValue is error 22007 of the dynamic property name.
func invalidValue(name string) error {
	return apperr.Invalid("/"+name, CodeInvalidInput, fmt.Sprintf("The value of %s is invalid.", name))
}
