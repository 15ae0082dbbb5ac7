package control_test

import (
	"net/http"
	"testing"

	"github.com/provisiond/provisiond/internal/apitest"
)

// TestFixturesRefuseNUL checks that a fixtures document holding U+0000 anywhere (a user's field,
// reference data's ids and names, a credential's secret) is refused whole with one problem per
// place, never a 500: PostgreSQL text cannot hold U+0000. A place an API's own check names is
// listed once, with that API's message (X-Cart and ActivePlatform name the entry).
func TestFixturesRefuseNUL(t *testing.T) {
	apitest.ForEachDialect(t, func(t *testing.T, dialect string) {
		c := start(t, dialect, apitest.Options{})
		for _, tc := range []struct{ doc, field string }{
			{`{"occadmin":{"roles":[{"id":"r\u0000","name":"R"}]}}`, "occadmin.roles[0].id"},
			{`{"occadmin":{"profiles":[{"email":"a@example.com","firstName":"A\u0000","lastName":"B","roles":["adminRole"]}]}}`, "occadmin.profiles[0].firstName"},
			{`{"occstore":{"organizations":[{"id":"or-1\u0000","name":"X"}]}}`, "occstore.organizations[0].id"},
			{`{"platformos":{"form_configurations":[{"name":"f\u0000","kind":"create","fields":["email"]}]}}`, "platformos.form_configurations[0].name"},
			{`{"xcart":{"roles":[{"id":9,"name":"R\u0000"}]}}`, "xcart.roles[0]"},
			{`{"activeplatform":{"custom_attributes":[{"key":"k","name":"N\u0000","type":"string"}]}}`, "activeplatform.custom_attributes[0]"},
			{`{"credentials":[{"api":"xcart","secret":"0123456789abcdef\u0000"}]}`, "credentials[0].secret"},
		} {
			res := c.control(t, "POST", "/fixtures", tc.doc)
			if res.Status != http.StatusBadRequest {
				t.Errorf("%s: %d %s, want 400", tc.doc, res.Status, res.Body)
				continue
			}
			var body struct {
				Errors []struct{ Field string } `json:"errors"`
			}
			res.JSON(t, &body)
			n := 0
			for _, e := range body.Errors {
				if e.Field == tc.field {
					n++
				}
			}
			if n != 1 || len(body.Errors) != 1 {
				t.Errorf("%s: problems %s, want one at %s", tc.doc, res.Body, tc.field)
			}
		}
	})
}
