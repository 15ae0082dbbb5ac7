package openapi_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/provisiond/provisiond/openapi"
)

// secretName is a property or parameter name that holds a secret: a password, a token, a
// secret or an API key. token_type, force_change_password (a boolean) and the like are not.
var secretName = regexp.MustCompile(`(?i)^(.*password|.*token|.*secret|api_?key)$`)

// marked reports whether s is marked secret as the specs mark secrets: `format: password`, or
// `writeOnly` (a value that is sent and never answered).
func marked(s *openapi3.Schema) bool { return s.Format == "password" || s.WriteOnly }

// TestSecretsAreMarked checks that every string property and parameter of the specs whose name
// says it holds a secret is marked (format: password or writeOnly): what is masked in anything
// provisiond keeps or shows of a request (the request journal) comes from these marks, not from
// a list of names kept by hand. Each vendor spec has secrets, so finding none is a failure too.
func TestSecretsAreMarked(t *testing.T) {
	for _, name := range openapi.Names() {
		_, doc, err := openapi.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		w := secretWalk{seen: map[*openapi3.Schema]bool{}}
		for key, ref := range doc.Components.Schemas {
			w.schema("#/components/schemas/"+key, ref)
		}
		for path, item := range doc.Paths.Map() {
			for method, op := range item.Operations() {
				at := method + " " + path
				for _, p := range append(slices.Clone(item.Parameters), op.Parameters...) {
					if p.Value != nil && p.Value.Schema != nil {
						w.named(fmt.Sprintf("%s parameter %s (%s)", at, p.Value.Name, p.Value.In), p.Value.Name, p.Value.Schema)
					}
				}
				if op.RequestBody != nil && op.RequestBody.Value != nil {
					for mt, c := range op.RequestBody.Value.Content {
						w.schema(at+" request "+mt, c.Schema)
					}
				}
				for status, r := range op.Responses.Map() {
					for mt, c := range r.Value.Content {
						w.schema(at+" response "+status+" "+mt, c.Schema)
					}
				}
			}
		}
		for _, u := range w.unmarked {
			t.Errorf("%s: %s holds a secret by its name but is neither format: password nor writeOnly", name, u)
		}
		slices.Sort(w.secrets)
		t.Logf("%s: %d marked secrets: %s", name, len(w.secrets), strings.Join(slices.Compact(w.secrets), ", "))
		if len(w.secrets) == 0 {
			t.Errorf("%s: no marked secret found; every API takes a password, a token or a key", name)
		}
	}
}

type secretWalk struct {
	seen     map[*openapi3.Schema]bool
	secrets  []string
	unmarked []string
}

// named checks the schema of a property or parameter called name, at where.
func (w *secretWalk) named(where, name string, ref *openapi3.SchemaRef) {
	if ref == nil || ref.Value == nil {
		return
	}
	if secretName.MatchString(name) && ref.Value.Type.Is(openapi3.TypeString) {
		if marked(ref.Value) {
			w.secrets = append(w.secrets, name)
		} else {
			w.unmarked = append(w.unmarked, where)
		}
	}
	w.schema(where, ref)
}

// schema walks the properties of ref and of every schema below it, once each.
func (w *secretWalk) schema(where string, ref *openapi3.SchemaRef) {
	if ref == nil || ref.Value == nil || w.seen[ref.Value] {
		return
	}
	s := ref.Value
	w.seen[s] = true
	for name, p := range s.Properties {
		w.named(where+"."+name, name, p)
	}
	w.schema(where+"[]", s.Items)
	if s.AdditionalProperties.Schema != nil {
		w.schema(where+".*", s.AdditionalProperties.Schema)
	}
	for _, all := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
		for _, sub := range all {
			w.schema(where, sub)
		}
	}
}
