package control

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	gen "github.com/provisiond/provisiond/gen/control"
	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/httpserver"
)

// ProblemJSON is the media type of every error of the control API (RFC 7807).
const ProblemJSON = "application/problem+json"

// Render turns any error of a control request into an RFC 7807 problem: a 400 lists every
// problem in errors.
func Render(err error, path string) httpserver.Reply {
	internal := problem(http.StatusInternalServerError, "", path, nil)
	r, all, done := httpserver.Prologue{
		Transport: func(status int, err error) httpserver.Reply {
			return problem(status, transportDetail(status, err), path, nil)
		},
		Invalid: func(invalid *httpserver.InvalidRequest) httpserver.Reply {
			items := make([]gen.ProblemItem, 0, len(invalid.Issues))
			unknown := map[string]bool{}
			for _, is := range invalid.Issues {
				members := unknownMembers(is)
				if len(members) == 0 {
					items = append(items, item(is.In, is.Field, issueMessage(is)))
					continue
				}
				// The validator reports each unknown member at its object, naming the member in
				// prose only: name each, once, as the field.
				for _, k := range members {
					if field := httpserver.JoinPath(is.Field, []string{k}); !unknown[field] {
						unknown[field] = true
						items = append(items, item(is.In, field, "is not a known property"))
					}
				}
			}
			status := http.StatusBadRequest
			if unprocessable[invalid.OperationID] && !invalid.Malformed() {
				status = http.StatusUnprocessableEntity
			}
			return problem(status, "The request is invalid.", path, items)
		},
		Unavailable: problem(http.StatusServiceUnavailable, "The database is unavailable; retry.", path, nil),
		Internal:    internal,
	}.Render(err)
	if done {
		return r
	}
	var items []gen.ProblemItem
	status, detail := http.StatusBadRequest, "The fixtures document is invalid; nothing of it was applied."
	for _, e := range all {
		if e.Rule == ruleInvalid {
			status, detail = http.StatusUnprocessableEntity, "The request is invalid."
		}
		switch e.Kind {
		case apperr.KindInvalid, apperr.KindConflict:
			items = append(items, item("body", e.Field, e.Message))
		case apperr.KindNotFound:
			return problem(http.StatusNotFound, e.Message, path, nil)
		case apperr.KindUnauthenticated:
			return problem(http.StatusUnauthorized, e.Message, path, nil)
		case apperr.KindForbidden:
			return problem(http.StatusForbidden, e.Message, path, nil)
		default:
			return internal
		}
	}
	return problem(status, detail, path, items)
}

// unprocessable are the operations whose well-formed bodies the schema refuses with 422: a
// matcher or a fault rule that names what does not exist, or asks what cannot be.
var unprocessable = map[string]bool{"addFault": true, "countRequests": true}

func problem(status int, detail, path string, items []gen.ProblemItem) httpserver.Reply {
	p := gen.Problem{Type: "about:blank", Title: http.StatusText(status), Status: int32(status), Instance: &path}
	if detail != "" {
		p.Detail = &detail
	}
	if len(items) > 0 {
		p.Errors = &items
	}
	return httpserver.Reply{Status: status, ContentType: ProblemJSON, Body: p}
}

func item(in, field, message string) gen.ProblemItem {
	it := gen.ProblemItem{Message: message}
	if in != "" {
		where := gen.ProblemItemIn(in)
		it.In = &where
	}
	if field != "" {
		it.Field = &field
	}
	return it
}

func transportDetail(status int, err error) string {
	switch status {
	case http.StatusNotFound:
		return "No such route."
	case http.StatusMethodNotAllowed:
		return "The route does not take this method."
	case http.StatusRequestEntityTooLarge:
		return "The body is larger than the control API's limit (PROVISIOND_CONTROL_BODY_LIMIT)."
	case http.StatusUnsupportedMediaType:
		var got string
		if m, ok := err.(*httpserver.UnsupportedMediaType); ok {
			got = m.Got
		}
		return fmt.Sprintf("The content type %q is not supported: use application/json or application/yaml.", got)
	}
	return ""
}

// issueMessage words a schema problem of the request.
func issueMessage(is httpserver.Issue) string {
	s := is.Schema
	switch is.Rule {
	case "syntax":
		return "The body is not valid JSON or YAML."
	case "missing":
		return "A body is required."
	case "required":
		return "is required"
	case "characters":
		return "must not contain U+0000"
	case "enum":
		if s != nil {
			vals := make([]string, len(s.Enum))
			for i, v := range s.Enum {
				vals[i] = fmt.Sprint(v)
			}
			return "must be one of " + strings.Join(vals, ", ")
		}
	case "type":
		if s != nil && s.Type != nil {
			return "must be of type " + strings.Join(s.Type.Slice(), " or ")
		}
	case "minimum":
		if s != nil && s.Min != nil {
			return fmt.Sprintf("must be at least %v", *s.Min)
		}
	case "maximum":
		if s != nil && s.Max != nil {
			return fmt.Sprintf("must be at most %v", *s.Max)
		}
	case "minLength":
		if s != nil {
			return fmt.Sprintf("must be at least %d characters long", s.MinLength)
		}
	case "maxLength":
		if s != nil && s.MaxLength != nil {
			return fmt.Sprintf("must be at most %d characters long", *s.MaxLength)
		}
	}
	return "is invalid (" + is.Rule + ")"
}

// unknownMembers are the members of the object of is that its schema does not define, sorted.
func unknownMembers(is httpserver.Issue) []string {
	obj, ok := is.Value.(map[string]any)
	if is.Rule != "properties" || !ok {
		return nil
	}
	var out []string
	for k := range obj {
		if is.Schema == nil || is.Schema.Properties[k] == nil {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
