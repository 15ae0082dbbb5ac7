package occadmin

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/module"
)

// Fixtures is the OCC admin API's section of a fixtures file: the admin roles.
type Fixtures struct {
	Roles []RoleFixture `yaml:"roles"`
}

// RoleFixture is an OCC admin role: an id such as adminRole, a name, and the privileges it
// grants.
type RoleFixture struct {
	ID         string   `yaml:"id"`
	Name       string   `yaml:"name"`
	Privileges []string `yaml:"privileges"`
}

var fixtures = module.Section(checkFixtures, prepareFixtures)

func checkFixtures(f *Fixtures) []error {
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
	return errs
}

func prepareFixtures(_ context.Context, f *Fixtures) (module.Write, error) {
	roles := make([]Role, len(f.Roles))
	for i, r := range f.Roles {
		roles[i] = Role(r)
	}
	return func(ctx context.Context, tx *gorm.DB, overwrite bool, _ module.Applied) error {
		return NewStore(tx).LoadRoles(ctx, roles, overwrite)
	}, nil
}
