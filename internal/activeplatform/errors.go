package activeplatform

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	gen "github.com/provisiond/provisiond/gen/activeplatform"
	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/httpserver"
)

// Render turns any error of an ActivePlatform request into {"error": "<message>"}, with the
// default password policy's words (Renderer).
func Render(err error, path string) httpserver.Reply { return Renderer(DefaultPolicy)(err, path) }

// Renderer is Render for a server whose password policy is policy: the schema's refusal of a
// password is worded as the policy check words it.
func Renderer(policy Policy) func(err error, path string) httpserver.Reply {
	return func(err error, path string) httpserver.Reply { return render(err, path, policy) }
}

func render(err error, path string, policy Policy) httpserver.Reply {
	internal := errReply(http.StatusInternalServerError, "Internal Server Error")
	r, all, done := httpserver.Prologue{
		Transport: func(status int, _ error) httpserver.Reply {
			if status == http.StatusBadRequest {
				return reply400("body is not valid JSON")
			}
			return errReply(status, fmt.Sprintf("%d %s", status, http.StatusText(status)))
		},
		Invalid:     func(invalid *httpserver.InvalidRequest) httpserver.Reply { return renderInvalid(invalid, path, policy) },
		Unavailable: errReply(http.StatusServiceUnavailable, "Service Unavailable"),
		Internal:    internal,
	}.Render(err)
	if done {
		return r
	}
	var msgs []string
	for _, e := range all {
		switch e.Kind {
		case apperr.KindInvalid:
			msgs = append(msgs, e.Message)
		case apperr.KindConflict:
			return errReply(http.StatusUnprocessableEntity, e.Message)
		case apperr.KindNotFound, apperr.KindUnauthenticated:
			status := http.StatusNotFound
			if e.Kind == apperr.KindUnauthenticated {
				status = http.StatusUnauthorized
			}
			return errReply(status, e.Message)
		default:
			return internal
		}
	}
	return reply400(strings.Join(msgs, ", "))
}

// renderInvalid words the schema's problems as Grape does: every missing or invalid parameter in
// one 400, in the order the parameters are declared (declared). A path id that is none is the
// 404 of an unknown id; so is a query id (account_id, user_id) that is an integer out of the
// ids' range, when nothing else is wrong (Grape checks the parameters before the records are
// looked up; the user before the account).
func renderInvalid(invalid *httpserver.InvalidRequest, path string, policy Policy) httpserver.Reply {
	var msgs []string
	unknown := map[string]string{}
	issues := slices.Clone(invalid.Issues)
	slices.SortStableFunc(issues, func(a, b httpserver.Issue) int { return declared(a) - declared(b) })
	for _, is := range issues {
		field := rackPath(is.Field)
		switch {
		case is.In == "path":
			return errReply(http.StatusNotFound, notFoundOf(path))
		case is.Rule == "syntax" || is.Rule == "missing":
			return reply400("body is not valid JSON")
		case field == "":
			msgs = append(msgs, "body is invalid")
		case is.Rule == "required":
			msgs = append(msgs, field+" is missing")
		case is.Rule == "readOnly": // UserUpdate.email: ActivePlatform's own refusal
			msgs = append(msgs, field+" cannot be changed")
		case is.In == "query" && is.Rule == "enum":
			msgs = append(msgs, field+" does not have a valid value")
		case is.In == "query" && queryIDs[field] != "" && outOfRange(is):
			unknown[field] = fmt.Sprintf("Couldn't find %s with 'id'=%v", queryIDs[field], is.Value)
		case is.In == "body" && field == "password" && (is.Rule == "pattern" || is.Rule == "minLength"):
			msgs = append(msgs, passwordMessage(is.Value, policy))
		case is.In == "body" && attributeKey.MatchString(field) && is.Rule == "pattern":
			// No defined key holds U+0000: an unknown key's answer (Service.check).
			msgs = append(msgs, field+" does not have a valid value")
		default:
			msgs = append(msgs, field+" is invalid")
		}
	}
	msgs = slices.Compact(msgs) // a password's minLength and pattern: once
	if len(msgs) == 0 {
		for _, f := range []string{"user_id", "account_id"} {
			if m, ok := unknown[f]; ok {
				return errReply(http.StatusNotFound, m)
			}
		}
	}
	return reply400(strings.Join(msgs, ", "))
}

// parameters are the parameters of each operation in the order ActivePlatform declares them
// (seed 003's table; the API guide's for the accesses and the list).
var parameters = []string{
	"first_name", "middle_name", "last_name", "password", "email", "custom_attributes",
	"account_id", "user_id", "role",
	"page", "per_page", "sorting[field]", "sorting[reversed]", "filters[email]", "filters[status]", "filters[created_at]", "filters[updated_at]",
}

// declared is the rank of an issue's parameter in parameters (past them, for the body as a whole
// or a parameter not listed): Grape validates, and lists the problems of, the parameters in the
// order they are declared.
func declared(is httpserver.Issue) int {
	name := is.Field
	if len(is.Pointer) > 0 {
		name = is.Pointer[0]
	} else if i := strings.IndexAny(name, ".["); i > 0 && is.In == "body" {
		name = name[:i]
	}
	if i := slices.Index(parameters, name); i >= 0 {
		return i
	}
	return len(parameters)
}

// queryIDs are the query parameters that name a record, with the record's model.
var queryIDs = map[string]string{"account_id": "Account", "user_id": "User"}

// outOfRange reports whether a query id's problem is an integer that no id can be: below 1, or
// past int64 (which the validator cannot read as one, a "type" problem on the text).
func outOfRange(is httpserver.Issue) bool {
	if is.Rule == "minimum" || is.Rule == "maximum" {
		return true
	}
	s, ok := is.Value.(string)
	return ok && is.Rule == "type" && integerText.MatchString(s)
}

// integerText is an integer as Grape's Integer coercion reads one.
var integerText = regexp.MustCompile(`^[+-]?[0-9]+$`)

// attributeKey is the path of a custom attribute's key.
var attributeKey = regexp.MustCompile(`^custom_attributes\[\d+\]\[key\]$`)

// passwordMessage words a password the schema refuses: U+0000 as an invalid value, else as the
// policy check words a password it refuses (Service.check).
func passwordMessage(value any, policy Policy) string {
	if s, _ := value.(string); strings.ContainsRune(s, 0) {
		return "password is invalid"
	}
	return policy.weak()
}

func reply400(msg string) httpserver.Reply { return errReply(http.StatusBadRequest, msg) }

// errReply builds the {"error": …} body.
func errReply(status int, msg string) httpserver.Reply {
	return httpserver.Reply{Status: status, ContentType: "application/json", Body: gen.Error{Error: msg}}
}

// rackPath renders a validator path ("custom_attributes[0].key") as Grape names it
// ("custom_attributes[0][key]").
func rackPath(field string) string {
	head, rest, found := strings.Cut(field, ".")
	if !found {
		return field
	}
	return head + "[" + strings.ReplaceAll(rest, ".", "][") + "]"
}

// notFoundOf is the 404 message of a path whose id is not one: the account's for an account's
// users, else the user's. A U+0000 of the id is shown as U+FFFD: no answer holds U+0000 (the
// Error schema's pattern).
func notFoundOf(path string) string {
	path = strings.ReplaceAll(path, "\x00", "\uFFFD")
	if rest, ok := strings.CutPrefix(path, accounts+"/"); ok {
		id, _, _ := strings.Cut(rest, "/")
		return "Couldn't find Account with 'id'=" + id
	}
	rest, _ := strings.CutPrefix(path, base+"/")
	return "Couldn't find User with 'id'=" + strings.TrimSuffix(rest, ".json")
}
