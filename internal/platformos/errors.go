package platformos

import (
	"errors"
	"net/http"
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

func renderInvalid(invalid *httpserver.InvalidRequest) httpserver.Reply {
	if invalid.Malformed() {
		return base(http.StatusBadRequest, "is not valid JSON")
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
	return httpserver.Reply{Status: status, ContentType: mediaType, Body: gen.Errors{Id: nullable.NewNullNullable[int](), Errors: errs}}
}

func base(status int, message string) httpserver.Reply {
	return envelope(status, map[string][]string{"base": {message}})
}
