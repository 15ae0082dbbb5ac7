package xcart

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/module"
)

// Fixtures is X-Cart's section of a fixtures file: its reference data.
type Fixtures struct {
	Memberships []NamedFixture `yaml:"memberships"`
	Roles       []NamedFixture `yaml:"roles"`
}

// NamedFixture is a reference-data row: an id and a name.
type NamedFixture struct {
	ID   int    `yaml:"id"`
	Name string `yaml:"name"`
}

var fixtures = module.Section(checkFixtures, prepareFixtures)

func checkFixtures(f *Fixtures) []error {
	return append(checkNamed("memberships", f.Memberships), checkNamed("roles", f.Roles)...)
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
		if seen[r.ID] {
			errs = append(errs, fmt.Errorf("%s: id %d listed twice", where, r.ID))
		}
		seen[r.ID] = true
	}
	return errs
}

func prepareFixtures(_ context.Context, f *Fixtures) (module.Write, error) {
	ref := Reference{Memberships: map[int]string{}, Roles: map[int]string{}}
	for _, m := range f.Memberships {
		ref.Memberships[m.ID] = m.Name
	}
	for _, r := range f.Roles {
		ref.Roles[r.ID] = r.Name
	}
	return func(ctx context.Context, tx *gorm.DB, overwrite bool, _ module.Applied) error {
		return NewStore(tx).LoadReference(ctx, ref, overwrite)
	}, nil
}
