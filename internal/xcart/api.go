package xcart

import (
	"fmt"

	"github.com/labstack/echo/v4"
	"github.com/oapi-codegen/nullable"

	gen "github.com/provisiond/provisiond/gen/xcart"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/openapi"
)

// NewAPI assembles the X-Cart API for the HTTP server.
func NewAPI(svc *Service, creds Credentials) (*httpserver.API, error) {
	spec, err := gen.GetSwagger()
	if err != nil {
		return nil, fmt.Errorf("xcart spec: %w", err)
	}
	yaml, err := openapi.FS.ReadFile(Name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("xcart spec: %w", err)
	}
	strict := gen.NewStrictHandler(NewHandler(svc), nil)
	return &httpserver.API{
		Name:         Name,
		Spec:         spec,
		SpecYAML:     yaml,
		Prefixes:     []string{"/api/profiles", "/api-login/"},
		Register:     func(e *echo.Echo) { gen.RegisterHandlers(e, strict) },
		Authenticate: authenticator(svc, creds),
		Render:       Render,
	}, nil
}

func nullableString(s string) nullable.Nullable[string] { return nullable.NewNullableWithValue(s) }
