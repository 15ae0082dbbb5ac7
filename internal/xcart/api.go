package xcart

import (
	_ "embed"
	"github.com/labstack/echo/v4"
	"github.com/oapi-codegen/nullable"

	gen "github.com/provisiond/provisiond/gen/xcart"
	"github.com/provisiond/provisiond/internal/config"
	"github.com/provisiond/provisiond/internal/credential"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/module"
)

// defaults is the built-in reference data (module.API.Defaults).
//
//go:embed default.yaml
var defaults []byte

// Module is the X-Cart API as the program registers it (internal/app).
var Module = module.API{
	Name:        Name,
	Migrations:  Migrations,
	Credentials: module.Credentials{Keys: true, ReadOnly: "GET only"},
	New: func(d module.Deps) (httpserver.API, error) {
		loc, err := config.Location(d.Config.Timezone)
		if err != nil {
			return httpserver.API{}, err
		}
		st := NewStore(d.DB)
		svc := NewService(st, d.Hasher, d.Signer(d.Config.JWTTTL), d.Now).
			WithSubjects(credential.CacheFor[int, struct{}](d.Credentials)).WithAddresses(st).InZone(loc)
		return Routes(svc, d.Credentials), nil
	},
	Fixtures: fixtures,
	Defaults: defaults,
	Users:    users,
}

// Routes is the X-Cart API over svc, without its name and spec (module.Mount adds them): what
// Module builds, and what the benchmarks mount over an in-memory store.
func Routes(svc *Service, creds Credentials) httpserver.API {
	strict := gen.NewStrictHandler(NewHandler(svc), []gen.StrictMiddlewareFunc{negotiate})
	return httpserver.API{
		Prefixes: []string{"/api/profiles", "/api-login/"},
		// The ".json" and ".jsonld" operations are the routes without the suffix: RewritePath
		// maps them there, and the handlers read the format from the path as sent.
		Register:     func(e *echo.Echo) { gen.RegisterHandlers(e, strict) },
		RewritePath:  rewritePath,
		Prepare:      prepare,
		Authenticate: authenticator(svc, creds),
		Render:       Render,
		Negotiate:    negotiateError,
	}
}

func nullableString(s string) nullable.Nullable[string] { return nullable.NewNullableWithValue(s) }
