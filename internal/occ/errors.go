// Package occ holds what Oracle Commerce Cloud's admin API (occadmin) and store API (occstore)
// share: the OCC error model and its renderer, OAuth-style access tokens, the SCIM filter subset
// of their list endpoints, and paging.
package occ

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/httpserver"
)

// ErrorBody is OCC's error model. Status and ErrorCode are strings, as OCC sends them.
type ErrorBody struct {
	ErrorCode string      `json:"errorCode,omitempty"`
	Message   string      `json:"message"`
	Status    string      `json:"status"`
	ErrorPath string      `json:"o:errorPath,omitempty"`
	Errors    []ErrorBody `json:"errors,omitempty"`
}

// CodeInternal is the code of an internal error while creating a profile, in both APIs.
const CodeInternal = "22004"

// Issue is one problem in the OCC dialect: its error code, message and JSON-pointer path.
type Issue struct {
	Code, Message, Path string
}

// The codes both APIs give the email.
const (
	CodeEmailMissing = "22003"
	CodeEmailInvalid = "23006"
)

// Dialect is what differs between the OCC APIs' error bodies: the codes of their own fields.
type Dialect struct {
	// Special words a schema problem the API gives a code of its own; ok false leaves it to Classify.
	Special func(is httpserver.Issue, path string) (issue Issue, ok bool)
	// NotFound, when set, is the API's answer to an id no record has. A path parameter the spec
	// refuses (an id of another shape, U+0000 included) gets it, as any unknown id does: when
	// the request has other problems, those alone are answered, as they are for an unknown id.
	NotFound func(id string) error
}

// Classify gives a schema problem its OCC error code: the API's own first, then 22003 for an email
// missing, empty or null, 23006 for an invalid email, and 22007 for everything else.
func (d Dialect) Classify(is httpserver.Issue) Issue {
	path := Pointer(is.Field)
	if d.Special != nil {
		if out, ok := d.Special(is, path); ok {
			return out
		}
	}
	switch {
	case is.In == "query" || is.In == "header":
		return Issue{Code: CodeInvalidInput, Message: fmt.Sprintf("The value of the parameter %s is invalid.", is.Field), Path: "/" + is.Field}
	case is.Rule == "syntax" || is.Rule == "missing" || is.In == "body" && is.Field == "":
		// A body that does not parse, is absent, or is a JSON value other than an object ([],
		// null, "x"): the last has no field to name.
		return Issue{Code: CodeInvalidInput, Message: "The request body is not a valid JSON object."}
	case is.Field == "email" && (is.Rule == "required" || is.Value == "" || is.Value == nil):
		return Issue{Code: CodeEmailMissing, Message: "The email is missing or empty.", Path: path}
	case is.Field == "email" && (is.Rule == "format" || is.Rule == "pattern"):
		// The pattern refuses U+0000, which no address holds.
		return Issue{Code: CodeEmailInvalid, Message: "The email is not a valid email address.", Path: path}
	case is.Rule == "required":
		return Issue{Code: CodeInvalidInput, Message: fmt.Sprintf("The value of %s is missing.", is.Field), Path: path}
	}
	return Issue{Code: CodeInvalidInput, Message: fmt.Sprintf("The value of %s is invalid.", is.Field), Path: path}
}

// Render turns any error of a request into OCC's error model. An apperr.Error's Rule is its
// OCC error code and its Field the path (such as "/email"). Errors without a code of OCC's own
// (authentication, routing, media type) carry their HTTP status as the code.
func (d Dialect) Render(err error, _ string) httpserver.Reply {
	internal := reply(http.StatusInternalServerError, []Issue{{Code: CodeInternal, Message: "An internal error occurred."}})
	r, all, done := httpserver.Prologue{
		Transport: func(status int, _ error) httpserver.Reply {
			if status == http.StatusBadRequest {
				return reply(http.StatusBadRequest, []Issue{{Code: "22007", Message: "The request body is not valid JSON."}})
			}
			return reply(status, []Issue{{Code: strconv.Itoa(status), Message: http.StatusText(status)}})
		},
		Invalid: func(invalid *httpserver.InvalidRequest) httpserver.Reply {
			issues := make([]Issue, 0, len(invalid.Issues))
			var id *httpserver.Issue
			for _, is := range invalid.Issues {
				if is.In == "path" && d.NotFound != nil {
					id = &is
					continue
				}
				// One value may break several rules that OCC answers alike (a name too long
				// that holds U+0000): it is listed once.
				if out := d.Classify(is); !slices.Contains(issues, out) {
					issues = append(issues, out)
				}
			}
			if len(issues) == 0 && id != nil {
				v, _ := id.Value.(string)
				return d.Render(d.NotFound(v), "")
			}
			return reply(http.StatusBadRequest, issues)
		},
		Unavailable: reply(http.StatusServiceUnavailable, []Issue{{Code: strconv.Itoa(http.StatusServiceUnavailable), Message: "The service is temporarily unavailable; try again later."}}),
		Internal:    internal,
	}.Render(err)
	if done {
		return r
	}
	var issues []Issue
	for _, e := range all {
		status := statusOf(e.Kind)
		if status != http.StatusBadRequest {
			if status == http.StatusInternalServerError {
				return internal
			}
			code := e.Rule
			if code == "" || code == "missing" {
				code = strconv.Itoa(status)
			}
			return reply(status, []Issue{{Code: code, Message: e.Message, Path: e.Field}})
		}
		issues = append(issues, Issue{Code: e.Rule, Message: e.Message, Path: e.Field})
	}
	return reply(http.StatusBadRequest, issues)
}

func statusOf(k apperr.Kind) int {
	switch k {
	case apperr.KindInvalid, apperr.KindConflict:
		return http.StatusBadRequest
	case apperr.KindUnauthenticated:
		return http.StatusUnauthorized
	case apperr.KindForbidden:
		return http.StatusForbidden
	case apperr.KindNotFound:
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}

// reply builds the body: one problem flat, several under errors[] with a summary on top. A
// message or path that names a value sent with U+0000 (an id, a property name) writes it \u0000:
// the specs' strings hold no U+0000, as the character cannot be stored.
func reply(status int, issues []Issue) httpserver.Reply {
	st := strconv.Itoa(status)
	body := ErrorBody{Status: st}
	if len(issues) == 1 {
		is := issues[0]
		body.ErrorCode, body.Message, body.ErrorPath = is.Code, Printable(is.Message), Printable(is.Path)
	} else {
		body.Message = fmt.Sprintf("There are %d errors in the request.", len(issues))
		for _, is := range issues {
			body.Errors = append(body.Errors, ErrorBody{ErrorCode: is.Code, Message: Printable(is.Message), Status: st, ErrorPath: Printable(is.Path)})
		}
	}
	return httpserver.Reply{Status: status, ContentType: "application/json", Body: body}
}

// Printable is s with every U+0000 written as the six characters \u0000.
func Printable(s string) string { return strings.ReplaceAll(s, "\x00", `\u0000`) }

// Pointer renders a validator field path ("roles[0]", "a.b") as a JSON pointer ("/roles/0", "/a/b").
func Pointer(field string) string {
	if field == "" {
		return ""
	}
	out := make([]byte, 0, len(field)+2)
	out = append(out, '/')
	for i := 0; i < len(field); i++ {
		switch c := field[i]; c {
		case '.', '[':
			out = append(out, '/')
		case ']':
		default:
			out = append(out, c)
		}
	}
	return string(out)
}
