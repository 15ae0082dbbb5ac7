// Package xcart serves the X-Cart 5.5 admin REST API's profiles (seed 000): create, list, get,
// update and delete profiles, log administrators in with a JWT, and answer errors the way
// API Platform does.
package xcart

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/credential"
	"github.com/provisiond/provisiond/internal/password"
)

// Name is the API's short name: its spec, credential scope and route group.
const Name = "xcart"

// The access levels X-Cart knows.
const (
	AccessLevelCustomer = 0
	AccessLevelAdmin    = 100
)

// The profile statuses.
const (
	StatusEnabled  = "E"
	StatusDisabled = "D"
)

// The paging of lists: API Platform's items_per_page and maximum_items_per_page.
const (
	DefaultItemsPerPage = 30
	MaxItemsPerPage     = 100
)

// Profile is an X-Cart profile. PasswordHash is "" when the profile has no password.
type Profile struct {
	ID                  int
	Login               string
	PasswordHash        string
	AccessLevel         int
	Status              string
	StatusComment       string
	Referer             string
	GAClientID          string
	Language            string
	MembershipID        *int
	PendingMembershipID *int
	ForceChangePassword bool
	RoleIDs             []int
	SocialLoginProvider *string
	SocialLoginID       *string
	ConciergeUserID     *string
	StripeCustomerID    *string
	StoredSelectors     []string
	MailChimpLists      []int
	MailChimpInterests  []int
	MailChimpSegments   []int
	CreateDate          time.Time
	FirstLoginDate      *time.Time
	LastLoginDate       *time.Time
}

// ListQuery selects a page of profiles; its zero value selects every profile (Count).
type ListQuery struct {
	Offset, Limit int
	Login         string // part of the login, any letter case
	// Search is part of the search text (X-Cart's searchFakeField), any letter case. The text is
	// the login: the names of addresses join it once profiles have addresses.
	Search string
	// Added and FirstLogin bound the create date and the first login; a profile that never
	// logged in has X-Cart's first login timestamp, 0.
	Added, FirstLogin []Bound
}

// Bound is one bound of a date filter: the date compared to At by Op, one of "<=", "<", ">=", ">".
type Bound struct {
	Op string
	At time.Time
}

// Holds reports whether a date at t is within b.
func (b Bound) Holds(t time.Time) bool {
	switch b.Op {
	case "<=":
		return !t.After(b.At)
	case "<":
		return t.Before(b.At)
	case ">=":
		return !t.Before(b.At)
	}
	return t.After(b.At)
}

// neverLoggedIn is the first login X-Cart stores for a profile that never logged in: 0.
var neverLoggedIn = time.Unix(0, 0).UTC()

// Store is what the service needs from persistence. Errors are apperr errors: NotFound for a
// missing profile, Conflict for a login taken (in any letter case).
type Store interface {
	Create(ctx context.Context, p *Profile) error
	Get(ctx context.Context, id int) (Profile, error)
	// Count is how many profiles q selects, whatever its offset and limit.
	Count(ctx context.Context, q ListQuery) (int64, error)
	GetByLogin(ctx context.Context, login string) (Profile, error)
	List(ctx context.Context, q ListQuery) ([]Profile, error)
	// Update changes the profile id in one transaction that locks it first: change gets the stored
	// profile and alters it, or returns an error that leaves it unchanged. It returns the profile
	// as written. Taking the last administrator away is a Conflict.
	Update(ctx context.Context, id int, change func(*Profile) error) (Profile, error)
	Delete(ctx context.Context, id int) error
	RecordLogin(ctx context.Context, id int, at time.Time) error
	// RehashPassword replaces the password hash of the profile id with hash, only while it is
	// still old: a password changed meanwhile stays as it was changed.
	RehashPassword(ctx context.Context, id int, old, hash string) error
	// MissingReferences lists the ids among refs that name nothing.
	MissingReferences(ctx context.Context, refs References) (References, error)
}

// References are membership and role ids.
type References struct{ Memberships, Roles []int }

// Service applies X-Cart's rules that the schema cannot express: references to memberships and
// roles, roles only for administrators, login uniqueness, password hashing, who may log in.
type Service struct {
	store  Store
	hasher *password.Hasher
	signer *credential.Signer
	now    func() time.Time
	// loc is the time zone of a filter's date without one (PROVISIOND_TIMEZONE); nil is UTC.
	loc *time.Location
	// subjects are the profiles that Authorize found may log in, by id: a JWT's profile is read
	// again only when its entry expires or this Service changes or deletes the profile.
	subjects *credential.Cache[int, struct{}]
	// addresses keep the profiles' addresses (WithAddresses).
	addresses AddressStore
}

// NewService returns a Service. now is the clock.
func NewService(store Store, hasher *password.Hasher, signer *credential.Signer, now func() time.Time) *Service {
	return &Service{store: store, hasher: hasher, signer: signer, now: now}
}

// WithSubjects makes s keep the profiles that may log in in subjects (credential.CacheFor), so
// that a valid JWT does not read its profile on every request. A profile disabled, demoted,
// stripped of its password or deleted through s is forgotten at once; by another instance, or by
// a reset or fixtures document (which clear the cache, credential.Store.Invalidate), within the
// cache's lifetime.
func (s *Service) WithSubjects(subjects *credential.Cache[int, struct{}]) *Service {
	s.subjects = subjects
	return s
}

// InZone makes s read a list filter's date without a time zone in loc, as X-Cart reads it in
// PHP's default time zone.
func (s *Service) InZone(loc *time.Location) *Service {
	s.loc = loc
	return s
}

// PasswordChange says what an update does to the password: nothing (Set false), remove it
// (Set, Value nil) or replace it.
type PasswordChange struct {
	Set   bool
	Value *string
}

// Create stores a new profile; password, when not nil, becomes its password.
func (s *Service) Create(ctx context.Context, p Profile, password *string) (Profile, error) {
	if err := s.checkReferences(ctx, p); err != nil {
		return Profile{}, err
	}
	if password != nil {
		hash, err := s.hash(ctx, *password)
		if err != nil {
			return Profile{}, err
		}
		p.PasswordHash = hash
	}
	normalize(&p)
	p.CreateDate = s.now().UTC().Truncate(time.Second)
	p.FirstLoginDate, p.LastLoginDate = nil, nil
	if err := s.store.Create(ctx, &p); err != nil {
		return Profile{}, err
	}
	return p, nil
}

// Get reads a profile.
func (s *Service) Get(ctx context.Context, id int) (Profile, error) { return s.store.Get(ctx, id) }

// ListParams are the query parameters of a list, as sent.
type ListParams struct {
	Page, PerPage *int
	Login, Search string
	// Added and FirstLogin are the bounds of X-Cart's date filters, by key ("after",
	// "strictly_before", …), each a date as PHP's DateTime reads it.
	Added, FirstLogin map[string]string
	// Total asks for the number of profiles the filters keep on all pages.
	Total bool
}

// ProfilePage is one page of profiles.
type ProfilePage struct {
	Profiles []Profile
	Paging
}

// dateOps are the comparisons of the keys of API Platform's DateFilter.
var dateOps = map[string]string{"before": "<=", "strictly_before": "<", "after": ">=", "strictly_after": ">"}

// List reads a page of profiles, paged by pageOf. A date
// bound that cannot be read is left out, as X-Cart's IntegerDateFilter ignores it.
func (s *Service) List(ctx context.Context, p ListParams) (ProfilePage, error) {
	offset, perPage := pageOf(p.Page, p.PerPage)
	now := s.now()
	q := ListQuery{
		Login: p.Login, Search: p.Search,
		Added: s.bounds(p.Added, now), FirstLogin: s.bounds(p.FirstLogin, now),
	}
	out := ProfilePage{Profiles: []Profile{}, Paging: pagingOf(p.Page, perPage)}
	if p.Total {
		total, err := s.store.Count(ctx, q)
		if err != nil {
			return ProfilePage{}, err
		}
		out.Total = total
	}
	if perPage <= 0 {
		return out, nil
	}
	q.Offset, q.Limit = offset, perPage
	profiles, err := s.store.List(ctx, q)
	if err != nil {
		return ProfilePage{}, err
	}
	out.Profiles = profiles
	return out, nil
}

// bounds are the date bounds of one filter, in the order of dateOps' keys, leaving out the
// unknown keys and the dates that cannot be read.
func (s *Service) bounds(sent map[string]string, now time.Time) []Bound {
	var out []Bound
	for _, key := range dateKeys {
		v, ok := sent[key]
		if !ok {
			continue
		}
		if at, ok := parseDate(v, now, s.loc); ok {
			out = append(out, Bound{Op: dateOps[key], At: at})
		}
	}
	return out
}

// Update applies change to the stored profile id and the password change pw. The store runs it
// in one transaction that locks the profile first; what needs no stored profile is done before:
// the memberships and roles that change sets are looked up (those it leaves were checked when
// they were stored, and reference data is never removed), and a new password is hashed, so that
// no row lock, nor SQLite's one connection, is held while argon2id runs.
func (s *Service) Update(ctx context.Context, id int, change func(*Profile), pw PasswordChange) (Profile, error) {
	// Forgotten once the change has committed (or failed): see Authorize.
	defer s.subjects.Delete(id)
	var sent Profile // applied to an empty profile, change holds exactly the references it sets
	change(&sent)
	// Reported from inside the transaction, once the profile is known to exist: an unknown id is a
	// 404 whatever else is wrong.
	problems := s.checkReferences(ctx, sent)
	var hash string
	if problems == nil && pw.Set && pw.Value != nil {
		var err error
		if hash, err = s.hash(ctx, *pw.Value); err != nil {
			return Profile{}, err
		}
	}
	return s.store.Update(ctx, id, func(p *Profile) error {
		if problems != nil {
			return problems
		}
		change(p)
		if pw.Set {
			p.PasswordHash = hash
		}
		normalize(p)
		return nil
	})
}

// Delete removes a profile; the last administrator stays.
func (s *Service) Delete(ctx context.Context, id int) error {
	defer s.subjects.Delete(id)
	return s.store.Delete(ctx, id)
}

// errBadCredentials is the one answer to every failed login, whatever was wrong.
var errBadCredentials = &apperr.Error{Kind: apperr.KindUnauthenticated, Rule: "credentials", Message: "Invalid credentials."}

// Login checks an administrator's login and password and returns a JWT for the API.
func (s *Service) Login(ctx context.Context, login, pw string) (string, error) {
	p, err := s.store.GetByLogin(ctx, login)
	switch {
	case apperr.KindOf(err) == apperr.KindNotFound:
		p = Profile{} // its empty hash costs a verification all the same
	case err != nil:
		return "", err
	}
	ok, err := s.hasher.Check(ctx, pw, p.PasswordHash)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", errBadCredentials
	}
	if !mayLogIn(p) {
		return "", errBadCredentials
	}
	if password.NeedsRehash(p.PasswordHash) {
		// An imported hash (a fixtures file's bcrypt password_hash) is replaced by argon2id at
		// the first login that proves the password.
		hash, err := s.hash(ctx, pw)
		if err != nil {
			return "", err
		}
		if err := s.store.RehashPassword(ctx, p.ID, p.PasswordHash, hash); err != nil {
			return "", err
		}
	}
	token, err := s.signer.Issue(Name, strconv.Itoa(p.ID))
	if err != nil {
		return "", apperr.Internal(fmt.Errorf("sign JWT: %w", err))
	}
	if err := s.store.RecordLogin(ctx, p.ID, s.now().UTC().Truncate(time.Second)); err != nil {
		return "", err
	}
	return token, nil
}

// Authorize checks a JWT and that its profile still may log in. The signature and expiry are
// checked every time; the profile is read only when s.subjects does not hold it (a profile that
// may not log in is never kept, so one enabled or promoted works at once).
func (s *Service) Authorize(ctx context.Context, token string) error {
	sub, err := s.signer.Verify(Name, token)
	if err != nil {
		return err
	}
	id, err := strconv.Atoi(sub)
	if err != nil {
		return apperr.Unauthenticated("Invalid JWT Token")
	}
	if _, ok := s.subjects.Get(id); ok {
		return nil
	}
	t := s.subjects.Ticket()
	p, err := s.store.Get(ctx, id)
	if apperr.KindOf(err) == apperr.KindNotFound || err == nil && !mayLogIn(p) {
		return apperr.Unauthenticated("Invalid JWT Token")
	}
	if err != nil {
		return err
	}
	s.subjects.Put(t, id, struct{}{})
	return nil
}

func mayLogIn(p Profile) bool {
	return p.AccessLevel == AccessLevelAdmin && p.Status == StatusEnabled && p.PasswordHash != ""
}

func (s *Service) hash(ctx context.Context, pw string) (string, error) {
	h, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return "", apperr.Unavailable(err)
	}
	return h, nil
}

// checkReferences reports every membership and role id that names nothing, X-Cart's way.
func (s *Service) checkReferences(ctx context.Context, p Profile) error {
	missing, err := s.store.MissingReferences(ctx, References{Memberships: membershipIDs(p), Roles: p.RoleIDs})
	if err != nil {
		return err
	}
	return referenceProblems(p, missing)
}

// membershipIDs are the memberships p names.
func membershipIDs(p Profile) []int {
	var ids []int
	if p.MembershipID != nil {
		ids = append(ids, *p.MembershipID)
	}
	if p.PendingMembershipID != nil {
		ids = append(ids, *p.PendingMembershipID)
	}
	return ids
}

// referenceProblems lists, X-Cart's way, the references of p among the membership and role ids
// that name nothing: the create and update check one profile, the fixtures many at once.
func referenceProblems(p Profile, missing References) error {
	var errs []error
	if p.MembershipID != nil && slices.Contains(missing.Memberships, *p.MembershipID) {
		errs = append(errs, apperr.Invalid("membership_id", "exists", fmt.Sprintf("Membership with ID %d not found", *p.MembershipID)))
	}
	if p.PendingMembershipID != nil && slices.Contains(missing.Memberships, *p.PendingMembershipID) {
		errs = append(errs, apperr.Invalid("pending_membership_id", "exists", fmt.Sprintf("Pending membership with ID %d not found", *p.PendingMembershipID)))
	}
	var roles []int
	for _, id := range p.RoleIDs {
		if slices.Contains(missing.Roles, id) {
			roles = append(roles, id)
		}
	}
	slices.Sort(roles)
	for _, id := range slices.Compact(roles) {
		errs = append(errs, apperr.Invalid("role_ids", "exists", fmt.Sprintf("Role with ID %d not found", id)))
	}
	return errors.Join(errs...)
}

// normalize applies the rules that shape a stored profile: only administrators hold roles, and
// lists are empty rather than absent.
func normalize(p *Profile) {
	if p.AccessLevel != AccessLevelAdmin {
		p.RoleIDs = nil
	}
	p.RoleIDs = orEmpty(p.RoleIDs)
	p.StoredSelectors = orEmpty(p.StoredSelectors)
	p.MailChimpLists = orEmpty(p.MailChimpLists)
	p.MailChimpInterests = orEmpty(p.MailChimpInterests)
	p.MailChimpSegments = orEmpty(p.MailChimpSegments)
}
