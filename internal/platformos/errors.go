package platformos

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/oapi-codegen/nullable"

	gen "github.com/provisiond/provisiond/gen/platformos"
	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/httpserver"
)

// Render turns any error of a platformOS request into the {id, errors} envelope.
func Render(err error, _ string) httpserver.Reply {
	internal := base(http.StatusInternalServerError, "Internal Server Error")
	r, all, done := httpserver.Prologue{
		Transport: func(status int, _ error) httpserver.Reply {
			if status == http.StatusBadRequest {
				return base(status, "is not valid JSON")
			}
			return base(status, http.StatusText(status))
		},
		Invalid:     renderInvalid,
		Unavailable: base(http.StatusServiceUnavailable, "Service Unavailable"),
		Internal:    internal,
	}.Render(err)
	if done {
		return r
	}
	errs := map[string][]string{}
	for _, e := range all {
		switch {
		case e.Kind == apperr.KindUnauthenticated:
			return base(http.StatusUnauthorized, e.Message)
		case e.Kind == apperr.KindNotFound:
			return base(http.StatusNotFound, e.Message)
		case errors.Is(e, errNotAcceptable):
			return envelope(http.StatusNotAcceptable, map[string][]string{e.Field: {e.Message}})
		case e.Kind == apperr.KindInvalid || e.Kind == apperr.KindConflict:
			errs[e.Field] = append(errs[e.Field], e.Message)
		default:
			return internal
		}
	}
	return envelope(http.StatusUnprocessableEntity, errs)
}

// renderInvalid answers the validator's problems as platformOS would: a user id that cannot be
// a stored one (not an integer, out of 1..2^63-1, U+0000) names no user, 404 whatever else is
// wrong, as the service answers an unknown user before anything else; a body naming no form
// configuration (its anyOf) is the service's 406 for a missing one, as the service checks the
// configuration before the form; every other problem is a 422 on its field, all of them listed:
// "can't be blank" for a required one, "is invalid" else (U+0000, a wrong type, …).
func renderInvalid(invalid *httpserver.InvalidRequest) httpserver.Reply {
	if invalid.Malformed() {
		return base(http.StatusBadRequest, "is not valid JSON")
	}
	has := func(match func(httpserver.Issue) bool) bool { return slices.ContainsFunc(invalid.Issues, match) }
	switch {
	case has(func(is httpserver.Issue) bool { return is.In == "path" }):
		return Render(errUserNotFound, "")
	case has(func(is httpserver.Issue) bool { return is.In == "body" && is.Field == "" && is.Rule == "anyOf" }):
		return Render(errFormConfiguration("blank", "can't be blank"), "")
	}
	errs := map[string][]string{}
	for _, is := range invalid.Issues {
		field := strings.TrimPrefix(is.Field, "form.")
		if field == "" {
			field = "base"
		}
		msg := "is invalid"
		if is.Rule == "required" {
			msg = "can't be blank"
		}
		errs[field] = append(errs[field], msg)
	}
	return envelope(http.StatusUnprocessableEntity, errs)
}

const mediaType = "application/vnd.api+json"

func envelope(status int, errs map[string][]string) httpserver.Reply {
	return httpserver.Reply{Status: status, ContentType: mediaType, Body: gen.Errors{Id: nullable.NewNullNullable[int64](), Errors: errs}}
}

func base(status int, message string) httpserver.Reply {
	return envelope(status, map[string][]string{"base": {message}})
}
