package httpserver

import (
	"errors"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/provisiond/provisiond/internal/email"
)

// emailFormat is the specs' `format: email`, the definition of package email: the validator
// registers it for every request, and SchemaIssues checks with it, so that a request and a
// fixtures entry agree on what an address is.
var emailFormat = openapi3.NewCallbackValidator(func(s string) error {
	if !email.Valid(s) {
		return errors.New("not a valid email address")
	}
	return nil
})

// SchemaIssues checks value, a decoded JSON body (map[string]any, []any, string, float64 or
// json.Number, bool, nil), against schema as the request validator checks a request body: every
// problem, in the request direction (readOnly properties refused, writeOnly ones accepted), with
// the server's email format, and no default filled in (value is not changed). It returns one
// Issue per problem, as a request's InvalidRequest lists its body's schema problems: In "body",
// Field the property path ("roles[1]"), Pointer its JSON pointer, Rule the schema keyword, Schema
// and Value what failed. It returns nil when value conforms.
func SchemaIssues(schema *openapi3.Schema, value any) []Issue {
	err := schema.VisitJSON(value, openapi3.MultiErrors(), openapi3.VisitAsRequest(),
		openapi3.WithStringFormatValidator("email", emailFormat))
	if err == nil {
		return nil
	}
	return issues(err, Issue{In: "body"})
}

// CharacterIssues lists the strings of value, a decoded JSON body, that hold U+0000, object keys
// included, as the validator refuses them in a request body whatever the database (PostgreSQL
// text cannot store it): In "body", Rule "characters", Field the value's property path (that of
// the object for a key).
func CharacterIssues(value any) []Issue {
	var out []Issue
	var steps [8]pathStep
	walkCharacters(value, steps[:0], &out)
	return out
}

// pathStep is one step down a decoded body: an object's key, or else an array's index. The steps
// to a value are only joined into its property path when the value holds U+0000, so that a body
// without one costs no path.
type pathStep struct {
	key   string
	index int
}

// stepsPath is the property path the steps lead to ("" for the body itself).
func stepsPath(steps []pathStep) string {
	var b strings.Builder
	for _, s := range steps {
		switch {
		case s.key == "":
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		case b.Len() > 0:
			b.WriteString("." + s.key)
		default:
			b.WriteString(s.key)
		}
	}
	return b.String()
}

func walkCharacters(v any, at []pathStep, out *[]Issue) {
	switch x := v.(type) {
	case string:
		if strings.ContainsRune(x, 0) {
			*out = append(*out, Issue{In: "body", Field: stepsPath(at), Rule: "characters", Value: x})
		}
	case []any:
		for i, e := range x {
			walkCharacters(e, append(at, pathStep{index: i}), out)
		}
	case map[string]any:
		for k, e := range x {
			if strings.ContainsRune(k, 0) {
				*out = append(*out, Issue{In: "body", Field: stepsPath(at), Rule: "characters"})
				continue
			}
			walkCharacters(e, append(at, pathStep{key: k}), out)
		}
	}
}

// schemaIssue is the Issue of one schema problem found below at (the body, or a parameter).
func schemaIssue(at Issue, e *openapi3.SchemaError) Issue {
	is := at
	is.Pointer = e.JSONPointer()
	is.Field = JoinPath(at.Field, is.Pointer)
	is.Rule, is.Schema, is.Value = e.SchemaField, e.Schema, e.Value
	return is
}

// JoinPath renders a JSON pointer's tokens below base as a property path, the form of
// Issue.Field: "", [roles 1] → roles[1]; "filter", [a b] → filter.a.b. A token of digits is an
// index, whether it names an array's element or an object's key.
func JoinPath(base string, pointer []string) string {
	var b strings.Builder
	b.WriteString(base)
	for _, p := range pointer {
		if _, err := strconv.Atoi(p); err == nil {
			b.WriteString("[" + p + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}
