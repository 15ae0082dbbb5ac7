package httpserver

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
)

// Issue is one problem the validator found in a request.
type Issue struct {
	// In is where the problem is: "body", "query", "path" or "header".
	In string
	// Field is the parameter name, or the body member as a path such as "role_ids[1]"
	// ("" for the body as a whole).
	Field string
	// Pointer is a schema problem's JSON pointer below the parameter or the body, as its tokens
	// (role_ids, 1): unambiguous where Field is not (a key of digits reads as an index there).
	// It is nil for the other problems.
	Pointer []string
	// Rule is the schema keyword that failed ("type", "nullable", "required", "minLength",
	// "maxLength", "enum", "format", "minimum", "maximum", …), or "syntax" for a body that does
	// not parse and "missing" for a required body that is absent.
	Rule string
	// Schema is the schema that failed, for the rule's limits (nil for "syntax" and "missing").
	Schema *openapi3.Schema
	// Value is the value that failed. It is a submitted value: fit for a response, never for a log.
	Value any
}

// InvalidRequest is the error of a request that its operation's schema refuses; it lists every
// problem found.
type InvalidRequest struct {
	OperationID string
	Issues      []Issue
}

func (e *InvalidRequest) Error() string {
	parts := make([]string, len(e.Issues))
	for i, is := range e.Issues {
		parts[i] = fmt.Sprintf("%s %s: %s", is.In, is.Field, is.Rule)
	}
	return "invalid request: " + strings.Join(parts, "; ")
}

// Malformed reports whether the body could not be read as the media type at all.
func (e *InvalidRequest) Malformed() bool {
	for _, is := range e.Issues {
		if is.In == "body" && (is.Rule == "syntax" || is.Rule == "missing") {
			return true
		}
	}
	return false
}

// UnsupportedMediaType is the error of a body in a media type the operation does not accept.
type UnsupportedMediaType struct {
	Got       string
	Supported []string
}

func (e *UnsupportedMediaType) Error() string {
	return fmt.Sprintf("unsupported media type %q", e.Got)
}

// TransportStatus is the status of an error that arose in the HTTP layer before any API code ran:
// no route (404), wrong method (405), body too large (413), unsupported media type (415), or a
// body the binder could not decode (400). ok is false for every other error.
func TransportStatus(err error) (status int, ok bool) {
	var tooLarge *http.MaxBytesError
	var media *UnsupportedMediaType
	var he *echo.HTTPError
	switch {
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge, true
	case errors.As(err, &media):
		return http.StatusUnsupportedMediaType, true
	case errors.As(err, &he):
		return he.Code, true
	}
	return 0, false
}
