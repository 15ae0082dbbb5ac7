package activeplatform

import (
	"context"
	"fmt"
	"slices"

	"gorm.io/gorm"

	"github.com/provisiond/provisiond/internal/module"
)

// Fixtures is ActivePlatform's section of a fixtures file: the custom attribute definitions.
type Fixtures struct {
	CustomAttributes []AttributeFixture `yaml:"custom_attributes"`
}

// AttributeFixture defines a custom attribute: the key requests use, the name responses show,
// and the value type (string, integer or boolean).
type AttributeFixture struct {
	Key  string `yaml:"key"`
	Name string `yaml:"name"`
	Type string `yaml:"type"`
}

var fixtures = module.Section(checkFixtures, prepareFixtures)

func checkFixtures(f *Fixtures) []error {
	var errs []error
	seen := map[string]bool{}
	for i, a := range f.CustomAttributes {
		where := fmt.Sprintf("custom_attributes[%d]", i)
		if a.Key == "" || a.Name == "" || seen[a.Key] {
			errs = append(errs, fmt.Errorf("%s: a key (listed once) and a name are required", where))
		}
		seen[a.Key] = true
		if !slices.Contains([]string{TypeString, TypeInteger, TypeBoolean}, a.Type) {
			errs = append(errs, fmt.Errorf("%s: type must be string, integer or boolean", where))
		}
	}
	return errs
}

func prepareFixtures(_ context.Context, f *Fixtures) (module.Write, error) {
	defs := make([]Definition, len(f.CustomAttributes))
	for i, a := range f.CustomAttributes {
		defs[i] = Definition(a)
	}
	return func(ctx context.Context, tx *gorm.DB, overwrite bool, _ module.Applied) error {
		return NewStore(tx).LoadDefinitions(ctx, defs, overwrite)
	}, nil
}
