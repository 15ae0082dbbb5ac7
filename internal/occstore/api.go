package occstore

import (
	"github.com/labstack/echo/v4"

	gen "github.com/provisiond/provisiond/gen/occstore"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/module"
	"github.com/provisiond/provisiond/internal/occ"
)

// Module is the OCC store API as the program registers it (internal/app). It takes no stored
// credentials: members log in with email and password.
var Module = module.API{
	Name:       Name,
	Migrations: Migrations,
	New: func(d module.Deps) (httpserver.API, error) {
		tokens := occ.NewTokens(Name, d.Signer(d.Config.OCCStoreTokenTTL), occ.NewRevocations(d.DB, revokedTable, d.Now))
		return Routes(NewService(NewStore(d.DB), d.Hasher, tokens, d.Now)), nil
	},
	Fixtures: fixtures,
	Users:    users,
}

// Routes is the OCC store API over svc, without its name and spec (module.Mount adds them).
func Routes(svc *Service) httpserver.API {
	strict := gen.NewStrictHandler(NewHandler(svc), nil)
	return httpserver.API{
		Prefixes:     []string{"/ccstore/"},
		Register:     func(e *echo.Echo) { gen.RegisterHandlers(e, strict) },
		Authenticate: authenticator(svc),
		Render:       dialect.Render,
	}
}

// dialect: the store API has no codes of its own beyond those both OCC APIs share; a path id that
// is not a number is the 404 of any unknown id.
var dialect = occ.Dialect{NotFound: notFound}
