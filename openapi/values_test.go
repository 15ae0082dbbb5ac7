package openapi_test

import (
	"fmt"
	"maps"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/provisiond/provisiond/openapi"
)

// vendorSpecs are the specs of the five vendor APIs: the ones property-based contract testers
// and SDK generators are pointed at. (The control API is provisiond's own.)
func vendorSpecs(t *testing.T) map[string]*openapi3.T {
	t.Helper()
	out := map[string]*openapi3.T{}
	for _, name := range openapi.Names() {
		if name == "control" {
			continue
		}
		_, doc, err := openapi.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = doc
	}
	return out
}

// TestIntegersHaveBounds checks that every integer of the five vendor specs (parameters,
// headers, bodies, responses, at any depth) states its range with minimum and maximum, so that a
// generator of schema-valid values cannot produce one the server refuses for its size (10^20 as
// a role id) and a generated client picks a type that holds every value.
func TestIntegersHaveBounds(t *testing.T) {
	for name, doc := range vendorSpecs(t) {
		t.Run(name, func(t *testing.T) {
			found := 0
			eachSchema(doc, func(at string, s *openapi3.Schema) {
				if !s.Type.Is(openapi3.TypeInteger) {
					return
				}
				found++
				if s.Min == nil || s.Max == nil {
					t.Errorf("%s: integer %s has no minimum or no maximum", name, at)
				}
			})
			if found == 0 {
				t.Errorf("%s: no integer found; the walk is broken", name)
			}
		})
	}
}

// TestStringsRefuseNUL checks that every string of the five vendor specs says, in a way tools
// understand, that it cannot hold U+0000 (which PostgreSQL text cannot store, so the server
// refuses it): an enum, or a pattern anchored at both ends none of whose parts matches U+0000
// (proved on the pattern's syntax tree, not by trying samples), or a format whose validator
// refuses U+0000.
func TestStringsRefuseNUL(t *testing.T) {
	for name, doc := range vendorSpecs(t) {
		t.Run(name, func(t *testing.T) {
			found := 0
			eachSchema(doc, func(at string, s *openapi3.Schema) {
				if !s.Type.Is(openapi3.TypeString) {
					return
				}
				found++
				if err := refusesNUL(s); err != nil {
					t.Errorf("%s: string %s: %v", name, at, err)
				}
			})
			if found == 0 {
				t.Errorf("%s: no string found; the walk is broken", name)
			}
		})
	}
}

// refusesNUL tells why s may hold U+0000, or nil when it cannot.
func refusesNUL(s *openapi3.Schema) error {
	if len(s.Enum) > 0 {
		for _, e := range s.Enum {
			if v, ok := e.(string); ok && strings.ContainsRune(v, 0) {
				return fmt.Errorf("enum value %q holds U+0000", v)
			}
		}
		return nil
	}
	if s.Pattern != "" {
		re, err := syntax.Parse(s.Pattern, syntax.Perl)
		if err != nil {
			return fmt.Errorf("pattern %q: %v", s.Pattern, err)
		}
		if !anchored(re) {
			return fmt.Errorf("pattern %q is not anchored at both ends (^…$), so it says nothing of the rest of the string", s.Pattern)
		}
		if matchesNUL(re) {
			return fmt.Errorf("pattern %q matches U+0000", s.Pattern)
		}
		return nil
	}
	switch s.Format {
	case "date-time", "date":
		// kin-openapi's and every tool's date formats are anchored digit patterns.
		if err := s.VisitJSON("2024-01-02T03:04:05Z\x00"); err == nil {
			return fmt.Errorf("format %s accepts U+0000", s.Format)
		}
		return nil
	}
	return fmt.Errorf("no pattern, enum or date format: nothing tells a tool that U+0000 is refused")
}

// anchored tells whether re can only match a whole string: a concatenation starting with ^
// (\A) and ending with $ (\z), or an alternation of such.
func anchored(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpAlternate:
		for _, s := range re.Sub {
			if !anchored(s) {
				return false
			}
		}
		return true
	case syntax.OpCapture:
		return anchored(re.Sub[0])
	case syntax.OpConcat:
		if len(re.Sub) < 2 {
			return false
		}
		first, last := re.Sub[0], re.Sub[len(re.Sub)-1]
		return (first.Op == syntax.OpBeginText || first.Op == syntax.OpBeginLine) &&
			(last.Op == syntax.OpEndText || last.Op == syntax.OpEndLine)
	}
	return false
}

// matchesNUL tells whether any part of re can match U+0000. ^ and $ are read as in JavaScript
// and JSON Schema (start and end of the text): the specs never set the multiline flag.
func matchesNUL(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return true
	case syntax.OpLiteral:
		return slices.Contains(re.Rune, 0)
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i] == 0 {
				return true
			}
		}
		return false
	}
	return slices.ContainsFunc(re.Sub, matchesNUL)
}

// eachSchema calls visit with every schema of doc (components, parameters, headers, request
// and response bodies, and every schema below them), once each, with where it was first found.
func eachSchema(doc *openapi3.T, visit func(at string, s *openapi3.Schema)) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(at string, ref *openapi3.SchemaRef)
	walk = func(at string, ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		visit(at, s)
		for _, k := range slices.Sorted(maps.Keys(s.Properties)) {
			walk(at+"."+k, s.Properties[k])
		}
		walk(at+"[]", s.Items)
		walk(at+".*", s.AdditionalProperties.Schema)
		for i, sub := range slices.Concat(s.AllOf, s.AnyOf, s.OneOf) {
			walk(fmt.Sprintf("%s(%d)", at, i), sub)
		}
		walk(at+"(not)", s.Not)
	}
	params := func(at string, ps openapi3.Parameters) {
		for _, p := range ps {
			if p.Value != nil {
				walk(at+" "+p.Value.In+" "+p.Value.Name, p.Value.Schema)
			}
		}
	}
	content := func(at string, c openapi3.Content) {
		for _, mt := range slices.Sorted(maps.Keys(c)) {
			walk(at+" "+mt, c[mt].Schema)
		}
	}
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		params(path, item.Parameters)
		ops := item.Operations()
		for _, method := range slices.Sorted(maps.Keys(ops)) {
			op, at := ops[method], method+" "+path
			params(at, op.Parameters)
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				content(at+" body", op.RequestBody.Value.Content)
			}
			responses := op.Responses.Map()
			for _, status := range slices.Sorted(maps.Keys(responses)) {
				r := responses[status]
				if r.Value == nil {
					continue
				}
				for _, h := range slices.Sorted(maps.Keys(r.Value.Headers)) {
					if hr := r.Value.Headers[h]; hr.Value != nil {
						walk(at+" "+status+" header "+h, hr.Value.Schema)
					}
				}
				content(at+" "+status, r.Value.Content)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(doc.Components.Schemas)) {
		walk("#/components/schemas/"+name, doc.Components.Schemas[name])
	}
}

// TestRefusesNUL checks the proof TestStringsRefuseNUL rests on, with patterns that hold and
// patterns that do not.
func TestRefusesNUL(t *testing.T) {
	for _, c := range []struct {
		schema openapi3.Schema
		ok     bool
	}{
		{openapi3.Schema{Pattern: `^[^\x00]*$`}, true},
		{openapi3.Schema{Pattern: `^iuser[0-9]+$`}, true},
		{openapi3.Schema{Pattern: `^([eE][mM][aA][iI][lL]|id):(asc|desc)$`}, true},
		{openapi3.Schema{Enum: []any{"yes", "no"}}, true},
		{openapi3.Schema{Format: "date-time"}, true},
		{openapi3.Schema{Pattern: `^.*$`}, false},          // . matches U+0000
		{openapi3.Schema{Pattern: `^[^a]*$`}, false},       // the negated class holds U+0000
		{openapi3.Schema{Pattern: `[^\x00]+`}, false},      // not anchored: U+0000 around the match
		{openapi3.Schema{Pattern: `^[0-9]+|x$`}, false},    // one alternative is not anchored at its end
		{openapi3.Schema{Pattern: `^[\x00-\x1f]$`}, false}, // a range from U+0000
		{openapi3.Schema{}, false},
		{openapi3.Schema{Format: "password"}, false},
	} {
		if err := refusesNUL(&c.schema); (err == nil) != c.ok {
			t.Errorf("pattern %q enum %v format %q: refusesNUL = %v, want ok %v", c.schema.Pattern, c.schema.Enum, c.schema.Format, err, c.ok)
		}
	}
}
