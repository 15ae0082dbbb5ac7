package platformos

import (
	_ "embed"
	"github.com/labstack/echo/v4"

	gen "github.com/provisiond/provisiond/gen/platformos"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/module"
)

// defaults is the built-in reference data (module.API.Defaults).
//
//go:embed default.yaml
var defaults []byte

// Module is the platformOS API as the program registers it (internal/app).
var Module = module.API{
	Name:        Name,
	Migrations:  Migrations,
	Credentials: module.Credentials{Keys: true},
	New: func(d module.Deps) (httpserver.API, error) {
		return Routes(NewService(NewStore(d.DB), d.Hasher, d.Now), d.Credentials), nil
	},
	Fixtures: fixtures,
	Defaults: defaults,
	Users:    users,
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
