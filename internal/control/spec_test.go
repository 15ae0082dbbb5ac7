package control_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/provisiond/provisiond/internal/app"
	"github.com/provisiond/provisiond/openapi"
)

// TestSpecNamesTheRegisteredAPIs checks that the lists of APIs the control spec spells out are
// those of app.Modules: the APIs with data (ApiName), those with a fixtures section (Fixtures'
// properties) and those that take credentials (named in FixtureCredential.api's description), so that an SDK generated
// from the spec offers exactly what the server takes.
func TestSpecNamesTheRegisteredAPIs(t *testing.T) {
	_, doc, err := openapi.Load("control")
	if err != nil {
		t.Fatal(err)
	}
	schemas := doc.Components.Schemas
	enum := func(vals []any) []string {
		out := make([]string, len(vals))
		for i, v := range vals {
			out[i] = fmt.Sprint(v)
		}
		return out
	}
	if got, want := enum(schemas["ApiName"].Value.Enum), app.Modules.Data(); !slices.Equal(got, want) {
		t.Errorf("ApiName enum %v, want the APIs with data %v", got, want)
	}
	desc := schemas["FixtureCredential"].Value.Properties["api"].Value.Description
	for _, api := range app.Modules.Keyed() {
		if !strings.Contains(desc, api) {
			t.Errorf("FixtureCredential.api's description %q does not name %s, which takes credentials", desc, api)
		}
	}
	var sections []string
	for _, m := range app.Modules {
		if m.Fixtures != nil {
			sections = append(sections, m.Name)
		}
	}
	var props []string
	for name := range schemas["Fixtures"].Value.Properties {
		if name != "credentials" {
			props = append(props, name)
		}
	}
	slices.Sort(props)
	slices.Sort(sections)
	if !slices.Equal(props, sections) {
		t.Errorf("Fixtures has sections %v, want those of the APIs with fixtures %v", props, sections)
	}
	for _, m := range app.Modules {
		if slices.Contains(app.Modules.Data(), m.Name) != (m.Users != nil) {
			t.Errorf("%s: an API keeps data (migrations) if and only if it has Users for inspection", m.Name)
		}
	}
}
