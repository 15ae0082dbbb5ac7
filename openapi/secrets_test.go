package openapi_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/provisiond/provisiond/internal/journal"
	"github.com/provisiond/provisiond/openapi"
)

// secretName is a property or parameter name that holds a secret: a password, a token, a
// secret or an API key. token_type, force_change_password (a boolean) and the like are not.
var secretName = regexp.MustCompile(`(?i)^(.*password|.*token|.*secret|api_?key)$`)

// TestSecretsAreMarked checks that every string property and parameter of the specs whose name
// says it holds a secret is marked (format: password or writeOnly, journal.Marked): what is
// masked in anything provisiond keeps or shows of a request (the request journal) comes from
// these marks, not from a list of names kept by hand. Each vendor spec has secrets, so finding
// none is a failure too.
func TestSecretsAreMarked(t *testing.T) {
	for _, name := range openapi.Names() {
		_, doc, err := openapi.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		var secrets, unmarked []string
		journal.Properties(doc, func(prop string, s *openapi3.Schema) {
			switch {
			case !secretName.MatchString(prop) || !s.Type.Is(openapi3.TypeString):
			case journal.Marked(s):
				secrets = append(secrets, prop)
			default:
				unmarked = append(unmarked, prop)
			}
		})
		for _, u := range slices.Compact(slices.Sorted(slices.Values(unmarked))) {
			t.Errorf("%s: property or parameter %s holds a secret by its name but is neither format: password nor writeOnly", name, u)
		}
		secrets = slices.Compact(slices.Sorted(slices.Values(secrets)))
		t.Logf("%s: marked secrets: %s", name, strings.Join(secrets, ", "))
		if len(secrets) == 0 {
			t.Errorf("%s: no marked secret found; every API takes a password, a token or a key", name)
		}
	}
}
