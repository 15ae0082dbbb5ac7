package platformos

import (
	"github.com/labstack/echo/v4"

	gen "github.com/provisiond/provisiond/gen/platformos"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/openapi"
)

// NewAPI assembles the platformOS API for the HTTP server.
func NewAPI(svc *Service, creds Credentials) (*httpserver.API, error) {
	yaml, spec, err := openapi.Load(Name)
	if err != nil {
		return nil, err
	}
	strict := gen.NewStrictHandler(NewHandler(svc), nil)
	return &httpserver.API{
		Name:         Name,
		Spec:         spec,
		SpecYAML:     yaml,
		Prefixes:     []string{"/api/users", "/api/sessions"},
		Register:     func(e *echo.Echo) { gen.RegisterHandlers(e, strict) },
		Authenticate: authenticator(creds),
		Render:       Render,
	}, nil
}
