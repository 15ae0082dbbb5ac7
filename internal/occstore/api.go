package occstore

import (
	"github.com/labstack/echo/v4"

	gen "github.com/provisiond/provisiond/gen/occstore"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/occ"
	"github.com/provisiond/provisiond/openapi"
)

// NewAPI assembles the OCC store API for the HTTP server.
func NewAPI(svc *Service) (*httpserver.API, error) {
	yaml, spec, err := openapi.Load(Name)
	if err != nil {
		return nil, err
	}
	strict := gen.NewStrictHandler(NewHandler(svc), nil)
	return &httpserver.API{
		Name:         Name,
		Spec:         spec,
		SpecYAML:     yaml,
		Prefixes:     []string{"/ccstore/"},
		Register:     func(e *echo.Echo) { gen.RegisterHandlers(e, strict) },
		Authenticate: authenticator(svc),
		Render:       dialect.Render,
	}, nil
}

// dialect: the store API has no codes of its own beyond those both OCC APIs share.
var dialect = occ.Dialect{}
