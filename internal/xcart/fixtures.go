package xcart

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"gorm.io/gorm"

	gen "github.com/provisiond/provisiond/gen/xcart"
	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/module"
	"github.com/provisiond/provisiond/internal/password"
	"github.com/provisiond/provisiond/internal/store"
	"github.com/provisiond/provisiond/openapi"
)

// Fixtures is X-Cart's section of a fixtures file: its reference data, and profiles to seed.
type Fixtures struct {
	Memberships []NamedFixture   `yaml:"memberships"`
	Roles       []NamedFixture   `yaml:"roles"`
	Profiles    []ProfileFixture `yaml:"profiles"`
}

// NamedFixture is a reference-data row: an id and a name.
type NamedFixture struct {
	ID   int    `yaml:"id"`
	Name string `yaml:"name"`
}

// ProfileFixture is a profile to seed: a body of X-Cart's create (POST /api/profiles, the spec's
// ProfileCreate), by its field names, checked by the create's rules and stored as the create
// stores it (fromCreate); or, for a password already hashed elsewhere, password_hash instead of
// password (an argon2id PHC string or a bcrypt hash, password.Import). The create sets every field
// a test needs (access_level, status, role_ids, membership_id), so password_hash is the only
// field the API's create body has not. Profiles are found by login, in any letter case: loading
// the file again gives a stored profile the file's fields, all but its id, its create date and its
// login dates.
//
// The fields are pointers so that one left out is left out of the create body too, as in a
// request; a YAML null is the same as leaving the field out, as a JSON null is for the create.
type ProfileFixture struct {
	Login               *string  `yaml:"login" json:"login,omitempty"`
	Password            *string  `yaml:"password" json:"password,omitempty"`
	PasswordHash        string   `yaml:"password_hash" json:"-"`
	AccessLevel         *int     `yaml:"access_level" json:"access_level,omitempty"`
	Status              *string  `yaml:"status" json:"status,omitempty"`
	StatusComment       *string  `yaml:"status_comment" json:"status_comment,omitempty"`
	Referer             *string  `yaml:"referer" json:"referer,omitempty"`
	GAClientID          *string  `yaml:"ga_client_id" json:"ga_client_id,omitempty"`
	Language            *string  `yaml:"language" json:"language,omitempty"`
	MembershipID        *int     `yaml:"membership_id" json:"membership_id,omitempty"`
	PendingMembershipID *int     `yaml:"pending_membership_id" json:"pending_membership_id,omitempty"`
	ForceChangePassword *bool    `yaml:"force_change_password" json:"force_change_password,omitempty"`
	RoleIDs             []int    `yaml:"role_ids" json:"role_ids,omitempty"`
	SocialLoginProvider *string  `yaml:"social_login_provider" json:"social_login_provider,omitempty"`
	SocialLoginID       *string  `yaml:"social_login_id" json:"social_login_id,omitempty"`
	ConciergeUserID     *string  `yaml:"concierge_user_id" json:"concierge_user_id,omitempty"`
	StripeCustomerID    *string  `yaml:"stripe_customer_id" json:"stripe_customer_id,omitempty"`
	StoredSelectors     []string `yaml:"stored_selectors" json:"stored_selectors,omitempty"`
	MailChimpLists      []int    `yaml:"mail_chimp_lists" json:"mail_chimp_lists,omitempty"`
	MailChimpInterests  []int    `yaml:"mail_chimp_interests" json:"mail_chimp_interests,omitempty"`
	MailChimpSegments   []int    `yaml:"mail_chimp_segments" json:"mail_chimp_segments,omitempty"`
}

var fixtures = module.Section(checkFixtures, prepareFixtures)

func checkFixtures(_ module.Env, f *Fixtures) []error {
	errs := append(checkNamed("memberships", f.Memberships), checkNamed("roles", f.Roles)...)
	_, problems := seeds(f.Profiles)
	return append(errs, problems...)
}

func checkNamed(where string, rows []NamedFixture) []error {
	seen := map[int]bool{}
	var errs []error
	for i, r := range rows {
		if r.ID < 0 {
			errs = append(errs, fmt.Errorf("%s[%d]: id must be 0 or more", where, i))
		}
		if r.Name == "" {
			errs = append(errs, fmt.Errorf("%s[%d]: name is required", where, i))
		}
		if strings.ContainsRune(r.Name, 0) {
			// No stored text can hold it (PostgreSQL's text cannot).
			errs = append(errs, fmt.Errorf("%s[%d]: name must not hold U+0000", where, i))
		}
		if seen[r.ID] {
			errs = append(errs, fmt.Errorf("%s: id %d listed twice", where, r.ID))
		}
		seen[r.ID] = true
	}
	return errs
}

// seed is a checked profile of the section: the profile the create asks for (its references
// not yet checked, nor normalized), and the password to hash (nil when it has none or it is
// imported as PasswordHash).
type seed struct {
	profile  Profile
	password *string
}

// seeds checks every profile of the section by the create's rules, the schema's (minus what
// only the database can tell: the memberships and roles, checked when the file is written, and
// a login taken, which the seed updates), and returns them, or every problem of every profile.
func seeds(entries []ProfileFixture) ([]seed, []error) {
	out := make([]seed, len(entries))
	var errs []error
	first := map[string]int{} // login key → the first entry with it
	for i, e := range entries {
		where := "profiles[" + strconv.Itoa(i) + "]"
		s, problems := e.seed(where)
		errs = append(errs, problems...)
		out[i] = s
		if e.Login == nil {
			continue
		}
		key := loginKey(*e.Login)
		if j, dup := first[key]; dup {
			errs = append(errs, fmt.Errorf("%s.login: already listed as profiles[%d].login (logins are compared in any letter case)", where, j))
			continue
		}
		first[key] = i
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// seed checks e, the profile at where, and returns what it seeds.
func (e ProfileFixture) seed(where string) (seed, []error) {
	var errs []error
	var hash string
	if e.PasswordHash != "" {
		if e.Password != nil {
			errs = append(errs, fmt.Errorf("%s.password_hash: give password or password_hash, not both", where))
		}
		var err error
		if hash, err = password.Import(e.PasswordHash); err != nil {
			errs = append(errs, fmt.Errorf("%s.password_hash: %w", where, err))
		}
	}
	body, err := json.Marshal(e)
	if err != nil {
		return seed{}, append(errs, fmt.Errorf("%s: %w", where, err))
	}
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		return seed{}, append(errs, fmt.Errorf("%s: %w", where, err))
	}
	schema, err := createSchema()
	if err != nil {
		return seed{}, append(errs, fmt.Errorf("%s: %w", where, err))
	}
	for _, is := range httpserver.SchemaIssues(schema, value) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", where, is.Field, constraintMessage(is)))
	}
	if len(errs) > 0 {
		return seed{}, errs
	}
	var req gen.ProfileCreate
	if err := json.Unmarshal(body, &req); err != nil {
		// The one value the schema accepts and the create's decoding does not: an address of the
		// HTML5 definition that is not one of RFC 5322 (".a@example.com"). The create answers it
		// with a 400 "Syntax error".
		return seed{}, []error{fmt.Errorf("%s.login: not an address the create accepts (it answers 400 \"Syntax error\")", where)}
	}
	p, pw := fromCreate(req)
	p.PasswordHash = hash
	return seed{profile: p, password: pw}, nil
}

// createSchema is the create body's schema, as the spec defines it.
var createSchema = sync.OnceValues(func() (*openapi3.Schema, error) {
	_, doc, err := openapi.Load(Name)
	if err != nil {
		return nil, err
	}
	ref := doc.Components.Schemas["ProfileCreate"]
	if ref == nil || ref.Value == nil {
		return nil, errors.New("xcart spec: no ProfileCreate schema")
	}
	return ref.Value, nil
})

func prepareFixtures(ctx context.Context, env module.Env, f *Fixtures) (module.Write, error) {
	ref := Reference{Memberships: map[int]string{}, Roles: map[int]string{}}
	for _, m := range f.Memberships {
		ref.Memberships[m.ID] = m.Name
	}
	for _, r := range f.Roles {
		ref.Roles[r.ID] = r.Name
	}
	ss, problems := seeds(f.Profiles)
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	profiles, err := hashPasswords(ctx, env, ss)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, tx *gorm.DB, overwrite bool, applied module.Applied) error {
		// The file's transaction runs without the database deadline (store.WithStartupLock), but
		// ctx is the caller's: without Unbounded, each store.Transaction below (a savepoint)
		// would be one database call, bounded as a whole by the deadline of one statement, which
		// thousands of profiles may take longer than.
		ctx = store.Unbounded(ctx)
		st := NewStore(tx)
		if err := st.LoadReference(ctx, ref, overwrite, applied.Add); err != nil {
			return err
		}
		if len(profiles) == 0 {
			return nil
		}
		if err := checkSeedReferences(ctx, st, profiles); err != nil {
			return err
		}
		rows := slices.Clone(profiles)
		for i := range rows {
			normalize(&rows[i]) // as the create does, once the references are checked
		}
		err := st.Seed(ctx, rows, overwrite, func(created bool) { applied.Add("profiles", created) })
		var problem *SeedProblem
		if errors.As(err, &problem) {
			return fmt.Errorf("profiles[%d].%s: %s", problem.Index, problem.Err.Field, problem.Err.Message)
		}
		return err
	}, nil
}

// hashPasswords returns the seeds' profiles, created now, with their plain passwords hashed as
// the create hashes them (argon2id, the server's hasher): the slow part of a fixtures file, done
// before the start-up lock is taken. Imported hashes are already in place.
func hashPasswords(ctx context.Context, env module.Env, ss []seed) ([]Profile, error) {
	profiles := make([]Profile, len(ss))
	now := env.Now().UTC().Truncate(time.Second)
	var plain []int
	var pws []string
	for i, s := range ss {
		profiles[i] = s.profile
		profiles[i].CreateDate = now
		if s.password != nil {
			plain = append(plain, i)
			pws = append(pws, *s.password)
		}
	}
	hashes, err := env.Hasher.HashAll(ctx, pws)
	if err != nil {
		return nil, err
	}
	for k, i := range plain {
		profiles[i].PasswordHash = hashes[k]
	}
	return profiles, nil
}

// checkSeedReferences checks, as the create does, that the memberships and roles the profiles
// name exist, once the file's own reference data is stored: one look-up for all of them, and every problem of every profile listed.
func checkSeedReferences(ctx context.Context, st *DBStore, profiles []Profile) error {
	var memberships, roles []int
	for _, p := range profiles {
		memberships = append(memberships, membershipIDs(p)...)
		roles = append(roles, p.RoleIDs...)
	}
	slices.Sort(memberships)
	slices.Sort(roles)
	missing, err := st.MissingReferences(ctx, References{Memberships: slices.Compact(memberships), Roles: slices.Compact(roles)})
	if err != nil {
		return err
	}
	if len(missing.Memberships) == 0 && len(missing.Roles) == 0 {
		return nil
	}
	var errs []error
	for i, p := range profiles {
		for _, e := range apperr.All(referenceProblems(p, missing)) {
			errs = append(errs, fmt.Errorf("profiles[%d].%s: %s", i, e.Field, e.Message))
		}
	}
	return errors.Join(errs...)
}
