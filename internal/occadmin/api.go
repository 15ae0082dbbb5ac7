package occadmin

import (
	"github.com/labstack/echo/v4"

	gen "github.com/provisiond/provisiond/gen/occadmin"
	"github.com/provisiond/provisiond/internal/httpserver"
	"github.com/provisiond/provisiond/internal/occ"
	"github.com/provisiond/provisiond/openapi"
)

// NewAPI assembles the OCC admin API for the HTTP server.
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
		Prefixes:     []string{"/ccadmin/"},
		Register:     func(e *echo.Echo) { gen.RegisterHandlers(e, strict) },
		Authenticate: authenticator(svc, creds),
		Render:       dialect.Render,
	}, nil
}

// dialect gives the admin profile fields their own codes: roles (89002) and password (22005).
var dialect = occ.Dialect{Special: func(is httpserver.Issue, path string) (occ.Issue, bool) {
	switch {
	case is.Field == "roles" && (is.Rule == "required" || is.Rule == "minItems" || is.Value == nil):
		return occ.Issue{Code: CodeRolesMissing, Message: "The roles are missing or empty.", Path: path}, true
	case is.Field == "password" && is.Rule == "minLength":
		return occ.Issue{Code: CodePasswordEmpty, Message: "The password is missing or empty.", Path: path}, true
	}
	return occ.Issue{}, false
}}
