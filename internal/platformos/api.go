package platformos

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/oapi-codegen/nullable"

	gen "github.com/provisiond/provisiond/gen/platformos"
	"github.com/provisiond/provisiond/internal/apperr"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/module"
)

// Module is the platformOS API as the program registers it (internal/app).
var Module = module.API{
	Name:        Name,
	Migrations:  Migrations,
	Credentials: module.Credentials{Keys: true},
	New: func(d module.Deps) (httpserver.API, error) {
		return Routes(NewService(NewStore(d.DB), d.Hasher, d.Now), d.Credentials), nil
	},
	Fixtures: fixtures,
}

// Routes is the platformOS API over svc, without its name and spec (module.Mount adds them).
func Routes(svc *Service, creds Credentials) httpserver.API {
	strict := gen.NewStrictHandler(NewHandler(svc), nil)
	return httpserver.API{
		Prefixes:     []string{"/api/users", "/api/sessions"},
		Register:     func(e *echo.Echo) { gen.RegisterHandlers(e, strict) },
		Authenticate: authenticator(creds),
		Render:       Render,
	}
}

const mediaType = "application/vnd.api+json"

func envelope(status int, errs map[string][]string) httpserver.Reply {
	return httpserver.Reply{Status: status, ContentType: mediaType, Body: gen.Errors{Id: nullable.NewNullNullable[int](), Errors: errs}}
}

func base(status int, message string) httpserver.Reply {
	return envelope(status, map[string][]string{"base": {message}})
}

// Render turns any error of a platformOS request into the {id, errors} envelope.
func Render(err error, _ string) httpserver.Reply {
	if status, ok := httpserver.TransportStatus(err); ok {
		if status == http.StatusBadRequest {
			return base(status, "is not valid JSON")
		}
		return base(status, http.StatusText(status))
	}
	var invalid *httpserver.InvalidRequest
	if errors.As(err, &invalid) {
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
	if apperr.Has(err, apperr.KindUnavailable) {
		return base(http.StatusServiceUnavailable, "Service Unavailable")
	}
	all := apperr.All(err)
	if len(all) == 0 {
		return base(http.StatusInternalServerError, "Internal Server Error")
	}
	errs := map[string][]string{}
	for _, e := range all {
		switch {
		case e.Kind == apperr.KindUnauthenticated:
			return base(http.StatusUnauthorized, e.Message)
		case e.Kind == apperr.KindNotFound:
			return base(http.StatusNotFound, e.Message)
		case e.Rule == "not_acceptable":
			return envelope(http.StatusNotAcceptable, map[string][]string{e.Field: {e.Message}})
		case e.Kind == apperr.KindInvalid || e.Kind == apperr.KindConflict:
			errs[e.Field] = append(errs[e.Field], e.Message)
		default:
			return base(http.StatusInternalServerError, "Internal Server Error")
		}
	}
	return envelope(http.StatusUnprocessableEntity, errs)
}
