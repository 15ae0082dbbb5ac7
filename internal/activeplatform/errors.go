package activeplatform

import (
	"fmt"
	"net/http"
	"strings"

	gen "github.com/provisiond/provisiond/gen/activeplatform"
	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/httpserver"
)

// Render turns any error of an ActivePlatform request into {"error": "<message>"}.
func Render(err error, path string) httpserver.Reply {
	internal := errReply(http.StatusInternalServerError, "Internal Server Error")
	r, all, done := httpserver.Prologue{
		Transport: func(status int, _ error) httpserver.Reply {
			if status == http.StatusBadRequest {
				return reply400("body is not valid JSON")
			}
			return errReply(status, fmt.Sprintf("%d %s", status, http.StatusText(status)))
		},
		Invalid:     func(invalid *httpserver.InvalidRequest) httpserver.Reply { return renderInvalid(invalid, path) },
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

func renderInvalid(invalid *httpserver.InvalidRequest, path string) httpserver.Reply {
	var missing, other []string
	for _, is := range invalid.Issues {
		field := rackPath(is.Field)
		switch {
		case is.In == "path":
			return errReply(http.StatusNotFound, notFoundOf(path))
		case is.Rule == "syntax" || is.Rule == "missing":
			return reply400("body is not valid JSON")
		case field == "":
			other = append(other, "body is invalid")
		case is.Rule == "required":
			missing = append(missing, field+" is missing")
		case is.Rule == "readOnly": // UserUpdate.email: ActivePlatform's own refusal
			other = append(other, field+" cannot be changed")
		case is.In == "query" && is.Rule == "enum":
			other = append(other, field+" does not have a valid value")
		default:
			other = append(other, field+" is invalid")
		}
	}
	return reply400(strings.Join(append(missing, other...), ", "))
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
// users, else the user's.
func notFoundOf(path string) string {
	if rest, ok := strings.CutPrefix(path, accounts+"/"); ok {
		id, _, _ := strings.Cut(rest, "/")
		return "Couldn't find Account with 'id'=" + id
	}
	rest, _ := strings.CutPrefix(path, base+"/")
	return "Couldn't find User with 'id'=" + strings.TrimSuffix(rest, ".json")
}
