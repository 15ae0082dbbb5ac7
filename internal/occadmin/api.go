package occadmin

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/labstack/echo/v4"

	gen "github.com/provisiond/provisiond/gen/occadmin"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/module"
	"github.com/provisiond/provisiond/internal/occ"
)

// defaults is the built-in reference data (module.API.Defaults).
//
//go:embed default.yaml
var defaults []byte

// Module is the OCC admin API as the program registers it (internal/app).
var Module = module.API{
	Name:        Name,
	Migrations:  Migrations,
	Credentials: module.Credentials{Keys: true, ReadOnly: "tokens that only read"},
	New: func(d module.Deps) (httpserver.API, error) {
		tokens := occ.NewTokens(Name, d.Signer(d.Config.OCCAdminTokenTTL), occ.NewRevocations(d.DB, revokedTable, d.Now))
		return Routes(NewService(NewStore(d.DB), d.Hasher, tokens, d.Now), d.Credentials), nil
	},
	Fixtures: fixtures,
	Defaults: defaults,
	Users:    users,
}

// Routes is the OCC admin API over svc, without its name and spec (module.Mount adds them).
func Routes(svc *Service, creds Credentials) httpserver.API {
	strict := gen.NewStrictHandler(NewHandler(svc), nil)
	return httpserver.API{
		Prefixes:     []string{"/ccadmin/"},
		Register:     func(e *echo.Echo) { gen.RegisterHandlers(e, strict) },
		Authenticate: authenticator(svc, creds),
		Render:       dialect.Render,
	}
}

// dialect gives the admin profile fields their own codes: roles (89002, and 89001 for a role id
// holding U+0000, which no role has) and password (22005); a path id of another shape than
// iuser<n> is the 404 of any unknown id.
var dialect = occ.Dialect{
	Special: func(is httpserver.Issue, path string) (occ.Issue, bool) {
		switch {
		case is.Field == "roles" && (is.Rule == "required" || is.Rule == "minItems" || is.Value == nil):
			return occ.Issue{Code: CodeRolesMissing, Message: "The roles are missing or empty.", Path: path}, true
		case is.Field == "password" && is.Rule == "minLength":
			return occ.Issue{Code: CodePasswordEmpty, Message: "The password is missing or empty.", Path: path}, true
		case strings.HasPrefix(is.Field, "roles[") && is.Rule == "pattern":
			return roleUnknown(path, fmt.Sprint(is.Value)), true
		}
		return occ.Issue{}, false
	},
	NotFound: func(id string) error { _, err := number(id); return err },
}
