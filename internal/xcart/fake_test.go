package xcart_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/provisiond/provisiond/internal/apitest"
	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/credential"
	"github.com/provisiond/provisiond/internal/xcart"
)

// fakeStore is an in-memory xcart.Store with the DB store's rules: logins unique in any letter
// case, ids from 1 up, memberships {1, 2} and roles {1, 2, 3} as the reference data (the
// built-in defaults), and the last administrator cannot be deleted.
type fakeStore struct {
	mu          sync.Mutex
	nextID      int
	byID        map[int]xcart.Profile
	byLogin     map[string]int // lower-cased login → id
	memberships map[int]bool
	roles       map[int]bool
}

var _ xcart.Store = (*fakeStore)(nil)

func newFakeStore() *fakeStore {
	return &fakeStore{
		nextID:      1,
		byID:        map[int]xcart.Profile{},
		byLogin:     map[string]int{},
		memberships: map[int]bool{1: true, 2: true},
		roles:       map[int]bool{1: true, 2: true, 3: true},
	}
}

// errFakeLoginTaken is the error the DB store returns for a login taken in any letter case.
var errFakeLoginTaken = apperr.Conflict("login", "unique", `Field "login" must be unique`)

func fakeNotFound() error { return apperr.NotFound("Not Found") }

// clone copies p so that the store shares no slice or pointer with its callers.
func clone(p xcart.Profile) xcart.Profile {
	p.RoleIDs = slices.Clone(p.RoleIDs)
	p.StoredSelectors = slices.Clone(p.StoredSelectors)
	p.MailChimpLists = slices.Clone(p.MailChimpLists)
	p.MailChimpInterests = slices.Clone(p.MailChimpInterests)
	p.MailChimpSegments = slices.Clone(p.MailChimpSegments)
	p.MembershipID = clonePtr(p.MembershipID)
	p.PendingMembershipID = clonePtr(p.PendingMembershipID)
	p.SocialLoginProvider = clonePtr(p.SocialLoginProvider)
	p.SocialLoginID = clonePtr(p.SocialLoginID)
	p.ConciergeUserID = clonePtr(p.ConciergeUserID)
	p.StripeCustomerID = clonePtr(p.StripeCustomerID)
	p.FirstLoginDate = clonePtr(p.FirstLoginDate)
	p.LastLoginDate = clonePtr(p.LastLoginDate)
	return p
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func (s *fakeStore) Create(ctx context.Context, p *xcart.Profile) error {
	if err := ctx.Err(); err != nil {
		return apperr.Unavailable(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(p.Login)
	if _, taken := s.byLogin[key]; taken {
		return errFakeLoginTaken
	}
	p.ID = s.nextID
	s.nextID++
	s.byID[p.ID] = clone(*p)
	s.byLogin[key] = p.ID
	return nil
}

func (s *fakeStore) Get(ctx context.Context, id int) (xcart.Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.byID[id]
	if !ok {
		return xcart.Profile{}, fakeNotFound()
	}
	return clone(p), nil
}

func (s *fakeStore) GetByLogin(ctx context.Context, login string) (xcart.Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.byLogin[strings.ToLower(login)]
	if !ok {
		return xcart.Profile{}, fakeNotFound()
	}
	return clone(s.byID[id]), nil
}

func (s *fakeStore) List(ctx context.Context, q xcart.ListQuery) ([]xcart.Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := s.matching(q)
	out := []xcart.Profile{}
	for i := max(q.Offset, 0); i < len(ids) && len(out) < q.Limit; i++ {
		out = append(out, clone(s.byID[ids[i]]))
	}
	return out, nil
}

func (s *fakeStore) Count(ctx context.Context, q xcart.ListQuery) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.matching(q))), nil
}

// matching are the ids of the profiles q selects, in order; s.mu is held.
func (s *fakeStore) matching(q xcart.ListQuery) []int {
	contains := func(login, part string) bool {
		return strings.Contains(strings.ToLower(login), strings.ToLower(part))
	}
	holds := func(bounds []xcart.Bound, t time.Time) bool {
		for _, b := range bounds {
			if !b.Holds(t) {
				return false
			}
		}
		return true
	}
	ids := make([]int, 0, len(s.byID))
	for id, p := range s.byID {
		firstLogin := time.Unix(0, 0)
		if p.FirstLoginDate != nil {
			firstLogin = *p.FirstLoginDate
		}
		if contains(p.Login, q.Login) && contains(p.Login, q.Search) && holds(q.Added, p.CreateDate) && holds(q.FirstLogin, firstLogin) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func (s *fakeStore) Update(ctx context.Context, id int, change func(*xcart.Profile) error) (xcart.Profile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.byID[id]
	if !ok {
		return xcart.Profile{}, fakeNotFound()
	}
	p := clone(old)
	if err := change(&p); err != nil {
		return xcart.Profile{}, err
	}
	p.ID, p.CreateDate = id, old.CreateDate // never updated, as in the DB store
	oldKey, newKey := strings.ToLower(old.Login), strings.ToLower(p.Login)
	if other, taken := s.byLogin[newKey]; taken && other != id {
		return xcart.Profile{}, errFakeLoginTaken
	}
	if old.AccessLevel == xcart.AccessLevelAdmin && p.AccessLevel != xcart.AccessLevelAdmin && s.admins() <= 1 {
		return xcart.Profile{}, apperr.Conflict("", "last_admin", "Cannot remove the last admin profile")
	}
	delete(s.byLogin, oldKey)
	s.byLogin[newKey] = id
	s.byID[id] = clone(p)
	return clone(p), nil
}

// admins counts the administrators; the caller holds s.mu.
func (s *fakeStore) admins() int {
	n := 0
	for _, q := range s.byID {
		if q.AccessLevel == xcart.AccessLevelAdmin {
			n++
		}
	}
	return n
}

func (s *fakeStore) Delete(ctx context.Context, id int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.byID[id]
	if !ok {
		return fakeNotFound()
	}
	if p.AccessLevel == xcart.AccessLevelAdmin && s.admins() <= 1 {
		return apperr.Conflict("", "last_admin", "Cannot remove the last admin profile")
	}
	delete(s.byLogin, strings.ToLower(p.Login))
	delete(s.byID, id)
	return nil
}

func (s *fakeStore) RecordLogin(ctx context.Context, id int, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.byID[id]
	if !ok {
		return nil // an UPDATE of no row, as in the DB store
	}
	if p.FirstLoginDate == nil {
		p.FirstLoginDate = &at
	}
	p.LastLoginDate = &at
	s.byID[id] = clone(p)
	return nil
}

func (s *fakeStore) RehashPassword(ctx context.Context, id int, old, hash string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.byID[id]
	if !ok || p.PasswordHash != old {
		return nil // an UPDATE of no row, as in the DB store
	}
	p.PasswordHash = hash
	s.byID[id] = p
	return nil
}

func (s *fakeStore) MissingReferences(ctx context.Context, refs xcart.References) (xcart.References, error) {
	return xcart.References{Memberships: s.missing(s.memberships, refs.Memberships), Roles: s.missing(s.roles, refs.Roles)}, nil
}

func (s *fakeStore) missing(known map[int]bool, ids []int) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for _, id := range ids {
		if !known[id] {
			out = append(out, id)
		}
	}
	return out
}

// fakeCreds is an in-memory xcart.Credentials: secret → credential.
type fakeCreds map[string]credential.Credential

var _ xcart.Credentials = fakeCreds(nil)

func (f fakeCreds) Check(ctx context.Context, api, secret string) (credential.Credential, error) {
	c, ok := f[secret]
	if !ok || c.API != api {
		return credential.Credential{}, apperr.Unauthenticated("unknown credential")
	}
	return c, nil
}

// TestStoreContract runs the same checks against the DB store and the fake, so that the fake
// the benchmarks use stays faithful to the real one where it matters.
func TestStoreContract(t *testing.T) {
	stores := map[string]func(t *testing.T) xcart.Store{
		"fake": func(*testing.T) xcart.Store { return newFakeStore() },
		"sqlite": func(t *testing.T) xcart.Store {
			return xcart.NewStore(apitest.Start(t, "sqlite", apitest.Options{}).DB)
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			a := xcart.Profile{Login: "Alice@Example.com", Status: xcart.StatusEnabled, AccessLevel: xcart.AccessLevelAdmin,
				RoleIDs: []int{1}, StoredSelectors: []string{}, MailChimpLists: []int{}, MailChimpInterests: []int{}, MailChimpSegments: []int{},
				CreateDate: created}
			if err := st.Create(ctx, &a); err != nil {
				t.Fatalf("Create: %v", err)
			}
			if a.ID == 0 {
				t.Fatalf("Create left ID 0")
			}
			dup := a
			dup.ID, dup.Login = 0, "alice@EXAMPLE.com"
			err := st.Create(ctx, &dup)
			var ae *apperr.Error
			if !errors.As(err, &ae) || *ae != *errFakeLoginTaken {
				t.Errorf("Create(same login, other case) = %v, want %v", err, errFakeLoginTaken)
			}
			got, err := st.GetByLogin(ctx, "ALICE@example.COM")
			if err != nil || got.ID != a.ID || got.Login != a.Login || !slices.Equal(got.RoleIDs, []int{1}) || !got.CreateDate.Equal(created) {
				t.Errorf("GetByLogin = %+v, %v; want the created profile", got, err)
			}
			if _, err := st.Get(ctx, a.ID+1000); apperr.KindOf(err) != apperr.KindNotFound {
				t.Errorf("Get(unknown) = %v, want not found", err)
			}
			b := xcart.Profile{Login: "bob@example.com", Status: xcart.StatusEnabled, CreateDate: created}
			if err := st.Create(ctx, &b); err != nil {
				t.Fatalf("Create(bob): %v", err)
			}
			setLogin := func(p *xcart.Profile) error { p.Login = "ALICE@example.com"; return nil }
			if _, err := st.Update(ctx, b.ID, setLogin); apperr.KindOf(err) != apperr.KindConflict {
				t.Errorf("Update(to a taken login) = %v, want conflict", err)
			}
			list, err := st.List(ctx, xcart.ListQuery{Limit: 10, Login: "EXAMPLE"})
			if err != nil || len(list) != 2 || list[0].ID != a.ID {
				t.Errorf("List = %d profiles, %v; want alice then bob", len(list), err)
			}
			if err := st.RecordLogin(ctx, b.ID, created.Add(time.Hour)); err != nil {
				t.Fatalf("RecordLogin(bob): %v", err)
			}
			for _, tc := range []struct {
				name string
				q    xcart.ListQuery
				want []int
			}{
				{"search", xcart.ListQuery{Search: "BOB@"}, []int{b.ID}},
				{"added at or after", xcart.ListQuery{Added: []xcart.Bound{{Op: ">=", At: created}}}, []int{a.ID, b.ID}},
				{"added strictly after", xcart.ListQuery{Added: []xcart.Bound{{Op: ">", At: created}}}, nil},
				{"added strictly before", xcart.ListQuery{Added: []xcart.Bound{{Op: "<", At: created.Add(time.Second)}}}, []int{a.ID, b.ID}},
				{"first login after", xcart.ListQuery{FirstLogin: []xcart.Bound{{Op: ">", At: created}}}, []int{b.ID}},
				{"first login before: never is 0", xcart.ListQuery{FirstLogin: []xcart.Bound{{Op: "<", At: created}}}, []int{a.ID}},
				{"both bounds", xcart.ListQuery{FirstLogin: []xcart.Bound{{Op: ">=", At: created.Add(time.Hour)}, {Op: "<=", At: created.Add(time.Hour)}}}, []int{b.ID}},
			} {
				q := tc.q
				q.Limit = 10
				list, err := st.List(ctx, q)
				var got []int
				for _, p := range list {
					got = append(got, p.ID)
				}
				n, cerr := st.Count(ctx, tc.q)
				if err != nil || cerr != nil || !slices.Equal(got, tc.want) || n != int64(len(tc.want)) {
					t.Errorf("List and Count(%s) = %v, %d (%v, %v); want %v", tc.name, got, n, err, cerr, tc.want)
				}
			}
			if err := st.Delete(ctx, a.ID); apperr.KindOf(err) != apperr.KindConflict {
				t.Errorf("Delete(last admin) = %v, want conflict", err)
			}
			demote := func(p *xcart.Profile) error { p.AccessLevel = xcart.AccessLevelCustomer; return nil }
			if _, err := st.Update(ctx, a.ID, demote); apperr.KindOf(err) != apperr.KindConflict {
				t.Errorf("Update(demote the last admin) = %v, want conflict", err)
			}
			for _, tc := range []struct {
				name string
				refs xcart.References
				want xcart.References
			}{
				{"memberships", xcart.References{Memberships: []int{1, 2, 3, 0}}, xcart.References{Memberships: []int{3, 0}}},
				{"roles", xcart.References{Roles: []int{3, 4, 1}}, xcart.References{Roles: []int{4}}},
				{"both", xcart.References{Memberships: []int{4, 1}, Roles: []int{1, 4, 3}}, xcart.References{Memberships: []int{4}, Roles: []int{4}}},
				{"none", xcart.References{}, xcart.References{}},
			} {
				got, err := st.MissingReferences(ctx, tc.refs)
				if err != nil || !slices.Equal(got.Memberships, tc.want.Memberships) || !slices.Equal(got.Roles, tc.want.Roles) {
					t.Errorf("MissingReferences(%s %+v) = %+v, %v; want %+v", tc.name, tc.refs, got, err, tc.want)
				}
			}
		})
	}
}
