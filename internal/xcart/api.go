package xcart

import (
	"github.com/labstack/echo/v4"
	"github.com/oapi-codegen/nullable"

	gen "github.com/provisiond/provisiond/gen/xcart"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/openapi"
)

// NewAPI assembles the X-Cart API for the HTTP server.
func NewAPI(svc *Service, creds Credentials) (*httpserver.API, error) {
	// The spec comes from the YAML as written: oapi-codegen's embedded copy (gen.GetSwagger)
	// has its operationIds rewritten in Go's capitalization.
	yaml, spec, err := openapi.Load(Name)
	if err != nil {
		return nil, err
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
