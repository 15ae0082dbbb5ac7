package openapi_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/provisiond/provisiond/openapi"
)

// Every create (a POST on a collection path P) links, from its success answer, to each operation of
// the item path P/{param} — its read, update and delete — with every path parameter of the target
// given by a runtime expression, so that stateful testers and SDK generators can follow them. (A
// path with a format suffix may link to the operations of its twin without one.)
func TestCreatesLinkToTheirItem(t *testing.T) {
	item := regexp.MustCompile(`^/\{[^}/]+\}$`)
	for _, name := range openapi.Names() {
		_, doc, err := openapi.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		paths := doc.Paths.Map()
		for path, pi := range paths {
			if pi.Post == nil {
				continue
			}
			suffix := ""
			for _, s := range []string{".jsonld", ".json"} {
				if strings.HasSuffix(path, s) {
					suffix = s
					break
				}
			}
			base := strings.TrimSuffix(strings.TrimSuffix(path, suffix), "/")
			links := successLinks(pi.Post)
			for other, target := range paths {
				rest, ok := strings.CutPrefix(other, base)
				if !ok || !item.MatchString(strings.TrimSuffix(rest, suffix)) || !strings.HasSuffix(rest, suffix) {
					continue
				}
				for method, op := range target.Operations() {
					link := links[op.OperationID]
					if bare := paths[strings.TrimSuffix(other, suffix)]; link == nil && suffix != "" && bare != nil && bare.GetOperation(method) != nil {
						// The twin without the format suffix is the same operation (X-Cart's
						// format suffixes share their answers' components with it).
						link = links[bare.GetOperation(method).OperationID]
					}
					if link == nil {
						t.Errorf("%s: POST %s (%s) has no link to %s %s (%s)", name, path, pi.Post.OperationID, method, other, op.OperationID)
						continue
					}
					for _, p := range append(target.Parameters, op.Parameters...) {
						if p.Value != nil && p.Value.In == openapi3.ParameterInPath {
							if v, _ := link.Parameters[p.Value.Name].(string); !strings.HasPrefix(v, "$") {
								t.Errorf("%s: the link of %s to %s does not give path parameter %s (%v)", name, pi.Post.OperationID, op.OperationID, p.Value.Name, link.Parameters[p.Value.Name])
							}
						}
					}
				}
			}
		}
	}
}

// successLinks are the links of op's 2xx responses, by target operationId.
func successLinks(op *openapi3.Operation) map[string]*openapi3.Link {
	out := map[string]*openapi3.Link{}
	for status, r := range op.Responses.Map() {
		if !strings.HasPrefix(status, "2") || r.Value == nil {
			continue
		}
		for _, l := range r.Value.Links {
			if l.Value != nil {
				out[l.Value.OperationID] = l.Value
			}
		}
	}
	return out
}
