package platformos

import (
	"context"
	"fmt"
	"slices"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/module"
)

// Fixtures is platformOS's section of a fixtures file: the form configurations.
type Fixtures struct {
	FormConfigurations []FormFixture `yaml:"form_configurations"`
}

// FormFixture names the user form fields an operation (kind create, update or session) accepts
// and those it requires, and the shortest password it takes (default 6).
type FormFixture struct {
	Name              string   `yaml:"name"`
	Kind              string   `yaml:"kind"`
	Fields            []string `yaml:"fields"`
	Required          []string `yaml:"required"`
	PasswordMinLength int      `yaml:"password_min_length"`
}

var fixtures = module.Section(checkFixtures, prepareFixtures)

func checkFixtures(f *Fixtures) []error {
	var errs []error
	seen := map[string]bool{}
	for i, fc := range f.FormConfigurations {
		where := fmt.Sprintf("form_configurations[%d]", i)
		if fc.Name == "" || seen[fc.Name] {
			errs = append(errs, fmt.Errorf("%s: a name is required, once", where))
		}
		seen[fc.Name] = true
		if !slices.Contains([]string{KindCreate, KindUpdate, KindSession}, fc.Kind) {
			errs = append(errs, fmt.Errorf("%s: kind must be create, update or session", where))
		}
		for _, field := range slices.Concat(fc.Fields, fc.Required) {
			if !slices.Contains(Fields, field) {
				errs = append(errs, fmt.Errorf("%s: %q is not a user form field (%v)", where, field, Fields))
			}
		}
		for _, field := range fc.Required {
			if !slices.Contains(fc.Fields, field) {
				errs = append(errs, fmt.Errorf("%s: required field %q is not among its fields", where, field))
			}
		}
		if fc.Kind == KindCreate && !slices.Contains(fc.Fields, "email") {
			errs = append(errs, fmt.Errorf("%s: a create configuration must accept email (every user has one)", where))
		}
		if fc.PasswordMinLength < 0 {
			errs = append(errs, fmt.Errorf("%s: password_min_length must be 0 or more", where))
		}
	}
	return errs
}

func prepareFixtures(_ context.Context, f *Fixtures) (module.Write, error) {
	forms := make([]FormConfiguration, len(f.FormConfigurations))
	for i, fc := range f.FormConfigurations {
		forms[i] = FormConfiguration(fc)
		if forms[i].Fields == nil {
			forms[i].Fields = []string{}
		}
		if forms[i].Required == nil {
			forms[i].Required = []string{}
		}
	}
	return func(ctx context.Context, tx *gorm.DB, overwrite bool, _ module.Applied) error {
		return NewStore(tx).LoadForms(ctx, forms, overwrite)
	}, nil
}
