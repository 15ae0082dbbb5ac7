package xcart

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	gen "github.com/provisiond/provisiond/gen/xcart"
	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/httpserver"
)

// API Platform's problem type and title, the same for every error.
const (
	problemType  = "https://tools.ietf.org/html/rfc2616#section-10"
	problemTitle = "An error occurred"
	problemMedia = "application/problem+json"
)

// Render turns any error of an X-Cart request into API Platform's problem document. Its
// instance is the path as sent, percent-encoded (Symfony's path info): a path that held U+0000 or
// another byte a URL escapes is answered without it.
func Render(err error, path string) httpserver.Reply {
	return render(err, (&url.URL{Path: path}).EscapedPath())
}

func render(err error, path string) httpserver.Reply {
	internal := problem(http.StatusInternalServerError, path, "Internal Server Error")
	r, all, done := httpserver.Prologue{
		Transport: func(status int, err error) httpserver.Reply {
			if status == http.StatusNotFound {
				return notFound(path)
			}
			if attribute, ok := unboundNumber(err); ok {
				return problem(http.StatusBadRequest, path, typeError(attribute, "int", "float"))
			}
			return problem(status, path, transportDetail(status, err))
		},
		Invalid:     func(invalid *httpserver.InvalidRequest) httpserver.Reply { return renderInvalid(invalid, path) },
		Unavailable: problem(http.StatusServiceUnavailable, path, "Service Unavailable"),
		Internal:    internal,
	}.Render(err)
	if done {
		return r
	}
	var violations []gen.ConstraintViolation
	for _, e := range all {
		switch e.Kind {
		case apperr.KindInvalid:
			violations = append(violations, gen.ConstraintViolation{PropertyPath: e.Field, Message: e.Message})
		case apperr.KindConflict:
			return problem(http.StatusBadRequest, path, e.Message)
		case apperr.KindNotFound:
			return notFound(path)
		case apperr.KindUnauthenticated:
			r := problem(http.StatusUnauthorized, path, e.Message)
			if e.Rule == "credentials" {
				p := r.Body.(gen.Problem)
				code, msg := http.StatusUnauthorized, e.Message
				p.Code, p.Message = &code, &msg
				r.Body = p
			}
			return r
		case apperr.KindForbidden:
			return problem(http.StatusForbidden, path, e.Message)
		default:
			return internal
		}
	}
	return violationList(violations, path)
}

func problem(status int, path, detail string) httpserver.Reply {
	return httpserver.Reply{Status: status, ContentType: problemMedia, Body: gen.Problem{
		Type: problemType, Title: problemTitle,
		Detail:   nullableString(detail),
		Instance: nullableString(path),
	}}
}

// notFound is the 404 of path: API Platform's `Format "xml" is not supported` for a profile path
// with a format suffix it does not know, "Not Found" otherwise.
func notFound(path string) httpserver.Reply {
	if format, ok := unsupportedFormat(path); ok {
		return problem(http.StatusNotFound, path, fmt.Sprintf(`Format "%s" is not supported`, format))
	}
	return problem(http.StatusNotFound, path, "Not Found")
}

func violationList(violations []gen.ConstraintViolation, path string) httpserver.Reply {
	lines := make([]string, len(violations))
	for i, v := range violations {
		lines[i] = v.PropertyPath + ": " + v.Message
	}
	return httpserver.Reply{Status: http.StatusUnprocessableEntity, ContentType: problemMedia, Body: gen.ConstraintViolationList{
		Type: problemType, Title: problemTitle,
		Detail:     nullableString(strings.Join(lines, "\n")),
		Instance:   nullableString(path),
		Violations: violations,
	}}
}

// unboundNumber is the attribute of a body whose integer the binder could not hold: a number the
// schema check let through as an integer that PHP's json_decode reads as a float, one beyond 64
// bits (the check compares numbers as float64, to which 2^63 is 9223372036854775807) or one
// written with a fraction or an exponent ("100.0" is in the enum [0, 100] to it). API Platform
// refuses a float in an integer attribute with its type error, as renderInvalid answers the
// floats the schema check finds.
func unboundNumber(err error) (attribute string, ok bool) {
	var number *json.UnmarshalTypeError
	if !errors.As(err, &number) || !strings.HasPrefix(number.Value, "number") || number.Field == "" || number.Type == nil {
		return "", false
	}
	switch number.Type.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return number.Field, true
	}
	return "", false
}

// typeError is API Platform's answer to a value of the wrong JSON type for an attribute.
func typeError(attribute, want, given string) string {
	return fmt.Sprintf(`The type of the "%s" attribute must be "%s", "%s" given.`, attribute, want, given)
}

func transportDetail(status int, err error) string {
	var media *httpserver.UnsupportedMediaType
	switch {
	case status == http.StatusBadRequest:
		return "Syntax error"
	case errors.As(err, &media):
		return fmt.Sprintf(`The content-type "%s" is not supported. Supported MIME types are "%s".`, media.Got, strings.Join(media.Supported, `", "`))
	}
	return http.StatusText(status)
}

func renderInvalid(invalid *httpserver.InvalidRequest, path string) httpserver.Reply {
	var violations []gen.ConstraintViolation
	var unmatched []string // the fields that hold U+0000 (the pattern every free string has)
	for _, is := range invalid.Issues {
		switch {
		case is.In == "path":
			// An id that is not a number, or not one a profile can have, names no profile.
			return notFound(path)
		case is.In == "query":
			return problem(http.StatusBadRequest, path, queryDetail(is))
		case is.Rule == "syntax" || is.Rule == "missing":
			return problem(http.StatusBadRequest, path, "Syntax error")
		case invalid.OperationID == "login" && is.Rule == "required":
			// The login firewall, not API Platform, reads this body; it answers 400 per key.
			return problem(http.StatusBadRequest, path, fmt.Sprintf(`The key "%s" must be provided.`, is.Field))
		case invalid.OperationID == "login" && is.Rule == "pattern":
			// A login or password with U+0000 is a string the firewall looks up and finds no
			// profile for: no stored login or password holds U+0000.
			continue
		case invalid.OperationID == "login":
			return problem(http.StatusBadRequest, path, fmt.Sprintf(`The key "%s" must be a string.`, is.Field))
		case is.Field == "":
			return problem(http.StatusBadRequest, path, "The input data is misformatted.")
		case phpFloat(is.Schema, is.Value):
			// API Platform's type error names the attribute, as for a number the binder cannot
			// hold (unboundNumber).
			return problem(http.StatusBadRequest, path, typeError(attributeOf(is.Field), "int", "float"))
		case is.Rule == "type" || is.Rule == "nullable" || !typeMatches(is.Schema, is.Value):
			// API Platform's denormalizer refuses a mistyped value before any constraint runs.
			return problem(http.StatusBadRequest, path, typeError(is.Field, phpType(is.Schema), phpTypeOf(is.Value)))
		case is.Rule == "pattern":
			unmatched = append(unmatched, is.Field)
		default:
			violations = append(violations, gen.ConstraintViolation{PropertyPath: is.Field, Message: constraintMessage(is)})
		}
	}
	if invalid.OperationID == "login" {
		return render(errBadCredentials, path)
	}
	// A field with U+0000 that breaks another constraint too is listed with that constraint's
	// message only: X-Cart has no constraint of its own on U+0000.
	for _, field := range unmatched {
		if !slices.ContainsFunc(violations, func(v gen.ConstraintViolation) bool { return v.PropertyPath == field }) {
			violations = append(violations, gen.ConstraintViolation{PropertyPath: field, Message: msgNotValid})
		}
	}
	return violationList(violations, path)
}

// msgNotValid is Symfony's message for a value that breaks a Regex constraint: provisiond's
// answer to a string holding U+0000, which no stored text can hold.
const msgNotValid = "This value is not valid."

// attributeOf is the attribute a body member belongs to: "role_ids" for "role_ids[1]".
func attributeOf(field string) string {
	attribute, _, _ := strings.Cut(field, "[")
	return attribute
}

// phpFloat reports whether v, sent for the integer schema s, is a number PHP's json_decode reads
// as a float: one with a fraction or an exponent ("1.0", "1e2"), or beyond 64 bits.
func phpFloat(s *openapi3.Schema, v any) bool {
	if s == nil || s.Type == nil || !s.Type.Is("integer") {
		return false
	}
	switch n := v.(type) {
	case json.Number:
		_, err := n.Int64()
		return err != nil
	case float64:
		return !isInt64(n)
	}
	return false
}

// isInt64 reports whether f is an integer within int64's range.
func isInt64(f float64) bool {
	return f == math.Trunc(f) && f >= math.MinInt64 && f < math.MaxInt64
}

func queryDetail(is httpserver.Issue) string {
	switch {
	case is.Field == "page" && is.Rule == "minimum":
		return "Page should not be less than 1"
	case is.Field == "page" && (is.Rule == "maximum" || digits.MatchString(fmt.Sprint(is.Value))):
		// API Platform refuses a page whose offset a PHP integer cannot hold (PHP reads a page
		// beyond 64 bits as PHP_INT_MAX); provisiond refuses every page beyond 2^53-1, the largest
		// integer every JSON tool holds exactly.
		return "Page parameter is too large."
	case is.Field == "itemsPerPage" && is.Rule == "minimum":
		return "Item per page parameter should not be less than 0"
	}
	// A date filter's key is named as sent: added[after], not kin-openapi's added.after.
	name := is.Field
	if filter, key, ok := strings.Cut(name, "."); ok {
		name = filter + "[" + key + "]"
	}
	return fmt.Sprintf(`Invalid value for the "%s" query parameter.`, name)
}

// digits matches a decimal number without a sign.
var digits = regexp.MustCompile(`^[0-9]+$`)

// constraintMessage words a schema violation as Symfony's validator does.
func constraintMessage(is httpserver.Issue) string {
	s := is.Schema
	switch is.Rule {
	case "required":
		return "This value should not be blank."
	case "minLength":
		return fmt.Sprintf("This value is too short. It should have %d %s or more.", s.MinLength, plural(s.MinLength, "character"))
	case "maxLength":
		if s.MaxLength != nil {
			return fmt.Sprintf("This value is too long. It should have %d %s or less.", *s.MaxLength, plural(*s.MaxLength, "character"))
		}
	case "enum":
		return "The value you selected is not a valid choice."
	case "format":
		if s.Format == "email" {
			return "This value is not a valid email address."
		}
	case "minimum":
		if s.Min != nil {
			return fmt.Sprintf("This value should be greater than or equal to %v.", *s.Min)
		}
	case "maximum":
		if s.Max != nil {
			return fmt.Sprintf("This value should be less than or equal to %v.", *s.Max)
		}
	}
	return msgNotValid
}

func plural(n uint64, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// phpType names a schema's type the way PHP, and so API Platform, does.
func phpType(s *openapi3.Schema) string {
	if s == nil || s.Type == nil {
		return "mixed"
	}
	switch {
	case s.Type.Is("integer"):
		return "int"
	case s.Type.Is("boolean"):
		return "bool"
	case s.Type.Is("number"):
		return "float"
	case s.Type.Is("array"), s.Type.Is("object"):
		return "array"
	}
	return "string"
}

// typeMatches reports whether v has the JSON type s asks for (an enum of integers, say, is
// checked against its values before its type, so a string there is a type error too).
func typeMatches(s *openapi3.Schema, v any) bool {
	if s == nil || s.Type == nil {
		return true
	}
	if n, ok := v.(json.Number); ok {
		// The request decoder keeps numbers exact; an enum check reports them undecoded.
		f, err := n.Float64()
		if err != nil {
			return false
		}
		v = f
	}
	switch x := v.(type) {
	case nil:
		return s.Nullable
	case bool:
		return s.Type.Is("boolean")
	case float64:
		return s.Type.Is("number") || s.Type.Is("integer") && isInt64(x)
	case string:
		return s.Type.Is("string")
	case []any:
		return s.Type.Is("array")
	case map[string]any:
		return s.Type.Is("object")
	}
	return true
}

// phpTypeOf names the type of a decoded JSON value the way PHP does.
func phpTypeOf(v any) string {
	if n, ok := v.(json.Number); ok {
		if _, err := n.Int64(); err == nil {
			return "int"
		}
		return "float"
	}
	switch x := v.(type) {
	case nil:
		return "NULL"
	case bool:
		return "bool"
	case float64:
		if isInt64(x) {
			return "int"
		}
		return "float"
	case string:
		return "string"
	case []any, map[string]any:
		return "array"
	}
	return "mixed"
}
