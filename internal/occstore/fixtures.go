package occstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/module"
	"github.com/provisiond/provisiond/internal/password"
)

// Fixtures is the OCC store API's section of a fixtures file: B2B organizations and their first
// delegated administrators.
type Fixtures struct {
	Organizations []OrganizationFixture `yaml:"organizations"`
}

// OrganizationFixture is a B2B organization with its delegated administrators and, optionally,
// other members that can log in (buyers, say).
type OrganizationFixture struct {
	ID      string          `yaml:"id"`
	Name    string          `yaml:"name"`
	Active  *bool           `yaml:"active"`
	Admins  []MemberFixture `yaml:"admins"`
	Members []MemberFixture `yaml:"members"`
}

// MemberFixture is a member of an organization who logs in with email and password. Roles (role
// functions admin or buyer) apply to members; admins are always admin.
type MemberFixture struct {
	Email     string   `yaml:"email"`
	FirstName string   `yaml:"firstName"`
	LastName  string   `yaml:"lastName"`
	Password  string   `yaml:"password"`
	Roles     []string `yaml:"roles"`
}

var fixtures = module.Section(checkFixtures, prepareFixtures)

func checkFixtures(f *Fixtures) []error {
	var errs []error
	seen := map[string]bool{}
	for i, o := range f.Organizations {
		if o.ID == "" || o.Name == "" {
			errs = append(errs, fmt.Errorf("organizations[%d]: id and name are required", i))
		}
		if seen[o.ID] {
			errs = append(errs, fmt.Errorf("organizations: id %s listed twice", o.ID))
		}
		seen[o.ID] = true
		for j, a := range slices.Concat(o.Admins, o.Members) {
			if a.Email == "" || a.FirstName == "" || a.LastName == "" || len(a.Password) < 8 {
				errs = append(errs, fmt.Errorf("organizations[%d]: member %d: email, firstName, lastName and a password of at least 8 characters are required", i, j))
			}
			for _, r := range a.Roles {
				if r != RoleAdmin && r != RoleBuyer {
					errs = append(errs, fmt.Errorf("organizations[%d]: member %d: role %q is not admin or buyer", i, j, r))
				}
			}
		}
	}
	return errs
}

// prepareFixtures hashes the members' passwords: the slow part, done before the start-up lock is
// taken, while other instances may hold it. Organizations are loaded whatever overwrite says:
// LoadOrganization sets what the file names.
func prepareFixtures(ctx context.Context, f *Fixtures) (module.Write, error) {
	type organization struct {
		org     Organization
		members []Member
	}
	var orgs []organization
	hasher := password.New(password.OWASP, 1)
	for _, o := range f.Organizations {
		var members []Member
		for i, a := range slices.Concat(o.Admins, o.Members) {
			hash, err := hasher.Hash(ctx, a.Password)
			if err != nil {
				return nil, err
			}
			roles := a.Roles
			if i < len(o.Admins) {
				roles = []string{RoleAdmin}
			}
			members = append(members, Member{
				Email: a.Email, FirstName: a.FirstName, LastName: a.LastName, Active: true, ReceiveEmail: "no",
				Roles: roles, PasswordHash: hash, CreatedAt: time.Now().UTC(),
			})
		}
		orgs = append(orgs, organization{Organization{ID: o.ID, Name: o.Name, Active: o.Active == nil || *o.Active}, members})
	}
	return func(ctx context.Context, tx *gorm.DB, _ bool, _ module.Applied) error {
		st := NewStore(tx)
		for _, o := range orgs {
			if err := st.LoadOrganization(ctx, o.org, o.members); err != nil {
				return err
			}
		}
		return nil
	}, nil
}
